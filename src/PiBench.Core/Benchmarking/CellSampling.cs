using System.Collections.Concurrent;
using PiBench.Core.Remote;

namespace PiBench.Core.Benchmarking;

/// <summary>
/// One cell's resource sampling: the cluster metric sampler over the plan's nodes (and, through the run's container
/// directory, their containers) from the cell's start until it is stopped, and the measured window's summaries of what
/// it saw. No nodes in the plan: nothing is sampled and the summaries are empty.
/// </summary>
internal sealed class CellSampling : IDisposable
{
    private readonly BenchmarkPlan _plan;
    private readonly CancellationTokenSource _stop;
    private readonly Task _sampler;
    private readonly ConcurrentQueue<ClusterMetricSample> _samples = new();
    private readonly ConcurrentQueue<ContainerMetricSample> _containerSamples = new();

    private CellSampling(BenchmarkPlan plan, ContainerDirectory? containers, ILogSink? log, CancellationToken ct)
    {
        _plan = plan;
        _stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var token = _stop.Token;
        _sampler = plan.MetricNodes.Count == 0 ? Task.CompletedTask : Task.Run(() => ClusterMetricSampler.RunAsync(SshConnectionPool.Shared, plan.MetricNodes,
            new ClusterMetricSamplerOptions
            {
                IntervalSeconds = plan.MetricIntervalSeconds, Ssh = plan.Ssh, OnSnapshotPair = containers?.Hook(_containerSamples.Enqueue),
                OnWarning = w => log?.Warning(w),
            }, _samples.Enqueue,
            e => log?.Warning(e.Message), token), CancellationToken.None);
    }

    /// <summary>Starts sampling (in the background); <paramref name="ct"/> also ends it.</summary>
    public static CellSampling Start(BenchmarkPlan plan, ContainerDirectory? containers, ILogSink? log, CancellationToken ct) => new(plan, containers, log, ct);

    /// <summary>Ends sampling once the cell is measured; a failure of the sampler is thrown.</summary>
    public async Task StopAsync()
    {
        _stop.Cancel();
        await _sampler.ConfigureAwait(false);
    }

    /// <summary>Ends sampling on the way out, whatever happened to the sampler.</summary>
    public async Task StopQuietlyAsync()
    {
        _stop.Cancel();
        try { await _sampler.ConfigureAwait(false); } catch (Exception) { }
    }

    /// <summary>The nodes' resources and the containers' use between the window's start and its measured end.</summary>
    public (ResourceSummary Resources, ContainerSummary Containers) Summarize(WindowObservation window)
    {
        var t1 = window.Start.AddSeconds(window.Seconds);
        var res = ResourceSummary.FromSamples(_samples, window.Start, t1, _plan.MetricNodes.Select(n => n.Name).ToList(), _plan.MetricIntervalSeconds);
        var engineUse = ContainerSummary.FromSamples(_containerSamples, window.Start, t1, _plan.Engine.System.ToString());
        return (res, engineUse);
    }

    public void Dispose() => _stop.Dispose();
}
