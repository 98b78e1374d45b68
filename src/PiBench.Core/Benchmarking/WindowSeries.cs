using System.Globalization;

namespace PiBench.Core.Benchmarking;

/// <summary>
/// What is read once per second during a measured window, kept as series: the input topic's end offsets (what the
/// broker has appended), the engine consumer group's lag, and the generator's client queue (handed to the Kafka client
/// but not yet acknowledged). Turns them into the broker-side input figures; judging them is <see cref="ValidityGate"/>'s job.
/// </summary>
public sealed class WindowSeries
{
    private readonly List<(double Seconds, long End)> _inputEnd = new();
    private readonly List<(double Seconds, double Lag)> _lag = new();
    private readonly List<(double Seconds, double Pending)> _clientQueue = new();

    /// <summary>Sum of the input topic's end offsets at <paramref name="seconds"/> since the window opened (read at the broker).</summary>
    public void AddInputEnd(double seconds, long endOffsetSum) => _inputEnd.Add((seconds, endOffsetSum));
    public void AddLag(double seconds, double lag) => _lag.Add((seconds, lag));
    /// <summary>The generator's events handed to the Kafka client and not yet acknowledged or failed.</summary>
    public void AddClientQueue(double seconds, long pending) => _clientQueue.Add((seconds, pending));

    public IReadOnlyList<(double Seconds, double Lag)> Lag => _lag;
    public IReadOnlyList<(double Seconds, double Pending)> ClientQueue => _clientQueue;
    public IReadOnlyList<(double Seconds, long End)> InputEnd => _inputEnd;

    /// <summary>
    /// Events the broker appended to the input topic between the first and the last end-offset read, and the seconds
    /// between those reads; the rate is their ratio (NaN with fewer than two reads).
    /// </summary>
    public (double Rate, long Events, double Seconds) BrokerInput()
    {
        if (_inputEnd.Count < 2) return (double.NaN, 0, 0);
        var (first, last) = (_inputEnd[0], _inputEnd[^1]);
        var span = last.Seconds - first.Seconds;
        var events = last.End - first.End;
        return (span > 0 ? events / span : double.NaN, events, span);
    }

    /// <summary>Least-squares growth of the client queue, events per second (NaN with fewer than three samples).</summary>
    public double ClientQueueGrowth() => _clientQueue.Count < 3 ? double.NaN : Statistics.Slope(_clientQueue.Select(p => (p.Seconds, p.Pending)).ToList());

    /// <summary>Client queue at the last sample minus at the first (events).</summary>
    public double ClientQueueChange() => _clientQueue.Count < 2 ? double.NaN : _clientQueue[^1].Pending - _clientQueue[0].Pending;

    public override string ToString()
    {
        var (rate, events, span) = BrokerInput();
        return string.Create(CultureInfo.InvariantCulture, $"broker input {rate:0.##}/s ({events} events in {span:0.###} s), client queue {ClientQueueGrowth():+0.#;-0.#;0}/s");
    }
}
