using Xunit;
using PiBench.Core.Benchmarking;

namespace PiBench.Core.Tests.Benchmarking;

public sealed class SnapshotStreamTests
{
    private static List<ClusterMetricSample> Feed(NodeSnapshotStream s, IEnumerable<string> lines)
    {
        var list = new List<ClusterMetricSample>();
        foreach (var l in lines) if (s.Feed(l) is { } x) list.Add(x);
        return list;
    }

    [Fact]
    public void TwoSnapshots_GiveOneSample_WithExpectedFigures()
    {
        var t = DateTimeOffset.Parse("2026-11-30T12:00:00Z");
        var clock = t;
        var s = new NodeSnapshotStream("pi2", () => clock);
        Assert.Empty(Feed(s, new[] { "Linux motd noise", "@@stat", "cpu 1 1 1 1" })); // ignored before the first marker
        Assert.Empty(Feed(s, Pi4Samples.Snapshot(0, Pi4Samples.Stat0, Pi4Samples.NetDev0, Pi4Samples.DiskStats0, Pi4Samples.Uptime0, Pi4Samples.ThrottledNone, Pi4Samples.MeasureTemp)));
        clock = t.AddSeconds(1.7); // SSH delivered late: the node's uptime, not the receive time, sets the interval
        var sample = Assert.Single(Feed(s, Pi4Samples.Snapshot(1, Pi4Samples.Stat1, Pi4Samples.NetDev1, Pi4Samples.DiskStats1, Pi4Samples.Uptime1, Pi4Samples.ThrottledNone, Pi4Samples.MeasureTemp)));

        Assert.Equal("pi2", sample.Node);
        Assert.Equal(1.0, sample.IntervalSeconds, 6);
        Assert.Equal(33.75, sample.CpuPercent);
        Assert.Equal(4, sample.CpuCores);
        Assert.Equal("75;10;0;50", sample.CpuPercentPerCore);
        Assert.Equal(new[] { 75.0, 10, 0, 50 }, sample.GetCorePercents());
        Assert.Equal(1.35, sample.CpuCoreSeconds!.Value, 6);
        Assert.Equal(Math.Round((3884180 - 2904116) / 1024.0, 1), sample.MemoryUsedMB);
        Assert.Equal(12_500_000, sample.NetworkRxBytesPerSec);
        Assert.Equal(2_500_000, sample.NetworkTxBytesPerSec);
        Assert.Equal(2048 * 512, sample.DiskReadBytesPerSec);
        Assert.Equal((4096 + 1024) * 512, sample.DiskWriteBytesPerSec);
        Assert.Equal(52.1, sample.TemperatureC);
        Assert.Equal(false, sample.Throttled);
        Assert.Equal("0x0", sample.ThrottledFlags);
        Assert.Equal(1.52, sample.LoadAverage1);
        Assert.Equal(clock, sample.Timestamp);
        Assert.Equal(1, sample.Sequence);
    }

    [Fact]
    public void WithoutVcgencmd_ThrottledIsUnknown_AndThermalZoneGivesTemperature()
    {
        var s = new NodeSnapshotStream("pi1");
        Feed(s, Pi4Samples.Snapshot(0, Pi4Samples.Stat0, Pi4Samples.NetDev0, Pi4Samples.DiskStats0, Pi4Samples.Uptime0, null, null));
        var x = Assert.Single(Feed(s, Pi4Samples.Snapshot(1, Pi4Samples.Stat1, Pi4Samples.NetDev1, Pi4Samples.DiskStats1, Pi4Samples.Uptime1, null, null)));
        Assert.Null(x.Throttled);
        Assert.Null(x.ThrottledSinceBoot);
        Assert.Equal("", x.ThrottledFlags);
        Assert.Equal(52.095, x.TemperatureC!.Value, 6);
    }

    [Fact]
    public void ThrottleInEitherSnapshot_MarksTheInterval()
    {
        var s = new NodeSnapshotStream("pi3");
        Feed(s, Pi4Samples.Snapshot(0, Pi4Samples.Stat0, Pi4Samples.NetDev0, Pi4Samples.DiskStats0, Pi4Samples.Uptime0, Pi4Samples.ThrottledUnderVoltage, Pi4Samples.MeasureTemp));
        var x = Assert.Single(Feed(s, Pi4Samples.Snapshot(1, Pi4Samples.Stat1, Pi4Samples.NetDev1, Pi4Samples.DiskStats1, Pi4Samples.Uptime1, "throttled=0x50000\n", Pi4Samples.MeasureTemp)));
        Assert.Equal(true, x.Throttled);
        Assert.Equal(true, x.ThrottledSinceBoot);
        Assert.Equal("0x50000", x.ThrottledFlags);
    }

    [Fact]
    public void CountersGoingBack_GiveNoRates_NotZeroOrNegative()
    {
        var s = new NodeSnapshotStream("pi4");
        Feed(s, Pi4Samples.Snapshot(0, Pi4Samples.Stat1, Pi4Samples.NetDev1, Pi4Samples.DiskStats1, Pi4Samples.Uptime0, null, null));
        var x = Assert.Single(Feed(s, Pi4Samples.Snapshot(1, Pi4Samples.Stat0, Pi4Samples.NetDev0, Pi4Samples.DiskStats0, Pi4Samples.Uptime1, null, null)));
        Assert.Null(x.CpuPercent);
        Assert.Null(x.CpuCoreSeconds);
        Assert.Null(x.NetworkRxBytesPerSec);
        Assert.Null(x.DiskWriteBytesPerSec);
    }

    [Fact]
    public void Command_IsOneBoundedLoop_AndRejectsBadInterval()
    {
        var c = SnapshotProtocol.BuildCommand(1, 3);
        Assert.Contains("while :; do", c);
        Assert.Contains("[ $n -ge 3 ] && break", c);
        Assert.Contains("sleep 1", c);
        Assert.DoesNotContain("[ $n -ge", SnapshotProtocol.BuildCommand(0.5, 0));
        Assert.Contains("sleep 0.5", SnapshotProtocol.BuildCommand(0.5, 0));
        var ex = Assert.Throws<PiBenchException>(() => SnapshotProtocol.BuildCommand(0, 1));
        Assert.Equal("MetricIntervalInvalid", ex.ErrorId);
    }

    [Fact]
    public void Command_RunsInLocalSh_AndItsOutputParses()
    {
        // The real loop against this machine's /proc: proves the script is valid sh and the parsers accept real output.
        var psi = new System.Diagnostics.ProcessStartInfo("/bin/sh", new[] { "-c", SnapshotProtocol.BuildCommand(0.2, 2) })
        { RedirectStandardOutput = true, UseShellExecute = false };
        using var p = System.Diagnostics.Process.Start(psi)!;
        var output = p.StandardOutput.ReadToEnd();
        Assert.True(p.WaitForExit(10_000));
        var s = new NodeSnapshotStream("local");
        var x = Assert.Single(Feed(s, output.Split('\n')));
        Assert.Equal(2, s.Snapshots);
        Assert.InRange(x.IntervalSeconds, 0.1, 5);
        Assert.InRange(x.CpuPercent!.Value, 0, 100);
        Assert.Equal(Environment.ProcessorCount <= x.CpuCores ? x.CpuCores : Environment.ProcessorCount, x.CpuCores);
        Assert.True(x.MemoryUsedMB > 0);
        Assert.True(x.MemoryTotalMB >= x.MemoryUsedMB);
    }

    [Fact]
    public void MetricFile_AppendsJsonLines_ThatReadBack()
    {
        var path = Path.Combine(Path.GetTempPath(), $"pibench-metrics-{Guid.NewGuid():N}.jsonl");
        try
        {
            var s = new NodeSnapshotStream("pi2");
            Feed(s, Pi4Samples.Snapshot(0, Pi4Samples.Stat0, Pi4Samples.NetDev0, Pi4Samples.DiskStats0, Pi4Samples.Uptime0, Pi4Samples.ThrottledUnderVoltage, Pi4Samples.MeasureTemp));
            var x = Feed(s, Pi4Samples.Snapshot(1, Pi4Samples.Stat1, Pi4Samples.NetDev1, Pi4Samples.DiskStats1, Pi4Samples.Uptime1, Pi4Samples.ThrottledUnderVoltage, Pi4Samples.MeasureTemp)).Single();
            using (var f = new ClusterMetricFile(path)) { f.Append(x); f.Append(x); }
            var back = ClusterMetricFile.Read(path);
            Assert.Equal(2, back.Count);
            Assert.Equal(x.CpuPercentPerCore, back[0].CpuPercentPerCore);
            Assert.Equal(true, back[1].Throttled);
            Assert.Equal(x.NetworkRxBytesPerSec, back[1].NetworkRxBytesPerSec);
        }
        finally { File.Delete(path); }
    }
}
