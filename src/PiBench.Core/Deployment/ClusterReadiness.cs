using System.Net.Http;
using System.Net.Sockets;
using Docker.DotNet.Models;

namespace PiBench.Core.Deployment;

/// <summary>
/// Readiness: probes a service (TCP connect or HTTP answer), waits until a service's probes pass, and looks at or
/// waits for the cluster to have formed (Kafka answers metadata; every worker registered with the engine's head).
/// </summary>
public sealed class ClusterReadiness(ClusterContext cluster)
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(3) };

    private DeploymentSettings Settings => cluster.Settings;

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
                cluster.Progress.Report(InstallApplier.InstallActivity, $"{spec.Service} ready", -1, spec.Node.Name);
                return;
            }
            cluster.Progress.Report(InstallApplier.InstallActivity, $"waiting for {spec.Service}: {last}", -1, spec.Node.Name);
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
            var docker = await cluster.Access.GetDockerAsync(spec.Node, ct).ConfigureAwait(false);
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

    // ------------------------------------------------------------------ cluster formation

    private string KafkaBootstrap => $"{(cluster.Controller.Address.Contains(':') ? $"[{cluster.Controller.Address}]" : cluster.Controller.Address)}:{Settings.KafkaPort}";

    /// <summary>One look at whether the cluster formed for <paramref name="system"/> (null: Kafka only), expecting
    /// <paramref name="workers"/> (default: every worker of the topology).</summary>
    public async Task<FormationResult> CheckFormedAsync(StreamSystem? system, CancellationToken ct, IReadOnlyList<DeploymentNode>? workers = null)
    {
        var pi1 = cluster.Controller;
        if (system is null) return await ClusterFormation.KafkaAsync(pi1.Name, KafkaBootstrap, TimeSpan.FromSeconds(5), ct).ConfigureAwait(false);
        workers ??= cluster.Catalog.Workers;
        using var engine = cluster.CreateEngine(system.Value);
        return system == StreamSystem.Flink
            ? await ClusterFormation.FlinkAsync(engine, pi1.Name, workers, Settings.FlinkTaskSlots, ct).ConfigureAwait(false)
            : await ClusterFormation.ArroyoAsync(engine, pi1.Name, workers.Count, Settings.ArroyoTaskSlots, ct).ConfigureAwait(false);
    }

    /// <summary>Polls <see cref="CheckFormedAsync"/> until it passes or <paramref name="timeout"/> ends; returns the last result.</summary>
    public async Task<FormationResult> WaitFormedAsync(StreamSystem? system, TimeSpan timeout, CancellationToken ct, IReadOnlyList<DeploymentNode>? workers = null)
    {
        var deadline = DateTime.UtcNow + timeout;
        FormationResult last;
        var attempt = 0;
        while (true)
        {
            last = await CheckFormedAsync(system, ct, workers).ConfigureAwait(false);
            if (last.Passed || DateTime.UtcNow >= deadline || ++attempt > 10_000) return last;
            cluster.Progress.Report(InstallApplier.InstallActivity, $"waiting for {last.Check}: {last.Detail}", -1, last.Node);
            await Task.Delay(attempt < 10 ? 300 : 1000, ct).ConfigureAwait(false);
        }
    }

    /// <summary>Install's last step: the cluster must have formed, or ServiceNotReady names the check that did not pass.</summary>
    /// <paramref name="workers"/>: the workers that were deployed (a node that failed has its own error already).
    internal async Task<PiBenchException?> RequireFormedAsync(StreamSystem? system, CancellationToken ct, IReadOnlyList<DeploymentNode>? workers = null)
    {
        var r = await WaitFormedAsync(system, TimeSpan.FromSeconds(Settings.ReadyTimeoutSeconds), ct, workers).ConfigureAwait(false);
        if (r.Passed)
        {
            cluster.Log.Verbose($"{r.Node}: {r.Check}: {r.Detail}");
            return null;
        }
        var service = r.Check switch
        {
            ClusterFormation.KafkaMetadata => ServiceCatalog.Kafka,
            ClusterFormation.FlinkTaskManagers => ServiceCatalog.FlinkTaskManager,
            _ => ServiceCatalog.ArroyoNode,
        };
        return new PiBenchException("ServiceNotReady", PiBenchErrorCategory.OperationTimeout,
            $"{r.Node}: the cluster did not form within {Settings.ReadyTimeoutSeconds} s: check {r.Check} failed: {r.Detail}.", r.Node,
            $"The processes are up but not registered. Read the logs: Get-StreamClusterLog -Service {service}; then Test-StreamCluster.");
    }
}
