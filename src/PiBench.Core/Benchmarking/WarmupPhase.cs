using System.Diagnostics;
using PiBench.Core.Engines;

namespace PiBench.Core.Benchmarking;

/// <summary>
/// One cell's warm-up: the input throughput, one sample per second, until the series is steady (or the warm-up ends);
/// sets WarmupS and SteadyState on the result. The series is <see cref="WarmupSeries"/>'s (engine source rate, or
/// committed offsets when the engine gives nothing for several seconds in a row); a fixed warm-up reads none.
/// </summary>
internal static class WarmupPhase
{
    public static async Task RunAsync(CellResources cell, NexmarkQueryRun run, BenchmarkPlan p, BenchmarkResult result, CellProgress progress,
        ILogSink? log, CancellationToken ct)
    {
        var offsets = cell.Offsets;
        var inputTopic = cell.Topics.Input;
        var series = new WarmupSeries();
        var last = p.FixedWarmup ? 0 : offsets.Consumed(inputTopic, p.Partitions); // no series is read with a fixed warm-up
        var sw = Stopwatch.StartNew();
        var warmupEnd = p.WarmupSeconds;
        var detected = false;
        for (var s = 1; s <= p.WarmupSeconds; s++)
        {
            progress.Report($"Warming up ({s} of at most {p.WarmupSeconds} s)", s * 100 / Math.Max(1, p.WarmupSeconds));
            await Task.Delay(TimeSpan.FromSeconds(s) - sw.Elapsed is { } d && d > TimeSpan.Zero ? d : TimeSpan.Zero, ct).ConfigureAwait(false);
            if (p.FixedWarmup) continue;
            var now = offsets.Consumed(inputTopic, p.Partitions);
            series.AddKafka(now - last);
            last = now;
            try { series.AddEngine(await cell.Engine.GetMetricsAsync(run.ToHandle(), ct).ConfigureAwait(false)); }
            catch (PiBenchException) { series.EngineFailed(); }
            if (SteadyState.Detect(series.Series, p.WarmupSeconds, window: 5).Detected) { warmupEnd = s; detected = true; break; }
        }
        var seriesName = series.Name;
        result.WarmupS = warmupEnd;
        result.SteadyState = p.FixedWarmup ? $"fixed warm-up {p.WarmupSeconds} s"
            : detected ? $"detected after {warmupEnd} s ({seriesName})"
            : $"not detected within {p.WarmupSeconds} s ({seriesName}); measured after the longest warm-up";
        if (!p.FixedWarmup && !detected && p.WarmupSeconds > 0)
            log?.Warning($"{result.Query} repetition {result.Repetition}: throughput was not steady within the {p.WarmupSeconds}-s warm-up ({seriesName}); the window opened anyway (SteadyState says so).");
        log?.Verbose($"{result.Query} repetition {result.Repetition}: measuring after {warmupEnd} s of warm-up ({result.SteadyState}).");
    }
}
