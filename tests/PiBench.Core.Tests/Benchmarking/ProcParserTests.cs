using Xunit;
using PiBench.Core.Benchmarking;

namespace PiBench.Core.Tests.Benchmarking;

public sealed class ProcParserTests
{
    [Fact]
    public void Stat_ParsesAggregateAndFourCores()
    {
        var s = ProcParsers.ParseStat(Pi4Samples.Stat0)!;
        Assert.Equal(4, s.Cores.Count);
        Assert.Equal(104822, s.Total.User);
        Assert.Equal(5893210, s.Total.Idle);
        Assert.Equal(3211, s.Total.IoWait);
        Assert.Equal(26100 + 3 + 10120 + 1473020 + 801 + 1510, s.Cores[0].Total);
    }

    [Fact]
    public void Stat_BusyPercent_PerCoreAndTotal_FromDeltas()
    {
        var a = ProcParsers.ParseStat(Pi4Samples.Stat0)!;
        var b = ProcParsers.ParseStat(Pi4Samples.Stat1)!;
        Assert.Equal(33.75, CpuTimes.BusyPercent(a.Total, b.Total)!.Value, 6);
        var expected = new[] { 75.0, 10.0, 0.0, 50.0 };
        for (var i = 0; i < 4; i++) Assert.Equal(expected[i], CpuTimes.BusyPercent(a.Cores[i], b.Cores[i])!.Value, 6);
        // Counters that did not move, or went back (reboot), give no figure instead of 0.
        Assert.Null(CpuTimes.BusyPercent(a.Total, a.Total));
        Assert.Null(CpuTimes.BusyPercent(b.Total, a.Total));
    }

    [Fact]
    public void Stat_WithoutAggregateLine_IsNull_AndShortOldKernelLinesParse()
    {
        Assert.Null(ProcParsers.ParseStat("intr 1 2 3\nctxt 5\n"));
        var old = ProcParsers.ParseStat("cpu 10 0 5 100\ncpu0 10 0 5 100\n")!;
        Assert.Equal(115, old.Total.Total);
        Assert.Single(old.Cores);
    }

    [Fact]
    public void MemInfo_UsedIsTotalMinusAvailable_WithFallbackWithoutAvailable()
    {
        var m = ProcParsers.ParseMemInfo(Pi4Samples.MemInfo)!;
        Assert.Equal(3884180, m.TotalKb);
        Assert.Equal(3884180 - 2904116, m.UsedKb);
        var old = ProcParsers.ParseMemInfo(Pi4Samples.MemInfo.Replace("MemAvailable:    2904116 kB\n", ""))!;
        Assert.Null(old.AvailableKb);
        Assert.Equal(3884180 - 1523420 - 72440 - 1265004 - 60212, old.UsedKb);
        Assert.Null(ProcParsers.ParseMemInfo("MemFree: 12 kB\n"));
    }

    [Fact]
    public void NetDev_ParsesEveryInterface_AndPhysicalFilterDropsLoopbackAndDocker()
    {
        var n = ProcParsers.ParseNetDev(Pi4Samples.NetDev0);
        Assert.Equal(new[] { "lo", "eth0", "wlan0", "docker0", "veth1a2b3c" }, n.Select(c => c.Interface));
        var eth = n.Single(c => c.Interface == "eth0");
        Assert.Equal(981234567, eth.RxBytes);
        Assert.Equal(123456789, eth.TxBytes);
        Assert.Equal(new[] { "eth0", "wlan0" }, n.Where(c => ProcParsers.IsPhysicalInterface(c.Interface)).Select(c => c.Interface));
    }

    [Fact]
    public void DiskStats_KeepsWholeDisksOnly()
    {
        var d = ProcParsers.ParseDiskStats(Pi4Samples.DiskStats0);
        Assert.Equal(new[] { "mmcblk0", "sda" }, d.Select(x => x.Device));
        Assert.Equal(1432518, d[0].SectorsRead);
        Assert.Equal(512344, d[0].SectorsWritten);
        Assert.False(ProcParsers.IsWholeDisk("mmcblk0boot0"));
        Assert.True(ProcParsers.IsWholeDisk("nvme0n1"));
        Assert.False(ProcParsers.IsWholeDisk("nvme0n1p1"));
    }

    [Fact]
    public void LoadAvg_Thermal_MeasureTemp_Uptime()
    {
        var l = ProcParsers.ParseLoadAvg(Pi4Samples.LoadAvg)!.Value;
        Assert.Equal(1.52, l.One);
        Assert.Equal(0.61, l.Fifteen);
        Assert.Equal(3, l.Running);
        Assert.Equal(412, l.Total);
        Assert.Equal(52.095, ProcParsers.ParseThermalZone(Pi4Samples.Thermal)!.Value, 6);
        Assert.Equal(52.1, ProcParsers.ParseMeasureTemp(Pi4Samples.MeasureTemp)!.Value, 6);
        Assert.Equal(58932.41, ProcParsers.ParseUptime(Pi4Samples.Uptime0)!.Value, 6);
        Assert.Null(ProcParsers.ParseThermalZone("cat: no such file\n"));
        Assert.Null(ProcParsers.ParseMeasureTemp("error=1 error_msg=\"Command not registered\"\n"));
        Assert.Null(ProcParsers.ParseLoadAvg("garbage"));
    }

    [Theory]
    [InlineData("throttled=0x0", false, false, "0x0", "")]
    [InlineData("throttled=0x50005", true, true, "0x50005", "under-voltage,throttled")]
    [InlineData("throttled=0x80000", false, true, "0x80000", "")]
    [InlineData("throttled=0x8", true, false, "0x8", "soft-temperature-limit")]
    [InlineData("throttled=0xe0002", true, true, "0xe0002", "arm-frequency-capped")]
    public void Throttled_DecodesNowAndSinceBootBits(string text, bool now, bool sinceBoot, string flags, string described)
    {
        var t = ProcParsers.ParseThrottled(text)!.Value;
        Assert.Equal(now, t.AnyNow);
        Assert.Equal(sinceBoot, t.AnySinceBoot);
        Assert.Equal(flags, t.Flags);
        Assert.Equal(described, t.Describe());
    }

    [Theory]
    [InlineData("")]
    [InlineData("throttled=")]
    [InlineData("throttled=0xZZ")]
    [InlineData("VCHI initialization failed")]
    public void Throttled_Garbage_IsNull(string text) => Assert.Null(ProcParsers.ParseThrottled(text));
}
