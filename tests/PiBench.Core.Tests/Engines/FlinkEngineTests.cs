using Xunit;
using PiBench.Core;
using PiBench.Core.Engines;
using PiBench.Core.Engines.Flink;
using PiBench.StandIns;

namespace PiBench.Core.Tests.Engines;

public sealed class FlinkEngineTests : IDisposable
{
    private readonly FlinkStandIn _flink = new();
    private readonly FlinkEngine _engine;

    private const string Sql = """
        -- a comment; with a semicolon
        CREATE TABLE kafka (event_type INT) WITH ('connector' = 'kafka', 'topic' = 'a;b');
        CREATE VIEW bid AS SELECT event_type AS auction FROM kafka WHERE event_type = 2;
        CREATE TABLE nexmark_q0 (auction INT) WITH ('connector' = 'blackhole');
        INSERT INTO nexmark_q0 SELECT auction FROM bid;
        """;

    public FlinkEngineTests()
    {
        _engine = new FlinkEngine(Settings());
    }

    private StreamEngineSettings Settings(TimeSpan? requestTimeout = null, string? savepoints = "file:///savepoints") => new()
    {
        System = StreamSystem.Flink,
        EngineUri = _flink.RestUri,
        AuxiliaryUri = _flink.GatewayUri,
        PollInterval = TimeSpan.FromMilliseconds(20),
        RequestTimeout = requestTimeout ?? TimeSpan.FromSeconds(10),
        FlinkSavepointDirectory = savepoints,
    };

    public void Dispose()
    {
        _engine.Dispose();
        _flink.Dispose();
    }

    private Task<StreamJobHandle> SubmitAsync(int parallelism = 9) =>
        _engine.SubmitAsync(new StreamJobRequest("nexmark-q0-p9", Sql, parallelism) { CheckpointInterval = TimeSpan.FromSeconds(30) }, CancellationToken.None);

    private Task<StreamJobStatus> RunningAsync(StreamJobHandle job) =>
        _engine.WaitAsync(job, s => s.State == StreamJobState.Running, TimeSpan.FromSeconds(10), CancellationToken.None);

    [Fact]
    public async Task ASubmitThatTimesOutBeforeTheJobIdArrives_CancelsTheJobByName_AndClosesTheSession()
    {
        _flink.NotReadyFetches = 100_000; // the INSERT started a job, but its id never comes back
        using var engine = new FlinkEngine(Settings() with { SubmitTimeout = TimeSpan.FromMilliseconds(400) });
        var ex = await Assert.ThrowsAsync<PiBenchException>(() => engine.SubmitAsync(new StreamJobRequest("nexmark-q1-p9", Sql, 9), CancellationToken.None));
        Assert.Equal(EngineErrorIds.Timeout, ex.ErrorId);
        var job = Assert.Single(_flink.Jobs);
        Assert.Equal("nexmark-q1-p9", job.Name);
        Assert.Equal("cancel", job.CancelMode);
        Assert.True(Assert.Single(_flink.Sessions).Closed);
    }

    [Fact]
    public async Task Submit_OpensASessionAtTheParallelism_SendsEachStatement_AndReadsTheJobIdFromTheInsertResult()
    {
        var job = await SubmitAsync(9);

        var session = Assert.Single(_flink.Sessions);
        Assert.Equal("9", session.Properties["parallelism.default"]);
        Assert.Equal("streaming", session.Properties["execution.runtime-mode"]);
        Assert.Equal("nexmark-q0-p9", session.Properties["pipeline.name"]);
        Assert.Equal("30000 ms", session.Properties["execution.checkpointing.interval"]);
        Assert.Equal(4, session.Statements.Count);
        Assert.StartsWith("CREATE TABLE kafka", session.Statements[0]);
        Assert.Contains("'topic' = 'a;b'", session.Statements[0]); // ';' inside a literal does not split
        Assert.All(session.Statements, s => Assert.False(s.EndsWith(';')));
        Assert.Equal("INSERT INTO nexmark_q0 SELECT auction FROM bid", session.Statements[3]);
        Assert.Equal("nexmark-q0-p9", session.ExecutionConfigs[3]!["pipeline.name"]!.GetValue<string>());
        Assert.Null(session.ExecutionConfigs[0]);
        Assert.All(_flink.GatewayRequests.Where(r => r.Method == "POST"), r => Assert.StartsWith("application/json", r.ContentType));

        var flinkJob = Assert.Single(_flink.Jobs);
        Assert.Equal(flinkJob.Id, job.JobId);
        Assert.Equal(session.Handle, job.PipelineId);
        Assert.Equal(9, flinkJob.Parallelism);
        // the INSERT's first fetch was NOT_READY and was retried
        Assert.True(_flink.GatewayRequests.Count(r => r.Path.EndsWith("/result/0", StringComparison.Ordinal)) >= 5);
        Assert.All(_flink.GatewayRequests.Where(r => r.Path.Contains("/result/")), r => Assert.Equal("JSON", r.Query["rowFormat"]));
    }

    [Theory]
    [InlineData("INITIALIZING", StreamJobState.Starting)]
    [InlineData("CREATED", StreamJobState.Starting)]
    [InlineData("RUNNING", StreamJobState.Running)]
    [InlineData("FAILING", StreamJobState.Stopping)]
    [InlineData("FAILED", StreamJobState.Failed)]
    [InlineData("CANCELLING", StreamJobState.Stopping)]
    [InlineData("CANCELED", StreamJobState.Stopped)]
    [InlineData("FINISHED", StreamJobState.Finished)]
    [InlineData("RESTARTING", StreamJobState.Recovering)]
    [InlineData("SUSPENDED", StreamJobState.Suspended)]
    [InlineData("RECONCILING", StreamJobState.Recovering)]
    public async Task EveryDocumentedJobStatus_IsPolledAndMapped(string engineState, StreamJobState expected)
    {
        _flink.StartStates = [engineState];
        var job = await SubmitAsync();
        var status = await _engine.GetStatusAsync(job, CancellationToken.None);
        Assert.Equal(engineState, status.EngineState);
        Assert.Equal(expected, status.State);
    }

    [Fact]
    public async Task Wait_PollsThroughInitializingAndCreated_ToRunning()
    {
        var job = await SubmitAsync();
        var seen = new List<string>();
        var status = await _engine.WaitAsync(job, s => s.State == StreamJobState.Running, TimeSpan.FromSeconds(10), CancellationToken.None, s => seen.Add(s.EngineState));
        Assert.Equal(["INITIALIZING", "CREATED", "RUNNING"], seen);
        Assert.Equal(18, status.Tasks);
    }

    [Fact]
    public async Task RejectedStatement_SurfacesTheRootCause_AsEngineSqlError_AndClosesTheSession()
    {
        _flink.RejectStatementContaining = "CREATE VIEW bid";
        var ex = await Assert.ThrowsAsync<PiBenchException>(() => SubmitAsync());
        Assert.Equal(EngineErrorIds.SqlError, ex.ErrorId);
        Assert.Contains("ValidationException: Object 'nope' not found", ex.Message);
        var session = Assert.Single(_flink.Sessions);
        Assert.True(session.Closed);
        Assert.Equal(2, session.Statements.Count); // stopped at the failing statement
        Assert.Empty(_flink.Jobs);
    }

    [Fact]
    public async Task ScriptWithoutInsert_IsRefusedBeforeAnyRequest()
    {
        var ex = await Assert.ThrowsAsync<PiBenchException>(() =>
            _engine.SubmitAsync(new StreamJobRequest("x", "CREATE TABLE t (a INT) WITH ('connector' = 'blackhole');", 1), CancellationToken.None));
        Assert.Equal(EngineErrorIds.SqlError, ex.ErrorId);
        Assert.Empty(_flink.GatewayRequests);
    }

    [Fact]
    public async Task FailedJob_SurfacesTheRootException_AsEngineJobFailed()
    {
        _flink.FailWith = "org.apache.kafka.common.errors.TimeoutException: Timeout of 60000ms expired before the position for partition nexmark-0 could be determined";
        var job = await SubmitAsync();
        var ex = await Assert.ThrowsAsync<PiBenchException>(() =>
            _engine.WaitAsync(job, s => s.State == StreamJobState.Finished, TimeSpan.FromSeconds(10), CancellationToken.None));
        Assert.Equal(EngineErrorIds.JobFailed, ex.ErrorId);
        Assert.Contains("Timeout of 60000ms expired", ex.Message);
    }

    [Fact]
    public async Task Metrics_UseTheSourceOperatorCounters_SumSubtasks_AndReportBackpressure()
    {
        const int p = 9;
        _flink.SourceRate = 2500;
        _flink.BackPressuredMsPerSecond = 650;
        var job = await SubmitAsync(p);
        await RunningAsync(job);
        var metrics = await _engine.GetMetricsAsync(job, CancellationToken.None);

        Assert.Equal(2 * p, metrics.Operators.Count);
        Assert.Equal(Enumerable.Range(0, p).Sum(i => 2500.0 + i), metrics.SourceRecordsPerSecond, 6);
        // the source operator's numRecordsOut (10000 × (i+1)), not the task's (5000 × (i+1))
        Assert.Equal(Enumerable.Range(0, p).Sum(i => 10_000L * (i + 1)), metrics.SourceRecordsOut);
        Assert.Equal(0.65, metrics.MaxBackpressure, 6);
        var sink = metrics.Operators.Where(o => o.IsSink).ToList();
        Assert.Equal(p, sink.Count);
        Assert.All(sink, s => Assert.StartsWith("Sink:", s.OperatorName));
        Assert.Equal(5000L * 4, sink.Single(s => s.Subtask == 3).RecordsIn);
        Assert.Equal(0.4, sink[0].Busy, 6);
        Assert.Equal(Enumerable.Range(0, p).Sum(i => 2500.0 + i), metrics.SinkRecordsPerSecond, 6);
    }

    [Fact]
    public async Task Metrics_AtHighParallelism_AreReadInBoundedRequestLines()
    {
        var job = await SubmitAsync(64);
        await RunningAsync(job);
        var metrics = await _engine.GetMetricsAsync(job, CancellationToken.None);
        Assert.Equal(128, metrics.Operators.Count);
        Assert.Equal(Enumerable.Range(0, 64).Sum(i => 2000.0 + i), metrics.SourceRecordsPerSecond, 6);
        var gets = _flink.RestRequests.Where(r => r.Path.EndsWith("/metrics", StringComparison.Ordinal) && r.Query.ContainsKey("get")).ToList();
        Assert.True(gets.Count > 2, $"expected batching, got {gets.Count} requests");
        Assert.All(gets, r => Assert.True(r.RequestLine.Length < 4096, $"request line of {r.RequestLine.Length} bytes"));
    }

    [Fact]
    public async Task ImmediateStop_CancelsTheJob_ThroughCancellingToCanceled()
    {
        var job = await SubmitAsync();
        await RunningAsync(job);
        await _engine.StopAsync(job, StreamStopMode.Immediate, CancellationToken.None);
        var patch = Assert.Single(_flink.RestRequests, r => r.Method == "PATCH");
        Assert.Equal($"/jobs/{job.JobId}", patch.Path);
        Assert.Equal("cancel", patch.Query["mode"]);
        var seen = new List<string>();
        var final = await _engine.WaitAsync(job, s => s.State.IsTerminal(), TimeSpan.FromSeconds(10), CancellationToken.None, s => seen.Add(s.EngineState));
        Assert.Equal(["CANCELLING", "CANCELED"], seen);
        Assert.Equal(StreamJobState.Stopped, final.State);

        // cancelling a job that already ended is not an error (HTTP 409)
        await _engine.StopAsync(job, StreamStopMode.Immediate, CancellationToken.None);
        await _engine.RemoveAsync(job, CancellationToken.None);
        Assert.True(Assert.Single(_flink.Sessions).Closed);
    }

    [Fact]
    public async Task GracefulStop_StopsWithASavepoint_AndTheJobFinishes()
    {
        var job = await SubmitAsync();
        await RunningAsync(job);
        await _engine.StopAsync(job, StreamStopMode.Graceful, CancellationToken.None);
        var stop = Assert.Single(_flink.Jobs).StopBody!;
        Assert.False(stop["drain"]!.GetValue<bool>());
        Assert.Equal("file:///savepoints", stop["targetDirectory"]!.GetValue<string>());
        Assert.Equal("CANONICAL", stop["formatType"]!.GetValue<string>());
        Assert.True(_flink.RestRequests.Count(r => r.Path.Contains("/savepoints/")) >= 2); // IN_PROGRESS, then COMPLETED
        var final = await _engine.WaitAsync(job, s => s.State.IsTerminal(), TimeSpan.FromSeconds(10), CancellationToken.None);
        Assert.Equal(StreamJobState.Finished, final.State);
    }

    [Fact]
    public async Task FailedSavepoint_IsEngineStopFailed_WithTheEngineMessage()
    {
        _flink.SavepointFailure = "java.util.concurrent.CompletionException: java.io.IOException: Cannot create savepoint directory";
        var job = await SubmitAsync();
        await RunningAsync(job);
        var ex = await Assert.ThrowsAsync<PiBenchException>(() => _engine.StopAsync(job, StreamStopMode.Graceful, CancellationToken.None));
        Assert.Equal(EngineErrorIds.StopFailed, ex.ErrorId);
        Assert.Contains("Cannot create savepoint directory", ex.Message);
    }

    [Fact]
    public async Task UnknownJob_IsEngineJobNotFound()
    {
        var ghost = new StreamJobHandle(StreamSystem.Flink, new string('a', 32), "ghost");
        var ex = await Assert.ThrowsAsync<PiBenchException>(() => _engine.GetStatusAsync(ghost, CancellationToken.None));
        Assert.Equal(EngineErrorIds.JobNotFound, ex.ErrorId);
        Assert.Contains("not found", ex.Message);
    }

    [Fact]
    public async Task Workers_AreTheTaskManagers()
    {
        _flink.TaskManagers = 3;
        var workers = await _engine.GetWorkersAsync(CancellationToken.None);
        Assert.Equal(3, workers.Count);
        Assert.Equal("192.168.2.71:6122", workers[0].Address);
        Assert.All(workers, w => Assert.Equal((1, 1, 4), (w.Nodes, w.Slots, w.CpuCores)));
        Assert.Equal(8_000_000_000L, workers[0].PhysicalMemoryBytes);
    }

    [Fact]
    public async Task SlowGateway_FailsTheSubmission_WithEngineTimeout()
    {
        _flink.Gateway.ResponseDelay = TimeSpan.FromSeconds(5);
        using var slow = new FlinkEngine(Settings(TimeSpan.FromMilliseconds(300)));
        var sw = System.Diagnostics.Stopwatch.StartNew();
        var ex = await Assert.ThrowsAsync<PiBenchException>(() =>
            slow.SubmitAsync(new StreamJobRequest("x", Sql, 1), CancellationToken.None));
        Assert.Equal(EngineErrorIds.Timeout, ex.ErrorId);
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(4), $"took {sw.Elapsed}");
    }

    [Fact]
    public async Task Cancellation_IsNotReportedAsATimeout()
    {
        _flink.Rest.ResponseDelay = TimeSpan.FromSeconds(5);
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => _engine.GetWorkersAsync(cts.Token));
    }

    [Fact]
    public void ErrorExtraction_KeepsFirstMessageAndRootCause()
    {
        var msg = FlinkEngine.ExtractError("""{"errors":["Internal server error.","<Exception on server side:\norg.x.A: outer\nCaused by: org.x.B: middle\nCaused by: org.x.C: the root\n\tat x>"]}""");
        Assert.Equal("Internal server error. | org.x.C: the root", msg);
        Assert.Equal("10.0.0.5:36423", FlinkEngine.AddressFromPath("pekko.tcp://flink@10.0.0.5:36423/user/rpc/taskmanager_0"));
    }
}
