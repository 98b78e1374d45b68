using System.Text.RegularExpressions;
using Xunit;
using PiBench.Core.Engines;

namespace PiBench.Core.Tests.Engines;

/// <summary>
/// Every Kafka table a Flink script reads states where it starts: flink-connector-kafka's 'scan.startup.mode' defaults to
/// group-offsets with no reset policy (KafkaSourceBuilder: OffsetsInitializer.committedOffsets(OffsetResetStrategy.NONE)),
/// so a fresh consumer group fails with NoOffsetForPartitionException.
/// </summary>
public sealed partial class FlinkSourceDdlTests
{
    private static readonly string[] StartModes = ["earliest-offset", "latest-offset", "group-offsets", "timestamp", "specific-offsets"];

    [GeneratedRegex(@"^\s*CREATE\s+(?:TEMPORARY\s+)?TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?`?(?<name>\w+)`?", RegexOptions.IgnoreCase)]
    private static partial Regex CreateTable();
    [GeneratedRegex(@"'connector'\s*=\s*'kafka'", RegexOptions.IgnoreCase)]
    private static partial Regex KafkaConnector();
    [GeneratedRegex(@"^\s*(?:EXPLAIN\s+)?INSERT\s+INTO\s+`?(?<name>\w+)`?", RegexOptions.IgnoreCase)]
    private static partial Regex InsertInto();
    [GeneratedRegex(@"'scan\.startup\.mode'\s*=\s*'(?<mode>[^']*)'", RegexOptions.IgnoreCase)]
    private static partial Regex StartupMode();

    /// <summary>The Kafka tables of a script that are not an INSERT target (sources), with their start mode or null.</summary>
    private static List<(string Table, string? Mode)> KafkaSources(string script)
    {
        var statements = SqlScript.Split(script);
        var targets = statements.Select(s => InsertInto().Match(s)).Where(m => m.Success).Select(m => m.Groups["name"].Value).ToHashSet(StringComparer.OrdinalIgnoreCase);
        return statements.Select(s => (Create: CreateTable().Match(s), Text: s))
            .Where(x => x.Create.Success && KafkaConnector().IsMatch(x.Text) && !targets.Contains(x.Create.Groups["name"].Value))
            .Select(x => (x.Create.Groups["name"].Value, StartupMode().Match(x.Text) is { Success: true } m ? m.Groups["mode"].Value : null))
            .ToList();
    }

    [Fact]
    public void EveryShippedFlinkResource_StatesTheStartModeOfEachKafkaSource()
    {
        var assembly = typeof(NexmarkQueryCatalog).Assembly;
        var resources = assembly.GetManifestResourceNames().Where(n => n.Replace('\\', '/').StartsWith("PiBench.Core.Resources.Queries/Flink/", StringComparison.Ordinal) && n.EndsWith(".sql", StringComparison.Ordinal)).ToList();
        Assert.Contains(resources, r => r.Replace('\\', '/').EndsWith("Queries/Flink/ddl_kafka.sql", StringComparison.Ordinal));
        Assert.Contains(resources, r => r.Replace('\\', '/').Contains("/latency/", StringComparison.Ordinal));
        var sources = 0;
        foreach (var name in resources)
        {
            using var reader = new StreamReader(assembly.GetManifestResourceStream(name)!);
            foreach (var (table, mode) in KafkaSources(reader.ReadToEnd()))
            {
                sources++;
                Assert.True(mode is not null, $"{name}: Kafka table {table} has no 'scan.startup.mode'");
            }
        }
        Assert.True(sources >= 1);
    }

    [Fact]
    public void EveryRenderedFlinkScript_StartsItsKafkaSourcesAtAValidMode_PlainAndCaptured()
    {
        foreach (var q in NexmarkQueryCatalog.Default.Queries.Where(q => q.System == "Flink" && q.Supported))
        {
            var options = new NexmarkRenderOptions { BootstrapServers = "127.0.0.1:9092", GroupId = "fresh-group" };
            var scripts = new List<string> { NexmarkQueryCatalog.Default.Render(q, options) };
            if (q.Name != "q10") scripts.Add(NexmarkQueryCatalog.Default.Render(q, options with { ResultTopic = "out", LatencyVariant = true }));
            foreach (var script in scripts)
            {
                var sources = KafkaSources(script);
                Assert.NotEmpty(sources);
                Assert.All(sources, s => Assert.Contains(s.Mode, StartModes));
            }
        }
    }

    [Fact]
    public void TheCheck_FindsASourceWithoutAStartMode()
    {
        var script = "CREATE TABLE kafka (a INT) WITH ('connector' = 'kafka', 'topic' = 't');\nCREATE TABLE out_t (a INT) WITH ('connector' = 'kafka', 'topic' = 'o');\nINSERT INTO out_t SELECT a FROM kafka;";
        Assert.Equal([("kafka", (string?)null)], KafkaSources(script));
    }

    [Fact]
    public void SplitWithPositions_MapsStatementPositionsOntoTheScript()
    {
        var script = "-- head; comment\nCREATE TABLE t (a INT);\n  /* x\n y */ INSERT INTO t\n  SELECT 'a;b', nope FROM v";
        var statements = SqlScript.SplitWithPositions(script);
        Assert.Equal(2, statements.Count);
        Assert.Equal((2, 1), (statements[0].Line, statements[0].Column));
        Assert.Equal((4, 7), (statements[1].Line, statements[1].Column));
        Assert.Equal("INSERT INTO t\n  SELECT 'a;b', nope FROM v", statements[1].Text);
        Assert.Equal((5, 17), statements[1].ScriptPosition(2, 17)); // "nope" on the statement's second line
        Assert.Equal((4, 13), statements[1].ScriptPosition(1, 7)); // "INTO" … "t" on its first
    }
}
