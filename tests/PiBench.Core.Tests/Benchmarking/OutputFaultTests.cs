using PiBench.Core.Benchmarking;
using PiBench.Core.Engines;
using PiBench.Core.Kafka;
using Xunit;

namespace PiBench.Core.Tests.Benchmarking;

/// <summary>A results folder that stops being writable mid-run: no measured cell is lost, the error has an ErrorId.</summary>
[Collection("kafka")]
public sealed class OutputFaultTests
{
    [Fact]
    public async Task AWriteThatFailsAfterACell_StillPassesTheCellOn_AndEndsWithResultsWriteFailed()
    {
        var root = Path.Combine(Path.GetTempPath(), $"pibench-fault-{Guid.NewGuid():N}");
        var dir = Path.Combine(root, "out");
        using var cluster = EmbeddedKafkaCluster.Start(1);
        using var standIn = new ConsumingEngineStandIn(cluster.BootstrapServers) { AddedDelayMs = 50 };
        try
        {
            var plan = new BenchmarkPlan
            {
                Engine = new StreamEngineSettings
                {
                    System = StreamSystem.Arroyo, EngineUri = standIn.Engine.ApiUri, AuxiliaryUri = standIn.Engine.AdminUri, PollInterval = TimeSpan.FromMilliseconds(100),
                },
                Queries = new[] { "q0" }, Repetitions = 2, EventsPerSecond = 300, TotalEvents = 1_000_000, Parallelism = 2, Partitions = 2,
                WarmupSeconds = 1, MeasureSeconds = 2, FixedWarmup = true, Seed = 42, BootstrapServers = cluster.BootstrapServers, OutputDirectory = dir,
                EngineVersion = "stand-in",
            };
            var seen = new List<BenchmarkResult>();
            var runner = new BenchmarkRunner(plan);
            // After the first cell is measured, the folder disappears and a file takes its name: every later write fails.
            var ex = await Assert.ThrowsAsync<PiBenchException>(() => runner.RunAsync(r =>
            {
                seen.Add(r);
                if (seen.Count == 1) { Directory.Delete(dir, true); File.WriteAllText(dir, "in the way"); }
            }, CancellationToken.None));
            Assert.Equal("ResultsWriteFailed", ex.ErrorId);
            // Every cell the runner measured reached the caller (the pipeline), although none could be saved.
            var measured = runner.Document.Results.Where(r => r.Status == "Completed").ToList();
            Assert.NotEmpty(measured);
            Assert.Equal(measured.Select(r => r.Repetition), seen.Select(r => r.Repetition));
        }
        finally
        {
            if (File.Exists(dir)) File.Delete(dir);
            if (Directory.Exists(root)) Directory.Delete(root, true);
        }
    }
}
