using System.Collections.Concurrent;
using Confluent.Kafka;
using Confluent.Kafka.Admin;

namespace PiBench.Core.Kafka;

/// <summary>
/// An in-process Kafka cluster: the librdkafka mock cluster (real TCP listeners on 127.0.0.1, random ports),
/// owned by one AdminClient created with <c>test.mock.num.brokers</c>. It lives until <see cref="Dispose"/>.
/// Topics are created natively (<c>rd_kafka_mock_topic_create</c>; the mock does not implement the admin API).
/// Limits of the mock: it keeps at most 5 MiB or 100,000 message sets per partition (older batches vanish and
/// the low watermark moves), so count messages with watermarks, not by reading them back.
/// Clusters started in this process are listed by <see cref="Running"/> and found by bootstrap string, so a
/// producer or topic command given the same bootstrap servers uses the native topic administration.
/// </summary>
public sealed class EmbeddedKafkaCluster : IDisposable
{
    private static readonly ConcurrentDictionary<string, EmbeddedKafkaCluster> s_running = new(StringComparer.Ordinal);
    private static int s_nextId;
    private readonly IAdminClient _owner;
    private readonly IntPtr _mock;
    private readonly object _gate = new();
    private bool _disposed;

    private EmbeddedKafkaCluster(IAdminClient owner, IntPtr mock, string bootstrap, int brokers, string clusterId)
    {
        _owner = owner;
        _mock = mock;
        BootstrapServers = bootstrap;
        BrokerCount = brokers;
        ClusterId = clusterId;
        Id = Interlocked.Increment(ref s_nextId);
        StartTime = DateTimeOffset.Now;
    }

    /// <summary>Process-wide number of this cluster (1, 2, ...).</summary>
    public int Id { get; }
    /// <summary>Comma-separated host:port list of the mock brokers (127.0.0.1, random ports).</summary>
    public string BootstrapServers { get; }
    public int BrokerCount { get; }
    public string ClusterId { get; }
    public DateTimeOffset StartTime { get; }
    /// <summary>Running or Stopped.</summary>
    public string State => _disposed ? "Stopped" : "Running";
    /// <summary>librdkafka version that hosts the cluster.</summary>
    public string LibrdkafkaVersion => Library.VersionString;

    /// <summary>Clusters started in this process and not yet stopped.</summary>
    public static IReadOnlyList<EmbeddedKafkaCluster> Running => s_running.Values.OrderBy(c => c.Id).ToList();

    /// <summary>The running embedded cluster whose bootstrap list equals (or contains) <paramref name="bootstrapServers"/>.</summary>
    public static EmbeddedKafkaCluster? Find(string? bootstrapServers)
    {
        if (string.IsNullOrWhiteSpace(bootstrapServers)) return null;
        var wanted = Split(bootstrapServers);
        foreach (var c in s_running.Values)
            if (Split(c.BootstrapServers).Overlaps(wanted)) return c;
        return null;
    }

    private static HashSet<string> Split(string list) =>
        list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToHashSet(StringComparer.OrdinalIgnoreCase);

    /// <summary>Starts a mock cluster with <paramref name="brokers"/> brokers and waits until its metadata answers.</summary>
    /// <remarks>brokerRttMs: optional simulated round-trip time per broker (test.mock.broker.rtt).</remarks>
    public static EmbeddedKafkaCluster Start(int brokers = 1, int brokerRttMs = 0, ILogSink? log = null)
    {
        if (brokers is < 1 or > 32)
            throw new PiBenchException("InvalidBrokerCount", PiBenchErrorCategory.InvalidArgument,
                $"An embedded Kafka cluster has 1 to 32 brokers, not {brokers}.", brokers, "Pass -BrokerCount 1..32.");
        var cfg = new AdminClientConfig { BootstrapServers = "mock:9092" }; // required, then ignored by the mock
        cfg.Set("test.mock.num.brokers", brokers.ToString(System.Globalization.CultureInfo.InvariantCulture));
        if (brokerRttMs > 0) cfg.Set("test.mock.broker.rtt", brokerRttMs.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var sink = log ?? NullLog.Instance;
        IAdminClient owner;
        try
        {
            owner = new AdminClientBuilder(cfg)
                .SetLogHandler((_, m) => { if (m.Level <= SyslogLevel.Warning) sink.Warning($"librdkafka {m.Facility}: {m.Message}"); })
                .Build();
        }
        catch (Exception ex) when (ex is DllNotFoundException or KafkaException or InvalidOperationException)
        {
            throw new PiBenchException("KafkaEmbeddedStartFailed", PiBenchErrorCategory.ResourceUnavailable,
                "The embedded Kafka cluster (librdkafka mock) could not start: " + ex.Message, brokers,
                "Check that librdkafka loads on this platform (see Measure-NexmarkGenerator -Verbose).", ex);
        }
        try
        {
            var md = owner.GetMetadata(TimeSpan.FromSeconds(10));
            var bootstrap = string.Join(",", md.Brokers.OrderBy(b => b.BrokerId).Select(b => $"{b.Host}:{b.Port}"));
            var mc = RdKafkaNative.MockClusterOf(owner);
            if (mc == IntPtr.Zero)
                throw new PiBenchException("KafkaEmbeddedStartFailed", PiBenchErrorCategory.ResourceUnavailable,
                    "librdkafka did not create a mock cluster for test.mock.num.brokers.", brokers);
            RdKafkaNative.MockSetControllerId(mc, md.Brokers.Min(b => b.BrokerId)); // else DescribeTopics waits for controller 0
            owner.GetMetadata(TimeSpan.FromSeconds(10)); // refresh the cached controller id
            string clusterId;
            try { clusterId = owner.DescribeClusterAsync(new DescribeClusterOptions { RequestTimeout = TimeSpan.FromSeconds(5) }).GetAwaiter().GetResult().ClusterId ?? ""; }
            catch (KafkaException) { clusterId = ""; }
            var c = new EmbeddedKafkaCluster(owner, mc, bootstrap, md.Brokers.Count, clusterId);
            s_running[bootstrap] = c;
            return c;
        }
        catch (KafkaException ex)
        {
            owner.Dispose();
            throw new PiBenchException("KafkaEmbeddedStartFailed", PiBenchErrorCategory.ResourceUnavailable,
                "The embedded Kafka cluster did not answer its metadata request: " + ex.Message, brokers, null, ex);
        }
        catch
        {
            owner.Dispose();
            throw;
        }
    }

    private IntPtr Mock
    {
        get
        {
            if (_disposed) throw new PiBenchException("KafkaEmbeddedStopped", PiBenchErrorCategory.ResourceUnavailable,
                $"The embedded Kafka cluster {BootstrapServers} has been stopped.", BootstrapServers, "Start a new one with Start-EmbeddedKafka.");
            return _mock;
        }
    }

    /// <summary>Creates a topic on the mock (native call). Error if it exists.</summary>
    public void CreateTopic(string topic, int partitions, int replicationFactor = 1)
    {
        if (replicationFactor > BrokerCount) replicationFactor = BrokerCount;
        lock (_gate)
        {
            var err = RdKafkaNative.MockTopicCreate(Mock, topic, partitions, replicationFactor);
            if (err != ErrorCode.NoError)
                throw new PiBenchException(err == ErrorCode.TopicAlreadyExists ? "KafkaTopicExists" : "KafkaTopicCreateFailed",
                    err == ErrorCode.TopicAlreadyExists ? PiBenchErrorCategory.ResourceExists : PiBenchErrorCategory.InvalidOperation,
                    $"Creating topic '{topic}' ({partitions} partitions) on the embedded cluster failed: {err}.", topic);
        }
    }

    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, IReadOnlyDictionary<string, string>> _requestedConfigs = new(StringComparer.Ordinal);

    /// <summary>Keeps the topic settings a CreateTopics request asked for (the mock cannot apply them).</summary>
    internal void RecordRequestedConfigs(string topic, IReadOnlyDictionary<string, string>? configs) =>
        _requestedConfigs[topic] = configs is null ? new Dictionary<string, string>() : new Dictionary<string, string>(configs, StringComparer.Ordinal);

    /// <summary>Topic settings asked for when the topic was (last) created through a topic admin, kept after a delete (empty when none).</summary>
    public IReadOnlyDictionary<string, string> RequestedConfigs(string topic) =>
        _requestedConfigs.TryGetValue(topic, out var c) ? c : new Dictionary<string, string>();

    /// <summary>Deletes a topic on the mock (native call); false when it did not exist.</summary>
    public bool DeleteTopic(string topic)
    {
        lock (_gate)
        {
            var err = RdKafkaNative.MockTopicDelete(Mock, topic);
            if (err == ErrorCode.UnknownTopicOrPart) return false;
            if (err != ErrorCode.NoError)
                throw new PiBenchException("KafkaTopicDeleteFailed", PiBenchErrorCategory.InvalidOperation,
                    $"Deleting topic '{topic}' on the embedded cluster failed: {err}.", topic);
            return true;
        }
    }

    /// <summary>Takes a broker down (-1: all): connections drop and new ones are refused. Fault injection.</summary>
    public void SetBrokerDown(int brokerId = -1) => Check(RdKafkaNative.MockBrokerSetDown(Mock, brokerId), "broker down", brokerId);
    public void SetBrokerUp(int brokerId = -1) => Check(RdKafkaNative.MockBrokerSetUp(Mock, brokerId), "broker up", brokerId);
    public void SetBrokerRtt(int brokerId, int rttMs) => Check(RdKafkaNative.MockBrokerSetRtt(Mock, brokerId, rttMs), "broker rtt", brokerId);

    /// <summary>The next requests of <paramref name="apiKey"/> (0 = Produce) fail with these errors, one each. Fault injection.</summary>
    public void PushRequestErrors(short apiKey, params ErrorCode[] errors) => RdKafkaNative.MockPushRequestErrors(Mock, apiKey, errors);
    public void ClearRequestErrors(short apiKey) => RdKafkaNative.MockClearRequestErrors(Mock, apiKey);
    /// <summary>Every request for the topic fails with <paramref name="error"/> until set back to NoError.</summary>
    public void SetTopicError(string topic, ErrorCode error) => RdKafkaNative.MockTopicSetError(Mock, topic, error);

    /// <summary>A topic administration bound to this cluster (native create/delete, metadata describe).</summary>
    public IKafkaTopicAdmin CreateTopicAdmin() => new EmbeddedTopicAdmin(this, _owner);

    private void Check(ErrorCode err, string what, object target)
    {
        if (err != ErrorCode.NoError)
            throw new PiBenchException("KafkaMockCallFailed", PiBenchErrorCategory.InvalidOperation, $"Mock cluster {what} failed: {err}.", target);
    }

    public override string ToString() => BootstrapServers;

    /// <summary>Stops the cluster: every broker closes. Safe to call twice.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
            s_running.TryRemove(BootstrapServers, out _);
            _owner.Dispose();
        }
    }
}
