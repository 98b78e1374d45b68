using System.Diagnostics;
using PiBench.Core.Engines;
using PiBench.Core.Kafka;

namespace PiBench.Core.Benchmarking;

/// <summary>
/// One cell's measured window, observed: once a second the job's state, the input topic's end offsets (what the broker
/// appended), the consumer group's lag and the generator's client queue; the engine's metrics every
/// <see cref="BenchmarkPlan.EngineMetricsEverySeconds"/>; committed and result offsets at both ends. Opens and closes
/// the latency recorder's window. Judging what was seen is <see cref="CellJudge"/>'s job.
/// </summary>
internal static class WindowPhase
{
    public static async Task<WindowObservation> ObserveAsync(CellResources cell, NexmarkQueryRun run, NexmarkGeneratorRun generator, BenchmarkPlan p,
        CellProgress progress, CancellationToken ct)
    {
        var engine = cell.Engine;
        var offsets = cell.Offsets;
        var (inputTopic, resultTopic) = (cell.Topics.Input, cell.Topics.Result);
        var recorder = cell.Recorder;
        var w = new WindowObservation { Start = DateTimeOffset.UtcNow };
        var clock0 = Stopwatch.GetTimestamp();
        double Now() => Stopwatch.GetElapsedTime(clock0).TotalSeconds;
        void ReadBroker()
        {
            var before = Now();
            var end = offsets.End(inputTopic, p.Partitions);
            w.Series.AddInputEnd((before + Now()) / 2, end); // the read's midpoint
            w.Series.AddClientQueue(Now(), generator.Pending);
            w.Series.AddLag(Now(), end - offsets.Consumed(inputTopic, p.Partitions));
        }
        w.Consumed0 = offsets.Consumed(inputTopic, p.Partitions);
        w.Produced0 = offsets.End(resultTopic, p.Partitions);
        recorder.WindowStartMs = w.Start.ToUnixTimeMilliseconds();
        async Task SampleEngineAsync()
        {
            try { w.Engine.Add(await engine.GetMetricsAsync(run.ToHandle(), ct).ConfigureAwait(false)); }
            catch (PiBenchException ex) { w.Engine.Failed(ex.Message); }
        }
        ReadBroker();
        await SampleEngineAsync().ConfigureAwait(false);
        for (var s = 1; s <= p.MeasureSeconds; s++)
        {
            progress.Report($"Measuring ({s} of {p.MeasureSeconds} s)", s * 100 / Math.Max(1, p.MeasureSeconds));
            var due = TimeSpan.FromSeconds(s) - Stopwatch.GetElapsedTime(clock0);
            if (due > TimeSpan.Zero) await Task.Delay(due, ct).ConfigureAwait(false);
            var status = await engine.GetStatusAsync(run.ToHandle(), ct).ConfigureAwait(false);
            if (status.State != StreamJobState.Running)
            {
                if (status.State.IsTerminal()) { w.Failure = status.EngineState; break; }
                w.Restarts++;
            }
            ReadBroker();
            if (s % Math.Max(1, p.EngineMetricsEverySeconds) == 0 || s == p.MeasureSeconds) await SampleEngineAsync().ConfigureAwait(false);
        }
        w.Consumed1 = offsets.Consumed(inputTopic, p.Partitions);
        w.Produced1 = offsets.End(resultTopic, p.Partitions);
        w.Seconds = Now();
        recorder.WindowEndMs = w.Start.AddSeconds(w.Seconds).ToUnixTimeMilliseconds();
        return w;
    }
}
