using Confluent.Kafka;
using PiBench.Core.Kafka;

namespace PiBench.Core.Benchmarking;

/// <summary>
/// One cell's Kafka names and topics: fresh input and result topic names and the engine's consumer group, the creation
/// of both topics stamped by the broker on append, and their deletion once the cell is measured.
/// </summary>
internal sealed class CellTopics
{
    private CellTopics(string tag)
    {
        Input = $"pibench-{tag}-in";
        Result = $"pibench-{tag}-out";
        GroupId = $"pibench-{tag}";
    }

    public string Input { get; }
    public string Result { get; }
    /// <summary>The engine's consumer group on <see cref="Input"/>.</summary>
    public string GroupId { get; }

    /// <summary>Fresh names for query <paramref name="q"/>, repetition <paramref name="rep"/> and search step <paramref name="step"/> (0 = none).</summary>
    public static CellTopics For(string q, int rep, int step) =>
        new($"{q}-r{rep}{(step > 0 ? $"-s{step}" : "")}-{Guid.NewGuid().ToString("N")[..6]}");

    /// <summary>Creates both topics; true when the broker is the embedded one (which cannot apply LogAppendTime).</summary>
    public async Task<bool> CreateAsync(string bootstrapServers, int partitions, CancellationToken ct)
    {
        using var admin = KafkaTopicAdmin.Open(bootstrapServers);
        // Both topics stamped by the broker (Pi1) on append: result stamps come from the broker's clock, whose
        // offset to this host's (the generator's) was just checked.
        await admin.CreateTopicAsync(Input, partitions, 1, ct, KafkaTopicAdmin.LogAppendTime).ConfigureAwait(false);
        await admin.CreateTopicAsync(Result, partitions, 1, ct, KafkaTopicAdmin.LogAppendTime).ConfigureAwait(false);
        return admin.IsEmbedded;
    }

    /// <summary>
    /// Drops both topics: every cell gets fresh ones, and at the default 10,000 events/s an input topic grows by about
    /// 2 MB/s on Pi1's disk. Best effort, bounded; a failure is a warning.
    /// </summary>
    public async Task DeleteAsync(string bootstrapServers, ILogSink? log)
    {
        var topics = new[] { Input, Result };
        try
        {
            using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            using var admin = KafkaTopicAdmin.Open(bootstrapServers, TimeSpan.FromSeconds(10));
            foreach (var t in topics) await admin.DeleteTopicAsync(t, bound.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is PiBenchException or OperationCanceledException or KafkaException)
        {
            log?.Warning($"Could not delete topics {string.Join(", ", topics)}: {ex.Message} (delete them by hand to free Kafka's disk).");
        }
    }
}
