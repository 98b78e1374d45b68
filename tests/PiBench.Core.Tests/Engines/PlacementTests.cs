using Xunit;
using PiBench.Core;
using PiBench.Core.Deployment;
using PiBench.Core.Engines;
using PiBench.Core.Engines.Arroyo;
using PiBench.Core.Engines.Flink;
using PiBench.StandIns;
using StreamSystem = PiBench.Core.Engines.StreamSystem;
using Node = PiBench.Core.Deployment.SubtaskPlacementCheck.PlacementNode;

namespace PiBench.Core.Tests.Engines;

/// <summary>Subtask placement (issue 7 §2): the adapters against the stand-ins and the SubtaskPlacement check.</summary>
public sealed class PlacementTests : IDisposable
{
    private const string FlinkSql = "CREATE TABLE nexmark_q0 (auction BIGINT) WITH ('connector' = 'blackhole');\nINSERT INTO nexmark_q0 SELECT COUNT(*) FROM (VALUES (1)) AS t(a) GROUP BY a;"; // stateful: two vertices
    private const string ArroyoSql = "CREATE TABLE bid (auction BIGINT) WITH (connector = 'kafka', bootstrap_servers = '127.0.0.1:9', topic = 't', type = 'source', format = 'json');\n" +
        "CREATE TABLE t (x BIGINT) WITH (connector = 'blackhole');\nINSERT INTO t SELECT auction FROM bid;";
    private readonly FlinkStandIn _flink = new();
    private readonly ArroyoStandIn _arroyo = new();

    /// <summary>The default topology's shape: pi1 = 192.168.2.70 (controller), pi2..pi10 = .71...79. Data only.</summary>
    private static readonly Node Controller = new("pi1", FlinkStandIn.TaskManagerHost(0));
    private static readonly IReadOnlyList<Node> FlinkWorkers =
        Enumerable.Range(1, 9).Select(i => new Node($"pi{i + 1}", FlinkStandIn.TaskManagerHost(i))).ToList();

    public void Dispose()
    {
        _flink.Dispose();
        _arroyo.Dispose();
    }

    private FlinkEngine Flink() => new(new StreamEngineSettings
    {
        System = StreamSystem.Flink, EngineUri = _flink.RestUri, AuxiliaryUri = _flink.GatewayUri,
        PollInterval = TimeSpan.FromMilliseconds(20), RequestTimeout = TimeSpan.FromSeconds(10),
    });

    private ArroyoEngine Arroyo(IReadOnlyList<Uri> nodes) => new(new StreamEngineSettings
    {
        System = StreamSystem.Arroyo, EngineUri = _arroyo.ApiUri, AuxiliaryUri = _arroyo.AdminUri, NodeAdminUris = nodes,
        PollInterval = TimeSpan.FromMilliseconds(20), RequestTimeout = TimeSpan.FromSeconds(10),
    });

    private static async Task<StreamJobHandle> RunningAsync(IStreamEngine engine, string sql, int parallelism)
    {
        var job = await engine.SubmitAsync(new StreamJobRequest($"nexmark-q0-p{parallelism}", sql, parallelism), CancellationToken.None);
        await engine.WaitAsync(job, s => s.State == StreamJobState.Running, TimeSpan.FromSeconds(10), CancellationToken.None);
        return job;
    }

    [Fact]
    public async Task Flink_Placement_ReadsEverySubtasksHostAndTaskManager_FromTheVertexDetails()
    {
        using var engine = Flink();
        var job = await RunningAsync(engine, FlinkSql, 9);

        var rows = await engine.GetPlacementAsync(job, CancellationToken.None);

        Assert.Equal(18, rows.Count); // 2 vertices × 9 subtasks
        Assert.Equal(2, rows.Select(r => r.OperatorId).Distinct().Count());
        Assert.Contains(rows, r => r.OperatorName.StartsWith("Source:", StringComparison.Ordinal));
        Assert.All(rows, r => Assert.Equal("RUNNING", r.Status));
        Assert.All(rows, r => Assert.Equal("VertexSubtasks", r.Evidence));
        Assert.All(rows, r => Assert.DoesNotContain(':', r.Host));
        var first = rows.Where(r => r.OperatorId == rows[0].OperatorId).OrderBy(r => r.Subtask).ToList();
        Assert.Equal(Enumerable.Range(0, 9), first.Select(r => r.Subtask));
        Assert.Equal(Enumerable.Range(1, 9).Select(FlinkStandIn.TaskManagerHost), first.Select(r => r.Host));
        Assert.All(first, r => Assert.StartsWith(r.Host + ":6122-", r.Worker));
        Assert.Contains(_flink.RestRequests, r => r.Method == "GET" && r.Path == $"/jobs/{job.JobId}/vertices/{rows[0].OperatorId}");

        var checks = SubtaskPlacementCheck.Evaluate(StreamSystem.Flink, job.JobId, rows, Controller, FlinkWorkers, 9, 1);
        Assert.Equal(10, checks.Count);
        Assert.All(checks, c => Assert.True(c.Passed, c.Node + ": " + c.Detail));
        Assert.All(checks, c => Assert.Equal(SubtaskPlacementCheck.CheckName, c.Check));
        Assert.Contains("2 subtasks", checks.Single(c => c.Node == "pi2").Detail);
        Assert.Contains("18 subtasks", checks.Single(c => c.Node == "pi1").Detail);
    }

    [Fact]
    public async Task Flink_EverySubtaskOnTheJobManagerHost_FailsEveryWorkerAndTheSummary()
    {
        _flink.PlaceSubtask = _ => 0; // every subtask reported on 192.168.2.70, the controller
        using var engine = Flink();
        var job = await RunningAsync(engine, FlinkSql, 9);

        var checks = await SubtaskPlacementCheck.RunAsync(engine, job, Controller, FlinkWorkers, 0, 1, CancellationToken.None);

        Assert.All(checks, c => Assert.False(c.Passed, c.Node + ": " + c.Detail));
        Assert.All(checks, c => Assert.False(c.Skipped));
        Assert.Contains("18 on the controller", checks.Single(c => c.Node == "pi1").Detail);
        Assert.Contains("0/9 workers busy", checks.Single(c => c.Node == "pi1").Detail);
    }

    [Fact]
    public async Task Flink_EverySubtaskOnOneWorker_PassesThatWorkerOnly()
    {
        _flink.PlaceSubtask = _ => 3;
        using var engine = Flink();
        var job = await RunningAsync(engine, FlinkSql, 9);

        var checks = await SubtaskPlacementCheck.RunAsync(engine, job, Controller, FlinkWorkers, 9, 1, CancellationToken.None);

        Assert.Equal(["pi4"], checks.Where(c => c.Passed).Select(c => c.Node));
        Assert.Contains("1/9 workers busy", checks.Single(c => c.Node == "pi1").Detail);
    }

    [Fact]
    public async Task Flink_LowerParallelism_IdleWorkersPass_WhenEnoughAreBusy()
    {
        using var engine = Flink();
        var job = await RunningAsync(engine, FlinkSql, 4);

        var checks = await SubtaskPlacementCheck.RunAsync(engine, job, Controller, FlinkWorkers, 0, 1, CancellationToken.None);

        Assert.All(checks, c => Assert.True(c.Passed, c.Node + ": " + c.Detail));
        Assert.StartsWith("idle", checks.Single(c => c.Node == "pi10").Detail);
        Assert.Contains("4/9 workers busy (expected at least 4)", checks.Single(c => c.Node == "pi1").Detail);
    }

    [Fact]
    public async Task Placement_OfAJobThatIsNotRunning_IsSkippedNotFailed()
    {
        _flink.StartStates = ["INITIALIZING"];
        using var engine = Flink();
        var job = await engine.SubmitAsync(new StreamJobRequest("nexmark-q0-p9", FlinkSql, 9), CancellationToken.None);

        var checks = await SubtaskPlacementCheck.RunAsync(engine, job, Controller, FlinkWorkers, 9, 1, CancellationToken.None);

        var c = Assert.Single(checks);
        Assert.True(c.Skipped);
        Assert.True(c.Passed);
        Assert.Equal("pi1", c.Node);
        Assert.Contains("INITIALIZING", c.Detail);
        Assert.DoesNotContain(_flink.RestRequests, r => r.Path.Contains("/vertices/", StringComparison.Ordinal));
    }

    [Fact]
    public void Skip_WithoutAJob_IsReportedAsSkipped()
    {
        var c = SubtaskPlacementCheck.Skip("pi1", "no job given");
        Assert.Equal((SubtaskPlacementCheck.CheckName, "pi1", true, true), (c.Check, c.Node, c.Passed, c.Skipped));
        Assert.StartsWith("skipped:", c.Detail);
    }

    [Fact]
    public async Task Arroyo_Placement_ReadsRunningWorkersFromEveryNodesAdminMetrics()
    {
        var nodes = _arroyo.AddNodes(9);
        using var engine = Arroyo(nodes);
        var job = await RunningAsync(engine, ArroyoSql, 9);

        var rows = await engine.GetPlacementAsync(job, CancellationToken.None);

        Assert.Equal(9, rows.Count);
        Assert.Equal(nodes.Select(n => n.Authority), rows.Select(r => r.Worker));
        Assert.All(rows, r => Assert.Equal((1, -1, "NodeRunningWorkers", job.JobId), (r.Workers, r.Subtask, r.Evidence, r.JobId)));
        Assert.All(_arroyo.Nodes, n => Assert.Contains(n.Requests, r => r.Path == "/metrics"));

        var workers = nodes.Select((n, i) => new Node($"pi{i + 2}", n.Authority)).ToList();
        var checks = SubtaskPlacementCheck.Evaluate(StreamSystem.Arroyo, job.JobId, rows, new Node("pi1", "192.168.2.70"), workers, 9, 1);
        Assert.All(checks, c => Assert.True(c.Passed, c.Node + ": " + c.Detail));
        Assert.Contains(ArroyoEngine.RunningWorkersMetric, checks.Single(c => c.Node == "pi1").Detail);
    }

    [Fact]
    public async Task Arroyo_AllWorkersOnTheController_NodesIdle_FailsTheCheck()
    {
        var nodes = _arroyo.AddNodes(3);
        _arroyo.RunningWorkersOn = _ => 0; // the process scheduler: workers run beside the controller
        using var engine = Arroyo(nodes);
        var job = await RunningAsync(engine, ArroyoSql, 3);
        var workers = nodes.Select((n, i) => new Node($"pi{i + 2}", n.Authority)).ToList();

        var checks = await SubtaskPlacementCheck.RunAsync(engine, job, new Node("pi1", "192.168.2.70"), workers, 3, 1, CancellationToken.None);

        Assert.Equal(4, checks.Count);
        Assert.All(checks, c => Assert.False(c.Passed, c.Node + ": " + c.Detail));
        Assert.Contains("no running workers", checks.Single(c => c.Node == "pi1").Detail);
    }

    [Fact]
    public async Task Arroyo_IdleNodesThatNeverRanAWorker_HaveNoGauge_AndCountZero_NotAnError()
    {
        var nodes = _arroyo.AddNodes(4);
        using var engine = Arroyo(nodes);
        var job = await RunningAsync(engine, ArroyoSql, 2); // two workers: nodes 2 and 3 stay idle

        using (var http = new HttpClient()) // 0.11 (arroyo-node lib.rs): the gauge appears only with the first worker
            Assert.DoesNotContain(ArroyoEngine.RunningWorkersMetric, await http.GetStringAsync(new Uri(nodes[3], "metrics")));
        var rows = await engine.GetPlacementAsync(job, CancellationToken.None);

        Assert.Equal(nodes.Take(2).Select(n => n.Authority), rows.Select(r => r.Worker));
        Assert.Contains(_arroyo.Nodes[3].Requests, r => r.Path == "/name");
    }

    [Fact]
    public async Task Arroyo_ARestartedNode_LosesItsGauge_UntilItRunsAWorkerAgain()
    {
        var nodes = _arroyo.AddNodes(2);
        using var engine = Arroyo(nodes);
        var job = await RunningAsync(engine, ArroyoSql, 2);
        Assert.Equal(2, (await engine.GetPlacementAsync(job, CancellationToken.None)).Count);
        _arroyo.RunningWorkersOn = k => 0;
        _arroyo.RestartNode(1);
        var rows = await engine.GetPlacementAsync(job, CancellationToken.None);
        Assert.Empty(rows);
    }

    [Fact]
    public async Task Arroyo_NodeWithoutTheGauge_IsABadResponse()
    {
        using var engine = Arroyo([_arroyo.AdminUri]); // the controller's admin port has no arroyo_node_running_workers
        var job = await RunningAsync(engine, ArroyoSql, 1);

        var ex = await Assert.ThrowsAsync<PiBenchException>(() => engine.GetPlacementAsync(job, CancellationToken.None));
        Assert.Equal(EngineErrorIds.BadResponse, ex.ErrorId);
    }

    [Theory]
    [InlineData("10.0.0.5:36423", "10.0.0.5")]
    [InlineData("pi3", "pi3")]
    [InlineData("[::1]:8081", "::1")]
    [InlineData("fe80::1", "fe80::1")]
    public void StripPort_RemovesOnlyAPort(string input, string expected) => Assert.Equal(expected, FlinkEngine.StripPort(input));
}
