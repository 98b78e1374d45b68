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
    /// Events per second into the job over the measured window: the engine's cumulative source counters taken at
    /// their refresh boundaries (Flink) when it keeps counters, else the growth of the engine consumer group's committed
    /// offsets (<see cref="KafkaInputRate"/>). Never a smoothed or cached rate (those are <see cref="EngineInputRate"/>,
    /// a cross-check). <see cref="RateSource"/> says which; <see cref="InputRateError"/> bounds it.
    /// </summary>
    public double InputRate { get; set; } = double.NaN;
    /// <summary>Records per second appended to the result topic over the window (= <see cref="KafkaOutputRate"/>, measured at the broker).</summary>
    public double OutputRate { get; set; } = double.NaN;
    /// <summary>Relative bound (±, 0.02 = 2 %) on <see cref="InputRate"/> from the age of what it was computed from; NaN when unknown.</summary>
    public double InputRateError { get; set; } = double.NaN;
    /// <summary>
    /// Input as the engine reports it, a cross-check: counter difference (Flink) or the mean of its smoothed rate samples
    /// (Arroyo: EWMAs with about 20 s of memory). NaN when the engine gave nothing.
    /// </summary>
    public double EngineInputRate { get; set; } = double.NaN;
    /// <summary>Output as the engine reports it (sink counters or smoothed sink rates), a cross-check of <see cref="OutputRate"/>.</summary>
    public double EngineOutputRate { get; set; } = double.NaN;
    /// <summary>
    /// Events per second the broker appended to the input topic during the window: growth of the input topic's end
    /// offsets between the first and last of the once-a-second reads, over the time between those reads.
    /// </summary>
    public double BrokerInputRate { get; set; } = double.NaN;
    /// <summary>Events the broker appended to the input topic during the window (the end-offset growth behind <see cref="BrokerInputRate"/>).</summary>
    public long BrokerInputEvents { get; set; }
    /// <summary>Growth of the generator's client queue (handed to the Kafka client, not yet acknowledged) over the window, events/s (least squares).</summary>
    public double ClientQueueGrowth { get; set; } = double.NaN;
    /// <summary>Input by Kafka: growth of the engine consumer group's committed offsets over the window, per second (coarse: commits follow checkpoints).</summary>
    public double KafkaInputRate { get; set; } = double.NaN;
    /// <summary>Output by Kafka: growth of the result topic's end offsets over the window, per second.</summary>
    public double KafkaOutputRate { get; set; } = double.NaN;
    /// <summary>
    /// How InputRate, OutputRate and the engine's cross-check figures were obtained, e.g. "input: engine counters at
    /// refresh boundaries over 118 s (±1.7 %); output: result topic end offsets; engine: ...".
    /// </summary>
    public string RateSource { get; set; } = "";
    /// <summary>Events consumed over the window by the committed offsets of the engine's consumer group.</summary>
    public long EventsIn { get; set; }
    /// <summary>Result records appended to the result topic over the window.</summary>
    public long EventsOut { get; set; }
    public double LatencyP50Ms { get; set; } = double.NaN;
    public double LatencyP99Ms { get; set; } = double.NaN;
    public double LatencyP999Ms { get; set; } = double.NaN;
    public double LatencyMaxMs { get; set; } = double.NaN;
    /// <summary>Latency samples recorded in the window (results with a readable event time).</summary>
    public long LatencySamples { get; set; }
    /// <summary>Results whose latency came out negative (append time before the event time): counted, not recorded.</summary>
    public long NegativeLatencies { get; set; }
    /// <summary>Results whose latency exceeded the histogram's range (1 h) and were recorded at its top.</summary>
    public long ClampedLatencies { get; set; }
    /// <summary>
    /// Broker host clock minus this host's clock (the generator's), ms, measured at the cell's start; 0 when the broker is
    /// on this host (loopback); NaN when not measured. See <see cref="ClockCheck"/>.
    /// </summary>
    public double ClockOffsetMs { get; set; } = double.NaN;
    /// <summary>How the clock offset was obtained and judged, e.g. "same host (loopback broker)" or "measured on pi1 over SSH: +3.1 ms (limit 10 ms)".</summary>
    public string ClockCheck { get; set; } = "";
    /// <summary>The band the output count should fall in for this query, e.g. "every bid: 0.92 per input event (±10 %)".</summary>
    public string ExpectedOutput { get; set; } = "";
    /// <summary>The output count against that band: "ok: ...", "outside: ..." (the cell is invalid) or "not judged: ...".</summary>
    public string OutputCheck { get; set; } = "";
    /// <summary>The cell's latency interval log (.hlog), a file name in the results directory; "" when none was written.</summary>
    public string HistogramFile { get; set; } = "";
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
