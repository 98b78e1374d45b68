using Confluent.Kafka;

namespace PiBench.Core.Benchmarking;

/// <summary>Kafka offsets through the protocol: topic end offsets and a consumer group's committed offsets.</summary>
internal sealed class OffsetReader : IDisposable
{
    private readonly IConsumer<Ignore, Ignore> _consumer;
    private readonly TimeSpan _timeout = TimeSpan.FromSeconds(5);

    public OffsetReader(string bootstrapServers, string groupId)
    {
        _consumer = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig { BootstrapServers = bootstrapServers, GroupId = groupId, EnableAutoCommit = false })
            .SetLogHandler((_, _) => { }).Build();
    }

    /// <summary>Sum of the partitions' high watermarks.</summary>
    public long End(string topic, int partitions)
    {
        long sum = 0;
        for (var p = 0; p < partitions; p++) sum += _consumer.QueryWatermarkOffsets(new TopicPartition(topic, p), _timeout).High.Value;
        return sum;
    }

    /// <summary>Sum of the group's committed offsets (what the engine consumed); partitions without a commit count 0.</summary>
    public long Consumed(string topic, int partitions)
    {
        var committed = _consumer.Committed(Enumerable.Range(0, partitions).Select(p => new TopicPartition(topic, p)), _timeout);
        return committed.Sum(c => c.Offset.Value < 0 ? 0 : c.Offset.Value);
    }

    public void Dispose() => _consumer.Dispose();
}
