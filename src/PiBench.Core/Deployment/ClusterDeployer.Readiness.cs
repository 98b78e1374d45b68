using System.Net.Http;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Docker.DotNet;
using Docker.DotNet.Models;
using PiBench.Core.Engines;
using EngineSystem = PiBench.Core.Engines.StreamSystem;

namespace PiBench.Core.Deployment;

/// <summary>Readiness: per-service probes while installing, and the cluster checks of Test-StreamCluster.</summary>
public sealed partial class ClusterDeployer
{
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
        var meta = await CheckFormedAsync(null, ct).ConfigureAwait(false);
        Add(meta.Check, meta.Node, meta.Passed, meta.Detail);
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
        var settings = EngineSettings(system);
        try
        {
            using var engine = CreateEngine(settings);
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
        foreach (var w in Catalog.Workers)
        {
            var (ok, detail) = await ProbeAsync(Catalog.ArroyoNodeSpec(w).Readiness[0], ct).ConfigureAwait(false);
            add("ArroyoNodeAdmin", w.Name, ok, detail);
        }
        var r = await WaitFormedAsync(StreamSystem.Arroyo, TimeSpan.FromSeconds(Math.Min(30, Settings.ReadyTimeoutSeconds)), ct).ConfigureAwait(false);
        add(r.Check, r.Node, r.Passed, r.Detail);
    }

    private async Task TestFlinkAsync(Action<string, string, bool, string> add, CancellationToken ct)
    {
        var pi1 = Controller;
        var (rok, rdetail) = await ProbeAsync(Catalog.FlinkJobManagerSpec().Readiness[0], ct).ConfigureAwait(false);
        add("FlinkRest", pi1.Name, rok, rdetail);
        var r = await WaitFormedAsync(StreamSystem.Flink, TimeSpan.FromSeconds(Math.Min(30, Settings.ReadyTimeoutSeconds)), ct).ConfigureAwait(false);
        add(r.Check, r.Node, r.Passed, r.Detail);
        var (ok, detail) = await ProbeAsync(Catalog.FlinkSqlGatewaySpec().Readiness[0], ct).ConfigureAwait(false);
        add("FlinkSqlGateway", pi1.Name, ok, detail);
    }

    // ------------------------------------------------------------------ cluster formation

    /// <summary>Creates engine adapters; tests may point it elsewhere (default <see cref="StreamEngine.Create"/>).</summary>
    public Func<StreamEngineSettings, IStreamEngine>? EngineFactory { get; init; }

    internal IStreamEngine CreateEngine(StreamEngineSettings settings) =>
        EngineFactory is { } f ? f(settings) : StreamEngine.Create(settings, log: _log);

    /// <summary>The adapter settings for the installed engine on this topology (controller address, ports, node admin URIs).</summary>
    internal StreamEngineSettings EngineSettings(StreamSystem system) => new()
    {
        System = system == StreamSystem.Arroyo ? EngineSystem.Arroyo : EngineSystem.Flink,
        ControllerAddress = Controller.Address,
        ArroyoApiPort = Settings.ArroyoApiPort,
        ArroyoAdminPort = Settings.ArroyoAdminPort,
        FlinkRestPort = Settings.FlinkRestPort,
        FlinkGatewayPort = Settings.FlinkSqlGatewayPort,
        RequestTimeout = TimeSpan.FromSeconds(Math.Clamp(Settings.ReadyTimeoutSeconds, 5, 30)),
        ArroyoSlotsPerNode = Math.Max(1, Settings.ArroyoTaskSlots),
        NodeAdminUris = system == StreamSystem.Arroyo
            ? Catalog.Workers.Select(w => new Uri($"http://{(w.Address.Contains(':') ? $"[{w.Address}]" : w.Address)}:{Settings.ArroyoAdminPort}/")).ToList()
            : [],
    };

    private string KafkaBootstrap => $"{(Controller.Address.Contains(':') ? $"[{Controller.Address}]" : Controller.Address)}:{Settings.KafkaPort}";

    /// <summary>One look at whether the cluster formed for <paramref name="system"/> (null: Kafka only), expecting
    /// <paramref name="workers"/> (default: every worker of the topology).</summary>
    public async Task<FormationResult> CheckFormedAsync(StreamSystem? system, CancellationToken ct, IReadOnlyList<DeploymentNode>? workers = null)
    {
        var pi1 = Controller;
        if (system is null) return await ClusterFormation.KafkaAsync(pi1.Name, KafkaBootstrap, TimeSpan.FromSeconds(5), ct).ConfigureAwait(false);
        workers ??= Catalog.Workers;
        using var engine = CreateEngine(EngineSettings(system.Value));
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
            _progress.Report(InstallActivity, $"waiting for {last.Check}: {last.Detail}", -1, last.Node);
            await Task.Delay(attempt < 10 ? 300 : 1000, ct).ConfigureAwait(false);
        }
    }

    /// <summary>Install's last step: the cluster must have formed, or ServiceNotReady names the check that did not pass.</summary>
    /// <paramref name="workers"/>: the workers that were deployed (a node that failed has its own error already).
    private async Task<PiBenchException?> RequireFormedAsync(StreamSystem? system, CancellationToken ct, IReadOnlyList<DeploymentNode>? workers = null)
    {
        var r = await WaitFormedAsync(system, TimeSpan.FromSeconds(Settings.ReadyTimeoutSeconds), ct, workers).ConfigureAwait(false);
        if (r.Passed)
        {
            _log.Verbose($"{r.Node}: {r.Check}: {r.Detail}");
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
