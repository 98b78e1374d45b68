using System.Globalization;
using PiBench.Core.Engines;

namespace PiBench.Core.Benchmarking;

/// <summary>
/// The engine's own throughput over a measured window, from metric samples taken during it (at the start, every
/// second or few, at the end), with the real age of what was read.
/// <para>Counters (Flink numRecordsOut of the sources, numRecordsIn of the sinks) are served from the JobManager's metric
/// cache, refreshed every metrics.fetcher.update-interval (10 s by default, 1 s as PiBench deploys it): a read returns
/// the value of the last refresh, not of the moment it was asked. So the rate is taken between refresh boundaries: the
/// first and the last sample at which the counter changed (the value became fresh between that sample and the one
/// before it). The counter difference between them over the time between them is the rate; each boundary is known
/// only to within the gap before its sample, so the figure carries the bound ±max(gap) / span.</para>
/// <para>Smoothed rates (Arroyo 0.11 messages_sent / messages_recv: EWMAs updated every 2 s with alpha 0.1, about 20 s of
/// memory; COLLECTION_RATE and EWMA_ALPHA in crates/arroyo-controller/src/job_controller/job_metrics.rs at v0.11.0) lag a
/// changing rate and are never the window's figure: their mean is a cross-check only. The Flink cache interval is
/// MetricOptions' metrics.fetcher.update-interval, default 10000 ms.</para>
/// </summary>
public sealed class EngineRateSeries
{
    private readonly List<StreamJobMetrics> _samples = new();

    public int Count => _samples.Count;
    /// <summary>Samples that could not be taken (the engine did not answer), and the last reason.</summary>
    public int Failures { get; private set; }
    public string LastError { get; private set; } = "";

    public void Add(StreamJobMetrics sample) => _samples.Add(sample);

    public void Failed(string reason)
    {
        Failures++;
        LastError = reason;
    }

    /// <summary>
    /// Source records per second between two consecutive samples (the warm-up's steadiness series): the counter
    /// difference over the time between them where the engine keeps counters (NaN for the first sample, or when the
    /// counter did not move because the cache was not refreshed in between), else the engine's own smoothed rate in
    /// <paramref name="current"/> (NaN when it reports none).
    /// </summary>
    public static double SourceRateBetween(StreamJobMetrics? previous, StreamJobMetrics current)
    {
        if (current.SourceRecordsOut < 0) return current.SourceRecordsPerSecond;
        var span = previous is null ? 0 : (current.SampledAt - previous.SampledAt).TotalSeconds;
        return previous is { SourceRecordsOut: >= 0 } && span > 0 ? (current.SourceRecordsOut - previous.SourceRecordsOut) / span : double.NaN;
    }

    /// <summary>A rate from the engine and what it is: exact within ±Error (counters) or a smoothed cross-check (Error NaN).</summary>
    public readonly record struct EngineRate(double Rate, string Method, double Error, bool FromCounters)
    {
        public static readonly EngineRate None = new(double.NaN, "", double.NaN, false);
    }

    /// <summary>Records per second out of the job's sources.</summary>
    public EngineRate Input() => Rate(m => m.SourceRecordsOut, m => m.SourceRecordsPerSecond);

    /// <summary>Records per second into the sinks (the job's output).</summary>
    public EngineRate Output() => Rate(m => m.SinkRecordsIn, m => m.SinkRecordsPerSecond);

    private EngineRate Rate(Func<StreamJobMetrics, long> counter, Func<StreamJobMetrics, double> rate)
    {
        if (CounterAtRefreshBoundaries(_samples.Select(m => (m.SampledAt, counter(m), m.ValuesTakenAfter)).ToList()) is { } c) return c;
        var rates = _samples.Select(rate).Where(double.IsFinite).ToList();
        if (rates.Count > 0)
            return new EngineRate(Math.Round(rates.Average(), 2),
                $"engine smoothed rate (mean of {rates.Count} sample(s); Arroyo rates are EWMAs with ~20 s memory: cross-check only)", double.NaN, false);
        return EngineRate.None;
    }

    /// <summary>
    /// The counter rate between the first and last refresh boundary seen (a sample whose value differs from the sample
    /// before it), with its bound; null when the counters are missing or changed fewer than twice. A boundary's value was
    /// taken between the sample before it and its own sample, or earlier when the adapter says so (After: Flink's values
    /// can be taken at the previous sample's request, before that sample's answer), so its uncertainty runs from the
    /// earlier of the two to its sample.
    /// </summary>
    public static EngineRate? CounterAtRefreshBoundaries(IReadOnlyList<(DateTimeOffset At, long Value, DateTimeOffset? After)> samples)
    {
        if (samples.Count < 3 || samples.Any(s => s.Value < 0)) return null;
        var changes = new List<int>();
        for (var i = 1; i < samples.Count; i++) if (samples[i].Value != samples[i - 1].Value) changes.Add(i);
        if (changes.Count < 2) return null;
        var (a, b) = (changes[0], changes[^1]);
        var span = (samples[b].At - samples[a].At).TotalSeconds;
        if (span < 1) return null;
        double Width(int i) => (samples[i].At - (samples[i].After is { } after && after < samples[i - 1].At ? after : samples[i - 1].At)).TotalSeconds;
        var gap = Math.Max(Width(a), Width(b));
        var error = gap / span;
        return new EngineRate(Math.Round((samples[b].Value - samples[a].Value) / span, 2),
            string.Create(CultureInfo.InvariantCulture, $"engine counters between refresh boundaries over {span:0.#} s (±{error:P1}: each boundary known to {gap:0.#} s)"),
            Math.Round(error, 4), true);
    }
}
