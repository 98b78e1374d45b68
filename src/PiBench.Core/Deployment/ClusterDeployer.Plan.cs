using System.Net.Http;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Docker.DotNet;
using Docker.DotNet.Models;
using PiBench.Core.Engines;
using EngineSystem = PiBench.Core.Engines.StreamSystem;

namespace PiBench.Core.Deployment;

/// <summary>Planning: what Install-StreamCluster would change (read-only; what -WhatIf lists), and the Kafka/MinIO reads it needs.</summary>
public sealed partial class ClusterDeployer
{
    // ------------------------------------------------------------------ install plan

    /// <summary>Plans what Install-StreamCluster would change. Nothing is modified.</summary>
    public async Task<DeploymentPlan> PlanInstallAsync(StreamSystem system, bool force, CancellationToken ct)
    {
        var specs = Catalog.For(system);
        var pi1 = Controller;
        var extraOnPi1 = system == StreamSystem.Flink ? new[] { Settings.Images.FlinkBase } : Array.Empty<string>();
        var (states, errors) = await ReadAllAsync(n => specs.Where(s => s.Node.Name == n.Name).Select(s => s.Image)
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
                    Node = st.Node.Name, Service = svc, Kind = DeploymentActionKind.RemoveContainer, Target = ContainerName(c),
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
        var docker = await _access.GetDockerAsync(pi1, ct).ConfigureAwait(false);
        var missingTopics = kafkaTouched ? Settings.KafkaTopics.ToList() : await MissingTopicsAsync(docker, ct).ConfigureAwait(false);
        if (missingTopics.Count > 0)
            plan.Actions.Add(new DeploymentAction { Node = pi1.Name, Service = ServiceCatalog.Kafka, Kind = DeploymentActionKind.CreateTopics, Target = string.Join(",", missingTopics), Detail = $"{Catalog.Partitions} partitions, replication 1", Phase = 5 });
        if (minioTouched || !await BucketExistsAsync(docker, ct).ConfigureAwait(false))
            plan.Actions.Add(new DeploymentAction { Node = pi1.Name, Service = ServiceCatalog.Minio, Kind = DeploymentActionKind.CreateBucket, Target = Settings.MinioBucket, Phase = 5 });

        plan.Actions.Sort((a, b) => a.Phase != b.Phase ? a.Phase.CompareTo(b.Phase) : string.CompareOrdinal(a.Node, b.Node));
        return plan;
    }

    private static string ContainerName(ContainerListResponse c) => c.Names?.FirstOrDefault()?.TrimStart('/') ?? DockerOps.ShortId(c.ID);

    // ------------------------------------------------------------------ topics and bucket

    private static readonly Regex PartitionCount = new(@"PartitionCount:\s*(\d+)", RegexOptions.Compiled);
    private const string KafkaTopicsScript = "/opt/kafka/bin/kafka-topics.sh";

    /// <summary>
    /// kafka-topics.sh runs through kafka-run-class.sh, which takes KAFKA_HEAP_OPTS from the environment (default
    /// -Xmx256M only when unset). Run in the broker's container it would inherit the broker's heap (KafkaSpec sets
    /// -Xms/-Xmx to half the container limit) and two such JVMs exceed the limit: the kernel then kills one of them,
    /// possibly the broker. A small heap for the tool keeps it well inside the limit's headroom.
    /// </summary>
    internal static readonly IList<string> KafkaToolEnv = new[] { "KAFKA_HEAP_OPTS=-Xms32m -Xmx128m" };

    private string KafkaBootstrapInside => $"{Controller.Address}:{Settings.KafkaPort}";

    /// <summary>Topics that are missing or have fewer partitions than wanted; all when Kafka is not running.</summary>
    private async Task<List<string>> MissingTopicsAsync(IDockerClient docker, CancellationToken ct)
    {
        var (ok, counts) = await TopicPartitionsAsync(docker, ct).ConfigureAwait(false);
        if (!ok) return Settings.KafkaTopics.ToList();
        return Settings.KafkaTopics.Where(t => !counts.TryGetValue(t, out var n) || n < Catalog.Partitions).ToList();
    }

    /// <summary>Partition count per topic, read with kafka-topics.sh inside the broker's container.</summary>
    public async Task<(bool Ok, Dictionary<string, int> Partitions)> TopicPartitionsAsync(IDockerClient docker, CancellationToken ct)
    {
        var result = new Dictionary<string, int>(StringComparer.Ordinal);
        try
        {
            var (code, stdout, _) = await DockerOps.ExecAsync(docker, ServiceCatalog.ContainerNameOf(ServiceCatalog.Kafka),
                new[] { KafkaTopicsScript, "--bootstrap-server", KafkaBootstrapInside, "--describe", "--topic", string.Join("|", Settings.KafkaTopics.Select(Regex.Escape)) }, ct, KafkaToolEnv).ConfigureAwait(false);
            foreach (var line in stdout.Split('\n'))
            {
                var m = Regex.Match(line, @"^Topic:\s*(\S+)\s");
                var p = PartitionCount.Match(line);
                if (m.Success && p.Success) result[m.Groups[1].Value] = int.Parse(p.Groups[1].Value);
            }
            return (code == 0 || result.Count > 0, result);
        }
        catch (DockerApiException)
        {
            return (false, result);
        }
    }

    private async Task<bool> BucketExistsAsync(IDockerClient docker, CancellationToken ct)
    {
        try
        {
            var (code, _, _) = await DockerOps.ExecAsync(docker, ServiceCatalog.ContainerNameOf(ServiceCatalog.Minio),
                new[] { "test", "-d", "/data/" + Settings.MinioBucket }, ct).ConfigureAwait(false);
            return code == 0;
        }
        catch (DockerApiException)
        {
            return false;
        }
    }

    private async Task CreateTopicsAsync(IDockerClient docker, IEnumerable<string> topics, CancellationToken ct)
    {
        var (_, existing) = await TopicPartitionsAsync(docker, ct).ConfigureAwait(false);
        foreach (var topic in topics)
        {
            string[] cmd = existing.TryGetValue(topic, out var n)
                ? new[] { KafkaTopicsScript, "--bootstrap-server", KafkaBootstrapInside, "--alter", "--topic", topic, "--partitions", Catalog.Partitions.ToString() }
                : new[] { KafkaTopicsScript, "--bootstrap-server", KafkaBootstrapInside, "--create", "--if-not-exists", "--topic", topic,
                    "--partitions", Catalog.Partitions.ToString(), "--replication-factor", "1" };
            if (n >= Catalog.Partitions) continue;
            var last = "";
            for (var attempt = 0; attempt < 10; attempt++)
            {
                var (code, stdout, stderr) = await DockerOps.ExecAsync(docker, ServiceCatalog.ContainerNameOf(ServiceCatalog.Kafka), cmd, ct, KafkaToolEnv).ConfigureAwait(false);
                if (code == 0) { last = ""; break; }
                last = (stderr + stdout).Trim();
                await Task.Delay(1000, ct).ConfigureAwait(false); // the broker may still be electing its controller
            }
            if (last.Length > 0)
                throw new PiBenchException("KafkaTopicCreationFailed", PiBenchErrorCategory.InvalidResult,
                    $"{Controller.Name}: creating topic {topic} failed: {last}", topic, "Check the Kafka log (Get-StreamClusterLog -Service kafka).");
        }
    }

    private async Task CreateBucketAsync(IDockerClient docker, CancellationToken ct)
    {
        var script = "mc alias set pibench \"http://127.0.0.1:$1\" \"$MINIO_ROOT_USER\" \"$MINIO_ROOT_PASSWORD\" >/dev/null && mc mb --ignore-existing \"pibench/$2\"";
        var last = "";
        for (var attempt = 0; attempt < 10; attempt++)
        {
            var (code, stdout, stderr) = await DockerOps.ExecAsync(docker, ServiceCatalog.ContainerNameOf(ServiceCatalog.Minio),
                new[] { "sh", "-c", script, "sh", Settings.MinioApiPort.ToString(), Settings.MinioBucket }, ct).ConfigureAwait(false);
            if (code == 0) return;
            last = (stderr + stdout).Trim();
            await Task.Delay(1000, ct).ConfigureAwait(false);
        }
        throw new PiBenchException("MinioBucketCreationFailed", PiBenchErrorCategory.InvalidResult,
            $"{Controller.Name}: creating bucket {Settings.MinioBucket} failed: {last}", Settings.MinioBucket, "Check the MinIO log (Get-StreamClusterLog -Service minio).");
    }


    // ------------------------------------------------------------------ memory limits

    /// <summary>
    /// Nodes whose containers would run without their memory limit: the kernel's memory cgroup is off (stock Raspberry
    /// Pi OS; read over SSH like Test-PiNode does) or Docker says it has no memory limit support (/info MemoryLimit,
    /// the condition behind Docker's "Your kernel does not support memory limit capabilities" warning). Unreadable
    /// nodes are left out: their errors come from the plan.
    /// </summary>
    public async Task<List<(string Node, string Detail)>> NodesWithoutMemoryLimitsAsync(CancellationToken ct)
    {
        var found = await Task.WhenAll(Nodes.Select(async n =>
        {
            try
            {
                var r = await _access.RunAsync(n, PiBench.Core.Remote.NodeProbe.MemoryCgroupCommand, ct).ConfigureAwait(false);
                var kernel = PiBench.Core.Remote.NodeProbe.ParseMemoryCgroup(r.Output);
                var docker = await _access.GetDockerAsync(n, ct).ConfigureAwait(false);
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
