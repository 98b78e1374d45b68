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

}
