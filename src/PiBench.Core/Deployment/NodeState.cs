using Docker.DotNet.Models;

namespace PiBench.Core.Deployment;

/// <summary>What PiBench has on one node (its labelled containers by service, its volumes, the image ids it holds),
/// read from every node in parallel; the state both plans start from.</summary>
internal sealed class NodeState
{
    public required DeploymentNode Node { get; init; }
    public Dictionary<string, ContainerListResponse> Containers { get; } = new(StringComparer.Ordinal);
    public HashSet<string> Volumes { get; } = new(StringComparer.Ordinal);
    public Dictionary<string, string?> ImageIds { get; } = new(StringComparer.Ordinal);

    private static async Task<NodeState> ReadAsync(INodeAccess access, DeploymentNode node, IEnumerable<string> images, CancellationToken ct)
    {
        var docker = await access.GetDockerAsync(node, ct).ConfigureAwait(false);
        var state = new NodeState { Node = node };
        foreach (var c in await DockerOps.PiBenchContainersAsync(docker, ct).ConfigureAwait(false))
            if (c.Labels.TryGetValue(PiBenchLabels.Service, out var svc)) state.Containers[svc] = c;
        foreach (var v in await DockerOps.PiBenchVolumesAsync(docker, ct).ConfigureAwait(false)) state.Volumes.Add(v.Name);
        foreach (var image in images.Distinct())
            state.ImageIds[image] = await DockerOps.ImageIdAsync(docker, image, ct).ConfigureAwait(false);
        return state;
    }

    /// <summary>Reads all nodes in parallel; unreachable nodes become per-node errors.</summary>
    public static async Task<(Dictionary<string, NodeState> States, List<PiBenchException> Errors)> ReadAllAsync(
        ClusterContext cluster, Func<DeploymentNode, IEnumerable<string>> imagesOf, CancellationToken ct)
    {
        var states = new Dictionary<string, NodeState>(StringComparer.OrdinalIgnoreCase);
        var errors = new List<PiBenchException>();
        var reads = await Task.WhenAll(cluster.Nodes.Select(async n =>
        {
            try { return (n, state: await ReadAsync(cluster.Access, n, imagesOf(n), ct).ConfigureAwait(false), error: (PiBenchException?)null); }
            catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
            {
                cluster.Access.Invalidate(n);
                return (n, state: (NodeState?)null, error: NodeErrors.From(n, ex, "reading its Docker state"));
            }
        })).ConfigureAwait(false);
        foreach (var (n, state, error) in reads)
        {
            if (state is not null) states[n.Name] = state;
            if (error is not null) errors.Add(error);
        }
        return (states, errors);
    }
}
