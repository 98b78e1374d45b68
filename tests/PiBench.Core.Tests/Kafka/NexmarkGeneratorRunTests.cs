using Xunit;
using System.Diagnostics;
using Confluent.Kafka;
using PiBench.Core.Kafka;

namespace PiBench.Core.Tests.Kafka;

[Collection("kafka")]
public sealed class NexmarkGeneratorRunTests
{
    private static readonly TimeSpan HangBound = TimeSpan.FromSeconds(60); // a bound against hangs, not a speed claim

    private static ProducerRunOptions Options(EmbeddedKafkaCluster c, string topic, double rate, long total) => new()
    {
        BootstrapServers = c.BootstrapServers, Topic = topic, EventsPerSecond = rate, TotalEvents = total,
        AckStallTimeout = TimeSpan.FromSeconds(3), DeliveryTimeout = TimeSpan.FromSeconds(5), DrainTimeout = TimeSpan.FromSeconds(2),
    };

    private static async Task<NexmarkGeneratorRun> RunToEnd(ProducerRunOptions o, INexmarkPayloadSourceFactory? f = null)
    {
        var run = await NexmarkGeneratorRun.StartAsync(o, f ?? new SyntheticPayloadSourceFactory(), null, CancellationToken.None);
        await run.WaitAsync(CancellationToken.None).WaitAsync(HangBound);
        return run;
    }

    [Theory]
    [InlineData(false, true)]
    [InlineData(true, true)]
    [InlineData(false, false)]
    public async Task Unthrottled_SpreadsEventsExactly_OverAllPartitions_AndAccountsForEach(bool pipelined, bool native)
    {
        using var c = EmbeddedKafkaCluster.Start(3);
        c.CreateTopic("spread", 7, 3);
        const long n = 20_003;
        var o = Options(c, "spread", 0, n);
        o.PipelineGeneration = pipelined;
        o.NativeClient = native;
        var run = await RunToEnd(o);
        Assert.Equal(native ? "librdkafka" : "Confluent.Kafka", run.Client);

        Assert.Equal("Completed", run.State);
        Assert.True(run.Valid, run.InvalidReason);
        Assert.Equal("", run.Error);
        Assert.Equal((n, n, 0L), (run.Sent, run.Acknowledged, run.Failed));
        Assert.Equal(7, run.Partitions);
        // the automatic block for 20,003 unthrottled events on 7 partitions: 20,003 / (64 x 7) = 44 events per turn
        Assert.Equal(44, run.PartitionBlock);
        var expected = ExpectedSpread(n, 7, run.PartitionBlock);
        Assert.Equal(expected, run.GetSentPerPartition());
        Assert.Equal(expected, run.GetAcknowledgedPerPartition());
        Assert.Equal(string.Join(" ", expected.Select((v, p) => $"{p}:{v}")), run.PartitionCounts);

        // what the broker holds: the mock keeps <= 100k message sets per partition, so read watermarks, not messages
        var marks = KafkaTopicAdmin.QueryWatermarks(c.BootstrapServers, "spread", 7, TimeSpan.FromSeconds(10));
        Assert.All(marks, m => Assert.Equal(0, m.Low));
        Assert.Equal(expected, marks.Select(m => m.High).ToArray());
    }

    private static long[] ExpectedSpread(long n, int partitions, int block)
    {
        var counts = new long[partitions];
        for (long i = 0; i < n; i++) counts[i / block % partitions]++;
        return counts;
    }

    [Theory]
    [InlineData(0, 10, 5, 1)]           // 10 unthrottled events on 5 partitions: round robin
    [InlineData(0, 20_003, 7, 44)]      // every partition still gets 64 turns
    [InlineData(0, 500_000, 9, 64)]     // at most 64
    [InlineData(3_000, 10_000_000, 9, 1)]   // paced below 20,000 events/s: strict round robin
    [InlineData(100_000, 10_000_000, 9, 10)] // a tenth of a millisecond of the schedule per turn
    [InlineData(5_000_000, 10_000_000, 9, 64)]
    public void AutoPartitionBlock_GrowsWithTheRate_WithinBounds(double rate, long total, int partitions, int block) =>
        Assert.Equal(block, ProducerRunOptions.AutoPartitionBlock(rate, total, partitions));

    [Fact]
    public async Task PartitionBlockOne_IsStrictRoundRobin_AndNegativeIsRejected()
    {
        using var c = EmbeddedKafkaCluster.Start(1);
        c.CreateTopic("rr", 3, 1);
        var o = Options(c, "rr", 0, 9_001);
        o.PartitionBlock = 1;
        var run = await RunToEnd(o);
        Assert.Equal(1, run.PartitionBlock);
        Assert.Equal(new long[] { 3_001, 3_000, 3_000 }, run.GetAcknowledgedPerPartition());
        o.PartitionBlock = -1;
        var ex = await Assert.ThrowsAsync<PiBenchException>(() => NexmarkGeneratorRun.StartAsync(o, new SyntheticPayloadSourceFactory(), null, CancellationToken.None));
        Assert.Equal("InvalidPartitionBlock", ex.ErrorId);
    }

    [Fact]
    public async Task PartitionBlocks_SpreadWholeBlocksInTurn()
    {
        using var c = EmbeddedKafkaCluster.Start(1);
        c.CreateTopic("blocks", 3, 1);
        var o = Options(c, "blocks", 0, 10_000);
        o.PartitionBlock = 1_000; // blocks 0..9 go to partitions 0,1,2,0,1,2,0,1,2,0
        var run = await RunToEnd(o);
        Assert.Equal(new long[] { 4_000, 3_000, 3_000 }, run.GetAcknowledgedPerPartition());
        var marks = KafkaTopicAdmin.QueryWatermarks(c.BootstrapServers, "blocks", 3, TimeSpan.FromSeconds(10));
        Assert.Equal(new long[] { 4_000, 3_000, 3_000 }, marks.Select(m => m.High - m.Low).ToArray());
    }

    [Fact]
    public async Task Paced_NeverRunsAheadOfSchedule_AndReportsLag()
    {
        using var c = EmbeddedKafkaCluster.Start(1);
        c.CreateTopic("paced", 3, 1);
        var sw = Stopwatch.StartNew();
        var run = await RunToEnd(Options(c, "paced", 20_000, 20_000));
        sw.Stop();

        Assert.Equal(run.Sent, run.Acknowledged + run.Failed);
        Assert.Equal(20_000, run.Sent);
        // open loop: event i is never sent before start + i/rate, so the run cannot beat the schedule
        Assert.True(run.AchievedRate <= 20_000 * 1.001, $"achieved {run.AchievedRate}");
        Assert.True(sw.Elapsed >= TimeSpan.FromSeconds(0.999 * 19_999 / 20_000.0), $"finished in {sw.Elapsed}");
        Assert.True(run.MaxScheduleLagMs >= run.ScheduleLagP99Ms && run.ScheduleLagP99Ms > 0);
        Assert.Equal(run.Valid, run.State == "Completed");
        Assert.Contains(run.State, new[] { "Completed", "FellBehind" });
        if (!run.Valid) Assert.NotEqual("", run.InvalidReason);
    }

    [Fact]
    public async Task AfterAStall_CatchesUpNoFasterThanTheLimit_AndIsMarkedFellBehind()
    {
        using var c = EmbeddedKafkaCluster.Start(1);
        c.CreateTopic("stall", 2, 1);
        const int rate = 10_000, total = 10_000;
        var f = new StallingSourceFactory(stallAt: 2_000, stallMs: 400, capacity: total);
        var o = Options(c, "stall", rate, total);
        o.CatchUpFactor = 2;
        var run = await RunToEnd(o, f);

        Assert.Equal((10_000L, 10_000L, 0L), (run.Sent, run.Acknowledged, run.Failed));
        Assert.Equal("FellBehind", run.State);
        Assert.False(run.Valid);
        Assert.Contains("schedule lag", run.InvalidReason);
        Assert.True(run.MaxScheduleLagMs >= 350, $"max lag {run.MaxScheduleLagMs}");

        // after the stall, any 50 ms window holds at most 2 x rate x 50 ms plus the 64-event bucket (+ timer slack)
        var t = f.TakenAt.Skip(2_001).Select(x => x / (double)Stopwatch.Frequency).ToArray();
        var window = 0.050;
        var limit = 2 * rate * window + 64 + 0.2 * rate * window;
        int j = 0, worst = 0;
        for (int k = 0; k < t.Length; k++)
        {
            while (t[k] - t[j] > window) j++;
            worst = Math.Max(worst, k - j + 1);
        }
        Assert.True(worst <= limit, $"{worst} events in {window * 1000} ms after the stall; limit {limit}");
        Assert.True(worst > 1.3 * rate * window, $"it did catch up ({worst} events in 50 ms)");
    }

    [Fact]
    public async Task BrokerGoingAway_EndsTheRun_WithAnError_AndTruthfulCounts()
    {
        using var c = EmbeddedKafkaCluster.Start(1);
        c.CreateTopic("fault", 3, 1);
        var run = await NexmarkGeneratorRun.StartAsync(Options(c, "fault", 20_000, 2_000_000), new SyntheticPayloadSourceFactory(), null, CancellationToken.None);
        var until = Stopwatch.StartNew();
        while (run.Acknowledged < 5_000 && until.Elapsed < HangBound) await Task.Delay(20);
        c.SetBrokerDown(-1);
        await run.WaitAsync(CancellationToken.None).WaitAsync(HangBound);

        Assert.Equal("Failed", run.State);
        Assert.False(run.Valid);
        Assert.NotEqual("", run.Error);
        Assert.Contains(run.ErrorId, new[] { "KafkaBrokerUnavailable", "KafkaAcknowledgementTimeout", "KafkaDeliveryTimeout", "KafkaDeliveryFailed" });
        Assert.True(run.Acknowledged >= 5_000);
        Assert.True(run.Sent < 2_000_000);
        Assert.Equal(run.Sent, run.Acknowledged + run.Failed);
        Assert.Equal(0, run.Pending);
        Assert.NotNull(run.GetError());
        Assert.Equal(run.Sent, run.GetSentPerPartition().Sum());
    }

    [Fact]
    public async Task DeliveryFailure_EndsTheRun_WithKafkaDeliveryFailed()
    {
        using var c = EmbeddedKafkaCluster.Start(1);
        c.CreateTopic("refused", 2, 1);
        var run = await NexmarkGeneratorRun.StartAsync(Options(c, "refused", 10_000, 1_000_000), new SyntheticPayloadSourceFactory(), null, CancellationToken.None);
        var until = Stopwatch.StartNew();
        while (run.Acknowledged < 1_000 && until.Elapsed < HangBound) await Task.Delay(20);
        c.PushRequestErrors(RdKafkaNative.ApiKeyProduce, Enumerable.Repeat(ErrorCode.TopicAuthorizationFailed, 20).ToArray());
        await run.WaitAsync(CancellationToken.None).WaitAsync(HangBound);

        Assert.Equal("Failed", run.State);
        Assert.True(run.ErrorId == "KafkaDeliveryFailed", run.ErrorId + ": " + run.Error);
        Assert.Contains("TopicAuthorizationFailed", run.Error);
        Assert.True(run.Failed >= 1);
        Assert.Equal(run.Sent, run.Acknowledged + run.Failed);
        Assert.True(run.Sent < 1_000_000);
    }

    [Fact]
    public async Task Stop_EndsPromptly_WithCountsThatAddUp()
    {
        using var c = EmbeddedKafkaCluster.Start(1);
        c.CreateTopic("stop", 3, 1);
        var run = await NexmarkGeneratorRun.StartAsync(Options(c, "stop", 10_000, 10_000_000), new SyntheticPayloadSourceFactory(), null, CancellationToken.None);
        var until = Stopwatch.StartNew();
        while (run.Sent < 2_000 && until.Elapsed < HangBound) await Task.Delay(10);
        var sw = Stopwatch.StartNew();
        await run.StopAsync(CancellationToken.None);
        sw.Stop();

        Assert.True(run.IsFinished);
        Assert.Equal("Stopped", run.State);
        Assert.False(run.Valid);
        Assert.Equal("", run.Error);
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(10), $"stop took {sw.Elapsed}");
        Assert.Equal(run.Sent, run.Acknowledged + run.Failed);
        Assert.InRange(run.Sent, 2_000, 9_999_999);
        Assert.Contains(run, NexmarkGeneratorRun.All);
    }

    [Fact]
    public async Task MissingTopic_IsKafkaTopicMissing()
    {
        using var c = EmbeddedKafkaCluster.Start(1);
        var ex = await Assert.ThrowsAsync<PiBenchException>(() =>
            NexmarkGeneratorRun.StartAsync(Options(c, "nope", 1000, 10), new SyntheticPayloadSourceFactory(), null, CancellationToken.None));
        Assert.Equal("KafkaTopicMissing", ex.ErrorId);
        Assert.Equal(PiBenchErrorCategory.ObjectNotFound, ex.Category);
        // the producer asked for the topic's metadata itself: asking must not have created it (a broker, like the
        // mock, creates a topic a producer asks for unless the request says otherwise)
        using var admin = c.CreateTopicAdmin();
        Assert.Null(await admin.DescribeTopicAsync("nope", CancellationToken.None));
    }

    [Fact]
    public async Task PartitionTurns_SentAsBatches_KeepEveryPartitionsOrder_AndTheCounts_WhenTheQueueIsFull()
    {
        // a client queue of 50 messages and turns of 64: every turn meets a full queue part-way and sends the rest
        // after delivery reports have freed space (rd_kafka_produce_batch accepts a prefix)
        using var c = EmbeddedKafkaCluster.Start(1);
        c.CreateTopic("turns", 3, 1);
        const long n = 5_003;
        var o = Options(c, "turns", 0, n);
        o.PartitionBlock = 64;
        o.QueueBufferingMaxMessages = 50;
        var run = await RunToEnd(o);
        Assert.Equal("Completed", run.State);
        Assert.Equal((n, n, 0L), (run.Sent, run.Acknowledged, run.Failed));
        var expected = ExpectedSpread(n, 3, 64);
        Assert.Equal(expected, run.GetSentPerPartition());

        using var consumer = new ConsumerBuilder<Ignore, string>(new ConsumerConfig
        {
            BootstrapServers = c.BootstrapServers, GroupId = "turns-check", EnableAutoCommit = false,
        }).Build();
        for (var p = 0; p < 3; p++)
        {
            consumer.Assign(new TopicPartitionOffset("turns", p, Offset.Beginning));
            var seqs = new List<long>();
            var until = Stopwatch.StartNew();
            while (seqs.Count < expected[p] && until.Elapsed < HangBound)
            {
                var r = consumer.Consume(TimeSpan.FromMilliseconds(200));
                if (r?.Message is null) continue;
                using var doc = System.Text.Json.JsonDocument.Parse(r.Message.Value);
                seqs.Add(doc.RootElement.GetProperty("seq").GetInt64());
            }
            var want = Enumerable.Range(0, (int)n).Select(i => (long)i).Where(i => i / 64 % 3 == p).ToList();
            Assert.Equal(want, seqs);
        }
    }

    [Fact]
    public async Task Start_ReturnsWithTheProducerIdAssigned_SoTheScheduleStartsWhenEventsCanBeDelivered()
    {
        // librdkafka 2.16 asks for the idempotent producer id only once a learned broker is up and otherwise retries on a
        // 500 ms timer: without the metadata kick the id comes half a second after the producer is created
        using var c = EmbeddedKafkaCluster.Start(1);
        c.CreateTopic("ready", 3, 1);
        var run = await NexmarkGeneratorRun.StartAsync(Options(c, "ready", 1000, 10), new SyntheticPayloadSourceFactory(), null, CancellationToken.None);
        Assert.Equal("librdkafka", run.Client);
        Assert.True(run.ProducerIdAssigned);
        await run.WaitAsync(CancellationToken.None).WaitAsync(HangBound);
        Assert.Equal("Completed", run.State);
    }

    [Fact]
    public async Task Capacity_NamesABottleneck_AndOrdersTheRates()
    {
        var cap = await GeneratorCapacity.MeasureAsync(new SyntheticPayloadSourceFactory(), 50_000, 3, null, CancellationToken.None);
        Assert.Equal(50_000, cap.Events);
        Assert.Contains(cap.Bottleneck, new[] { "Generation", "Serialization", "Produce" });
        Assert.True(cap.GenerationRate > 0 && cap.SerializationRate > 0 && cap.ProduceRate > 0);
        // per-core rates from the thread's CPU time (Linux), never below the same work per wall second
        Assert.Contains("CLOCK_THREAD_CPUTIME_ID", cap.Method);
        Assert.True(cap.SerializationRate >= cap.SerializationWallRate * 0.99, $"{cap.SerializationRate} < {cap.SerializationWallRate}");
        Assert.True(cap.ProduceCpuNsPerEvent > 0);
        // the tests run a Debug build: the result must say so, since its rates are far below a Release build's
        var debug = typeof(GeneratorCapacity).Assembly.GetCustomAttributes(typeof(DebuggableAttribute), false)
            .Cast<DebuggableAttribute>().Any(d => d.IsJITOptimizerDisabled);
        Assert.Equal(debug, cap.Note.Contains("Debug build", StringComparison.Ordinal));
        Assert.Contains(debug ? "Debug (JIT optimiser disabled)" : "optimised (Release)", cap.Runtime);
        Assert.Equal(cap.ProduceRate, cap.SustainableRate);
        Assert.InRange(cap.MeanEventBytes, 150, 250);
    }
}
