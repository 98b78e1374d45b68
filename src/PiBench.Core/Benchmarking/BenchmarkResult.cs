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
    /// <summary>
    /// Events per second into the job over the measured window by the engine's own metrics (source counters, or the mean
    /// of its rate samples); the Kafka figure (<see cref="KafkaInputRate"/>) when the engine gave none. <see cref="RateSource"/> says which.
    /// </summary>
    public double InputRate { get; set; } = double.NaN;
    /// <summary>Records per second into the job's sink over the window by the engine's metrics; else the result topic's growth.</summary>
    public double OutputRate { get; set; } = double.NaN;
    /// <summary>Input by Kafka: growth of the engine consumer group's committed offsets over the window, per second (coarse: commits follow checkpoints).</summary>
    public double KafkaInputRate { get; set; } = double.NaN;
    /// <summary>Output by Kafka: growth of the result topic's end offsets over the window, per second.</summary>
    public double KafkaOutputRate { get; set; } = double.NaN;
    /// <summary>How InputRate and OutputRate were obtained, e.g. "input: engine counters over 120 s; output: engine counters over 120 s".</summary>
    public string RateSource { get; set; } = "";
    /// <summary>Events consumed over the window by the committed offsets of the engine's consumer group.</summary>
    public long EventsIn { get; set; }
    /// <summary>Result records appended to the result topic over the window.</summary>
    public long EventsOut { get; set; }
    public double LatencyP50Ms { get; set; } = double.NaN;
    public double LatencyP99Ms { get; set; } = double.NaN;
    public double LatencyP999Ms { get; set; } = double.NaN;
    public double LatencyMaxMs { get; set; } = double.NaN;
    /// <summary>What the latency is measured against: "event time of the bid", "window end", ... or "none: ..." (no latency figure).</summary>
    public string LatencyReference { get; set; } = "";
    /// <summary>
    /// For latency against a window end: the source watermark's delay behind event time (4,000 ms), included in the
    /// latency figures; subtract it for the engine's own share. 0 otherwise.
    /// </summary>
    public double WatermarkDelayMs { get; set; }
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
    /// <summary>Engine rates against Kafka (input: committed offsets; output: result topic growth): "ok: ...", "mismatch: ..." or "n/a" (reported, not a validity condition).</summary>
    public string RateCheck { get; set; } = "n/a";
    /// <summary>The engine's answers against PiBench's reference result for the events of this cell (Test-NexmarkQueryResult):
    /// Correct, Incorrect (the cell is invalid) or NotChecked (ResultCheckReason says why: no reference for the query,
    /// -SkipResultCheck, input not a known prefix, engine not drained).</summary>
    public string ResultCheck { get; set; } = "NotChecked";
    public string ResultCheckReason { get; set; } = "";
    /// <summary>Rows the reference expects for the events sent (windows still open at the end excluded: PendingRows).</summary>
    public long ExpectedRows { get; set; } = -1;
    /// <summary>Messages in the result topic.</summary>
    public long ReceivedRows { get; set; } = -1;
    public long MissingRows { get; set; } = -1;
    public long ExtraRows { get; set; } = -1;
    /// <summary>Rows with an expected row's key but other values.</summary>
    public long MismatchedRows { get; set; } = -1;
    /// <summary>Expected rows of windows that may not have fired when the input ended (not errors either way).</summary>
    public long PendingRows { get; set; } = -1;
    public bool Valid { get; set; }
    /// <summary>Why the run is invalid (reasons separated by "; "), "" when valid.</summary>
    public string InvalidReason { get; set; } = "";
    /// <summary>Completed, Failed, Stopped (Ctrl+C during the query) or NotRun.</summary>
    public string Status { get; set; } = "NotRun";
    public long Seed { get; set; }
    public string EngineVersion { get; set; } = "";
    public DateTimeOffset StartedAt { get; set; }
    /// <summary>Seconds of warm-up before the window opened.</summary>
    public double WarmupS { get; set; }
    /// <summary>How the window's start was chosen: "detected after N s (series)", "not detected within N s ...", or "fixed warm-up N s".</summary>
    public string SteadyState { get; set; } = "";
    /// <summary>Length of the measured window, seconds.</summary>
    public double DurationS { get; set; }

    /// <summary>Key used by -Resume: one cell per (system, query, repetition).</summary>
    public string Key => $"{System.ToLowerInvariant()}|{Query.ToLowerInvariant()}|{Repetition}";
}
