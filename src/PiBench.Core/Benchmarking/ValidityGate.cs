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
}

/// <summary>Decides Valid / InvalidReason. Invalid runs are kept and reported, never dropped.</summary>
public static class ValidityGate
{
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
        return (reasons.Count == 0, string.Join("; ", reasons));
    }
}
