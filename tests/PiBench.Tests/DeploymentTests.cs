using System.Management.Automation;
using PiBench.Tests.Harness;
using PiBench.Tests.Lab;

using Xunit.Abstractions;

namespace PiBench.Tests;

/// <summary>The deployment lab as an xunit fixture: three nodes, stand-ins tagged with the staged module's pinned names.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class DeployLabFixture() : DeployLab(3, DockerLab.ReadPinnedImages(Path.Combine(StagedModule.Directory, "dependencies", "PiBench.Core.dll")));

[CollectionDefinition("deploy")]
public sealed class DeployCollection : ICollectionFixture<ModuleFixture>, ICollectionFixture<DeployLabFixture> { }

/// <summary>
/// Install-/Get-/Test-/Uninstall-StreamCluster, Get-StreamClusterLog and Install-PiDocker against the deployment lab:
/// real sshd per node, real private dockerd per node reached with Docker over SSH, stand-in images tagged with the
/// pinned names. Each test starts from a clean cluster (images only on the controller).
/// </summary>
[Collection("deploy")]
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class DeploymentTests : IDisposable
{
    private readonly ModuleFixture _fx;
    private readonly DeployLab _lab;
    private readonly ITestOutputHelper _out;

    public DeploymentTests(ModuleFixture fx, DeployLabFixture lab, ITestOutputHelper output)
    {
        _fx = fx;
        _lab = lab;
        _out = output;
        Environment.SetEnvironmentVariable("PIBENCH_READY_TIMEOUT", "30");
        _lab.Reset();
    }

    public void Dispose() { }

    private PsResult Run(string script, string? topology = null)
    {
        var sw = System.Diagnostics.Stopwatch.StartNew();
        var r = _fx.Run(script, new Dictionary<string, object?> { ["topo"] = topology ?? _lab.TopologyPath }, TimeSpan.FromMinutes(2));
        _out.WriteLine($"{sw.ElapsedMilliseconds,6} ms  {script}");
        foreach (var e in r.Errors) _out.WriteLine($"error: {e.FullyQualifiedErrorId}: {e}");
        return r;
    }

    /// <summary>No errors: the adapters list the running pipelines (the lab's engine stand-ins answer empty lists).</summary>
    private static PsResult AssertUninstallOk(PsResult r) => r.AssertNoErrors();

    private static T P<T>(PSObject o, string name) => (T)Convert.ChangeType(o.Properties[name].Value, typeof(T));

    private string Inspect(int node, string container, string format) => _lab.Docker.Docker(node, $"inspect --format '{format}' {container}");

    [Fact]
    public void Install_Converges_AndASecondRunChangesNothing()
    {
        var first = Run("Install-StreamCluster -System Arroyo -Topology $topo").AssertNoErrors();
        var cluster = Assert.Single(first.Output);
        Assert.Equal("PiBench.Core.Deployment.StreamCluster", cluster.TypeNames[0]);
        Assert.True(P<bool>(cluster, "Ready"));
        Assert.Equal(_lab.NodeCount + 2, P<int>(cluster, "Services")); // kafka, minio, controller, one node per worker
        Assert.True(P<int>(cluster, "Changed") > 0);
        Assert.Equal(_lab.Pinned.Arroyo, P<string>(cluster, "EngineImage"));
        Assert.Equal(_lab.Pinned.Kafka, P<string>(cluster, "KafkaImage"));

        var checks = Run("Test-StreamCluster -Topology $topo").AssertNoErrors().Output;
        foreach (var c in checks) _out.WriteLine($"{P<string>(c, "Check")} {P<string>(c, "Node")} {P<bool>(c, "Passed")} {P<string>(c, "Detail")}");
        Assert.All(checks, c => Assert.True(P<bool>(c, "Passed"), P<string>(c, "Check") + ": " + P<string>(c, "Detail")));
        Assert.Contains(checks, c => P<string>(c, "Check") == "ArroyoRegisteredSlots" && P<string>(c, "Detail").StartsWith($"{_lab.NodeCount - 1} slot"));
        Assert.Contains(checks, c => P<string>(c, "Check") == "KafkaMetadata" && P<string>(c, "Detail").Contains("1 broker(s)"));
        Assert.Equal(_lab.NodeCount - 1, checks.Count(c => P<string>(c, "Check") == "ArroyoNodeAdmin"));

        var ids = Enumerable.Range(0, _lab.NodeCount).Select(i => _lab.Docker.Docker(i, "ps -aq --no-trunc")).ToList();
        var second = Run("Install-StreamCluster -System Arroyo -Topology $topo").AssertNoErrors();
        Assert.Equal(0, P<int>(second.Output[0], "Changed"));
        Assert.Equal("no changes", P<string>(second.Output[0], "Summary"));
        Assert.Equal(ids, Enumerable.Range(0, _lab.NodeCount).Select(i => _lab.Docker.Docker(i, "ps -aq --no-trunc")).ToList()); // same containers
    }

    [Fact]
    public void ContainerSettings_MatchTheTopology()
    {
        var topo = _lab.WriteTopology(Path.Combine(_lab.Root, "slots2.yaml"), null, arroyoSlots: 2, nodeMemoryMb: 700);
        Run("Install-StreamCluster -System Arroyo -Topology $topo", topo).AssertNoErrors();
        var pi1 = _lab.Nodes[0].Address;

        // A worker: node scheduler's counterpart, pointed at the controller, slots and memory from the topology.
        var env = Inspect(1, "pibench-arroyo-node", "{{range .Config.Env}}{{println .}}{{end}}");
        Assert.Contains($"ARROYO__CONTROLLER_ENDPOINT=http://{pi1}:5116", env);
        Assert.Contains("ARROYO__NODE__TASK_SLOTS=2", env);
        Assert.DoesNotContain("ARROYO__MEMORY_PER_SLOT_MB", env); // not an Arroyo 0.11 setting: the node would exit
        Assert.Contains($"ARROYO__CHECKPOINT_URL=s3::http://{pi1}:9000/arroyo/checkpoints", env);
        Assert.Equal("host", Inspect(1, "pibench-arroyo-node", "{{.HostConfig.NetworkMode}}"));
        Assert.Equal((700 * 1024L * 1024L).ToString(), Inspect(1, "pibench-arroyo-node", "{{.HostConfig.Memory}}"));
        Assert.Equal("always", Inspect(1, "pibench-arroyo-node", "{{.HostConfig.RestartPolicy.Name}}"));
        Assert.Equal("true arroyo-node arroyo pi2", Inspect(1, "pibench-arroyo-node",
            "{{index .Config.Labels \"pibench.managed\"}} {{index .Config.Labels \"pibench.service\"}} {{index .Config.Labels \"pibench.system\"}} {{index .Config.Labels \"pibench.node\"}}"));

        // The controller: node scheduler (the original never set it), Kafka listener on the controller address.
        Assert.Contains("ARROYO__CONTROLLER__SCHEDULER=node", Inspect(0, "pibench-arroyo-controller", "{{range .Config.Env}}{{println .}}{{end}}"));
        Assert.Contains($"KAFKA_ADVERTISED_LISTENERS=PLAINTEXT://{pi1}:9094", Inspect(0, "pibench-kafka", "{{range .Config.Env}}{{println .}}{{end}}"));
        Assert.Equal("unless-stopped", Inspect(0, "pibench-kafka", "{{.HostConfig.RestartPolicy.Name}}"));
        // The data directory is the named volume (the image's other VOLUMEs get anonymous ones, removed with the container).
        Assert.Equal("pibench-kafka-data", Inspect(0, "pibench-kafka", "{{range .Mounts}}{{if eq .Destination \"/var/lib/kafka/data\"}}{{.Name}}{{end}}{{end}}"));
        Assert.Equal("true", _lab.Docker.Docker(0, "volume inspect --format '{{index .Labels \"pibench.managed\"}}' pibench-kafka-data"));

        // Get-StreamCluster reads the same back: one object per service and node.
        var services = Run("Get-StreamCluster -Topology $topo", topo).AssertNoErrors().Output;
        Assert.Equal(_lab.NodeCount + 2, services.Count);
        Assert.All(services, s => Assert.Equal("host", P<string>(s, "NetworkMode")));
        Assert.All(services, s => Assert.Equal("running", P<string>(s, "State")));
        var node = services.Single(s => P<string>(s, "Service") == "arroyo-node" && P<string>(s, "Node") == "pi3");
        Assert.Equal(700, P<long>(node, "MemoryLimitMB"));
        Assert.NotNull(node.Properties["StartedAt"].Value);
        // Same property set on every object (Export-Csv).
        var names = services.Select(s => string.Join(",", s.Properties.Select(p => p.Name))).Distinct();
        Assert.Single(names);
    }

    [Fact]
    public void ANodeThatIsDown_GetsItsOwnError_AndARerunCompletesIt()
    {
        var down = _lab.WriteTopology(Path.Combine(_lab.Root, "down.yaml"), new Dictionary<string, int> { ["pi3"] = 2299 });
        var r = Run("Install-StreamCluster -System Arroyo -Topology $topo", down);
        Assert.Null(r.Terminating);
        var error = Assert.Single(r.Errors);
        Assert.Equal("NodeUnreachable,PiBench.Commands.InstallStreamClusterCommand", error.FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.ConnectionError, error.CategoryInfo.Category);
        Assert.Equal("pi3", error.TargetObject);
        Assert.Contains("pi3", error.Exception.Message);
        var cluster = Assert.Single(r.Output);
        Assert.False(P<bool>(cluster, "Ready"));
        Assert.Equal("running", Inspect(1, "pibench-arroyo-node", "{{.State.Status}}")); // pi2 went on
        Assert.False(_lab.Docker.TryDocker(2, "inspect pibench-arroyo-node", out _));

        var again = Run("Install-StreamCluster -System Arroyo -Topology $topo").AssertNoErrors();
        Assert.True(P<bool>(again.Output[0], "Ready"));
        Assert.Equal("running", Inspect(2, "pibench-arroyo-node", "{{.State.Status}}"));
        Assert.Equal(2, P<int>(again.Output[0], "Changed")); // only pi3: load the image, create its node
    }

    [Fact]
    public void ImageDistribution_SkipsNodesWithTheSameImage_AndLoadsTheOthers()
    {
        _lab.Docker.CopyImage(0, 1, _lab.Pinned.Arroyo); // pi2 already holds the same image id; pi3 has nothing
        var before = _lab.Docker.ImageId(1, _lab.Pinned.Arroyo);
        var r = Run("Install-StreamCluster -System Arroyo -Topology $topo -Verbose").AssertNoErrors();
        Assert.Contains(r.Verbose, v => v.StartsWith($"pi2: {_lab.Pinned.Arroyo} already present"));
        Assert.Contains(r.Verbose, v => v.StartsWith($"pi3: loaded {_lab.Pinned.Arroyo}"));
        Assert.DoesNotContain(r.Verbose, v => v.StartsWith("pi2: loaded"));
        var source = _lab.Docker.ImageId(0, _lab.Pinned.Arroyo);
        Assert.Equal(source, _lab.Docker.ImageId(2, _lab.Pinned.Arroyo));
        Assert.Equal(before, _lab.Docker.ImageId(1, _lab.Pinned.Arroyo));
        Assert.Null(_lab.Docker.ImageId(1, _lab.Pinned.Kafka)); // Kafka and MinIO stay on the controller
        Assert.Contains(r.Progress, p => p.StatusDescription.Contains("MB/s") && p.Activity.Contains("pi3"));
    }

    [Fact]
    public void Logs_ComeBack_AndFollowStopsCleanly()
    {
        Run("Install-StreamCluster -System Arroyo -Topology $topo").AssertNoErrors();
        var logs = Run("Get-StreamClusterLog -Service arroyo-node -Tail 20 -Topology $topo").AssertNoErrors().Output;
        Assert.Contains(logs, l => P<string>(l, "Node") == "pi2" && P<string>(l, "Line").Contains("registered"));
        Assert.Contains(logs, l => P<string>(l, "Node") == "pi3" && P<string>(l, "Line").Contains("registered"));
        var one = Run("Get-StreamClusterLog -Service arroyo-controller -Node pi1 -Topology $topo").AssertNoErrors().Output;
        Assert.Contains(one, l => P<string>(l, "Line").Contains("scheduler=node"));

        var missing = Run("Get-StreamClusterLog -Service flink-jobmanager -Topology $topo");
        Assert.Equal("ServiceNotFound,PiBench.Commands.GetStreamClusterLogCommand", Assert.Single(missing.Errors).FullyQualifiedErrorId);
        var bad = Run("Get-StreamClusterLog -Service nope -Topology $topo");
        Assert.Equal("UnknownService,PiBench.Commands.GetStreamClusterLogCommand", Assert.Single(bad.Errors).FullyQualifiedErrorId);

        // -Follow streams until stopped (Ctrl+C = PowerShell.Stop): lines arrive, then the pipeline ends promptly.
        using var ps = PowerShell.Create(_fx.State);
        ps.Runspace.SessionStateProxy.SetVariable("topo", _lab.TopologyPath);
        ps.AddScript("Get-StreamClusterLog -Service arroyo-node -Node pi2 -Follow -Topology $topo");
        var output = new PSDataCollection<PSObject>();
        var async = ps.BeginInvoke<PSObject, PSObject>(null, output);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (output.Count == 0 && DateTime.UtcNow < deadline && !async.IsCompleted) Thread.Sleep(100);
        Assert.NotEmpty(output);
        var sw = System.Diagnostics.Stopwatch.StartNew();
        ps.Stop();
        Assert.True(async.AsyncWaitHandle.WaitOne(TimeSpan.FromSeconds(10)));
        _out.WriteLine($"follow stopped after {sw.ElapsedMilliseconds} ms with {output.Count} lines");
        Assert.Equal(PSInvocationState.Stopped, ps.InvocationStateInfo.State);
    }

    [Fact]
    public void Uninstall_KeepsDataByDefault_AndRemoveDataRemovesIt()
    {
        Run("Install-StreamCluster -System Arroyo -Topology $topo").AssertNoErrors();
        _lab.Docker.Docker(0, "run --rm --network none --entrypoint /bin/sh -v pibench-kafka-data:/d " + _lab.Pinned.Kafka + " -c 'test -f /d/topics/nexmark-events'");

        var removed = AssertUninstallOk(Run("Uninstall-StreamCluster -Topology $topo -Confirm:$false")).Output;
        Assert.Equal(_lab.NodeCount + 2, removed.Count(a => P<string>(a, "Kind") == "RemoveContainer"));
        Assert.DoesNotContain(removed, a => P<string>(a, "Kind") == "RemoveVolume");
        Assert.Empty(Run("Get-StreamCluster -Topology $topo").AssertNoErrors().Output);
        Assert.Contains("pibench-kafka-data", _lab.Docker.Docker(0, "volume ls -q"));
        Assert.NotNull(_lab.Docker.ImageId(1, _lab.Pinned.Arroyo)); // images kept

        // The topics' data survived in the kept volume; a re-install brings the same cluster back.
        _lab.Docker.Docker(0, "run --rm --network none --entrypoint /bin/sh -v pibench-kafka-data:/d " + _lab.Pinned.Kafka + " -c 'test -f /d/topics/nexmark-events'");
        Assert.True(P<bool>(Run("Install-StreamCluster -System Arroyo -Topology $topo").AssertNoErrors().Output[0], "Ready"));

        var wiped = AssertUninstallOk(Run("Uninstall-StreamCluster -RemoveData -Topology $topo -Confirm:$false")).Output;
        Assert.Contains(wiped, a => P<string>(a, "Kind") == "RemoveVolume" && P<string>(a, "Target") == "pibench-kafka-data");
        Assert.Equal("", _lab.Docker.Docker(0, "volume ls -q --filter label=pibench.managed=true"));
    }

    [Fact]
    public void WhatIf_ChangesNothing()
    {
        var r = Run("Install-StreamCluster -System Arroyo -Topology $topo -WhatIf").AssertNoErrors();
        Assert.Empty(r.Output);
        for (var i = 0; i < _lab.NodeCount; i++)
        {
            Assert.Equal("", _lab.Docker.Docker(i, "ps -aq"));
            Assert.Equal("", _lab.Docker.Docker(i, "volume ls -q"));
        }
        Assert.Null(_lab.Docker.ImageId(1, _lab.Pinned.Arroyo));

        Run("Install-StreamCluster -System Arroyo -Topology $topo").AssertNoErrors();
        AssertUninstallOk(Run("Uninstall-StreamCluster -RemoveData -Topology $topo -WhatIf"));
        Assert.Equal(_lab.NodeCount + 2, Run("Get-StreamCluster -Topology $topo").AssertNoErrors().Output.Count);
        Run("Install-StreamCluster -System Flink -Topology $topo -WhatIf").AssertNoErrors();
        Assert.Equal("running", Inspect(0, "pibench-arroyo-controller", "{{.State.Status}}"));
    }

    [Fact]
    public void SwitchingSystems_StopsTheOtherEngine()
    {
        Run("Install-StreamCluster -System Arroyo -Topology $topo").AssertNoErrors();
        var flink = Run("Install-StreamCluster -System Flink -Topology $topo").AssertNoErrors();
        Assert.True(P<bool>(flink.Output[0], "Ready"));
        var services = Run("Get-StreamCluster -Topology $topo").AssertNoErrors().Output;
        Assert.DoesNotContain(services, s => P<string>(s, "System") == "arroyo");
        Assert.Equal(_lab.NodeCount - 1, services.Count(s => P<string>(s, "Service") == "flink-taskmanager"));
        var props = Inspect(2, "pibench-flink-taskmanager", "{{range .Config.Env}}{{println .}}{{end}}");
        Assert.Contains($"jobmanager.rpc.address: {_lab.Nodes[0].Address}", props);
        Assert.Contains($"taskmanager.host: {_lab.Nodes[2].Address}", props);
        Assert.Contains("taskmanager.memory.process.size: 1024m", props);
        var checks = Run("Test-StreamCluster -Topology $topo").AssertNoErrors().Output;
        Assert.Contains(checks, c => P<string>(c, "Check") == "FlinkTaskManagers" && P<bool>(c, "Passed"));
        Assert.All(checks, c => Assert.True(P<bool>(c, "Passed"), P<string>(c, "Check") + ": " + P<string>(c, "Detail")));
    }

    [Fact]
    public void CtrlC_StopsAnInstallCleanly_AndARerunFinishesIt()
    {
        using (var ps = PowerShell.Create(_fx.State))
        {
            ps.Runspace.SessionStateProxy.SetVariable("topo", _lab.TopologyPath);
            ps.AddScript("Install-StreamCluster -System Flink -Topology $topo");
            var async = ps.BeginInvoke();
            // Stop once the install is under way (first containers on the controller), like Ctrl+C.
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (!async.IsCompleted && DateTime.UtcNow < deadline && _lab.Docker.Docker(0, "ps -aq").Length == 0) Thread.Sleep(50);
            var sw = System.Diagnostics.Stopwatch.StartNew();
            ps.Stop();
            Assert.True(async.AsyncWaitHandle.WaitOne(TimeSpan.FromSeconds(30)));
            _out.WriteLine($"stopped after {sw.ElapsedMilliseconds} ms in state {ps.InvocationStateInfo.State}");
            Assert.Contains(ps.InvocationStateInfo.State, new[] { PSInvocationState.Stopped, PSInvocationState.Completed });
        }
        var rerun = Run("Install-StreamCluster -System Flink -Topology $topo").AssertNoErrors();
        Assert.True(P<bool>(rerun.Output[0], "Ready"));
        Assert.Equal(_lab.NodeCount + 3, Run("Get-StreamCluster -Topology $topo").AssertNoErrors().Output.Count(s => P<string>(s, "State") == "running"));
    }

    [Fact]
    public void InstallPiDocker_ReportsNodesThatHaveIt()
    {
        var r = Run("Install-PiDocker -Topology $topo").AssertNoErrors().Output;
        Assert.Equal(_lab.NodeCount, r.Count);
        Assert.All(r, s => Assert.True(P<bool>(s, "Installed")));
        Assert.All(r, s => Assert.Equal("None", P<string>(s, "Action")));
        Assert.All(r, s => Assert.StartsWith("20.", P<string>(s, "Version")));
    }
}
