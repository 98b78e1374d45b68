using PiBench.Core.Engines;
using PiBench.Core.Kafka;

namespace PiBench.Core.Benchmarking;

/// <summary>
/// What one benchmark cell holds while it runs, and its release in order: the cell's topics, the output-latency
/// collector and its recorder, the metric sampling, the offsets reader, and the engine job and generator once started.
/// <see cref="StopAsync"/> stops the generator and the job (on success and on a failure the runner reports);
/// <see cref="DisposeAsync"/> ends sampling and collecting, deletes the topics unless kept, and closes the clients.
/// </summary>
internal sealed class CellResources : IAsyncDisposable
{
    private readonly BenchmarkPlan _plan;
    private readonly ILogSink? _log;

    private CellResources(IStreamEngine engine, BenchmarkPlan plan, CellTopics topics, bool embedded, ContainerDirectory? containers, ILogSink? log,
        CancellationToken ct)
    {
        Engine = engine;
        _plan = plan;
        _log = log;
        Topics = topics;
        Embedded = embedded;
        Collector = OutputLatencyCollector.Start(plan.BootstrapServers, topics.Result, plan.Partitions, Recorder);
        Sampling = CellSampling.Start(plan, containers, log, ct);
        try { Offsets = new OffsetReader(plan.BootstrapServers, topics.GroupId); }
        catch
        {
            Sampling.Dispose();
            Collector.Dispose();
            throw;
        }
    }

    public IStreamEngine Engine { get; }
    public CellTopics Topics { get; }
    /// <summary>The broker is the embedded one (it cannot apply LogAppendTime).</summary>
    public bool Embedded { get; }
    public LatencyRecorder Recorder { get; } = new();
    public OutputLatencyCollector Collector { get; }
    public CellSampling Sampling { get; }
    public OffsetReader Offsets { get; }
    /// <summary>The job, once submitted (stopped and removed by <see cref="StopAsync"/>).</summary>
    public NexmarkQueryRun? Run { get; set; }
    /// <summary>The generator, once started (stopped by <see cref="StopAsync"/> and <see cref="StopGeneratorAsync()"/>).</summary>
    public NexmarkGeneratorRun? Generator { get; set; }

    /// <summary>
    /// Creates the cell's topics, then starts collecting its results and sampling its nodes. A failure to create the
    /// topics is thrown with nothing to release.
    /// </summary>
    public static async Task<CellResources> OpenAsync(IStreamEngine engine, BenchmarkPlan plan, CellTopics topics, ContainerDirectory? containers,
        ILogSink? log, CancellationToken ct)
    {
        var embedded = await topics.CreateAsync(plan.BootstrapServers, plan.Partitions, ct).ConfigureAwait(false);
        return new CellResources(engine, plan, topics, embedded, containers, log, ct);
    }

    /// <summary>Stops the generator if it still runs (bounded, a failure is a warning): the input topic stops growing.</summary>
    public async Task StopGeneratorAsync()
    {
        using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await StopGeneratorAsync(bound.Token).ConfigureAwait(false);
    }

    /// <summary>Stops the generator, then stops, awaits and removes the job (30 s in all; failures are warnings).</summary>
    public async Task StopAsync()
    {
        using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await StopGeneratorAsync(bound.Token).ConfigureAwait(false);
        if (Run is { } run)
            try
            {
                await Engine.StopAsync(run.ToHandle(), StreamStopMode.Immediate, bound.Token).ConfigureAwait(false);
                await Engine.WaitAsync(run.ToHandle(), s => s.State.IsTerminal(), TimeSpan.FromSeconds(20), bound.Token, failOnFailed: false).ConfigureAwait(false);
                await Engine.RemoveAsync(run.ToHandle(), bound.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or PiBenchException) { _log?.Warning($"query stop: {ex.Message}"); }
    }

    private async Task StopGeneratorAsync(CancellationToken bound)
    {
        if (Generator is { IsFinished: false } generator)
            try { await generator.StopAsync(bound).ConfigureAwait(false); } catch (Exception ex) when (ex is OperationCanceledException or PiBenchException) { _log?.Warning($"generator stop: {ex.Message}"); }
    }

    /// <summary>
    /// After the job stopped: lets the last in-window results arrive, stops collecting them and ends sampling (a
    /// failure of the sampler is thrown).
    /// </summary>
    public async Task FinishObservingAsync()
    {
        await Task.Delay(500, CancellationToken.None).ConfigureAwait(false); // let the last in-window results arrive
        Collector.Stop();
        await Sampling.StopAsync().ConfigureAwait(false);
    }

    /// <summary>
    /// On every way out: ends sampling and collecting, deletes the topics unless the plan keeps them, closes the offsets
    /// reader and the collector. The job and the generator are stopped by <see cref="StopAsync"/>, not here.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        await Sampling.StopQuietlyAsync().ConfigureAwait(false);
        Collector.Stop();
        if (!_plan.KeepTopics) await Topics.DeleteAsync(_plan.BootstrapServers, _log).ConfigureAwait(false);
        Offsets.Dispose();
        Sampling.Dispose();
        Collector.Dispose();
    }
}
