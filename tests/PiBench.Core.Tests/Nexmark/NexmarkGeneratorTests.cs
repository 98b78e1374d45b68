using Xunit;
using PiBench.Core.Nexmark;

namespace PiBench.Core.Tests.Nexmark;

/// <summary>Numbering, splitting, skipping, configuration errors and the worked examples of spec 11.</summary>
public sealed class NexmarkGeneratorTests
{
    private static NexmarkConfiguration Flink() => NexmarkVectors.Config(NexmarkProfile.Flink);
    private static NexmarkConfiguration Beam() => NexmarkVectors.Config(NexmarkProfile.Beam);

    [Fact]
    public void WorkedExample_Flink_FirstAuctionAndBid()
    {
        var g = new NexmarkGenerator(Flink());
        var e0 = g.Next();
        Assert.Equal(NexmarkEventType.Auction, e0.EventType);
        Assert.Equal(2, e0.EventId);
        var a = e0.Auction!;
        Assert.Equal((1001L, 1000L, 10L, 476264L, 489022L, "emki"), (a.Id, a.Seller, a.Category, a.InitialBid, a.Reserve, a.ItemName));
        Assert.Equal(e0.EventTimestamp + 21, a.Expires);
        Assert.Equal(87, a.Description.Length);
        Assert.Equal(NexmarkExtraPool.For(1).Text.Substring(671021, 432), a.Extra);
        Assert.Null(e0.Person); Assert.Null(e0.Bid);

        g.Next();
        var bid = g.Next().Bid!;
        Assert.Equal((1012L, 2001L, 136L, "Google"), (bid.Auction, bid.Bidder, bid.Price, bid.Channel));
        Assert.Equal("https://www.nexmark.com/mgi/ze_/moks/item.htm?query=1", bid.Url);
        Assert.Equal(NexmarkExtraPool.For(1).Text.Substring(430580, 80), bid.Extra);
    }

    [Fact]
    public void WorkedExample_Beam_PeterJones()
    {
        var p = new NexmarkGenerator(Beam()).Next().Person!;
        Assert.Equal((1000L, "Peter Jones", "nhd@xcat.com", "7241 7320 9143 4888", "Portland", "WY"),
            (p.Id, p.Name, p.EmailAddress, p.CreditCard, p.City, p.State));
        Assert.Equal(156, p.Extra.Length);
        Assert.StartsWith("WN_HS_b", p.Extra);
    }

    [Fact]
    public void FlinkTypeSequence_AndFirstPerson()
    {
        var g = new NexmarkGenerator(Flink());
        var evs = Enumerable.Range(0, 50).Select(_ => g.Next()).ToList();
        Assert.Equal(NexmarkEventType.Auction, evs[1].EventType);
        Assert.All(evs.Skip(2).Take(46), e => Assert.Equal(NexmarkEventType.Bid, e.EventType));
        Assert.Equal(NexmarkEventType.Person, evs[48].EventType);
        Assert.Equal(50, evs[48].EventId);
        Assert.Equal(1001, evs[48].Person!.Id);
        Assert.Equal(1003, evs[49].Auction!.Id);
        Assert.Equal(NexmarkDefaults.BeamBaseTime + 5, evs[49].EventTimestamp);
    }

    [Theory]
    [InlineData(10000, 1, 100.0)]
    [InlineData(10000, 3, 300.0)]
    [InlineData(10000, 9, 900.0)]
    [InlineData(30000, 1, 33.333333333333336)]
    public void Delay_IsDoubleDivideThenMultiply(int rate, int generators, double expected)
    {
        var c = Flink(); c.FirstEventRate = rate; c.GeneratorCount = generators;
        Assert.Equal(expected, new NexmarkGenerator(c).InterEventDelayMicros);
    }

    [Fact]
    public void MaxEvents_Default_AndSplitIds_MatchSpec()
    {
        Assert.Equal(368934881474191L, new NexmarkGenerator(Flink()).Limit);
        var c = Flink(); c.GeneratorCount = 3; c.GeneratorIndex = 1;
        Assert.Equal(122978293824731L, new NexmarkGenerator(c).FirstEventId);
        c = Flink(); c.GeneratorCount = 9; c.GeneratorIndex = 5;
        Assert.Equal(204963823041216L, new NexmarkGenerator(c).FirstEventId);
        c = Flink(); c.NumEvents = 100_000_000; c.GeneratorCount = 8; c.GeneratorIndex = 7;
        var g = new NexmarkGenerator(c);
        Assert.Equal((87500001L, 12500000L), (g.FirstEventId, g.MaxEvents));
    }

    [Fact]
    public void Splits_ShareTimestamps_AndHaveDisjointIds()
    {
        var gens = Enumerable.Range(0, 3).Select(i =>
        {
            var c = Beam(); c.NumEvents = 3000; c.GeneratorCount = 3; c.GeneratorIndex = i;
            return new NexmarkGenerator(c);
        }).ToList();
        var streams = gens.Select(g => { var l = new List<NexmarkEvent>(); while (g.TryNext(out var e)) l.Add(e); return l; }).ToList();
        Assert.All(streams, s => Assert.Equal(1000, s.Count));
        for (int k = 0; k < 1000; k++)
        {
            Assert.Equal(streams[0][k].EventTimestamp, streams[1][k].EventTimestamp);
            Assert.Equal(streams[0][k].EventTimestamp, streams[2][k].EventTimestamp);
            Assert.Equal(NexmarkDefaults.BeamBaseTime + (long)(k * 300.0) / 1000, streams[0][k].EventTimestamp);
        }
        var ids = streams.SelectMany(s => s.Select(e => e.EventId)).ToList();
        Assert.Equal(3000, ids.Distinct().Count());
        Assert.Equal(Enumerable.Range(0, 3000).Select(i => (long)i), ids.Order());
        var personIds = streams.SelectMany(s => s.Where(e => e.Person is not null).Select(e => e.Person!.Id)).ToList();
        Assert.Equal(personIds.Count, personIds.Distinct().Count());
    }

    [Fact]
    public void StopAtEvent_SplitsLikeJava()
    {
        var c = Flink(); c.StopAtEvent = 100; c.GeneratorCount = 3;
        var limits = Enumerable.Range(0, 3).Select(i => { var x = c.Clone(); x.GeneratorIndex = i; return new NexmarkGenerator(x).Limit; }).ToList();
        Assert.Equal(new long[] { 33, 33, 34 }, limits);
        c = Flink(); c.StopAtEvent = 5;
        var g = new NexmarkGenerator(c);
        int n = 0; while (g.TryNext(out _)) n++;
        Assert.Equal(5, n);
        Assert.False(g.TryNext(out var none));
        Assert.Null(none);
        Assert.Throws<InvalidOperationException>(() => g.Next());
    }

    [Theory]
    [InlineData(NexmarkProfile.Flink)]
    [InlineData(NexmarkProfile.Beam)]
    public void Skip_GivesTheTailOfAnUninterruptedRun(NexmarkProfile profile)
    {
        var full = NexmarkVectors.Generate(NexmarkVectors.Config(profile), 1500, NexmarkJsonShape.Vector);
        var tailLines = System.Text.Encoding.UTF8.GetString(full).Split('\n').Skip(1000).Take(500);
        var g = new NexmarkGenerator(NexmarkVectors.Config(profile), eventsCountSoFar: 1000);
        Assert.Equal(1000, g.EventsCountSoFar);
        var ours = Enumerable.Range(0, 500).Select(_ => NexmarkJson.ToJsonString(g.Next(), NexmarkJsonShape.Vector));
        Assert.Equal(tailLines, ours);
    }

    [Fact]
    public void FlinkRandomState_Resumes()
    {
        var a = new NexmarkGenerator(Flink());
        for (int i = 0; i < 300; i++) a.Next();
        Assert.NotEqual(3, a.RandomState);
        var b = NexmarkGenerator.Resume(a.Configuration, a.EventsCountSoFar, a.RandomState);
        for (int i = 0; i < 200; i++)
            Assert.Equal(NexmarkJson.ToJsonString(a.Next(), NexmarkJsonShape.Vector), NexmarkJson.ToJsonString(b.Next(), NexmarkJsonShape.Vector));
        Assert.Equal("InvalidSkip", Assert.Throws<PiBenchException>(() => NexmarkGenerator.Resume(Flink(), -1, 0)).ErrorId);
        Assert.Equal(0, new NexmarkGenerator(Beam()).RandomState);
    }

    [Fact]
    public void OutOfOrderGroups_ArePermutations_WithGroupWatermarks()
    {
        var c = Beam(); c.OutOfOrderGroupSize = 10;
        var g = new NexmarkGenerator(c);
        var evs = Enumerable.Range(0, 1000).Select(_ => g.Next()).ToList();
        foreach (var group in evs.Chunk(10))
        {
            var baseNumber = group[0].EventNumber / 10 * 10;
            Assert.Equal(Enumerable.Range(0, 10).Select(i => baseNumber + i), group.Select(e => e.AdjustedEventNumber).Order());
            Assert.All(group, e => Assert.Equal(g.TimestampForNumber(baseNumber), e.Watermark));
            Assert.All(group, e => Assert.Equal(e.EventId, c.FirstEventId!.Value + e.AdjustedEventNumber));
            Assert.All(group, e => Assert.True(e.Watermark <= e.EventTimestamp));
        }
        Assert.Contains(evs, e => e.AdjustedEventNumber != e.EventNumber);
    }

    [Fact]
    public void WallclockOffsets_FollowEventNumbers()
    {
        var c = Flink(); c.FirstEventRate = 30000;
        var g = new NexmarkGenerator(c);
        for (int k = 0; k < 100; k++)
        {
            var e = g.Next();
            Assert.Equal((long)((k + 1) * (1_000_000.0 / 30000)), e.WallclockOffsetMicros);
            Assert.Equal(g.IntendedOffsetMicros(k), e.WallclockOffsetMicros);
            Assert.Equal(e.WallclockOffsetMicros / 1000, e.WallclockOffsetMs);
        }
    }

    [Fact]
    public void DefaultBaseTime_FlinkIsNow_BeamIsFixed()
    {
        var before = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var flink = new NexmarkGenerator(new NexmarkConfiguration());
        Assert.InRange(flink.BaseTime, before, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        Assert.Equal((1L, 1L), (flink.FirstEventId, flink.FirstEventNumber));
        var beam = new NexmarkGenerator(new NexmarkConfiguration { Profile = NexmarkProfile.Beam });
        Assert.Equal((NexmarkDefaults.BeamBaseTime, 0L, 0L), (beam.BaseTime, beam.FirstEventId, beam.FirstEventNumber));
    }

    public static TheoryData<string, Action<NexmarkConfiguration>> BadConfigs => new()
    {
        { "InvalidGeneratorCount", c => c.GeneratorCount = 0 },
        { "InvalidGeneratorIndex", c => { c.GeneratorCount = 3; c.GeneratorIndex = 3; } },
        { "InvalidGeneratorIndex", c => c.GeneratorIndex = -1 },
        { "InvalidNumEventGenerators", c => c.NumEventGenerators = 0 },
        { "InvalidNumEvents", c => c.NumEvents = -1 },
        { "InvalidBaseTime", c => c.BaseTime = -1 },
        { "InvalidFirstEventId", c => c.FirstEventId = -1 },
        { "InvalidFirstEventNumber", c => c.FirstEventNumber = -2 },
        { "InvalidFirstEventRate", c => c.FirstEventRate = 0 },
        { "InvalidProportion", c => c.BidProportion = -1 },
        { "InvalidProportion", c => { c.PersonProportion = 0; c.AuctionProportion = 0; c.BidProportion = 0; } },
        { "InvalidAverageSize", c => c.AvgBidByteSize = -1 },
        { "InvalidAverageSize", c => c.AvgAuctionByteSize = 100_000_000 },
        { "InvalidHotRatio", c => c.HotAuctionRatio = 0 },
        { "InvalidHotRatio", c => c.HotBiddersRatio = -4 },
        { "InvalidInFlightAuctions", c => c.NumInFlightAuctions = -1 },
        { "InvalidActivePeople", c => c.NumActivePeople = -1 },
        { "InvalidOutOfOrderGroupSize", c => c.OutOfOrderGroupSize = 0 },
    };

    [Theory]
    [MemberData(nameof(BadConfigs))]
    public void BadConfiguration_ThrowsWithStableErrorId(string errorId, Action<NexmarkConfiguration> mutate)
    {
        var c = Flink();
        mutate(c);
        var ex = Assert.Throws<PiBenchException>(() => new NexmarkGenerator(c));
        Assert.Equal(errorId, ex.ErrorId);
        Assert.Equal(PiBenchErrorCategory.InvalidArgument, ex.Category);
        Assert.False(string.IsNullOrEmpty(ex.RecommendedAction));
    }

    [Fact]
    public void LargeAverageSizes_WithNumEvents_AreAccepted_AndUseTheLoop()
    {
        // Sizes past half the pool take the exactStringLoop path of the Flink profile (spec 6.3).
        var c = Flink(); c.NumEvents = 10; c.AvgBidByteSize = 700_000;
        var g = new NexmarkGenerator(c);
        var bid = g.Next(); bid = g.Next(); bid = g.Next();
        Assert.NotNull(bid.Bid);
        Assert.InRange(bid.Bid!.Extra.Length, 550_000, 850_000);
        Assert.All(bid.Bid.Extra, ch => Assert.InRange(ch, 'H', 'z'));
    }
}
