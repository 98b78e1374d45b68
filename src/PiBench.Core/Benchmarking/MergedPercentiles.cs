using HdrHistogram;

namespace PiBench.Core.Benchmarking;

/// <summary>
/// Percentiles over several repetitions from their merged latency histograms, never from averaged per-repetition
/// percentiles (an average of p99s is not the p99 of anything). Each repetition's histogram is the sum of the interval
/// histograms in its .hlog. The confidence interval of a percentile is a bootstrap over repetitions: resample the
/// repetitions with replacement, merge, take the percentile; the 2.5th and 97.5th of those values are the bounds
/// (percentile method, a fixed seed so the files are reproducible). With few repetitions the interval is coarse
/// (three repetitions allow only ten distinct resamples), and with one there is none.
/// </summary>
public sealed class MergedPercentiles
{
    public const int Resamples = 1000;
    public const string CiMethod = "bootstrap over repetitions (1000 resamples of the repetitions' histograms, merged; 2.5th-97.5th percentile)";

    private readonly long[] _values;          // union of the recorded values (highest equivalent value of each bucket), ascending
    private readonly long[][] _counts;        // per repetition, count at each union value

    public int Repetitions => _counts.Length;
    public long TotalCount { get; }

    public MergedPercentiles(IReadOnlyList<HistogramBase> perRepetition)
    {
        var perRun = perRepetition.Select(h => h.RecordedValues().Select(v => (v.ValueIteratedTo, v.CountAtValueIteratedTo)).ToList()).ToList();
        _values = perRun.SelectMany(r => r.Select(v => v.ValueIteratedTo)).Distinct().Order().ToArray();
        var index = new Dictionary<long, int>(_values.Length);
        for (var i = 0; i < _values.Length; i++) index[_values[i]] = i;
        _counts = perRun.Select(r =>
        {
            var c = new long[_values.Length];
            foreach (var (v, n) in r) c[index[v]] += n;
            return c;
        }).ToArray();
        TotalCount = _counts.Sum(c => c.Sum());
    }

    /// <summary>Reads a .hlog written by <see cref="LatencyRecorder.WriteIntervalLog"/> and sums its intervals; null when absent or unreadable.</summary>
    public static HistogramBase? ReadLog(string path)
    {
        try
        {
            using var fs = File.OpenRead(path);
            using var reader = new HistogramLogReader(fs);
            var sum = new LongHistogram(1, 3_600_000_000L, 3);
            foreach (var h in reader.ReadHistograms()) sum.Add(h);
            return sum;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or InvalidOperationException or ArgumentException or IndexOutOfRangeException)
        {
            return null;
        }
    }

    /// <summary>The percentile (0..100) of the merged histogram, in the histogram's unit; NaN when nothing was recorded.</summary>
    public double ValueAt(double percentile) => ValueAt(percentile, Enumerable.Repeat(1, _counts.Length).ToArray());

    /// <summary>The highest recorded value of the merged histogram.</summary>
    public double Max => TotalCount == 0 ? double.NaN : _values[Enumerable.Range(0, _values.Length).Last(i => _counts.Any(c => c[i] > 0))];

    /// <summary>Bootstrap 95 % interval of the percentile; (NaN, NaN) with fewer than two repetitions.</summary>
    public (double Low, double High) BootstrapCi(double percentile, int resamples = Resamples, int seed = 20_251_203)
    {
        var n = _counts.Length;
        if (n < 2 || TotalCount == 0) return (double.NaN, double.NaN);
        var rng = new Random(seed);
        var estimates = new double[resamples];
        var weights = new int[n];
        for (var b = 0; b < resamples; b++)
        {
            Array.Clear(weights);
            for (var k = 0; k < n; k++) weights[rng.Next(n)]++;
            estimates[b] = ValueAt(percentile, weights);
        }
        var finite = estimates.Where(double.IsFinite).Order().ToArray();
        if (finite.Length == 0) return (double.NaN, double.NaN);
        return (Quantile(finite, 0.025), Quantile(finite, 0.975));
    }

    /// <summary>HdrHistogram's rule: the smallest value whose cumulative count reaches max(1, round(p/100 × total)).</summary>
    private double ValueAt(double percentile, int[] weights)
    {
        long total = 0;
        for (var r = 0; r < _counts.Length; r++) if (weights[r] > 0) total += weights[r] * _counts[r].Sum();
        if (total == 0) return double.NaN;
        var p = Math.Clamp(percentile, 0, 100);
        var target = Math.Max(1, (long)(p / 100 * total + 0.5));
        long cumulative = 0;
        for (var i = 0; i < _values.Length; i++)
        {
            for (var r = 0; r < _counts.Length; r++) cumulative += weights[r] * _counts[r][i];
            if (cumulative >= target) return _values[i];
        }
        return _values[^1];
    }

    /// <summary>Linear-interpolated quantile of sorted values (q in 0..1).</summary>
    private static double Quantile(double[] sorted, double q)
    {
        var pos = q * (sorted.Length - 1);
        var lo = (int)Math.Floor(pos);
        var hi = (int)Math.Ceiling(pos);
        return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
    }
}
