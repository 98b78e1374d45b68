using System.Net.Http;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Docker.DotNet;
using Docker.DotNet.Models;
using PiBench.Core.Engines;
using EngineSystem = PiBench.Core.Engines.StreamSystem;

namespace PiBench.Core.Deployment;

/// <summary>Applying an install plan: images, containers in dependency order, topics and bucket.</summary>
public sealed partial class ClusterDeployer
{
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
                if (a.Kind == DeploymentActionKind.PullImage)
                {
                    await distributor.PullAsync(pi1, a.Target, ct).ConfigureAwait(false);
                    if (DockerOps.IsDigest(a.Target)) await distributor.TagAsync(pi1, a.Target, DockerOps.LocalReference(a.Target), ct).ConfigureAwait(false);
                }
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

            if (phase == 0 && !failed.Contains(pi1.Name) && actions.Any(a => a.Service == ServiceCatalog.Kafka))
            {
                // Up is not formed: the broker must answer a metadata request on its advertised listener.
                if (await RequireFormedAsync(null, ct).ConfigureAwait(false) is { } notFormed)
                    lock (outcome) outcome.Errors.Add(notFormed); // MinIO and the engine can still start
            }
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
        // Up is not formed: every worker must be registered with the engine's head.
        if (plan.System is { } system && !failed.Contains(pi1.Name) && plan.Actions.Any(a => a.Spec is { Phase: > 0 }))
        {
            _progress.Report(InstallActivity, "Waiting for every worker to register", 95);
            List<DeploymentNode> deployed;
            lock (outcome) deployed = Catalog.Workers.Where(w => !failed.Contains(w.Name)).ToList();
            if (await RequireFormedAsync(system, ct, deployed).ConfigureAwait(false) is { } notFormed)
                lock (outcome) outcome.Errors.Add(notFormed);
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
            // RemoveVolumes (docker rm -v) removes the container's anonymous volumes only; named volumes (our data) stay.
            // apache/kafka 3.7.1 declares VOLUME /etc/kafka/secrets, /var/lib/kafka/data, /mnt/shared/config
            // (docker/docker_official_images/3.7.1/jvm/Dockerfile): each recreation left two anonymous volumes behind.
            await docker.Containers.RemoveContainerAsync(name, new ContainerRemoveParameters { Force = true, RemoveVolumes = true }, ct).ConfigureAwait(false);
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

}
