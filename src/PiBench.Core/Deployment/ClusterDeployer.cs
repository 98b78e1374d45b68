using System.Net.Http;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Docker.DotNet;
using Docker.DotNet.Models;
using PiBench.Core.Engines;
using EngineSystem = PiBench.Core.Engines.StreamSystem;

namespace PiBench.Core.Deployment;

/// <summary>
/// Converges the cluster to the wanted state: reads every node's PiBench-labelled containers, volumes and images,
/// plans the exact actions (what -WhatIf lists), applies them in dependency order (images; the other engine stopped;
/// Kafka and MinIO; topics and bucket; engine head; workers) with per-node errors that never stop the other nodes,
/// and waits for readiness. Also reads the cluster back (status, checks, logs) and tears it down.
/// Nothing without the <c>pibench.managed</c> label is ever touched.
/// </summary>
public sealed partial class ClusterDeployer
{
    public const string InstallActivity = "Install stream cluster";
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(3) };

    private readonly INodeAccess _access;
    private readonly IProgressSink _progress;
    private readonly ILogSink _log;

    public ClusterDeployer(IReadOnlyList<DeploymentNode> nodes, DeploymentSettings settings, INodeAccess access,
        IProgressSink? progress = null, ILogSink? log = null)
    {
        Catalog = new ServiceCatalog(nodes, settings);
        _ = Catalog.Controller; // validates
        _access = access;
        _progress = progress ?? NullProgress.Instance;
        _log = log ?? NullLog.Instance;
    }

    public ServiceCatalog Catalog { get; }
    public DeploymentSettings Settings => Catalog.Settings;
    public IReadOnlyList<DeploymentNode> Nodes => Catalog.Nodes;
    public DeploymentNode Controller => Catalog.Controller;

    /// <summary>Image transfers done by the last <see cref="ApplyAsync"/>.</summary>
    public List<ImageTransfer> Transfers { get; } = new();

    // ------------------------------------------------------------------ state

    private sealed class NodeState
    {
        public required DeploymentNode Node { get; init; }
        public Dictionary<string, ContainerListResponse> Containers { get; } = new(StringComparer.Ordinal);
        public HashSet<string> Volumes { get; } = new(StringComparer.Ordinal);
        public Dictionary<string, string?> ImageIds { get; } = new(StringComparer.Ordinal);
    }

    private async Task<NodeState> ReadNodeAsync(DeploymentNode node, IEnumerable<string> images, CancellationToken ct)
    {
        var docker = await _access.GetDockerAsync(node, ct).ConfigureAwait(false);
        var state = new NodeState { Node = node };
        foreach (var c in await DockerOps.PiBenchContainersAsync(docker, ct).ConfigureAwait(false))
            if (c.Labels.TryGetValue(PiBenchLabels.Service, out var svc)) state.Containers[svc] = c;
        foreach (var v in await DockerOps.PiBenchVolumesAsync(docker, ct).ConfigureAwait(false)) state.Volumes.Add(v.Name);
        foreach (var image in images.Distinct())
            state.ImageIds[image] = await DockerOps.ImageIdAsync(docker, image, ct).ConfigureAwait(false);
        return state;
    }

    /// <summary>Reads all nodes in parallel; unreachable nodes become per-node errors.</summary>
    private async Task<(Dictionary<string, NodeState> States, List<PiBenchException> Errors)> ReadAllAsync(
        Func<DeploymentNode, IEnumerable<string>> imagesOf, CancellationToken ct)
    {
        var states = new Dictionary<string, NodeState>(StringComparer.OrdinalIgnoreCase);
        var errors = new List<PiBenchException>();
        var reads = await Task.WhenAll(Nodes.Select(async n =>
        {
            try { return (n, state: await ReadNodeAsync(n, imagesOf(n), ct).ConfigureAwait(false), error: (PiBenchException?)null); }
            catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
            {
                _access.Invalidate(n);
                return (n, state: (NodeState?)null, error: NodeError(n, ex, "reading its Docker state"));
            }
        })).ConfigureAwait(false);
        foreach (var (n, state, error) in reads)
        {
            if (state is not null) states[n.Name] = state;
            if (error is not null) errors.Add(error);
        }
        return (states, errors);
    }

    internal static PiBenchException NodeError(DeploymentNode node, Exception ex, string doing)
    {
        if (ex is PiBenchException pb)
            return pb.TargetObject is string t && t == node.Name ? pb
                : new PiBenchException(pb.ErrorId, pb.Category, pb.Message.Contains(node.Name, StringComparison.Ordinal) ? pb.Message : $"{node.Name}: {pb.Message}",
                    node.Name, pb.RecommendedAction, pb);
        var (id, cat, action) = ex switch
        {
            SocketException or Renci.SshNet.Common.SshConnectionException or TimeoutException or Renci.SshNet.Common.SshOperationTimeoutException
                => ("NodeUnreachable", PiBenchErrorCategory.ConnectionError, "Check that the node is up and reachable over SSH, then run the command again."),
            Renci.SshNet.Common.SshAuthenticationException
                => ("SshAuthenticationFailed", PiBenchErrorCategory.AuthenticationError, "Install the SSH key on the node (Install-PiSshKey)."),
            HttpRequestException or IOException or Renci.SshNet.Common.SshException
                => ("DockerUnreachable", PiBenchErrorCategory.ConnectionError, "Check that Docker runs on the node and the SSH user may use it (Install-PiDocker)."),
            DockerApiException
                => ("DockerRequestFailed", PiBenchErrorCategory.InvalidOperation, "Read the message; fix the node's Docker state and run the command again."),
            _ => ("NodeOperationFailed", PiBenchErrorCategory.InvalidOperation, "Read the message and run the command again."),
        };
        var inner = ex is AggregateException { InnerException: { } i } ? i : ex;
        return new PiBenchException(id, cat, $"{node.Name} ({node.Address}): {doing} failed: {Remote.ExceptionText.WithCauses(inner)}", node.Name, action, ex);
    }

}
