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
/// What tests/pester/StreamCluster.Tests.ps1 (real pwsh, same lab) does not cover: container settings, a node that is
/// down, image distribution and Ctrl+C during an install. Install-/Get-/Test-/Uninstall-StreamCluster, Get-StreamClusterLog
/// and Install-PiDocker against the deployment lab:
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
}
