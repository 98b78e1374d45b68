using Docker.DotNet;
using Docker.DotNet.Models;

namespace PiBench.Core.Deployment;

/// <summary>
/// Applies an install plan in dependency order: images on the controller and to the nodes; unwanted containers
/// removed; Kafka and MinIO, their topics and bucket; the engine head; the workers; each phase waited ready and the
/// cluster required to form. A failing node is recorded and skipped from then on; the other nodes go on.
/// </summary>
public sealed class InstallApplier(ClusterContext cluster)
{
    /// <summary>The Write-Progress activity of Install-StreamCluster.</summary>
    public const string InstallActivity = "Install stream cluster";

    private readonly ClusterReadiness _readiness = new(cluster);
    private readonly TopicsAndBucket _storage = new(cluster);

    /// <summary>Image transfers done by the last <see cref="ApplyAsync"/>.</summary>
    public List<ImageTransfer> Transfers { get; } = new();

    /// <summary>
    /// Applies a plan in dependency order. A failing node is recorded and skipped from then on; the other nodes go on.
    /// </summary>
    public async Task<DeploymentOutcome> ApplyAsync(DeploymentPlan plan, CancellationToken ct)
    {
        var run = new PlanRun(cluster, plan.NodeErrors.Select(e => e.TargetObject as string ?? "").Where(s => s.Length > 0));
        var pi1 = cluster.Controller;
        var progress = cluster.Progress;
        var distributor = new ImageDistributor(cluster.Access, progress, cluster.Log);
        Transfers.Clear();

        // Images on Pi1.
        foreach (var a in plan.Actions.Where(a => a.Kind is DeploymentActionKind.PullImage or DeploymentActionKind.BuildImage))
        {
            if (run.HasFailed(a.Node)) continue;
            progress.Report(InstallActivity, a.Description, 5);
            try
            {
                if (a.Kind == DeploymentActionKind.PullImage)
                {
                    await distributor.PullAsync(pi1, a.Target, ct).ConfigureAwait(false);
                    if (DockerOps.IsDigest(a.Target)) await distributor.TagAsync(pi1, a.Target, DockerOps.LocalReference(a.Target), ct).ConfigureAwait(false);
                }
                else await distributor.BuildAsync(pi1, a.Target, FlinkDockerfile(), ct).ConfigureAwait(false);
                run.Done(a);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
            {
                run.Fail(a.Node, NodeErrors.From(pi1, ex, a.Description));
            }
        }

        // Images to the nodes, one image at a time, all nodes in parallel.
        foreach (var group in plan.Actions.Where(a => a.Kind == DeploymentActionKind.LoadImage).GroupBy(a => a.Target))
        {
            if (run.HasFailed(pi1.Name)) break;
            var targets = group.Where(a => !run.HasFailed(a.Node)).Select(a => cluster.NodeByName(a.Node)).ToList();
            if (targets.Count == 0) continue;
            progress.Report(InstallActivity, $"Distributing {group.Key} to {targets.Count} node(s)", 15);
            try
            {
                var results = await distributor.DistributeAsync(pi1, group.Key, targets, ct).ConfigureAwait(false);
                Transfers.AddRange(results);
                foreach (var r in results)
                {
                    var action = group.First(a => a.Node.Equals(r.Node, StringComparison.OrdinalIgnoreCase));
                    if (r.Result == "Failed")
                        run.Fail(r.Node, new PiBenchException("ImageLoadFailed", PiBenchErrorCategory.ConnectionError,
                            $"{r.Node}: loading {r.Image} failed: {r.Error}", r.Node, "Check the node's disk space and SSH connection, then run the command again."));
                    else if (r.Result == "Loaded") run.Done(action);
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
            {
                run.Fail(pi1.Name, NodeErrors.From(pi1, ex, $"saving {group.Key}"));
            }
        }

        // Unwanted containers (the other engine first, so ports are free).
        await run.ForEachNodeAsync(plan.Actions.Where(a => a.Kind == DeploymentActionKind.RemoveContainer),
            (docker, a) => DockerOps.RemoveContainerAsync(docker, a.Target, ct), ct).ConfigureAwait(false);

        // Shared services, then the head, then the workers; readiness after each phase.
        foreach (var phase in new[] { 0, 1, 2 })
        {
            var actions = plan.Actions.Where(a => a.Spec?.Phase == phase && a.Kind is DeploymentActionKind.CreateVolume
                or DeploymentActionKind.CreateContainer or DeploymentActionKind.RecreateContainer or DeploymentActionKind.StartContainer).ToList();
            progress.Report(InstallActivity, phase switch { 0 => "Starting Kafka and MinIO", 1 => "Starting the engine head", _ => "Starting the workers" }, 30 + phase * 20);
            await run.ForEachNodeAsync(actions, (docker, a) => ApplyServiceActionAsync(docker, a, ct), ct).ConfigureAwait(false);

            var touched = actions.Where(a => a.Spec is not null && a.Kind != DeploymentActionKind.CreateVolume).Select(a => a.Spec!)
                .Where(s => !run.HasFailed(s.Node.Name)).ToList();
            await Task.WhenAll(touched.Select(async s =>
            {
                try { await _readiness.WaitReadyAsync(s, ct).ConfigureAwait(false); }
                catch (PiBenchException ex) { run.Fail(s.Node.Name, ex); }
            })).ConfigureAwait(false);

            if (phase == 0 && !run.HasFailed(pi1.Name) && actions.Any(a => a.Service == ServiceCatalog.Kafka))
            {
                // Up is not formed: the broker must answer a metadata request on its advertised listener.
                if (await _readiness.RequireFormedAsync(null, ct).ConfigureAwait(false) is { } notFormed)
                    run.Error(notFormed); // MinIO and the engine can still start
            }
            if (phase == 0 && !run.HasFailed(pi1.Name))
            {
                var docker = await cluster.Access.GetDockerAsync(pi1, ct).ConfigureAwait(false);
                foreach (var a in plan.Actions.Where(a => a.Kind is DeploymentActionKind.CreateTopics or DeploymentActionKind.CreateBucket))
                {
                    try
                    {
                        if (a.Kind == DeploymentActionKind.CreateTopics) await _storage.CreateTopicsAsync(docker, a.Target.Split(','), ct).ConfigureAwait(false);
                        else await _storage.CreateBucketAsync(docker, ct).ConfigureAwait(false);
                        run.Done(a);
                    }
                    catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
                    {
                        run.Error(NodeErrors.From(pi1, ex, a.Description)); // Kafka/MinIO stay up; the engine can still start
                    }
                }
            }
        }
        // Up is not formed: every worker must be registered with the engine's head.
        if (plan.System is { } system && !run.HasFailed(pi1.Name) && plan.Actions.Any(a => a.Spec is { Phase: > 0 }))
        {
            progress.Report(InstallActivity, "Waiting for every worker to register", 95);
            var deployed = run.NotFailed(cluster.Catalog.Workers);
            if (await _readiness.RequireFormedAsync(system, ct, deployed).ConfigureAwait(false) is { } notFormed)
                run.Error(notFormed);
        }
        progress.Report(InstallActivity, "Done", 100);
        return run.Outcome;
    }

    private static async Task ApplyServiceActionAsync(IDockerClient docker, DeploymentAction a, CancellationToken ct)
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
                await DockerOps.RemoveContainerAsync(docker, spec.ContainerName, ct).ConfigureAwait(false);
                await CreateAndStartAsync(docker, spec, ct).ConfigureAwait(false);
                break;
            case DeploymentActionKind.CreateContainer:
                await DockerOps.RemoveContainerAsync(docker, spec.ContainerName, ct).ConfigureAwait(false); // a stale unlabelled leftover of ours
                await CreateAndStartAsync(docker, spec, ct).ConfigureAwait(false);
                break;
        }
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
        $"FROM {cluster.Settings.Images.FlinkBase}\n" +
        $"ADD --chown=flink:flink {cluster.Settings.Images.FlinkKafkaConnectorUrl} /opt/flink/lib/\n" +
        $"LABEL {PiBenchLabels.Managed}=true\n";
}
