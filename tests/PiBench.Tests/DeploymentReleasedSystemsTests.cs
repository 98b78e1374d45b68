using System.Management.Automation;
using System.Net;
using System.Net.Sockets;
using PiBench.StandIns;
using PiBench.Tests.Harness;
using PiBench.Tests.Lab;

using Xunit.Abstractions;

namespace PiBench.Tests;

/// <summary>
/// Issue 17 (deployment part) against the deployment lab: what PiBench writes into containers is what the released
/// images honour, readiness means the cluster formed, teardown stops PiBench's pipelines, Kafka recreation leaks no
/// volume, memory limits that the kernel would drop are reported. Stand-ins follow the released sources (Lab/standin).
/// </summary>
[Collection("deploy")]
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class DeploymentReleasedSystemsTests
{
    private readonly ModuleFixture _fx;
    private readonly DeployLab _lab;
    private readonly ITestOutputHelper _out;

    public DeploymentReleasedSystemsTests(ModuleFixture fx, DeployLabFixture lab, ITestOutputHelper output)
    {
        _fx = fx;
        _lab = lab;
        _out = output;
        Environment.SetEnvironmentVariable("PIBENCH_READY_TIMEOUT", "30");
        _lab.Reset();
    }

    private PsResult Run(string script, string? topology = null, Dictionary<string, object?>? vars = null)
    {
        var sw = System.Diagnostics.Stopwatch.StartNew();
        var all = new Dictionary<string, object?>(vars ?? new()) { ["topo"] = topology ?? _lab.TopologyPath };
        var r = _fx.Run(script, all, TimeSpan.FromMinutes(3));
        _out.WriteLine($"{sw.ElapsedMilliseconds,6} ms  {script}");
        foreach (var e in r.Errors) _out.WriteLine($"error: {e.FullyQualifiedErrorId}: {e}");
        foreach (var w in r.Warnings) _out.WriteLine($"warning: {w}");
        return r;
    }

    private static T P<T>(PSObject o, string name) => (T)Convert.ChangeType(o.Properties[name].Value, typeof(T));

    private string Env(int node, string container) => _lab.Docker.Docker(node, $"inspect --format '{{{{range .Config.Env}}}}{{{{println .}}}}{{{{end}}}}' {container}");

    /// <summary>Everything a user can see from a run: objects, errors, warnings, verbose and progress text.</summary>
    private static string Visible(PsResult r) => string.Join("\n",
        r.Output.Select(o => string.Join(" ", o.Properties.Select(p => $"{p.Name}={p.Value}")))
            .Concat(r.Errors.Select(e => e.ToString() + " " + e.Exception.Message + " " + e.ErrorDetails?.RecommendedAction))
            .Concat(r.Warnings).Concat(r.Verbose)
            .Concat(r.Progress.Select(p => p.Activity + " " + p.StatusDescription + " " + p.CurrentOperation)));

    [Fact]
    public void AnOldTopologyWithMemoryPerSlot_IsRefusedWithItsLine()
    {
        var path = _lab.WriteTopology(Path.Combine(_lab.Root, "old-memory.yaml"), null);
        var lines = File.ReadAllLines(path).ToList();
        var at = lines.FindIndex(l => l.StartsWith("  node_memory_mb:", StringComparison.Ordinal));
        lines[at] = "  memory_per_slot_mb: 768";
        File.WriteAllLines(path, lines);
        var r = Run("Install-StreamCluster -System Arroyo -Topology $topo", path);
        var error = r.Terminating is ActionPreferenceStopException or null ? Assert.Single(r.Errors) : null;
        var text = error?.ToString() ?? r.Terminating!.Message;
        var id = error?.FullyQualifiedErrorId ?? (r.Terminating as IContainsErrorRecord)?.ErrorRecord.FullyQualifiedErrorId ?? "";
        Assert.StartsWith("TopologyObsoleteKey,", id);
        Assert.Contains($"{path}:{at + 1}", text);
        Assert.Contains("ARROYO__MEMORY_PER_SLOT_MB", text);
        Assert.Equal("", _lab.Docker.Docker(0, "ps -aq")); // nothing was started
    }

    [Fact]
    public void ArroyoNodes_GetOnlyArroyo011Settings_AndStayUp()
    {
        Run("Install-StreamCluster -System Arroyo -Topology $topo").AssertNoErrors();
        for (var i = 1; i < _lab.NodeCount; i++)
        {
            var env = Env(i, "pibench-arroyo-node");
            Assert.DoesNotContain("ARROYO__MEMORY_PER_SLOT_MB", env);
            Assert.Equal("0", _lab.Docker.Docker(i, "inspect --format '{{.RestartCount}}' pibench-arroyo-node"));
        }
        // The stand-in refuses what 0.11 refuses: the old variable made every node exit (and crash-loop with restart=always).
        var ok = _lab.Docker.TryDocker(1, $"run --rm --network none -e ARROYO__MEMORY_PER_SLOT_MB=768 -e PIBENCH_NODE_ADDRESS=127.0.0.1 {_lab.Pinned.Arroyo} node", out var output);
        Assert.False(ok);
        Assert.Contains("Configuration is invalid!", output);
    }

    [Fact]
    public void FlinkCheckpointsToMinio_WithA1sFetcher_AndTheSecretNeverShows()
    {
        const string secret = "Zq$9-flink-S3cret";
        var vars = new Dictionary<string, object?> { ["sec"] = secret };
        const string cred = "$c = [pscredential]::new('bench', [System.Net.NetworkCredential]::new('', $sec).SecurePassword); ";
        var install = Run(cred + "Install-StreamCluster -System Flink -Topology $topo -MinioCredential $c -Verbose", vars: vars).AssertNoErrors();
        Assert.True(P<bool>(install.Output[0], "Ready"));

        var jm = Env(0, "pibench-flink-jobmanager");
        Assert.Contains("metrics.fetcher.update-interval: 1000", jm);
        Assert.Contains("state.checkpoints.dir: s3://arroyo/flink/checkpoints", jm);
        Assert.Contains($"s3.endpoint: http://{_lab.Nodes[0].Address}:9000", jm);
        Assert.Contains("s3.path.style.access: true", jm);
        Assert.Contains("s3.access-key: bench", jm);
        Assert.Contains("ENABLE_BUILT_IN_PLUGINS=flink-s3-fs-presto-1.18.1.jar", jm);
        var props = jm[jm.IndexOf("FLINK_PROPERTIES=", StringComparison.Ordinal)..];
        Assert.DoesNotContain(secret, props[..props.IndexOf("s3.secret-key", StringComparison.Ordinal)]);
        // The image's entrypoint resolved the secret into flink-conf.yaml and linked the plugin (as flink-docker does).
        var conf = _lab.Docker.Docker(0, "exec pibench-flink-jobmanager cat /opt/flink/conf/flink-conf.yaml");
        Assert.Contains($"s3.secret-key: {secret}", conf);
        _lab.Docker.Docker(0, "exec pibench-flink-jobmanager test -L /opt/flink/plugins/flink-s3-fs-presto-1.18.1/flink-s3-fs-presto-1.18.1.jar");
        var tm = Env(1, "pibench-flink-taskmanager");
        Assert.Contains("state.checkpoints.dir: s3://arroyo/flink/checkpoints", tm);
        Assert.Contains("taskmanager.memory.managed.fraction: 0.05", tm);

        // Nothing a user sees carries the secret: install, status, checks, logs of every Flink service.
        var seen = Visible(install)
            + Visible(Run("Get-StreamCluster -Topology $topo").AssertNoErrors())
            + Visible(Run("Test-StreamCluster -Topology $topo").AssertNoErrors())
            + Visible(Run("'flink-jobmanager','flink-taskmanager','flink-sql-gateway','minio' | % { Get-StreamClusterLog -Service $_ -Topology $topo }").AssertNoErrors())
            + Visible(Run(cred + "Install-StreamCluster -System Flink -Topology $topo -MinioCredential $c -Force -WhatIf", vars: vars).AssertNoErrors());
        Assert.Contains("s3.secret-key, ******", seen); // the JobManager's own log line, masked
        Assert.DoesNotContain(secret, seen);
    }

    [Fact]
    public void Install_WaitsForRegistration_NotForProcesses()
    {
        Environment.SetEnvironmentVariable("PIBENCH_READY_TIMEOUT", "12");
        try
        {
            using var ps = PowerShell.Create(_fx.State);
            ps.Runspace.SessionStateProxy.SetVariable("topo", _lab.TopologyPath);
            ps.AddScript("Install-StreamCluster -System Arroyo -Topology $topo");
            var async = ps.BeginInvoke();
            // As soon as the controller runs, it refuses registrations: every node is up (admin /status ok) but none registers.
            var deadline = DateTime.UtcNow.AddSeconds(60);
            var injected = false;
            while (!injected && !async.IsCompleted && DateTime.UtcNow < deadline)
            {
                injected = _lab.Docker.TryDocker(0, "exec pibench-arroyo-controller touch /tmp/fault-refuse-registrations", out _);
                if (!injected) Thread.Sleep(50);
            }
            Assert.True(injected);
            var output = ps.EndInvoke(async);
            var errors = ps.Streams.Error.ToList();
            foreach (var e in errors) _out.WriteLine($"error: {e.FullyQualifiedErrorId}: {e}");
            var notReady = Assert.Single(errors, e => e.FullyQualifiedErrorId.StartsWith("ServiceNotReady,", StringComparison.Ordinal));
            Assert.Contains("ArroyoRegisteredSlots", notReady.Exception.Message);
            Assert.Equal("pi1", notReady.TargetObject);
            Assert.False(P<bool>(Assert.Single(output), "Ready"));
            // The processes were up all along: only registration was missing.
            Assert.Equal("running", _lab.Docker.Docker(2, "inspect --format '{{.State.Status}}' pibench-arroyo-node"));
        }
        finally
        {
            Environment.SetEnvironmentVariable("PIBENCH_READY_TIMEOUT", "30");
        }
    }

    [Fact]
    public void KafkaAnswersMetadata_ToolsGetASmallHeap_AndRecreationLeaksNoVolume()
    {
        var first = Run("Install-StreamCluster -System Arroyo -Topology $topo -Verbose").AssertNoErrors();
        Assert.Contains(first.Verbose, v => v.Contains("KafkaMetadata") && v.Contains("1 broker(s)"));
        var brokerHeap = Env(0, "pibench-kafka").Split('\n').Single(l => l.StartsWith("KAFKA_HEAP_OPTS=", StringComparison.Ordinal));
        var toolHeap = _lab.Docker.Docker(0, "exec pibench-kafka cat /tmp/kafka-tool-heap");
        Assert.Equal("-Xms32m -Xmx128m", toolHeap);
        Assert.NotEqual(brokerHeap["KAFKA_HEAP_OPTS=".Length..], toolHeap);
        Assert.Equal(2, _lab.Docker.Docker(0, "volume ls -q").Split('\n').Count(v => v.Length == 64)); // the image's two anonymous volumes

        Run("Install-StreamCluster -System Arroyo -Topology $topo -Force").AssertNoErrors();
        Assert.Equal("", _lab.Docker.Docker(0, "volume ls -q --filter dangling=true"));
        Assert.Equal(2, _lab.Docker.Docker(0, "volume ls -q").Split('\n').Count(v => v.Length == 64));
    }

    [Fact]
    public void MemoryCgroupOff_IsReportedByTestPiNode_AndInstallWarns()
    {
        var nodes = Run("Test-PiNode -Topology $topo").AssertNoErrors();
        foreach (var n in nodes.Output)
            Assert.Equal(!DeployLab.MemoryCgroupOff.Contains(P<string>(n, "Node")), P<bool>(n, "MemoryCgroup"));
        Assert.Contains(nodes.Warnings, w => w.StartsWith("pi3: ") && w.Contains("cmdline.txt"));

        var install = Run("Install-StreamCluster -System Arroyo -Topology $topo -WhatIf").AssertNoErrors();
        var warning = Assert.Single(install.Warnings, w => w.Contains("memory"));
        Assert.StartsWith("pi3: the kernel's memory cgroup controller is off", warning);
        Assert.Contains("cgroup_enable=memory", warning);
    }

    [Fact]
    public void Uninstall_StopsPiBenchsPipelines_BeforeTheTeardown()
    {
        Run("Install-StreamCluster -System Arroyo -Topology $topo").AssertNoErrors();
        // The engine's REST API: the Arroyo stand-in (tests/StandIns) behind pi1's address on its own port.
        using var arroyo = new ArroyoStandIn { CheckSql = false }; // the pipelines' SQL is not what this test is about
        using var relay = new TcpRelay(IPAddress.Parse(_lab.Nodes[0].Address), arroyo.ApiUri.Port);
        using var http = new HttpClient { BaseAddress = arroyo.ApiUri };
        string Create(string name) =>
            System.Text.Json.Nodes.JsonNode.Parse(http.PostAsync("api/v1/pipelines", new StringContent(
                $"{{\"name\":\"{name}\",\"query\":\"INSERT INTO o SELECT * FROM i\",\"parallelism\":2}}", System.Text.Encoding.UTF8, "application/json"))
                .GetAwaiter().GetResult().Content.ReadAsStringAsync().GetAwaiter().GetResult())!["id"]!.GetValue<string>();
        var ours = Create("nexmark-q1-p2");
        var theirs = Create("someone-elses");
        string State(string id) => System.Text.Json.Nodes.JsonNode.Parse(http.GetStringAsync($"api/v1/pipelines/{id}/jobs").GetAwaiter().GetResult())!["data"]![0]!["state"]!.GetValue<string>();
        for (var i = 0; i < 5; i++) { State(ours); State(theirs); } // both Running

        var topo = _lab.WriteTopology(Path.Combine(_lab.Root, "engine-relay.yaml"), null, arroyoExtra: $"  api_port: {relay.Port}");
        var r = Run("Uninstall-StreamCluster -Topology $topo -Confirm:$false", topo);
        r.AssertNoErrors();
        var stop = Assert.Single(r.Output, a => P<string>(a, "Kind") == "StopJob");
        Assert.Contains("nexmark-q1-p2", P<string>(stop, "Target"));
        Assert.Contains(State(ours), new[] { "Stopping", "Stopped" });
        Assert.Equal("Running", State(theirs)); // only PiBench's pipelines
        var kinds = r.Output.Select(a => P<string>(a, "Kind")).ToList();
        Assert.True(kinds.IndexOf("StopJob") < kinds.IndexOf("RemoveContainer")); // stopped before the teardown
        Assert.Empty(Run("Get-StreamCluster -Topology $topo", topo).AssertNoErrors().Output);
    }

    [Fact]
    public void ADigestPinnedImage_IsPulledByDigest_AndDistributedUnderATagNamingIt()
    {
        using var registry = new LabRegistry("pibench/arroyo", _lab.Docker.StandInTar(), "/standin/arroyo");
        var topo = _lab.WriteTopology(Path.Combine(_lab.Root, "digest.yaml"), null, arroyoExtra: $"  image: {registry.Reference}");
        var r = Run("Install-StreamCluster -System Arroyo -Topology $topo -Verbose", topo).AssertNoErrors();
        Assert.True(P<bool>(Assert.Single(r.Output), "Ready"));
        lock (registry.Requests) Assert.Contains($"GET /v2/pibench/arroyo/manifests/{registry.ManifestDigest}", registry.Requests);
        var local = $"127.0.0.1:{registry.Port}/pibench/arroyo:{registry.ManifestDigest.Replace(':', '-')}";
        var id = _lab.Docker.ImageId(0, registry.Reference); // the digest resolves on the controller (RepoDigests)
        Assert.NotNull(id);
        Assert.Equal(id, _lab.Docker.ImageId(0, local));
        for (var i = 1; i < _lab.NodeCount; i++)
        {
            Assert.Equal(id, _lab.Docker.ImageId(i, local)); // same image id on every node
            Assert.Equal(local, _lab.Docker.Docker(i, "inspect --format '{{.Config.Image}}' pibench-arroyo-node"));
            Assert.Equal("running", _lab.Docker.Docker(i, "inspect --format '{{.State.Status}}' pibench-arroyo-node"));
        }
        var again = Run("Install-StreamCluster -System Arroyo -Topology $topo", topo).AssertNoErrors();
        Assert.Equal(0, P<int>(again.Output[0], "Changed"));
    }

    /// <summary>Relays TCP connections from an address of the lab (a simulated Pi) to a local port.</summary>
    private sealed class TcpRelay : IDisposable
    {
        private readonly TcpListener _listener;
        private readonly CancellationTokenSource _stop = new();

        public TcpRelay(IPAddress address, int targetPort)
        {
            _listener = new TcpListener(address, 0);
            _listener.Start();
            Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
            _ = Task.Run(async () =>
            {
                while (!_stop.IsCancellationRequested)
                {
                    TcpClient client;
                    try { client = await _listener.AcceptTcpClientAsync(_stop.Token); }
                    catch (Exception) { return; }
                    _ = Task.Run(async () =>
                    {
                        using var c = client;
                        using var target = new TcpClient();
                        try
                        {
                            await target.ConnectAsync(IPAddress.Loopback, targetPort, _stop.Token);
                            // The stand-in's HttpListener answers only requests addressed to 127.0.0.1:<its port>: rewrite the Host
                            // header the client wrote for this relay (requests here are small; one header per read).
                            var from = System.Text.Encoding.ASCII.GetBytes($"Host: {address}:{Port}\r\n");
                            var to = System.Text.Encoding.ASCII.GetBytes($"Host: 127.0.0.1:{targetPort}\r\n");
                            var a = Task.Run(async () =>
                            {
                                var buf = new byte[64 * 1024];
                                int n;
                                while ((n = await c.GetStream().ReadAsync(buf, _stop.Token)) > 0)
                                {
                                    var chunk = buf.AsSpan(0, n);
                                    var at = chunk.IndexOf(from);
                                    var output = at < 0 ? chunk.ToArray() : [.. chunk[..at], .. to, .. chunk[(at + from.Length)..]];
                                    await target.GetStream().WriteAsync(output, _stop.Token);
                                }
                            });
                            var b = target.GetStream().CopyToAsync(c.GetStream(), _stop.Token);
                            await Task.WhenAny(a, b);
                        }
                        catch (Exception) { /* connection ended */ }
                    });
                }
            });
        }

        public int Port { get; }

        public void Dispose()
        {
            _stop.Cancel();
            _listener.Stop();
        }
    }
}
