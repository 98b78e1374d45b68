using Xunit;
using PiBench.Core;
using PiBench.Core.Engines;
using PiBench.Core.Engines.Arroyo;
using PiBench.StandIns;

namespace PiBench.Core.Tests.Engines;

public sealed class ArroyoEngineTests : IDisposable
{
    private readonly ArroyoStandIn _arroyo = new();
    private readonly ArroyoEngine _engine;
    private const string Sql = "CREATE TABLE t (x BIGINT) WITH (connector = 'blackhole');\nINSERT INTO t SELECT auction FROM bid;";

    public ArroyoEngineTests()
    {
        _engine = new ArroyoEngine(Settings());
    }

    private StreamEngineSettings Settings(TimeSpan? requestTimeout = null) => new()
    {
        System = StreamSystem.Arroyo,
        EngineUri = _arroyo.ApiUri,
        AuxiliaryUri = _arroyo.AdminUri,
        PollInterval = TimeSpan.FromMilliseconds(20),
        RequestTimeout = requestTimeout ?? TimeSpan.FromSeconds(10),
    };

    public void Dispose()
    {
        _engine.Dispose();
        _arroyo.Dispose();
    }

    private Task<StreamJobHandle> SubmitAsync(int parallelism = 9, TimeSpan? checkpoint = null) =>
        _engine.SubmitAsync(new StreamJobRequest("nexmark-q1-p9", Sql, parallelism) { CheckpointInterval = checkpoint }, CancellationToken.None);

    [Fact]
    public async Task Submit_ValidatesThenCreatesPipeline_WithSqlParallelismAndCheckpointInterval()
    {
        var job = await SubmitAsync(9, TimeSpan.FromSeconds(10));

        var posts = _arroyo.Requests.Where(r => r.Method == "POST").ToList();
        Assert.Equal(["/api/v1/pipelines/validate_query", "/api/v1/pipelines"], posts.Select(r => r.Path));
        Assert.All(posts, r => Assert.StartsWith("application/json", r.ContentType));
        Assert.Equal(Sql, posts[0].Json!["query"]!.GetValue<string>());
        var create = posts[1].Json!;
        Assert.Equal("nexmark-q1-p9", create["name"]!.GetValue<string>());
        Assert.Equal(Sql, create["query"]!.GetValue<string>());
        Assert.Equal(9, create["parallelism"]!.GetValue<int>());
        Assert.Equal(10_000_000, create["checkpointIntervalMicros"]!.GetValue<long>());

        var p = Assert.Single(_arroyo.Pipelines);
        Assert.Equal(p.Id, job.PipelineId);
        Assert.Equal(p.JobId, job.JobId);
        Assert.Equal(StreamSystem.Arroyo, job.System);
    }

    [Fact]
    public async Task ASubmitThatTimesOutAfterCreating_StopsAndDeletesThePipeline_NobodyElseHasAHandleFor()
    {
        _arroyo.JobListedAfterPolls = 40; // the job shows up only after the submit gave up
        using var engine = new ArroyoEngine(Settings() with { SubmitTimeout = TimeSpan.FromMilliseconds(300) });
        var ex = await Assert.ThrowsAsync<PiBenchException>(() =>
            engine.SubmitAsync(new StreamJobRequest("nexmark-q1-p9", Sql, 9), CancellationToken.None));
        Assert.Equal(EngineErrorIds.Timeout, ex.ErrorId);
        var p = Assert.Single(_arroyo.Pipelines);
        Assert.Equal("immediate", p.Stop);
        Assert.True(p.Deleted);
    }

    [Fact]
    public async Task CtrlCDuringSubmit_AfterThePipelineExists_StopsAndDeletesIt()
    {
        _arroyo.JobListedAfterPolls = 60;
        using var cts = new CancellationTokenSource();
        var submit = _engine.SubmitAsync(new StreamJobRequest("nexmark-q1-p9", Sql, 9), cts.Token);
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (_arroyo.Pipelines.Count == 0 && DateTime.UtcNow < deadline) await Task.Delay(10);
        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => submit);
        var p = Assert.Single(_arroyo.Pipelines);
        Assert.Equal("immediate", p.Stop);
        Assert.True(p.Deleted);
    }

    [Fact]
    public async Task Wait_PollsThroughEveryStartState_ToRunning()
    {
        var job = await SubmitAsync();
        var seen = new List<(StreamJobState, string)>();
        var status = await _engine.WaitAsync(job, s => s.State == StreamJobState.Running, TimeSpan.FromSeconds(10), CancellationToken.None,
            s => seen.Add((s.State, s.EngineState)));
        Assert.Equal(StreamJobState.Running, status.State);
        // the first poll inside SubmitAsync saw "Created"; the wait sees the rest
        Assert.Equal(["Created", "Compiling", "Scheduling", "Running"], _arroyo.Pipelines[0].StatesSeen);
        Assert.Contains((StreamJobState.Starting, "Compiling"), seen);
        Assert.Contains((StreamJobState.Starting, "Scheduling"), seen);
        Assert.Equal((StreamJobState.Running, "Running"), seen[^1]);
        Assert.NotNull(status.StartTime);
        Assert.Equal(27, status.Tasks);
    }

    [Theory]
    [InlineData("Created", StreamJobState.Starting)]
    [InlineData("Compiling", StreamJobState.Starting)]
    [InlineData("Scheduling", StreamJobState.Starting)]
    [InlineData("Running", StreamJobState.Running)]
    [InlineData("Recovering", StreamJobState.Recovering)]
    [InlineData("Rescaling", StreamJobState.Recovering)]
    [InlineData("Restarting", StreamJobState.Recovering)]
    [InlineData("CheckpointStopping", StreamJobState.Stopping)]
    [InlineData("Stopping", StreamJobState.Stopping)]
    [InlineData("Finishing", StreamJobState.Stopping)]
    [InlineData("Stopped", StreamJobState.Stopped)]
    [InlineData("Finished", StreamJobState.Finished)]
    [InlineData("Failed", StreamJobState.Failed)]
    public async Task EveryDocumentedState_IsPolledAndMapped(string engineState, StreamJobState expected)
    {
        _arroyo.StartStates = ["Created", engineState];
        var job = await SubmitAsync();
        var status = await _engine.GetStatusAsync(job, CancellationToken.None);
        Assert.Equal(engineState, status.EngineState);
        Assert.Equal(expected, status.State);
        Assert.Equal(expected is StreamJobState.Stopped or StreamJobState.Finished or StreamJobState.Failed, status.State.IsTerminal());
    }

    [Fact]
    public async Task ValidationErrors_SurfaceAsEngineSqlError_AndNothingIsCreated()
    {
        _arroyo.RejectQueryContaining = "FROM bid";
        var ex = await Assert.ThrowsAsync<PiBenchException>(() => SubmitAsync());
        Assert.Equal(EngineErrorIds.SqlError, ex.ErrorId);
        Assert.Equal(PiBenchErrorCategory.InvalidArgument, ex.Category);
        Assert.Contains(_arroyo.ValidationError, ex.Message);
        Assert.DoesNotContain(_arroyo.Requests, r => r.Method == "POST" && r.Path == "/api/v1/pipelines");
        Assert.Empty(_arroyo.Pipelines);
    }

    [Fact]
    public async Task CreateRejected_WithHttp400_SurfacesTheEngineMessage()
    {
        _arroyo.CreateError = "Failed to create pipeline: Not enough slots";
        var ex = await Assert.ThrowsAsync<PiBenchException>(() => SubmitAsync());
        Assert.Equal(EngineErrorIds.SqlError, ex.ErrorId);
        Assert.Contains("Not enough slots", ex.Message);
    }

    [Fact]
    public async Task FailedJob_SurfacesFailureMessage_AsEngineJobFailed()
    {
        _arroyo.FailWith = "Error while reading from Kafka: Broker transport failure";
        var job = await SubmitAsync();
        var ex = await Assert.ThrowsAsync<PiBenchException>(() =>
            _engine.WaitAsync(job, s => s.State == StreamJobState.Running, TimeSpan.FromSeconds(10), CancellationToken.None));
        Assert.Equal(EngineErrorIds.JobFailed, ex.ErrorId);
        Assert.Contains("Broker transport failure", ex.Message);
    }

    [Fact]
    public async Task FailedJob_WithoutFailureMessage_UsesTheFirstJobError()
    {
        _arroyo.JobErrorMessage = "operator 1 panicked: schema mismatch";
        var job = await SubmitAsync();
        var status = await _engine.WaitAsync(job, s => s.State.IsTerminal(), TimeSpan.FromSeconds(10), CancellationToken.None, failOnFailed: false);
        Assert.Equal(StreamJobState.Failed, status.State);
        Assert.Contains("schema mismatch", status.FailureMessage);
        Assert.Contains(_arroyo.Requests, r => r.Path.EndsWith("/errors", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Metrics_TakeTheLatestPoint_SumSourceSubtasks_AndReportBackpressure()
    {
        const int p = 9;
        _arroyo.SourceRate = 1234.5;
        _arroyo.Backpressure = 0.4;
        var job = await SubmitAsync(p);
        await _engine.WaitAsync(job, s => s.State == StreamJobState.Running, TimeSpan.FromSeconds(10), CancellationToken.None);
        var metrics = await _engine.GetMetricsAsync(job, CancellationToken.None);

        Assert.Equal(3 * p, metrics.Operators.Count);
        var expected = Enumerable.Range(0, p).Sum(i => 1234.5 + i);
        Assert.Equal(expected, metrics.SourceRecordsPerSecond, 6);
        Assert.Equal(0.4, metrics.MaxBackpressure, 6);
        Assert.Equal(-1, metrics.SourceRecordsOut); // Arroyo reports rates only
        var sources = metrics.Operators.Where(o => o.IsSource).ToList();
        Assert.Equal(p, sources.Count);
        Assert.All(sources, s => Assert.Equal("1", s.OperatorId));
        Assert.All(sources, s => Assert.True(double.IsNaN(s.RecordsInPerSecond)));
        Assert.Equal(1234.5 + 3, sources.Single(s => s.Subtask == 3).RecordsOutPerSecond, 6);
        var sinks = metrics.Operators.Where(o => o.IsSink).ToList();
        Assert.All(sinks, s => Assert.Equal("3", s.OperatorId));
        Assert.All(sinks, s => Assert.True(double.IsNaN(s.RecordsOutPerSecond)));
        Assert.Equal(1234.5 / 2 * p, metrics.SinkRecordsPerSecond, 6);
        Assert.StartsWith("kafka", sources[0].OperatorName);
    }

    [Fact]
    public async Task Metrics_BeforeRunning_AreEmpty()
    {
        var job = await SubmitAsync();
        var metrics = await _engine.GetMetricsAsync(job, CancellationToken.None);
        Assert.Empty(metrics.Operators);
        Assert.True(double.IsNaN(metrics.SourceRecordsPerSecond));
    }

    [Theory]
    [InlineData(StreamStopMode.Graceful, "graceful")]
    [InlineData(StreamStopMode.Immediate, "immediate")]
    public async Task Stop_SendsTheStopMode_ReachesStopped_ThenDeletesThePipeline(StreamStopMode mode, string wire)
    {
        var job = await SubmitAsync();
        await _engine.WaitAsync(job, s => s.State == StreamJobState.Running, TimeSpan.FromSeconds(10), CancellationToken.None);
        await _engine.StopAsync(job, mode, CancellationToken.None);

        var patch = Assert.Single(_arroyo.Requests, r => r.Method == "PATCH");
        Assert.Equal($"/api/v1/pipelines/{job.PipelineId}", patch.Path);
        Assert.Equal(wire, patch.Json!["stop"]!.GetValue<string>());
        Assert.StartsWith("application/json", patch.ContentType);

        var seen = new List<string>();
        var final = await _engine.WaitAsync(job, s => s.State.IsTerminal(), TimeSpan.FromSeconds(10), CancellationToken.None, s => seen.Add(s.EngineState));
        Assert.Equal(StreamJobState.Stopped, final.State);
        Assert.Contains("Stopping", seen);

        await _engine.RemoveAsync(job, CancellationToken.None);
        Assert.True(_arroyo.Pipelines[0].Deleted);
        Assert.Contains(_arroyo.Requests, r => r.Method == "DELETE" && r.Path == $"/api/v1/pipelines/{job.PipelineId}");
    }

    [Fact]
    public async Task Remove_WhileRunning_IsRefusedWithTheEngineMessage()
    {
        var job = await SubmitAsync();
        await _engine.WaitAsync(job, s => s.State == StreamJobState.Running, TimeSpan.FromSeconds(10), CancellationToken.None);
        var ex = await Assert.ThrowsAsync<PiBenchException>(() => _engine.RemoveAsync(job, CancellationToken.None));
        Assert.Equal(EngineErrorIds.StopFailed, ex.ErrorId);
        Assert.Contains("terminal state", ex.Message);
    }

    [Fact]
    public async Task UnknownPipeline_IsEngineJobNotFound()
    {
        var ghost = new StreamJobHandle(StreamSystem.Arroyo, "job_x", "ghost") { PipelineId = "pl_missing" };
        var ex = await Assert.ThrowsAsync<PiBenchException>(() => _engine.GetStatusAsync(ghost, CancellationToken.None));
        Assert.Equal(EngineErrorIds.JobNotFound, ex.ErrorId);
        Assert.Contains("Pipeline not found", ex.Message);
    }

    [Fact]
    public async Task Workers_ComeFromTheControllerAdminMetrics()
    {
        _arroyo.RegisteredNodes = 7;
        _arroyo.RegisteredSlots = 14;
        _arroyo.FreeSlots = 5;
        var w = Assert.Single(await _engine.GetWorkersAsync(CancellationToken.None));
        Assert.Equal(("Arroyo", 7, 14, 5), (w.System, w.Nodes, w.Slots, w.FreeSlots));
        Assert.Contains(_arroyo.Admin.Requests, r => r.Path == "/metrics");
    }

    [Fact]
    public async Task SlowEngine_FailsWithEngineTimeout_NotAHang()
    {
        _arroyo.Api.ResponseDelay = TimeSpan.FromSeconds(5);
        using var slow = new ArroyoEngine(Settings(TimeSpan.FromMilliseconds(300)));
        var sw = System.Diagnostics.Stopwatch.StartNew();
        var ex = await Assert.ThrowsAsync<PiBenchException>(() => slow.ValidateAsync("SELECT 1", CancellationToken.None));
        Assert.Equal(EngineErrorIds.Timeout, ex.ErrorId);
        Assert.Equal(PiBenchErrorCategory.OperationTimeout, ex.Category);
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(4), $"took {sw.Elapsed}");
    }

    [Fact]
    public async Task WaitTimeout_IsEngineTimeout()
    {
        _arroyo.StartStates = ["Created", "Scheduling"]; // never runs
        var job = await SubmitAsync();
        var ex = await Assert.ThrowsAsync<PiBenchException>(() =>
            _engine.WaitAsync(job, s => s.State == StreamJobState.Running, TimeSpan.FromMilliseconds(200), CancellationToken.None));
        Assert.Equal(EngineErrorIds.Timeout, ex.ErrorId);
        Assert.Contains("Scheduling", ex.Message);
    }

    [Fact]
    public async Task ClosedPort_IsEngineUnreachable()
    {
        var port = _arroyo.ApiUri.Port;
        _arroyo.Dispose();
        using var engine = new ArroyoEngine(new StreamEngineSettings { System = StreamSystem.Arroyo, EngineUri = new Uri($"http://127.0.0.1:{port}/") });
        var ex = await Assert.ThrowsAsync<PiBenchException>(() => engine.ValidateAsync("SELECT 1", CancellationToken.None));
        Assert.Equal(EngineErrorIds.Unreachable, ex.ErrorId);
        Assert.Equal(PiBenchErrorCategory.ConnectionError, ex.Category);
    }

    [Fact]
    public void Prometheus_SumsLabelledSamples_AndSkipsComments()
    {
        var m = ArroyoEngine.ParsePrometheus("# HELP x\n# TYPE x gauge\nx{a=\"1\"} 2\nx{a=\"2\"} 3.5\ny 1e3\nbad line\n");
        Assert.Equal(5.5, m["x"]);
        Assert.Equal(1000, m["y"]);
    }
}
