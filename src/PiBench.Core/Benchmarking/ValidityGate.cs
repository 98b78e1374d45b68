namespace PiBench.Core.Benchmarking;

/// <summary>What the validity gate looks at for one measured run.</summary>
public sealed class ValidityInput
{
    /// <summary>The generator's own verdict (NexmarkGeneratorRun.Valid) and reason; null when it was not consulted.</summary>
    public bool? GeneratorValid { get; init; }
    public string GeneratorReason { get; init; } = "";
    /// <summary>Nodes with a get_throttled "now" bit in any sample of the window.</summary>
    public IReadOnlyList<string> ThrottledNodes { get; init; } = Array.Empty<string>();
    /// <summary>Job restarts seen during the window (engine job attempt / restart count).</summary>
    public int JobRestarts { get; init; }
    /// <summary>Terminal job state seen during the window (FAILED, CANCELED, ...), "" when it kept running.</summary>
    public string JobFailure { get; init; } = "";
    /// <summary>Consumer-group lag of the input topic over the window: (seconds since start, lag in events).</summary>
    public IReadOnlyList<(double Seconds, double Lag)> LagSeries { get; init; } = Array.Empty<(double, double)>();
    /// <summary>
    /// Seconds between the engine's offset commits (its checkpoint interval; 0 = it commits continuously). Committed
    /// offsets then move in steps, so the lag is a saw-tooth: its trend is taken from the lowest lag of each
    /// commit-interval block (right after each commit), and the input-rate cross-check allows for the steps.
    /// </summary>
    public double CommitIntervalSeconds { get; init; }
    /// <summary>Target input rate, events/s (for the lag bound).</summary>
    public double TargetRate { get; init; }
    /// <summary>Engine-reported input rate and the Kafka-offset input rate, for the cross-check (NaN = not available).</summary>
    public double EngineInputRate { get; init; } = double.NaN;
    public double OffsetInputRate { get; init; } = double.NaN;
    /// <summary>Engine-reported sink rate and the result topic's growth rate, for the cross-check (NaN = not available).</summary>
    public double EngineOutputRate { get; init; } = double.NaN;
    public double OffsetOutputRate { get; init; } = double.NaN;
    /// <summary>Share of expected metric samples that are missing (0..1).</summary>
    public double MissingSampleFraction { get; init; }
    /// <summary>
    /// Events the generator had sent when it had run out of input (TotalEvents) before the window closed; -1 when it
    /// was still producing. Input that stops inside the window makes rates and lag meaningless.
    /// </summary>
    public long InputEndedAfterEvents { get; init; } = -1;
    /// <summary>Events/s the broker appended to the input topic during the window (end offsets), NaN when not read.</summary>
    public double BrokerInputRate { get; init; } = double.NaN;
    /// <summary>Seconds between the first and last end-offset read behind <see cref="BrokerInputRate"/>.</summary>
    public double BrokerInputSeconds { get; init; }
    /// <summary>The generator's client queue (handed to the Kafka client, not yet acknowledged) over the window: (seconds, events).</summary>
    public IReadOnlyList<(double Seconds, double Pending)> ClientQueue { get; init; } = Array.Empty<(double, double)>();
    /// <summary>Broker host clock minus the generator host's, ms (0 = same host); NaN = not measured.</summary>
    public double ClockOffsetMs { get; init; } = double.NaN;
    /// <summary>True when the cell has a latency figure, so the clock it rests on matters.</summary>
    public bool LatencyMeasured { get; init; }
    /// <summary>Latencies recorded, and those that came out negative or beyond the histogram (clamped).</summary>
    public long LatencySamples { get; init; }
    public long BadLatencies { get; init; }
    /// <summary>The output count against the query's band (<see cref="OutputExpectation.Judge"/>): outside = invalid.</summary>
    public bool OutputOutsideBand { get; init; }
    public string OutputCheck { get; init; } = "";
}

/// <summary>Thresholds of the gate (methodology §3.2, §3.3, §3.7).</summary>
public sealed class ValidityThresholds
{
    /// <summary>Lag may grow by at most this fraction of the load per second (Theodolite / ShuffleBench: 1 %).</summary>
    public double MaxLagSlopeFractionOfLoad { get; init; } = 0.01;
    /// <summary>
    /// ... and the lag must also have grown by more than this many seconds of input over the window: a lag that grew by
    /// less than one second of load is commit granularity, not evidence of a backlog. Default 1.
    /// </summary>
    public double MinLagGrowthSecondsOfLoad { get; init; } = 1.0;
    /// <summary>Engine and Kafka input rates may differ by this fraction before the run is flagged. Default 5 %.</summary>
    public double RateCrossCheckTolerance { get; init; } = 0.05;
    /// <summary>Largest tolerated share of missing metric samples. Default 10 %.</summary>
    public double MaxMissingSampleFraction { get; init; } = 0.10;
    /// <summary>The broker must append at least this fraction of the target rate during the window. Default 0.995 (the generator's own bound).</summary>
    public double MinBrokerInputFraction { get; init; } = 0.995;
    /// <summary>
    /// Seconds of input the broker may trail by at the window's two ends without counting as a shortfall: the client's
    /// batching (linger) and the end-offset reads themselves, delayed by a busy host. Default 0.1 s.
    /// </summary>
    public double BrokerInputSlackSeconds { get; init; } = 0.1;
    /// <summary>The client queue may grow by at most this fraction of the target per second ... Default 0.005 (0.5 %).</summary>
    public double MaxClientQueueGrowthFractionOfLoad { get; init; } = 0.005;
    /// <summary>... and by no more than this many seconds of input over the window (batching noise). Default 0.5 s.</summary>
    public double MinClientQueueGrowthSecondsOfLoad { get; init; } = 0.5;
    /// <summary>... and by more than this many events (acknowledgement jitter at low rates). Default 1,000.</summary>
    public double MinClientQueueGrowthEvents { get; init; } = 1_000;
    /// <summary>Largest tolerated offset between the broker's clock and the generator's, ms. Default 10.</summary>
    public double MaxClockOffsetMs { get; init; } = 10;
    /// <summary>Largest tolerated share of negative or clamped latencies. Default 0.001 (0.1 %).</summary>
    public double MaxBadLatencyFraction { get; init; } = 0.001;
}

/// <summary>Decides Valid / InvalidReason. Invalid runs are kept and reported, never dropped.</summary>
public static class ValidityGate
{
    /// <summary>Stable beginnings of reasons that other parts (the sustainable search) classify.</summary>
    public const string BrokerShortfall = "broker ingested ";
    public const string ClientQueueGrew = "generator's client queue grew ";
    public const string OutputOutside = "output outside the expected band";
    public const string ClockOffset = "clock offset to the broker host ";
    public const string BadLatencies = "negative or clamped latencies ";

    /// <summary>
    /// Cross-check of the engine's own rates against Kafka: input (engine sources vs the consumer group's committed
    /// offsets) and output (engine sinks vs the result topic's growth). "ok: ..." when every available pair is within
    /// the tolerance, "mismatch: ..." when one is not, "n/a" when no pair can be compared. Reported, not a validity
    /// condition: engines commit input offsets only at checkpoints, so that side is coarse over short windows.
    /// </summary>
    public static string RateCheck(ValidityInput input, ValidityThresholds? thresholds = null)
    {
        var t = thresholds ?? new ValidityThresholds();
        var parts = new List<string>();
        var mismatch = false;
        void Pair(string what, double engine, double kafka, double tolerance)
        {
            if (!double.IsFinite(engine) || !double.IsFinite(kafka)) return;
            if (kafka <= 0 && engine <= 0) { parts.Add($"{what} engine 0/s vs Kafka 0/s"); return; }
            var diff = kafka > 0 ? Math.Abs(engine - kafka) / kafka : double.PositiveInfinity;
            mismatch |= diff > tolerance;
            var own = tolerance > t.RateCrossCheckTolerance
                ? string.Create(global::System.Globalization.CultureInfo.InvariantCulture, $", tolerance {tolerance:P0} for checkpointed commits") : "";
            parts.Add(string.Create(global::System.Globalization.CultureInfo.InvariantCulture,
                $"{what} engine {engine:0.##}/s vs Kafka {kafka:0.##}/s ({(double.IsInfinity(diff) ? "n/a" : diff.ToString("P1", global::System.Globalization.CultureInfo.InvariantCulture))}{own})"));
        }
        // Committed offsets move at checkpoints: each end of the window can be off by one commit interval.
        var window = input.LagSeries.Count >= 2 ? input.LagSeries[^1].Seconds - input.LagSeries[0].Seconds : 0;
        var inputTolerance = input.CommitIntervalSeconds > 0 && window > 0 ? Math.Max(t.RateCrossCheckTolerance, input.CommitIntervalSeconds / window) : t.RateCrossCheckTolerance;
        Pair("input", input.EngineInputRate, input.OffsetInputRate, inputTolerance);
        Pair("output", input.EngineOutputRate, input.OffsetOutputRate, t.RateCrossCheckTolerance);
        if (parts.Count == 0) return "n/a";
        var text = string.Join("; ", parts) + string.Create(global::System.Globalization.CultureInfo.InvariantCulture, $", tolerance {t.RateCrossCheckTolerance:P0}");
        return (mismatch ? "mismatch: " : "ok: ") + text;
    }

    /// <summary>
    /// The lag points the trend is fitted to: every sample when offsets are committed continuously; otherwise the
    /// lowest lag of each block of (commit interval + 1 s), the points right after a commit, so the saw-tooth of
    /// checkpoint commits does not look like a growing backlog.
    /// </summary>
    public static List<(double X, double Y)> LagTrendSeries(ValidityInput input)
    {
        var points = input.LagSeries.Select(p => (p.Seconds, p.Lag)).ToList();
        if (input.CommitIntervalSeconds <= 0 || points.Count == 0) return points;
        var block = input.CommitIntervalSeconds + 1;
        var start = points[0].Seconds;
        var end = points[^1].Seconds;
        // Only whole blocks: a block cut short by the window's end may hold no commit, and its lowest lag would be
        // a saw-tooth peak, not a post-commit point.
        return points.GroupBy(p => (long)Math.Floor((p.Seconds - start) / block))
            .Where(g => start + (g.Key + 1) * block - 1.5 <= end) // 1-s samples, timed with a little jitter
            .OrderBy(g => g.Key)
            .Select(g => g.OrderBy(p => p.Lag).First())
            .ToList();
    }

    public static (bool Valid, string Reason) Evaluate(ValidityInput input, ValidityThresholds? thresholds = null)
    {
        var t = thresholds ?? new ValidityThresholds();
        var reasons = new List<string>();
        if (input.GeneratorValid == false)
            reasons.Add("generator fell behind" + (string.IsNullOrWhiteSpace(input.GeneratorReason) ? "" : $" ({input.GeneratorReason})"));
        if (input.ThrottledNodes.Count > 0)
            reasons.Add($"node throttled: {string.Join(",", input.ThrottledNodes.Distinct().Order(StringComparer.Ordinal))}");
        if (input.JobRestarts > 0) reasons.Add($"job restarted {input.JobRestarts} time(s)");
        if (!string.IsNullOrEmpty(input.JobFailure)) reasons.Add($"job {input.JobFailure}");
        var lag = LagTrendSeries(input);
        if (lag.Count >= (input.CommitIntervalSeconds > 0 ? 2 : 3) && input.TargetRate > 0)
        {
            var slope = Statistics.Slope(lag);
            var span = lag[^1].X - lag[0].X;
            if (double.IsFinite(slope) && slope > t.MaxLagSlopeFractionOfLoad * input.TargetRate
                && slope * span > t.MinLagGrowthSecondsOfLoad * input.TargetRate)
                reasons.Add($"consumer lag unbounded (+{slope:0.#} events/s, limit {t.MaxLagSlopeFractionOfLoad * input.TargetRate:0.#})");
        }
        else if (input.CommitIntervalSeconds > 0 && input.LagSeries.Count > 0 && input.TargetRate > 0)
            reasons.Add(string.Create(global::System.Globalization.CultureInfo.InvariantCulture,
                $"consumer lag not judged: with offsets committed every {input.CommitIntervalSeconds:0.#} s (checkpoints) the window needs at least {2 * (input.CommitIntervalSeconds + 1):0.#} s; measure longer"));
        if (input.InputEndedAfterEvents >= 0)
            reasons.Add($"input ended inside the window after {input.InputEndedAfterEvents} events (raise TotalEvents to cover warm-up and measurement)");
        if (input.MissingSampleFraction > t.MaxMissingSampleFraction)
            reasons.Add($"{input.MissingSampleFraction:P0} of metric samples missing");
        var inv = global::System.Globalization.CultureInfo.InvariantCulture;
        // Input measured at the broker, not at hand-off to the Kafka client (whose queue can hold 500,000 events).
        if (input.TargetRate > 0 && double.IsFinite(input.BrokerInputRate) && input.BrokerInputSeconds > 0)
        {
            var need = t.MinBrokerInputFraction * input.TargetRate * input.BrokerInputSeconds - t.BrokerInputSlackSeconds * input.TargetRate;
            if (input.BrokerInputRate * input.BrokerInputSeconds < need)
                reasons.Add(string.Create(inv, $"{BrokerShortfall}{input.BrokerInputRate:0.##} events/s, below {t.MinBrokerInputFraction:P1} of the target {input.TargetRate:0.##} events/s (input topic end offsets over {input.BrokerInputSeconds:0.#} s)"));
        }
        if (input.TargetRate > 0 && input.ClientQueue.Count >= 3)
        {
            var pts = input.ClientQueue.Select(p => (p.Seconds, p.Pending)).ToList();
            var slope = Statistics.Slope(pts);
            var grew = pts[^1].Pending - pts[0].Pending;
            if (double.IsFinite(slope) && slope > t.MaxClientQueueGrowthFractionOfLoad * input.TargetRate && grew > Math.Max(t.MinClientQueueGrowthSecondsOfLoad * input.TargetRate, t.MinClientQueueGrowthEvents))
                reasons.Add(string.Create(inv, $"{ClientQueueGrew}by {slope:0.#} events/s ({pts[0].Pending:0} -> {pts[^1].Pending:0} events not yet acknowledged by the broker)"));
        }
        if (input.LatencyMeasured)
        {
            if (double.IsNaN(input.ClockOffsetMs))
                reasons.Add($"{ClockOffset}not measured: latency compares the broker's append time with this host's intended send times (run on the broker's host, or give the topology so the offset can be measured)");
            else if (Math.Abs(input.ClockOffsetMs) > t.MaxClockOffsetMs)
                reasons.Add(string.Create(inv, $"{ClockOffset}{input.ClockOffsetMs:+0.#;-0.#} ms, beyond {t.MaxClockOffsetMs:0.#} ms (latency would be off by as much)"));
        }
        var all = input.LatencySamples + input.BadLatencies;
        if (all > 0 && (double)input.BadLatencies / all > t.MaxBadLatencyFraction)
            reasons.Add(string.Create(inv, $"{BadLatencies}{input.BadLatencies} of {all} ({(double)input.BadLatencies / all:P2}, limit {t.MaxBadLatencyFraction:P1})"));
        if (input.OutputOutsideBand)
            reasons.Add($"{OutputOutside}: {input.OutputCheck.Replace("outside: ", "", StringComparison.Ordinal)}");
        return (reasons.Count == 0, string.Join("; ", reasons));
    }
}
