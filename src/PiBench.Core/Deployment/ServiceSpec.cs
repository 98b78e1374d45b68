using System.Security.Cryptography;
using System.Text;

namespace PiBench.Core.Deployment;

/// <summary>How a service is checked for readiness: an HTTP GET (optionally expecting text) or a TCP connect.</summary>
public sealed record ReadinessProbe(string Name, string Kind, string Target, string? Expect = null)
{
    public static ReadinessProbe Http(string name, string url, string? expect = null) => new(name, "http", url, expect);
    public static ReadinessProbe Tcp(string name, string host, int port) => new(name, "tcp", $"{host}:{port}");
}

/// <summary>A named volume mounted into a service's container.</summary>
public sealed record VolumeMount(string Name, string Path);

/// <summary>
/// The wanted state of one service on one node: image, command, environment, memory limit, volumes, restart policy,
/// labels and readiness. Built only by <see cref="ServiceCatalog"/> (one method per service, one place each).
/// Host networking everywhere: the engines advertise the node's own address.
/// </summary>
public sealed record ServiceSpec
{
    public required string Service { get; init; }
    /// <summary><c>shared</c> (Kafka, MinIO), <c>arroyo</c> or <c>flink</c>.</summary>
    public required string System { get; init; }
    public required DeploymentNode Node { get; init; }
    public required string ContainerName { get; init; }
    public required string Image { get; init; }
    public IReadOnlyList<string> Command { get; init; } = Array.Empty<string>();
    public IReadOnlyDictionary<string, string> Environment { get; init; } = new SortedDictionary<string, string>(StringComparer.Ordinal);
    public long MemoryBytes { get; init; }
    public IReadOnlyList<VolumeMount> Volumes { get; init; } = Array.Empty<VolumeMount>();
    /// <summary><c>always</c> or <c>unless-stopped</c>.</summary>
    public string RestartPolicy { get; init; } = "unless-stopped";
    public const string NetworkMode = "host";
    public IReadOnlyList<ReadinessProbe> Readiness { get; init; } = Array.Empty<ReadinessProbe>();
    /// <summary>Start order: 0 shared services, 1 engine head, 2 engine workers.</summary>
    public int Phase { get; init; }
    /// <summary>Ports the service listens on, for display (host network).</summary>
    public string Ports { get; init; } = "";

    /// <summary>
    /// Digest of everything that defines the container; stored in the pibench.config label, which anyone who can list
    /// the node's containers reads. Secret environment values (passwords, secret keys) enter it only through a slow,
    /// salted derivation (<see cref="SecretDigest"/>), so the label cannot be used to test password guesses cheaply.
    /// </summary>
    public string ConfigHash
    {
        get
        {
            var sb = new StringBuilder();
            sb.Append(Image).Append('\n').Append(string.Join('\u0001', Command)).Append('\n');
            foreach (var (k, v) in Environment.OrderBy(e => e.Key, StringComparer.Ordinal))
                sb.Append(k).Append('=').Append(IsSecretKey(k) ? SecretDigest(ContainerName + "/" + k, v) : v).Append('\n');
            sb.Append(MemoryBytes).Append('\n').Append(RestartPolicy).Append('\n').Append(NetworkMode).Append('\n');
            foreach (var v in Volumes) sb.Append(v.Name).Append(':').Append(v.Path).Append('\n');
            return Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(sb.ToString())))[..16].ToLowerInvariant();
        }
    }

    /// <summary>Environment variables whose values are secrets (never hashed plainly into a label).</summary>
    public static bool IsSecretKey(string name) =>
        name.Contains("PASSWORD", StringComparison.OrdinalIgnoreCase) || name.Contains("SECRET", StringComparison.OrdinalIgnoreCase)
        || name.Contains("TOKEN", StringComparison.OrdinalIgnoreCase);

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<(string, string), string> SecretDigests = new();

    /// <summary>
    /// PBKDF2-HMAC-SHA256 of a secret, 200,000 iterations, salted with the container and variable name (the same on
    /// every machine, so the label stays comparable across deployers); computed once per value and process.
    /// </summary>
    internal static string SecretDigest(string salt, string secret) => SecretDigests.GetOrAdd((salt, secret), k =>
        Convert.ToHexString(Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(k.Item2), Encoding.UTF8.GetBytes("pibench.config/" + k.Item1), 200_000, HashAlgorithmName.SHA256, 32)));

    /// <summary>The labels put on the container.</summary>
    public IReadOnlyDictionary<string, string> Labels => new Dictionary<string, string>
    {
        [PiBenchLabels.Managed] = "true",
        [PiBenchLabels.Service] = Service,
        [PiBenchLabels.System] = System,
        [PiBenchLabels.Node] = Node.Name,
        [PiBenchLabels.Config] = ConfigHash,
        [PiBenchLabels.Version] = ModuleInfo.Version,
    };

    public IEnumerable<string> EnvironmentList => Environment.Select(e => $"{e.Key}={e.Value}");
}

/// <summary>
/// Every service PiBench deploys, one method each (issue 7 §2): Kafka (KRaft, single broker on Pi1, listener on the
/// controller address), MinIO (S3 API + console, bucket for Arroyo checkpoints), Arroyo 0.11 <c>cluster</c> with the
/// <b>node</b> scheduler plus one <c>node</c> per worker (arroyo.md §5), Flink 1.18.1 JobManager + SQL Gateway on Pi1
/// and one TaskManager per worker configured through FLINK_PROPERTIES (flink.md §3–4).
/// </summary>
public sealed class ServiceCatalog(IReadOnlyList<DeploymentNode> nodes, DeploymentSettings settings)
{
    public const string Kafka = "kafka";
    public const string Minio = "minio";
    public const string ArroyoController = "arroyo-controller";
    public const string ArroyoNode = "arroyo-node";
    public const string FlinkJobManager = "flink-jobmanager";
    public const string FlinkSqlGateway = "flink-sql-gateway";
    public const string FlinkTaskManager = "flink-taskmanager";

    public static IReadOnlyList<string> AllServices { get; } =
        new[] { Kafka, Minio, ArroyoController, ArroyoNode, FlinkJobManager, FlinkSqlGateway, FlinkTaskManager };

    public const string KafkaDataVolume = "pibench-kafka-data";
    public const string MinioDataVolume = "pibench-minio-data";
    public const string ArroyoDataVolume = "pibench-arroyo-data";

    private const long MiB = 1024L * 1024L;

    public IReadOnlyList<DeploymentNode> Nodes { get; } = nodes;
    public DeploymentSettings Settings { get; } = settings;

    public DeploymentNode Controller =>
        Nodes.FirstOrDefault(n => n.IsController) ?? throw new PiBenchException("TopologyHasNoController",
            PiBenchErrorCategory.InvalidData, "The topology has no controller node (Pi1).", null,
            "Mark one node with role Controller in the topology file.");

    public IReadOnlyList<DeploymentNode> Workers => Nodes.Where(n => !n.IsController).ToList();

    public int Partitions => Settings.KafkaPartitions > 0 ? Settings.KafkaPartitions : Math.Max(1, Workers.Count);

    public static string ContainerNameOf(string service) => "pibench-" + service;

    public static string SystemOf(string service) => service switch
    {
        Kafka or Minio => PiBenchLabels.SharedSystem,
        ArroyoController or ArroyoNode => "arroyo",
        _ => "flink",
    };

    /// <summary>The wanted services for a system, in start order (shared, head, workers).</summary>
    public IReadOnlyList<ServiceSpec> For(StreamSystem system)
    {
        var list = new List<ServiceSpec> { KafkaSpec(), MinioSpec() };
        if (system == StreamSystem.Arroyo)
        {
            list.Add(ArroyoControllerSpec());
            list.AddRange(Workers.Select(ArroyoNodeSpec));
        }
        else
        {
            list.Add(FlinkJobManagerSpec());
            list.Add(FlinkSqlGatewaySpec());
            list.AddRange(Workers.Select(FlinkTaskManagerSpec));
        }
        return list;
    }

    /// <summary>Images the system needs, deduplicated (what gets pulled/built on Pi1 and distributed).</summary>
    public IReadOnlyList<string> ImagesFor(StreamSystem system) => For(system).Select(s => s.Image).Distinct().ToList();

    private static SortedDictionary<string, string> Env(DeploymentNode node, string service) => new(StringComparer.Ordinal)
    {
        // Informational: which node and service a container is (also lets loopback stand-ins bind their node's address).
        ["PIBENCH_NODE_ADDRESS"] = node.Address,
        ["PIBENCH_SERVICE"] = service,
    };

    public ServiceSpec KafkaSpec()
    {
        var pi1 = Controller;
        var env = Env(pi1, Kafka);
        env["KAFKA_NODE_ID"] = "1";
        env["KAFKA_PROCESS_ROLES"] = "broker,controller";
        env["KAFKA_LISTENERS"] = $"PLAINTEXT://0.0.0.0:{Settings.KafkaPort},CONTROLLER://127.0.0.1:{Settings.KafkaPort + 1}";
        env["KAFKA_ADVERTISED_LISTENERS"] = $"PLAINTEXT://{pi1.Address}:{Settings.KafkaPort}";
        env["KAFKA_CONTROLLER_LISTENER_NAMES"] = "CONTROLLER";
        env["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"] = "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT";
        env["KAFKA_CONTROLLER_QUORUM_VOTERS"] = $"1@127.0.0.1:{Settings.KafkaPort + 1}";
        env["KAFKA_INTER_BROKER_LISTENER_NAME"] = "PLAINTEXT";
        env["KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR"] = "1";
        env["KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR"] = "1";
        env["KAFKA_TRANSACTION_STATE_LOG_MIN_ISR"] = "1";
        env["KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS"] = "0";
        env["KAFKA_NUM_PARTITIONS"] = Partitions.ToString();
        env["KAFKA_LOG_DIRS"] = "/var/lib/kafka/data";
        env["KAFKA_HEAP_OPTS"] = $"-Xms{Settings.KafkaMemoryMb / 2}m -Xmx{Settings.KafkaMemoryMb / 2}m";
        env["CLUSTER_ID"] = "MkU3OEVBNTcwNTJENDM2Qk"; // fixed KRaft cluster id (22-char base64 UUID)
        return new ServiceSpec
        {
            Service = Kafka, System = PiBenchLabels.SharedSystem, Node = pi1, ContainerName = ContainerNameOf(Kafka),
            Image = DockerOps.LocalReference(Settings.Images.Kafka), Environment = env, MemoryBytes = Settings.KafkaMemoryMb * MiB,
            Volumes = new[] { new VolumeMount(KafkaDataVolume, "/var/lib/kafka/data") },
            Readiness = new[] { ReadinessProbe.Tcp("KafkaListener", pi1.Address, Settings.KafkaPort) },
            Phase = 0, Ports = $"{Settings.KafkaPort}",
        };
    }

    public ServiceSpec MinioSpec()
    {
        var pi1 = Controller;
        var env = Env(pi1, Minio);
        env["MINIO_ROOT_USER"] = Settings.MinioUser;
        env["MINIO_ROOT_PASSWORD"] = Settings.MinioPassword;
        env["MINIO_BROWSER_REDIRECT_URL"] = $"http://{pi1.Address}:{Settings.MinioConsolePort}";
        return new ServiceSpec
        {
            Service = Minio, System = PiBenchLabels.SharedSystem, Node = pi1, ContainerName = ContainerNameOf(Minio),
            Image = DockerOps.LocalReference(Settings.Images.Minio),
            Command = new[] { "server", "/data", "--address", $":{Settings.MinioApiPort}", "--console-address", $":{Settings.MinioConsolePort}" },
            Environment = env, MemoryBytes = Settings.MinioMemoryMb * MiB,
            Volumes = new[] { new VolumeMount(MinioDataVolume, "/data") },
            Readiness = new[] { ReadinessProbe.Http("MinioHealth", $"http://{pi1.Address}:{Settings.MinioApiPort}/minio/health/live") },
            Phase = 0, Ports = $"{Settings.MinioApiPort},{Settings.MinioConsolePort}",
        };
    }

    /// <summary>S3/MinIO settings every Arroyo process needs (workers inherit the controller's checkpoint URL).</summary>
    /// <remarks>Every ARROYO__* name below is a field of 0.11's Config (crates/arroyo-rpc/src/config.rs @v0.11.0: env
    /// prefix ARROYO__, "__" = nesting, "_" = "-"; defaults in crates/arroyo-rpc/default.toml): checkpoint-url,
    /// default-checkpoint-interval, disable-telemetry, admin.http-port, controller.rpc-port, controller-endpoint,
    /// controller.scheduler, api.http-port, database.type, database.sqlite.path, node.task-slots, node.rpc-port.
    /// AWS_* are read by object_store's AmazonS3Builder::from_env (crates/arroyo-storage/src/lib.rs); RUST_LOG by the
    /// tracing subscriber. The image's entrypoint is /app/arroyo with subcommands cluster/node (docker/Dockerfile,
    /// crates/arroyo/src/main.rs @v0.11.0).</remarks>
    private void AddArroyoCommon(SortedDictionary<string, string> env)
    {
        var pi1 = Controller;
        env["ARROYO__CHECKPOINT_URL"] = $"s3::http://{pi1.Address}:{Settings.MinioApiPort}/{Settings.MinioBucket}/checkpoints";
        env["ARROYO__DEFAULT_CHECKPOINT_INTERVAL"] = Settings.ArroyoCheckpointInterval;
        env["AWS_ENDPOINT"] = $"http://{pi1.Address}:{Settings.MinioApiPort}";
        env["AWS_ACCESS_KEY_ID"] = Settings.MinioUser;
        env["AWS_SECRET_ACCESS_KEY"] = Settings.MinioPassword;
        env["AWS_DEFAULT_REGION"] = "us-east-1";
        env["AWS_REGION"] = "us-east-1";
        env["ARROYO__DISABLE_TELEMETRY"] = "true";
        env["ARROYO__ADMIN__HTTP_PORT"] = Settings.ArroyoAdminPort.ToString();
        env["ARROYO__CONTROLLER__RPC_PORT"] = Settings.ArroyoControllerPort.ToString();
        env["RUST_LOG"] = "info";
    }

    public ServiceSpec ArroyoControllerSpec()
    {
        var pi1 = Controller;
        var env = Env(pi1, ArroyoController);
        AddArroyoCommon(env);
        env["ARROYO__CONTROLLER__SCHEDULER"] = "node"; // the original never set it: every subtask ran on Pi1
        env["ARROYO__API__HTTP_PORT"] = Settings.ArroyoApiPort.ToString();
        env["ARROYO__DATABASE__TYPE"] = "sqlite";
        env["ARROYO__DATABASE__SQLITE__PATH"] = "/var/lib/arroyo/config.sqlite";
        return new ServiceSpec
        {
            Service = ArroyoController, System = "arroyo", Node = pi1, ContainerName = ContainerNameOf(ArroyoController),
            Image = DockerOps.LocalReference(Settings.Images.Arroyo), Command = new[] { "cluster" }, Environment = env,
            MemoryBytes = Settings.ArroyoControllerMemoryMb * MiB,
            Volumes = new[] { new VolumeMount(ArroyoDataVolume, "/var/lib/arroyo") },
            RestartPolicy = "always",
            Readiness = new[]
            {
                ReadinessProbe.Http("ArroyoAdmin", $"http://{pi1.Address}:{Settings.ArroyoAdminPort}/status", "ok"),
                ReadinessProbe.Http("ArroyoApi", $"http://{pi1.Address}:{Settings.ArroyoApiPort}/api/v1/ping"),
            },
            Phase = 1, Ports = $"{Settings.ArroyoAdminPort},{Settings.ArroyoApiPort},{Settings.ArroyoControllerPort}",
        };
    }

    public ServiceSpec ArroyoNodeSpec(DeploymentNode worker)
    {
        var env = Env(worker, ArroyoNode);
        AddArroyoCommon(env);
        env["ARROYO__CONTROLLER_ENDPOINT"] = $"http://{Controller.Address}:{Settings.ArroyoControllerPort}";
        env["ARROYO__NODE__TASK_SLOTS"] = Settings.ArroyoTaskSlots.ToString();
        env["ARROYO__NODE__RPC_PORT"] = Settings.ArroyoNodePort.ToString();
        // No per-slot memory variable: 0.11's Config is deny_unknown_fields (crates/arroyo-rpc/src/config.rs @v0.11.0),
        // so an unknown ARROYO__* key makes `arroyo node` print "Configuration is invalid!" and exit. The node and the
        // workers it spawns share the container's memory limit.
        return new ServiceSpec
        {
            Service = ArroyoNode, System = "arroyo", Node = worker, ContainerName = ContainerNameOf(ArroyoNode),
            Image = DockerOps.LocalReference(Settings.Images.Arroyo), Command = new[] { "node" }, Environment = env,
            MemoryBytes = Settings.ArroyoNodeMemoryMb * MiB,
            RestartPolicy = "always", // a node exits when it loses the controller (arroyo.md §5.2)
            Readiness = new[] { ReadinessProbe.Http("ArroyoNodeAdmin", $"http://{worker.Address}:{Settings.ArroyoAdminPort}/status", "ok") },
            Phase = 2, Ports = $"{Settings.ArroyoAdminPort},{Settings.ArroyoNodePort}",
        };
    }

    private int FlinkParallelism => Settings.FlinkParallelism > 0 ? Settings.FlinkParallelism : Math.Max(1, Workers.Count * Settings.FlinkTaskSlots);

    private static string Properties((string Key, object Value)[] pairs) =>
        string.Join("\n", pairs.Select(p => $"{p.Key}: {p.Value}"));

    /// <summary>The environment variable holding the MinIO secret inside Flink containers. FLINK_PROPERTIES names it as
    /// <c>${PIBENCH_S3_SECRET_KEY}</c>: flink-docker's entrypoint appends FLINK_PROPERTIES to flink-conf.yaml and then
    /// runs <c>envsubst</c> over the file (docker-entrypoint.sh prepare_configuration, flink-docker dev-1.18), so the
    /// secret never appears in FLINK_PROPERTIES (shown by -WhatIf, logs and the config hash input) and a '$' in it is
    /// not expanded. Flink masks s3.secret-key when it logs its configuration (GlobalConfiguration sensitive keys).</summary>
    public const string FlinkS3SecretVariable = "PIBENCH_S3_SECRET_KEY";

    /// <summary>The built-in S3 plugin of the 1.18 image, enabled by ENABLE_BUILT_IN_PLUGINS (flink-docker dev-1.18
    /// docker-entrypoint.sh copy_plugins_if_required links $FLINK_HOME/opt/&lt;jar&gt; into plugins/ and exits if the jar
    /// is missing). Presto's S3 file system is the one Flink recommends for checkpoints.</summary>
    public string FlinkS3Plugin => $"flink-s3-fs-presto-{FlinkVersion}.jar";

    private string FlinkVersion
    {
        get
        {
            var image = Settings.Images.FlinkBase;
            var tag = image.Contains('@') ? "" : image[(image.LastIndexOf('/') + 1)..];
            var v = tag.Contains(':') ? tag[(tag.IndexOf(':') + 1)..].Split('-')[0] : "";
            return System.Text.RegularExpressions.Regex.IsMatch(v, @"^\d+\.\d+\.\d+$") ? v : Settings.FlinkVersion;
        }
    }

    /// <summary>
    /// Checkpoint storage and state backend, the same on every Flink process: hashmap state (heap), snapshots to
    /// s3://&lt;bucket&gt;/flink/ on MinIO through the built-in Presto S3 plugin (without it Flink 1.18 keeps snapshots in
    /// JobManager memory, 5 MiB per state, and q4/q9's unbounded state fails its checkpoints within minutes). Keys:
    /// state.backend.type, state.checkpoints.dir, state.savepoints.dir (StateBackendOptions/CheckpointingOptions, 1.18);
    /// s3.endpoint, s3.path.style.access, s3.access-key, s3.secret-key (flink-s3-fs-presto S3FileSystemFactory, mirrored
    /// to presto.s3.*).
    /// </summary>
    private (string, object)[] FlinkCheckpointProperties() =>
    [
        ("state.backend.type", "hashmap"),
        ("state.checkpoints.dir", $"s3://{Settings.MinioBucket}/flink/checkpoints"),
        ("state.savepoints.dir", $"s3://{Settings.MinioBucket}/flink/savepoints"),
        ("s3.endpoint", $"http://{Controller.Address}:{Settings.MinioApiPort}"),
        ("s3.path.style.access", "true"),
        ("s3.access-key", Settings.MinioUser),
        ("s3.secret-key", "${" + FlinkS3SecretVariable + "}"),
    ];

    /// <summary>Environment every Flink container gets beside FLINK_PROPERTIES: the S3 plugin and the secret.</summary>
    private void AddFlinkCommon(SortedDictionary<string, string> env)
    {
        env["ENABLE_BUILT_IN_PLUGINS"] = FlinkS3Plugin;
        env[FlinkS3SecretVariable] = Settings.MinioPassword;
    }

    public ServiceSpec FlinkJobManagerSpec()
    {
        var pi1 = Controller;
        var env = Env(pi1, FlinkJobManager);
        AddFlinkCommon(env);
        env["JOB_MANAGER_RPC_ADDRESS"] = pi1.Address;
        env["FLINK_PROPERTIES"] = Properties(
            [
                ("jobmanager.rpc.address", pi1.Address), ("jobmanager.rpc.port", Settings.FlinkRpcPort),
                ("rest.address", pi1.Address), ("rest.port", Settings.FlinkRestPort),
                ("jobmanager.memory.process.size", $"{Settings.FlinkJobManagerMemoryMb}m"),
                ("taskmanager.numberOfTaskSlots", Settings.FlinkTaskSlots), ("parallelism.default", FlinkParallelism),
                // The REST handlers serve metrics from a cache refreshed every 10 s by default (MetricOptions
                // METRIC_FETCHER_UPDATE_INTERVAL, milliseconds, 1.18): 1 s so per-second samples are not repeats.
                ("metrics.fetcher.update-interval", 1000),
                .. FlinkCheckpointProperties(),
            ]);
        return new ServiceSpec
        {
            Service = FlinkJobManager, System = "flink", Node = pi1, ContainerName = ContainerNameOf(FlinkJobManager),
            Image = DockerOps.LocalReference(Settings.Images.Flink), Command = new[] { "jobmanager" }, Environment = env,
            MemoryBytes = (Settings.FlinkJobManagerMemoryMb + 128) * MiB,
            Readiness = new[] { ReadinessProbe.Http("FlinkRest", $"http://{pi1.Address}:{Settings.FlinkRestPort}/overview", "taskmanagers") },
            Phase = 1, Ports = $"{Settings.FlinkRpcPort},{Settings.FlinkRestPort}",
        };
    }

    public ServiceSpec FlinkSqlGatewaySpec()
    {
        var pi1 = Controller;
        var env = Env(pi1, FlinkSqlGateway);
        AddFlinkCommon(env); // jobs compiled here carry the checkpoint storage of this configuration
        env["FLINK_PROPERTIES"] = Properties(
            [
                ("jobmanager.rpc.address", pi1.Address), ("rest.address", pi1.Address), ("rest.port", Settings.FlinkRestPort),
                ("sql-gateway.endpoint.rest.address", pi1.Address), ("sql-gateway.endpoint.rest.bind-address", "0.0.0.0"),
                ("sql-gateway.endpoint.rest.port", Settings.FlinkSqlGatewayPort), ("parallelism.default", FlinkParallelism),
                .. FlinkCheckpointProperties(),
            ]);
        return new ServiceSpec
        {
            Service = FlinkSqlGateway, System = "flink", Node = pi1, ContainerName = ContainerNameOf(FlinkSqlGateway),
            Image = DockerOps.LocalReference(Settings.Images.Flink), Command = new[] { "bin/sql-gateway.sh", "start-foreground" }, Environment = env,
            MemoryBytes = Settings.FlinkSqlGatewayMemoryMb * MiB,
            Readiness = new[] { ReadinessProbe.Http("FlinkSqlGateway", $"http://{pi1.Address}:{Settings.FlinkSqlGatewayPort}/v1/info", "Flink") },
            Phase = 1, Ports = $"{Settings.FlinkSqlGatewayPort}",
        };
    }

    public ServiceSpec FlinkTaskManagerSpec(DeploymentNode worker)
    {
        var env = Env(worker, FlinkTaskManager);
        AddFlinkCommon(env);
        env["FLINK_PROPERTIES"] = Properties(
            [
                ("jobmanager.rpc.address", Controller.Address), ("jobmanager.rpc.port", Settings.FlinkRpcPort),
                ("taskmanager.host", worker.Address), ("taskmanager.numberOfTaskSlots", Settings.FlinkTaskSlots),
                ("taskmanager.memory.process.size", $"{Settings.FlinkTaskManagerMemoryMb}m"), ("parallelism.default", FlinkParallelism),
                // Managed memory (default 0.4 of Flink memory) serves RocksDB and batch operators; with the hashmap
                // backend a streaming job never uses it, so almost all of the Pi's memory goes to the task heap
                // (TaskExecutorResourceUtils / TaskManagerOptions.MANAGED_MEMORY_FRACTION, 1.18).
                ("taskmanager.memory.managed.fraction", "0.05"),
                .. FlinkCheckpointProperties(),
            ]);
        return new ServiceSpec
        {
            Service = FlinkTaskManager, System = "flink", Node = worker, ContainerName = ContainerNameOf(FlinkTaskManager),
            Image = DockerOps.LocalReference(Settings.Images.Flink), Command = new[] { "taskmanager" }, Environment = env,
            MemoryBytes = (Settings.FlinkTaskManagerMemoryMb + 128) * MiB,
            Phase = 2, Ports = "",
        };
    }
}
