namespace PiBench.Core.Nexmark.Reference;

/// <summary>
/// The exact results of Nexmark queries over a generated stream, under the semantics of the catalog's Flink SQL
/// (Resources/Queries/Flink/qN.sql and latency/qN.sql) as Flink 1.18 runs it:
/// <list type="bullet">
/// <item>Event time is the entity's dateTime; the DDL's watermark is <c>dateTime - INTERVAL '4' SECOND</c>. The generator
/// writes each Kafka partition in event-time order, and Flink's Kafka source keeps a watermark per partition, so no event
/// is late: a window holds every event of its time range.</item>
/// <item>A window [start, end) fires when the watermark reaches end − 1 ms. The source never ends, so the highest
/// watermark is the last event time − 4 s; windows ending within <c>pendingMarginMs</c> of it (partitions end a few
/// events apart, watermarks are emitted every 200 ms) are <see cref="ReferenceResult.Pending"/>.</item>
/// <item>HOP/TUMBLE windows are aligned to the epoch (offset 0), as Flink's window TVFs are.</item>
/// <item>Joins without a time bound (q3, q4, q7, q8) are regular joins: both sides are kept forever, so every matching
/// pair is emitted whatever the arrival order. (Arroyo 0.11 keeps unwindowed join state for 1 h of event time: the same
/// rows for runs shorter than that.)</item>
/// <item>q7 keeps the published column order: it selects (auction, price, bidder, ...) into a sink declared
/// (auction, bidder, price, ...), so the sink's "bidder" holds the price and its "price" the bidder.</item>
/// </list>
/// Rows are held in memory: about 100–200 bytes per expected row.
/// </summary>
public static class NexmarkReference
{
    /// <summary>The watermark delay of both DDLs (catalog.json source.watermark_delay_ms).</summary>
    public const long DefaultWatermarkDelayMs = 4000;

    /// <summary>How close to the final watermark a window end may be and still count as pending (not yet certain).</summary>
    public const long DefaultPendingMarginMs = 2000;

    private static readonly ReferenceColumn Auction = new("auction", ReferenceColumnKind.Long);
    private static readonly ReferenceColumn Bidder = new("bidder", ReferenceColumnKind.Long);
    private static readonly ReferenceColumn Price = new("price", ReferenceColumnKind.Long);
    private static readonly ReferenceColumn DateTime = new("dateTime", ReferenceColumnKind.Time);
    private static readonly ReferenceColumn Extra = new("extra", ReferenceColumnKind.Text);
    private static readonly ReferenceColumn LatencyTs = new("latency_ts", ReferenceColumnKind.Time);

    private static readonly Dictionary<string, ReferenceQuery> Queries = new(StringComparer.OrdinalIgnoreCase)
    {
        ["q0"] = new("q0", [Auction, Bidder, DateTime, Price, Extra], 3, false, false,
            "Every bid: auction, bidder, price, dateTime, extra."),
        ["q1"] = new("q1", [Auction, Bidder, DateTime, new("price", ReferenceColumnKind.Decimal), Extra], 3, false, false,
            "Every bid, price × 0.908 (compared to 3 decimal places)."),
        ["q2"] = new("q2", [Auction, Price, LatencyTs], 3, false, false,
            "Bids with auction mod 123 = 0: auction, price (latency variant: + the bid's dateTime)."),
        ["q3"] = new("q3", [new("id", ReferenceColumnKind.Long), new("name", ReferenceColumnKind.Text), new("city", ReferenceColumnKind.Text),
                new("state", ReferenceColumnKind.Text), LatencyTs], 1, false, false,
            "Regular join auction ⋈ person on seller = id, category 10, state OR/ID/CA: name, city, state, auction id (latency variant: + the later dateTime)."),
        ["q4"] = new("q4", [new("id", ReferenceColumnKind.Long), new("final", ReferenceColumnKind.Long)], 1, false, true,
            "Per category: AVG (BIGINT, truncating) of each auction's highest bid with auction.dateTime <= bid.dateTime <= expires; updating result, compared as the final value per category."),
        ["q5"] = new("q5", [Auction, LatencyTs, new("num", ReferenceColumnKind.Long)], 2, true, false,
            "HOP(2 s slide, 10 s size) bid counts per auction; per window the auctions whose count equals the window's maximum: auction, num (latency variant: + window end)."),
        ["q7"] = new("q7", [Auction, Bidder, Price, DateTime, Extra, LatencyTs], 4, true, false,
            "TUMBLE(10 s) maximum price; every bid with that price and window_end − 10 s <= dateTime <= window_end, in the published column order (sink bidder = price, sink price = bidder) (latency variant: + window end)."),
        ["q8"] = new("q8", [new("id", ReferenceColumnKind.Long), new("stime", ReferenceColumnKind.Time), new("name", ReferenceColumnKind.Text), LatencyTs], 2, true, false,
            "TUMBLE(10 s) of persons joined with the sellers of auctions in the same window: id, name, window start (latency variant: + window end)."),
    };

    /// <summary>Where an engine's own text of a query means something else than the suite's Flink SQL, the reference
    /// follows that text (the catalog's notes say why the engine's text differs).</summary>
    private static readonly Dictionary<string, ReferenceQuery> Variants = new(StringComparer.OrdinalIgnoreCase)
    {
        ["Arroyo/q7"] = new("q7", [Auction, Price, Bidder, LatencyTs], 4, true, false,
            "Arroyo's q7 (no time-range join in 0.11): per TUMBLE(10 s) window, each distinct (auction, price, bidder) whose price is the window's maximum: auction, price, bidder, window end; a bid exactly on a window end belongs to the next window only."),
    };

    /// <summary>The queries the reference knows (q0–q5, q7, q8).</summary>
    public static IReadOnlyCollection<string> Names => Queries.Keys;

    /// <summary>The reference's description of <paramref name="name"/> as <paramref name="system"/>'s text of it means
    /// it (Flink, Reference: the suite's SQL; Arroyo: q7 differs); throws ReferenceQueryUnsupported.</summary>
    public static ReferenceQuery Query(string name, string system = "Flink") =>
        Variants.TryGetValue($"{system}/{name.Trim()}", out var v) ? v
        : Queries.TryGetValue(name.Trim(), out var q) ? q
        : throw new PiBenchException("ReferenceQueryUnsupported", PiBenchErrorCategory.InvalidArgument,
            $"The reference implementation has no query '{name}'.", name, $"Use one of {string.Join(", ", Queries.Keys)}.");

    /// <summary>The exact result of <paramref name="name"/> over the events of <paramref name="configuration"/>
    /// (resolved; every split is generated, so the set of events is the one the producer sends).</summary>
    public static ReferenceResult Compute(string name, NexmarkConfiguration configuration,
        long watermarkDelayMs = DefaultWatermarkDelayMs, long pendingMarginMs = DefaultPendingMarginMs, CancellationToken cancellationToken = default,
        string system = "Flink")
    {
        var events = Generate(configuration, cancellationToken);
        return Compute(name, events, watermarkDelayMs, pendingMarginMs, system);
    }

    /// <summary>Every event of every split of the configuration (what a generator run produces), as reference inputs.</summary>
    public static ReferenceInput Generate(NexmarkConfiguration configuration, CancellationToken cancellationToken = default)
    {
        var c = configuration.Resolve();
        var input = new ReferenceInput();
        for (var i = 0; i < c.GeneratorCount; i++)
        {
            var split = c.Clone();
            split.GeneratorIndex = i;
            var g = new NexmarkGenerator(split);
            var n = 0;
            while (g.TryNext(out var ev))
            {
                if ((++n & 0xFFFF) == 0) cancellationToken.ThrowIfCancellationRequested();
                input.Add(ev);
            }
        }
        return input;
    }

    public static ReferenceResult Compute(string name, ReferenceInput input,
        long watermarkDelayMs = DefaultWatermarkDelayMs, long pendingMarginMs = DefaultPendingMarginMs, string system = "Flink")
    {
        var q = Query(name, system);
        var rows = q.Name switch
        {
            "q7" when q.Columns.Count == 4 => Q7Arroyo(input),
            "q0" => input.Bids.Select(b => new ReferenceRow([b.Auction, b.Bidder, b.DateTime, b.Price, b.Extra])).ToList(),
            "q1" => input.Bids.Select(b => new ReferenceRow([b.Auction, b.Bidder, b.DateTime, b.Price * 0.908m, b.Extra])).ToList(),
            "q2" => input.Bids.Where(b => b.Auction % 123 == 0).Select(b => new ReferenceRow([b.Auction, b.Price, b.DateTime])).ToList(),
            "q3" => Q3(input),
            "q4" => Q4(input),
            "q5" => Q5(input),
            "q7" => Q7(input),
            "q8" => Q8(input),
            _ => throw new InvalidOperationException(q.Name),
        };
        var last = input.LastEventTime;
        var certain = new List<ReferenceRow>(rows.Count);
        var pending = new List<ReferenceRow>();
        // A window fires once the watermark reaches end - 1; it is certain only if that is at least the margin below the final watermark.
        var certainUpTo = last - watermarkDelayMs - pendingMarginMs;
        foreach (var r in rows)
            if (r.WindowEnd is { } end && end - 1 > certainUpTo) pending.Add(r); else certain.Add(r);
        return new ReferenceResult(q, certain, pending, input.Count, input.FirstEventTime, last, watermarkDelayMs, pendingMarginMs);
    }

    private static List<ReferenceRow> Q3(ReferenceInput input)
    {
        var people = new Dictionary<long, ReferencePerson>();
        foreach (var p in input.People)
            if (p.State is "OR" or "ID" or "CA") people[p.Id] = p;
        var rows = new List<ReferenceRow>();
        foreach (var a in input.Auctions)
            if (a.Category == 10 && people.TryGetValue(a.Seller, out var p))
                rows.Add(new ReferenceRow([a.Id, p.Name, p.City, p.State, Math.Max(a.DateTime, p.DateTime)]));
        return rows;
    }

    private static List<ReferenceRow> Q4(ReferenceInput input)
    {
        var auctions = input.Auctions.ToDictionary(a => a.Id);
        var best = new Dictionary<long, long>();
        foreach (var b in input.Bids)
        {
            if (!auctions.TryGetValue(b.Auction, out var a) || b.DateTime < a.DateTime || b.DateTime > a.Expires) continue;
            best[a.Id] = best.TryGetValue(a.Id, out var m) ? Math.Max(m, b.Price) : b.Price;
        }
        var perCategory = new SortedDictionary<long, (long Sum, long Count)>();
        foreach (var (id, max) in best)
        {
            var cat = auctions[id].Category;
            perCategory.TryGetValue(cat, out var s);
            perCategory[cat] = (s.Sum + max, s.Count + 1);
        }
        // Flink's AVG over BIGINT returns BIGINT: sum / count in long arithmetic (AvgAggFunction.LongAvgAggFunction).
        return perCategory.Select(kv => new ReferenceRow([kv.Key, kv.Value.Sum / kv.Value.Count])).ToList();
    }

    private static long Floor(long t, long size) => t - (((t % size) + size) % size);

    private static List<ReferenceRow> Q5(ReferenceInput input)
    {
        const long slide = 2000, size = 10000;
        var counts = new Dictionary<(long Start, long Auction), long>();
        foreach (var b in input.Bids)
            for (var start = Floor(b.DateTime, slide); start > b.DateTime - size; start -= slide)
            {
                counts.TryGetValue((start, b.Auction), out var n);
                counts[(start, b.Auction)] = n + 1;
            }
        var max = new Dictionary<long, long>();
        foreach (var ((start, _), n) in counts)
            max[start] = max.TryGetValue(start, out var m) ? Math.Max(m, n) : n;
        return counts.Where(kv => kv.Value >= max[kv.Key.Start])
            .OrderBy(kv => kv.Key.Start).ThenBy(kv => kv.Key.Auction)
            .Select(kv => new ReferenceRow([kv.Key.Auction, kv.Key.Start + size, kv.Value]) { WindowEnd = kv.Key.Start + size })
            .ToList();
    }

    private static List<ReferenceRow> Q7(ReferenceInput input)
    {
        const long size = 10000;
        var max = TumbleMaxPrice(input, size);
        var rows = new List<ReferenceRow>();
        foreach (var b in input.Bids)
        {
            // B.dateTime BETWEEN end - 10 s AND end: the bid's own window and, when it sits exactly on a window end, the
            // window that ends there.
            var start = Floor(b.DateTime, size);
            foreach (var s in b.DateTime == start ? new[] { start, start - size } : [start])
                if (max.TryGetValue(s, out var m) && m == b.Price)
                    rows.Add(new ReferenceRow([b.Auction, b.Price, b.Bidder, b.DateTime, b.Extra, s + size]) { WindowEnd = s + size });
        }
        return rows;
    }

    /// <summary>The highest bid price per TUMBLE window, by window start.</summary>
    private static Dictionary<long, long> TumbleMaxPrice(ReferenceInput input, long size)
    {
        var max = new Dictionary<long, long>();
        foreach (var b in input.Bids)
        {
            var start = Floor(b.DateTime, size);
            max[start] = max.TryGetValue(start, out var m) ? Math.Max(m, b.Price) : b.Price;
        }
        return max;
    }

    private static List<ReferenceRow> Q7Arroyo(ReferenceInput input)
    {
        const long size = 10000;
        var max = TumbleMaxPrice(input, size);
        var seen = new HashSet<(long Start, long Auction, long Bidder)>();
        var rows = new List<ReferenceRow>();
        foreach (var b in input.Bids)
        {
            var start = Floor(b.DateTime, size);
            if (max[start] == b.Price && seen.Add((start, b.Auction, b.Bidder)))
                rows.Add(new ReferenceRow([b.Auction, b.Price, b.Bidder, start + size]) { WindowEnd = start + size });
        }
        return rows;
    }

    private static List<ReferenceRow> Q8(ReferenceInput input)
    {
        const long size = 10000;
        var sellers = new HashSet<(long Seller, long Start)>();
        foreach (var a in input.Auctions) sellers.Add((a.Seller, Floor(a.DateTime, size)));
        var rows = new List<ReferenceRow>();
        var seen = new HashSet<(long, string, long)>();
        foreach (var p in input.People)
        {
            var start = Floor(p.DateTime, size);
            if (sellers.Contains((p.Id, start)) && seen.Add((p.Id, p.Name, start)))
                rows.Add(new ReferenceRow([p.Id, start, p.Name, start + size]) { WindowEnd = start + size });
        }
        return rows;
    }
}

/// <summary>A bid as the reference needs it.</summary>
public sealed record ReferenceBid(long Auction, long Bidder, long Price, long DateTime, string Extra);

/// <summary>An auction as the reference needs it.</summary>
public sealed record ReferenceAuction(long Id, long Seller, long Category, long DateTime, long Expires);

/// <summary>A person as the reference needs it.</summary>
public sealed record ReferencePerson(long Id, string Name, string City, string State, long DateTime);

/// <summary>The events a reference result is computed from (any order).</summary>
public sealed class ReferenceInput
{
    public List<ReferenceBid> Bids { get; } = [];
    public List<ReferenceAuction> Auctions { get; } = [];
    public List<ReferencePerson> People { get; } = [];
    public long Count { get; private set; }
    public long FirstEventTime { get; private set; } = long.MaxValue;
    public long LastEventTime { get; private set; } = long.MinValue;

    public void Add(NexmarkEvent ev)
    {
        switch (ev.EventType)
        {
            case NexmarkEventType.Bid:
                var b = ev.Bid!;
                Add(new ReferenceBid(b.Auction, b.Bidder, b.Price, b.DateTime, b.Extra));
                break;
            case NexmarkEventType.Auction:
                var a = ev.Auction!;
                Add(new ReferenceAuction(a.Id, a.Seller, a.Category, a.DateTime, a.Expires));
                break;
            default:
                var p = ev.Person!;
                Add(new ReferencePerson(p.Id, p.Name, p.City, p.State, p.DateTime));
                break;
        }
    }

    /// <summary>A ReferenceBid, ReferenceAuction or ReferencePerson (what ReferenceEventReader yields).</summary>
    public void AddEvent(object ev)
    {
        switch (ev)
        {
            case ReferenceBid b: Add(b); break;
            case ReferenceAuction a: Add(a); break;
            case ReferencePerson p: Add(p); break;
            default: throw new ArgumentException($"Not a reference event: {ev.GetType().Name}", nameof(ev));
        }
    }

    public void Add(ReferenceBid b) { Bids.Add(b); Seen(b.DateTime); }
    public void Add(ReferenceAuction a) { Auctions.Add(a); Seen(a.DateTime); }
    public void Add(ReferencePerson p) { People.Add(p); Seen(p.DateTime); }

    private void Seen(long t)
    {
        Count++;
        if (t < FirstEventTime) FirstEventTime = t;
        if (t > LastEventTime) LastEventTime = t;
    }
}
