using PiBench.Core.Benchmarking;
using PiBench.Core.Engines;
using PiBench.Core.Kafka;
using Xunit;

namespace PiBench.Core.Tests.Benchmarking;

/// <summary>The whole measurement path on loopback: embedded Kafka, the generator, an engine stand-in that really consumes and produces.</summary>
[Collection("kafka")]
public sealed class BenchmarkRunnerTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private const int DelayMs = 300;

    private static BenchmarkPlan Plan(ConsumingEngineStandIn standIn, string bootstrap, string dir, int reps, string? resume = null) => new()
    {
        Engine = new StreamEngineSettings
        {
            System = StreamSystem.Arroyo, EngineUri = standIn.Engine.ApiUri, AuxiliaryUri = standIn.Engine.AdminUri,
            PollInterval = TimeSpan.FromMilliseconds(100),
        },
        Queries = new[] { "q0" }, Repetitions = reps, EventsPerSecond = 400, TotalEvents = 1_000_000, Parallelism = 2, Partitions = 2,
        WarmupSeconds = 2, MeasureSeconds = 4, FixedWarmup = true, Seed = 42, BootstrapServers = bootstrap, OutputDirectory = dir, ResumePath = resume,
        EngineVersion = "stand-in",
    };

    [Fact]
    public async Task MeasuresAKnownDelay_WritesFiles_AndResumeSkipsCompletedCells()
    {
        var dir = Path.Combine(Path.GetTempPath(), $"pibench-bench-{Guid.NewGuid():N}");
        using var cluster = EmbeddedKafkaCluster.Start(1);
        using var standIn = new ConsumingEngineStandIn(cluster.BootstrapServers) { AddedDelayMs = DelayMs };
        try
        {
            var seen = new List<BenchmarkResult>();
            var runner = new BenchmarkRunner(Plan(standIn, cluster.BootstrapServers, dir, 2));
            await runner.RunAsync(seen.Add, CancellationToken.None);
            Assert.Equal(2, seen.Count);
            foreach (var r in seen)
            {
                output.WriteLine($"rep {r.Repetition}: in {r.InputRate}/s out {r.OutputRate}/s p50 {r.LatencyP50Ms} p99 {r.LatencyP99Ms} p99.9 {r.LatencyP999Ms} max {r.LatencyMaxMs} ms, window {r.DurationS} s, valid {r.Valid} {r.InvalidReason}");
                Assert.Equal("Completed", r.Status);
                Assert.True(r.Valid, r.InvalidReason);
                Assert.InRange(r.LatencyP50Ms, DelayMs - 1, DelayMs + 250);
                Assert.InRange(r.LatencyP99Ms, r.LatencyP50Ms, DelayMs + 1000);
                Assert.InRange(r.InputRate, 400 * 0.7, 400 * 1.3);
                Assert.True(r.EventsOut > 0);
                Assert.InRange(r.DurationS, 3.5, 10);
            }
            Assert.True(File.Exists(runner.TextPath));
            Assert.Contains("q0 ", File.ReadAllText(runner.TextPath));
            Assert.Equal(2, Directory.GetFiles(dir, "*.hlog").Length);
            var doc = ResultsFiles.Read(runner.JsonPath);
            Assert.Equal("Completed", doc.State);
            Assert.Equal(2, doc.Results.Count);

            // Resume with three repetitions: only the third one runs.
            var resumed = new List<BenchmarkResult>();
            var again = new BenchmarkRunner(Plan(standIn, cluster.BootstrapServers, dir, 3, resume: runner.JsonPath));
            await again.RunAsync(resumed.Add, CancellationToken.None);
            Assert.Equal(new[] { 3 }, resumed.Select(r => r.Repetition));
            Assert.Equal(runner.JsonPath, again.JsonPath);
            Assert.Equal(new[] { 1, 2, 3 }, ResultsFiles.Read(runner.JsonPath).Results.Select(r => r.Repetition).Order());
        }
        finally { if (Directory.Exists(dir)) Directory.Delete(dir, true); }
    }

    [Fact]
    public async Task Cancellation_StopsTheQuery_KeepsWhatWasMeasured_AndMarksTheRestNotRun()
    {
        var dir = Path.Combine(Path.GetTempPath(), $"pibench-bench-{Guid.NewGuid():N}");
        using var cluster = EmbeddedKafkaCluster.Start(1);
        using var standIn = new ConsumingEngineStandIn(cluster.BootstrapServers) { AddedDelayMs = 50 };
        try
        {
            using var cts = new CancellationTokenSource();
            var seen = new List<BenchmarkResult>();
            var runner = new BenchmarkRunner(Plan(standIn, cluster.BootstrapServers, dir, 3));
            // Cancel while the second repetition runs.
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => runner.RunAsync(r => { seen.Add(r); cts.CancelAfter(3000); }, cts.Token));
            Assert.Single(seen);
            var doc = ResultsFiles.Read(runner.JsonPath);
            Assert.Equal("Stopped", doc.State);
            Assert.Equal(new[] { "Completed", "Stopped", "NotRun" }, doc.Results.OrderBy(r => r.Repetition).Select(r => r.Status));
            // The engine was told to stop every pipeline.
            Assert.All(standIn.Engine.Pipelines, p => Assert.NotEqual("none", p.Stop));
        }
        finally { if (Directory.Exists(dir)) Directory.Delete(dir, true); }
    }
}
