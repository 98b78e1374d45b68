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
            Image = Settings.Images.Kafka, Environment = env, MemoryBytes = Settings.KafkaMemoryMb * MiB,
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
            Image = Settings.Images.Minio,
            Command = new[] { "server", "/data", "--address", $":{Settings.MinioApiPort}", "--console-address", $":{Settings.MinioConsolePort}" },
            Environment = env, MemoryBytes = Settings.MinioMemoryMb * MiB,
            Volumes = new[] { new VolumeMount(MinioDataVolume, "/data") },
            Readiness = new[] { ReadinessProbe.Http("MinioHealth", $"http://{pi1.Address}:{Settings.MinioApiPort}/minio/health/live") },
            Phase = 0, Ports = $"{Settings.MinioApiPort},{Settings.MinioConsolePort}",
        };
    }

    /// <summary>S3/MinIO settings every Arroyo process needs (workers inherit the controller's checkpoint URL).</summary>
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
            Image = Settings.Images.Arroyo, Command = new[] { "cluster" }, Environment = env,
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
        env["ARROYO__MEMORY_PER_SLOT_MB"] = Settings.ArroyoMemoryPerSlotMb.ToString();
        return new ServiceSpec
        {
            Service = ArroyoNode, System = "arroyo", Node = worker, ContainerName = ContainerNameOf(ArroyoNode),
            Image = Settings.Images.Arroyo, Command = new[] { "node" }, Environment = env,
            // Slots × memory per slot for the spawned workers, plus the node daemon itself.
            MemoryBytes = (Settings.ArroyoTaskSlots * (long)Settings.ArroyoMemoryPerSlotMb + 256) * MiB,
            RestartPolicy = "always", // a node exits when it loses the controller (arroyo.md §5.2)
            Readiness = new[] { ReadinessProbe.Http("ArroyoNodeAdmin", $"http://{worker.Address}:{Settings.ArroyoAdminPort}/status", "ok") },
            Phase = 2, Ports = $"{Settings.ArroyoAdminPort},{Settings.ArroyoNodePort}",
        };
    }

    private int FlinkParallelism => Settings.FlinkParallelism > 0 ? Settings.FlinkParallelism : Math.Max(1, Workers.Count * Settings.FlinkTaskSlots);

    private static string Properties(params (string Key, object Value)[] pairs) =>
        string.Join("\n", pairs.Select(p => $"{p.Key}: {p.Value}"));

    public ServiceSpec FlinkJobManagerSpec()
    {
        var pi1 = Controller;
        var env = Env(pi1, FlinkJobManager);
        env["JOB_MANAGER_RPC_ADDRESS"] = pi1.Address;
        env["FLINK_PROPERTIES"] = Properties(
            ("jobmanager.rpc.address", pi1.Address), ("jobmanager.rpc.port", Settings.FlinkRpcPort),
            ("rest.address", pi1.Address), ("rest.port", Settings.FlinkRestPort),
            ("jobmanager.memory.process.size", $"{Settings.FlinkJobManagerMemoryMb}m"),
            ("taskmanager.numberOfTaskSlots", Settings.FlinkTaskSlots), ("parallelism.default", FlinkParallelism));
        return new ServiceSpec
        {
            Service = FlinkJobManager, System = "flink", Node = pi1, ContainerName = ContainerNameOf(FlinkJobManager),
            Image = Settings.Images.Flink, Command = new[] { "jobmanager" }, Environment = env,
            MemoryBytes = (Settings.FlinkJobManagerMemoryMb + 128) * MiB,
            Readiness = new[] { ReadinessProbe.Http("FlinkRest", $"http://{pi1.Address}:{Settings.FlinkRestPort}/overview", "taskmanagers") },
            Phase = 1, Ports = $"{Settings.FlinkRpcPort},{Settings.FlinkRestPort}",
        };
    }

    public ServiceSpec FlinkSqlGatewaySpec()
    {
        var pi1 = Controller;
        var env = Env(pi1, FlinkSqlGateway);
        env["FLINK_PROPERTIES"] = Properties(
            ("jobmanager.rpc.address", pi1.Address), ("rest.address", pi1.Address), ("rest.port", Settings.FlinkRestPort),
            ("sql-gateway.endpoint.rest.address", pi1.Address), ("sql-gateway.endpoint.rest.bind-address", "0.0.0.0"),
            ("sql-gateway.endpoint.rest.port", Settings.FlinkSqlGatewayPort), ("parallelism.default", FlinkParallelism));
        return new ServiceSpec
        {
            Service = FlinkSqlGateway, System = "flink", Node = pi1, ContainerName = ContainerNameOf(FlinkSqlGateway),
            Image = Settings.Images.Flink, Command = new[] { "bin/sql-gateway.sh", "start-foreground" }, Environment = env,
            MemoryBytes = Settings.FlinkSqlGatewayMemoryMb * MiB,
            Readiness = new[] { ReadinessProbe.Http("FlinkSqlGateway", $"http://{pi1.Address}:{Settings.FlinkSqlGatewayPort}/v1/info", "Flink") },
            Phase = 1, Ports = $"{Settings.FlinkSqlGatewayPort}",
        };
    }

    public ServiceSpec FlinkTaskManagerSpec(DeploymentNode worker)
    {
        var env = Env(worker, FlinkTaskManager);
        env["FLINK_PROPERTIES"] = Properties(
            ("jobmanager.rpc.address", Controller.Address), ("jobmanager.rpc.port", Settings.FlinkRpcPort),
            ("taskmanager.host", worker.Address), ("taskmanager.numberOfTaskSlots", Settings.FlinkTaskSlots),
            ("taskmanager.memory.process.size", $"{Settings.FlinkTaskManagerMemoryMb}m"), ("parallelism.default", FlinkParallelism));
        return new ServiceSpec
        {
            Service = FlinkTaskManager, System = "flink", Node = worker, ContainerName = ContainerNameOf(FlinkTaskManager),
            Image = Settings.Images.Flink, Command = new[] { "taskmanager" }, Environment = env,
            MemoryBytes = (Settings.FlinkTaskManagerMemoryMb + 128) * MiB,
            Phase = 2, Ports = "",
        };
    }
}
