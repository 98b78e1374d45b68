using Docker.DotNet.Models;

namespace PiBench.Core.Deployment;

/// <summary>
/// Reads the cluster's state back from the container labels: one object per PiBench service and node
/// (Get-StreamCluster), the system installed on the controller, and the StreamCluster summary Install-StreamCluster returns.
/// </summary>
public sealed class ClusterStatus(ClusterContext cluster)
{
    private DeploymentSettings Settings => cluster.Settings;
    private ServiceCatalog Catalog => cluster.Catalog;

    /// <summary>One object per PiBench service and node, from the labels (Get-StreamCluster).</summary>
    public async Task<(List<StreamClusterService> Services, List<PiBenchException> Errors)> GetServicesAsync(CancellationToken ct)
    {
        var services = new List<StreamClusterService>();
        var errors = new List<PiBenchException>();
        var reads = await Task.WhenAll(cluster.Nodes.Select(async n =>
        {
            try
            {
                var docker = await cluster.Access.GetDockerAsync(n, ct).ConfigureAwait(false);
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
                        Container = DockerOps.ContainerName(c),
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
                cluster.Access.Invalidate(n);
                return (new List<StreamClusterService>(), NodeErrors.From(n, ex, "listing PiBench containers"));
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
        var docker = await cluster.Access.GetDockerAsync(cluster.Controller, ct).ConfigureAwait(false);
        foreach (var c in await DockerOps.PiBenchContainersAsync(docker, ct).ConfigureAwait(false))
        {
            var sys = c.Labels.Label(PiBenchLabels.System, "");
            if (sys == "arroyo") return StreamSystem.Arroyo;
            if (sys == "flink") return StreamSystem.Flink;
        }
        return null;
    }

    /// <summary>The StreamCluster object for the current state.</summary>
    public async Task<StreamCluster> DescribeAsync(StreamSystem system, int changed, int failedCount, CancellationToken ct)
    {
        var (services, _) = await GetServicesAsync(ct).ConfigureAwait(false);
        var wanted = Catalog.For(system);
        var ready = wanted.Count(s => services.Any(x => x.Service == s.Service && x.Node == s.Node.Name && x.State == "running"));
        var pi1 = cluster.Controller;
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
