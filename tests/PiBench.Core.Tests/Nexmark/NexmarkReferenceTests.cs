using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using PiBench.Core.Nexmark;
using PiBench.Core.Nexmark.Reference;
using Xunit;

namespace PiBench.Core.Tests.Nexmark;

/// <summary>The reference results: hand-computed small streams, properties over generated streams, and the comparison
/// of captured rows (dropped, duplicated, altered, pending).</summary>
public sealed class NexmarkReferenceTests
{
    private const long T0 = 1_700_000_000_000; // a multiple of 10 s: window boundaries are T0 + k * 2 s / 10 s

    private static ReferenceInput Input(params object[] events)
    {
        var input = new ReferenceInput();
        foreach (var e in events)
            switch (e)
            {
                case ReferenceBid b: input.Add(b); break;
                case ReferenceAuction a: input.Add(a); break;
                case ReferencePerson p: input.Add(p); break;
            }
        return input;
    }

    private static ReferenceBid Bid(long auction, long at, long price = 10, long bidder = 2001) => new(auction, bidder, price, T0 + at, "x");
    private static ReferencePerson Person(long id, long at, string state = "OR") => new(id, "P" + id, "Boise", state, T0 + at);
    private static ReferenceAuction Auction(long id, long seller, long at, long category = 10, long expires = 100_000) =>
        new(id, seller, category, T0 + at, T0 + at + expires);

    /// <summary>A person far in the future moves the final watermark past every window of the case.</summary>
    private static ReferencePerson Clock(long at = 60_000) => new(999, "clock", "x", "x", T0 + at);

    private static List<string> Rows(ReferenceResult r) => r.Rows.Select(x => x.ToString()).ToList();

    [Fact]
    public void Q5_HandComputed_HopWindowsAndTies()
    {
        var r = NexmarkReference.Compute("q5", Input(
            Bid(1, 1000), Bid(1, 1500), Bid(2, 2500), Bid(2, 3000), Bid(2, 3500), Clock()));
        // Window [T0-8 s, T0+2 s): auction 1 twice (auction 2's bids are later). The four windows starting T0-6 s … T0:
        // auction 1 twice, auction 2 three times -> auction 2. [T0+2 s, T0+12 s): auction 2 three times.
        Assert.Equal(new[]
        {
            $"1, {T0 + 2000}, 2",
            $"2, {T0 + 4000}, 3", $"2, {T0 + 6000}, 3", $"2, {T0 + 8000}, 3", $"2, {T0 + 10000}, 3", $"2, {T0 + 12000}, 3",
        }, Rows(r));
        Assert.Empty(r.Pending);

        var tie = NexmarkReference.Compute("q5", Input(Bid(1, 500), Bid(2, 600), Clock()));
        Assert.Equal(10, tie.Rows.Count); // both auctions in each of the 5 windows: num >= max keeps ties
    }

    [Fact]
    public void Windows_NearTheEndOfTheStream_ArePending_NotExpected()
    {
        // Last event at T0+20 s: final watermark T0+16 s; windows ending after T0+14 s (margin 2 s) may not have fired.
        var r = NexmarkReference.Compute("q5", Input(Bid(1, 1000), Bid(1, 11_000), Bid(1, 20_000)));
        Assert.All(r.Rows, row => Assert.True(row.WindowEnd <= T0 + 14_000));
        Assert.All(r.Pending, row => Assert.True(row.WindowEnd > T0 + 14_000));
        Assert.Contains(r.Pending, row => row.WindowEnd == T0 + 16_000);
        Assert.Equal(T0 + 16_000, r.FinalWatermark);
    }

    [Fact]
    public void Q7_HandComputed_BetweenIsInclusive_AndColumnsKeepThePublishedOrder()
    {
        var r = NexmarkReference.Compute("q7", Input(
            Bid(1, 1000, price: 5, bidder: 7001), Bid(2, 9999, price: 3), Bid(3, 10_000, price: 5, bidder: 7003), Bid(4, 15_000, price: 8, bidder: 7004),
            Clock()));
        // [T0, T0+10 s): max 5 -> the bid at +1 s and the bid exactly at the window end (+10 s, BETWEEN is inclusive).
        // [T0+10 s, T0+20 s): max 8 -> the bid at +15 s. Sink "bidder" holds the price, sink "price" the bidder.
        Assert.Equal(new[]
        {
            $"1, 5, 7001, {T0 + 1000}, x, {T0 + 10_000}",
            $"3, 5, 7003, {T0 + 10_000}, x, {T0 + 10_000}",
            $"4, 8, 7004, {T0 + 15_000}, x, {T0 + 20_000}",
        }, Rows(r).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Q7_Arroyo_DistinctPerWindow_NoBoundaryJoin()
    {
        var r = NexmarkReference.Compute("q7", Input(
            Bid(1, 1000, price: 5, bidder: 7001), Bid(1, 2000, price: 5, bidder: 7001), Bid(2, 9999, price: 3),
            Bid(3, 10_000, price: 5, bidder: 7003), Bid(4, 15_000, price: 8, bidder: 7004), Clock()), system: "Arroyo");
        // [T0, T0+10 s): max 5 -> (1, 5, 7001) once (grouped); the bid at +10 s belongs to the next window only, whose max is 8.
        Assert.Equal(new[] { $"1, 5, 7001, {T0 + 10_000}", $"4, 8, 7004, {T0 + 20_000}" }, Rows(r).Order(StringComparer.Ordinal));
        Assert.Equal(new[] { "auction", "price", "bidder", "latency_ts" }, r.Query.Columns.Select(c => c.Name));
        Assert.Equal(6, NexmarkReference.Query("q7").Columns.Count); // Flink's keeps the suite's shape
    }

    [Fact]
    public void Q3_HandComputed_RegularJoin_AnyArrivalOrder()
    {
        var r = NexmarkReference.Compute("q3", Input(
            Auction(2001, seller: 1001, at: 100),                    // before its seller arrives: still joined
            Person(1001, 200, "OR"), Person(1002, 300, "WA"), Person(1003, 400, "CA"),
            Auction(2002, seller: 1002, at: 500),                    // seller in WA
            Auction(2003, seller: 1003, at: 600, category: 11),      // category 11
            Auction(2004, seller: 1003, at: 700)));
        Assert.Equal(new[] { $"2001, P1001, Boise, OR, {T0 + 200}", $"2004, P1003, Boise, CA, {T0 + 700}" }, Rows(r));
    }

    [Fact]
    public void Q4_HandComputed_LifetimeBoundsAndTruncatingAverage()
    {
        var r = NexmarkReference.Compute("q4", Input(
            Auction(1, 1000, at: 0, category: 10, expires: 5000), Auction(2, 1000, at: 0, category: 10, expires: 5000),
            Auction(3, 1000, at: 0, category: 12, expires: 5000),
            Bid(1, 100, price: 10), Bid(1, 5000, price: 20),  // at expires: counts (BETWEEN is inclusive)
            Bid(1, 5001, price: 99),                          // after expiry: not counted
            Bid(2, 300, price: 5),
            Bid(3, -1, price: 50)));                          // before the auction: not counted, so auction 3 has no winner
        Assert.Equal(new[] { "10, 12" }, Rows(r)); // (20 + 5) / 2 = 12 in BIGINT arithmetic
    }

    [Fact]
    public void Q8_HandComputed_SameTumblingWindowOnly()
    {
        var r = NexmarkReference.Compute("q8", Input(
            Person(1001, 1000), Auction(1, 1001, at: 9999), Auction(2, 1001, at: 9000),   // same window: one row
            Person(1002, 9000), Auction(3, 1002, at: 10_000),                            // next window: none
            Clock()));
        Assert.Equal(new[] { $"1001, {T0}, P1001, {T0 + 10_000}" }, Rows(r));
    }

    [Fact]
    public void Q1_Q2_HandComputed()
    {
        var input = Input(Bid(123, 0, price: 1000), Bid(124, 1, price: 7), Bid(246, 2, price: 1), Clock());
        Assert.Equal(new[] { $"123, 1000, {T0}", $"246, 1, {T0 + 2}" }, Rows(NexmarkReference.Compute("q2", input)));
        Assert.Equal("908", NexmarkReference.Compute("q1", input).Rows[0].ToString().Split(", ")[3]);
        Assert.Equal("6.356", NexmarkReference.Compute("q1", input).Rows[1].ToString().Split(", ")[3]);
    }

    [Fact]
    public void UnknownQuery_IsRefusedWithTheList()
    {
        var ex = Assert.Throws<PiBenchException>(() => NexmarkReference.Query("q6"));
        Assert.Equal("ReferenceQueryUnsupported", ex.ErrorId);
        Assert.Contains("q5", ex.RecommendedAction);
    }

    private static NexmarkConfiguration Generated(long events) => new()
    {
        Profile = NexmarkProfile.Flink, NumEvents = events, BaseTime = T0, FirstEventRate = 1000,
    };

    [Fact]
    public void Properties_OverAGeneratedStream()
    {
        var input = NexmarkReference.Generate(Generated(60_000)); // 60 s of event time at 1,000 events/s
        Assert.Equal(60_000, input.Count);
        Assert.Equal(input.Bids.Count, NexmarkReference.Compute("q0", input).Rows.Count);
        Assert.Equal(input.Bids.Count(b => b.Auction % 123 == 0), NexmarkReference.Compute("q2", input).Rows.Count);

        var q5 = NexmarkReference.Compute("q5", input);
        Assert.NotEmpty(q5.Rows);
        foreach (var w in q5.Rows.GroupBy(r => r.WindowEnd))
        {
            var end = w.Key!.Value;
            var counts = input.Bids.Where(b => b.DateTime >= end - 10_000 && b.DateTime < end).GroupBy(b => b.Auction).ToDictionary(g => g.Key, g => (long)g.Count());
            Assert.All(w, r => Assert.Equal(counts.Values.Max(), (long)r.Values[2]!));
            Assert.Equal(counts.Count(kv => kv.Value == counts.Values.Max()), w.Count());
        }

        var q7 = NexmarkReference.Compute("q7", input);
        Assert.All(q7.Rows, r =>
        {
            var end = (long)r.Values[5]!;
            var ts = (long)r.Values[3]!;
            Assert.InRange(ts, end - 10_000, end);
            Assert.Equal(input.Bids.Where(b => b.DateTime >= end - 10_000 && b.DateTime < end).Max(b => b.Price), (long)r.Values[1]!);
        });

        var q3 = NexmarkReference.Compute("q3", input);
        Assert.All(q3.Rows, r => Assert.Contains((string)r.Values[3]!, new[] { "OR", "ID", "CA" }));
        Assert.Equal(q3.Rows.Count, q3.Rows.Select(r => r.Values[0]).Distinct().Count()); // one seller per auction

        var q8 = NexmarkReference.Compute("q8", input);
        Assert.NotEmpty(q8.Rows);
        Assert.All(q8.Rows, r => Assert.Contains(input.Auctions, a => a.Seller == (long)r.Values[0]! && a.DateTime - a.DateTime % 10_000 == (long)r.Values[1]!));
    }

    [Fact]
    public void Generated_SplitsGiveTheSameEvents()
    {
        var one = NexmarkReference.Generate(Generated(5_000));
        var c = Generated(5_000);
        c.GeneratorCount = 3;
        var three = NexmarkReference.Generate(c);
        Assert.Equal(Rows(NexmarkReference.Compute("q5", one)), Rows(NexmarkReference.Compute("q5", three)).ToList());
        Assert.Equal(one.Bids.Count, three.Bids.Count);
    }

    // ---- comparison of captured rows ----

    private static readonly string[] Q5Columns = ["auction", "latency_ts", "num"];

    /// <summary>Rows as Flink's json format writes them: sink column names, TIMESTAMP(3) as "yyyy-MM-dd HH:mm:ss.SSS".</summary>
    private static ReadOnlyMemory<byte> FlinkJson(ReferenceResult r, ReferenceRow row)
    {
        var o = new JsonObject();
        for (var i = 0; i < r.Query.Columns.Count; i++)
        {
            var c = r.Query.Columns[i];
            o[c.Name] = c.Kind == ReferenceColumnKind.Time
                ? JsonValue.Create(DateTimeOffset.FromUnixTimeMilliseconds((long)row.Values[i]!).UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss.fff", CultureInfo.InvariantCulture))
                : row.Values[i] switch { long l => JsonValue.Create(l), decimal d => JsonValue.Create(d), string s => JsonValue.Create(s), _ => null };
        }
        return Encoding.UTF8.GetBytes(o.ToJsonString());
    }

    private static ReferenceResult Q5Generated() => NexmarkReference.Compute("q5", NexmarkReference.Generate(Generated(60_000)));

    [Fact]
    public void Compare_ExactOutput_IsCorrect_EvenWithoutPendingWindows()
    {
        var r = Q5Generated();
        Assert.NotEmpty(r.Pending);
        var c = ResultComparer.Compare(r, r.Rows.Select(x => FlinkJson(r, x)).Reverse());
        Assert.Equal(ResultVerdict.Correct, c.Verdict);
        Assert.Equal((r.Rows.Count, r.Rows.Count, 0L, 0L, 0L), ((int)c.Expected, (int)c.Matched, c.Missing, c.Extra, c.Mismatched));
        Assert.Equal(Q5Columns, c.Columns);

        var withPending = ResultComparer.Compare(r, r.Rows.Concat(r.Pending.Take(2)).Select(x => FlinkJson(r, x)));
        Assert.Equal(ResultVerdict.Correct, withPending.Verdict);
        Assert.Equal(2, withPending.PendingReceived);
    }

    [Fact]
    public void Compare_DroppedDuplicatedAndAlteredRows_AreCounted()
    {
        var r = Q5Generated();
        var sent = r.Rows.Select(x => FlinkJson(r, x)).ToList();
        Assert.True(sent.Count > 10);
        sent.RemoveAt(3);                        // dropped
        sent.Add(sent[5]);                      // duplicated
        var altered = JsonNode.Parse(sent[8].Span)!.AsObject();
        altered["num"] = altered["num"]!.GetValue<long>() + 1;
        sent[8] = Encoding.UTF8.GetBytes(altered.ToJsonString());
        sent.Add(Encoding.UTF8.GetBytes("not json"));

        var c = ResultComparer.Compare(r, sent);
        Assert.Equal(ResultVerdict.Incorrect, c.Verdict);
        Assert.Equal((1L, 1L, 1L, 1L), (c.Missing, c.Extra, c.Mismatched, c.Unreadable));
        Assert.Single(c.MismatchedExamples);
        Assert.Contains("num=", c.MismatchedExamples[0]);
        Assert.Single(c.MissingExamples);
    }

    [Fact]
    public void Compare_PlainVariantWithoutLatencyTs_ComparesTheColumnsItHas()
    {
        var r = Q5Generated();
        var plain = r.Rows.Select(x =>
        {
            var o = JsonNode.Parse(FlinkJson(r, x).Span)!.AsObject();
            o.Remove("latency_ts");
            return (ReadOnlyMemory<byte>)Encoding.UTF8.GetBytes(o.ToJsonString());
        });
        var c = ResultComparer.Compare(r, plain);
        Assert.Equal(new[] { "auction", "num" }, c.Columns);
        Assert.Equal(ResultVerdict.Correct, c.Verdict);
    }

    [Fact]
    public void Compare_TimesInEngineFormats_AndDebeziumChanges()
    {
        var r = NexmarkReference.Compute("q2", Input(Bid(123, 5, price: 9), Clock()));
        var iso = Encoding.UTF8.GetBytes($$"""{"auction":123,"price":9,"latency_ts":"{{DateTimeOffset.FromUnixTimeMilliseconds(T0 + 5):yyyy-MM-ddTHH:mm:ss.fffZ}}"}""");
        var micros = Encoding.UTF8.GetBytes($$"""{"auction":123,"price":9,"latency_ts":{{(T0 + 5) * 1000}}}""");
        Assert.Equal(ResultVerdict.Correct, ResultComparer.Compare(r, [iso]).Verdict);
        Assert.Equal(ResultVerdict.Correct, ResultComparer.Compare(r, [micros]).Verdict);

        var q4 = NexmarkReference.Compute("q4", Input(Auction(1, 1000, at: 0), Bid(1, 10, price: 4), Bid(1, 20, price: 6)));
        ReadOnlyMemory<byte> Change(string op, long v) => Encoding.UTF8.GetBytes(
            $$"""{"before":null,"after":{"id":10,"final":{{v}}},"op":"{{op}}"}""");
        Assert.Equal(ResultVerdict.Correct, ResultComparer.Compare(q4, [Change("c", 4), Change("u", 6)]).Verdict);
        var stale = ResultComparer.Compare(q4, [Change("c", 4)]);
        Assert.Equal((ResultVerdict.Incorrect, 1L), (stale.Verdict, stale.Mismatched));
    }
}

/// <summary>The incremental operators of the Reference system emit exactly the batch reference's rows, whatever the
/// interleaving of partitions (each partition in event-time order, as the generator writes them).</summary>
public sealed class StreamingReferenceTests
{
    private const long T0 = 1_700_000_000_000;

    public static TheoryData<string> Queries => new() { "q0", "q1", "q2", "q3", "q4", "q5", "q7", "q8" };

    [Theory]
    [MemberData(nameof(Queries))]
    public void StreamingEqualsBatch_ThreePartitionsReadAtDifferentPaces(string query)
    {
        var config = new NexmarkConfiguration { Profile = NexmarkProfile.Flink, NumEvents = 60_000, BaseTime = T0, FirstEventRate = 1000 };
        var batchInput = NexmarkReference.Generate(config);
        var batch = NexmarkReference.Compute(query, batchInput);

        // Partition i gets events i, i+3, ... (round robin, in order); the consumer reads 7, 13 and 29 events per turn.
        var partitions = Enumerable.Range(0, 3).Select(_ => new List<object>()).ToArray();
        var g = new NexmarkGenerator(config.Resolve());
        var n = 0;
        while (g.TryNext(out var ev))
        {
            var one = new ReferenceInput();
            one.Add(ev);
            partitions[n++ % 3].Add((object?)one.Bids.FirstOrDefault() ?? (object?)one.Auctions.FirstOrDefault() ?? one.People[0]);
        }
        static long Time(object e) => e switch { ReferenceBid b => b.DateTime, ReferenceAuction a => a.DateTime, ReferencePerson p => p.DateTime, _ => 0 };

        var op = StreamingReference.Create(query);
        var emitted = new List<ReferenceRow>();
        var updates = 0;
        StreamingReference.Emit emit = (row, update) => { emitted.Add(row); if (update) updates++; };
        var pos = new int[3];
        var maxTs = new long[] { long.MinValue, long.MinValue, long.MinValue };
        var pace = new[] { 7, 13, 29 };
        while (pos.Select((p, i) => p < partitions[i].Count).Any(x => x))
        {
            for (var i = 0; i < 3; i++)
                for (var k = 0; k < pace[i] && pos[i] < partitions[i].Count; k++)
                {
                    var e = partitions[i][pos[i]++];
                    maxTs[i] = Math.Max(maxTs[i], Time(e));
                    op.OnEvent(e, emit);
                }
            if (maxTs.All(t => t > long.MinValue)) op.OnWatermark(maxTs.Min() - NexmarkReference.DefaultWatermarkDelayMs, emit);
        }

        if (batch.Query.Changelog)
        {
            // The last update per key is the final value.
            var final = emitted.GroupBy(r => r.Values[0]).Select(gr => gr.Last().ToString()).Order(StringComparer.Ordinal);
            Assert.Equal(batch.Rows.Select(r => r.ToString()).Order(StringComparer.Ordinal), final);
            Assert.True(updates > 0);
            return;
        }
        var got = emitted.Select(r => r.ToString()).ToList();
        var certain = batch.Rows.Select(r => r.ToString()).ToList();
        var pending = batch.Pending.Select(r => r.ToString()).ToHashSet();
        var left = new Dictionary<string, int>();
        foreach (var r in got) left[r] = left.GetValueOrDefault(r) + 1;
        foreach (var r in certain)
        {
            Assert.True(left.GetValueOrDefault(r) > 0, $"{query}: expected row not emitted: {r}");
            left[r]--;
        }
        Assert.All(left.Where(kv => kv.Value > 0), kv => Assert.Contains(kv.Key, pending));
        Assert.NotEmpty(certain);
    }
}
