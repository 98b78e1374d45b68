using Xunit;
using System.Buffers;
using System.Text;
using System.Text.Json;
using PiBench.Core.Nexmark;

namespace PiBench.Core.Tests.Nexmark;

public sealed class NexmarkJsonTests
{
    [Fact]
    public void KafkaShape_HasAllFourKeys_AndParses()
    {
        var g = new NexmarkGenerator(NexmarkVectors.Config(NexmarkProfile.Flink));
        var seen = new HashSet<NexmarkEventType>();
        for (int i = 0; i < 200; i++)
        {
            var ev = g.Next();
            using var doc = JsonDocument.Parse(NexmarkJson.ToJsonString(ev));
            var root = doc.RootElement;
            Assert.Equal(["event_type", "person", "auction", "bid"], root.EnumerateObject().Select(p => p.Name));
            Assert.Equal((int)ev.EventType, root.GetProperty("event_type").GetInt32());
            var present = new[] { "person", "auction", "bid" }.Where(k => root.GetProperty(k).ValueKind != JsonValueKind.Null).ToList();
            Assert.Equal(ev.EventType.ToString().ToLowerInvariant(), Assert.Single(present));
            seen.Add(ev.EventType);
        }
        Assert.Equal(3, seen.Count);
    }

    [Fact]
    public void BeamBids_HaveNoChannelOrUrl_InBothShapes()
    {
        var g = new NexmarkGenerator(NexmarkVectors.Config(NexmarkProfile.Beam));
        var bid = Enumerable.Range(0, 10).Select(_ => g.Next()).First(e => e.Bid is not null);
        Assert.Null(bid.Bid!.Channel);
        foreach (var shape in new[] { NexmarkJsonShape.Kafka, NexmarkJsonShape.Vector })
        {
            using var doc = JsonDocument.Parse(NexmarkJson.ToJsonString(bid, shape));
            Assert.Equal(["auction", "bidder", "price", "dateTime", "extra"], doc.RootElement.GetProperty("bid").EnumerateObject().Select(p => p.Name));
        }
    }

    [Fact]
    public void Escaping_OnlyBackslashAndQuote_BackquoteVerbatim()
    {
        // The pool alphabet is 'H'..'z': it contains the backquote and the backslash.
        var g = new NexmarkGenerator(NexmarkVectors.Config(NexmarkProfile.Flink));
        var sawBackquote = false; var sawBackslash = false;
        for (int i = 0; i < 100; i++)
        {
            var ev = g.Next();
            var json = NexmarkJson.ToJsonString(ev);
            var extra = (ev.Person?.Extra ?? ev.Auction?.Extra ?? ev.Bid!.Extra);
            Assert.Contains("\"extra\":\"" + extra.Replace("\\", "\\\\") + "\"", json);
            Assert.DoesNotContain("\\u", json);
            sawBackquote |= extra.Contains('`');
            sawBackslash |= extra.Contains('\\');
        }
        Assert.True(sawBackquote && sawBackslash);
    }

    [Fact]
    public void Writer_IsReusable_AndAppendsToCallerBuffers()
    {
        var g = new NexmarkGenerator(NexmarkVectors.Config(NexmarkProfile.Flink));
        var writer = new NexmarkJsonWriter(NexmarkJsonShape.Kafka, initialCapacity: 16);
        var a = g.Next(); var b = g.Next();
        var first = writer.SerializeToArray(a);
        var second = Encoding.UTF8.GetString(writer.Serialize(b).Span);
        Assert.Equal(NexmarkJson.ToJsonString(a), Encoding.UTF8.GetString(first));
        Assert.Equal(NexmarkJson.ToJsonString(b), second);

        var buffer = new ArrayBufferWriter<byte>();
        NexmarkJson.WriteKafka(a, buffer);
        buffer.Write("\n"u8);
        NexmarkJson.WriteVector(b, buffer);
        Assert.Equal(NexmarkJson.ToJsonString(a) + "\n" + NexmarkJson.ToJsonString(b, NexmarkJsonShape.Vector), Encoding.UTF8.GetString(buffer.WrittenSpan));
    }

    [Fact]
    public void ConcurrentWriters_DoNotInterfere()
    {
        var expected = NexmarkVectors.Bytes(NexmarkVectors.FlinkKafka);
        Parallel.For(0, 4, _ =>
        {
            var actual = NexmarkVectors.Generate(NexmarkVectors.Config(NexmarkProfile.Flink), 100, NexmarkJsonShape.Kafka);
            Assert.Equal(expected, actual);
        });
    }
}
