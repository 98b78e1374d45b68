using Docker.DotNet;
using PiBench.Core.Remote;
using PiBench.Core.Topology;

namespace PiBench.Core.Deployment;

/// <summary>
/// A topology plus the connections deployment needs: the shared SSH pool for commands, and one Docker client per node
/// on its own dedicated SSH connection (created on first use, reused, disposed with the session).
/// </summary>
public sealed class ClusterSession : INodeAccess, IAsyncDisposable, IDisposable
{
    private readonly SshConnectionPool _pool;
    private readonly SshOptions? _ssh;
    private readonly DockerSshClientFactory _docker;
    private readonly Dictionary<string, PiNode> _byName;

    public ClusterSession(ClusterTopology topology, DeploymentSettings settings, SshConnectionPool? pool = null, SshOptions? ssh = null)
    {
        Topology = topology;
        Settings = settings;
        _pool = pool ?? SshConnectionPool.Shared;
        _ssh = ssh;
        _byName = topology.Nodes.ToDictionary(n => n.Name, StringComparer.OrdinalIgnoreCase);
        Nodes = topology.Nodes.Select(n => new DeploymentNode(n.Name, n.Address, n.Role == NodeRole.Controller)).ToList();
        // Docker channels + log streams share the dedicated connection: stay below sshd MaxSessions (10 on a stock Pi).
        _docker = new DockerSshClientFactory((name, ct) => _pool.OpenDedicatedAsync(_byName[name], _ssh, ct),
            Math.Max(2, Math.Min(8, topology.Ssh.MaxSessions - 2)));
    }

    public ClusterTopology Topology { get; }
    public DeploymentSettings Settings { get; }
    public IReadOnlyList<DeploymentNode> Nodes { get; }

    /// <summary>Loads a topology file (or the default one) and maps it to deployment settings.</summary>
    public static ClusterSession Open(string? topologyPath, string? minioUser = null, string? minioPassword = null)
    {
        var topology = ClusterTopology.Load(topologyPath is { Length: > 0 } ? topologyPath : ClusterTopology.DefaultPath);
        return new ClusterSession(topology, SettingsFrom(topology, minioUser, minioPassword));
    }

    /// <summary>Maps the topology's sections to what deployment needs; a PSCredential overrides the MinIO keys.</summary>
    public static DeploymentSettings SettingsFrom(ClusterTopology t, string? minioUser = null, string? minioPassword = null) => new()
    {
        KafkaPort = t.Kafka.Port,
        KafkaPartitions = t.Partitions,
        KafkaTopics = new[] { t.Kafka.InputTopic, t.Kafka.OutputTopic }.Where(s => s.Length > 0).Distinct().ToList(),
        MinioApiPort = t.Minio.ApiPort,
        MinioConsolePort = t.Minio.ConsolePort,
        MinioBucket = t.Minio.Bucket,
        MinioUser = minioUser ?? t.Minio.AccessKey,
        MinioPassword = minioPassword ?? t.Minio.SecretKey.Reveal(),
        ArroyoTaskSlots = t.Arroyo.TaskSlots,
        ArroyoNodeMemoryMb = t.Arroyo.NodeMemoryMb,
        ArroyoAdminPort = t.Arroyo.AdminPort,
        ArroyoApiPort = t.Arroyo.ApiPort,
        ArroyoControllerPort = t.Arroyo.ControllerPort,
        ArroyoCheckpointInterval = $"{t.Arroyo.CheckpointIntervalSeconds}s",
        FlinkTaskSlots = t.Flink.TaskSlots,
        FlinkTaskManagerMemoryMb = t.Flink.TaskManagerMemoryMb,
        FlinkJobManagerMemoryMb = t.Flink.JobManagerMemoryMb,
        FlinkRestPort = t.Flink.RestPort,
        FlinkSqlGatewayPort = t.Flink.SqlGatewayPort,
        FlinkParallelism = t.Parallelism,
        FlinkVersion = t.Flink.Version,
        Images = PinnedImages.Default with
        {
            Kafka = t.Kafka.Image ?? PinnedImages.Default.Kafka,
            Minio = t.Minio.Image ?? PinnedImages.Default.Minio,
            Arroyo = t.Arroyo.Image ?? $"ghcr.io/arroyosystems/arroyo:{t.Arroyo.Version}",
            FlinkBase = t.Flink.BaseImage ?? $"flink:{t.Flink.Version}",
            Flink = t.Flink.Image ?? $"pibench/flink-kafka:{t.Flink.Version}-3.1.0",
        },
        ReadyTimeoutSeconds = Environment.GetEnvironmentVariable("PIBENCH_READY_TIMEOUT") is { } s && int.TryParse(s, out var v) && v > 0 ? v : 180,
    };

    /// <summary>The context the deployment jobs (<see cref="InstallPlanner"/>, <see cref="InstallApplier"/>, ...) share for this cluster.</summary>
    public ClusterContext CreateContext(IProgressSink? progress = null, ILogSink? log = null) =>
        new(Nodes, Settings, this, progress, log);

    public PiNode PiNodeOf(DeploymentNode node) => _byName[node.Name];

    public Task<IDockerClient> GetDockerAsync(DeploymentNode node, CancellationToken cancellationToken) =>
        _docker.GetClientAsync(node.Name, cancellationToken);

    public async Task<NodeCommandResult> RunAsync(DeploymentNode node, string command, CancellationToken cancellationToken)
    {
        var r = await _pool.RunAsync(_byName[node.Name], command, null, _ssh, cancellationToken).ConfigureAwait(false);
        return new NodeCommandResult(r.ExitCode, r.StdOut, r.StdErr);
    }

    public async Task<NodeCommandResult> RunAsync(DeploymentNode node, string command, bool sudo, CancellationToken cancellationToken)
    {
        var r = await _pool.RunAsync(_byName[node.Name], command, new RemoteCommandOptions { Sudo = sudo, Timeout = TimeSpan.FromMinutes(15) }, _ssh, cancellationToken).ConfigureAwait(false);
        return new NodeCommandResult(r.ExitCode, r.StdOut, r.StdErr);
    }

    public void Invalidate(DeploymentNode node)
    {
        _docker.Invalidate(node.Name);
        _pool.Evict(_byName[node.Name], _ssh);
    }

    public void Dispose() => _docker.Dispose();

    public ValueTask DisposeAsync() => _docker.DisposeAsync();
}
