using Docker.DotNet;
using PiBench.Core.Engines;
using EngineSystem = PiBench.Core.Engines.StreamSystem;

namespace PiBench.Core.Deployment;

/// <summary>
/// The checks of Test-StreamCluster, as objects: Docker reachable, containers running, Kafka listener, metadata,
/// topics and partitions, the MinIO bucket and health, the engine's API and registered workers, and where a running
/// job's subtasks run.
/// </summary>
public sealed class ClusterChecks(ClusterContext cluster)
{
    private DeploymentSettings Settings => cluster.Settings;
    private ServiceCatalog Catalog => cluster.Catalog;
    private readonly ClusterStatus _status = new(cluster);
    private readonly ClusterReadiness _readiness = new(cluster);
    private readonly TopicsAndBucket _storage = new(cluster);

    /// <summary>Readiness checks as objects (Test-StreamCluster). With <paramref name="job"/> (a running query) also
    /// where its subtasks run (<see cref="SubtaskPlacementCheck"/>); without it that check is reported as skipped.</summary>
    public async Task<List<StreamClusterCheck>> TestAsync(StreamSystem? system, CancellationToken ct, StreamJobHandle? job = null, int parallelism = 0)
    {
        var checks = new List<StreamClusterCheck>();
        void Add(string check, string node, bool passed, string detail) =>
            checks.Add(new StreamClusterCheck { Check = check, Node = node, Passed = passed, Detail = detail });

        var pi1 = cluster.Controller;
        IDockerClient? pi1Docker = null;
        try
        {
            pi1Docker = await cluster.Access.GetDockerAsync(pi1, ct).ConfigureAwait(false);
            system ??= await _status.DetectSystemAsync(ct).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            cluster.Access.Invalidate(pi1);
            Add("DockerReachable", pi1.Name, false, NodeErrors.From(pi1, ex, "connecting to Docker").Message);
        }

        // Containers running, per node.
        var (services, errors) = await _status.GetServicesAsync(ct).ConfigureAwait(false);
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
        var (kok, kdetail) = await ClusterReadiness.ProbeAsync(kafka.Readiness[0], ct).ConfigureAwait(false);
        Add("KafkaListener", pi1.Name, kok, kdetail);
        var meta = await _readiness.CheckFormedAsync(null, ct).ConfigureAwait(false);
        Add(meta.Check, meta.Node, meta.Passed, meta.Detail);
        if (pi1Docker is not null)
        {
            var (ok, partitions) = await _storage.TopicPartitionsAsync(pi1Docker, ct).ConfigureAwait(false);
            foreach (var topic in Settings.KafkaTopics)
            {
                var has = partitions.TryGetValue(topic, out var n);
                Add("KafkaTopic:" + topic, pi1.Name, ok && has && n == Catalog.Partitions,
                    !ok ? "kafka-topics.sh could not describe the topics" : has ? $"{n} partitions (expected {Catalog.Partitions})" : "missing");
            }
            var bucket = await _storage.BucketExistsAsync(pi1Docker, ct).ConfigureAwait(false);
            Add("MinioBucket", pi1.Name, bucket, bucket ? $"bucket {Settings.MinioBucket} exists" : $"bucket {Settings.MinioBucket} missing");
        }
        var (mok, mdetail) = await ClusterReadiness.ProbeAsync(Catalog.MinioSpec().Readiness[0], ct).ConfigureAwait(false);
        Add("MinioHealth", pi1.Name, mok, mdetail);

        if (system == StreamSystem.Arroyo) await TestArroyoAsync(Add, ct).ConfigureAwait(false);
        else if (system == StreamSystem.Flink) await TestFlinkAsync(Add, ct).ConfigureAwait(false);
        else Add("EngineInstalled", pi1.Name, false, "neither Arroyo nor Flink containers were found on the controller");
        if (system is { } sys) checks.AddRange(await TestPlacementAsync(sys, job, parallelism, ct).ConfigureAwait(false));
        return checks;
    }

    private async Task<List<StreamClusterCheck>> TestPlacementAsync(StreamSystem system, StreamJobHandle? job, int parallelism, CancellationToken ct)
    {
        var pi1 = cluster.Controller;
        if (job is null || job.JobId.Length == 0)
            return [SubtaskPlacementCheck.Skip(pi1.Name, "no job given (pass -JobId, or pipe a NexmarkQueryRun from Invoke-NexmarkQuery)")];
        var engineSystem = system == StreamSystem.Arroyo ? EngineSystem.Arroyo : EngineSystem.Flink;
        if (job.System != engineSystem)
            return [SubtaskPlacementCheck.Skip(pi1.Name, $"job {job.JobId} is a {job.System} job but {system} is installed")];
        try
        {
            using var engine = cluster.CreateEngine(system);
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
        var pi1 = cluster.Controller;
        foreach (var probe in Catalog.ArroyoControllerSpec().Readiness)
        {
            var (ok, detail) = await ClusterReadiness.ProbeAsync(probe, ct).ConfigureAwait(false);
            add(probe.Name, pi1.Name, ok, detail);
        }
        foreach (var w in Catalog.Workers)
        {
            var (ok, detail) = await ClusterReadiness.ProbeAsync(Catalog.ArroyoNodeSpec(w).Readiness[0], ct).ConfigureAwait(false);
            add("ArroyoNodeAdmin", w.Name, ok, detail);
        }
        var r = await _readiness.WaitFormedAsync(StreamSystem.Arroyo, TimeSpan.FromSeconds(Math.Min(30, Settings.ReadyTimeoutSeconds)), ct).ConfigureAwait(false);
        add(r.Check, r.Node, r.Passed, r.Detail);
    }

    private async Task TestFlinkAsync(Action<string, string, bool, string> add, CancellationToken ct)
    {
        var pi1 = cluster.Controller;
        var (rok, rdetail) = await ClusterReadiness.ProbeAsync(Catalog.FlinkJobManagerSpec().Readiness[0], ct).ConfigureAwait(false);
        add("FlinkRest", pi1.Name, rok, rdetail);
        var r = await _readiness.WaitFormedAsync(StreamSystem.Flink, TimeSpan.FromSeconds(Math.Min(30, Settings.ReadyTimeoutSeconds)), ct).ConfigureAwait(false);
        add(r.Check, r.Node, r.Passed, r.Detail);
        var (ok, detail) = await ClusterReadiness.ProbeAsync(Catalog.FlinkSqlGatewaySpec().Readiness[0], ct).ConfigureAwait(false);
        add("FlinkSqlGateway", pi1.Name, ok, detail);
    }
}
