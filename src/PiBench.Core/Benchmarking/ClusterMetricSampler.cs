using PiBench.Core.Remote;
using PiBench.Core.Topology;

namespace PiBench.Core.Benchmarking;

/// <summary>Settings of a sampling session.</summary>
public sealed class ClusterMetricSamplerOptions
{
    /// <summary>Called with each pair of consecutive snapshots of a node (container samples: <see cref="ContainerDirectory.Hook"/>).</summary>
    public Action<NodeSnapshot, NodeSnapshot>? OnSnapshotPair { get; init; }

    /// <summary>Seconds between snapshots on each node. Default 1.</summary>
    public double IntervalSeconds { get; init; } = 1;
    /// <summary>Samples per node (each needs two snapshots); 0 = until cancelled.</summary>
    public long Count { get; init; }
    /// <summary>
    /// In continuous mode the remote loop is re-armed after this many snapshots (default 3600, an hour at 1 Hz): one
    /// new command on the pooled SSH connection, which is opened again first if it has dropped. Memory does not need
    /// it (streamed lines are not kept, see <see cref="RemoteCommandOptions.KeepOutput"/>); segments remain so that a
    /// run of hours periodically starts from a fresh remote loop and connection check. The snapshot chain is kept
    /// across segments, so no sample is lost at a boundary.
    /// </summary>
    public int SegmentSnapshots { get; init; } = 3600;
    public SshOptions? Ssh { get; init; }
    /// <summary>
    /// After a lost connection the node's loop is re-armed on a new connection, waiting 1, 2, 4 … up to this many
    /// seconds between attempts (until cancelled; with a sample Count, at most <see cref="CountModeReconnects"/> times).
    /// Samples of the gap are missing, never invented. Default 30.
    /// </summary>
    public int MaxReconnectDelaySeconds { get; init; } = 30;
    /// <summary>Reconnect attempts in Count mode (-Once, -Count) before the node's error is reported. Default 3.</summary>
    public int CountModeReconnects { get; init; } = 3;
    /// <summary>Told about each reconnect (a warning, not an error); null = reported through the error callback.</summary>
    public Action<string>? OnWarning { get; init; }
}

/// <summary>
/// Samples CPU, memory, network, disk, temperature and throttling on every node over ONE long-lived SSH command per
/// node: a remote sh loop prints a delimited snapshot each interval, lines are streamed back as they arrive, and each
/// pair of consecutive snapshots becomes a <see cref="ClusterMetricSample"/>. No process is started per sample on the
/// controlling side, and intervals are measured on the node's own clock.
/// </summary>
public static class ClusterMetricSampler
{
    /// <summary>
    /// Samples the nodes until <paramref name="options"/>.Count samples per node were taken or <paramref name="ct"/> is
    /// cancelled (cancellation ends the run normally). <paramref name="onSample"/> and <paramref name="onError"/> are
    /// called from SSH reader threads; a node failure is reported there and the other nodes go on.
    /// </summary>
    public static async Task RunAsync(SshConnectionPool pool, IReadOnlyList<PiNode> nodes, ClusterMetricSamplerOptions options,
        Action<ClusterMetricSample> onSample, Action<PiBenchException> onError, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(pool);
        if (nodes.Count == 0)
            throw new PiBenchException("NoNodesSelected", PiBenchErrorCategory.ObjectNotFound, "No node matches the selection.", null,
                "Check -NodeName against the names in the topology file (Get-PiNode).");
        _ = SnapshotProtocol.BuildCommand(options.IntervalSeconds, 1); // validates the interval up front
        await Task.WhenAll(nodes.Select(n => RunNodeAsync(pool, n, options, onSample, onError, ct))).ConfigureAwait(false);
    }

    private static async Task RunNodeAsync(SshConnectionPool pool, PiNode node, ClusterMetricSamplerOptions options,
        Action<ClusterMetricSample> onSample, Action<PiBenchException> onError, CancellationToken ct)
    {
        var stream = new NodeSnapshotStream(node.Name) { OnPair = options.OnSnapshotPair };
        long samples = 0;
        var connected = false; // a node never reached has no connection to "lose"
        var run = new RemoteCommandOptions
        {
            // Snapshots are consumed line by line; the result's StdOut is never read, so nothing is buffered.
            KeepOutput = false,
            OnOutputLine = line =>
            {
                connected = true;
                var s = stream.Feed(line); // the current stream: replaced after a reconnect
                if (s is null) return;
                Interlocked.Increment(ref samples);
                onSample(s);
            },
        };
        var attempts = 0;
        while (!ct.IsCancellationRequested)
        {
            try
            {
                while (!ct.IsCancellationRequested)
                {
                    long snapshots;
                    if (options.Count > 0)
                    {
                        var needed = options.Count - Interlocked.Read(ref samples) + (stream.Latest is null ? 1 : 0);
                        if (needed <= 0) return;
                        snapshots = needed;
                    }
                    else snapshots = Math.Max(2, options.SegmentSnapshots);
                    var before = stream.Snapshots;
                    var result = await pool.RunAsync(node, SnapshotProtocol.BuildCommand(options.IntervalSeconds, snapshots, sleepFirst: stream.Latest is not null), run, options.Ssh, ct)
                        .ConfigureAwait(false);
                    if (ct.IsCancellationRequested) return;
                    if (stream.Snapshots == before)
                    {
                        onError(new PiBenchException("MetricSamplerNoOutput", PiBenchErrorCategory.InvalidData,
                            $"{node.Name}: the metric loop ended (exit {result.ExitCode}) without printing a snapshot. {Trim(result.StdErr)}",
                            node.Name, "Check that the node runs Linux with /proc mounted and a POSIX sh (Invoke-PiCommand 'cat /proc/stat')."));
                        return;
                    }
                    attempts = 0; // a segment that delivered: the next loss starts the back-off anew
                    if (options.Count > 0 && Interlocked.Read(ref samples) >= options.Count) return;
                }
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                var error = ex as PiBenchException ?? new PiBenchException("MetricSamplerFailed", PiBenchErrorCategory.ConnectionError,
                    $"{node.Name}: metric sampling failed: {ex.Message}", node.Name, "Check the node with Test-PiNode.", ex);
                attempts++;
                var transient = error.Category is PiBenchErrorCategory.ConnectionError or PiBenchErrorCategory.OperationTimeout;
                // A counted run (-Once, -Count) against a node that never answered: one error, no reconnect notices.
                if (!transient || (options.Count > 0 && (!connected || attempts > options.CountModeReconnects)))
                {
                    onError(error);
                    return;
                }
                var delay = Math.Min(Math.Max(1, options.MaxReconnectDelaySeconds), 1 << Math.Min(attempts - 1, 10));
                var note = connected
                    ? $"{node.Name}: metric sampling lost its connection ({error.Message}); reconnecting in {delay} s, samples of the gap are missing."
                    : $"{node.Name}: metric sampling cannot connect ({error.Message}); trying again in {delay} s.";
                if (options.OnWarning is { } warn) warn(note);
                else onError(new PiBenchException("MetricSamplerReconnecting", PiBenchErrorCategory.ConnectionError, note, node.Name, "Check the node with Test-PiNode."));
                pool.Evict(node, options.Ssh);
                try { await Task.Delay(TimeSpan.FromSeconds(delay), ct).ConfigureAwait(false); }
                catch (OperationCanceledException) { return; }
                // The snapshot chain does not span the gap (the node may even have rebooted): start a new one.
                stream = new NodeSnapshotStream(node.Name) { OnPair = options.OnSnapshotPair };
            }
        }
    }

    private static string Trim(string s) => s.Length > 300 ? s[..300] + "..." : s.Trim();
}
