using Xunit;
using System.Text.RegularExpressions;
using PiBench.Core;
using PiBench.Core.Engines;

namespace PiBench.Core.Tests.Engines;

public sealed class NexmarkQueryCatalogTests
{
    private static readonly NexmarkQueryCatalog Catalog = NexmarkQueryCatalog.Default;
    private static readonly NexmarkRenderOptions Options = new() { BootstrapServers = "127.0.0.1:9092", Topic = "nexmark", Parallelism = 9 };

    public static TheoryData<string> AllNames() => new(Enumerable.Range(0, 23).Select(i => $"q{i}"));

    /// <summary>Whitespace-insensitive, comment-free text for comparisons.</summary>
    private static string Norm(string sql) =>
        Regex.Replace(string.Join("\n", sql.Split('\n').Select(l => Regex.Replace(l, @"--.*$", ""))), @"\s+", " ").Trim().TrimEnd(';').Trim();

    private static readonly Lazy<Dictionary<string, string>> PublishedInserts = new(() =>
    {
        var text = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Engines", "Fixtures", "nexmark-suite-inserts.sql"));
        return Regex.Split(text, @"^-- @", RegexOptions.Multiline).Skip(1)
            .Select(b => (Name: b[..b.IndexOf('\n')].Trim(), Sql: b[b.IndexOf('\n')..]))
            .ToDictionary(b => b.Name, b => Norm(b.Sql));
    });

    /// <summary>Column names of the sink table a script creates.</summary>
    private static List<string> SinkColumns(string sql)
    {
        var m = Regex.Match(sql, @"CREATE TABLE nexmark_q\d+ \((?<cols>.*?)\) WITH", RegexOptions.Singleline);
        Assert.True(m.Success, sql);
        return m.Groups["cols"].Value.Split(',').Select(c => c.Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries)[0].Trim('`')).ToList();
    }

    [Theory]
    [InlineData("Flink", "q1,q2,q3,q4,q5,q7,q8")]
    [InlineData("Arroyo", "q1,q2,q3,q5,q7,q8")]
    public void EveryDefaultBenchmarkQuery_CarriesAnEventTimeOrWindowEnd_IntoItsCapturedResults(string system, string names)
    {
        var engine = Enum.Parse<StreamSystem>(system);
        foreach (var name in names.Split(','))
        {
            var q = Catalog.Get(name, engine);
            Assert.False(string.IsNullOrEmpty(q.LatencyReference), $"{name}/{system} has no latency reference");
            Assert.Equal(q.LatencyReference == "window end" ? 4000 : 0, q.WatermarkDelayMs); // both DDLs: watermark 4 s behind event time
            var captured = Catalog.Render(q, Options with { ResultTopic = "out", LatencyVariant = true });
            var plain = Catalog.Render(q, Options with { ResultTopic = "out" });
            var cols = SinkColumns(captured);
            if (q.LatencySql.Length == 0)
            {
                // The published query already emits the event time.
                Assert.Contains(cols, c => c.Equals("dateTime", StringComparison.OrdinalIgnoreCase));
                Assert.Equal(plain, captured);
                continue;
            }
            // The variant = the plain sink plus latency_ts, filled by the INSERT, and sent to Kafka like the plain one.
            Assert.Equal(SinkColumns(plain).Append("latency_ts"), cols);
            Assert.Matches(@"AS latency_ts", captured);
            Assert.Contains("'out'", captured);
            Assert.DoesNotContain("blackhole", captured);
            // Get-NexmarkQuery still shows the published text.
            Assert.DoesNotContain("latency_ts", q.Sql);
            Assert.Equal(Catalog.Render(q, Options), Catalog.Render(q, Options with { LatencyVariant = true })); // no capture: plain
        }
    }

    [Fact]
    public void Catalog_HasQ0ToQ22_ForBothEngines_WithTheSamePropertiesOnEveryRow()
    {
        Assert.Equal(Enumerable.Range(0, 23).Select(i => $"q{i}"), Catalog.Names);
        Assert.Equal(69, Catalog.Queries.Count); // Arroyo, Flink and the in-process Reference system
        var props = typeof(NexmarkQuery).GetProperties().Select(p => p.Name).ToList();
        Assert.Contains("Sql", props);
        Assert.All(Catalog.Queries, q => Assert.False(string.IsNullOrWhiteSpace(q.Description)));
        // Flink runs every query the suite runs (all but q6)
        Assert.Equal(Catalog.Names.Where(n => n != "q6"), Catalog.Queries.Where(q => q.System == "Flink" && q.Supported).Select(q => q.Name));
    }

    [Theory]
    [MemberData(nameof(AllNames))]
    public void FlinkQuery_MatchesThePublishedSuiteText(string name)
    {
        var q = Catalog.Get(name, StreamSystem.Flink);
        var sql = Norm(q.Sql);
        var insert = sql[sql.IndexOf("INSERT INTO", StringComparison.Ordinal)..];
        Assert.Equal(PublishedInserts.Value[name], insert);
    }

    [Theory]
    [MemberData(nameof(AllNames))]
    public void EveryEntry_NamesItsSourceAndSink_AndReadsItsInputs(string name)
    {
        foreach (var system in Enum.GetValues<StreamSystem>())
        {
            var q = Catalog.Get(name, system);
            Assert.Equal(name, q.Name);
            Assert.Equal($"nexmark_{name}", q.SinkTable);
            if (system == StreamSystem.Reference)
            {
                // Not SQL: a script naming the source, the query and the sink (ReferenceEngineTests parse it).
                Assert.Equal(q.Supported, q.Sql.Contains($"QUERY {name};", StringComparison.Ordinal));
                Assert.False(string.IsNullOrWhiteSpace(q.Notes));
                continue;
            }
            Assert.Equal(system == StreamSystem.Flink ? "kafka" : "nexmark_source", q.SourceTable);
            Assert.NotEmpty(q.Inputs);
            if (!q.Supported)
            {
                Assert.False(string.IsNullOrWhiteSpace(q.Notes), $"{name}/{system}: unsupported without a reason");
                if (system == StreamSystem.Arroyo) Assert.Equal("", q.Sql);
                var ex = Assert.Throws<PiBenchException>(() => Catalog.Render(q, Options));
                Assert.Equal("QueryUnsupported", ex.ErrorId);
                continue;
            }
            Assert.Matches($@"CREATE TABLE {q.SinkTable}\s*\(", q.Sql);
            Assert.Single(Regex.Matches(q.Sql, $@"INSERT INTO {q.SinkTable}\b"));
            foreach (var input in q.Inputs.Split(", "))
                Assert.Matches(new Regex($@"\b(FROM|JOIN|TABLE)\s+{input}\b|,\s*{input}\s+\w+", RegexOptions.IgnoreCase), q.Sql);
            if (name != "q10")
                Assert.Matches(system == StreamSystem.Flink ? @"'connector' = 'blackhole'" : @"connector = 'blackhole'", q.Sql);

            var script = Catalog.Render(q, Options);
            Assert.Contains($"CREATE TABLE {q.SourceTable}", script);
            Assert.DoesNotMatch(@"\$\{[A-Z0-9_]+\}", script);
            Assert.Contains("127.0.0.1:9092", script);
            Assert.Equal(1, SqlScript.Split(script).Count(SqlScript.IsJobStatement));
            foreach (var input in q.Inputs.Split(", "))
                Assert.Contains($"CREATE VIEW {input} AS", script);
        }
    }

    [Theory]
    [MemberData(nameof(AllNames))]
    public void CatalogParameters_AppearInTheSql(string name)
    {
        foreach (var p in Catalog.ParametersOf(name))
        {
            Assert.Contains(Norm(p.FlinkSql), Norm(Catalog.Get(name, StreamSystem.Flink).Sql));
            var arroyo = Catalog.Get(name, StreamSystem.Arroyo);
            if (arroyo.Supported && p.ArroyoSql.Length > 0) Assert.Contains(Norm(p.ArroyoSql), Norm(arroyo.Sql));
        }
    }

    [Theory]
    // The suite's defaults, written down here independently of catalog.json.
    [InlineData("q1", "0.908 * price", "0.908 * price")]
    [InlineData("q2", "MOD(auction, 123) = 0", "auction % 123 = 0")]
    [InlineData("q3", "A.category = 10", "A.category = 10")]
    [InlineData("q5", "HOP(TABLE bid, DESCRIPTOR(`dateTime`), INTERVAL '2' SECOND, INTERVAL '10' SECOND)", "hop(interval '2 second', interval '10 second')")]
    [InlineData("q7", "TUMBLE(TABLE bid, DESCRIPTOR(`dateTime`), INTERVAL '10' SECOND)", "tumble(interval '10 second')")]
    [InlineData("q8", "TUMBLE(TABLE person, DESCRIPTOR(dateTime), INTERVAL '10' SECOND)", "tumble(interval '10 second')")]
    [InlineData("q8", "TUMBLE(TABLE auction, DESCRIPTOR(dateTime), INTERVAL '10' SECOND)", "tumble(interval '10 second')")]
    [InlineData("q11", "SESSION(B.dateTime, INTERVAL '10' SECOND)", "session(interval '10 second')")]
    [InlineData("q12", "TUMBLE(TABLE B, DESCRIPTOR(p_time), INTERVAL '10' SECOND)", null)]
    [InlineData("q13", "mod(B.auction, 10000) = S.key", null)]
    [InlineData("q14", "0.908 * price > 1000000 AND 0.908 * price < 50000000", "0.908 * price > 1000000 AND 0.908 * price < 50000000")]
    [InlineData("q15", "count(*) filter (where price >= 10000 and price < 1000000)", null)]
    [InlineData("q19", "rank_number <= 10", null)]
    [InlineData("q20", "A.category = 10", "A.category = 10")]
    [InlineData("q22", "SPLIT_INDEX(url, '/', 5)", "split_part(url, '/', 6)")]
    public void SuiteDefaults_AreKept(string name, string flink, string? arroyo)
    {
        Assert.Contains(Norm(flink), Norm(Catalog.Get(name, StreamSystem.Flink).Sql));
        var a = Catalog.Get(name, StreamSystem.Arroyo);
        Assert.Equal(arroyo is not null, a.Supported);
        if (arroyo is not null) Assert.Contains(Norm(arroyo), Norm(a.Sql));
    }

    [Fact]
    public void SourceDdl_ReadsTheGeneratorWireFormat_WithTheSuiteWatermark()
    {
        var flink = Norm(NexmarkQueryCatalog.Resource("Queries/Flink/ddl_kafka.sql"));
        Assert.Contains("event_type int", flink);
        Assert.Contains("WATERMARK FOR dateTime AS dateTime - INTERVAL '4' SECOND", flink);
        Assert.Contains("'format' = 'json'", flink);
        Assert.Contains("'topic' = '${TOPIC}'", flink);
        Assert.Contains("'properties.bootstrap.servers' = '${BOOTSTRAP_SERVERS}'", flink);
        foreach (var field in new[] { "emailAddress", "creditCard", "itemName", "initialBid", "channel", "url", "expires" })
            Assert.Contains(field, flink);

        var arroyo = Norm(NexmarkQueryCatalog.Resource("Queries/Arroyo/ddl_kafka.sql"));
        // camelCase JSON keys are read by JSON path from the JSON columns (0.11 has no STRUCT type)
        foreach (var field in new[] { "'$.emailAddress'", "'$.creditCard'", "'$.itemName'", "'$.initialBid'", "'$.dateTime'" })
            Assert.Contains(field, arroyo);
        Assert.Contains("END - INTERVAL '4' SECOND", arroyo);
        Assert.Contains("event_time_field = 'event_time'", arroyo);
        Assert.Contains("watermark_field = 'watermark'", arroyo);
        Assert.Contains("topic = '${TOPIC}'", arroyo);
        Assert.Contains("bootstrap_servers = '${BOOTSTRAP_SERVERS}'", arroyo);
        Assert.Contains("type = 'source'", arroyo);
    }

    [Fact]
    public void Render_FillsTopicServersGroupAndExtraParameters()
    {
        var q = Catalog.Get("q10", StreamSystem.Flink);
        var script = Catalog.Render(q, Options with
        {
            Topic = "nx-run7",
            GroupId = "g1",
            Parameters = new Dictionary<string, string> { ["nexmark_dir"] = "/data/nx", ["STARTUP_MODE"] = "latest-offset" },
            SubmitTime = new DateTimeOffset(2026, 11, 30, 21, 5, 9, TimeSpan.Zero),
        });
        Assert.Contains("'topic' = 'nx-run7'", script);
        Assert.Contains("'properties.group.id' = 'g1'", script);
        Assert.Contains("'scan.startup.mode' = 'latest-offset'", script);
        Assert.Contains("file:///data/nx/data/output/20261130210509/bid/", script);
        Assert.Contains("'$dt $hm:00'", script); // not a placeholder
    }

    [Fact]
    public void Render_EscapesQuotesInValues()
    {
        var script = Catalog.Render(Catalog.Get("q0", StreamSystem.Arroyo), Options with { Topic = "it's" });
        Assert.Contains("topic = 'it''s'", script);
    }

    [Fact]
    public void ResultCapture_ReplacesTheDiscardingSinkByAKafkaSink()
    {
        var capture = Options with { ResultTopic = "q5-out" };
        var flink = Catalog.Render(Catalog.Get("q5", StreamSystem.Flink), capture);
        Assert.DoesNotContain("blackhole", flink);
        Assert.Contains("'topic' = 'q5-out'", flink);
        Assert.Contains("'format' = 'json'", flink);

        var q4 = Catalog.Render(Catalog.Get("q4", StreamSystem.Flink), capture);
        Assert.Contains("'format' = 'debezium-json'", q4); // updating result

        var arroyo = Catalog.Render(Catalog.Get("q5", StreamSystem.Arroyo), capture);
        Assert.DoesNotContain("blackhole", arroyo);
        Assert.Contains("topic = 'q5-out'", arroyo);
        Assert.Contains("type = 'sink'", arroyo);

        var ex = Assert.Throws<PiBenchException>(() => Catalog.Render(Catalog.Get("q10", StreamSystem.Flink), capture));
        Assert.Equal("QueryResultCaptureUnsupported", ex.ErrorId);
    }

    [Fact]
    public void Find_SupportsWildcards_AndReportsUnknownNames()
    {
        Assert.Equal(["q1", "q10", "q11", "q12", "q13", "q14", "q15", "q16", "q17", "q18", "q19"],
            Catalog.Find(["q1*"], StreamSystem.Flink).Select(q => q.Name));
        var ex = Assert.Throws<PiBenchException>(() => Catalog.Find(["q99"], null));
        Assert.Equal("QueryNotFound", ex.ErrorId);
        Assert.Equal(PiBenchErrorCategory.ObjectNotFound, ex.Category);
    }

    [Fact]
    public void SqlScript_SplitsOutsideQuotesAndComments()
    {
        var parts = SqlScript.Split("-- c; c\nA 'x;y' \"q;\" `b;`; /* ; */ B;\n\n;  INSERT INTO t SELECT 1");
        Assert.Equal(["A 'x;y' \"q;\" `b;`", "B", "INSERT INTO t SELECT 1"], parts);
        Assert.True(SqlScript.IsJobStatement(parts[2]));
        Assert.False(SqlScript.IsJobStatement(parts[0]));
        var ex = Assert.Throws<PiBenchException>(() => SqlScript.Render("${A} ${B}", new Dictionary<string, string> { ["A"] = "1" }, "t"));
        Assert.Equal("QueryParameterMissing", ex.ErrorId);
        Assert.Contains("B", ex.Message);
    }
}
