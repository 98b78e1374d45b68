using PiBench.Core.Engines;
using PiBench.Core.Engines.Reference;
using Xunit;

namespace PiBench.Core.Tests.Engines;

/// <summary>The Reference system's scripts: the catalog renders them like the engines' (placeholders, Kafka sink swap),
/// and bad scripts get the engine's diagnostics with positions.</summary>
public sealed class ReferenceEngineTests
{
    [Fact]
    public void CatalogScript_RendersAndParses_WithTheKafkaSink()
    {
        var q = NexmarkQueryCatalog.Default.Get("q5", StreamSystem.Reference);
        Assert.True(q.Supported);
        var text = NexmarkQueryCatalog.Default.Render(q, new NexmarkRenderOptions
        {
            BootstrapServers = "127.0.0.1:9092", Topic = "in", GroupId = "g1", ResultTopic = "out", LatencyVariant = true,
        });
        var (script, errors) = ReferenceEngine.Parse(text);
        Assert.Empty(errors);
        Assert.Equal(("q5", "in", "g1", "kafka", "out"), (script!.Query, script.Source["topic"], script.Source["group_id"], script.Sink["connector"], script.Sink["topic"]));
    }

    [Fact]
    public void UnsupportedQueries_AreMarked()
    {
        Assert.False(NexmarkQueryCatalog.Default.Get("q6", StreamSystem.Reference).Supported);
        Assert.True(NexmarkQueryCatalog.Default.Get("q4", StreamSystem.Reference).Supported);
    }

    [Fact]
    public async Task BadScripts_GetDiagnosticsWithLines()
    {
        using var engine = new ReferenceEngine(new StreamEngineSettings { System = StreamSystem.Reference });
        var v = await engine.ValidateAsync("SOURCE WITH (connector = 'kafka', topic = 't', bootstrap_servers = 'b', group_id = 'g');\n\nQUERY q6;\nSELECT 1;\nSINK WITH (connector = 'blackhole');", CancellationToken.None);
        Assert.False(v.Valid);
        Assert.Contains(v.Errors, e => e.Message.Contains("no query 'q6'"));
        Assert.Contains(v.Errors, e => e.Message.Contains("SELECT 1") && e.Line == 4);
        var ok = await engine.ValidateAsync("SOURCE WITH (connector = 'kafka', topic = 't', bootstrap_servers = 'b', group_id = 'g');\nQUERY q2;\nSINK WITH (connector = 'blackhole');", CancellationToken.None);
        Assert.True(ok.Valid);
    }
}
