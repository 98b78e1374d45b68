using System.Net.Http;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Docker.DotNet;
using Docker.DotNet.Models;
using PiBench.Core.Engines;
using EngineSystem = PiBench.Core.Engines.StreamSystem;

namespace PiBench.Core.Deployment;

/// <summary>Reading the cluster back: services, system, logs, summary.</summary>
public sealed partial class ClusterDeployer
{
    // ------------------------------------------------------------------ read back

    /// <summary>One object per PiBench service and node, from the labels (Get-StreamCluster).</summary>
    public async Task<(List<StreamClusterService> Services, List<PiBenchException> Errors)> GetServicesAsync(CancellationToken ct)
    {
        var services = new List<StreamClusterService>();
        var errors = new List<PiBenchException>();
        var reads = await Task.WhenAll(Nodes.Select(async n =>
        {
            try
            {
                var docker = await _access.GetDockerAsync(n, ct).ConfigureAwait(false);
                var list = new List<StreamClusterService>();
                foreach (var c in await DockerOps.PiBenchContainersAsync(docker, ct).ConfigureAwait(false))
                {
                    var inspect = await docker.Containers.InspectContainerAsync(c.ID, ct).ConfigureAwait(false);
                    var svc = c.Labels.Label(PiBenchLabels.Service, "");
                    var spec = Catalog.For(StreamSystem.Arroyo).Concat(Catalog.For(StreamSystem.Flink))
                        .FirstOrDefault(s => s.Service == svc && s.Node.Name == n.Name);
                    list.Add(new StreamClusterService
                    {
                        Node = n.Name,
                        Service = svc,
                        System = c.Labels.Label(PiBenchLabels.System, ""),
                        Container = ContainerName(c),
                        Image = c.Image,
                        ImageId = DockerOps.ShortId(c.ImageID),
                        State = inspect.State?.Status ?? c.State,
                        Health = HealthOf(inspect),
                        StartedAt = DateTimeOffset.TryParse(inspect.State?.StartedAt, out var started) && started.Year > 1 ? started : null,
                        Ports = spec?.Ports ?? "",
                        MemoryLimitMB = (inspect.HostConfig?.Memory ?? 0) / (1024 * 1024),
                        NetworkMode = inspect.HostConfig?.NetworkMode ?? "",
                        RestartPolicy = inspect.HostConfig?.RestartPolicy?.Name.ToString() ?? "",
                        ConfigHash = c.Labels.Label(PiBenchLabels.Config, ""),
                    });
                }
                return (list, (PiBenchException?)null);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
            {
                _access.Invalidate(n);
                return (new List<StreamClusterService>(), NodeError(n, ex, "listing PiBench containers"));
            }
        })).ConfigureAwait(false);
        foreach (var (list, error) in reads)
        {
            services.AddRange(list);
            if (error is not null) errors.Add(error);
        }
        var order = ServiceCatalog.AllServices.ToList();
        services.Sort((a, b) =>
        {
            var c = order.IndexOf(a.Service).CompareTo(order.IndexOf(b.Service));
            return c != 0 ? c : string.Compare(a.Node, b.Node, StringComparison.OrdinalIgnoreCase);
        });
        return (services, errors);
    }

    private static string HealthOf(ContainerInspectResponse inspect)
    {
        if (inspect.State?.Health?.Status is { Length: > 0 } h) return h;
        if (inspect.State is null) return "unknown";
        if (inspect.State.Restarting) return "restarting";
        return inspect.State.Running ? "running" : "stopped";
    }

    /// <summary>The system whose containers run on the cluster (from Pi1's labels), or null.</summary>
    public async Task<StreamSystem?> DetectSystemAsync(CancellationToken ct)
    {
        var docker = await _access.GetDockerAsync(Controller, ct).ConfigureAwait(false);
        foreach (var c in await DockerOps.PiBenchContainersAsync(docker, ct).ConfigureAwait(false))
        {
            var sys = c.Labels.Label(PiBenchLabels.System, "");
            if (sys == "arroyo") return StreamSystem.Arroyo;
            if (sys == "flink") return StreamSystem.Flink;
        }
        return null;
    }

    // ------------------------------------------------------------------ logs

    /// <summary>
    /// Streams a service's log lines from every node that runs it (or one node). With <paramref name="follow"/> it runs
    /// until cancelled. Lines arrive on pool threads through <paramref name="onLine"/>.
    /// </summary>
    public async Task<List<PiBenchException>> StreamLogsAsync(string service, string? node, int? tail, bool follow,
        Action<StreamClusterLogLine> onLine, CancellationToken ct)
    {
        var errors = new List<PiBenchException>();
        var nodes = node is null ? Nodes : Nodes.Where(n => n.Name.Equals(node, StringComparison.OrdinalIgnoreCase)).ToList();
        if (nodes.Count == 0)
            throw new PiBenchException("NodeNotFound", PiBenchErrorCategory.ObjectNotFound, $"No node named '{node}' in the topology.", node,
                "Use a node name from Get-PiNode.");
        var found = 0;
        await Task.WhenAll(nodes.Select(async n =>
        {
            try
            {
                var docker = await _access.GetDockerAsync(n, ct).ConfigureAwait(false);
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
                _access.Invalidate(n);
                lock (errors) errors.Add(NodeError(n, ex, $"reading the {service} log"));
            }
        })).ConfigureAwait(false);
        if (found == 0 && errors.Count == 0)
            errors.Add(new PiBenchException("ServiceNotFound", PiBenchErrorCategory.ObjectNotFound,
                $"No PiBench container for service '{service}'{(node is null ? "" : " on " + node)}.", service,
                "List the services with Get-StreamCluster."));
        return errors;
    }

    // ------------------------------------------------------------------ summary

    /// <summary>The StreamCluster object for the current state.</summary>
    public async Task<StreamCluster> DescribeAsync(StreamSystem system, int changed, int failedCount, CancellationToken ct)
    {
        var (services, _) = await GetServicesAsync(ct).ConfigureAwait(false);
        var wanted = Catalog.For(system);
        var ready = wanted.Count(s => services.Any(x => x.Service == s.Service && x.Node == s.Node.Name && x.State == "running"));
        var pi1 = Controller;
        var engineUrl = system == StreamSystem.Arroyo
            ? $"http://{pi1.Address}:{Settings.ArroyoApiPort}"
            : $"http://{pi1.Address}:{Settings.FlinkRestPort}";
        return new StreamCluster
        {
            System = system.ToString(),
            Controller = pi1.Name,
            Workers = Catalog.Workers.Count,
            Services = wanted.Count,
            ServicesReady = ready,
            Ready = ready == wanted.Count && failedCount == 0,
            Changed = changed,
            Failed = failedCount,
            EngineImage = system == StreamSystem.Arroyo ? Settings.Images.Arroyo : Settings.Images.Flink,
            KafkaImage = Settings.Images.Kafka,
            MinioImage = Settings.Images.Minio,
            KafkaBootstrap = $"{pi1.Address}:{Settings.KafkaPort}",
            EngineUrl = engineUrl,
            MinioUrl = $"http://{pi1.Address}:{Settings.MinioApiPort}",
            Summary = changed == 0 && failedCount == 0 ? "no changes" : $"{changed} action(s) applied, {failedCount} error(s)",
        };
    }
}
