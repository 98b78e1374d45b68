using HdrHistogram;

namespace PiBench.Core.Benchmarking;

/// <summary>
/// End-to-end latency on one clock: the broker's log-append time of a result minus the event time (or window end)
/// it carries. Values go into an HdrHistogram in microseconds (3 significant digits, up to one hour); one interval
/// histogram per second of append time is kept for the interval log. Negative latencies (clock or timestamp
/// mistakes) are counted, not recorded. Thread-safe.
/// </summary>
public sealed class LatencyRecorder
{
    private const long MaxMicros = 3_600_000_000L;
    private readonly object _gate = new();
    private readonly LongHistogram _total = new(1, MaxMicros, 3);
    private readonly SortedDictionary<long, LongHistogram> _intervals = new();
    private readonly long _intervalMs;

    public LatencyRecorder(long intervalMs = 1000) => _intervalMs = Math.Max(1, intervalMs);

    public long Count { get { lock (_gate) return _total.TotalCount; } }
    /// <summary>Results appended before this time (Unix ms) are ignored (warm-up). Default: none ignored.</summary>
    public long WindowStartMs { get; set; } = long.MinValue;
    /// <summary>Results appended after this time (Unix ms) are ignored. Default: none ignored.</summary>
    public long WindowEndMs { get; set; } = long.MaxValue;
    public long NegativeCount { get; private set; }
    public long ClampedCount { get; private set; }

    /// <summary>
    /// Added to every event time before the latency is taken: the gap between the generator's base time (event 0's
    /// timestamp) and the moment its send schedule actually started, so event time + offset = intended send time.
    /// </summary>
    public long EventTimeOffsetMs { get; set; }

    /// <summary>Records one result: <paramref name="appendTimeMs"/> and <paramref name="eventTimeMs"/> in Unix milliseconds.</summary>
    public void Record(long appendTimeMs, long eventTimeMs) => RecordMicros(appendTimeMs, (appendTimeMs - eventTimeMs - EventTimeOffsetMs) * 1000);

    /// <summary>Records a latency in microseconds, attributed to the interval holding <paramref name="appendTimeMs"/>.</summary>
    public void RecordMicros(long appendTimeMs, long micros)
    {
        lock (_gate)
        {
            if (appendTimeMs < WindowStartMs || appendTimeMs > WindowEndMs) return;
            if (micros < 0) { NegativeCount++; return; }
            if (micros > MaxMicros) { ClampedCount++; micros = MaxMicros; }
            var v = Math.Max(1, micros);
            _total.RecordValue(v);
            var slot = appendTimeMs / _intervalMs * _intervalMs;
            if (!_intervals.TryGetValue(slot, out var h))
            {
                h = new LongHistogram(1, MaxMicros, 3) { StartTimeStamp = slot, EndTimeStamp = slot + _intervalMs };
                _intervals[slot] = h;
            }
            h.RecordValue(v);
        }
    }

    /// <summary>Latency at a percentile (0..100), milliseconds; NaN when nothing was recorded.</summary>
    public double PercentileMs(double percentile)
    {
        lock (_gate) return _total.TotalCount == 0 ? double.NaN : _total.GetValueAtPercentile(percentile) / 1000.0;
    }

    public double MaxMs
    {
        get { lock (_gate) return _total.TotalCount == 0 ? double.NaN : _total.GetMaxValue() / 1000.0; }
    }

    /// <summary>Per-interval counts (append-time second, results), for throughput series.</summary>
    public IReadOnlyList<(long StartMs, long Count)> IntervalCounts()
    {
        lock (_gate) return _intervals.Select(kv => (kv.Key, kv.Value.TotalCount)).ToList();
    }

    /// <summary>Writes the interval histograms as an HdrHistogram log (readable by HistogramLogReader / HdrHistogram tools).</summary>
    public void WriteIntervalLog(string path, DateTimeOffset start)
    {
        lock (_gate)
        {
            var tmp = path + ".tmp";
            using (var fs = new FileStream(tmp, FileMode.Create, FileAccess.Write))
                HistogramLogWriter.Write(fs, start.UtcDateTime, _intervals.Values.Cast<HistogramBase>().ToArray());
            File.Move(tmp, path, overwrite: true);
        }
    }
}
