using System.Text;
using Confluent.Kafka;
using PiBench.Core.Benchmarking;
using PiBench.Core.Kafka;
using Xunit;

namespace PiBench.Core.Tests.Benchmarking;

public sealed class ResultEventTimeTests
{
    [Theory]
    [InlineData("{\"auction\":1,\"price\":10,\"dateTime\":1764504000123}", 1764504000123)]
    [InlineData("{\"auction\":1,\"date_time\":\"2025-12-01 10:00:00.123\"}", 1764583200123)]
    [InlineData("{\"date_time\":\"2025-12-01T10:00:00.123+01:00\"}", 1764579600123)]
    [InlineData("{\"dateTime\":1,\"window_end\":1764504010000,\"nested\":{\"window_end\":5}}", 1764504010000)]
    public void Extracts_WindowEndFirst_ThenEventTime(string json, long expected)
    {
        Assert.True(ResultEventTime.TryExtractMs(Encoding.UTF8.GetBytes(json), out var ms));
        Assert.Equal(expected, ms);
    }

    [Theory]
    // The latency variants' column wins over the event's own time.
    [InlineData("{\"auction\":1,\"dateTime\":\"2025-12-01 10:00:00.000\",\"latency_ts\":\"2025-12-01 10:00:10.000\"}", 1764583210000)]
    // Fractions of any length (to the millisecond), and a leap day.
    [InlineData("{\"latency_ts\":\"2025-12-01T10:00:00.5Z\"}", 1764583200500)]
    [InlineData("{\"latency_ts\":\"2025-12-01 10:00:00.123456\"}", 1764583200123)]
    [InlineData("{\"latency_ts\":\"2024-02-29 00:00:00\"}", 1709164800000)]
    // Escaped strings and offsets take the general parser.
    [InlineData("{\"latency_ts\":\"2025-12-01T10:00:00\\u002B01:00\"}", 1764579600000)]
    // Arroyo's JSON sink writes RFC 3339.
    [InlineData("{\"auction\":1,\"num\":3,\"latency_ts\":\"2025-12-01T10:00:10Z\"}", 1764583210000)]
    // Flink's debezium-json for updating results: the time is in the "after" row.
    [InlineData("{\"before\":{\"id\":10,\"final\":5,\"latency_ts\":\"2025-12-01 10:00:00.000\"},\"after\":{\"id\":10,\"final\":7,\"latency_ts\":\"2025-12-01 10:00:02.500\"},\"op\":\"u\"}", 1764583202500)]
    public void Extracts_TheLatencyColumn_IncludingFromChangeRecords(string json, long expected)
    {
        Assert.True(ResultEventTime.TryExtractMs(Encoding.UTF8.GetBytes(json), out var ms));
        Assert.Equal(expected, ms);
    }

    [Fact]
    public void ADeleteChangeRecord_HasNoTime() =>
        Assert.False(ResultEventTime.TryExtractMs(Encoding.UTF8.GetBytes("{\"before\":{\"id\":10},\"after\":null,\"op\":\"d\"}"), out _));

    [Theory]
    [InlineData("{\"auction\":1}")]
    [InlineData("not json")]
    [InlineData("[1,2]")]
    public void NoEventTime_IsFalse(string json) => Assert.False(ResultEventTime.TryExtractMs(Encoding.UTF8.GetBytes(json), out _));
}

[Collection("kafka")]
public sealed class OutputLatencyCollectorTests
{
    [Fact]
    public void KnownDelay_ShowsUpInThePercentiles()
    {
        // A q0-style "engine": each result is produced 250 ms after its event time. The broker timestamp minus the
        // event time must show those 250 ms (plus the producer's own small delay), whatever this machine's speed.
        const int delayMs = 250;
        using var cluster = EmbeddedKafkaCluster.Start(1);
        cluster.CreateTopic("q0-results", 2);
        var recorder = new LatencyRecorder();
        using var collector = OutputLatencyCollector.Start(cluster.BootstrapServers, "q0-results", 2, recorder);
        using (var p = new ProducerBuilder<Null, string>(new ProducerConfig { BootstrapServers = cluster.BootstrapServers, LingerMs = 0 }).Build())
        {
            for (var i = 0; i < 200; i++)
            {
                var eventTime = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - delayMs;
                p.Produce(new TopicPartition("q0-results", i % 2), new Message<Null, string> { Value = $"{{\"auction\":{i},\"bidder\":7,\"price\":100,\"dateTime\":{eventTime}}}" });
                if (i % 50 == 0) p.Produce(new TopicPartition("q0-results", 0), new Message<Null, string> { Value = "{\"no_time\":1}" });
            }
            p.Flush(TimeSpan.FromSeconds(10));
        }
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (collector.Records < 204 && DateTime.UtcNow < deadline) Thread.Sleep(20);
        collector.Stop();
        Assert.Equal(204, collector.Records);
        Assert.Equal(4, collector.Unparsed);
        Assert.Equal(200, recorder.Count);
        Assert.Equal("CreateTime", collector.TimestampType); // the embedded broker keeps producer timestamps
        Assert.InRange(recorder.PercentileMs(50), delayMs - 1, delayMs + 150);
        Assert.InRange(recorder.PercentileMs(99), delayMs - 1, delayMs + 500);
        Assert.True(recorder.MaxMs >= recorder.PercentileMs(99));
        Assert.Null(collector.Error);
    }
}
