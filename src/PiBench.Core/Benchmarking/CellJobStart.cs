using PiBench.Core.Engines;

namespace PiBench.Core.Benchmarking;

/// <summary>
/// Gets one cell's query running: submits its latency variant (reading from the cell's input topic, writing to its
/// result topic), falls back to the plain query when the engine refuses the variant, and waits for Running. Says on
/// the result what the latency is measured against.
/// </summary>
internal static class CellJobStart
{
    /// <summary>The running job (also kept in <paramref name="cell"/> as soon as it is submitted, so a failure stops it).</summary>
    public static async Task<NexmarkQueryRun> StartAsync(CellResources cell, NexmarkQuery query, BenchmarkPlan p, BenchmarkResult result, ILogSink? log,
        CancellationToken ct)
    {
        var render = new NexmarkRenderOptions
        {
            BootstrapServers = p.BootstrapServers, Topic = cell.Topics.Input, GroupId = cell.Topics.GroupId, Parallelism = p.Parallelism,
            ResultTopic = cell.Topics.Result, LatencyVariant = true,
        };
        result.LatencyReference = query.LatencyReference.Length > 0 ? query.LatencyReference : "none: the query's output carries no event time";
        result.WatermarkDelayMs = query.WatermarkDelayMs;
        try
        {
            cell.Run = await NexmarkQueryRunner.SubmitAsync(cell.Engine, query, render, p.CheckpointInterval, ct).ConfigureAwait(false);
        }
        catch (PiBenchException ex) when (ex.ErrorId == EngineErrorIds.SqlError && query.LatencySql.Length > 0)
        {
            // The engine refused the latency variant (its extra latency_ts column): run the plain query, without a latency figure.
            log?.Warning($"{result.Query}: {p.Engine.System} rejected the latency variant ({ex.Message}); running the plain query, latency is not measured.");
            result.LatencyReference = "none: the engine rejected the latency variant";
            result.WatermarkDelayMs = 0;
            cell.Run = await NexmarkQueryRunner.SubmitAsync(cell.Engine, query, render with { LatencyVariant = false }, p.CheckpointInterval, ct).ConfigureAwait(false);
        }
        await cell.Engine.WaitAsync(cell.Run.ToHandle(), s => s.State == StreamJobState.Running, p.StartTimeout, ct).ConfigureAwait(false);
        return cell.Run;
    }
}
