using Docker.DotNet;

namespace PiBench.Core.Deployment;

/// <summary>
/// The bookkeeping of applying one plan: which actions were applied, which errors occurred and which nodes failed
/// (a failed node is skipped from then on; the other nodes go on), and running a group of actions per node.
/// Safe to use from the per-node tasks: one lock (the outcome) guards the outcome and the failed nodes.
/// </summary>
internal sealed class PlanRun(ClusterContext cluster, IEnumerable<string> failedNodes)
{
    private readonly HashSet<string> _failed = new(failedNodes, StringComparer.OrdinalIgnoreCase);

    public DeploymentOutcome Outcome { get; } = new();

    /// <summary>True when the node has failed (its later actions are skipped).</summary>
    public bool HasFailed(string node)
    {
        lock (Outcome) return _failed.Contains(node);
    }

    /// <summary>Records a node's error and skips the node from then on.</summary>
    public void Fail(string node, PiBenchException ex)
    {
        lock (Outcome)
        {
            _failed.Add(node);
            Outcome.Errors.Add(ex);
        }
    }

    /// <summary>Records an error that does not stop its node.</summary>
    public void Error(PiBenchException ex)
    {
        lock (Outcome) Outcome.Errors.Add(ex);
    }

    public void Done(DeploymentAction a)
    {
        lock (Outcome) Outcome.Applied.Add(a);
        cluster.Log.Verbose($"{a.Node}: {a.Description}");
    }

    /// <summary>The nodes of <paramref name="nodes"/> that have not failed.</summary>
    public List<DeploymentNode> NotFailed(IEnumerable<DeploymentNode> nodes)
    {
        lock (Outcome) return nodes.Where(n => !_failed.Contains(n.Name)).ToList();
    }

    /// <summary>Runs actions grouped by node: nodes in parallel, each node's actions in order; the first failure stops that node only.</summary>
    public async Task ForEachNodeAsync(IEnumerable<DeploymentAction> actions, Func<IDockerClient, DeploymentAction, Task> run, CancellationToken ct)
    {
        await Task.WhenAll(actions.GroupBy(a => a.Node, StringComparer.OrdinalIgnoreCase).Select(async g =>
        {
            if (HasFailed(g.Key)) return;
            var node = cluster.NodeByName(g.Key);
            foreach (var a in g)
            {
                try
                {
                    var docker = await cluster.Access.GetDockerAsync(node, ct).ConfigureAwait(false);
                    await run(docker, a).ConfigureAwait(false);
                    Done(a);
                }
                catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
                {
                    if (ex is not PiBenchException) cluster.Access.Invalidate(node);
                    Fail(node.Name, NodeErrors.From(node, ex, a.Description));
                    return;
                }
            }
        })).ConfigureAwait(false);
    }
}
