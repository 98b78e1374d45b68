using PiBench.Core.Engines;

namespace PiBench.Core.Deployment;

/// <summary>
/// Applies an uninstall plan: stops PiBench's running jobs while the engine still runs, then removes containers,
/// volumes and PiBench's files phase by phase (workers, engine head, Kafka and MinIO, data). A failing node is
/// recorded and skipped from then on; the other nodes go on.
/// </summary>
public sealed class ClusterTeardown(ClusterContext cluster)
{
    /// <summary>PiBench's working directory on every node (relative to the SSH user's home).</summary>
    public const string RemoteDir = "pibench";

    public async Task<DeploymentOutcome> ApplyAsync(DeploymentPlan plan, CancellationToken ct)
    {
        var run = new PlanRun(cluster, []);
        // PiBench's pipelines first, while the engine still runs (each stop is accepted, then awaited).
        foreach (var a in plan.Actions.Where(a => a.Kind == DeploymentActionKind.StopJob))
        {
            cluster.Progress.Report("Uninstall stream cluster", a.Description, 1);
            try
            {
                await StopJobAsync(a, ct).ConfigureAwait(false);
                run.Done(a);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
            {
                run.Error(new PiBenchException("PipelineNotStopped", PiBenchErrorCategory.InvalidResult,
                    $"{a.Node}: {a.Description} failed: {ex.Message}", a.Target,
                    "With the data kept, the engine restarts this pipeline on its next start: stop it (Stop-NexmarkQuery) or uninstall with -RemoveData.", ex));
            }
        }
        foreach (var phase in plan.Actions.Where(a => a.Kind != DeploymentActionKind.StopJob).Select(a => a.Phase).Distinct().OrderBy(p => p))
        {
            cluster.Progress.Report("Uninstall stream cluster", phase switch { 0 => "Removing workers", 1 => "Removing the engine head", 2 => "Removing Kafka and MinIO", _ => "Removing data" }, phase * 25);
            await run.ForEachNodeAsync(plan.Actions.Where(a => a.Phase == phase && a.Kind != DeploymentActionKind.StopJob), async (docker, a) =>
            {
                switch (a.Kind)
                {
                    case DeploymentActionKind.RemoveContainer:
                        await DockerOps.RemoveContainerAsync(docker, a.Target, ct).ConfigureAwait(false);
                        break;
                    case DeploymentActionKind.RemoveVolume:
                        await docker.Volumes.RemoveAsync(a.Target, false, ct).ConfigureAwait(false);
                        break;
                    case DeploymentActionKind.RemoveFiles:
                        var r = await cluster.Access.RunAsync(cluster.NodeByName(a.Node), $"rm -rf -- {RemoteDir}", ct).ConfigureAwait(false);
                        if (r.ExitCode != 0) throw new IOException(r.Error.Trim());
                        break;
                }
            }, ct).ConfigureAwait(false);
        }
        return run.Outcome;
    }

    private async Task StopJobAsync(DeploymentAction a, CancellationToken ct)
    {
        var job = a.Job!;
        var system = job.System == PiBench.Core.Engines.StreamSystem.Arroyo ? StreamSystem.Arroyo : StreamSystem.Flink;
        using var engine = cluster.CreateEngine(system);
        await engine.StopAsync(job, StreamStopMode.Immediate, ct).ConfigureAwait(false);
        var timeout = TimeSpan.FromSeconds(Math.Clamp(cluster.Settings.ReadyTimeoutSeconds, 10, 60));
        var end = await engine.WaitAsync(job, s => s.State.IsTerminal(), timeout, ct, failOnFailed: false).ConfigureAwait(false);
        cluster.Log.Verbose($"{a.Node}: {a.Target} is {end.EngineState}");
    }
}
