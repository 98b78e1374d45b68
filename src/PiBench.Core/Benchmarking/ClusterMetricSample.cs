using System.Globalization;

namespace PiBench.Core.Benchmarking;

/// <summary>
/// One node's resource use over one sampling interval, from two consecutive snapshots. Flat scalars only, the same
/// properties on every instance (Export-Csv). Missing readings are null (empty in CSV), never 0.
/// </summary>
public sealed class ClusterMetricSample
{
    public string Node { get; init; } = "";
    /// <summary>End of the interval (local receive time of the second snapshot, UTC).</summary>
    public DateTimeOffset Timestamp { get; init; }
    /// <summary>Length of the interval on the node's own clock (/proc/uptime), seconds.</summary>
    public double IntervalSeconds { get; init; }
    /// <summary>Busy share of all cores, 0..100 (100 = every core busy).</summary>
    public double? CpuPercent { get; init; }
    /// <summary>Cores in /proc/stat.</summary>
    public int CpuCores { get; init; }
    /// <summary>Busy share per core, 0..100, separated by ';' (cpu0;cpu1;...).</summary>
    public string CpuPercentPerCore { get; init; } = "";
    /// <summary>CPU time used in the interval, core-seconds (CpuPercent / 100 x cores x interval).</summary>
    public double? CpuCoreSeconds { get; init; }
    public double? MemoryUsedMB { get; init; }
    public double? MemoryTotalMB { get; init; }
    /// <summary>Received bytes per second over physical interfaces (lo, docker, veth and bridges excluded).</summary>
    public double? NetworkRxBytesPerSec { get; init; }
    /// <summary>Sent bytes per second over physical interfaces.</summary>
    public double? NetworkTxBytesPerSec { get; init; }
    public double? DiskReadBytesPerSec { get; init; }
    public double? DiskWriteBytesPerSec { get; init; }
    public double? LoadAverage1 { get; init; }
    /// <summary>SoC temperature, °C (vcgencmd measure_temp, else thermal zone 0).</summary>
    public double? TemperatureC { get; init; }
    /// <summary>A throttling condition (bits 0-3 of get_throttled) is active now; null without vcgencmd.</summary>
    public bool? Throttled { get; init; }
    /// <summary>A throttling condition occurred since boot (bits 16-19); null without vcgencmd.</summary>
    public bool? ThrottledSinceBoot { get; init; }
    /// <summary>The raw get_throttled mask, e.g. 0x50005 ("" without vcgencmd).</summary>
    public string ThrottledFlags { get; init; } = "";
    /// <summary>Sequence number of the second snapshot in the node's stream.</summary>
    public long Sequence { get; init; }

    /// <summary>Per-core percentages as numbers (NaN for a core without a reading).</summary>
    public double[] GetCorePercents() => CpuPercentPerCore.Length == 0 ? Array.Empty<double>() :
        CpuPercentPerCore.Split(';').Select(s => double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v : double.NaN).ToArray();
}

/// <summary>Arithmetic between snapshots.</summary>
public static class MetricMath
{
    /// <summary>The sample for the interval between two snapshots of the same node.</summary>
    /// <summary>The interval between two snapshots on the node's own clock (/proc/uptime), else by receive time.</summary>
    public static double IntervalSeconds(NodeSnapshot before, NodeSnapshot after) =>
        after.UptimeSeconds is { } u1 && before.UptimeSeconds is { } u0 && u1 > u0
            ? u1 - u0
            : Math.Max(0, (after.ReceivedAt - before.ReceivedAt).TotalSeconds);

    public static ClusterMetricSample Sample(NodeSnapshot before, NodeSnapshot after)
    {
        var dt = IntervalSeconds(before, after);
        double? Rate(long? b, long? a) => b is { } x && a is { } y && dt > 0 && y >= x ? (y - x) / dt : null;

        double? cpu = null; double? coreSeconds = null; var perCore = ""; var cores = 0;
        if (before.Stat is { } s0 && after.Stat is { } s1)
        {
            cpu = CpuTimes.BusyPercent(s0.Total, s1.Total);
            cores = s1.Cores.Count;
            var list = new List<string>(cores);
            for (var i = 0; i < cores; i++)
            {
                var p = i < s0.Cores.Count ? CpuTimes.BusyPercent(s0.Cores[i], s1.Cores[i]) : null;
                list.Add(p is { } v ? Math.Round(v, 2).ToString("0.##", CultureInfo.InvariantCulture) : "");
            }
            perCore = string.Join(";", list);
            if (cpu is { } c && dt > 0) coreSeconds = c / 100.0 * Math.Max(1, cores) * dt;
        }

        long? Sum(IReadOnlyList<NetDevCounters> n, bool rx)
        {
            var phys = n.Where(c => ProcParsers.IsPhysicalInterface(c.Interface)).ToList();
            return phys.Count == 0 ? null : phys.Sum(c => rx ? c.RxBytes : c.TxBytes);
        }
        long? DiskSum(IReadOnlyList<DiskCounters> d, bool read) => d.Count == 0 ? null : d.Sum(c => (read ? c.SectorsRead : c.SectorsWritten) * 512L);

        var throttle = after.Throttle;
        return new ClusterMetricSample
        {
            Node = after.Node,
            Timestamp = after.ReceivedAt,
            IntervalSeconds = Math.Round(dt, 3),
            CpuPercent = cpu is { } cc ? Math.Round(cc, 2) : null,
            CpuCores = cores,
            CpuPercentPerCore = perCore,
            CpuCoreSeconds = coreSeconds is { } cs ? Math.Round(cs, 4) : null,
            MemoryUsedMB = after.Memory is { } m ? Math.Round(m.UsedKb / 1024.0, 1) : null,
            MemoryTotalMB = after.Memory is { } mt ? Math.Round(mt.TotalKb / 1024.0, 1) : null,
            NetworkRxBytesPerSec = Rate(Sum(before.Network, true), Sum(after.Network, true)),
            NetworkTxBytesPerSec = Rate(Sum(before.Network, false), Sum(after.Network, false)),
            DiskReadBytesPerSec = Rate(DiskSum(before.Disks, true), DiskSum(after.Disks, true)),
            DiskWriteBytesPerSec = Rate(DiskSum(before.Disks, false), DiskSum(after.Disks, false)),
            LoadAverage1 = after.Load?.One,
            TemperatureC = after.VcTempC ?? after.ThermalC,
            // A condition seen in either snapshot counts: the "now" bits are instantaneous.
            Throttled = throttle is null ? null : throttle.Value.AnyNow || (before.Throttle?.AnyNow ?? false),
            ThrottledSinceBoot = throttle?.AnySinceBoot,
            ThrottledFlags = throttle?.Flags ?? "",
            Sequence = after.Sequence,
        };
    }
}

/// <summary>Appends node or container samples to a JSON-lines file as they arrive (one object per line, flushed per sample).</summary>
public sealed class ClusterMetricFile : IDisposable
{
    private static readonly System.Text.Json.JsonSerializerOptions Json = new() { WriteIndented = false };
    private readonly StreamWriter _writer;

    public ClusterMetricFile(string path)
    {
        Path = path;
        try
        {
            var dir = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path));
            if (!string.IsNullOrEmpty(dir)) Directory.CreateDirectory(dir);
            _writer = new StreamWriter(new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.Read), new System.Text.UTF8Encoding(false));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new PiBenchException("MetricFileNotWritable", PiBenchErrorCategory.WriteError, $"Cannot open '{path}' for writing: {ex.Message}", path,
                "Choose a writable -Path.", ex);
        }
    }

    public string Path { get; }

    public void Append(ClusterMetricSample sample)
    {
        _writer.WriteLine(System.Text.Json.JsonSerializer.Serialize(sample, Json));
        _writer.Flush();
    }

    /// <summary>Appends one container sample (Get-ClusterMetric -Container).</summary>
    public void Append(ContainerMetricSample sample)
    {
        _writer.WriteLine(System.Text.Json.JsonSerializer.Serialize(sample, Json));
        _writer.Flush();
    }

    /// <summary>Reads a JSON-lines metrics file back.</summary>
    public static IReadOnlyList<ClusterMetricSample> Read(string path) =>
        File.ReadLines(path).Where(l => l.Trim().Length > 0)
            .Select(l => System.Text.Json.JsonSerializer.Deserialize<ClusterMetricSample>(l, Json)!).ToList();

    /// <summary>Reads a JSON-lines file of container samples back.</summary>
    public static IReadOnlyList<ContainerMetricSample> ReadContainers(string path) =>
        File.ReadLines(path).Where(l => l.Trim().Length > 0)
            .Select(l => System.Text.Json.JsonSerializer.Deserialize<ContainerMetricSample>(l, Json)!).ToList();

    public void Dispose() => _writer.Dispose();
}
