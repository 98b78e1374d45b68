using Confluent.Kafka;
using PiBench.Core.Kafka;
using PiBench.Core.Nexmark;
using PiBench.Core.Nexmark.Reference;

namespace PiBench.Core.Benchmarking;

/// <summary>What was read from a captured output topic.</summary>
public sealed class CapturedTopic
{
    public required string Topic { get; init; }
    public required IReadOnlyList<ReadOnlyMemory<byte>> Values { get; init; }
    /// <summary>Messages the broker no longer holds (low watermark above 0 on some partition): the capture is incomplete.</summary>
    public long Dropped { get; init; }
}

/// <summary>
/// Checks an engine's answers: reads a query's captured output topic and compares it with
/// <see cref="NexmarkReference"/> computed for the events the generator produced.
/// </summary>
public static class QueryResultCheck
{
    /// <summary>Reads every message of <paramref name="topic"/> present now (from each partition's low to its high
    /// watermark). Throws KafkaTopicNotFound when the topic does not exist, KafkaUnreachable when the broker does not answer.</summary>
    public static async Task<CapturedTopic> ReadTopicAsync(string bootstrapServers, string topic, TimeSpan timeout, CancellationToken cancellationToken)
    {
        KafkaTopicDescription? description;
        using (var admin = KafkaTopicAdmin.Open(bootstrapServers, timeout))
        {
            try { description = await admin.DescribeTopicAsync(topic, cancellationToken).ConfigureAwait(false); }
            catch (KafkaException ex) { throw KafkaTopicAdmin.Unreachable(bootstrapServers, topic, ex); }
        }
        if (description is null)
            throw new PiBenchException("KafkaTopicNotFound", PiBenchErrorCategory.ObjectNotFound,
                $"There is no topic '{topic}' on {bootstrapServers}.", topic,
                "Name the topic the query wrote to (Invoke-NexmarkQuery -ResultTopic, or Invoke-Benchmark -KeepTopics keeps the cell's result topic).");
        return await Task.Run(() => Read(bootstrapServers, topic, description.Partitions, timeout, cancellationToken), cancellationToken).ConfigureAwait(false);
    }

    private static CapturedTopic Read(string bootstrapServers, string topic, int partitions, TimeSpan timeout, CancellationToken cancellationToken)
    {
        IReadOnlyList<(long Low, long High)> marks;
        try { marks = KafkaTopicAdmin.QueryWatermarks(bootstrapServers, topic, partitions, timeout); }
        catch (KafkaException ex) { throw KafkaTopicAdmin.Unreachable(bootstrapServers, topic, ex); }
        var values = new List<ReadOnlyMemory<byte>>();
        var wanted = marks.Select(m => m.High - m.Low).Sum();
        if (wanted > 0)
        {
            var cfg = new ConsumerConfig
            {
                BootstrapServers = bootstrapServers, GroupId = "pibench-check-" + Guid.NewGuid().ToString("N")[..8],
                EnableAutoCommit = false, EnablePartitionEof = true,
            };
            using var consumer = new ConsumerBuilder<Ignore, byte[]>(cfg).SetLogHandler((_, _) => { }).Build();
            consumer.Assign(marks.Select((m, p) => new TopicPartitionOffset(topic, p, m.Low)).Where((_, p) => marks[p].High > marks[p].Low));
            var done = new bool[partitions];
            for (var p = 0; p < partitions; p++) done[p] = marks[p].High <= marks[p].Low;
            var deadline = DateTime.UtcNow + timeout;
            while (!done.All(d => d))
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (DateTime.UtcNow > deadline)
                    throw new PiBenchException("KafkaReadTimeout", PiBenchErrorCategory.OperationTimeout,
                        $"Read {values.Count} of {wanted} messages of '{topic}' within {timeout.TotalSeconds:0} s.", topic,
                        "Raise -TimeoutSeconds, or check the broker.");
                var r = consumer.Consume(TimeSpan.FromMilliseconds(200));
                if (r is null) continue;
                var part = r.TopicPartition.Partition.Value;
                if (!r.IsPartitionEOF && r.Offset.Value < marks[part].High && r.Message?.Value is { } v) values.Add(v);
                if (r.IsPartitionEOF || r.Offset.Value + 1 >= marks[part].High) done[part] = true;
            }
            consumer.Close();
        }
        return new CapturedTopic { Topic = topic, Values = values, Dropped = marks.Sum(m => m.Low) };
    }

    /// <summary>Compares captured rows with the reference of <paramref name="query"/> over the events of
    /// <paramref name="configuration"/> (the generator run's settings: profile, seeds, base time, rate, event count,
    /// splits). A capture that lost messages is NotChecked.</summary>
    public static QueryResultReport Check(string query, NexmarkConfiguration configuration, CapturedTopic captured, int examples = 3,
        CancellationToken cancellationToken = default, string system = "Flink") =>
        Check(query, NexmarkReference.Generate(configuration, cancellationToken), captured, examples, system);

    /// <summary>As above, over the events given (e.g. read back from the input topic). <paramref name="system"/>: whose
    /// text of the query ran (Arroyo's q7 differs from the suite's).</summary>
    public static QueryResultReport Check(string query, ReferenceInput input, CapturedTopic captured, int examples = 3, string system = "Flink")
    {
        var reference = NexmarkReference.Compute(query, input, system: system);
        var c = ResultComparer.Compare(reference, captured.Values, examples);
        if (captured.Dropped > 0)
            c = new ReferenceComparison
            {
                Query = c.Query, Verdict = ResultVerdict.NotChecked, Expected = c.Expected, Received = c.Received,
                PendingExpected = c.PendingExpected, Columns = c.Columns,
                Reason = $"The topic '{captured.Topic}' no longer holds its first {captured.Dropped} messages (retention): the capture is incomplete.",
            };
        return QueryResultReport.From(c, reference, captured.Topic);
    }
}

/// <summary>One query's answers checked against the reference (Test-NexmarkQueryResult's output): flat, exports cleanly.</summary>
public sealed class QueryResultReport
{
    public string Query { get; init; } = "";
    /// <summary>Correct, Incorrect or NotChecked.</summary>
    public string Verdict { get; init; } = "";
    public long Expected { get; init; }
    public long Received { get; init; }
    public long Matched { get; init; }
    public long Missing { get; init; }
    public long Extra { get; init; }
    public long Mismatched { get; init; }
    /// <summary>Expected rows of windows the final watermark may not have closed (not errors either way).</summary>
    public long PendingExpected { get; init; }
    public long PendingReceived { get; init; }
    public long Unreadable { get; init; }
    public string Reason { get; init; } = "";
    /// <summary>Events the reference was computed over.</summary>
    public long Events { get; init; }
    public string Topic { get; init; } = "";
    /// <summary>The columns compared, comma-separated.</summary>
    public string Columns { get; init; } = "";
    /// <summary>A few rows of each kind, " | "-separated (flat for Export-Csv).</summary>
    public string MissingExamples { get; init; } = "";
    public string ExtraExamples { get; init; } = "";
    public string MismatchedExamples { get; init; } = "";
    /// <summary>The semantics the reference follows for this query.</summary>
    public string Semantics { get; init; } = "";

    public static QueryResultReport From(ReferenceComparison c, ReferenceResult reference, string topic) => new()
    {
        Query = c.Query, Verdict = c.Verdict.ToString(), Expected = c.Expected, Received = c.Received, Matched = c.Matched,
        Missing = c.Missing, Extra = c.Extra, Mismatched = c.Mismatched, PendingExpected = c.PendingExpected,
        PendingReceived = c.PendingReceived, Unreadable = c.Unreadable, Reason = c.Reason, Events = reference.Events, Topic = topic,
        Columns = string.Join(", ", c.Columns), MissingExamples = string.Join(" | ", c.MissingExamples),
        ExtraExamples = string.Join(" | ", c.ExtraExamples), MismatchedExamples = string.Join(" | ", c.MismatchedExamples),
        Semantics = reference.Query.Semantics,
    };
}
