using System.Globalization;
using PiBench.Core.Engines;

namespace PiBench.Core.Benchmarking;

/// <summary>
/// The engine's own throughput over a measured window, from metric samples taken during it (at the start, every few
/// seconds, at the end). Where the engine keeps cumulative counters (Flink numRecordsOut of the sources, numRecordsIn of
/// the sinks) the rate is the counter difference between the first and last sample over the time between them: exact.
/// Where it reports only smoothed rates (Arroyo messages_sent / messages_recv), the rate is the mean of the samples.
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
    /// Source records per second between two consecutive samples: the counter difference over the time between them
    /// where the engine keeps counters (NaN for the first sample, which has no predecessor), else the engine's own
    /// smoothed rate in <paramref name="current"/> (NaN when it reports none).
    /// </summary>
    public static double SourceRateBetween(StreamJobMetrics? previous, StreamJobMetrics current)
    {
        if (current.SourceRecordsOut < 0) return current.SourceRecordsPerSecond;
        var span = previous is null ? 0 : (current.SampledAt - previous.SampledAt).TotalSeconds;
        return previous is { SourceRecordsOut: >= 0 } && span > 0 ? (current.SourceRecordsOut - previous.SourceRecordsOut) / span : double.NaN;
    }

    /// <summary>Records per second into the job (sources) and how it was obtained; NaN when the engine gave nothing usable.</summary>
    public (double Rate, string Method) Input() => Rate(m => m.SourceRecordsOut, m => m.SourceRecordsPerSecond);

    /// <summary>Records per second into the sinks (the job's output) and how it was obtained.</summary>
    public (double Rate, string Method) Output() => Rate(m => m.SinkRecordsIn, m => m.SinkRecordsPerSecond);

    private (double Rate, string Method) Rate(Func<StreamJobMetrics, long> counter, Func<StreamJobMetrics, double> rate)
    {
        if (_samples.Count >= 2)
        {
            var (first, last) = (_samples[0], _samples[^1]);
            var span = (last.SampledAt - first.SampledAt).TotalSeconds;
            if (counter(first) >= 0 && counter(last) >= 0 && span >= 1)
                return (Math.Round((counter(last) - counter(first)) / span, 2),
                    string.Create(CultureInfo.InvariantCulture, $"engine counters over {span:0.#} s"));
        }
        var rates = _samples.Select(rate).Where(double.IsFinite).ToList();
        if (rates.Count > 0)
            return (Math.Round(rates.Average(), 2), $"engine rate, mean of {rates.Count} sample(s)");
        return (double.NaN, "");
    }
}
