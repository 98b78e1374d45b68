using PiBench.Core.Remote;
using System.Globalization;

namespace PiBench.Core.Benchmarking;

/// <summary>Jiffy counters of one <c>cpu</c> line of /proc/stat (proc(5)). Guest time is already inside user/nice.</summary>
public readonly record struct CpuTimes(long User, long Nice, long System, long Idle, long IoWait, long Irq, long SoftIrq, long Steal)
{
    /// <summary>All jiffies (guest and guest_nice excluded: the kernel counts them in user and nice already).</summary>
    public long Total => User + Nice + System + Idle + IoWait + Irq + SoftIrq + Steal;

    /// <summary>Jiffies in which the CPU did work (everything but idle and iowait).</summary>
    public long Busy => Total - Idle - IoWait;

    /// <summary>Busy share between two readings, 0..100; null when the counters did not advance or went back (reboot).</summary>
    public static double? BusyPercent(CpuTimes before, CpuTimes after)
    {
        var total = after.Total - before.Total;
        var busy = after.Busy - before.Busy;
        if (total <= 0 || busy < 0) return null;
        return Math.Clamp(100.0 * busy / total, 0, 100);
    }
}

/// <summary>/proc/stat: the aggregate <c>cpu</c> line and one line per core (<c>cpu0</c>, <c>cpu1</c>, ...).</summary>
public sealed class ProcStat
{
    public CpuTimes Total { get; init; }
    public IReadOnlyList<CpuTimes> Cores { get; init; } = Array.Empty<CpuTimes>();
}

/// <summary>The /proc/meminfo fields PiBench uses, in kB as the kernel prints them.</summary>
public sealed class MemInfo
{
    public long TotalKb { get; init; }
    public long FreeKb { get; init; }
    /// <summary>MemAvailable (kernel 3.14+); null on older kernels.</summary>
    public long? AvailableKb { get; init; }
    public long BuffersKb { get; init; }
    public long CachedKb { get; init; }
    public long SReclaimableKb { get; init; }

    /// <summary>Used memory: MemTotal - MemAvailable, or MemTotal - MemFree - Buffers - Cached - SReclaimable without MemAvailable.</summary>
    public long UsedKb => AvailableKb is { } a ? TotalKb - a : TotalKb - FreeKb - BuffersKb - CachedKb - SReclaimableKb;
}

/// <summary>Byte counters of one interface in /proc/net/dev.</summary>
public readonly record struct NetDevCounters(string Interface, long RxBytes, long TxBytes);

/// <summary>Sector counters of one block device in /proc/diskstats (sectors are 512 bytes whatever the device).</summary>
public readonly record struct DiskCounters(string Device, long SectorsRead, long SectorsWritten);

/// <summary>/proc/loadavg.</summary>
public readonly record struct LoadAverage(double One, double Five, double Fifteen, int Running, int Total);

/// <summary>
/// Parsers for the Linux and Raspberry Pi firmware texts the metric sampler reads. Every parser is total: malformed
/// input gives null (or skips the line) instead of throwing, so one odd line never loses a sample.
/// </summary>
public static class ProcParsers
{
    private static readonly char[] Blanks = { ' ', '\t' };

    /// <summary>Parses the <c>cpu</c> and <c>cpuN</c> lines of /proc/stat; null without an aggregate line.</summary>
    public static ProcStat? ParseStat(string text)
    {
        CpuTimes? total = null;
        var cores = new SortedDictionary<int, CpuTimes>();
        foreach (var raw in Lines(text))
        {
            if (!raw.StartsWith("cpu", StringComparison.Ordinal)) continue;
            var f = raw.Split(Blanks, StringSplitOptions.RemoveEmptyEntries);
            if (f.Length < 5) continue;
            var v = new long[8];
            var ok = true;
            for (var i = 0; i < 8; i++)
            {
                if (i + 1 >= f.Length) break; // old kernels: fewer columns, missing ones are 0
                if (!long.TryParse(f[i + 1], NumberStyles.None, CultureInfo.InvariantCulture, out v[i])) { ok = false; break; }
            }
            if (!ok) continue;
            var t = new CpuTimes(v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7]);
            if (f[0] == "cpu") total = t;
            else if (int.TryParse(f[0].AsSpan(3), NumberStyles.None, CultureInfo.InvariantCulture, out var n)) cores[n] = t;
        }
        return total is null ? null : new ProcStat { Total = total.Value, Cores = cores.Values.ToList() };
    }

    /// <summary>Parses /proc/meminfo; null without MemTotal.</summary>
    public static MemInfo? ParseMemInfo(string text)
    {
        var d = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var line in Lines(text))
        {
            var colon = line.IndexOf(':');
            if (colon <= 0) continue;
            var rest = line[(colon + 1)..].Trim();
            var sp = rest.IndexOf(' ');
            var num = sp < 0 ? rest : rest[..sp];
            if (long.TryParse(num, NumberStyles.None, CultureInfo.InvariantCulture, out var kb)) d[line[..colon].Trim()] = kb;
        }
        if (!d.TryGetValue("MemTotal", out var totalKb)) return null;
        return new MemInfo
        {
            TotalKb = totalKb,
            FreeKb = d.GetValueOrDefault("MemFree"),
            AvailableKb = d.TryGetValue("MemAvailable", out var a) ? a : null,
            BuffersKb = d.GetValueOrDefault("Buffers"),
            CachedKb = d.GetValueOrDefault("Cached"),
            SReclaimableKb = d.GetValueOrDefault("SReclaimable"),
        };
    }

    /// <summary>Parses /proc/net/dev (two header lines, then <c>iface: rx_bytes ... tx_bytes ...</c>).</summary>
    public static IReadOnlyList<NetDevCounters> ParseNetDev(string text)
    {
        var list = new List<NetDevCounters>();
        foreach (var line in Lines(text))
        {
            var colon = line.IndexOf(':');
            if (colon <= 0) continue;
            var name = line[..colon].Trim();
            if (name.Contains('|') || name.Length == 0) continue;
            var f = line[(colon + 1)..].Split(Blanks, StringSplitOptions.RemoveEmptyEntries);
            if (f.Length < 16) continue;
            if (long.TryParse(f[0], NumberStyles.None, CultureInfo.InvariantCulture, out var rx) &&
                long.TryParse(f[8], NumberStyles.None, CultureInfo.InvariantCulture, out var tx))
                list.Add(new NetDevCounters(name, rx, tx));
        }
        return list;
    }

    /// <summary>True for interfaces whose traffic crosses the node's NIC (not loopback, Docker bridges or veths).</summary>
    public static bool IsPhysicalInterface(string name) =>
        name != "lo" && !name.StartsWith("docker", StringComparison.Ordinal) && !name.StartsWith("veth", StringComparison.Ordinal)
        && !name.StartsWith("br-", StringComparison.Ordinal);

    /// <summary>Parses /proc/diskstats, whole disks only (mmcblkN, sdX, nvmeNnM, vdX); partitions, loop and ram devices are skipped.</summary>
    public static IReadOnlyList<DiskCounters> ParseDiskStats(string text)
    {
        var list = new List<DiskCounters>();
        foreach (var line in Lines(text))
        {
            var f = line.Split(Blanks, StringSplitOptions.RemoveEmptyEntries);
            if (f.Length < 10) continue;
            var dev = f[2];
            if (!IsWholeDisk(dev)) continue;
            if (long.TryParse(f[5], NumberStyles.None, CultureInfo.InvariantCulture, out var rd) &&
                long.TryParse(f[9], NumberStyles.None, CultureInfo.InvariantCulture, out var wr))
                list.Add(new DiskCounters(dev, rd, wr));
        }
        return list;
    }

    internal static bool IsWholeDisk(string dev)
    {
        if (dev.StartsWith("mmcblk", StringComparison.Ordinal))
            return dev.Length > 6 && dev[6..].All(char.IsDigit); // mmcblk0, not mmcblk0p2 / mmcblk0boot0
        if (dev.StartsWith("nvme", StringComparison.Ordinal))
            return !dev[4..].Contains('p'); // nvme0n1, not nvme0n1p1
        if ((dev.StartsWith("sd", StringComparison.Ordinal) || dev.StartsWith("vd", StringComparison.Ordinal)) && dev.Length >= 3)
            return dev[2..].All(char.IsLetter);
        return false;
    }

    /// <summary>Parses /proc/loadavg (<c>0.52 0.58 0.59 1/389 12345</c>).</summary>
    public static LoadAverage? ParseLoadAvg(string text)
    {
        var f = text.Trim().Split(Blanks, StringSplitOptions.RemoveEmptyEntries);
        if (f.Length < 4) return null;
        var slash = f[3].IndexOf('/');
        if (slash <= 0) return null;
        if (!Double(f[0], out var a) || !Double(f[1], out var b) || !Double(f[2], out var c)) return null;
        if (!int.TryParse(f[3][..slash], NumberStyles.None, CultureInfo.InvariantCulture, out var run) ||
            !int.TryParse(f[3][(slash + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var tot)) return null;
        return new LoadAverage(a, b, c, run, tot);
    }

    /// <summary>Parses /sys/class/thermal/thermal_zone0/temp (millidegrees Celsius, e.g. <c>48686</c>) into °C.</summary>
    public static double? ParseThermalZone(string text)
    {
        var t = text.Trim();
        if (!long.TryParse(t, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var milli)) return null;
        return milli / 1000.0;
    }

    /// <summary>Parses <c>vcgencmd measure_temp</c> output (<c>temp=48.7'C</c>) into °C.</summary>
    public static double? ParseMeasureTemp(string text)
    {
        var t = text.Trim();
        if (!t.StartsWith("temp=", StringComparison.Ordinal)) return null;
        var end = t.IndexOf('\'');
        var num = end < 0 ? t[5..] : t[5..end];
        return Double(num, out var v) ? v : null;
    }

    /// <summary>Parses <c>vcgencmd get_throttled</c> (<c>throttled=0x50005</c>); see <see cref="ThrottleState.Parse"/>.</summary>
    public static ThrottleState? ParseThrottled(string text) => ThrottleState.Parse(text);

    /// <summary>Parses /proc/uptime (<c>12345.67 45678.90</c>): seconds since boot.</summary>
    public static double? ParseUptime(string text)
    {
        var f = text.Trim().Split(Blanks, StringSplitOptions.RemoveEmptyEntries);
        return f.Length >= 1 && Double(f[0], out var v) ? v : null;
    }

    private static bool Double(string s, out double v) =>
        double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out v) && double.IsFinite(v);

    private static IEnumerable<string> Lines(string text) =>
        text.Split('\n').Select(l => l.TrimEnd('\r')).Where(l => l.Length > 0);
}

