using Xunit;
using PiBench.Core.Kafka;

namespace PiBench.Core.Tests.Kafka;

[Collection("kafka")]
public sealed class EmbeddedKafkaClusterTests
{
    [Fact]
    public async Task Start_ListsBrokers_AndCreatesTopicNatively()
    {
        using var cluster = EmbeddedKafkaCluster.Start(3);
        Assert.Equal(3, cluster.BrokerCount);
        Assert.Equal(3, cluster.BootstrapServers.Split(',').Length);
        Assert.All(cluster.BootstrapServers.Split(','), b => Assert.StartsWith("127.0.0.1:", b));
        Assert.Same(cluster, EmbeddedKafkaCluster.Find(cluster.BootstrapServers.Split(',')[1]));
        Assert.Contains(cluster, EmbeddedKafkaCluster.Running);

        cluster.CreateTopic("events", 9, 3);
        using var admin = KafkaTopicAdmin.Open(cluster.BootstrapServers);
        Assert.True(admin.IsEmbedded);
        var d = await admin.DescribeTopicAsync("events", CancellationToken.None);
        Assert.NotNull(d);
        Assert.Equal(9, d!.Partitions);
        Assert.Equal(3, d.ReplicationFactor);
        Assert.Null(await admin.DescribeTopicAsync("absent", CancellationToken.None));
        Assert.Contains("rdkafka", RdKafkaNative.LibraryPath);

        var dup = Assert.Throws<PiBenchException>(() => cluster.CreateTopic("events", 9, 3));
        Assert.Equal("KafkaTopicExists", dup.ErrorId);
        Assert.True(cluster.DeleteTopic("events"));
        Assert.False(cluster.DeleteTopic("events"));
    }

    [Fact]
    public void Dispose_StopsTheCluster_AndUnregistersIt()
    {
        var cluster = EmbeddedKafkaCluster.Start(1);
        var bootstrap = cluster.BootstrapServers;
        cluster.Dispose();
        cluster.Dispose(); // twice is fine
        Assert.Equal("Stopped", cluster.State);
        Assert.Null(EmbeddedKafkaCluster.Find(bootstrap));
        Assert.Equal("KafkaEmbeddedStopped", Assert.Throws<PiBenchException>(() => cluster.CreateTopic("t", 1)).ErrorId);
    }

    [Fact]
    public async Task TopicPlan_CreatesKeepsRejectsMismatch_AndForceRecreates()
    {
        using var cluster = EmbeddedKafkaCluster.Start(1);
        using var admin = KafkaTopicAdmin.Open(cluster.BootstrapServers);
        var ct = CancellationToken.None;

        var plan = KafkaTopicAdmin.Plan(await admin.DescribeTopicAsync("nexmark", ct), "nexmark", 9, force: false);
        Assert.Equal(KafkaTopicAction.Create, plan);
        var created = await KafkaTopicAdmin.ApplyAsync(admin, "nexmark", 9, 1, plan, ct);
        Assert.Equal(("Created", 9), (created.Action, created.Partitions));

        plan = KafkaTopicAdmin.Plan(await admin.DescribeTopicAsync("nexmark", ct), "nexmark", 9, force: false);
        Assert.Equal(KafkaTopicAction.Keep, plan);
        Assert.Equal("Exists", (await KafkaTopicAdmin.ApplyAsync(admin, "nexmark", 9, 1, plan, ct)).Action);

        var existing = await admin.DescribeTopicAsync("nexmark", ct);
        var ex = Assert.Throws<PiBenchException>(() => KafkaTopicAdmin.Plan(existing, "nexmark", 4, force: false));
        Assert.Equal("KafkaTopicPartitionMismatch", ex.ErrorId);
        Assert.Equal(PiBenchErrorCategory.ResourceExists, ex.Category);
        Assert.Equal("nexmark", ex.TargetObject);

        plan = KafkaTopicAdmin.Plan(existing, "nexmark", 4, force: true);
        Assert.Equal(KafkaTopicAction.Recreate, plan);
        var re = await KafkaTopicAdmin.ApplyAsync(admin, "nexmark", 4, 1, plan, ct);
        Assert.Equal(("Recreated", 4), (re.Action, re.Partitions));
        Assert.Equal(4, (await admin.DescribeTopicAsync("nexmark", ct))!.Partitions);
    }

    [Fact]
    public async Task TopicSettings_GoOnTheCreateTopicsRequest_AndTheMockRecordsThem()
    {
        // What AdminClientTopicAdmin sends to a real broker.
        var spec = KafkaTopicAdmin.Specification("in", 9, 1, KafkaTopicAdmin.LogAppendTime);
        Assert.Equal(("in", 9, (short)1), (spec.Name, spec.NumPartitions, spec.ReplicationFactor));
        Assert.Equal("LogAppendTime", spec.Configs["message.timestamp.type"]);
        Assert.Null(KafkaTopicAdmin.Specification("plain", 1, 1, null).Configs);

        // The mock cannot apply topic settings; it keeps what was asked for.
        using var cluster = EmbeddedKafkaCluster.Start(1);
        using var admin = KafkaTopicAdmin.Open(cluster.BootstrapServers);
        await admin.CreateTopicAsync("in", 2, 1, CancellationToken.None, KafkaTopicAdmin.LogAppendTime);
        await admin.CreateTopicAsync("plain", 2, 1, CancellationToken.None);
        Assert.Equal("LogAppendTime", cluster.RequestedConfigs("in")["message.timestamp.type"]);
        Assert.Empty(cluster.RequestedConfigs("plain"));
        var t = await KafkaTopicAdmin.ApplyAsync(admin, "third", 1, 1, KafkaTopicAction.Create, CancellationToken.None, KafkaTopicAdmin.LogAppendTime);
        Assert.Equal("LogAppendTime", t.TimestampType);
    }
}
