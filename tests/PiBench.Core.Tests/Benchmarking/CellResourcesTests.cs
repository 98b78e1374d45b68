using PiBench.Core.Benchmarking;
using PiBench.Core.Engines;
using PiBench.Core.Kafka;
using Xunit;
using Xunit.Abstractions;

namespace PiBench.Core.Tests.Benchmarking;

/// <summary>
/// A cell's resources (<see cref="CellResources"/>) are released on every way out of a cell: a job that fails to start,
/// Ctrl+C, and a plan that keeps the topics. Embedded Kafka and the consuming Arroyo stand-in, on loopback.
/// </summary>
[Collection("kafka")]
public sealed class CellResourcesTests : IDisposable
{
    private readonly ITestOutputHelper _output;
    private readonly string _dir = Path.Combine(Path.GetTempPath(), $"pibench-cellres-{Guid.NewGuid():N}");
    private readonly EmbeddedKafkaCluster _cluster = EmbeddedKafkaCluster.Start(1);
    private readonly ConsumingEngineStandIn _standIn;

    public CellResourcesTests(ITestOutputHelper output)
    {
        _output = output;
        _standIn = new ConsumingEngineStandIn(_cluster.BootstrapServers);
    }

    public void Dispose()
    {
        _standIn.Dispose();
        _cluster.Dispose();
        if (Directory.Exists(_dir)) Directory.Delete(_dir, true);
    }

    private BenchmarkRunner Runner(int reps, bool keepTopics = false, Func<StreamEngineSettings, IStreamEngine>? engine = null) => new(new BenchmarkPlan
    {
        Engine = new StreamEngineSettings { System = StreamSystem.Arroyo, EngineUri = _standIn.Engine.ApiUri, AuxiliaryUri = _standIn.Engine.AdminUri, PollInterval = TimeSpan.FromMilliseconds(100) },
        Queries = new[] { "q0" }, Repetitions = reps, EventsPerSecond = 300, TotalEvents = 1_000_000, Parallelism = 1, Partitions = 1, WarmupSeconds = 1,
        MeasureSeconds = 3, FixedWarmup = true, Seed = 3, BootstrapServers = _cluster.BootstrapServers, OutputDirectory = _dir, KeepTopics = keepTopics, CheckResults = false,
    }, engineFactory: engine);

    /// <summary>The results file of <paramref name="runner"/>, its cells shown in the test output.</summary>
    private BenchmarkRunDocument Results(BenchmarkRunner runner)
    {
        var doc = ResultsFiles.Read(runner.JsonPath);
        foreach (var r in doc.Results) _output.WriteLine($"{r.Query} r{r.Repetition}: {r.Status} {r.InvalidReason}");
        foreach (var p in _standIn.Engine.Pipelines) _output.WriteLine($"pipeline {p.Id}: {p.State}, stop {p.Stop}, removed {p.Deleted}");
        return doc;
    }

    /// <summary>The cells' topics that are still on the broker; <paramref name="expected"/> topics were named to the engine.</summary>
    private async Task<List<string>> TopicsLeftAsync(int expected)
    {
        var topics = _standIn.Topics;
        Assert.Equal(expected, topics.Count);
        using var admin = KafkaTopicAdmin.Open(_cluster.BootstrapServers);
        var left = new List<string>();
        foreach (var t in topics)
            if (await admin.DescribeTopicAsync(t, CancellationToken.None) is not null) left.Add(t);
        return left;
    }

    [Fact]
    public async Task AJobThatFailsToStart_FailsItsCell_RemovesTheJob_DeletesTheTopics_AndTheNextCellRuns()
    {
        _standIn.Engine.FailWith = "worker lost";
        var runner = Runner(2);
        var ex = await Assert.ThrowsAsync<PiBenchException>(() => runner.RunAsync(null, CancellationToken.None));
        Assert.Equal("BenchmarkAllCellsFailed", ex.ErrorId);
        var doc = Results(runner);
        Assert.Equal(new[] { "Failed", "Failed" }, doc.Results.OrderBy(r => r.Repetition).Select(r => r.Status));
        Assert.All(doc.Results, r => Assert.Contains("worker lost", r.InvalidReason));
        // One job per cell: the second cell ran after the first failed, and each job was removed.
        Assert.Equal(2, _standIn.Engine.Pipelines.Count);
        Assert.All(_standIn.Engine.Pipelines, p => Assert.True(p.Deleted));
        Assert.Empty(await TopicsLeftAsync(4));
    }

    [Fact]
    public async Task Cancellation_StopsTheJob_AndDeletesTheCellsTopics()
    {
        using var cts = new CancellationTokenSource();
        var runner = Runner(1);
        var run = runner.RunAsync(null, cts.Token);
        // Cancel once the job runs (the generator starts right after).
        while (!_standIn.Engine.Pipelines.Any(p => p.State == "Running") && !run.IsCompleted) await Task.Delay(50);
        await Task.Delay(500);
        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run);
        Assert.Equal("Stopped", Assert.Single(Results(runner).Results).Status);
        var job = Assert.Single(_standIn.Engine.Pipelines);
        Assert.NotEqual("none", job.Stop);
        Assert.True(job.Deleted);
        Assert.Empty(await TopicsLeftAsync(2));
    }

    [Fact]
    public async Task AnUnforeseenFailureMidCell_StopsTheJobAndTheGenerator_RecordsTheCellAsFailed_AndEndsTheRun()
    {
        // The adapter throws what PiBench does not foresee (not a PiBenchException) when the metrics are first read, which
        // is after the job runs and the generator started: the run ends, but nothing it started is left running on the
        // cluster, and the cell says why it has no figures.
        FaultyMetricsEngine? faulty = null;
        var runner = Runner(2, engine: s => faulty = new FaultyMetricsEngine(StreamEngine.Create(s)));
        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => runner.RunAsync(null, CancellationToken.None));
        Assert.Equal(FaultyMetricsEngine.Message, ex.Message);
        var doc = Results(runner);
        Assert.Equal("Failed", doc.State);
        var cells = doc.Results.OrderBy(r => r.Repetition).ToList();
        Assert.Equal(new[] { "Failed", "NotRun" }, cells.Select(r => r.Status));
        Assert.Equal($"InvalidOperationException: {FaultyMetricsEngine.Message}", cells[0].InvalidReason);
        var job = Assert.Single(_standIn.Engine.Pipelines);
        Assert.NotEqual("none", job.Stop);
        Assert.True(job.Deleted);
        Assert.Empty(await TopicsLeftAsync(2));
        Assert.True(faulty!.Thrown);
    }

    /// <summary>The real adapter, except that reading metrics throws an exception PiBench does not foresee.</summary>
    private sealed class FaultyMetricsEngine(IStreamEngine inner) : IStreamEngine
    {
        public const string Message = "simulated adapter bug";
        public bool Thrown { get; private set; }
        public StreamSystem System => inner.System;
        public StreamEngineSettings Settings => inner.Settings;
        public Task<SqlValidation> ValidateAsync(string sql, CancellationToken ct) => inner.ValidateAsync(sql, ct);
        public Task<IReadOnlyList<StreamJobHandle>> ListActiveJobsAsync(string prefix, CancellationToken ct) => inner.ListActiveJobsAsync(prefix, ct);
        public Task<StreamJobHandle> SubmitAsync(StreamJobRequest request, CancellationToken ct) => inner.SubmitAsync(request, ct);
        public Task<StreamJobStatus> GetStatusAsync(StreamJobHandle job, CancellationToken ct) => inner.GetStatusAsync(job, ct);
        public Task<StreamJobMetrics> GetMetricsAsync(StreamJobHandle job, CancellationToken ct)
        {
            Thrown = true;
            throw new InvalidOperationException(Message);
        }
        public Task StopAsync(StreamJobHandle job, StreamStopMode mode, CancellationToken ct) => inner.StopAsync(job, mode, ct);
        public Task RemoveAsync(StreamJobHandle job, CancellationToken ct) => inner.RemoveAsync(job, ct);
        public Task<IReadOnlyList<StreamWorker>> GetWorkersAsync(CancellationToken ct) => inner.GetWorkersAsync(ct);
        public Task<IReadOnlyList<SubtaskPlacement>> GetPlacementAsync(StreamJobHandle job, CancellationToken ct) => inner.GetPlacementAsync(job, ct);
        public void Dispose() => inner.Dispose();
    }

    [Fact]
    public async Task ARunStartedInTheSameSecondAsAnother_NamesItsLatencyLogsAfterItsOwnFiles()
    {
        // Another run's files for every second around this one's start: this run's files get the suffix _2, and its
        // latency logs must carry it too, or they would overwrite the other run's.
        Directory.CreateDirectory(_dir);
        var now = DateTimeOffset.UtcNow;
        for (var s = -2; s <= 120; s++) File.WriteAllText(Path.Combine(_dir, ResultsFiles.BaseName(now.AddSeconds(s)) + ".json"), "{}");
        var runner = Runner(1);
        await runner.RunAsync(null, CancellationToken.None);
        var baseName = Path.GetFileNameWithoutExtension(runner.JsonPath);
        Assert.EndsWith("_2", baseName);
        var cell = Assert.Single(Results(runner).Results);
        Assert.Equal($"{baseName}_q0_r1.hlog", cell.HistogramFile);
        Assert.True(File.Exists(Path.Combine(_dir, cell.HistogramFile)));
    }

    [Fact]
    public async Task KeepTopics_KeepsTheCellsTopics_AfterTheJobIsRemoved()
    {
        var runner = Runner(1, keepTopics: true);
        await runner.RunAsync(null, CancellationToken.None);
        var cell = Assert.Single(Results(runner).Results);
        Assert.Equal("Completed", cell.Status);
        Assert.Equal("-SkipResultCheck", cell.ResultCheckReason);
        Assert.True(Assert.Single(_standIn.Engine.Pipelines).Deleted);
        Assert.Equal(_standIn.Topics, await TopicsLeftAsync(2));
    }
}
