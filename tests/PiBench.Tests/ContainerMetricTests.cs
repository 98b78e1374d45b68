using System.Globalization;
using System.Management.Automation;
using PiBench.Tests.Harness;
using PiBench.Tests.Lab;
using Xunit.Abstractions;

namespace PiBench.Tests;

/// <summary>
/// Get-ClusterMetric -Container against the deployment lab: each simulated Pi has its own dockerd, but all of them
/// share this machine's kernel, so every node's cgroup tree shows every lab container. Only the containers a node's
/// own daemon lists may be reported for that node.
/// </summary>
[Collection("deploy")]
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class ContainerMetricTests
{
    private readonly ModuleFixture _fx;
    private readonly DeployLab _lab;
    private readonly ITestOutputHelper _out;

    public ContainerMetricTests(ModuleFixture fx, DeployLabFixture lab, ITestOutputHelper output)
    {
        _fx = fx;
        _lab = lab;
        _out = output;
        _lab.Reset();
    }

    private static T P<T>(PSObject o, string name) => (T)Convert.ChangeType(o.Properties[name].Value, typeof(T), CultureInfo.InvariantCulture);

    [Fact]
    public void Container_ReportsEachNodesOwnContainers_WithNamesLabelsCpuAndMemory()
    {
        // pi1: one container burning a core and an idle one; pi2: an idle one of its own daemon.
        var image = _lab.Pinned.Kafka; // any stand-in: only busybox is used
        var burn = _lab.Docker.Docker(0, $"run -d --name pbm-burn --network host --label pibench.service=burner --label pibench.system=flink " +
                                         $"--entrypoint /bin/sh {image} -c 'while :; do :; done'");
        var idle = _lab.Docker.Docker(0, $"run -d --name pbm-idle --network host --label pibench.service=idler --label pibench.system=shared " +
                                         $"--entrypoint /bin/sleep {image} 600");
        _lab.Docker.Docker(1, "import - pbm/idle:1", _lab.Docker.StandInTar());
        var other = _lab.Docker.Docker(1, "run -d --name pbm-other --network host --entrypoint /bin/sleep pbm/idle:1 600");
        var path = Path.Combine(_lab.Root, $"containers-{Guid.NewGuid():N}.jsonl");
        try
        {
            var r = _fx.Run("Get-ClusterMetric -Topology $topo -NodeName pi1,pi2 -Container -Count 3 -IntervalSeconds 1 -Path $path",
                new Dictionary<string, object?> { ["topo"] = _lab.TopologyPath, ["path"] = path }, TimeSpan.FromMinutes(1)).AssertNoErrors();
            foreach (var o in r.Output)
                _out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{P<string>(o, "Node")} {P<string>(o, "Container")} {P<string>(o, "ContainerId")} {P<string>(o, "Service")}/{P<string>(o, "System")} " +
                    $"{o.Properties["IntervalSeconds"].Value} s cpu {o.Properties["CpuPercent"].Value} % {o.Properties["CpuCoreSeconds"].Value} core-s mem {o.Properties["MemoryMB"].Value} MB"));
            Assert.Empty(r.Warnings); // every node's daemon answered
            Assert.All(r.Output, o => Assert.Equal("PiBench.Core.Benchmarking.ContainerMetricSample", o.TypeNames[0]));
            Assert.Single(r.Output.Select(o => string.Join(",", o.Properties.Select(p => p.Name))).Distinct()); // Export-Csv

            var byContainer = r.Output.GroupBy(o => (Node: P<string>(o, "Node"), Id: P<string>(o, "ContainerId"))).ToDictionary(g => g.Key, g => g.ToList());
            Assert.Equal(new[] { ("pi1", burn[..12]), ("pi1", idle[..12]), ("pi2", other[..12]) }.Order(), byContainer.Keys.Order());
            Assert.All(byContainer.Values, g => Assert.Equal(3, g.Count)); // one per interval and container

            var burning = byContainer[("pi1", burn[..12])];
            Assert.All(burning, o =>
            {
                Assert.Equal("pbm-burn", P<string>(o, "Container"));
                Assert.Equal("burner", P<string>(o, "Service"));
                Assert.Equal("flink", P<string>(o, "System"));
                Assert.True(P<double>(o, "MemoryMB") > 0);
            });
            // About one core on a shared two-core machine: a generous range, never an absolute time.
            var busy = burning.Sum(o => P<double>(o, "CpuCoreSeconds")) / burning.Sum(o => P<double>(o, "IntervalSeconds")) * 100;
            _out.WriteLine($"burning container: {busy:0.#} % of one core over {burning.Count} intervals");
            Assert.InRange(busy, 40, 110);
            Assert.All(burning, o => Assert.Equal(P<double>(o, "CpuCoreSeconds") / P<double>(o, "IntervalSeconds") * 100, P<double>(o, "CpuPercent"), 0.5));

            Assert.All(byContainer[("pi1", idle[..12])], o =>
            {
                Assert.Equal("pbm-idle", P<string>(o, "Container"));
                Assert.Equal("idler", P<string>(o, "Service"));
                Assert.Equal("shared", P<string>(o, "System"));
                Assert.InRange(P<double>(o, "CpuPercent"), 0, 5);
            });
            Assert.All(byContainer[("pi2", other[..12])], o =>
            {
                Assert.Equal("pbm-other", P<string>(o, "Container"));
                Assert.Equal("", P<string>(o, "Service")); // no pibench labels
                Assert.InRange(P<double>(o, "CpuPercent"), 0, 5);
            });

            var lines = File.ReadAllLines(path).Where(l => l.Length > 0).ToList();
            Assert.Equal(9, lines.Count);
            Assert.Equal(3, lines.Count(l => l.Contains($"\"ContainerId\":\"{burn[..12]}\"", StringComparison.Ordinal) && l.Contains("\"Node\":\"pi1\"", StringComparison.Ordinal)));
        }
        finally
        {
            _lab.Docker.TryDocker(0, "rm -f pbm-burn pbm-idle", out _);
            _lab.Docker.TryDocker(1, "rm -f pbm-other", out _);
        }
    }
}
