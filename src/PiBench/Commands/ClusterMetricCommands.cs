using System.Management.Automation;
using System.Threading.Channels;
using PiBench.Core;
using PiBench.Core.Benchmarking;
using PiBench.Core.Remote;
using PiBench.Core.Topology;

namespace PiBench.Commands;

/// <summary>Streams CPU, memory, network, disk, temperature and throttling samples from every node of the cluster, or CPU and memory of every Docker container on them.</summary>
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
/// <para>-Container emits one ContainerMetricSample per Docker container and interval instead (same -Once, -Count,
/// -Continuous and -Path behaviour; -Count still counts intervals per node): CpuPercent (100 = one core busy),
/// CpuCoreSeconds and MemoryMB (charged memory minus inactive file cache, as docker stats shows it). The same loop on
/// each node reads every Docker container's cgroup each interval with shell builtins (cgroup v2: cpu.stat usage_usec,
/// memory.current; cgroup v1: cpuacct.usage, memory.usage_in_bytes; systemd and cgroupfs drivers). Names and the
/// pibench.service / pibench.system labels come from the node's own Docker daemon (Docker API over SSH), asked when
/// sampling starts and again when an unknown container appears; only containers that daemon lists count for the
/// node. If a node's daemon cannot be asked, one warning is written and its containers are reported by short id
/// without labels. Network is not reported per container: PiBench runs every container with host networking, so
/// containers share the node's interfaces and their traffic cannot be told apart; use the node samples for it.</para>
/// </remarks>
/// <example><code>Get-ClusterMetric -Once</code><para>One sample of every node in the default topology.</para></example>
/// <example><code>Get-ClusterMetric -NodeName pi2,pi3 -IntervalSeconds 2 -Count 30 -Path ./metrics.jsonl | Export-Csv metrics.csv</code><para>Sixty seconds of two workers, kept as JSON lines and CSV.</para></example>
/// <example><code>Get-ClusterMetric -Continuous | Where-Object Throttled</code><para>Watches the cluster and shows only samples of throttled nodes.</para></example>
/// <example><code>Get-ClusterMetric -Container -Count 10 | Group-Object Service | ForEach-Object { [pscustomobject]@{ Service = $_.Name; CoreSeconds = ($_.Group | Measure-Object CpuCoreSeconds -Sum).Sum } }</code><para>CPU time per PiBench service over ten seconds.</para></example>
/// <example><code>Get-ClusterMetric -NodeName pi2 -Container -Continuous -Path ./containers.jsonl</code><para>Streams pi2's container figures until Ctrl+C and keeps them as JSON lines.</para></example>
[Cmdlet(VerbsCommon.Get, "ClusterMetric", DefaultParameterSetName = TopologySet)]
[OutputType(typeof(ClusterMetricSample), typeof(ContainerMetricSample))]
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

    /// <summary>
    /// Emit one ContainerMetricSample per Docker container and interval (CPU and memory from the container's cgroup,
    /// named and labelled by the node's Docker daemon) instead of the node samples.
    /// </summary>
    [Parameter]
    public SwitchParameter Container { get; set; }

    /// <summary>JSON-lines file the samples (node or, with -Container, container samples) are appended to as they arrive.</summary>
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
        var ssh = Options(nodes[0]);
        using var containers = Container ? await ContainerDirectory.OpenAsync(SshConnectionPool.Shared, nodes, ssh, Log, cancellationToken) : null;
        var options = new ClusterMetricSamplerOptions
        {
            IntervalSeconds = IntervalSeconds, Count = count, Ssh = ssh, OnSnapshotPair = containers?.Hook(c => channel.Writer.TryWrite(c)),
            OnWarning = w => channel.Writer.TryWrite(new SamplerWarning(w)),
        };
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
                case ContainerMetricSample c:
                    file?.Append(c);
                    WriteObject(c);
                    break;
                case ClusterMetricSample s:
                    if (!Container)
                    {
                        file?.Append(s);
                        WriteObject(s);
                    }
                    received++;
                    if (count > 0)
                        WriteProgressNow("Get-ClusterMetric", $"{received} of {count * nodes.Count} sample(s)", (int)(received * 100 / (count * nodes.Count)));
                    break;
                case PiBenchException e:
                    WriteError(e);
                    break;
                case SamplerWarning w:
                    WriteWarning(w.Message);
                    break;
            }
        }
        await sampling;
        CompleteProgress("Get-ClusterMetric");
    }
}

/// <summary>A reconnect notice from the sampler, handed to the pipeline thread as a warning.</summary>
internal sealed record SamplerWarning(string Message);
