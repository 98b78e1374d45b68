using System.Diagnostics;
using PiBench.Core.Kafka;

namespace PiBench.Core.Benchmarking;

/// <summary>
/// Starts one cell's paced Nexmark generator into its input topic and anchors the latency recorder to the generator's
/// send schedule, so latencies are measured from each event's intended send time.
/// </summary>
internal static class CellGeneratorStart
{
    /// <summary>The running generator (also kept in <paramref name="cell"/> as soon as it starts, so a failure stops it).</summary>
    public static async Task<NexmarkGeneratorRun> StartAsync(CellResources cell, BenchmarkPlan p, double rate, long totalEvents, BenchmarkResult result,
        ILogSink? log, CancellationToken ct)
    {
        var baseTime = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var generator = cell.Generator = await NexmarkGeneratorRun.StartAsync(new ProducerRunOptions
        {
            BootstrapServers = p.BootstrapServers, Topic = cell.Topics.Input, EventsPerSecond = rate, TotalEvents = totalEvents,
        }, NexmarkPayloadSources.Create(new NexmarkSourceSettings
        {
            // Event i carries base + i / rate on this host's clock (Pi1, beside the broker), for either profile.
            Profile = p.Profile, Seed = p.Seed, TotalEvents = totalEvents, EventsPerSecond = rate, BaseTime = baseTime,
        }),
            log, ct).ConfigureAwait(false);
        result.Seed = p.Seed ?? 0;
        // Event i carries base + i / rate, but the schedule starts only once the producer is up (connect, warm-up):
        // shift event times by that gap so latencies are measured from each event's intended send time.
        var anchorWait = Stopwatch.StartNew();
        while (generator.ScheduleStartUnixMs == 0 && !generator.IsFinished && anchorWait.Elapsed < TimeSpan.FromSeconds(30))
            await Task.Delay(5, ct).ConfigureAwait(false);
        if (generator.ScheduleStartUnixMs > 0)
        {
            cell.Recorder.EventTimeOffsetMs = generator.ScheduleStartUnixMs - baseTime;
            log?.Verbose($"{result.Query} repetition {result.Repetition}: the send schedule started {cell.Recorder.EventTimeOffsetMs} ms after the events' base time; latencies are taken from the intended send times.");
        }
        return generator;
    }
}
