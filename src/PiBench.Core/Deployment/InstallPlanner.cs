namespace PiBench.Core.Deployment;

/// <summary>
/// Plans what Install-StreamCluster would change (read-only; what -WhatIf lists): images, containers to remove,
/// volumes and containers to create, recreate or start, topics and bucket; and finds the nodes whose containers
/// would run without their memory limit. Nothing is modified.
/// </summary>
public sealed class InstallPlanner(ClusterContext cluster)
{
    private DeploymentSettings Settings => cluster.Settings;
    private ServiceCatalog Catalog => cluster.Catalog;
    private readonly TopicsAndBucket _storage = new(cluster);

    /// <summary>Plans what Install-StreamCluster would change. Nothing is modified.</summary>
    public async Task<DeploymentPlan> PlanAsync(StreamSystem system, bool force, CancellationToken ct)
    {
        var specs = Catalog.For(system);
        var pi1 = cluster.Controller;
        var extraOnPi1 = system == StreamSystem.Flink ? new[] { Settings.Images.FlinkBase } : Array.Empty<string>();
        var (states, errors) = await NodeState.ReadAllAsync(cluster, n => specs.Where(s => s.Node.Name == n.Name).Select(s => s.Image)
            .Concat(n.Name == pi1.Name ? Catalog.ImagesFor(system).Concat(extraOnPi1) : Array.Empty<string>()), ct).ConfigureAwait(false);
        var plan = new DeploymentPlan { System = system };
        plan.NodeErrors.AddRange(errors);
        if (!states.TryGetValue(pi1.Name, out var pi1State))
            return plan; // without Pi1 nothing can be deployed: its error says why

        // 1. Images: once on Pi1 (pull, or build the derived Flink image), then to every node that runs them.
        var loads = new HashSet<(string Node, string Image)>();
        foreach (var image in Catalog.ImagesFor(system))
        {
            var onPi1 = pi1State.ImageIds.GetValueOrDefault(image);
            if (onPi1 is null)
            {
                if (image == Settings.Images.Flink)
                {
                    if (pi1State.ImageIds.GetValueOrDefault(Settings.Images.FlinkBase) is null)
                        plan.Actions.Add(new DeploymentAction { Node = pi1.Name, Service = "image", Kind = DeploymentActionKind.PullImage, Target = Settings.Images.FlinkBase, Phase = -3 });
                    plan.Actions.Add(new DeploymentAction { Node = pi1.Name, Service = "image", Kind = DeploymentActionKind.BuildImage, Target = image, Detail = $"FROM {Settings.Images.FlinkBase} + Kafka SQL connector", Phase = -2 });
                }
                else
                {
                    var source = Settings.Images.All.FirstOrDefault(o => DockerOps.LocalReference(o) == image) ?? image;
                    plan.Actions.Add(new DeploymentAction
                    {
                        Node = pi1.Name, Service = "image", Kind = DeploymentActionKind.PullImage, Target = source,
                        Detail = source == image ? "" : $"then tag {image} for distribution", Phase = -3,
                    });
                }
            }
            foreach (var node in specs.Where(s => s.Image == image && s.Node.Name != pi1.Name).Select(s => s.Node).DistinctBy(n => n.Name))
            {
                if (!states.TryGetValue(node.Name, out var st)) continue;
                var id = st.ImageIds.GetValueOrDefault(image);
                if (id is not null && id == onPi1)
                {
                    plan.Skipped.Add(new ImageTransfer { Node = node.Name, Image = image, ImageId = id, Result = "Skipped" });
                }
                else
                {
                    plan.Actions.Add(new DeploymentAction { Node = node.Name, Service = "image", Kind = DeploymentActionKind.LoadImage, Target = image, Detail = pi1.Name, Phase = -1 });
                    loads.Add((node.Name, image));
                }
            }
        }

        // 2. Containers that should not be there (the other engine, or a service moved elsewhere).
        foreach (var st in states.Values)
        {
            foreach (var (svc, c) in st.Containers)
            {
                if (specs.Any(s => s.Service == svc && s.Node.Name == st.Node.Name)) continue;
                var sys = c.Labels.Label(PiBenchLabels.System, "");
                plan.Actions.Add(new DeploymentAction
                {
                    Node = st.Node.Name, Service = svc, Kind = DeploymentActionKind.RemoveContainer, Target = DockerOps.ContainerName(c),
                    Detail = sys != PiBenchLabels.SharedSystem && sys != system.ToString().ToLowerInvariant() ? $"switching from {sys} to {system.ToString().ToLowerInvariant()}" : "not wanted on this node",
                    Phase = -0,
                });
            }
        }

        // 3. Wanted services: volumes, containers.
        foreach (var spec in specs)
        {
            if (!states.TryGetValue(spec.Node.Name, out var st)) continue;
            foreach (var v in spec.Volumes.Where(v => !st.Volumes.Contains(v.Name)))
                plan.Actions.Add(new DeploymentAction { Node = spec.Node.Name, Service = spec.Service, Kind = DeploymentActionKind.CreateVolume, Target = v.Name, Phase = spec.Phase * 10 + 1, Spec = spec });
            var imageChanges = loads.Contains((spec.Node.Name, spec.Image))
                || (spec.Node.Name == pi1.Name && pi1State.ImageIds.GetValueOrDefault(spec.Image) is null);
            if (!st.Containers.TryGetValue(spec.Service, out var existing))
            {
                plan.Actions.Add(new DeploymentAction { Node = spec.Node.Name, Service = spec.Service, Kind = DeploymentActionKind.CreateContainer, Target = spec.ContainerName, Detail = spec.Image, Phase = spec.Phase * 10 + 2, Spec = spec });
                continue;
            }
            var why = force ? "-Force"
                : existing.Labels.Label(PiBenchLabels.Config) != spec.ConfigHash ? "configuration changed"
                : imageChanges || (st.ImageIds.GetValueOrDefault(spec.Image) is { } want && existing.ImageID != want) ? "image changed"
                : null;
            if (why is not null)
                plan.Actions.Add(new DeploymentAction { Node = spec.Node.Name, Service = spec.Service, Kind = DeploymentActionKind.RecreateContainer, Target = spec.ContainerName, Detail = $"{spec.Image}; {why}", Phase = spec.Phase * 10 + 2, Spec = spec });
            else if (!string.Equals(existing.State, "running", StringComparison.OrdinalIgnoreCase))
                plan.Actions.Add(new DeploymentAction { Node = spec.Node.Name, Service = spec.Service, Kind = DeploymentActionKind.StartContainer, Target = spec.ContainerName, Detail = existing.State, Phase = spec.Phase * 10 + 2, Spec = spec });
        }

        // 4. Topics and bucket (checked inside the running containers when they are unchanged).
        var kafkaTouched = plan.Actions.Any(a => a.Service == ServiceCatalog.Kafka && a.Node == pi1.Name);
        var minioTouched = plan.Actions.Any(a => a.Service == ServiceCatalog.Minio && a.Node == pi1.Name);
        var docker = await cluster.Access.GetDockerAsync(pi1, ct).ConfigureAwait(false);
        var missingTopics = kafkaTouched ? Settings.KafkaTopics.ToList() : await _storage.MissingTopicsAsync(docker, ct).ConfigureAwait(false);
        if (missingTopics.Count > 0)
            plan.Actions.Add(new DeploymentAction { Node = pi1.Name, Service = ServiceCatalog.Kafka, Kind = DeploymentActionKind.CreateTopics, Target = string.Join(",", missingTopics), Detail = $"{Catalog.Partitions} partitions, replication 1", Phase = 5 });
        if (minioTouched || !await _storage.BucketExistsAsync(docker, ct).ConfigureAwait(false))
            plan.Actions.Add(new DeploymentAction { Node = pi1.Name, Service = ServiceCatalog.Minio, Kind = DeploymentActionKind.CreateBucket, Target = Settings.MinioBucket, Phase = 5 });

        plan.Actions.Sort((a, b) => a.Phase != b.Phase ? a.Phase.CompareTo(b.Phase) : string.CompareOrdinal(a.Node, b.Node));
        return plan;
    }

    /// <summary>
    /// Nodes whose containers would run without their memory limit: the kernel's memory cgroup is off (stock Raspberry
    /// Pi OS; read over SSH like Test-PiNode does) or Docker says it has no memory limit support (/info MemoryLimit,
    /// the condition behind Docker's "Your kernel does not support memory limit capabilities" warning). Unreadable
    /// nodes are left out: their errors come from the plan.
    /// </summary>
    public async Task<List<(string Node, string Detail)>> NodesWithoutMemoryLimitsAsync(CancellationToken ct)
    {
        var found = await Task.WhenAll(cluster.Nodes.Select(async n =>
        {
            try
            {
                var r = await cluster.Access.RunAsync(n, PiBench.Core.Remote.NodeProbe.MemoryCgroupCommand, ct).ConfigureAwait(false);
                var kernel = PiBench.Core.Remote.NodeProbe.ParseMemoryCgroup(r.Output);
                var docker = await cluster.Access.GetDockerAsync(n, ct).ConfigureAwait(false);
                var info = await docker.System.GetSystemInfoAsync(ct).ConfigureAwait(false);
                if (kernel == false)
                    return (n.Name, Detail: "the kernel's memory cgroup controller is off");
                if (!info.MemoryLimit)
                    return (n.Name, Detail: "Docker reports no memory limit support");
                return (n.Name, Detail: (string?)null);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
            {
                return (n.Name, Detail: (string?)null);
            }
        })).ConfigureAwait(false);
        return found.Where(f => f.Detail is not null).Select(f => (f.Name, f.Detail!)).ToList();
    }
}
