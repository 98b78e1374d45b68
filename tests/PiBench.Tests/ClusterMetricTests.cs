using System.Management.Automation;
using PiBench.Tests.Harness;
using PiBench.Tests.Lab;

namespace PiBench.Tests;

/// <summary>Get-ClusterMetric against real sshd nodes on 127.0.0.70-72 (pi3 has a fake vcgencmd reporting 0x50005).</summary>
[Collection("module")]
public sealed class ClusterMetricTests(ModuleFixture fx, SshLabFixture lab) : IClassFixture<SshLabFixture>
{
    private Dictionary<string, object?> Vars(params (string, object?)[] extra)
    {
        var d = new Dictionary<string, object?> { ["topo"] = lab.Lab.TopologyPath };
        foreach (var (k, v) in extra) d[k] = v;
        return d;
    }

    [Fact]
    public void Once_GivesOneSamplePerNode_AndReportsThrottledFromVcgencmd()
    {
        var r = fx.Run("Get-ClusterMetric -Topology $topo -Once -IntervalSeconds 0.5", Vars()).AssertNoErrors();
        Assert.Equal(3, r.Output.Count);
        Assert.Equal("PiBench.Core.Benchmarking.ClusterMetricSample", r.Output[0].TypeNames[0]);
        var byNode = r.Output.ToDictionary(o => (string)o.Properties["Node"].Value);
        Assert.Equal(new[] { "pi1", "pi2", "pi3" }, byNode.Keys.Order());
        foreach (var (name, o) in byNode)
        {
            Assert.InRange((double)o.Properties["IntervalSeconds"].Value, 0.3, 5);
            Assert.InRange((double)o.Properties["CpuPercent"].Value, 0, 100);
            Assert.Equal(Environment.ProcessorCount, (int)o.Properties["CpuCores"].Value);
            Assert.Equal(Environment.ProcessorCount, ((string)o.Properties["CpuPercentPerCore"].Value).Split(';').Length);
            Assert.True((double)o.Properties["MemoryUsedMB"].Value > 0, name);
        }
        Assert.Equal(true, byNode["pi3"].Properties["Throttled"].Value);
        Assert.Equal(true, byNode["pi3"].Properties["ThrottledSinceBoot"].Value);
        Assert.Equal("0x50005", byNode["pi3"].Properties["ThrottledFlags"].Value);
        Assert.Equal(71.5, byNode["pi3"].Properties["TemperatureC"].Value);
        Assert.Null(byNode["pi2"].Properties["Throttled"].Value);
        Assert.Equal("", byNode["pi2"].Properties["ThrottledFlags"].Value);
    }

    [Fact]
    public void Count_StreamsSamples_AndAppendsThemToPath_OverOneCommandPerNode()
    {
        var path = Path.Combine(lab.Lab.Root, $"metrics-{Guid.NewGuid():N}.jsonl");
        var r = fx.Run("Get-ClusterMetric -Topology $topo -NodeName pi2 -Count 3 -IntervalSeconds 0.3 -Path $path", Vars(("path", path))).AssertNoErrors();
        Assert.Equal(3, r.Output.Count);
        Assert.All(r.Output, o => Assert.Equal("pi2", o.Properties["Node"].Value));
        Assert.Equal(new long[] { 1, 2, 3 }, r.Output.Select(o => (long)o.Properties["Sequence"].Value));
        var lines = File.ReadAllLines(path).Where(l => l.Length > 0).ToList();
        Assert.Equal(3, lines.Count);
        Assert.All(lines, l => Assert.Contains("\"Node\":\"pi2\"", l));
    }

    [Fact]
    public void Continuous_StopsOnCtrlC_KeepingWhatArrived()
    {
        var path = Path.Combine(lab.Lab.Root, $"metrics-{Guid.NewGuid():N}.jsonl");
        using var ps = PowerShell.Create(fx.State);
        ps.AddScript("Get-ClusterMetric -Topology $args[0] -NodeName pi1 -Continuous -IntervalSeconds 0.2 -Path $args[1]")
            .AddArgument(lab.Lab.TopologyPath).AddArgument(path);
        var output = new PSDataCollection<PSObject>();
        var async = ps.BeginInvoke<PSObject, PSObject>(null, output);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (output.Count < 3 && DateTime.UtcNow < deadline) Thread.Sleep(50);
        Assert.True(output.Count >= 3, $"only {output.Count} samples arrived");
        ps.Stop();
        Assert.True(async.AsyncWaitHandle.WaitOne(TimeSpan.FromSeconds(15)), "Get-ClusterMetric did not stop");
        Assert.True(File.ReadAllLines(path).Count(l => l.Length > 0) >= 3);
    }

    [Fact]
    public void Container_WithoutADockerDaemon_WarnsOnce_AndStillSamples()
    {
        // The sshd lab has a docker CLI but no daemon: the Docker API cannot be asked on any node.
        var sw = System.Diagnostics.Stopwatch.StartNew();
        var r = fx.Run("Get-ClusterMetric -Topology $topo -NodeName pi1,pi2 -Container -Count 2 -IntervalSeconds 0.3", Vars()).AssertNoErrors();
        var warning = Assert.Single(r.Warnings);
        Assert.StartsWith("Docker API not reachable on pi1 (", warning);
        Assert.Contains(", pi2 (", warning);
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(30), $"took {sw.Elapsed}");
        // Whatever containers this machine runs now (other labs share its kernel) are reported by id, without labels.
        Assert.All(r.Output, o =>
        {
            Assert.Equal("PiBench.Core.Benchmarking.ContainerMetricSample", o.TypeNames[0]);
            Assert.Equal(o.Properties["ContainerId"].Value, o.Properties["Container"].Value);
            Assert.Equal("", o.Properties["Service"].Value);
        });
    }

    [Fact]
    public void UnknownNode_IsAnError_AndOnceWithContinuous_IsRejected()
    {
        var r = fx.Run("Get-ClusterMetric -Topology $topo -NodeName nope -Once", Vars());
        Assert.Empty(r.Output);
        Assert.Contains(r.Errors, e => e.FullyQualifiedErrorId.StartsWith("NodeNotFound"));
        var c = fx.Run("Get-ClusterMetric -Topology $topo -Once -Continuous", Vars());
        Assert.True(c.Terminating is not null || c.Errors.Any(e => e.FullyQualifiedErrorId.StartsWith("MetricModeConflict")));
    }
}
