using PiBench.Core.Engines;

namespace PiBench.Core.Deployment;

/// <summary>
/// Plans what Uninstall-StreamCluster would do (read-only; what -WhatIf lists): stop PiBench's running jobs, remove
/// the containers (workers first, then the engine's head, then Kafka and MinIO) and, with -RemoveData, the volumes
/// and PiBench's files. Nothing is modified.
/// </summary>
public sealed class UninstallPlanner(ClusterContext cluster)
{
    /// <summary>Names of the jobs PiBench submits (<see cref="NexmarkQueryRun.JobName"/>: nexmark-&lt;query&gt;-p&lt;n&gt;).</summary>
    public const string PiBenchJobPrefix = "nexmark-";

    /// <summary>Plans Uninstall-StreamCluster: containers (workers first), and with <paramref name="removeData"/> volumes and files.</summary>
    public async Task<DeploymentPlan> PlanAsync(bool removeData, CancellationToken ct)
    {
        var (states, errors) = await NodeState.ReadAllAsync(cluster, _ => Array.Empty<string>(), ct).ConfigureAwait(false);
        var plan = new DeploymentPlan();
        plan.NodeErrors.AddRange(errors);
        await PlanStopJobsAsync(plan, states, ct).ConfigureAwait(false);
        var order = new[] { ServiceCatalog.ArroyoNode, ServiceCatalog.FlinkTaskManager, ServiceCatalog.FlinkSqlGateway,
            ServiceCatalog.ArroyoController, ServiceCatalog.FlinkJobManager, ServiceCatalog.Kafka, ServiceCatalog.Minio };
        foreach (var st in states.Values)
        {
            foreach (var (svc, c) in st.Containers)
            {
                var idx = Array.IndexOf(order, svc);
                plan.Actions.Add(new DeploymentAction { Node = st.Node.Name, Service = svc, Kind = DeploymentActionKind.RemoveContainer, Target = DockerOps.ContainerName(c), Detail = c.State, Phase = idx < 0 ? 0 : idx < 3 ? 0 : idx < 5 ? 1 : 2 });
            }
            if (!removeData) continue;
            foreach (var v in st.Volumes)
                plan.Actions.Add(new DeploymentAction { Node = st.Node.Name, Service = "data", Kind = DeploymentActionKind.RemoveVolume, Target = v, Phase = 3 });
            try
            {
                var r = await cluster.Access.RunAsync(st.Node, $"test -d {ClusterTeardown.RemoteDir}", ct).ConfigureAwait(false);
                if (r.ExitCode == 0)
                    plan.Actions.Add(new DeploymentAction { Node = st.Node.Name, Service = "data", Kind = DeploymentActionKind.RemoveFiles, Target = ClusterTeardown.RemoteDir, Phase = 3 });
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
            {
                plan.NodeErrors.Add(NodeErrors.From(st.Node, ex, "checking PiBench's files"));
            }
        }
        plan.Actions.Sort((a, b) => a.Phase != b.Phase ? a.Phase.CompareTo(b.Phase) : string.CompareOrdinal(a.Node, b.Node));
        return plan;
    }

    /// <summary>
    /// Uninstall keeps the engine's database unless -RemoveData: Arroyo's controller reschedules every pipeline left
    /// running on its next start (and takes each node's slot), Flink's JobManager does not keep jobs without HA but
    /// stopping is the same promise. So the plan stops PiBench's running jobs first; when they cannot be listed, it
    /// says so instead of silently going on.
    /// </summary>
    private async Task PlanStopJobsAsync(DeploymentPlan plan, Dictionary<string, NodeState> states, CancellationToken ct)
    {
        var pi1 = cluster.Controller;
        if (!states.TryGetValue(pi1.Name, out var st)) return;
        var head = st.Containers.Values.FirstOrDefault(c => c.Labels.Label(PiBenchLabels.Service, "") is ServiceCatalog.ArroyoController or ServiceCatalog.FlinkJobManager);
        if (head is null || !string.Equals(head.State, "running", StringComparison.OrdinalIgnoreCase)) return; // nothing runs jobs
        var system = head.Labels.Label(PiBenchLabels.Service, "") == ServiceCatalog.ArroyoController ? StreamSystem.Arroyo : StreamSystem.Flink;
        try
        {
            using var engine = cluster.CreateEngine(system);
            foreach (var job in await engine.ListActiveJobsAsync(PiBenchJobPrefix, ct).ConfigureAwait(false))
                plan.Actions.Add(new DeploymentAction
                {
                    Node = pi1.Name, Service = DockerOps.ContainerName(head).Replace("pibench-", ""), Kind = DeploymentActionKind.StopJob,
                    Target = $"{system} job {job.Name}", Detail = job.PipelineId.Length > 0 ? job.PipelineId : job.JobId, Phase = -1, Job = job,
                });
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            plan.NodeErrors.Add(new PiBenchException("PipelinesNotListed", PiBenchErrorCategory.ConnectionError,
                $"{pi1.Name}: could not list PiBench's running {system} jobs before the teardown ({ex.Message}). With the data kept, " +
                (system == StreamSystem.Arroyo ? "the Arroyo controller restarts any pipeline left running on its next start and takes each node's slot." : "a job left running is lost with the JobManager."),
                pi1.Name, "Stop PiBench's queries first (Stop-NexmarkQuery), or uninstall with -RemoveData to drop the engine's database.", ex));
        }
    }
}
