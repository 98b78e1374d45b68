using Docker.DotNet;
using Docker.DotNet.Models;
using PiBench.Core.Deployment;
using PiBench.Core.Remote;
using PiBench.Core.Topology;

namespace PiBench.Core.Benchmarking;

/// <summary>
/// Which container cgroups belong to which node, with their names and PiBench labels: each node's own Docker daemon is
/// asked once when sampling starts (Docker API over SSH), and again, at most every <see cref="RefreshSpacing"/>, when a
/// cgroup id shows up that the last answer did not explain. Only ids the node's own daemon lists count for that node:
/// where several daemons share one kernel (the test lab), every node's cgroup tree shows every container.
/// A node whose daemon cannot be asked keeps reporting containers, by cgroup id and without labels, after one warning.
/// Thread-safe: <see cref="Resolve"/> is called from the SSH reader threads.
/// </summary>
public sealed class ContainerDirectory : IDisposable
{
    /// <summary>Lists the containers of a node's own daemon (all, running or not).</summary>
    public delegate Task<IReadOnlyList<ContainerIdentity>> ContainerLister(PiNode node, CancellationToken cancellationToken);

    private readonly Dictionary<string, NodeState> _nodes;
    private readonly ContainerLister _list;
    private readonly ILogSink? _log;
    private readonly IDisposable? _owned;
    private readonly CancellationTokenSource _disposed = new();

    private ContainerDirectory(IReadOnlyList<PiNode> nodes, ContainerLister list, ILogSink? log, IDisposable? owned)
    {
        _nodes = nodes.GroupBy(n => n.Name, StringComparer.OrdinalIgnoreCase).ToDictionary(g => g.Key, g => new NodeState(g.First()), StringComparer.OrdinalIgnoreCase);
        _list = list;
        _log = log;
        _owned = owned;
    }

    /// <summary>Longest wait for one node's container list.</summary>
    public TimeSpan ListTimeout { get; init; } = TimeSpan.FromSeconds(20);

    /// <summary>Shortest time between two lists of the same node (unknown ids wait for the next one).</summary>
    public TimeSpan RefreshSpacing { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Nodes whose daemon could not be asked when sampling started (their containers are reported by id).</summary>
    public IReadOnlyList<string> UnreachableNodes => _nodes.Values.Where(n => n.Unreachable).Select(n => n.Node.Name).Order(StringComparer.Ordinal).ToList();

    /// <summary>
    /// Asks every node's daemon for its containers over the Docker API through SSH (<c>docker system dial-stdio</c>, one
    /// dedicated connection per node, kept for refreshes until disposal). Nodes that do not answer are reported in one
    /// warning through <paramref name="log"/>; their containers are then reported by id.
    /// </summary>
    public static async Task<ContainerDirectory> OpenAsync(SshConnectionPool pool, IReadOnlyList<PiNode> nodes, SshOptions? ssh, ILogSink? log,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(pool);
        var byName = nodes.GroupBy(n => n.Name, StringComparer.OrdinalIgnoreCase).ToDictionary(g => g.Key, g => g.First(), StringComparer.OrdinalIgnoreCase);
        var factory = new DockerSshClientFactory((name, ct) => pool.OpenDedicatedAsync(byName[name], ssh, ct), maxConnectionsPerNode: 1);
        async Task<IReadOnlyList<ContainerIdentity>> List(PiNode node, CancellationToken ct)
        {
            try
            {
                var docker = await factory.GetClientAsync(node.Name, ct).ConfigureAwait(false);
                return await ListAsync(docker, ct).ConfigureAwait(false);
            }
            catch (Exception) when (!ct.IsCancellationRequested)
            {
                factory.Invalidate(node.Name); // the next attempt starts from a new connection
                throw;
            }
        }
        var directory = new ContainerDirectory(nodes, List, log, factory);
        try
        {
            await directory.LoadAsync(cancellationToken).ConfigureAwait(false);
            return directory;
        }
        catch
        {
            directory.Dispose();
            throw;
        }
    }

    /// <summary>A directory over any lister (tests); lists every node once before returning.</summary>
    public static async Task<ContainerDirectory> OpenAsync(IReadOnlyList<PiNode> nodes, ContainerLister list, ILogSink? log, CancellationToken cancellationToken,
        TimeSpan? refreshSpacing = null, TimeSpan? listTimeout = null)
    {
        var directory = new ContainerDirectory(nodes, list, log, null)
        {
            RefreshSpacing = refreshSpacing ?? TimeSpan.FromSeconds(5), ListTimeout = listTimeout ?? TimeSpan.FromSeconds(20),
        };
        await directory.LoadAsync(cancellationToken).ConfigureAwait(false);
        return directory;
    }

    /// <summary>Every container of one daemon, with name and PiBench labels.</summary>
    public static async Task<IReadOnlyList<ContainerIdentity>> ListAsync(IDockerClient docker, CancellationToken cancellationToken)
    {
        var list = await docker.Containers.ListContainersAsync(new ContainersListParameters { All = true }, cancellationToken).ConfigureAwait(false);
        return list.Select(c =>
        {
            string Label(string key) => c.Labels is not null && c.Labels.TryGetValue(key, out var v) ? v : "";
            var name = c.Names?.FirstOrDefault()?.TrimStart('/') ?? "";
            return new ContainerIdentity(c.ID.ToLowerInvariant(), name, Label(PiBenchLabels.Service), Label(PiBenchLabels.System));
        }).ToList();
    }

    private async Task LoadAsync(CancellationToken ct)
    {
        var failures = await Task.WhenAll(_nodes.Values.Select(async n =>
        {
            try
            {
                await ListNodeAsync(n, ct).ConfigureAwait(false);
                return null;
            }
            catch (Exception ex) when (!ct.IsCancellationRequested && ex is not OutOfMemoryException)
            {
                lock (n.Lock) n.Unreachable = true;
                return $"{n.Node.Name} ({Reason(ex)})";
            }
        })).ConfigureAwait(false);
        ct.ThrowIfCancellationRequested();
        var failed = failures.OfType<string>().ToList();
        if (failed.Count > 0)
            _log?.Warning($"Docker API not reachable on {string.Join(", ", failed)}: containers there are reported by cgroup id, without names or " +
                          "pibench labels, and are not checked against the node's own Docker daemon. Node figures are not affected.");
    }

    private async Task ListNodeAsync(NodeState n, CancellationToken ct)
    {
        using var bound = CancellationTokenSource.CreateLinkedTokenSource(ct, _disposed.Token);
        bound.CancelAfter(ListTimeout);
        IReadOnlyList<ContainerIdentity> list;
        try
        {
            list = await _list(n.Node, bound.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested && !_disposed.IsCancellationRequested)
        {
            throw new TimeoutException(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"no container list within {ListTimeout.TotalSeconds:0.#} s"));
        }
        var own = list.GroupBy(c => c.Id, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
        lock (n.Lock)
        {
            n.Own = own;
            foreach (var id in n.Pending) if (!own.ContainsKey(id)) n.Foreign.Add(id);
            n.Pending.Clear();
            n.Foreign.ExceptWith(own.Keys);
        }
    }

    /// <summary>
    /// Who a container cgroup seen on <paramref name="node"/> is: its identity when the node's daemon lists it, null when
    /// it belongs to another daemon (or is new and waits for the next list), and an anonymous identity (by id) when the
    /// node's daemon could not be asked.
    /// </summary>
    public ContainerIdentity? Resolve(string node, string id)
    {
        if (!_nodes.TryGetValue(node, out var n)) return null;
        lock (n.Lock)
        {
            if (n.Unreachable) return ContainerIdentity.Anonymous(id);
            if (n.Own is { } own && own.TryGetValue(id, out var who)) return who;
            if (n.Foreign.Contains(id)) return null;
            n.Pending.Add(id);
            if (n.Refreshing || _disposed.IsCancellationRequested || DateTimeOffset.UtcNow - n.ListedAt < RefreshSpacing) return null;
            n.Refreshing = true;
        }
        _ = Task.Run(() => RefreshAsync(n));
        return null;
    }

    private async Task RefreshAsync(NodeState n)
    {
        try
        {
            await ListNodeAsync(n, _disposed.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            if (!_disposed.IsCancellationRequested && !n.RefreshFailureLogged)
            {
                n.RefreshFailureLogged = true;
                _log?.Verbose($"{n.Node.Name}: container list not refreshed ({Reason(ex)}); new containers stay unreported until it answers.");
            }
        }
        finally
        {
            lock (n.Lock)
            {
                n.ListedAt = DateTimeOffset.UtcNow;
                n.Refreshing = false;
            }
        }
    }

    /// <summary>
    /// The hook for <see cref="ClusterMetricSamplerOptions.OnSnapshotPair"/>: turns each pair of consecutive snapshots of
    /// a node into container samples of that node's own containers.
    /// </summary>
    public Action<NodeSnapshot, NodeSnapshot> Hook(Action<ContainerMetricSample> onSample) => (before, after) =>
    {
        foreach (var s in ContainerMetricMath.Samples(before, after, Resolve)) onSample(s);
    };

    private static string Reason(Exception ex)
    {
        var e = ex is AggregateException { InnerException: { } inner } ? inner : ex;
        var m = e.Message.ReplaceLineEndings(" ").Trim();
        return m.Length > 200 ? m[..200] + "..." : m;
    }

    public void Dispose()
    {
        if (_disposed.IsCancellationRequested) return;
        _disposed.Cancel();
        _owned?.Dispose();
    }

    private sealed class NodeState(PiNode node)
    {
        public readonly object Lock = new();
        public PiNode Node { get; } = node;
        public Dictionary<string, ContainerIdentity>? Own;
        public readonly HashSet<string> Foreign = new(StringComparer.Ordinal);
        public readonly HashSet<string> Pending = new(StringComparer.Ordinal);
        public bool Unreachable;
        public bool Refreshing;
        public bool RefreshFailureLogged;
        public DateTimeOffset ListedAt = DateTimeOffset.UtcNow;
    }
}
