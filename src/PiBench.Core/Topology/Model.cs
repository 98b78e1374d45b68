namespace PiBench.Core.Topology;

/// <summary>What a node does in the cluster.</summary>
public enum NodeRole
{
    /// <summary>Pi1: Kafka, MinIO and the engine's head (Arroyo controller or Flink JobManager).</summary>
    Controller,
    /// <summary>Runs an Arroyo node or a Flink TaskManager.</summary>
    Worker,
}

/// <summary>One node of the cluster, flat so it binds by property name into every node cmdlet and exports cleanly.</summary>
public sealed class PiNode
{
    public string Name { get; init; } = "";
    public string Address { get; init; } = "";
    public int Port { get; init; } = 22;
    public string User { get; init; } = "";
    public NodeRole Role { get; init; }
    /// <summary>0 for the controller, 1..N for workers in file order (worker i reads partition i-1).</summary>
    public int Index { get; init; }
    public string? Hostname { get; init; }
    public string KeyPath { get; init; } = "";
    public string KnownHostsPath { get; init; } = "";
    /// <summary>The topology file this node came from (empty when built in memory).</summary>
    public string TopologyPath { get; init; } = "";
    /// <summary>Seconds allowed for the TCP connect and each SSH handshake step (topology ssh.connect_timeout_seconds).</summary>
    public int ConnectTimeoutSeconds { get; init; } = 10;
    /// <summary>SSH channels opened at once on this node's command connection (topology ssh.max_sessions; keep below sshd's MaxSessions, 10 by default).</summary>
    public int MaxSessions { get; init; } = 8;

    public override string ToString() => $"{Name} ({User}@{Address}:{Port}, {Role})";
}

public sealed class SshSettings
{
    public string User { get; init; } = "picocluster";
    public int Port { get; init; } = 22;
    public string KeyPath { get; init; } = "~/.ssh/id_ed25519";
    public string KnownHosts { get; init; } = "~/.ssh/known_hosts";
    public int ConnectTimeoutSeconds { get; init; } = 10;
    public int MaxSessions { get; init; } = 8;
}

public sealed class BenchmarkSettings
{
    /// <summary>Explicit parallelism, or null for "number of workers".</summary>
    public int? Parallelism { get; init; }
    public int EventsPerSecond { get; init; } = 10_000;
    public long TotalEvents { get; init; } = 10_000_000;
    public IReadOnlyList<string> Queries { get; init; } = new[] { "q1", "q2", "q3", "q4", "q5", "q7", "q8" };
    public int Repetitions { get; init; } = 3;
    public int WarmupSeconds { get; init; } = 30;
    public int MeasureSeconds { get; init; } = 120;
}

public sealed class KafkaSettings
{
    public int Port { get; init; } = 9094;
    /// <summary>Explicit partition count, or null for "number of workers".</summary>
    public int? Partitions { get; init; }
    public int ReplicationFactor { get; init; } = 1;
    public string InputTopic { get; init; } = "nexmark-events";
    public string OutputTopic { get; init; } = "nexmark-results";
    /// <summary>Broker image (kafka.image); null = the pinned default (apache/kafka:3.7.1).</summary>
    public string? Image { get; init; }
}

public sealed class MinioSettings
{
    public int ApiPort { get; init; } = 9000;
    public int ConsolePort { get; init; } = 9001;
    public string Bucket { get; init; } = "arroyo";
    public string AccessKey { get; init; } = "minioadmin";
    /// <summary>The MinIO secret key (minio.secret_key): shown as ******** everywhere; <see cref="Secret.Reveal"/> gives it to the deployment.</summary>
    public Secret SecretKey { get; init; } = new("minioadmin");
    public bool UsesDefaultCredentials => AccessKey == "minioadmin" && SecretKey.Is("minioadmin");
    /// <summary>MinIO image (minio.image); null = the pinned default release.</summary>
    public string? Image { get; init; }
}

public sealed class ArroyoSettings
{
    public string Version { get; init; } = "0.11.0";
    public int ApiPort { get; init; } = 5115;
    public int ControllerPort { get; init; } = 5116;
    public int AdminPort { get; init; } = 5114;
    public int TaskSlots { get; init; } = 1;
    /// <summary>Memory limit of each worker's Arroyo node container (arroyo.node_memory_mb), shared by the workers the node
    /// spawns: Arroyo 0.11 has no per-slot memory setting, so the container limit is the memory per worker node.</summary>
    public int NodeMemoryMb { get; init; } = 2048;
    public int CheckpointIntervalSeconds { get; init; } = 30;
    /// <summary>Arroyo image (arroyo.image); null = ghcr.io/arroyosystems/arroyo:&lt;version&gt;.</summary>
    public string? Image { get; init; }
}

public sealed class FlinkSettings
{
    public string Version { get; init; } = "1.18.1";
    public int RestPort { get; init; } = 8081;
    public int SqlGatewayPort { get; init; } = 8083;
    public int TaskSlots { get; init; } = 1;
    public int TaskManagerMemoryMb { get; init; } = 2048;
    public int JobManagerMemoryMb { get; init; } = 1024;
    public int CheckpointIntervalSeconds { get; init; } = 30;
    /// <summary>The derived image (base + Kafka SQL connector) built on the controller (flink.image); null = pibench/flink-kafka:&lt;version&gt;-3.1.0.</summary>
    public string? Image { get; init; }
    /// <summary>The Flink base image (flink.base_image); null = flink:&lt;version&gt;.</summary>
    public string? BaseImage { get; init; }
}

/// <summary>A validated cluster topology (see config/cluster-topology.yaml for every key).</summary>
public sealed class ClusterTopology
{
    public string Path { get; init; } = "";
    public string Name { get; init; } = "picocluster";
    public SshSettings Ssh { get; init; } = new();
    public IReadOnlyList<PiNode> Nodes { get; init; } = Array.Empty<PiNode>();
    public BenchmarkSettings Benchmark { get; init; } = new();
    public KafkaSettings Kafka { get; init; } = new();
    public MinioSettings Minio { get; init; } = new();
    public ArroyoSettings Arroyo { get; init; } = new();
    public FlinkSettings Flink { get; init; } = new();

    public PiNode Controller => Nodes.First(n => n.Role == NodeRole.Controller);
    public string ControllerAddress => Controller.Address;
    public IReadOnlyList<PiNode> Workers => Nodes.Where(n => n.Role == NodeRole.Worker).ToList();
    public int WorkerCount => Nodes.Count(n => n.Role == NodeRole.Worker);
    /// <summary>Query parallelism: the explicit value, else one per worker.</summary>
    public int Parallelism => Benchmark.Parallelism ?? WorkerCount;
    /// <summary>Input topic partitions: the explicit value, else one per worker.</summary>
    public int Partitions => Kafka.Partitions ?? WorkerCount;
    /// <summary>Kafka bootstrap address on the controller.</summary>
    public string KafkaBootstrap => $"{Controller.Address}:{Kafka.Port}";

    /// <summary>Loads and validates a topology file; errors name the file, line and key.</summary>
    public static ClusterTopology Load(string path) => TopologyLoader.Load(path);

    /// <summary>Parses topology YAML text; <paramref name="sourceName"/> is used in error messages.</summary>
    public static ClusterTopology Parse(string yaml, string sourceName) => TopologyLoader.Parse(yaml, sourceName);

    /// <summary>The default topology file: $PIBENCH_TOPOLOGY, ./config/cluster-topology.yaml, then the module's own copy.</summary>
    public static string DefaultPath
    {
        get
        {
            if (Environment.GetEnvironmentVariable("PIBENCH_TOPOLOGY") is { Length: > 0 } env) return env;
            var local = System.IO.Path.Combine(Directory.GetCurrentDirectory(), "config", "cluster-topology.yaml");
            if (File.Exists(local)) return local;
            return System.IO.Path.Combine(ModuleInfo.ModuleRoot, "config", "cluster-topology.yaml");
        }
    }
}
