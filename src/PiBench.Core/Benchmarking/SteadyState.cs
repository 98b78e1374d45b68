namespace PiBench.Core.Benchmarking;

/// <summary>Where the measured window starts in a 1-sample-per-interval throughput series, and how that was decided.</summary>
public readonly record struct SteadyStateResult(int StartIndex, bool Detected, string Method, double WindowCv);

/// <summary>
/// Steady-state detection: the first index from which a rolling window of throughput samples has a coefficient of
/// variation at or below a limit, no trend inside the window (its halves' means differ by at most a quarter of that limit), and a mean within a band of the series' tail mean (so a flat but still-ramping start
/// does not count). Falls back to a fixed warm-up when nothing qualifies or when told to.
/// </summary>
public static class SteadyState
{
    /// <param name="throughput">Samples, one per interval (e.g. consumed events per second).</param>
    /// <param name="window">Samples in the rolling window. Default 10.</param>
    /// <param name="maxCv">Largest coefficient of variation accepted. Default 0.10.</param>
    /// <param name="fixedWarmupSamples">Fallback start index (the fixed warm-up), also used when <paramref name="forceFixed"/>.</param>
    /// <param name="forceFixed">Skip detection and use the fixed warm-up (-FixedWarmup).</param>
    /// <param name="tailBand">Window mean must be within this fraction of the last window's mean. Default 0.15.</param>
    public static SteadyStateResult Detect(IReadOnlyList<double> throughput, int fixedWarmupSamples, int window = 10, double maxCv = 0.10,
        bool forceFixed = false, double tailBand = 0.15)
    {
        var fallback = Math.Clamp(fixedWarmupSamples, 0, Math.Max(0, throughput.Count - 1));
        if (forceFixed) return new SteadyStateResult(fallback, false, "FixedWarmup", double.NaN);
        if (window < 2 || throughput.Count < window * 2) return new SteadyStateResult(fallback, false, "FixedWarmup(too-few-samples)", double.NaN);
        var tail = throughput.Skip(throughput.Count - window).Average();
        for (var i = 0; i + window <= throughput.Count - window; i++)
        {
            var w = throughput.Skip(i).Take(window).ToArray();
            var mean = w.Average();
            if (mean <= 0) continue;
            var sd = Math.Sqrt(w.Sum(x => (x - mean) * (x - mean)) / (w.Length - 1));
            var cv = sd / mean;
            var half = window / 2;
            var trend = Math.Abs(w.Take(half).Average() - w.Skip(half).Average()) / mean; // a ramp inside the window
            if (cv <= maxCv && trend <= maxCv / 4 && Math.Abs(mean - tail) <= tailBand * Math.Max(tail, 1e-9))
                return new SteadyStateResult(i, true, "Detected", cv);
        }
        return new SteadyStateResult(fallback, false, "FixedWarmup(no-steady-state)", double.NaN);
    }
}
