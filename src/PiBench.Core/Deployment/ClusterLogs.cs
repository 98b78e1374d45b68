using Docker.DotNet;
using Docker.DotNet.Models;

namespace PiBench.Core.Deployment;

/// <summary>Streams a PiBench service's container log (stdout and stderr, line by line) from every node that runs it,
/// or from one node (Get-StreamClusterLog).</summary>
public sealed class ClusterLogs(ClusterContext cluster)
{
    /// <summary>
    /// Streams a service's log lines from every node that runs it (or one node). With <paramref name="follow"/> it runs
    /// until cancelled. Lines arrive on pool threads through <paramref name="onLine"/>.
    /// </summary>
    public async Task<List<PiBenchException>> StreamAsync(string service, string? node, int? tail, bool follow,
        Action<StreamClusterLogLine> onLine, CancellationToken ct)
    {
        var errors = new List<PiBenchException>();
        var nodes = node is null ? cluster.Nodes : cluster.Nodes.Where(n => n.Name.Equals(node, StringComparison.OrdinalIgnoreCase)).ToList();
        if (nodes.Count == 0)
            throw new PiBenchException("NodeNotFound", PiBenchErrorCategory.ObjectNotFound, $"No node named '{node}' in the topology.", node,
                "Use a node name from Get-PiNode.");
        var found = 0;
        await Task.WhenAll(nodes.Select(async n =>
        {
            try
            {
                var docker = await cluster.Access.GetDockerAsync(n, ct).ConfigureAwait(false);
                var containers = await docker.Containers.ListContainersAsync(new ContainersListParameters
                {
                    All = true,
                    Filters = DockerOps.LabelFilter(PiBenchLabels.Managed + "=true", PiBenchLabels.Service + "=" + service),
                }, ct).ConfigureAwait(false);
                if (containers.Count == 0) return;
                Interlocked.Increment(ref found);
                using var stream = await docker.Containers.GetContainerLogsAsync(containers[0].ID, new ContainerLogsParameters
                {
                    ShowStdout = true, ShowStderr = true, Follow = follow, Tail = tail?.ToString() ?? "all",
                }, ct).ConfigureAwait(false);
                var buffer = new byte[16384];
                var pending = new Dictionary<MultiplexedStream.TargetStream, string>();
                while (true)
                {
                    var r = await stream.ReadOutputAsync(buffer, 0, buffer.Length, ct).ConfigureAwait(false);
                    if (r.EOF) break;
                    var text = (pending.TryGetValue(r.Target, out var prev) ? prev : "") + System.Text.Encoding.UTF8.GetString(buffer, 0, r.Count);
                    var lines = text.Split('\n');
                    for (var i = 0; i < lines.Length - 1; i++)
                        onLine(new StreamClusterLogLine { Node = n.Name, Service = service, Stream = r.Target == MultiplexedStream.TargetStream.StandardError ? "stderr" : "stdout", Line = lines[i].TrimEnd('\r') });
                    pending[r.Target] = lines[^1];
                }
                foreach (var (target, rest) in pending.Where(p => p.Value.Length > 0))
                    onLine(new StreamClusterLogLine { Node = n.Name, Service = service, Stream = target == MultiplexedStream.TargetStream.StandardError ? "stderr" : "stdout", Line = rest });
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
            {
                cluster.Access.Invalidate(n);
                lock (errors) errors.Add(NodeErrors.From(n, ex, $"reading the {service} log"));
            }
        })).ConfigureAwait(false);
        if (found == 0 && errors.Count == 0)
            errors.Add(new PiBenchException("ServiceNotFound", PiBenchErrorCategory.ObjectNotFound,
                $"No PiBench container for service '{service}'{(node is null ? "" : " on " + node)}.", service,
                "List the services with Get-StreamCluster."));
        return errors;
    }
}
