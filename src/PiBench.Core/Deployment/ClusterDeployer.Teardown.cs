using System.Net.Http;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Docker.DotNet;
using Docker.DotNet.Models;
using PiBench.Core.Engines;
using EngineSystem = PiBench.Core.Engines.StreamSystem;

namespace PiBench.Core.Deployment;

/// <summary>Uninstall: plan and apply the teardown.</summary>
public sealed partial class ClusterDeployer
{
    // ------------------------------------------------------------------ uninstall

    /// <summary>Plans Uninstall-StreamCluster: containers (workers first), and with <paramref name="removeData"/> volumes and files.</summary>
    public async Task<DeploymentPlan> PlanUninstallAsync(bool removeData, CancellationToken ct)
    {
        var (states, errors) = await ReadAllAsync(_ => Array.Empty<string>(), ct).ConfigureAwait(false);
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

    /// <summary>Names of the jobs PiBench submits (<see cref="NexmarkQueryRun.JobName"/>: nexmark-&lt;query&gt;-p&lt;n&gt;).</summary>
    public const string PiBenchJobPrefix = "nexmark-";

    /// <summary>
    /// Uninstall keeps the engine's database unless -RemoveData: Arroyo's controller reschedules every pipeline left
    /// running on its next start (and takes each node's slot), Flink's JobManager does not keep jobs without HA but
    /// stopping is the same promise. So the plan stops PiBench's running jobs first; when they cannot be listed, it
    /// says so instead of silently going on.
    /// </summary>
    private async Task PlanStopJobsAsync(DeploymentPlan plan, Dictionary<string, NodeState> states, CancellationToken ct)
    {
        var pi1 = Controller;
        if (!states.TryGetValue(pi1.Name, out var st)) return;
        var head = st.Containers.Values.FirstOrDefault(c => c.Labels.Label(PiBenchLabels.Service, "") is ServiceCatalog.ArroyoController or ServiceCatalog.FlinkJobManager);
        if (head is null || !string.Equals(head.State, "running", StringComparison.OrdinalIgnoreCase)) return; // nothing runs jobs
        var system = head.Labels.Label(PiBenchLabels.Service, "") == ServiceCatalog.ArroyoController ? StreamSystem.Arroyo : StreamSystem.Flink;
        try
        {
            using var engine = CreateEngine(EngineSettings(system));
            foreach (var job in await engine.ListActiveJobsAsync(PiBenchJobPrefix, ct).ConfigureAwait(false))
                plan.Actions.Add(new DeploymentAction
                {
                    Node = pi1.Name, Service = ContainerName(head).Replace("pibench-", ""), Kind = DeploymentActionKind.StopJob,
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

    private async Task StopJobAsync(DeploymentAction a, CancellationToken ct)
    {
        var job = a.Job!;
        var system = job.System == PiBench.Core.Engines.StreamSystem.Arroyo ? StreamSystem.Arroyo : StreamSystem.Flink;
        using var engine = CreateEngine(EngineSettings(system));
        await engine.StopAsync(job, StreamStopMode.Immediate, ct).ConfigureAwait(false);
        var timeout = TimeSpan.FromSeconds(Math.Clamp(Settings.ReadyTimeoutSeconds, 10, 60));
        var end = await engine.WaitAsync(job, s => s.State.IsTerminal(), timeout, ct, failOnFailed: false).ConfigureAwait(false);
        _log.Verbose($"{a.Node}: {a.Target} is {end.EngineState}");
    }

    /// <summary>PiBench's working directory on every node (relative to the SSH user's home).</summary>
    public const string RemoteDir = "pibench";

    public async Task<DeploymentOutcome> ApplyUninstallAsync(DeploymentPlan plan, CancellationToken ct)
    {
        var outcome = new DeploymentOutcome();
        var failed = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        void Fail(string node, PiBenchException ex) { lock (outcome) { failed.Add(node); outcome.Errors.Add(ex); } }
        void Done(DeploymentAction a) { lock (outcome) outcome.Applied.Add(a); _log.Verbose($"{a.Node}: {a.Description}"); }
        // PiBench's pipelines first, while the engine still runs (each stop is accepted, then awaited).
        foreach (var a in plan.Actions.Where(a => a.Kind == DeploymentActionKind.StopJob))
        {
            _progress.Report("Uninstall stream cluster", a.Description, 1);
            try
            {
                await StopJobAsync(a, ct).ConfigureAwait(false);
                Done(a);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
            {
                lock (outcome) outcome.Errors.Add(new PiBenchException("PipelineNotStopped", PiBenchErrorCategory.InvalidResult,
                    $"{a.Node}: {a.Description} failed: {ex.Message}", a.Target,
                    "With the data kept, the engine restarts this pipeline on its next start: stop it (Stop-NexmarkQuery) or uninstall with -RemoveData.", ex));
            }
        }
        foreach (var phase in plan.Actions.Where(a => a.Kind != DeploymentActionKind.StopJob).Select(a => a.Phase).Distinct().OrderBy(p => p))
        {
            _progress.Report("Uninstall stream cluster", phase switch { 0 => "Removing workers", 1 => "Removing the engine head", 2 => "Removing Kafka and MinIO", _ => "Removing data" }, phase * 25);
            await ForEachNodeAsync(plan.Actions.Where(a => a.Phase == phase && a.Kind != DeploymentActionKind.StopJob), failed, Fail, Done, async (docker, a) =>
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

}
