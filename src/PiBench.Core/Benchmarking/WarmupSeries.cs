using PiBench.Core.Engines;

namespace PiBench.Core.Benchmarking;

/// <summary>
/// The warm-up's throughput series, one sample per second, that steady-state detection reads: the engine's source
/// rate when the engine gives one, else the growth of the consumer group's committed offsets (which move only at
/// checkpoints and so rarely look steady). Engines answer with nothing at first (Arroyo's first metric answers are
/// empty or partial while the pipeline starts; its rates are EWMAs that need a few updates), so one empty or failed
/// sample does not switch the engine's figures off: only <see cref="GiveUpAfter"/> unusable samples in a row do, and a
/// usable sample later switches them back on.
/// </summary>
public sealed class WarmupSeries
{
    /// <summary>Unusable engine samples in a row (empty answers, errors) after which the Kafka series is read instead.</summary>
    public const int GiveUpAfter = 5;

    private readonly List<double> _engine = new();
    private readonly List<double> _kafka = new();
    private StreamJobMetrics? _lastFresh;
    private int _unusableInARow;

    public IReadOnlyList<double> Engine => _engine;
    public IReadOnlyList<double> Kafka => _kafka;

    /// <summary>True while the engine's series is the one read.</summary>
    public bool EngineUsable => _unusableInARow < GiveUpAfter;

    /// <summary>The series steady-state detection reads now.</summary>
    public IReadOnlyList<double> Series => EngineUsable ? _engine : _kafka;

    /// <summary>"engine source rate" or "Kafka committed offsets".</summary>
    public string Name => EngineUsable ? "engine source rate" : "Kafka committed offsets";

    /// <summary>Events the consumer group committed since the last sample.</summary>
    public void AddKafka(double consumedSinceLast) => _kafka.Add(consumedSinceLast);

    /// <summary>
    /// One engine answer. Counters that did not move since the last fresh sample were served from the metric cache
    /// and say nothing about this second: skipped (the next change gives the rate over the whole span).
    /// </summary>
    public void AddEngine(StreamJobMetrics m)
    {
        if (m.SourceRecordsOut >= 0)
        {
            if (_lastFresh is { SourceRecordsOut: >= 0 } last && last.SourceRecordsOut == m.SourceRecordsOut) { _unusableInARow = 0; return; }
            var rate = EngineRateSeries.SourceRateBetween(_lastFresh, m);
            _lastFresh = m;
            _unusableInARow = 0;
            if (double.IsFinite(rate)) _engine.Add(rate);
            return;
        }
        var smoothed = m.SourceRecordsPerSecond;
        if (double.IsFinite(smoothed)) { _engine.Add(smoothed); _unusableInARow = 0; }
        else _unusableInARow++; // no counters and no rate yet: an early, empty answer
    }

    /// <summary>The engine did not answer this second.</summary>
    public void EngineFailed() => _unusableInARow++;
}
