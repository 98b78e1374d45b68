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
    private const string Sql = "CREATE TABLE bid (auction BIGINT) WITH (connector = 'kafka', bootstrap_servers = '127.0.0.1:9', topic = 't', type = 'source', format = 'json');\n" +
        "CREATE TABLE t (x BIGINT) WITH (connector = 'blackhole');\nINSERT INTO t SELECT auction FROM bid;";

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
        _arroyo.MetricsInterval = TimeSpan.FromMilliseconds(10);
        var job = await SubmitAsync(p);
        await _engine.WaitAsync(job, s => s.State == StreamJobState.Running, TimeSpan.FromSeconds(10), CancellationToken.None);
        await Task.Delay(100); // a few collections: every subtask has an EWMA point (odd ones start one collection later)
        var metrics = await _engine.GetMetricsAsync(job, CancellationToken.None);

        Assert.Equal(3 * p, metrics.Operators.Count);
        var expected = Enumerable.Range(0, p).Sum(i => 1234.5 + i);
        Assert.Equal(expected, metrics.SourceRecordsPerSecond, 6);
        Assert.Equal(0.4, metrics.MaxBackpressure, 6);
        Assert.Equal(-1, metrics.SourceRecordsOut); // Arroyo reports rates only
        var sources = metrics.Operators.Where(o => o.IsSource).ToList();
        Assert.Equal(p, sources.Count);
        Assert.All(sources, s => Assert.Equal(ArroyoStandIn.SourceOperatorId, s.OperatorId)); // 0.11 ids are strings
        Assert.All(sources, s => Assert.True(double.IsNaN(s.RecordsInPerSecond)));
        Assert.Equal(1234.5 + 3, sources.Single(s => s.Subtask == 3).RecordsOutPerSecond, 6);
        var sinks = metrics.Operators.Where(o => o.IsSink).ToList();
        Assert.All(sinks, s => Assert.Equal(ArroyoStandIn.SinkOperatorId("t"), s.OperatorId));
        Assert.All(sinks, s => Assert.True(double.IsNaN(s.RecordsOutPerSecond)));
        Assert.Equal(1234.5 / 2 * p, metrics.SinkRecordsPerSecond, 6);
        Assert.StartsWith("kafka", sources[0].OperatorName);
    }

    [Fact]
    public async Task Metrics_FirstAnswerAfterRunning_HasNoRatesYet_AsThe011ControllerNeedsTwoCollections()
    {
        _arroyo.MetricsInterval = TimeSpan.FromSeconds(30); // only the first collection happens within this test
        var job = await SubmitAsync(3);
        await _engine.WaitAsync(job, s => s.State == StreamJobState.Running, TimeSpan.FromSeconds(10), CancellationToken.None);
        var metrics = await _engine.GetMetricsAsync(job, CancellationToken.None);

        // job_metrics.rs: backpressure has a point per collection, rates need a previous counter: rate groups are empty
        // and subtask 1's worker has not reported yet (partial): rows only for subtasks 0 and 2 of the 3 operators
        Assert.Equal(6, metrics.Operators.Count);
        Assert.DoesNotContain(metrics.Operators, o => o.Subtask == 1);
        Assert.True(double.IsNaN(metrics.SourceRecordsPerSecond));
        Assert.All(metrics.Operators, o => Assert.False(double.IsNaN(o.Backpressure)));
    }

    [Fact]
    public async Task StandInRates_AreAnEwmaWithAlpha01_OverCollections()
    {
        _arroyo.MetricsInterval = TimeSpan.FromMilliseconds(20);
        _arroyo.SourceRate = 1000;
        var job = await SubmitAsync(1);
        await _engine.WaitAsync(job, s => s.State == StreamJobState.Running, TimeSpan.FromSeconds(10), CancellationToken.None);
        using var http = new HttpClient();
        var uri = new Uri(_arroyo.ApiUri, $"api/v1/pipelines/{job.PipelineId}/jobs/{job.JobId}/operator_metric_groups");
        await http.GetStringAsync(uri);            // collections so far at 1000/s
        await Task.Delay(60);
        await http.GetStringAsync(uri);
        _arroyo.SourceRate = 2000;                 // the true rate doubles
        await Task.Delay(200);
        var node = System.Text.Json.Nodes.JsonNode.Parse(await http.GetStringAsync(uri))!;
        var source = node["data"]!.AsArray().Single(o => o!["operatorId"]!.GetValue<string>() == ArroyoStandIn.SourceOperatorId)!;
        var points = source["metricGroups"]!.AsArray().Single(g => g!["name"]!.GetValue<string>() == "messages_sent")!["subtasks"]![0]!["metrics"]!
            .AsArray().Select(p => p!["value"]!.GetValue<double>()).ToList();
        var firstNew = points.FindIndex(v => v > 1000.0001);
        Assert.True(firstNew > 0, string.Join(",", points));
        Assert.Equal(1100, points[firstNew], 6);                          // 0.9 * 1000 + 0.1 * 2000
        for (var k = firstNew + 1; k < points.Count; k++) Assert.Equal(0.9 * points[k - 1] + 0.1 * 2000, points[k], 6);
        Assert.True(points[^1] < 2000);                                   // never the window's exact rate
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
    public async Task Workers_WithoutNodeUris_CountRegistrations_FromTheSlotGauge_NoNodeGaugeNeeded()
    {
        _arroyo.SlotsPerNode = 2;
        _arroyo.AddNodes(7);
        // 0.11 never exports arroyo_controller_registered_nodes (schedulers/mod.rs): 7 = 14 slots / 2 per node
        using (var http = new HttpClient())
            Assert.DoesNotContain("arroyo_controller_registered_nodes", await http.GetStringAsync(new Uri(_arroyo.AdminUri, "metrics")));
        using var engine = new ArroyoEngine(Settings() with { ArroyoSlotsPerNode = 2 });
        var w = Assert.Single(await engine.GetWorkersAsync(CancellationToken.None));
        Assert.Equal(("Arroyo", 7, 14, 14, 7), (w.System, w.Nodes, w.Slots, w.FreeSlots, w.Registrations));
        Assert.Contains(_arroyo.Admin.Requests, r => r.Path == "/metrics");
    }

    [Fact]
    public async Task Workers_BeforeAnyNodeRegistered_AreZero_NotAnError()
    {
        // the slot gauges are lazy_static: absent until the first registration (schedulers/mod.rs NodeStatus::new)
        var w = Assert.Single(await _engine.GetWorkersAsync(CancellationToken.None));
        Assert.Equal((0, 0, 0, 0), (w.Nodes, w.Slots, w.FreeSlots, w.Registrations));
    }

    [Fact]
    public async Task Workers_CountLiveNodes_AndDropStaleSlots_AfterNodeRestartsAndAStoppedNode()
    {
        var nodes = _arroyo.AddNodes(3);
        _arroyo.RestartNode(0);   // re-registers under a new id: gauges grow to 4 slots
        _arroyo.StopNode(2);      // its slots stay in the gauges
        using var engine = new ArroyoEngine(Settings() with { NodeAdminUris = nodes });
        var job = await engine.SubmitAsync(new StreamJobRequest("p1", Sql, 1), CancellationToken.None);
        await engine.WaitAsync(job, s => s.State == StreamJobState.Running, TimeSpan.FromSeconds(10), CancellationToken.None);

        var w = Assert.Single(await engine.GetWorkersAsync(CancellationToken.None));
        // live = 2 (/status), registrations = 4; free gauge = 4 - 1 taken = 3, less 2 stale slots = 1
        Assert.Equal((2, 2, 1, 4), (w.Nodes, w.Slots, w.FreeSlots, w.Registrations));
        Assert.All(_arroyo.Nodes.Take(2), n => Assert.Contains(n.Requests, r => r.Path == "/status"));
    }

    [Fact]
    public async Task ListActiveJobs_PagesThroughPipelines_ByNamePrefix_SkippingTerminalJobs()
    {
        var handles = new List<StreamJobHandle>();
        for (var i = 0; i < 23; i++)
            handles.Add(await _engine.SubmitAsync(new StreamJobRequest((i % 2 == 0 ? "pibench-" : "other-") + i, Sql, 1), CancellationToken.None));
        await _engine.StopAsync(handles[0], StreamStopMode.Immediate, CancellationToken.None);
        await _engine.WaitAsync(handles[0], s => s.State.IsTerminal(), TimeSpan.FromSeconds(10), CancellationToken.None);

        var active = await _engine.ListActiveJobsAsync("pibench-", CancellationToken.None);

        var expected = handles.Where((h, i) => i % 2 == 0 && i > 0).Select(h => (h.JobId, h.PipelineId, h.Name)).OrderBy(x => x.Name).ToList();
        Assert.Equal(expected, active.Select(h => (h.JobId, h.PipelineId, h.Name)).OrderBy(x => x.Name).ToList());
        Assert.All(active, h => Assert.Equal(StreamSystem.Arroyo, h.System));
        // the API pages by 'limit' + 'starting_after' (hasMore): more than one page was read when pages are small
        Assert.Contains(_arroyo.Requests, r => r.Path == "/api/v1/pipelines" && r.Query.ContainsKey("limit"));
    }

    [Fact]
    public async Task ListActiveJobs_FollowsHasMore_AcrossPages()
    {
        for (var i = 0; i < ArroyoEngine.PageSize + 5; i++)
            await _engine.SubmitAsync(new StreamJobRequest("pibench-" + i, Sql, 1), CancellationToken.None);
        var active = await _engine.ListActiveJobsAsync("pibench-", CancellationToken.None);
        Assert.Equal(ArroyoEngine.PageSize + 5, active.Count);
        Assert.Contains(_arroyo.Requests, r => r.Path == "/api/v1/pipelines" && r.Query.ContainsKey("starting_after"));
    }

    [Fact]
    public async Task Validate_StructColumn_IsRejectedByTheParser_WithLineAndColumn()
    {
        var sql = "CREATE TABLE s (\n  event_type INT,\n  bid STRUCT<price BIGINT>\n) WITH (connector = 'kafka');\nINSERT INTO x SELECT 1;";
        var v = await _engine.ValidateAsync(sql, CancellationToken.None);
        var d = Assert.Single(v.Errors);
        Assert.False(v.Valid);
        Assert.Contains("Expected ',' or ')' after column definition, found: <", d.Message);
        Assert.Equal((3, 13), (d.Line, d.Column));
    }

    [Fact]
    public async Task Validate_PlanningError_HasNoPosition()
    {
        var v = await _engine.ValidateAsync(Sql.Replace("format = 'json'", "format = 'json', 'source.offset' = 'begin'"), CancellationToken.None);
        var d = Assert.Single(v.Errors);
        Assert.Contains("invalid value for source.offset 'begin'", d.Message);
        Assert.Null(d.Line);
        Assert.True((await _engine.ValidateAsync(Sql, CancellationToken.None)).Valid);
    }

    [Theory]
    [InlineData("SQL error: ParserError(\"Expected an expression:, found: ) at Line: 12, Column 7\")", 12, 7)]
    [InlineData("sql parser error: Expected =, found: . at Line: 1, Column: 44", 1, 44)]
    [InlineData("Error during planning: Table bid not found", null, null)]
    public void Diagnostic_TakesThePositionSqlparserWrote(string message, int? line, int? column)
    {
        var d = ArroyoEngine.Diagnostic(message);
        Assert.Equal((message, line, column), (d.Message, d.Line, d.Column));
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
