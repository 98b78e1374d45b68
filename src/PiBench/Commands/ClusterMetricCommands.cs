using System.Management.Automation;
using System.Threading.Channels;
using PiBench.Core;
using PiBench.Core.Benchmarking;
using PiBench.Core.Remote;
using PiBench.Core.Topology;

namespace PiBench.Commands;

/// <summary>Streams CPU, memory, network, disk, temperature and throttling samples from every node of the cluster.</summary>
/// <remarks>
/// <para>Opens ONE long-lived SSH command per node: a POSIX sh loop on the node prints /proc/stat, /proc/meminfo,
/// /proc/net/dev, /proc/diskstats, /proc/loadavg, the thermal zone and, where it exists, vcgencmd get_throttled and
/// measure_temp once per interval. Consecutive snapshots become one ClusterMetricSample per node and interval:
/// CpuPercent (all cores) and CpuPercentPerCore, CpuCoreSeconds, MemoryUsedMB, network and disk bytes per second,
/// TemperatureC, Throttled (a get_throttled bit 0-3 set now) and ThrottledSinceBoot. Intervals are measured on the
/// node's own clock (/proc/uptime), so SSH buffering does not distort rates. Missing readings are empty, never 0.</para>
/// <para>Samples are written to the pipeline as they arrive and, with -Path, appended to a JSON-lines file (one
/// object per line, flushed per sample). -Once takes one sample per node (two snapshots one interval apart), -Count n
/// takes n, -Continuous (the default) runs until Ctrl+C. A node that fails is reported as an error and the others go on.</para>
/// </remarks>
/// <example><code>Get-ClusterMetric -Once</code><para>One sample of every node in the default topology.</para></example>
/// <example><code>Get-ClusterMetric -NodeName pi2,pi3 -IntervalSeconds 2 -Count 30 -Path ./metrics.jsonl | Export-Csv metrics.csv</code><para>Sixty seconds of two workers, kept as JSON lines and CSV.</para></example>
/// <example><code>Get-ClusterMetric -Continuous | Where-Object Throttled</code><para>Watches the cluster and shows only samples of throttled nodes.</para></example>
[Cmdlet(VerbsCommon.Get, "ClusterMetric", DefaultParameterSetName = TopologySet)]
[OutputType(typeof(ClusterMetricSample))]
public sealed class GetClusterMetricCommand : PiNodeCmdlet
{
    /// <summary>Take one sample per node and stop.</summary>
    [Parameter]
    public SwitchParameter Once { get; set; }

    /// <summary>Sample until Ctrl+C (the default without -Once or -Count).</summary>
    [Parameter]
    public SwitchParameter Continuous { get; set; }

    /// <summary>Seconds between samples. Default 1.</summary>
    [Parameter]
    [ValidateRange(0.1, 3600)]
    public double IntervalSeconds { get; set; } = 1;

    /// <summary>Samples per node, then stop.</summary>
    [Parameter]
    [ValidateRange(1, 100_000_000)]
    public long Count { get; set; }

    /// <summary>JSON-lines file the samples are appended to as they arrive.</summary>
    [Parameter]
    [Alias("OutFile")]
    public string? Path { get; set; }

    protected override async Task RunNodesAsync(IReadOnlyList<PiNode> nodes, CancellationToken cancellationToken)
    {
        if (Once && Continuous)
            ThrowArgumentError("MetricModeConflict", "-Once and -Continuous cannot be combined.", null, "Use one of them.");
        if (Continuous && Count > 0)
            ThrowArgumentError("MetricModeConflict", "-Continuous and -Count cannot be combined.", Count, "Drop -Continuous to stop after -Count samples.");
        var count = Count > 0 ? Count : Once ? 1 : 0;
        using var file = Path is null ? null : new ClusterMetricFile(GetUnresolvedProviderPathFromPSPath(Path));
        var channel = Channel.CreateUnbounded<object>(new UnboundedChannelOptions { SingleReader = true });
        var options = new ClusterMetricSamplerOptions { IntervalSeconds = IntervalSeconds, Count = count, Ssh = Options(nodes[0]) };
        var sampling = Task.Run(async () =>
        {
            try
            {
                await ClusterMetricSampler.RunAsync(SshConnectionPool.Shared, nodes, options,
                    s => channel.Writer.TryWrite(s), e => channel.Writer.TryWrite(e), cancellationToken).ConfigureAwait(false);
                channel.Writer.TryComplete();
            }
            catch (Exception ex)
            {
                channel.Writer.TryComplete(ex);
            }
        }, CancellationToken.None);

        var received = 0L;
        WriteProgressNow("Get-ClusterMetric", $"Sampling {nodes.Count} node(s) every {IntervalSeconds:0.##} s");
        await foreach (var item in channel.Reader.ReadAllAsync(cancellationToken))
        {
            switch (item)
            {
                case ClusterMetricSample s:
                    file?.Append(s);
                    WriteObject(s);
                    received++;
                    if (count > 0)
                        WriteProgressNow("Get-ClusterMetric", $"{received} of {count * nodes.Count} sample(s)", (int)(received * 100 / (count * nodes.Count)));
                    break;
                case PiBenchException e:
                    WriteError(e);
                    break;
            }
        }
        await sampling;
        CompleteProgress("Get-ClusterMetric");
    }
}
