using Xunit;
using PiBench.Core.Nexmark;

namespace PiBench.Core.Tests.Nexmark;

/// <summary>Long-run properties over a million events per profile: ids, proportions, timestamps, hot ratios.</summary>
public sealed class NexmarkPropertyTests
{
    private const int N = 1_000_000;

    [Theory]
    [InlineData(NexmarkProfile.Flink)]
    [InlineData(NexmarkProfile.Beam)]
    public void MillionEvents_Properties(NexmarkProfile profile)
    {
        var config = NexmarkVectors.Config(profile);
        var g = new NexmarkGenerator(config);
        long firstId = config.FirstEventId!.Value, firstNumber = config.FirstEventNumber!.Value, baseTime = config.BaseTime!.Value;
        long bidderOffset = profile == NexmarkProfile.Flink ? 2000 : 1000;

        long persons = 0, auctions = 0, bids = 0, hotAuction = 0, hotBidder = 0, hotSeller = 0;
        long lastPersonId = -1, lastAuctionId = -1, lastTs = long.MinValue, priceSum = 0;
        long extraBytes = 0;
        for (long k = 0; k < N; k++)
        {
            Assert.True(g.TryNext(out var e));
            // Numbering (group size 1): index, number, id.
            if (e.Index != k || e.EventNumber != firstNumber + k || e.AdjustedEventNumber != e.EventNumber || e.EventId != firstId + e.EventNumber)
                Assert.Fail($"numbering broken at {k}");
            // Timestamps: monotone, exact formula, watermark = event time, entity time = event time.
            long ts = baseTime + (long)(e.EventNumber * 100.0) / 1000;
            if (e.EventTimestamp != ts || e.Watermark != ts || e.EventTimestamp < lastTs) Assert.Fail($"timestamp broken at {k}");
            lastTs = e.EventTimestamp;
            // Type by id.
            long rem = e.EventId % 50;
            var expectedType = rem < 1 ? NexmarkEventType.Person : rem < 4 ? NexmarkEventType.Auction : NexmarkEventType.Bid;
            if (e.EventType != expectedType) Assert.Fail($"type broken at {k}");

            long lastBase0Person = e.EventId / 50; // P = 1: the epoch's person
            switch (e.EventType)
            {
                case NexmarkEventType.Person:
                {
                    var p = e.Person!;
                    if (lastPersonId >= 0 && p.Id != lastPersonId + 1) Assert.Fail($"person ids not consecutive at {k}");
                    lastPersonId = p.Id;
                    if (p.DateTime != e.EventTimestamp || e.Auction is not null || e.Bid is not null) Assert.Fail($"person shape at {k}");
                    extraBytes += p.Extra.Length;
                    persons++;
                    break;
                }
                case NexmarkEventType.Auction:
                {
                    var a = e.Auction!;
                    if (lastAuctionId >= 0 && a.Id != lastAuctionId + 1) Assert.Fail($"auction ids not consecutive at {k}");
                    lastAuctionId = a.Id;
                    if (a.Expires <= a.DateTime || a.Expires > a.DateTime + 335) Assert.Fail($"auction expiry at {k}: {a.Expires - a.DateTime}");
                    if (a.Category is < 10 or > 14 || a.Reserve <= a.InitialBid) Assert.Fail($"auction values at {k}");
                    long hotSellerId = lastBase0Person / 100 * 100 + 1000;
                    if (a.Seller == hotSellerId) hotSeller++;
                    if (a.Seller < 1000 || a.Seller > lastBase0Person + 1000 + 10) Assert.Fail($"seller out of range at {k}");
                    auctions++;
                    break;
                }
                default:
                {
                    var b = e.Bid!;
                    long lastBase0Auction = e.EventId / 50 * 3 + 2; // bid slot: last auction of this epoch
                    if (b.Auction == lastBase0Auction / 100 * 100 + 1000) hotAuction++;
                    if (b.Bidder == lastBase0Person / 100 * 100 + 1 + bidderOffset) hotBidder++;
                    if (b.Auction < 1000 || b.Auction > lastBase0Auction + 1000 + 10) Assert.Fail($"bid auction out of range at {k}");
                    if (b.Auction < lastBase0Auction + 1000 - 100 && b.Auction != lastBase0Auction / 100 * 100 + 1000) Assert.Fail($"cold bid outside the in-flight window at {k}");
                    if (b.Bidder < bidderOffset || b.Bidder > lastBase0Person + bidderOffset + 10) Assert.Fail($"bidder out of range at {k}");
                    if (b.Price is < 100 or > 100_000_000) Assert.Fail($"price out of range at {k}");
                    if ((profile == NexmarkProfile.Flink) != (b.Channel is not null && b.Url is not null)) Assert.Fail($"channel presence at {k}");
                    int len = b.Extra.Length;
                    if (len is < 54 or > 81) Assert.Fail($"bid extra length {len} at {k}");
                    extraBytes += len;
                    priceSum += b.Price;
                    bids++;
                    break;
                }
            }
        }
        // Proportions: exact per 50 ids (1 : 3 : 46), up to the partial epoch at the ends.
        Assert.InRange(persons, N / 50 - 1, N / 50 + 1);
        Assert.InRange(auctions, N * 3 / 50 - 3, N * 3 / 50 + 3);
        Assert.Equal(N, persons + auctions + bids);
        // Hot ratios (defaults 2, 4, 4): the hot share is 1 - 1/ratio plus the rare cold draw that hits the hot id.
        Assert.InRange(hotAuction / (double)bids, 0.49, 0.52);
        Assert.InRange(hotBidder / (double)bids, 0.74, 0.77);
        Assert.InRange(hotSeller / (double)auctions, 0.74, 0.77);
        // Mean bid extra: uniform over want-delta .. want+delta-1 = 54 .. 81 → 67.5 (persons add a little).
        Assert.InRange(extraBytes / (double)(bids + persons), 66, 72);
        Assert.True(priceSum > 0);
    }

    [Fact]
    public void CustomMix_ProportionsAndHotRatios_Follow()
    {
        var c = NexmarkVectors.Config(NexmarkProfile.Flink);
        c.PersonProportion = 5; c.AuctionProportion = 10; c.BidProportion = 85; c.HotAuctionRatio = 10; c.HotBiddersRatio = 1;
        var g = new NexmarkGenerator(c);
        int persons = 0, auctions = 0, bids = 0, hot = 0;
        for (int k = 0; k < 200_000; k++)
        {
            var e = g.Next();
            switch (e.EventType)
            {
                case NexmarkEventType.Person: persons++; break;
                case NexmarkEventType.Auction: auctions++; break;
                default:
                    bids++;
                    long epoch = e.EventId / 100;
                    long lastAuction = epoch * 10 + 9;
                    if (e.Bid!.Auction == lastAuction / 100 * 100 + 1000) hot++;
                    break;
            }
        }
        Assert.Equal((10_000, 20_000, 170_000), (persons, auctions, bids));
        Assert.InRange(hot / (double)bids, 0.89, 0.92);
    }
}
