namespace PiBench.Core.Deployment;

/// <summary>The stream-processing engine a cluster runs.</summary>
public enum StreamSystem
{
    Arroyo,
    Flink,
}

/// <summary>One node as deployment sees it: a name, the address the other nodes use, and whether it is Pi1.</summary>
public sealed record DeploymentNode(string Name, string Address, bool IsController);

/// <summary>
/// Everything deployment needs from the topology, flattened (mapped from the topology file by
/// <see cref="DeploymentSettings"/> factories in the topology adapter). Defaults follow the original cluster.
/// </summary>
public sealed record DeploymentSettings
{
    public int KafkaPort { get; init; } = 9094;
    /// <summary>Partitions per input topic; 0 = one per worker.</summary>
    public int KafkaPartitions { get; init; }
    public IReadOnlyList<string> KafkaTopics { get; init; } = new[] { "nexmark-person", "nexmark-auction", "nexmark-bid" };
    public int KafkaMemoryMb { get; init; } = 1024;

    public int MinioApiPort { get; init; } = 9000;
    public int MinioConsolePort { get; init; } = 9001;
    public string MinioBucket { get; init; } = "arroyo";
    public string MinioUser { get; init; } = "minioadmin";
    public string MinioPassword { get; init; } = "minioadmin";
    public int MinioMemoryMb { get; init; } = 512;

    public int ArroyoTaskSlots { get; init; } = 1;
    /// <summary>Memory limit of each worker's Arroyo node container (the node and the workers it spawns).</summary>
    public int ArroyoNodeMemoryMb { get; init; } = 2048;
    public int ArroyoControllerMemoryMb { get; init; } = 1024;
    public int ArroyoAdminPort { get; init; } = 5114;
    public int ArroyoApiPort { get; init; } = 5115;
    public int ArroyoControllerPort { get; init; } = 5116;
    public int ArroyoNodePort { get; init; } = 5118;
    public string ArroyoCheckpointInterval { get; init; } = "10s";

    public int FlinkTaskSlots { get; init; } = 1;
    public int FlinkTaskManagerMemoryMb { get; init; } = 2048;
    public int FlinkJobManagerMemoryMb { get; init; } = 1024;
    public int FlinkSqlGatewayMemoryMb { get; init; } = 768;
    public int FlinkRestPort { get; init; } = 8081;
    public int FlinkRpcPort { get; init; } = 6123;
    public int FlinkSqlGatewayPort { get; init; } = 8083;
    public int FlinkParallelism { get; init; }
    /// <summary>Flink version (names the built-in S3 plugin jar when the base image's tag does not).</summary>
    public string FlinkVersion { get; init; } = "1.18.1";

    /// <summary>Pinned image references (never <c>latest</c>).</summary>
    public PinnedImages Images { get; init; } = PinnedImages.Default;

    /// <summary>Seconds to wait for each readiness probe.</summary>
    public int ReadyTimeoutSeconds { get; init; } = 180;

    /// <summary>True when credentials are the seed's minioadmin default (the cmdlet warns).</summary>
    public bool UsesDefaultMinioCredentials => MinioUser == "minioadmin" && MinioPassword == "minioadmin";
}

/// <summary>
/// The exact images PiBench deploys. Kafka and MinIO are multi-arch (arm64 + amd64) releases; Arroyo 0.11.0 and
/// Flink 1.18.1 as the issue pins them; the Flink image is derived once on Pi1 with the Kafka SQL connector jar.
/// </summary>
public sealed record PinnedImages
{
    public static PinnedImages Default { get; } = new();

    /// <summary>Apache Kafka 3.7.1 (KRaft, official multi-arch image).</summary>
    public string Kafka { get; init; } = "apache/kafka:3.7.1";
    /// <summary>MinIO server release (multi-arch), ships <c>mc</c> for bucket creation.</summary>
    public string Minio { get; init; } = "minio/minio:RELEASE.2024-10-13T13-34-11Z";
    /// <summary>Arroyo 0.11.0 (linux/amd64 + linux/arm64).</summary>
    public string Arroyo { get; init; } = "ghcr.io/arroyosystems/arroyo:0.11.0";
    /// <summary>Flink 1.18.1 base (java11, amd64 + arm64v8).</summary>
    public string FlinkBase { get; init; } = "flink:1.18.1";
    /// <summary>Derived Flink image built on Pi1: base + flink-sql-connector-kafka in /opt/flink/lib.</summary>
    public string Flink { get; init; } = "pibench/flink-kafka:1.18.1-3.1.0";
    /// <summary>The connector jar baked into <see cref="Flink"/>.</summary>
    public string FlinkKafkaConnectorUrl { get; init; } =
        "https://repo1.maven.org/maven2/org/apache/flink/flink-sql-connector-kafka/3.1.0-1.18/flink-sql-connector-kafka-3.1.0-1.18.jar";

    public IEnumerable<string> All => new[] { Kafka, Minio, Arroyo, FlinkBase, Flink };
}

/// <summary>Labels PiBench puts on every container, volume and image it creates; nothing else is ever touched.</summary>
public static class PiBenchLabels
{
    public const string Managed = "pibench.managed";
    public const string Service = "pibench.service";
    public const string System = "pibench.system";
    public const string Node = "pibench.node";
    public const string Config = "pibench.config";
    public const string Version = "pibench.version";
    public const string Role = "pibench.role";

    public const string SharedSystem = "shared";
}
