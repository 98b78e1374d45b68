using Confluent.Kafka;
using Confluent.Kafka.Admin;

namespace PiBench.Core.Kafka;

/// <summary>What a Kafka topic looks like now.</summary>
public sealed record KafkaTopicDescription(string Topic, int Partitions, int ReplicationFactor);

/// <summary>
/// Topic administration. Production clusters: the Kafka admin API (<see cref="AdminClientTopicAdmin"/>).
/// The embedded mock cluster does not implement CreateTopics/DeleteTopics, so it gets native calls
/// (<see cref="EmbeddedTopicAdmin"/>). <see cref="KafkaTopicAdmin.Open"/> picks the right one.
/// </summary>
public interface IKafkaTopicAdmin : IDisposable
{
    string BootstrapServers { get; }
    /// <summary>True for the in-process mock cluster.</summary>
    bool IsEmbedded { get; }
    /// <summary>The topic, or null when it does not exist.</summary>
    Task<KafkaTopicDescription?> DescribeTopicAsync(string topic, CancellationToken cancellationToken);
    /// <summary>
    /// Creates a topic. <paramref name="configs"/> are topic-level settings sent with the CreateTopics request (for
    /// example <see cref="KafkaTopicAdmin.LogAppendTime"/>); null = the broker's defaults.
    /// </summary>
    Task CreateTopicAsync(string topic, int partitions, int replicationFactor, CancellationToken cancellationToken,
        IReadOnlyDictionary<string, string>? configs = null);
    Task DeleteTopicAsync(string topic, CancellationToken cancellationToken);
}

/// <summary>What <see cref="KafkaTopicAdmin.Plan"/> decided for a topic.</summary>
public enum KafkaTopicAction { Create, Keep, Recreate }

/// <summary>Result of Initialize-NexmarkTopic: the topic as it is after the command.</summary>
public sealed class NexmarkTopic
{
    public string Topic { get; init; } = "";
    public int Partitions { get; init; }
    public int ReplicationFactor { get; init; }
    /// <summary>Created, Exists (already right, untouched) or Recreated.</summary>
    public string Action { get; init; } = "";
    public string BootstrapServers { get; init; } = "";
    public bool Embedded { get; init; }
    /// <summary>
    /// message.timestamp.type asked for when the topic was created or recreated (LogAppendTime or CreateTime); "" when
    /// an existing topic was kept as it was. The embedded mock cluster records but cannot apply it (CreateTime).
    /// </summary>
    public string TimestampType { get; init; } = "";
}

public static class KafkaTopicAdmin
{
    /// <summary>
    /// Topic settings that make the broker stamp every record with its own append time
    /// (<c>message.timestamp.type=LogAppendTime</c>): latency measured against these stamps is on the broker's clock
    /// (Pi1), not on the clock of whichever node produced the record.
    /// </summary>
    public static IReadOnlyDictionary<string, string> LogAppendTime { get; } =
        new Dictionary<string, string>(StringComparer.Ordinal) { ["message.timestamp.type"] = "LogAppendTime" };

    /// <summary>The CreateTopics request entry for a topic (what <see cref="AdminClientTopicAdmin"/> sends).</summary>
    public static TopicSpecification Specification(string topic, int partitions, int replicationFactor, IReadOnlyDictionary<string, string>? configs) => new()
    {
        Name = topic, NumPartitions = partitions, ReplicationFactor = (short)replicationFactor,
        Configs = configs is null ? null : new Dictionary<string, string>(configs, StringComparer.Ordinal),
    };

    /// <summary>The embedded cluster's native admin when the bootstrap list is one of ours, else the Kafka admin API.</summary>
    public static IKafkaTopicAdmin Open(string bootstrapServers, TimeSpan? requestTimeout = null)
    {
        if (string.IsNullOrWhiteSpace(bootstrapServers))
            throw new PiBenchException("KafkaBootstrapMissing", PiBenchErrorCategory.InvalidArgument,
                "No Kafka bootstrap servers were given.", bootstrapServers, "Pass -BootstrapServers host:port or -Topology.");
        return EmbeddedKafkaCluster.Find(bootstrapServers) is { } c
            ? c.CreateTopicAdmin()
            : new AdminClientTopicAdmin(bootstrapServers, requestTimeout ?? TimeSpan.FromSeconds(15));
    }

    /// <summary>
    /// Decides what to do: create a missing topic; keep one that already has <paramref name="partitions"/>;
    /// an existing topic with another partition count is <c>KafkaTopicPartitionMismatch</c> unless
    /// <paramref name="force"/> allows recreating it (its data is lost).
    /// </summary>
    public static KafkaTopicAction Plan(KafkaTopicDescription? existing, string topic, int partitions, bool force)
    {
        if (partitions < 1)
            throw new PiBenchException("InvalidPartitionCount", PiBenchErrorCategory.InvalidArgument,
                $"A topic needs at least one partition, not {partitions}.", partitions);
        if (existing is null) return KafkaTopicAction.Create;
        if (existing.Partitions == partitions) return KafkaTopicAction.Keep;
        if (force) return KafkaTopicAction.Recreate;
        throw new PiBenchException("KafkaTopicPartitionMismatch", PiBenchErrorCategory.ResourceExists,
            $"Topic '{topic}' exists with {existing.Partitions} partitions, but {partitions} are needed (one per worker).",
            topic, "Use -Force to delete and recreate it (its messages are lost), or pass -Partitions " + existing.Partitions + ".");
    }

    /// <summary>Creates, keeps or recreates the topic as planned and waits until metadata shows it.</summary>
    public static async Task<NexmarkTopic> ApplyAsync(IKafkaTopicAdmin admin, string topic, int partitions, int replicationFactor,
        KafkaTopicAction action, CancellationToken cancellationToken, IReadOnlyDictionary<string, string>? configs = null)
    {
        KafkaTopicDescription? now = null;
        switch (action)
        {
            case KafkaTopicAction.Keep:
                now = await admin.DescribeTopicAsync(topic, cancellationToken).ConfigureAwait(false);
                break;
            case KafkaTopicAction.Recreate:
                await admin.DeleteTopicAsync(topic, cancellationToken).ConfigureAwait(false);
                await WaitAsync(admin, topic, d => d is null, cancellationToken).ConfigureAwait(false);
                goto case KafkaTopicAction.Create;
            case KafkaTopicAction.Create:
                var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
                while (true)
                {
                    try
                    {
                        await admin.CreateTopicAsync(topic, partitions, replicationFactor, cancellationToken, configs).ConfigureAwait(false);
                        break;
                    }
                    catch (PiBenchException ex) when (ex.ErrorId == "KafkaTopicExists" && action == KafkaTopicAction.Recreate && DateTime.UtcNow < deadline)
                    {
                        await Task.Delay(250, cancellationToken).ConfigureAwait(false); // still marked for deletion
                    }
                }
                now = await WaitAsync(admin, topic, d => d is not null && d.Partitions == partitions, cancellationToken).ConfigureAwait(false);
                break;
        }
        return new NexmarkTopic
        {
            Topic = topic,
            Partitions = now?.Partitions ?? partitions,
            ReplicationFactor = now?.ReplicationFactor ?? replicationFactor,
            Action = action switch { KafkaTopicAction.Create => "Created", KafkaTopicAction.Keep => "Exists", _ => "Recreated" },
            BootstrapServers = admin.BootstrapServers,
            Embedded = admin.IsEmbedded,
            TimestampType = action == KafkaTopicAction.Keep ? "" : configs is not null && configs.TryGetValue("message.timestamp.type", out var t) ? t : "CreateTime",
        };
    }

    private static async Task<KafkaTopicDescription?> WaitAsync(IKafkaTopicAdmin admin, string topic,
        Func<KafkaTopicDescription?, bool> done, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            var d = await admin.DescribeTopicAsync(topic, cancellationToken).ConfigureAwait(false);
            if (done(d)) return d;
            if (DateTime.UtcNow > deadline)
                throw new PiBenchException("KafkaTopicMetadataTimeout", PiBenchErrorCategory.OperationTimeout,
                    $"Topic '{topic}' did not reach the expected state in the cluster metadata within 30 s.", topic,
                    "Check the broker logs; retry Initialize-NexmarkTopic.");
            await Task.Delay(200, cancellationToken).ConfigureAwait(false);
        }
    }

    internal static async Task<KafkaTopicDescription?> DescribeWithAsync(IAdminClient client, string bootstrapServers, string topic, TimeSpan timeout)
    {
        try
        {
            var r = await client.DescribeTopicsAsync(TopicCollection.OfTopicNames(new[] { topic }),
                new DescribeTopicsOptions { RequestTimeout = timeout }).ConfigureAwait(false);
            return ToDescription(r.TopicDescriptions.FirstOrDefault());
        }
        catch (DescribeTopicsException ex)
        {
            var d = ex.Results.TopicDescriptions.FirstOrDefault();
            if (d is null || d.Error.Code == ErrorCode.UnknownTopicOrPart) return null;
            throw new PiBenchException("KafkaTopicDescribeFailed", PiBenchErrorCategory.ReadError,
                $"Describing topic '{topic}' failed: {d.Error.Reason}.", topic, null, ex);
        }
        catch (KafkaException ex)
        {
            throw Unreachable(bootstrapServers, topic, ex);
        }
    }

    private static KafkaTopicDescription? ToDescription(TopicDescription? d)
    {
        if (d is null || d.Error.Code == ErrorCode.UnknownTopicOrPart) return null;
        return new KafkaTopicDescription(d.Name, d.Partitions.Count, d.Partitions.Count == 0 ? 0 : d.Partitions.Max(p => p.Replicas.Count));
    }

    internal static PiBenchException Unreachable(string bootstrap, string topic, KafkaException ex) =>
        new("KafkaUnreachable", PiBenchErrorCategory.ConnectionError,
            $"Kafka did not answer for topic '{topic}' on {bootstrap}: {ex.Error.Reason} ({ex.Error.Code}).", topic,
            "Check -BootstrapServers (host:port), that the broker runs and that this host can reach it.", ex);

    /// <summary>Low and high watermark per partition (the mock drops old batches: count with high - low only when low is 0).</summary>
    public static IReadOnlyList<(long Low, long High)> QueryWatermarks(string bootstrapServers, string topic, int partitions, TimeSpan timeout)
    {
        var cfg = new ConsumerConfig { BootstrapServers = bootstrapServers, GroupId = "pibench-watermarks", EnableAutoCommit = false };
        using var c = new ConsumerBuilder<Ignore, Ignore>(cfg).SetLogHandler((_, _) => { }).Build();
        var result = new List<(long, long)>(partitions);
        for (var p = 0; p < partitions; p++)
        {
            var w = c.QueryWatermarkOffsets(new TopicPartition(topic, p), timeout);
            result.Add((w.Low.Value, w.High.Value));
        }
        return result;
    }
}

/// <summary>Kafka admin API (CreateTopics, DescribeTopics, DeleteTopics) on a real cluster.</summary>
public sealed class AdminClientTopicAdmin : IKafkaTopicAdmin
{
    private readonly IAdminClient _client;
    private readonly TimeSpan _timeout;

    public AdminClientTopicAdmin(string bootstrapServers, TimeSpan requestTimeout)
    {
        BootstrapServers = bootstrapServers;
        _timeout = requestTimeout;
        _client = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = bootstrapServers, SocketTimeoutMs = (int)requestTimeout.TotalMilliseconds })
            .SetLogHandler((_, _) => { }).Build();
    }

    public string BootstrapServers { get; }
    public bool IsEmbedded => false;

    public Task<KafkaTopicDescription?> DescribeTopicAsync(string topic, CancellationToken cancellationToken) =>
        KafkaTopicAdmin.DescribeWithAsync(_client, BootstrapServers, topic, _timeout).WaitAsync(cancellationToken);

    public async Task CreateTopicAsync(string topic, int partitions, int replicationFactor, CancellationToken cancellationToken,
        IReadOnlyDictionary<string, string>? configs = null)
    {
        try
        {
            await _client.CreateTopicsAsync(new[] { KafkaTopicAdmin.Specification(topic, partitions, replicationFactor, configs) },
                new CreateTopicsOptions { RequestTimeout = _timeout, OperationTimeout = _timeout }).WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (CreateTopicsException ex)
        {
            var r = ex.Results.FirstOrDefault();
            if (r?.Error.Code == ErrorCode.TopicAlreadyExists)
                throw new PiBenchException("KafkaTopicExists", PiBenchErrorCategory.ResourceExists, $"Topic '{topic}' already exists.", topic, null, ex);
            throw new PiBenchException("KafkaTopicCreateFailed", PiBenchErrorCategory.InvalidOperation,
                $"Creating topic '{topic}' ({partitions} partitions, replication {replicationFactor}{ConfigText(configs)}) failed: {r?.Error.Reason ?? ex.Message}.",
                topic, "Check the replication factor against the number of brokers and the broker's topic settings.", ex);
        }
        catch (KafkaException ex)
        {
            throw KafkaTopicAdmin.Unreachable(BootstrapServers, topic, ex);
        }
    }

    public async Task DeleteTopicAsync(string topic, CancellationToken cancellationToken)
    {
        try
        {
            await _client.DeleteTopicsAsync(new[] { topic }, new DeleteTopicsOptions { RequestTimeout = _timeout, OperationTimeout = _timeout })
                .WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (DeleteTopicsException ex) when (ex.Results.FirstOrDefault()?.Error.Code == ErrorCode.UnknownTopicOrPart)
        {
        }
        catch (DeleteTopicsException ex)
        {
            throw new PiBenchException("KafkaTopicDeleteFailed", PiBenchErrorCategory.InvalidOperation,
                $"Deleting topic '{topic}' failed: {ex.Results.FirstOrDefault()?.Error.Reason ?? ex.Message}.", topic,
                "Check delete.topic.enable on the broker.", ex);
        }
        catch (KafkaException ex)
        {
            throw KafkaTopicAdmin.Unreachable(BootstrapServers, topic, ex);
        }
    }

    private static string ConfigText(IReadOnlyDictionary<string, string>? configs) =>
        configs is null || configs.Count == 0 ? "" : ", " + string.Join(", ", configs.Select(kv => $"{kv.Key}={kv.Value}"));

    public void Dispose() => _client.Dispose();
}

/// <summary>
/// The embedded mock cluster: native create/delete, DescribeTopics through the owner client. The mock has no topic
/// configuration: requested settings are kept in <see cref="RequestedConfigs"/> (so tests can check what a real broker
/// would have been asked) but not applied — its records keep CreateTime stamps.
/// </summary>
public sealed class EmbeddedTopicAdmin : IKafkaTopicAdmin
{
    private readonly EmbeddedKafkaCluster _cluster;
    private readonly IAdminClient _owner;

    internal EmbeddedTopicAdmin(EmbeddedKafkaCluster cluster, IAdminClient owner)
    {
        _cluster = cluster;
        _owner = owner;
    }

    public string BootstrapServers => _cluster.BootstrapServers;
    public bool IsEmbedded => true;

    public Task<KafkaTopicDescription?> DescribeTopicAsync(string topic, CancellationToken cancellationToken) =>
        KafkaTopicAdmin.DescribeWithAsync(_owner, BootstrapServers, topic, TimeSpan.FromSeconds(5)).WaitAsync(cancellationToken);

    public Task CreateTopicAsync(string topic, int partitions, int replicationFactor, CancellationToken cancellationToken,
        IReadOnlyDictionary<string, string>? configs = null)
    {
        _cluster.CreateTopic(topic, partitions, replicationFactor);
        _cluster.RecordRequestedConfigs(topic, configs);
        return Task.CompletedTask;
    }

    /// <summary>Settings asked for at creation, per topic (empty when none were asked for).</summary>
    public IReadOnlyDictionary<string, string> RequestedConfigs(string topic) => _cluster.RequestedConfigs(topic);

    public Task DeleteTopicAsync(string topic, CancellationToken cancellationToken)
    {
        _cluster.DeleteTopic(topic);
        return Task.CompletedTask;
    }

    public void Dispose() { } // the cluster owns the client
}
