using Confluent.Kafka;
using PiBench.Core.Engines;
using PiBench.Core.Engines.Reference;
using PiBench.Core.Kafka;
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
    public async Task Job_FailsLoudly_WhenTheBrokerDropsInputBeforeTheJobReadsIt()
    {
        // the embedded broker keeps the newest 5 MiB per partition (rdkafka_mock.c): 200,000 messages of 500 bytes
        // written at once leave about 10,000, far fewer than the job can have read by then. The job must fail and name
        // the loss; before, its start was resolved late (or its consumer jumped to the end) and it ran on without a word.
        using var c = EmbeddedKafkaCluster.Start(1);
        c.CreateTopic("lost-in", 1, 1);
        using var engine = new ReferenceEngine(new StreamEngineSettings { System = StreamSystem.Reference });
        var q = NexmarkQueryCatalog.Default.Get("q1", StreamSystem.Reference);
        var sql = NexmarkQueryCatalog.Default.Render(q, new NexmarkRenderOptions { BootstrapServers = c.BootstrapServers, Topic = "lost-in", GroupId = "lost" });
        var job = await engine.SubmitAsync(new StreamJobRequest("nexmark-q1-lost", sql, 1), CancellationToken.None);
        var until = DateTime.UtcNow.AddSeconds(30);
        while ((await engine.GetStatusAsync(job, CancellationToken.None)).State != StreamJobState.Running && DateTime.UtcNow < until) await Task.Delay(20);
        using (var p = new ProducerBuilder<Null, byte[]>(new ProducerConfig { BootstrapServers = c.BootstrapServers, LingerMs = 5 }).Build())
        {
            var value = new byte[500];
            for (var i = 0; i < 200_000; i++)
            {
                while (true)
                {
                    try { p.Produce("lost-in", new Message<Null, byte[]> { Value = value }); break; }
                    catch (ProduceException<Null, byte[]> e) when (e.Error.Code == ErrorCode.Local_QueueFull) { p.Poll(TimeSpan.FromMilliseconds(10)); }
                }
            }
            p.Flush(TimeSpan.FromSeconds(30));
        }
        StreamJobStatus status;
        until = DateTime.UtcNow.AddSeconds(30);
        while (!(status = await engine.GetStatusAsync(job, CancellationToken.None)).State.IsTerminal() && DateTime.UtcNow < until) await Task.Delay(100);
        Assert.Equal(StreamJobState.Failed, status.State);
        Assert.Contains("never reached this job", status.FailureMessage);
        Assert.Contains("5 MiB per partition", status.FailureMessage);
        await engine.RemoveAsync(job, CancellationToken.None);
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
