namespace PiBench.Core.Benchmarking;

/// <summary>
/// One container's resource use over one measured window, kept in the results .json (BenchmarkRunDocument.Containers)
/// beside the flat <see cref="BenchmarkResult"/> of the same query, repetition and step.
/// </summary>
public sealed class ContainerUsage
{
    public string Query { get; set; } = "";
    public int Repetition { get; set; }
    /// <summary>Step of a sustainable-rate search; 0 for a fixed-rate cell.</summary>
    public int Step { get; set; }
    public string Node { get; set; } = "";
    public string Container { get; set; } = "";
    /// <summary>First 12 characters of the container id.</summary>
    public string ContainerId { get; set; } = "";
    /// <summary>The pibench.service label ("" for containers PiBench did not start).</summary>
    public string Service { get; set; } = "";
    /// <summary>The pibench.system label: arroyo, flink or shared.</summary>
    public string System { get; set; } = "";
    /// <summary>CPU time over the window, core-seconds.</summary>
    public double CpuCoreSeconds { get; set; } = double.NaN;
    /// <summary>Mean CPU use over the sampled part of the window, percent of one core.</summary>
    public double CpuPercent { get; set; } = double.NaN;
    /// <summary>Highest memory reading in the window, MB.</summary>
    public double MemoryPeakMB { get; set; } = double.NaN;
    /// <summary>Samples (intervals) of this container inside the window.</summary>
    public int Samples { get; set; }
}

/// <summary>Engine figures over a measured window, from per-container samples (the system under test, not the cluster).</summary>
public sealed class ContainerSummary
{
    /// <summary>CPU time of the engine's containers over the window, core-seconds; NaN without engine container samples.</summary>
    public double EngineCpuCoreSeconds { get; init; } = double.NaN;
    /// <summary>Highest summed memory of the engine's containers at one sample time, MB; NaN without engine container samples.</summary>
    public double EngineMemoryPeakMB { get; init; } = double.NaN;
    /// <summary>Every container seen in the window, engine or not (Query/Repetition/Step still empty).</summary>
    public IReadOnlyList<ContainerUsage> Containers { get; init; } = Array.Empty<ContainerUsage>();

    /// <summary>
    /// Integrates the samples whose interval ends inside (<paramref name="from"/>, <paramref name="to"/>], like
    /// <see cref="ResourceSummary"/> does for nodes. Engine containers are those labelled pibench.system =
    /// <paramref name="engineSystem"/> (arroyo or flink; the shared Kafka and MinIO are not the system under test).
    /// Engine core-seconds = the sum of their CPU time. Engine memory peak = the highest, over the sample times in the
    /// window, of the sum of every engine container's latest memory reading at that time (nodes sample unsynchronised,
    /// so each container counts with its most recent reading, not only with readings of the same instant).
    /// </summary>
    public static ContainerSummary FromSamples(IEnumerable<ContainerMetricSample> samples, DateTimeOffset from, DateTimeOffset to, string engineSystem)
    {
        var inWindow = samples.Where(s => s.Timestamp > from && s.Timestamp <= to).ToList();
        if (inWindow.Count == 0) return new ContainerSummary();
        static string Key(ContainerMetricSample s) => s.Node + "/" + s.ContainerId;
        var usage = inWindow.GroupBy(Key, StringComparer.Ordinal).Select(g =>
        {
            var last = g.MaxBy(s => s.Timestamp)!;
            var cpu = g.Where(s => s.CpuCoreSeconds is not null).ToList();
            var seconds = cpu.Sum(s => s.IntervalSeconds);
            var mem = g.Where(s => s.MemoryMB is not null).Select(s => s.MemoryMB!.Value).ToList();
            return new ContainerUsage
            {
                Node = last.Node, Container = last.Container, ContainerId = last.ContainerId, Service = last.Service, System = last.System,
                CpuCoreSeconds = cpu.Count == 0 ? double.NaN : Math.Round(cpu.Sum(s => s.CpuCoreSeconds!.Value), 3),
                CpuPercent = cpu.Count == 0 || seconds <= 0 ? double.NaN : Math.Round(cpu.Sum(s => s.CpuCoreSeconds!.Value) / seconds * 100, 2),
                MemoryPeakMB = mem.Count == 0 ? double.NaN : mem.Max(),
                Samples = g.Count(),
            };
        }).OrderBy(u => u.Node, StringComparer.Ordinal).ThenBy(u => u.Service, StringComparer.Ordinal).ThenBy(u => u.Container, StringComparer.Ordinal).ToList();

        var engine = inWindow.Where(s => string.Equals(s.System, engineSystem, StringComparison.OrdinalIgnoreCase)).ToList();
        var engineCpu = engine.Where(s => s.CpuCoreSeconds is not null).ToList();
        double peak = double.NaN;
        var latest = new Dictionary<string, double>(StringComparer.Ordinal);
        var sum = 0.0;
        foreach (var tick in engine.Where(s => s.MemoryMB is not null).GroupBy(s => s.Timestamp).OrderBy(g => g.Key))
        {
            foreach (var s in tick)
            {
                var k = Key(s);
                if (latest.TryGetValue(k, out var old)) sum -= old;
                latest[k] = s.MemoryMB!.Value;
                sum += s.MemoryMB!.Value;
            }
            peak = double.IsNaN(peak) ? sum : Math.Max(peak, sum);
        }
        return new ContainerSummary
        {
            EngineCpuCoreSeconds = engineCpu.Count == 0 ? double.NaN : Math.Round(engineCpu.Sum(s => s.CpuCoreSeconds!.Value), 3),
            EngineMemoryPeakMB = double.IsNaN(peak) ? double.NaN : Math.Round(peak, 1),
            Containers = usage,
        };
    }
}
