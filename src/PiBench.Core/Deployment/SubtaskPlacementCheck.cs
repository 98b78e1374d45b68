using System.Globalization;
using PiBench.Core.Engines;
using EngineSystem = PiBench.Core.Engines.StreamSystem;

namespace PiBench.Core.Deployment;

/// <summary>
/// Test-StreamCluster's <c>SubtaskPlacement</c> check (issue 7 §2): for a running job, are its subtasks on the worker
/// nodes (not all on the controller, not all on one node)? Pure logic over <see cref="SubtaskPlacement"/> rows, so it
/// is tested without a cluster.
/// </summary>
public static class SubtaskPlacementCheck
{
    public const string CheckName = "SubtaskPlacement";

    /// <summary>One node the check knows by name and address (the topology's).</summary>
    public sealed record PlacementNode(string Name, string Address);

    /// <summary>The row reported when no job is given or the job is not running: skipped, not failed.</summary>
    public static StreamClusterCheck Skip(string node, string reason) =>
        new() { Check = CheckName, Node = node, Passed = true, Skipped = true, Detail = "skipped: " + reason };

    /// <summary>
    /// One row per worker (Passed when it hosts work of the job, or when the job needs fewer nodes than there are
    /// workers and enough workers are busy) and one summary row for the controller (Passed when nothing runs on a
    /// non-worker host and at least <c>min(workers, ceil(parallelism / slotsPerWorker))</c> workers are busy).
    /// <paramref name="parallelism"/> 0 = take it from the rows (Flink: highest subtask index + 1) or expect every worker.
    /// </summary>
    public static List<StreamClusterCheck> Evaluate(EngineSystem system, string jobId, IReadOnlyList<SubtaskPlacement> placement,
        PlacementNode controller, IReadOnlyList<PlacementNode> workers, int parallelism, int slotsPerWorker)
    {
        var checks = new List<StreamClusterCheck>();
        // A node's address may also be host:port, matching an Arroyo node's admin endpoint (several nodes on one host).
        bool On(SubtaskPlacement p, PlacementNode n) =>
            p.Host.Equals(n.Address, StringComparison.OrdinalIgnoreCase) || p.Host.Equals(n.Name, StringComparison.OrdinalIgnoreCase)
            || (p.Worker.Length > 0 && p.Worker.Equals(n.Address, StringComparison.OrdinalIgnoreCase));
        bool IsWorker(SubtaskPlacement p) => workers.Any(w => On(p, w));

        if (parallelism <= 0 && placement.Any(p => p.Subtask >= 0)) parallelism = placement.Max(p => p.Subtask) + 1;
        var slots = Math.Max(1, slotsPerWorker);
        var expectedNodes = parallelism > 0 ? Math.Min(workers.Count, (parallelism + slots - 1) / slots) : workers.Count;
        var arroyo = system == EngineSystem.Arroyo;
        var unit = arroyo ? "running workers" : "subtasks";
        var evidence = arroyo
            ? $"Arroyo 0.11 exposes no subtask placement; evidence is {Engines.Arroyo.ArroyoEngine.RunningWorkersMetric} on each node's admin /metrics (workers of any running job)"
            : "Flink /jobs/:jid/vertices/:vid subtasks";
        int Count(IEnumerable<SubtaskPlacement> rows) => rows.Sum(p => Math.Max(1, p.Workers));

        var busy = workers.Count(w => placement.Any(p => On(p, w)));
        var enough = busy >= expectedNodes;
        foreach (var w in workers)
        {
            var mine = placement.Where(p => On(p, w)).ToList();
            var n = Count(mine);
            var ops = mine.Where(p => p.OperatorName.Length > 0).Select(p => p.OperatorName).Distinct().Count();
            var detail = n > 0
                ? string.Create(CultureInfo.InvariantCulture, $"{n} {unit} of job {jobId}{(ops > 0 ? $" ({ops} operators)" : "")}")
                : enough
                    ? string.Create(CultureInfo.InvariantCulture, $"idle: job {jobId} needs {expectedNodes} of {workers.Count} workers and {busy} are busy")
                    : string.Create(CultureInfo.InvariantCulture, $"no {unit} of job {jobId} here; only {busy} of {expectedNodes} expected workers are busy");
            checks.Add(new StreamClusterCheck { Check = CheckName, Node = w.Name, Passed = n > 0 || enough, Detail = detail });
        }

        var onController = placement.Where(p => !IsWorker(p) && On(p, controller)).ToList();
        var elsewhere = placement.Where(p => !IsWorker(p) && !On(p, controller)).ToList();
        var total = Count(placement);
        var hosts = placement.Select(p => p.Host).Distinct(StringComparer.OrdinalIgnoreCase).Count();
        var summary = string.Create(CultureInfo.InvariantCulture,
            $"{total} {unit} of job {jobId} on {hosts} hosts: {busy}/{workers.Count} workers busy (expected at least {expectedNodes}), {Count(onController)} on the controller");
        if (elsewhere.Count > 0)
            summary += "; on unknown hosts: " + string.Join(", ", elsewhere.Select(p => p.Host).Distinct(StringComparer.OrdinalIgnoreCase));
        if (total == 0) summary = $"no {unit} of job {jobId} found on any node";
        checks.Add(new StreamClusterCheck
        {
            Check = CheckName,
            Node = controller.Name,
            Passed = total > 0 && onController.Count == 0 && elsewhere.Count == 0 && enough,
            Detail = summary + " [" + evidence + "]",
        });
        return checks;
    }

    /// <summary>Reads the job's state and placement through <paramref name="engine"/> and evaluates it; a job that is
    /// not running is skipped (reported, not failed).</summary>
    public static async Task<List<StreamClusterCheck>> RunAsync(IStreamEngine engine, StreamJobHandle job, PlacementNode controller,
        IReadOnlyList<PlacementNode> workers, int parallelism, int slotsPerWorker, CancellationToken cancellationToken)
    {
        var status = await engine.GetStatusAsync(job, cancellationToken).ConfigureAwait(false);
        if (status.State != StreamJobState.Running)
            return [Skip(controller.Name, $"job {job.JobId} is {status.EngineState}, not running: placement not checked")];
        var placement = await engine.GetPlacementAsync(job, cancellationToken).ConfigureAwait(false);
        return Evaluate(engine.System, job.JobId, placement, controller, workers, parallelism, slotsPerWorker);
    }
}
