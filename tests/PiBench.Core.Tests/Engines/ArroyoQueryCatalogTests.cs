using Xunit;
using PiBench.Core;
using PiBench.Core.Engines;
using PiBench.StandIns;

namespace PiBench.Core.Tests.Engines;

/// <summary>
/// Every Arroyo script PiBench ships (plain, Kafka-capture and latency variants) against the stand-in's Arroyo v0.11.0
/// checker (<see cref="Arroyo011SqlChecker"/>: types, generated-column references, connector options, functions), and
/// the checker itself against what 0.11 rejects: a regression in the queries or in the checker fails here.
/// </summary>
public sealed class ArroyoQueryCatalogTests
{
    private static readonly NexmarkQueryCatalog Catalog = NexmarkQueryCatalog.Default;
    private static readonly NexmarkRenderOptions Options = new() { BootstrapServers = "127.0.0.1:9092", Topic = "nexmark", Parallelism = 9 };

    public static TheoryData<string> SupportedArroyo() =>
        new(Catalog.Queries.Where(q => q.System == "Arroyo" && q.Supported).Select(q => q.Name));

    [Theory]
    [MemberData(nameof(SupportedArroyo))]
    public void EveryShippedArroyoScript_PassesThe011Checker_PlainCaptureAndLatencyVariant(string name)
    {
        var q = Catalog.Get(name, StreamSystem.Arroyo);
        var plain = Catalog.Render(q, Options);
        Assert.Null(Arroyo011SqlChecker.Check(plain));
        var capture = Catalog.Render(q, Options with { ResultTopic = "results" });
        Assert.Null(Arroyo011SqlChecker.Check(capture));
        Assert.Contains("type = 'sink'", capture);
        var latency = Catalog.Render(q, Options with { ResultTopic = "results", LatencyVariant = true });
        Assert.Null(Arroyo011SqlChecker.Check(latency));
        if (q.LatencySql.Length > 0) Assert.Contains("latency_ts", latency);
    }

    [Fact]
    public void TheSupportedSetIsWhatTheCatalogPromises()
    {
        Assert.Equal(["q0", "q1", "q2", "q3", "q5", "q7", "q8", "q11", "q14", "q20", "q21", "q22"],
            Catalog.Queries.Where(q => q.System == "Arroyo" && q.Supported).Select(q => q.Name));
        Assert.All(Catalog.Queries.Where(q => q.System == "Arroyo" && !q.Supported), q => Assert.NotEmpty(q.Notes));
    }

    [Fact]
    public void SourceDdl_HasNoStruct_AndTheWatermarkNamesOnlyPhysicalColumns()
    {
        var ddl = NexmarkQueryCatalog.Resource("Queries/Arroyo/ddl_kafka.sql");
        var body = string.Join("\n", ddl.Split('\n').Where(l => !l.TrimStart().StartsWith("--", StringComparison.Ordinal)));
        Assert.DoesNotContain("STRUCT", body, StringComparison.OrdinalIgnoreCase);
        var watermark = body[body.IndexOf("watermark TIMESTAMP GENERATED", StringComparison.Ordinal)..];
        watermark = watermark[..watermark.IndexOf("STORED", StringComparison.Ordinal)];
        Assert.DoesNotContain("event_time", watermark);
    }

    [Fact]
    public void EverySourceTable_StatesItsStartOffset_AndA_FlinkStyleValueIsRejected()
    {
        var script = Catalog.Render(Catalog.Get("q0", StreamSystem.Arroyo), Options);
        Assert.Contains("'source.offset' = 'earliest'", script);
        var sources = System.Text.RegularExpressions.Regex.Matches(script, @"CREATE TABLE[^;]*type = 'source'[^;]*;");
        Assert.NotEmpty(sources);
        Assert.All(sources, m => Assert.Contains("'source.offset' =", m.Value));

        var flinkish = Catalog.Render(Catalog.Get("q0", StreamSystem.Arroyo),
            Options with { Parameters = new Dictionary<string, string> { ["ARROYO_OFFSET"] = "earliest-offset" } });
        Assert.Contains("invalid value for source.offset 'earliest-offset'", Arroyo011SqlChecker.Check(flinkish));
    }

    /// <summary>The DDL PiBench shipped before (STRUCT columns, watermark naming event_time).</summary>
    private const string OldDdl = """
        CREATE TABLE nexmark_source (
            event_type INT,
            bid STRUCT<auction BIGINT, price BIGINT, "dateTime" TIMESTAMP>,
            event_time TIMESTAMP GENERATED ALWAYS AS (bid."dateTime") STORED,
            watermark TIMESTAMP GENERATED ALWAYS AS (event_time - INTERVAL '4' SECOND) STORED
        ) WITH (connector = 'kafka', bootstrap_servers = 'b:9092', topic = 't', type = 'source', format = 'json',
            event_time_field = 'event_time', watermark_field = 'watermark');
        CREATE TABLE out (x BIGINT) WITH (connector = 'blackhole');
        INSERT INTO out SELECT event_type FROM nexmark_source;
        """;

    [Fact]
    public void OldStructDdl_IsRejected_AsSqlparser044RejectsIt_WithItsPosition()
    {
        var error = Arroyo011SqlChecker.Check(OldDdl);
        Assert.Equal("SQL error: ParserError(\"Expected ',' or ')' after column definition, found: < at Line: 3, Column 15\")", error);
    }

    [Fact]
    public void AStructTypeWithoutBrackets_IsUnsupportedSqlType()
    {
        var error = Arroyo011SqlChecker.Check(OldDdl.Replace("STRUCT<auction BIGINT, price BIGINT, \"dateTime\" TIMESTAMP>", "STRUCT"));
        Assert.StartsWith("Error during planning: Unsupported SQL type Custom(ObjectName([Ident { value: \"STRUCT\"", error);
    }

    [Fact]
    public void AGeneratedColumnNamingAGeneratedColumn_IsRejected()
    {
        var sql = OldDdl.Replace("STRUCT<auction BIGINT, price BIGINT, \"dateTime\" TIMESTAMP>", "JSON")
            .Replace("(bid.\"dateTime\")", "(CAST(extract_json_string(bid, '$.dateTime') AS TIMESTAMP))");
        Assert.Equal("Schema error: No field named event_time. Valid fields are event_type, bid.", Arroyo011SqlChecker.Check(sql));
        var fixedSql = sql.Replace("(event_time - INTERVAL", "(CAST(extract_json_string(bid, '$.dateTime') AS TIMESTAMP) - INTERVAL");
        Assert.Null(Arroyo011SqlChecker.Check(fixedSql));
    }

    [Theory]
    [InlineData("'scan.startup.mode' = 'earliest-offset'", "unknown options provided in WITH clause: 'scan.startup.mode'")]
    [InlineData("'properties.group.id' = 'g'", "unknown options provided in WITH clause: 'properties.group.id'")]
    [InlineData("'sink.commit_mode' = 'exactly_once'", "unknown options provided in WITH clause: 'sink.commit_mode'")] // a sink option on a source
    [InlineData("'source.read_mode' = 'dirty'", "invalid value for source.read_mode 'dirty'")]
    public void ConnectorOptions_AreCheckedAs011sKafkaConnectorPullsThem(string extra, string expected)
    {
        var script = Catalog.Render(Catalog.Get("q0", StreamSystem.Arroyo), Options).Replace("format = 'json',", $"format = 'json', {extra},");
        var error = Arroyo011SqlChecker.Check(script);
        Assert.NotNull(error);
        Assert.StartsWith("Failed to create table nexmark_source\ncaused by\nError during planning: ", error);
        Assert.EndsWith(expected, error);
    }

    [Theory]
    [InlineData("topic = 't',", "required option 'topic' not set")]
    [InlineData("format = 'json',", "'format' must be set for Kafka connection")]
    [InlineData("type = 'source',", "required option 'type' not set")]
    public void RequiredKafkaOptions_Missing_AreRejected(string removed, string expected)
    {
        var script = Catalog.Render(Catalog.Get("q0", StreamSystem.Arroyo), Options with { Topic = "t" }).Replace(removed, "");
        Assert.EndsWith(expected, Arroyo011SqlChecker.Check(script));
    }

    [Fact]
    public void ABlackholeSinkWithOptions_IsRejected_ItConsumesNone()
    {
        var script = Catalog.Render(Catalog.Get("q0", StreamSystem.Arroyo), Options).Replace("connector = 'blackhole'", "connector = 'blackhole', format = 'json', topic = 'x'");
        Assert.EndsWith("unknown options provided in WITH clause: 'topic'", Arroyo011SqlChecker.Check(script));
    }

    [Theory]
    [InlineData("regexp_match(url, '(&|^)channel_id=([^&]*)')[2]", "REGEXP_EXTRACT(url, '(&|^)channel_id=([^&]*)', 2)", "Invalid function 'regexp_extract'")]
    [InlineData("split_part(url, '/', 4)", "SPLIT_INDEX(url, '/', 3)", "Invalid function 'split_index'")]
    public void FlinkOnlyFunctions_AreRejected(string arroyo, string flink, string expected)
    {
        var q = Catalog.Get(arroyo.StartsWith("regexp", StringComparison.Ordinal) ? "q21" : "q22", StreamSystem.Arroyo);
        var script = Catalog.Render(q, Options);
        Assert.Contains(arroyo, script);
        Assert.Contains(expected, Arroyo011SqlChecker.Check(script.Replace(arroyo, flink)));
    }

    [Theory]
    [InlineData("hop(interval '2 second', interval '10 second')", "hop(interval '10 second')")]
    [InlineData("tumble(interval '10 second')", "tumble(interval '10 second', interval '2 second')")]
    public void WindowFunctions_Need011sArity(string good, string bad)
    {
        var q = Catalog.Get(good.StartsWith("hop", StringComparison.Ordinal) ? "q5" : "q7", StreamSystem.Arroyo);
        var script = Catalog.Render(q, Options);
        Assert.Contains(good, script);
        Assert.Contains("No function matches", Arroyo011SqlChecker.Check(script.Replace(good, bad)));
    }

    [Fact]
    public void ATableThatIsNotDefined_IsRejected()
    {
        var script = Catalog.Render(Catalog.Get("q0", StreamSystem.Arroyo), Options).Replace("FROM bid", "FROM bids");
        Assert.Equal("Error during planning: Table bids not found", Arroyo011SqlChecker.Check(script));
    }
}
