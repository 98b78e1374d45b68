namespace PiBench.Core.Benchmarking;

/// <summary>
/// One measured (or not run) query repetition. Flat scalars, the same properties on every instance, so
/// <c>Invoke-Benchmark | Export-Csv</c> gives a clean table. Figures that could not be measured are NaN, never 0.
/// </summary>
public sealed class BenchmarkResult
{
    public string System { get; set; } = "";
    public string Query { get; set; } = "";
    public int Repetition { get; set; }
    /// <summary>Step of a sustainable-rate search (1, 2, ...); 0 for a fixed-rate run.</summary>
    public int Step { get; set; }
    public int Parallelism { get; set; }
    /// <summary>Generator target rate, events/s.</summary>
    public double TargetRate { get; set; }
    /// <summary>Events the engine consumed per second over the measured window (input consumer-group offsets).</summary>
    public double InputRate { get; set; } = double.NaN;
    /// <summary>Result records produced per second over the measured window (output topic end offsets).</summary>
    public double OutputRate { get; set; } = double.NaN;
    public long EventsIn { get; set; }
    public long EventsOut { get; set; }
    public double LatencyP50Ms { get; set; } = double.NaN;
    public double LatencyP99Ms { get; set; } = double.NaN;
    public double LatencyP999Ms { get; set; } = double.NaN;
    public double LatencyMaxMs { get; set; } = double.NaN;
    /// <summary>
    /// Whose clock stamped the results the latency was measured against: "broker" (LogAppendTime on Pi1's broker, the
    /// clock the event times come from: one clock), "producer (CreateTime...)" (the engine's own stamps: two clocks),
    /// or "none" (no result arrived).
    /// </summary>
    public string LatencyClock { get; set; } = "none";
    /// <summary>CPU time of every node over the measured window, core-seconds.</summary>
    public double CpuCoreSeconds { get; set; } = double.NaN;
    /// <summary>
    /// CPU time of the engine's own containers (pibench.system = arroyo or flink; not the shared Kafka and MinIO) over the
    /// measured window, core-seconds, from their cgroups. CpuCoreSeconds is the whole cluster's. NaN when not measured.
    /// </summary>
    public double EngineCpuCoreSeconds { get; set; } = double.NaN;
    /// <summary>Mean busy share of a node over the window, 0..100 (100 = all cores of a node busy).</summary>
    public double CpuPercentPerNode { get; set; } = double.NaN;
    /// <summary>Highest used memory of any node during the window, MB.</summary>
    public double MemoryPeakMB { get; set; } = double.NaN;
    /// <summary>Highest summed memory of the engine's containers at one sample time in the window, MB. NaN when not measured.</summary>
    public double EngineMemoryPeakMB { get; set; } = double.NaN;
    /// <summary>Bytes received plus sent per node over the window (mean over nodes), MB (10^6 bytes).</summary>
    public double NetworkMBPerNode { get; set; } = double.NaN;
    /// <summary>Engine-reported input rate against the Kafka offset rate: "ok: ...", "mismatch: ..." or "n/a" (reported, not a validity condition).</summary>
    public string RateCheck { get; set; } = "n/a";
    public bool Valid { get; set; }
    /// <summary>Why the run is invalid (reasons separated by "; "), "" when valid.</summary>
    public string InvalidReason { get; set; } = "";
    /// <summary>Completed, Failed, Stopped (Ctrl+C during the query) or NotRun.</summary>
    public string Status { get; set; } = "NotRun";
    public long Seed { get; set; }
    public string EngineVersion { get; set; } = "";
    public DateTimeOffset StartedAt { get; set; }
    /// <summary>Length of the measured window, seconds.</summary>
    public double DurationS { get; set; }

    /// <summary>Key used by -Resume: one cell per (system, query, repetition).</summary>
    public string Key => $"{System.ToLowerInvariant()}|{Query.ToLowerInvariant()}|{Repetition}";
}
