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

    [Theory]
    [InlineData(NexmarkProfile.Flink)]
    [InlineData(NexmarkProfile.Beam)]
    public void KafkaFastPath_WritesTheSameBytesAsUtf8JsonWriter(NexmarkProfile profile)
    {
        var g = new NexmarkGenerator(NexmarkVectors.Config(profile));
        var fast = new ArrayBufferWriter<byte>();
        var reference = new ArrayBufferWriter<byte>();
        for (int i = 0; i < 30_000; i++)
        {
            var ev = g.Next();
            fast.ResetWrittenCount(); reference.ResetWrittenCount();
            Assert.True(NexmarkKafkaJsonFast.TryWrite(ev, fast), $"event {i} left the fast path");
            NexmarkJson.WriteKafkaReference(ev, reference);
            if (!fast.WrittenSpan.SequenceEqual(reference.WrittenSpan))
                Assert.Equal(Encoding.UTF8.GetString(reference.WrittenSpan), Encoding.UTF8.GetString(fast.WrittenSpan));
        }
    }

    [Theory]
    [InlineData("plain ascii ~`", true)]
    [InlineData("quote \" and back\\slash", true)]
    [InlineData("tab\there", false)]
    [InlineData("del\u007f", false)]
    [InlineData("caf\u00e9 \u20ac", false)]
    [InlineData("", true)]
    public void KafkaFastPath_EscapesLikeTheRelaxedEncoder_OrDeclines(string text, bool fastPath)
    {
        var person = new Person(7, text, text, text, text, text, 1436918400123, new ExtraText(text));
        var ev = new NexmarkEvent(NexmarkProfile.Flink, 0, 0, 0, 0, NexmarkEventType.Person, 1436918400123, 0, 0, person, null, null);
        var bid = new NexmarkEvent(NexmarkProfile.Flink, 0, 0, 0, 0, NexmarkEventType.Bid, 1436918400000, 0, 0, null, null,
            new Bid(1, 2, 3, text, null, 1436918400000, new ExtraText(text)));
        foreach (var e in new[] { ev, bid })
        {
            var fast = new ArrayBufferWriter<byte>();
            var reference = new ArrayBufferWriter<byte>();
            Assert.Equal(fastPath, NexmarkKafkaJsonFast.TryWrite(e, fast));
            if (!fastPath) Assert.Equal(0, fast.WrittenCount); // nothing committed when it declines
            NexmarkJson.WriteKafkaReference(e, reference);
            var viaPublic = new ArrayBufferWriter<byte>();
            NexmarkJson.WriteKafka(e, viaPublic);
            Assert.Equal(Encoding.UTF8.GetString(reference.WrittenSpan), Encoding.UTF8.GetString(viaPublic.WrittenSpan));
            if (fastPath) Assert.Equal(Encoding.UTF8.GetString(reference.WrittenSpan), Encoding.UTF8.GetString(fast.WrittenSpan));
        }
    }

    [Theory]
    [InlineData(NexmarkDefaults.UrlSeed)]
    [InlineData(12345L)]
    public void ChannelTable_EverySlot_HoldsTheKafkaJsonOfItsChannelAndUrl(long urlSeed)
    {
        // every one of the 10,004 entries (a bid reaches a random one), not only those a short run happens to draw
        var table = NexmarkUrlTable.For(urlSeed);
        var slots = table.ChannelJson!;
        var names = NexmarkWords.HotChannels.Concat(table.ChannelNames).ToArray();
        var urls = table.HotUrls.Concat(table.ChannelUrls).ToArray();
        var relaxed = new JsonSerializerOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
        var longest = 0;
        for (var e = 0; e < names.Length; e++)
        {
            var expected = ",\"channel\":" + JsonSerializer.Serialize(names[e], relaxed) + ",\"url\":" + JsonSerializer.Serialize(urls[e], relaxed);
            Assert.Equal(expected, Encoding.ASCII.GetString(slots[e]));
            longest = Math.Max(longest, expected.Length);
        }
        Assert.Equal(names.Length * slots.Stride, slots.Bytes.Length);
        Assert.True(slots.Stride >= longest + 2 && slots.Stride % 16 == 0, $"stride {slots.Stride} for entries up to {longest} bytes");
    }

    [Fact]
    public void ChannelSlots_KeepEachEntrysExactBytes_AndRefuseOneLongerThanItsLengthField()
    {
        var entries = new[] { Array.Empty<byte>(), "a"u8.ToArray(), Enumerable.Range(0, 300).Select(i => (byte)('a' + i % 26)).ToArray(), "\\\""u8.ToArray() };
        var slots = new ChannelJsonSlots(entries);
        for (var e = 0; e < entries.Length; e++) Assert.Equal(entries[e], slots[e].ToArray());
        Assert.Equal(304, slots.Stride);
        Assert.Throws<ArgumentException>(() => new ChannelJsonSlots(new[] { new byte[ushort.MaxValue + 1] }));
    }
}
