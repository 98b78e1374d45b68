using Xunit;
using System.Security.Cryptography;
using System.Text.Json;
using PiBench.Core.Nexmark;

namespace PiBench.Core.Tests.Nexmark;

/// <summary>Every deterministic reference vector, byte for byte; the unmodified sample on its RNG-independent fields.</summary>
public sealed class NexmarkVectorTests
{
    [Theory]
    [InlineData(NexmarkVectors.FlinkSeeded, "4318e222557f9a1c6e98f84aba0c98ebb75dcf55d1de0d1d97eb5c651236d427")]
    [InlineData(NexmarkVectors.FlinkKafka, "992f6029da95c7a3c4b1b02bcc49c7ac5ae7fbf196dc24a920646e3d9450782a")]
    [InlineData(NexmarkVectors.Beam, "f186b7255a817181364050042e8e155d1c639cc95d67ab64ae681c9764915411")]
    [InlineData(NexmarkVectors.FlinkUnmodified, "b4fa3a8410801bfa65c43e4aa7f299482b5a9b0638c058686755687d8e6a3c44")]
    public void VectorFiles_AreThePublishedOnes(string file, string sha256)
    {
        // Guards against a silently edited or truncated vector folder (values from the vectors README).
        Assert.Equal(sha256, Convert.ToHexStringLower(SHA256.HashData(NexmarkVectors.Bytes(file))));
    }

    [Fact]
    public void FlinkSeeded_First2000_ByteForByte()
    {
        var expected = NexmarkVectors.Bytes(NexmarkVectors.FlinkSeeded);
        var actual = NexmarkVectors.Generate(NexmarkVectors.Config(NexmarkProfile.Flink), 2000, NexmarkJsonShape.Vector);
        NexmarkVectors.AssertSameBytes(expected, actual, NexmarkVectors.FlinkSeeded);
    }

    [Fact]
    public void FlinkSeeded_KafkaShape_First100_ByteForByte()
    {
        var expected = NexmarkVectors.Bytes(NexmarkVectors.FlinkKafka);
        var actual = NexmarkVectors.Generate(NexmarkVectors.Config(NexmarkProfile.Flink), 100, NexmarkJsonShape.Kafka);
        NexmarkVectors.AssertSameBytes(expected, actual, NexmarkVectors.FlinkKafka);
    }

    [Fact]
    public void Beam_First2000_ByteForByte()
    {
        var expected = NexmarkVectors.Bytes(NexmarkVectors.Beam);
        var actual = NexmarkVectors.Generate(NexmarkVectors.Config(NexmarkProfile.Beam), 2000, NexmarkJsonShape.Vector);
        NexmarkVectors.AssertSameBytes(expected, actual, NexmarkVectors.Beam);
    }

    [Fact]
    public void Defaults_WithVectorBaseTime_ReproduceTheVectors()
    {
        // The documented default seeds and profile defaults are the vectors' configuration.
        var flink = new NexmarkConfiguration { BaseTime = NexmarkDefaults.BeamBaseTime };
        NexmarkVectors.AssertSameBytes(NexmarkVectors.Bytes(NexmarkVectors.FlinkSeeded),
            NexmarkVectors.Generate(flink, 2000, NexmarkJsonShape.Vector), NexmarkVectors.FlinkSeeded);
        var beam = new NexmarkConfiguration { Profile = NexmarkProfile.Beam };
        NexmarkVectors.AssertSameBytes(NexmarkVectors.Bytes(NexmarkVectors.Beam),
            NexmarkVectors.Generate(beam, 2000, NexmarkJsonShape.Vector), NexmarkVectors.Beam);
    }

    [Fact]
    public void UnmodifiedSample_RandomIndependentFields_Match()
    {
        var sample = NexmarkVectors.Lines(NexmarkVectors.FlinkUnmodified);
        Assert.Equal(2000, sample.Length);
        // Any seeds: the RNG-independent fields must not depend on them.
        var config = NexmarkVectors.Config(NexmarkProfile.Flink);
        config.GeneratorSeed = 987654321; config.UrlSeed = -7; config.ExtraSeed = 123;
        var ours = System.Text.Encoding.UTF8.GetString(NexmarkVectors.Generate(config, 2000, NexmarkJsonShape.Vector)).TrimEnd('\n').Split('\n');

        int compared = 0;
        for (int i = 0; i < sample.Length; i++)
        {
            using var s = JsonDocument.Parse(sample[i]);
            using var o = JsonDocument.Parse(ours[i]);
            var sr = s.RootElement; var or = o.RootElement;
            Assert.Equal(Names(sr), Names(or));
            foreach (var key in new[] { "index", "eventNumber", "adjustedEventNumber", "eventId", "type", "eventType", "eventTimestamp", "watermark" })
            {
                Assert.Equal(sr.GetProperty(key).GetRawText(), or.GetProperty(key).GetRawText());
                compared++;
            }
            var entityName = Names(sr).Last();
            var se = sr.GetProperty(entityName); var oe = or.GetProperty(entityName);
            Assert.Equal(Names(se), Names(oe)); // key set and order of the entity
            Assert.Equal(se.GetProperty("dateTime").GetInt64(), oe.GetProperty("dateTime").GetInt64());
            if (entityName is "person" or "auction") Assert.Equal(se.GetProperty("id").GetInt64(), oe.GetProperty("id").GetInt64());
            // The random fields are a sample of real output: they must satisfy the same plausibility rules as ours.
            NexmarkPlausibility.Check(entityName, se, sr.GetProperty("eventId").GetInt64());
            NexmarkPlausibility.Check(entityName, oe, or.GetProperty("eventId").GetInt64());
        }
        Assert.Equal(2000 * 8, compared);
    }

    private static List<string> Names(JsonElement e) => e.EnumerateObject().Select(p => p.Name).ToList();
}

/// <summary>Value ranges and alphabets of the random fields (default configuration, Flink profile ids).</summary>
internal static class NexmarkPlausibility
{
    private static readonly System.Text.RegularExpressions.Regex Email = new(@"^[a-z ]{0,6}@[a-z ]{0,4}\.com$");
    private static readonly System.Text.RegularExpressions.Regex Card = new(@"^\d{4} \d{4} \d{4} \d{4}$");
    private static readonly System.Text.RegularExpressions.Regex Url =
        new(@"^https://www\.nexmark\.com/[a-z_]{3,4}/[a-z_]{3,4}/[a-z_]{3,4}/item\.htm\?query=1(&channel_id=-?\d+)?$");
    private static readonly System.Text.RegularExpressions.Regex Channel = new(@"^(Google|Facebook|Baidu|Apple|channel-\d{1,4})$");

    /// <summary>Spec 6.4: want - delta .. want + delta - 1 characters.</summary>
    private static void ExtraLength(int length, int size, int average)
    {
        if (size > average) { Assert.Equal(0, length); return; }
        int want = average - size, delta = (int)Math.Round(want * 0.2, MidpointRounding.AwayFromZero);
        Assert.InRange(length, want - delta, Math.Max(want - delta, want + delta - 1));
    }

    public static void Check(string entity, JsonElement e, long eventId)
    {
        var extra = e.GetProperty("extra").GetString()!;
        Assert.All(extra, c => Assert.InRange(c, 'H', 'z'));
        switch (entity)
        {
            case "person":
                Assert.Matches(Email, e.GetProperty("emailAddress").GetString()!);
                Assert.Matches(Card, e.GetProperty("creditCard").GetString()!);
                Assert.Contains(e.GetProperty("state").GetString(), new[] { "AZ", "CA", "ID", "OR", "WA", "WY" });
                ExtraLength(extra.Length, 8 + new[] { "name", "emailAddress", "creditCard", "city", "state" }.Sum(k => e.GetProperty(k).GetString()!.Length), 200);
                break;
            case "auction":
                Assert.InRange(e.GetProperty("initialBid").GetInt64(), 100, 100_000_000);
                Assert.InRange(e.GetProperty("reserve").GetInt64() - e.GetProperty("initialBid").GetInt64(), 100, 100_000_000);
                Assert.InRange(e.GetProperty("category").GetInt64(), 10, 14);
                Assert.InRange(e.GetProperty("expires").GetInt64() - e.GetProperty("dateTime").GetInt64(), 1, 400);
                Assert.InRange(e.GetProperty("itemName").GetString()!.Length, 0, 19);
                Assert.InRange(e.GetProperty("description").GetString()!.Length, 0, 99);
                Assert.InRange(e.GetProperty("seller").GetInt64(), 1000, 1000 + eventId / 50 + 10);
                ExtraLength(extra.Length, 8 + e.GetProperty("itemName").GetString()!.Length + e.GetProperty("description").GetString()!.Length + 40, 500);
                break;
            case "bid":
                Assert.InRange(e.GetProperty("price").GetInt64(), 100, 100_000_000);
                Assert.Matches(Url, e.GetProperty("url").GetString()!);
                Assert.Matches(Channel, e.GetProperty("channel").GetString()!);
                Assert.InRange(e.GetProperty("auction").GetInt64(), 1000, 1000 + eventId / 50 * 3 + 2 + 10);
                Assert.InRange(e.GetProperty("bidder").GetInt64(), 2000, 2000 + eventId / 50 + 10);
                Assert.InRange(extra.Length, 54, 81);
                break;
        }
    }
}
