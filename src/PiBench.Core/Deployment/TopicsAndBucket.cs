using System.Text.RegularExpressions;
using Docker.DotNet;

namespace PiBench.Core.Deployment;

/// <summary>
/// The Kafka topics and the MinIO bucket on the controller: reads and creates them with the tools inside the running
/// broker and MinIO containers (kafka-topics.sh, mc) over Docker exec.
/// </summary>
internal sealed class TopicsAndBucket(ClusterContext cluster)
{
    private static readonly Regex PartitionCount = new(@"PartitionCount:\s*(\d+)", RegexOptions.Compiled);
    private const string KafkaTopicsScript = "/opt/kafka/bin/kafka-topics.sh";

    /// <summary>
    /// kafka-topics.sh runs through kafka-run-class.sh, which takes KAFKA_HEAP_OPTS from the environment (default
    /// -Xmx256M only when unset). Run in the broker's container it would inherit the broker's heap (KafkaSpec sets
    /// -Xms/-Xmx to half the container limit) and two such JVMs exceed the limit: the kernel then kills one of them,
    /// possibly the broker. A small heap for the tool keeps it well inside the limit's headroom.
    /// </summary>
    internal static readonly IList<string> KafkaToolEnv = new[] { "KAFKA_HEAP_OPTS=-Xms32m -Xmx128m" };

    private DeploymentSettings Settings => cluster.Settings;
    private ServiceCatalog Catalog => cluster.Catalog;
    private string KafkaBootstrapInside => $"{cluster.Controller.Address}:{Settings.KafkaPort}";

    /// <summary>Topics that are missing or have fewer partitions than wanted; all when Kafka is not running.</summary>
    public async Task<List<string>> MissingTopicsAsync(IDockerClient docker, CancellationToken ct)
    {
        var (ok, counts) = await TopicPartitionsAsync(docker, ct).ConfigureAwait(false);
        if (!ok) return Settings.KafkaTopics.ToList();
        return Settings.KafkaTopics.Where(t => !counts.TryGetValue(t, out var n) || n < Catalog.Partitions).ToList();
    }

    /// <summary>Partition count per topic, read with kafka-topics.sh inside the broker's container.</summary>
    public async Task<(bool Ok, Dictionary<string, int> Partitions)> TopicPartitionsAsync(IDockerClient docker, CancellationToken ct)
    {
        var result = new Dictionary<string, int>(StringComparer.Ordinal);
        try
        {
            var (code, stdout, _) = await DockerOps.ExecAsync(docker, ServiceCatalog.ContainerNameOf(ServiceCatalog.Kafka),
                new[] { KafkaTopicsScript, "--bootstrap-server", KafkaBootstrapInside, "--describe", "--topic", string.Join("|", Settings.KafkaTopics.Select(Regex.Escape)) }, ct, KafkaToolEnv).ConfigureAwait(false);
            foreach (var line in stdout.Split('\n'))
            {
                var m = Regex.Match(line, @"^Topic:\s*(\S+)\s");
                var p = PartitionCount.Match(line);
                if (m.Success && p.Success) result[m.Groups[1].Value] = int.Parse(p.Groups[1].Value);
            }
            return (code == 0 || result.Count > 0, result);
        }
        catch (DockerApiException)
        {
            return (false, result);
        }
    }

    public async Task<bool> BucketExistsAsync(IDockerClient docker, CancellationToken ct)
    {
        try
        {
            var (code, _, _) = await DockerOps.ExecAsync(docker, ServiceCatalog.ContainerNameOf(ServiceCatalog.Minio),
                new[] { "test", "-d", "/data/" + Settings.MinioBucket }, ct).ConfigureAwait(false);
            return code == 0;
        }
        catch (DockerApiException)
        {
            return false;
        }
    }

    public async Task CreateTopicsAsync(IDockerClient docker, IEnumerable<string> topics, CancellationToken ct)
    {
        var (_, existing) = await TopicPartitionsAsync(docker, ct).ConfigureAwait(false);
        foreach (var topic in topics)
        {
            string[] cmd = existing.TryGetValue(topic, out var n)
                ? new[] { KafkaTopicsScript, "--bootstrap-server", KafkaBootstrapInside, "--alter", "--topic", topic, "--partitions", Catalog.Partitions.ToString() }
                : new[] { KafkaTopicsScript, "--bootstrap-server", KafkaBootstrapInside, "--create", "--if-not-exists", "--topic", topic,
                    "--partitions", Catalog.Partitions.ToString(), "--replication-factor", "1" };
            if (n >= Catalog.Partitions) continue;
            var last = "";
            for (var attempt = 0; attempt < 10; attempt++)
            {
                var (code, stdout, stderr) = await DockerOps.ExecAsync(docker, ServiceCatalog.ContainerNameOf(ServiceCatalog.Kafka), cmd, ct, KafkaToolEnv).ConfigureAwait(false);
                if (code == 0) { last = ""; break; }
                last = (stderr + stdout).Trim();
                await Task.Delay(1000, ct).ConfigureAwait(false); // the broker may still be electing its controller
            }
            if (last.Length > 0)
                throw new PiBenchException("KafkaTopicCreationFailed", PiBenchErrorCategory.InvalidResult,
                    $"{cluster.Controller.Name}: creating topic {topic} failed: {last}", topic, "Check the Kafka log (Get-StreamClusterLog -Service kafka).");
        }
    }

    public async Task CreateBucketAsync(IDockerClient docker, CancellationToken ct)
    {
        var script = "mc alias set pibench \"http://127.0.0.1:$1\" \"$MINIO_ROOT_USER\" \"$MINIO_ROOT_PASSWORD\" >/dev/null && mc mb --ignore-existing \"pibench/$2\"";
        var last = "";
        for (var attempt = 0; attempt < 10; attempt++)
        {
            var (code, stdout, stderr) = await DockerOps.ExecAsync(docker, ServiceCatalog.ContainerNameOf(ServiceCatalog.Minio),
                new[] { "sh", "-c", script, "sh", Settings.MinioApiPort.ToString(), Settings.MinioBucket }, ct).ConfigureAwait(false);
            if (code == 0) return;
            last = (stderr + stdout).Trim();
            await Task.Delay(1000, ct).ConfigureAwait(false);
        }
        throw new PiBenchException("MinioBucketCreationFailed", PiBenchErrorCategory.InvalidResult,
            $"{cluster.Controller.Name}: creating bucket {Settings.MinioBucket} failed: {last}", Settings.MinioBucket, "Check the MinIO log (Get-StreamClusterLog -Service minio).");
    }
}
