namespace PiBench.Core.Benchmarking;

/// <summary>Cluster resource figures over a measured window, from per-node metric samples.</summary>
public sealed class ResourceSummary
{
    public double CpuCoreSeconds { get; init; } = double.NaN;
    public double CpuPercentPerNode { get; init; } = double.NaN;
    public double MemoryPeakMB { get; init; } = double.NaN;
    public double NetworkMBPerNode { get; init; } = double.NaN;
    public IReadOnlyList<string> ThrottledNodes { get; init; } = Array.Empty<string>();
    public double MissingSampleFraction { get; init; }
    public int Nodes { get; init; }

    /// <summary>
    /// Sums the samples whose interval ends inside [<paramref name="from"/>, <paramref name="to"/>]. Core-seconds are the
    /// CPU time of every sampled node; CPU % per node is the mean node busy share; memory is the highest used of any
    /// node; network is (rx + tx) bytes per node. Missing samples are counted against the nodes x window/interval expected.
    /// </summary>
    public static ResourceSummary FromSamples(IEnumerable<ClusterMetricSample> samples, DateTimeOffset from, DateTimeOffset to,
        IReadOnlyCollection<string> nodes, double intervalSeconds)
    {
        var inWindow = samples.Where(s => s.Timestamp > from && s.Timestamp <= to).ToList();
        var expected = nodes.Count * Math.Max(1, Math.Floor((to - from).TotalSeconds / Math.Max(0.001, intervalSeconds)));
        var missing = expected <= 0 ? 0 : Math.Clamp(1 - inWindow.Count(s => s.CpuCoreSeconds is not null) / expected, 0, 1);
        if (inWindow.Count == 0)
            return new ResourceSummary { MissingSampleFraction = nodes.Count == 0 ? 0 : 1, Nodes = nodes.Count };
        var perNodeCpu = inWindow.Where(s => s.CpuPercent is not null).GroupBy(s => s.Node)
            .Select(g => g.Sum(s => s.CpuPercent!.Value * s.IntervalSeconds) / Math.Max(1e-9, g.Sum(s => s.IntervalSeconds))).ToList();
        var perNodeNet = inWindow.GroupBy(s => s.Node)
            .Select(g => g.Sum(s => ((s.NetworkRxBytesPerSec ?? 0) + (s.NetworkTxBytesPerSec ?? 0)) * s.IntervalSeconds) / 1e6).ToList();
        var mem = inWindow.Where(s => s.MemoryUsedMB is not null).Select(s => s.MemoryUsedMB!.Value).ToList();
        return new ResourceSummary
        {
            CpuCoreSeconds = Math.Round(inWindow.Sum(s => s.CpuCoreSeconds ?? 0), 3),
            CpuPercentPerNode = perNodeCpu.Count == 0 ? double.NaN : Math.Round(perNodeCpu.Average(), 2),
            MemoryPeakMB = mem.Count == 0 ? double.NaN : mem.Max(),
            NetworkMBPerNode = perNodeNet.Count == 0 ? double.NaN : Math.Round(perNodeNet.Average(), 3),
            ThrottledNodes = inWindow.Where(s => s.Throttled == true).Select(s => s.Node).Distinct().Order(StringComparer.Ordinal).ToList(),
            MissingSampleFraction = missing,
            Nodes = nodes.Count,
        };
    }
}
