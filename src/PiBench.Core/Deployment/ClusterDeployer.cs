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
public sealed class ClusterDeployer
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
                    plan.Actions.Add(new DeploymentAction { Node = pi1.Name, Service = "image", Kind = DeploymentActionKind.PullImage, Target = image, Phase = -3 });
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
                new[] { KafkaTopicsScript, "--bootstrap-server", KafkaBootstrapInside, "--describe", "--topic", string.Join("|", Settings.KafkaTopics.Select(Regex.Escape)) }, ct).ConfigureAwait(false);
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
                var (code, stdout, stderr) = await DockerOps.ExecAsync(docker, ServiceCatalog.ContainerNameOf(ServiceCatalog.Kafka), cmd, ct).ConfigureAwait(false);
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

    // ------------------------------------------------------------------ apply

    /// <summary>
    /// Applies a plan in dependency order. A failing node is recorded and skipped from then on; the other nodes go on.
    /// </summary>
    public async Task<DeploymentOutcome> ApplyAsync(DeploymentPlan plan, CancellationToken ct)
    {
        var outcome = new DeploymentOutcome();
        var failed = new HashSet<string>(plan.NodeErrors.Select(e => e.TargetObject as string ?? "").Where(s => s.Length > 0), StringComparer.OrdinalIgnoreCase);
        var pi1 = Controller;
        var distributor = new ImageDistributor(_access, _progress, _log);
        Transfers.Clear();

        void Fail(string node, PiBenchException ex)
        {
            lock (outcome)
            {
                failed.Add(node);
                outcome.Errors.Add(ex);
            }
        }
        void Done(DeploymentAction a)
        {
            lock (outcome) outcome.Applied.Add(a);
            _log.Verbose($"{a.Node}: {a.Description}");
        }

        // Images on Pi1.
        foreach (var a in plan.Actions.Where(a => a.Kind is DeploymentActionKind.PullImage or DeploymentActionKind.BuildImage))
        {
            if (failed.Contains(a.Node)) continue;
            _progress.Report(InstallActivity, a.Description, 5);
            try
            {
                if (a.Kind == DeploymentActionKind.PullImage) await distributor.PullAsync(pi1, a.Target, ct).ConfigureAwait(false);
                else await distributor.BuildAsync(pi1, a.Target, FlinkDockerfile(), ct).ConfigureAwait(false);
                Done(a);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
            {
                Fail(a.Node, NodeError(pi1, ex, a.Description));
            }
        }

        // Images to the nodes, one image at a time, all nodes in parallel.
        foreach (var group in plan.Actions.Where(a => a.Kind == DeploymentActionKind.LoadImage).GroupBy(a => a.Target))
        {
            if (failed.Contains(pi1.Name)) break;
            var targets = group.Where(a => !failed.Contains(a.Node)).Select(a => NodeByName(a.Node)).ToList();
            if (targets.Count == 0) continue;
            _progress.Report(InstallActivity, $"Distributing {group.Key} to {targets.Count} node(s)", 15);
            try
            {
                var results = await distributor.DistributeAsync(pi1, group.Key, targets, ct).ConfigureAwait(false);
                Transfers.AddRange(results);
                foreach (var r in results)
                {
                    var action = group.First(a => a.Node.Equals(r.Node, StringComparison.OrdinalIgnoreCase));
                    if (r.Result == "Failed")
                        Fail(r.Node, new PiBenchException("ImageLoadFailed", PiBenchErrorCategory.ConnectionError,
                            $"{r.Node}: loading {r.Image} failed: {r.Error}", r.Node, "Check the node's disk space and SSH connection, then run the command again."));
                    else if (r.Result == "Loaded") Done(action);
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
            {
                Fail(pi1.Name, NodeError(pi1, ex, $"saving {group.Key}"));
            }
        }

        // Unwanted containers (the other engine first, so ports are free).
        await ForEachNodeAsync(plan.Actions.Where(a => a.Kind == DeploymentActionKind.RemoveContainer), failed, Fail, Done,
            (docker, a) => RemoveContainerAsync(docker, a.Target, ct), ct).ConfigureAwait(false);

        // Shared services, then the head, then the workers; readiness after each phase.
        foreach (var phase in new[] { 0, 1, 2 })
        {
            var actions = plan.Actions.Where(a => a.Spec?.Phase == phase && a.Kind is DeploymentActionKind.CreateVolume
                or DeploymentActionKind.CreateContainer or DeploymentActionKind.RecreateContainer or DeploymentActionKind.StartContainer).ToList();
            _progress.Report(InstallActivity, phase switch { 0 => "Starting Kafka and MinIO", 1 => "Starting the engine head", _ => "Starting the workers" }, 30 + phase * 20);
            await ForEachNodeAsync(actions, failed, Fail, Done, (docker, a) => ApplyServiceActionAsync(docker, a, ct), ct).ConfigureAwait(false);

            var touched = actions.Where(a => a.Spec is not null && a.Kind != DeploymentActionKind.CreateVolume).Select(a => a.Spec!)
                .Where(s => !failed.Contains(s.Node.Name)).ToList();
            await Task.WhenAll(touched.Select(async s =>
            {
                try { await WaitReadyAsync(s, ct).ConfigureAwait(false); }
                catch (PiBenchException ex) { Fail(s.Node.Name, ex); }
            })).ConfigureAwait(false);

            if (phase == 0 && !failed.Contains(pi1.Name))
            {
                var docker = await _access.GetDockerAsync(pi1, ct).ConfigureAwait(false);
                foreach (var a in plan.Actions.Where(a => a.Kind is DeploymentActionKind.CreateTopics or DeploymentActionKind.CreateBucket))
                {
                    try
                    {
                        if (a.Kind == DeploymentActionKind.CreateTopics) await CreateTopicsAsync(docker, a.Target.Split(','), ct).ConfigureAwait(false);
                        else await CreateBucketAsync(docker, ct).ConfigureAwait(false);
                        Done(a);
                    }
                    catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
                    {
                        lock (outcome) outcome.Errors.Add(NodeError(pi1, ex, a.Description)); // Kafka/MinIO stay up; the engine can still start
                    }
                }
            }
        }
        _progress.Report(InstallActivity, "Done", 100);
        return outcome;
    }

    private DeploymentNode NodeByName(string name) => Nodes.First(n => n.Name.Equals(name, StringComparison.OrdinalIgnoreCase));

    /// <summary>Runs actions grouped by node: nodes in parallel, each node's actions in order; the first failure stops that node only.</summary>
    private async Task ForEachNodeAsync(IEnumerable<DeploymentAction> actions, HashSet<string> failed, Action<string, PiBenchException> fail,
        Action<DeploymentAction> done, Func<IDockerClient, DeploymentAction, Task> run, CancellationToken ct)
    {
        await Task.WhenAll(actions.GroupBy(a => a.Node, StringComparer.OrdinalIgnoreCase).Select(async g =>
        {
            bool skip;
            lock (failed) skip = failed.Contains(g.Key);
            if (skip) return;
            var node = NodeByName(g.Key);
            foreach (var a in g)
            {
                try
                {
                    var docker = await _access.GetDockerAsync(node, ct).ConfigureAwait(false);
                    await run(docker, a).ConfigureAwait(false);
                    done(a);
                }
                catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
                {
                    if (ex is not PiBenchException) _access.Invalidate(node);
                    fail(node.Name, NodeError(node, ex, a.Description));
                    return;
                }
            }
        })).ConfigureAwait(false);
    }

    private async Task ApplyServiceActionAsync(IDockerClient docker, DeploymentAction a, CancellationToken ct)
    {
        var spec = a.Spec!;
        switch (a.Kind)
        {
            case DeploymentActionKind.CreateVolume:
                await docker.Volumes.CreateAsync(new VolumesCreateParameters
                {
                    Name = a.Target,
                    Labels = new Dictionary<string, string>
                    {
                        [PiBenchLabels.Managed] = "true", [PiBenchLabels.Service] = spec.Service, [PiBenchLabels.Node] = spec.Node.Name,
                        [PiBenchLabels.Version] = ModuleInfo.Version,
                    },
                }, ct).ConfigureAwait(false);
                break;
            case DeploymentActionKind.StartContainer:
                await docker.Containers.StartContainerAsync(spec.ContainerName, new ContainerStartParameters(), ct).ConfigureAwait(false);
                break;
            case DeploymentActionKind.RecreateContainer:
                await RemoveContainerAsync(docker, spec.ContainerName, ct).ConfigureAwait(false);
                await CreateAndStartAsync(docker, spec, ct).ConfigureAwait(false);
                break;
            case DeploymentActionKind.CreateContainer:
                await RemoveContainerAsync(docker, spec.ContainerName, ct).ConfigureAwait(false); // a stale unlabelled leftover of ours
                await CreateAndStartAsync(docker, spec, ct).ConfigureAwait(false);
                break;
        }
    }

    private static async Task RemoveContainerAsync(IDockerClient docker, string name, CancellationToken ct)
    {
        try
        {
            await docker.Containers.StopContainerAsync(name, new ContainerStopParameters { WaitBeforeKillSeconds = 20 }, ct).ConfigureAwait(false);
        }
        catch (DockerApiException ex) when (ex.StatusCode is System.Net.HttpStatusCode.NotFound or System.Net.HttpStatusCode.NotModified) { }
        try
        {
            await docker.Containers.RemoveContainerAsync(name, new ContainerRemoveParameters { Force = true, RemoveVolumes = false }, ct).ConfigureAwait(false);
        }
        catch (DockerApiException ex) when (ex.StatusCode == System.Net.HttpStatusCode.NotFound) { }
    }

    /// <summary>Creates the container exactly as the spec says and starts it.</summary>
    public static async Task CreateAndStartAsync(IDockerClient docker, ServiceSpec spec, CancellationToken ct)
    {
        var p = new CreateContainerParameters
        {
            Name = spec.ContainerName,
            Image = spec.Image,
            Env = spec.EnvironmentList.ToList(),
            Labels = new Dictionary<string, string>(spec.Labels),
            HostConfig = new HostConfig
            {
                NetworkMode = ServiceSpec.NetworkMode,
                Memory = spec.MemoryBytes,
                MemorySwap = spec.MemoryBytes, // no swap beyond the limit
                RestartPolicy = new RestartPolicy
                {
                    Name = spec.RestartPolicy == "always" ? RestartPolicyKind.Always : RestartPolicyKind.UnlessStopped,
                },
                Binds = spec.Volumes.Select(v => $"{v.Name}:{v.Path}").ToList(),
                LogConfig = new LogConfig { Type = "json-file", Config = new Dictionary<string, string> { ["max-size"] = "20m", ["max-file"] = "3" } },
            },
        };
        if (spec.Command.Count > 0) p.Cmd = spec.Command.ToList();
        await docker.Containers.CreateContainerAsync(p, ct).ConfigureAwait(false);
        await docker.Containers.StartContainerAsync(spec.ContainerName, new ContainerStartParameters(), ct).ConfigureAwait(false);
    }

    private string FlinkDockerfile() =>
        $"FROM {Settings.Images.FlinkBase}\n" +
        $"ADD --chown=flink:flink {Settings.Images.FlinkKafkaConnectorUrl} /opt/flink/lib/\n" +
        $"LABEL {PiBenchLabels.Managed}=true\n";

    // ------------------------------------------------------------------ readiness

    /// <summary>Polls a service's probes until all pass or the timeout ends.</summary>
    public async Task WaitReadyAsync(ServiceSpec spec, CancellationToken ct)
    {
        if (spec.Readiness.Count == 0) return;
        var deadline = DateTime.UtcNow.AddSeconds(Settings.ReadyTimeoutSeconds);
        var last = "";
        for (var attempt = 0; attempt < 100_000 && DateTime.UtcNow < deadline; attempt++)
        {
            var all = true;
            foreach (var probe in spec.Readiness)
            {
                var (ok, detail) = await ProbeAsync(probe, ct).ConfigureAwait(false);
                if (!ok) { all = false; last = $"{probe.Name}: {detail}"; break; }
            }
            if (all)
            {
                _progress.Report(InstallActivity, $"{spec.Service} ready", -1, spec.Node.Name);
                return;
            }
            _progress.Report(InstallActivity, $"waiting for {spec.Service}: {last}", -1, spec.Node.Name);
            await Task.Delay(attempt < 20 ? 200 : 1000, ct).ConfigureAwait(false);
        }
        var tail = await LogTailAsync(spec, ct).ConfigureAwait(false);
        throw new PiBenchException("ServiceNotReady", PiBenchErrorCategory.OperationTimeout,
            $"{spec.Node.Name}: {spec.Service} was not ready after {Settings.ReadyTimeoutSeconds} s ({last}).{tail}", spec.Node.Name,
            $"Read its log: Get-StreamClusterLog -Service {spec.Service} -Node {spec.Node.Name}");
    }

    /// <summary>The container's state and last log lines, for a readiness error (empty when unavailable).</summary>
    private async Task<string> LogTailAsync(ServiceSpec spec, CancellationToken ct)
    {
        try
        {
            var docker = await _access.GetDockerAsync(spec.Node, ct).ConfigureAwait(false);
            var inspect = await docker.Containers.InspectContainerAsync(spec.ContainerName, ct).ConfigureAwait(false);
            using var stream = await docker.Containers.GetContainerLogsAsync(spec.ContainerName,
                new ContainerLogsParameters { ShowStdout = true, ShowStderr = true, Tail = "5" }, ct).ConfigureAwait(false);
            var (stdout, stderr) = await stream.ReadOutputToEndAsync(ct).ConfigureAwait(false);
            var lines = (stdout + stderr).Trim().Replace("\n", " | ");
            return $" Container {inspect.State?.Status}, restarts {inspect.RestartCount}; last log lines: {(lines.Length > 0 ? lines : "(none)")}";
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            return "";
        }
    }

    public static async Task<(bool Ok, string Detail)> ProbeAsync(ReadinessProbe probe, CancellationToken ct)
    {
        try
        {
            if (probe.Kind == "tcp")
            {
                var i = probe.Target.LastIndexOf(':');
                using var tcp = new TcpClient();
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
                timeout.CancelAfter(TimeSpan.FromSeconds(3));
                await tcp.ConnectAsync(probe.Target[..i], int.Parse(probe.Target[(i + 1)..]), timeout.Token).ConfigureAwait(false);
                return (true, "connected to " + probe.Target);
            }
            var body = await GetAsync(probe.Target, ct).ConfigureAwait(false);
            if (probe.Expect is not null && !body.Contains(probe.Expect, StringComparison.OrdinalIgnoreCase))
                return (false, $"{probe.Target} answered without '{probe.Expect}'");
            return (true, $"{probe.Target} answered");
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            return (false, $"{probe.Target}: {ex.Message}");
        }
    }

    private static async Task<string> GetAsync(string url, CancellationToken ct)
    {
        using var response = await Http.GetAsync(url, ct).ConfigureAwait(false);
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false);
    }

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

    // ------------------------------------------------------------------ checks

    /// <summary>Readiness checks as objects (Test-StreamCluster). With <paramref name="job"/> (a running query) also
    /// where its subtasks run (<see cref="SubtaskPlacementCheck"/>); without it that check is reported as skipped.</summary>
    public async Task<List<StreamClusterCheck>> TestAsync(StreamSystem? system, CancellationToken ct, StreamJobHandle? job = null, int parallelism = 0)
    {
        var checks = new List<StreamClusterCheck>();
        void Add(string check, string node, bool passed, string detail) =>
            checks.Add(new StreamClusterCheck { Check = check, Node = node, Passed = passed, Detail = detail });

        var pi1 = Controller;
        IDockerClient? pi1Docker = null;
        try
        {
            pi1Docker = await _access.GetDockerAsync(pi1, ct).ConfigureAwait(false);
            system ??= await DetectSystemAsync(ct).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            _access.Invalidate(pi1);
            Add("DockerReachable", pi1.Name, false, NodeError(pi1, ex, "connecting to Docker").Message);
        }

        // Containers running, per node.
        var (services, errors) = await GetServicesAsync(ct).ConfigureAwait(false);
        foreach (var e in errors)
            if (!checks.Any(c => c.Node == (string?)e.TargetObject)) Add("DockerReachable", e.TargetObject as string ?? "", false, e.Message);
        var wanted = system is { } s ? Catalog.For(s) : Catalog.For(StreamSystem.Arroyo).Where(x => x.System == PiBenchLabels.SharedSystem).ToList();
        foreach (var spec in wanted)
        {
            if (errors.Any(e => (string?)e.TargetObject == spec.Node.Name)) continue;
            var found = services.FirstOrDefault(x => x.Service == spec.Service && x.Node == spec.Node.Name);
            Add("ContainerRunning:" + spec.Service, spec.Node.Name, found?.State == "running",
                found is null ? $"{spec.ContainerName} does not exist" : $"{found.Container} {found.State} ({found.Image})");
        }

        // Kafka: listener and topics with the expected partitions.
        var kafka = Catalog.KafkaSpec();
        var (kok, kdetail) = await ProbeAsync(kafka.Readiness[0], ct).ConfigureAwait(false);
        Add("KafkaListener", pi1.Name, kok, kdetail);
        if (pi1Docker is not null)
        {
            var (ok, partitions) = await TopicPartitionsAsync(pi1Docker, ct).ConfigureAwait(false);
            foreach (var topic in Settings.KafkaTopics)
            {
                var has = partitions.TryGetValue(topic, out var n);
                Add("KafkaTopic:" + topic, pi1.Name, ok && has && n == Catalog.Partitions,
                    !ok ? "kafka-topics.sh could not describe the topics" : has ? $"{n} partitions (expected {Catalog.Partitions})" : "missing");
            }
            var bucket = await BucketExistsAsync(pi1Docker, ct).ConfigureAwait(false);
            Add("MinioBucket", pi1.Name, bucket, bucket ? $"bucket {Settings.MinioBucket} exists" : $"bucket {Settings.MinioBucket} missing");
        }
        var (mok, mdetail) = await ProbeAsync(Catalog.MinioSpec().Readiness[0], ct).ConfigureAwait(false);
        Add("MinioHealth", pi1.Name, mok, mdetail);

        if (system == StreamSystem.Arroyo) await TestArroyoAsync(Add, ct).ConfigureAwait(false);
        else if (system == StreamSystem.Flink) await TestFlinkAsync(Add, ct).ConfigureAwait(false);
        else Add("EngineInstalled", pi1.Name, false, "neither Arroyo nor Flink containers were found on the controller");
        if (system is { } sys) checks.AddRange(await TestPlacementAsync(sys, job, parallelism, ct).ConfigureAwait(false));
        return checks;
    }

    private async Task<List<StreamClusterCheck>> TestPlacementAsync(StreamSystem system, StreamJobHandle? job, int parallelism, CancellationToken ct)
    {
        var pi1 = Controller;
        if (job is null || job.JobId.Length == 0)
            return [SubtaskPlacementCheck.Skip(pi1.Name, "no job given (pass -JobId, or pipe a NexmarkQueryRun from Invoke-NexmarkQuery)")];
        var engineSystem = system == StreamSystem.Arroyo ? EngineSystem.Arroyo : EngineSystem.Flink;
        if (job.System != engineSystem)
            return [SubtaskPlacementCheck.Skip(pi1.Name, $"job {job.JobId} is a {job.System} job but {system} is installed")];
        var settings = new StreamEngineSettings
        {
            System = engineSystem,
            ControllerAddress = pi1.Address,
            ArroyoApiPort = Settings.ArroyoApiPort,
            ArroyoAdminPort = Settings.ArroyoAdminPort,
            FlinkRestPort = Settings.FlinkRestPort,
            RequestTimeout = TimeSpan.FromSeconds(Math.Clamp(Settings.ReadyTimeoutSeconds, 5, 30)),
            NodeAdminUris = system == StreamSystem.Arroyo
                ? Catalog.Workers.Select(w => new Uri($"http://{(w.Address.Contains(':') ? $"[{w.Address}]" : w.Address)}:{Settings.ArroyoAdminPort}/")).ToList()
                : [],
        };
        try
        {
            using var engine = StreamEngine.Create(settings, log: _log);
            return await SubtaskPlacementCheck.RunAsync(engine, job, new(pi1.Name, pi1.Address),
                Catalog.Workers.Select(w => new SubtaskPlacementCheck.PlacementNode(w.Name, w.Address)).ToList(), parallelism,
                system == StreamSystem.Arroyo ? Settings.ArroyoTaskSlots : Settings.FlinkTaskSlots, ct).ConfigureAwait(false);
        }
        catch (PiBenchException ex)
        {
            return [new StreamClusterCheck { Check = SubtaskPlacementCheck.CheckName, Node = pi1.Name, Passed = false, Detail = ex.Message }];
        }
    }

    private async Task TestArroyoAsync(Action<string, string, bool, string> add, CancellationToken ct)
    {
        var pi1 = Controller;
        foreach (var probe in Catalog.ArroyoControllerSpec().Readiness)
        {
            var (ok, detail) = await ProbeAsync(probe, ct).ConfigureAwait(false);
            add(probe.Name, pi1.Name, ok, detail);
        }
        // The node scheduler's view: registered nodes and slots (controller admin /metrics, arroyo.md §2.1).
        var url = $"http://{pi1.Address}:{Settings.ArroyoAdminPort}/metrics";
        var expectNodes = Catalog.Workers.Count;
        var expectSlots = expectNodes * Settings.ArroyoTaskSlots;
        try
        {
            var deadline = DateTime.UtcNow.AddSeconds(Math.Min(30, Settings.ReadyTimeoutSeconds));
            double nodes = -1, slots = -1;
            for (var i = 0; i < 100 && DateTime.UtcNow < deadline; i++)
            {
                var text = await GetAsync(url, ct).ConfigureAwait(false);
                nodes = Metric(text, "arroyo_controller_registered_nodes");
                slots = Metric(text, "arroyo_controller_registered_slots");
                if (nodes == expectNodes && slots == expectSlots) break;
                await Task.Delay(1000, ct).ConfigureAwait(false); // nodes heartbeat every 5 s
            }
            add("ArroyoRegisteredNodes", pi1.Name, nodes == expectNodes, $"{nodes} registered nodes (expected {expectNodes}, one per worker)");
            add("ArroyoRegisteredSlots", pi1.Name, slots == expectSlots, $"{slots} registered slots (expected {expectSlots})");
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            add("ArroyoRegisteredNodes", pi1.Name, false, $"{url}: {ex.Message}");
        }
        foreach (var w in Catalog.Workers)
        {
            var (ok, detail) = await ProbeAsync(Catalog.ArroyoNodeSpec(w).Readiness[0], ct).ConfigureAwait(false);
            add("ArroyoNodeAdmin", w.Name, ok, detail);
        }
    }

    private static double Metric(string prometheus, string name)
    {
        var m = Regex.Match(prometheus, "^" + Regex.Escape(name) + @"(\{[^}]*\})?\s+([0-9.eE+-]+)", RegexOptions.Multiline);
        return m.Success && double.TryParse(m.Groups[2].Value, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var v) ? v : -1;
    }

    private async Task TestFlinkAsync(Action<string, string, bool, string> add, CancellationToken ct)
    {
        var pi1 = Controller;
        var url = $"http://{pi1.Address}:{Settings.FlinkRestPort}/overview";
        var expectTm = Catalog.Workers.Count;
        var expectSlots = expectTm * Settings.FlinkTaskSlots;
        try
        {
            var deadline = DateTime.UtcNow.AddSeconds(Math.Min(30, Settings.ReadyTimeoutSeconds));
            int tms = -1, slots = -1;
            for (var i = 0; i < 100 && DateTime.UtcNow < deadline; i++)
            {
                using var doc = System.Text.Json.JsonDocument.Parse(await GetAsync(url, ct).ConfigureAwait(false));
                tms = doc.RootElement.TryGetProperty("taskmanagers", out var t) ? t.GetInt32() : -1;
                slots = doc.RootElement.TryGetProperty("slots-total", out var st) ? st.GetInt32() : -1;
                if (tms == expectTm && slots == expectSlots) break;
                await Task.Delay(1000, ct).ConfigureAwait(false);
            }
            add("FlinkRest", pi1.Name, true, url + " answered");
            add("FlinkTaskManagers", pi1.Name, tms == expectTm, $"{tms} TaskManagers registered (expected {expectTm})");
            add("FlinkSlots", pi1.Name, slots == expectSlots, $"{slots} slots (expected {expectSlots})");
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            add("FlinkRest", pi1.Name, false, $"{url}: {ex.Message}");
        }
        var (ok, detail) = await ProbeAsync(Catalog.FlinkSqlGatewaySpec().Readiness[0], ct).ConfigureAwait(false);
        add("FlinkSqlGateway", pi1.Name, ok, detail);
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

    // ------------------------------------------------------------------ uninstall

    /// <summary>Plans Uninstall-StreamCluster: containers (workers first), and with <paramref name="removeData"/> volumes and files.</summary>
    public async Task<DeploymentPlan> PlanUninstallAsync(bool removeData, CancellationToken ct)
    {
        var (states, errors) = await ReadAllAsync(_ => Array.Empty<string>(), ct).ConfigureAwait(false);
        var plan = new DeploymentPlan();
        plan.NodeErrors.AddRange(errors);
        var order = new[] { ServiceCatalog.ArroyoNode, ServiceCatalog.FlinkTaskManager, ServiceCatalog.FlinkSqlGateway,
            ServiceCatalog.ArroyoController, ServiceCatalog.FlinkJobManager, ServiceCatalog.Kafka, ServiceCatalog.Minio };
        foreach (var st in states.Values)
        {
            foreach (var (svc, c) in st.Containers)
            {
                var idx = Array.IndexOf(order, svc);
                plan.Actions.Add(new DeploymentAction { Node = st.Node.Name, Service = svc, Kind = DeploymentActionKind.RemoveContainer, Target = ContainerName(c), Detail = c.State, Phase = idx < 0 ? 0 : idx < 3 ? 0 : idx < 5 ? 1 : 2 });
            }
            if (!removeData) continue;
            foreach (var v in st.Volumes)
                plan.Actions.Add(new DeploymentAction { Node = st.Node.Name, Service = "data", Kind = DeploymentActionKind.RemoveVolume, Target = v, Phase = 3 });
            try
            {
                var r = await _access.RunAsync(st.Node, $"test -d {RemoteDir}", ct).ConfigureAwait(false);
                if (r.ExitCode == 0)
                    plan.Actions.Add(new DeploymentAction { Node = st.Node.Name, Service = "data", Kind = DeploymentActionKind.RemoveFiles, Target = RemoteDir, Phase = 3 });
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
            {
                plan.NodeErrors.Add(NodeError(st.Node, ex, "checking PiBench's files"));
            }
        }
        plan.Actions.Sort((a, b) => a.Phase != b.Phase ? a.Phase.CompareTo(b.Phase) : string.CompareOrdinal(a.Node, b.Node));
        return plan;
    }

    /// <summary>PiBench's working directory on every node (relative to the SSH user's home).</summary>
    public const string RemoteDir = "pibench";

    public async Task<DeploymentOutcome> ApplyUninstallAsync(DeploymentPlan plan, CancellationToken ct)
    {
        var outcome = new DeploymentOutcome();
        var failed = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        void Fail(string node, PiBenchException ex) { lock (outcome) { failed.Add(node); outcome.Errors.Add(ex); } }
        void Done(DeploymentAction a) { lock (outcome) outcome.Applied.Add(a); _log.Verbose($"{a.Node}: {a.Description}"); }
        foreach (var phase in plan.Actions.Select(a => a.Phase).Distinct().OrderBy(p => p))
        {
            _progress.Report("Uninstall stream cluster", phase switch { 0 => "Removing workers", 1 => "Removing the engine head", 2 => "Removing Kafka and MinIO", _ => "Removing data" }, phase * 25);
            await ForEachNodeAsync(plan.Actions.Where(a => a.Phase == phase), failed, Fail, Done, async (docker, a) =>
            {
                switch (a.Kind)
                {
                    case DeploymentActionKind.RemoveContainer:
                        await RemoveContainerAsync(docker, a.Target, ct).ConfigureAwait(false);
                        break;
                    case DeploymentActionKind.RemoveVolume:
                        await docker.Volumes.RemoveAsync(a.Target, false, ct).ConfigureAwait(false);
                        break;
                    case DeploymentActionKind.RemoveFiles:
                        var r = await _access.RunAsync(NodeByName(a.Node), $"rm -rf -- {RemoteDir}", ct).ConfigureAwait(false);
                        if (r.ExitCode != 0) throw new IOException(r.Error.Trim());
                        break;
                }
            }, ct).ConfigureAwait(false);
        }
        return outcome;
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
