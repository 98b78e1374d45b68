using System.Text;
using System.Text.Json;
using Confluent.Kafka;
using PiBench.Core.Benchmarking;
using PiBench.Core.Kafka;
using PiBench.Core.Nexmark;
using Xunit;

namespace PiBench.Core.Tests.Benchmarking;

/// <summary>
/// Test-NexmarkQueryResult's core over the Kafka protocol (embedded broker): a test "engine" computes q2 its own way
/// from the generator's Kafka JSON (not from the reference) and writes its rows to an output topic; an honest engine is
/// Correct, one that drops, duplicates or alters rows is caught with the right counts.
/// </summary>
public sealed class QueryResultCheckTests
{
    private const long BaseTime = 1_700_000_000_000;

    private static NexmarkConfiguration Config(long events) => new()
    {
        Profile = NexmarkProfile.Flink, NumEvents = events, BaseTime = BaseTime, FirstEventRate = 1000,
    };

    /// <summary>q2 as an engine computes it: parse every input message, keep bids with auction % 123 == 0, write
    /// {auction, price, latency_ts} (latency variant) as Flink's json format does.</summary>
    private static List<string> EngineQ2(NexmarkConfiguration config)
    {
        var rows = new List<string>();
        var g = new NexmarkGenerator(config.Resolve());
        while (g.TryNext(out var ev))
        {
            using var doc = JsonDocument.Parse(NexmarkJson.ToJsonString(ev));
            var root = doc.RootElement;
            if (root.GetProperty("event_type").GetInt32() != 2) continue;
            var bid = root.GetProperty("bid");
            var auction = bid.GetProperty("auction").GetInt64();
            if (auction % 123 != 0) continue;
            rows.Add($$"""{"auction":{{auction}},"price":{{bid.GetProperty("price").GetInt64()}},"latency_ts":"{{bid.GetProperty("dateTime").GetString()}}"}""");
        }
        return rows;
    }

    private static void Produce(string bootstrap, string topic, IEnumerable<string> rows)
    {
        using var p = new ProducerBuilder<Null, string>(new ProducerConfig { BootstrapServers = bootstrap, LingerMs = 5 }).Build();
        var i = 0;
        foreach (var r in rows) p.Produce(new TopicPartition(topic, new Partition(i++ % 3)), new Message<Null, string> { Value = r });
        p.Flush(TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task HonestAndFaultyEngines_OverKafka()
    {
        using var kafka = EmbeddedKafkaCluster.Start();
        var config = Config(40_000);
        var rows = EngineQ2(config);
        Assert.True(rows.Count > 20, $"only {rows.Count} q2 rows");

        kafka.CreateTopic("q2-honest", 3);
        Produce(kafka.BootstrapServers, "q2-honest", rows);
        var honest = QueryResultCheck.Check("q2", config,
            await QueryResultCheck.ReadTopicAsync(kafka.BootstrapServers, "q2-honest", TimeSpan.FromSeconds(30), CancellationToken.None));
        Assert.Equal("Correct", honest.Verdict);
        Assert.Equal((rows.Count, rows.Count, 0L, 0L, 0L), ((int)honest.Expected, (int)honest.Received, honest.Missing, honest.Extra, honest.Mismatched));
        Assert.Equal("auction, price, latency_ts", honest.Columns);
        Assert.Equal(40_000, honest.Events);

        var faulty = new List<string>(rows);
        faulty.RemoveAt(0);                                   // dropped
        faulty.RemoveAt(0);                                   // dropped
        faulty.Add(faulty[5]);                                // duplicated
        faulty[9] = faulty[9].Replace("\"price\":", "\"price\":1"); // altered price: a new row with the same latency_ts is not the same key
        kafka.CreateTopic("q2-faulty", 3);
        Produce(kafka.BootstrapServers, "q2-faulty", faulty);
        var bad = QueryResultCheck.Check("q2", config,
            await QueryResultCheck.ReadTopicAsync(kafka.BootstrapServers, "q2-faulty", TimeSpan.FromSeconds(30), CancellationToken.None));
        Assert.Equal("Incorrect", bad.Verdict);
        // q2's key is the whole row (auction, price, time): the altered row is one missing + one extra.
        Assert.Equal((3L, 2L, 0L), (bad.Missing, bad.Extra, bad.Mismatched));
        Assert.NotEmpty(bad.MissingExamples);
        Assert.Contains("auction=", bad.ExtraExamples);
    }

    [Fact]
    public async Task MissingTopic_IsAClearError()
    {
        using var kafka = EmbeddedKafkaCluster.Start();
        var ex = await Assert.ThrowsAsync<PiBenchException>(() =>
            QueryResultCheck.ReadTopicAsync(kafka.BootstrapServers, "no-such-topic", TimeSpan.FromSeconds(10), CancellationToken.None));
        Assert.Equal("KafkaTopicNotFound", ex.ErrorId);
        Assert.Equal(PiBenchErrorCategory.ObjectNotFound, ex.Category);
    }

    [Fact]
    public void EmptyCapture_OfAQueryWithExpectedRows_IsIncorrect()
    {
        var r = QueryResultCheck.Check("q2", Config(40_000), new CapturedTopic { Topic = "t", Values = [] });
        Assert.Equal("Incorrect", r.Verdict);
        Assert.True(r.Missing > 20);
        Assert.Equal(r.Expected, r.Missing);
    }
}
