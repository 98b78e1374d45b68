using System.Buffers;
using System.Text;
using PiBench.Core.Kafka;
using PiBench.Core.Nexmark;
using Xunit;

namespace PiBench.Core.Tests.Kafka;

public sealed class NexmarkPayloadSourceTests
{
    private static List<string> Drain(INexmarkPayloadSource s, int max)
    {
        var list = new List<string>();
        var buf = new ArrayBufferWriter<byte>();
        while (list.Count < max)
        {
            buf.ResetWrittenCount();
            if (!s.TryNext(buf, out _)) break;
            list.Add(Encoding.UTF8.GetString(buf.WrittenSpan));
        }
        return list;
    }

    [Fact]
    public void OneGenerator_GivesTheGeneratorsKafkaJson_InOrder_AndStopsAtTotal()
    {
        var f = NexmarkPayloadSources.Create(new NexmarkSourceSettings { Profile = "Flink", TotalEvents = 500, BaseTime = 1436918400000 });
        var got = Drain(f.Create(), 1000);
        Assert.Equal(500, got.Count);

        var g = new NexmarkGenerator(new NexmarkConfiguration { Profile = NexmarkProfile.Flink, NumEvents = 500, BaseTime = 1436918400000 });
        var expected = new List<string>();
        while (g.TryNext(out var ev)) expected.Add(NexmarkJson.ToJsonString(ev, NexmarkJsonShape.Kafka));
        Assert.Equal(expected, got);
        Assert.Contains("Seed=3", f.Description);
        Assert.Equal(500, f.GenerateOnly(10_000));
    }

    [Fact]
    public void ThreeGenerators_AreMergedRoundRobin_OverTheirSplits()
    {
        var f = NexmarkPayloadSources.Create(new NexmarkSourceSettings { Profile = "Beam", TotalEvents = 300, GeneratorCount = 3 });
        var got = Drain(f.Create(), 1000);
        Assert.Equal(300, got.Count);
        var splits = Enumerable.Range(0, 3).Select(i =>
        {
            var g = new NexmarkGenerator(new NexmarkConfiguration { Profile = NexmarkProfile.Beam, NumEvents = 300, GeneratorCount = 3, GeneratorIndex = i });
            var l = new List<string>();
            while (g.TryNext(out var ev)) l.Add(NexmarkJson.ToJsonString(ev, NexmarkJsonShape.Kafka));
            return l;
        }).ToArray();
        for (var k = 0; k < 300; k++) Assert.Equal(splits[k % 3][k / 3], got[k]);
    }

    [Fact]
    public void BadSettings_AreInvalidArgument()
    {
        Assert.Equal("InvalidGeneratorCount", Assert.Throws<PiBenchException>(() => NexmarkPayloadSources.Create(new NexmarkSourceSettings { GeneratorCount = 0 })).ErrorId);
        Assert.Equal("InvalidProfile", Assert.Throws<PiBenchException>(() => NexmarkPayloadSources.Create(new NexmarkSourceSettings { Profile = "Spark" })).ErrorId);
    }
}
