namespace PiBench.Core.Nexmark.Reference;

/// <summary>
/// The reference queries as incremental operators: events arrive in any order across partitions, watermarks advance,
/// rows are emitted as Flink would emit them (stateless rows at once, join rows when the second side arrives, window
/// rows when the watermark passes the window end, q4 updates on every change). Over a whole stream the rows equal
/// <see cref="NexmarkReference"/>'s (tests check it). Used by the in-process Reference system.
/// </summary>
public abstract class StreamingReference
{
    /// <summary>One emitted row; update is true for an update of an earlier row of the same key (q4).</summary>
    public delegate void Emit(ReferenceRow row, bool update);

    public ReferenceQuery Query { get; }

    private StreamingReference(ReferenceQuery query) => Query = query;

    public static StreamingReference Create(string name)
    {
        var q = NexmarkReference.Query(name);
        return q.Name switch
        {
            "q0" => new Stateless(q, b => new ReferenceRow([b.Auction, b.Bidder, b.DateTime, b.Price, b.Extra])),
            "q1" => new Stateless(q, b => new ReferenceRow([b.Auction, b.Bidder, b.DateTime, b.Price * 0.908m, b.Extra])),
            "q2" => new Stateless(q, b => b.Auction % 123 == 0 ? new ReferenceRow([b.Auction, b.Price, b.DateTime]) : null),
            "q3" => new Q3(q),
            "q4" => new Q4(q),
            "q5" => new Q5(q),
            "q7" => new Q7(q),
            "q8" => new Q8(q),
            _ => throw new InvalidOperationException(q.Name),
        };
    }

    public abstract void OnEvent(object ev, Emit emit);

    /// <summary>The watermark (epoch ms) reached <paramref name="watermark"/>: windows with end − 1 &lt;= it fire.</summary>
    public virtual void OnWatermark(long watermark, Emit emit) { }

    private static long Floor(long t, long size) => t - (((t % size) + size) % size);

    private sealed class Stateless(ReferenceQuery q, Func<ReferenceBid, ReferenceRow?> map) : StreamingReference(q)
    {
        public override void OnEvent(object ev, Emit emit)
        {
            if (ev is ReferenceBid b && map(b) is { } row) emit(row, false);
        }
    }

    private sealed class Q3(ReferenceQuery q) : StreamingReference(q)
    {
        private readonly Dictionary<long, ReferencePerson> _people = new();
        private readonly Dictionary<long, List<ReferenceAuction>> _auctionsBySeller = new();

        public override void OnEvent(object ev, Emit emit)
        {
            switch (ev)
            {
                case ReferencePerson p when p.State is "OR" or "ID" or "CA":
                    _people[p.Id] = p;
                    if (_auctionsBySeller.TryGetValue(p.Id, out var waiting))
                        foreach (var a in waiting) emit(Row(a, p), false);
                    break;
                case ReferenceAuction a when a.Category == 10:
                    if (!_auctionsBySeller.TryGetValue(a.Seller, out var list)) _auctionsBySeller[a.Seller] = list = [];
                    list.Add(a);
                    if (_people.TryGetValue(a.Seller, out var seller)) emit(Row(a, seller), false);
                    break;
            }
        }

        private static ReferenceRow Row(ReferenceAuction a, ReferencePerson p) =>
            new([a.Id, p.Name, p.City, p.State, Math.Max(a.DateTime, p.DateTime)]);
    }

    private sealed class Q4(ReferenceQuery q) : StreamingReference(q)
    {
        private readonly Dictionary<long, ReferenceAuction> _auctions = new();
        private readonly Dictionary<long, List<ReferenceBid>> _early = new();
        private readonly Dictionary<long, long> _best = new();
        private readonly Dictionary<long, (long Sum, long Count)> _categories = new();

        public override void OnEvent(object ev, Emit emit)
        {
            switch (ev)
            {
                case ReferenceAuction a:
                    _auctions[a.Id] = a;
                    if (_early.Remove(a.Id, out var bids))
                        foreach (var b in bids) Bid(a, b, emit);
                    break;
                case ReferenceBid b:
                    if (_auctions.TryGetValue(b.Auction, out var auction)) Bid(auction, b, emit);
                    else
                    {
                        if (!_early.TryGetValue(b.Auction, out var list)) _early[b.Auction] = list = [];
                        list.Add(b);
                    }
                    break;
            }
        }

        private void Bid(ReferenceAuction a, ReferenceBid b, Emit emit)
        {
            if (b.DateTime < a.DateTime || b.DateTime > a.Expires) return;
            var had = _best.TryGetValue(a.Id, out var old);
            if (had && old >= b.Price) return;
            _best[a.Id] = b.Price;
            var existed = _categories.TryGetValue(a.Category, out var s);
            s = had ? (s.Sum - old + b.Price, s.Count) : (s.Sum + b.Price, s.Count + 1);
            _categories[a.Category] = s;
            emit(new ReferenceRow([a.Category, s.Sum / s.Count]), existed);
        }
    }

    private sealed class Q5(ReferenceQuery q) : StreamingReference(q)
    {
        private const long Slide = 2000, Size = 10000;
        private readonly SortedDictionary<long, Dictionary<long, long>> _windows = new(); // start -> auction -> count

        public override void OnEvent(object ev, Emit emit)
        {
            if (ev is not ReferenceBid b) return;
            for (var start = Floor(b.DateTime, Slide); start > b.DateTime - Size; start -= Slide)
            {
                if (!_windows.TryGetValue(start, out var counts)) _windows[start] = counts = new();
                counts[b.Auction] = counts.GetValueOrDefault(b.Auction) + 1;
            }
        }

        public override void OnWatermark(long watermark, Emit emit)
        {
            while (_windows.Count > 0)
            {
                var (start, counts) = _windows.First();
                if (start + Size - 1 > watermark) break;
                _windows.Remove(start);
                var max = counts.Values.Max();
                foreach (var (auction, n) in counts.OrderBy(kv => kv.Key))
                    if (n >= max) emit(new ReferenceRow([auction, start + Size, n]) { WindowEnd = start + Size }, false);
            }
        }
    }

    private sealed class Q7(ReferenceQuery q) : StreamingReference(q)
    {
        private const long Size = 10000;
        // Per open window: the highest price so far and the bids at that price; bids exactly on a window's start also
        // join the window that ends there (BETWEEN end - 10 s AND end).
        private readonly SortedDictionary<long, (long Max, List<ReferenceBid> Bids)> _windows = new();
        private readonly Dictionary<long, List<ReferenceBid>> _onEnd = new();

        public override void OnEvent(object ev, Emit emit)
        {
            if (ev is not ReferenceBid b) return;
            var start = Floor(b.DateTime, Size);
            if (!_windows.TryGetValue(start, out var w)) w = (long.MinValue, []);
            if (b.Price > w.Max) w = (b.Price, [b]);
            else if (b.Price == w.Max) w.Bids.Add(b);
            _windows[start] = w;
            if (b.DateTime == start)
            {
                if (!_onEnd.TryGetValue(start, out var list)) _onEnd[start] = list = [];
                list.Add(b);
            }
        }

        public override void OnWatermark(long watermark, Emit emit)
        {
            while (_windows.Count > 0)
            {
                var (start, w) = _windows.First();
                var end = start + Size;
                if (end - 1 > watermark) break;
                _windows.Remove(start);
                foreach (var b in w.Bids) emit(Row(b, end), false);
                if (_onEnd.Remove(end, out var edge))
                    foreach (var b in edge.Where(b => b.Price == w.Max)) emit(Row(b, end), false);
                _onEnd.Remove(start);
            }
        }

        private static ReferenceRow Row(ReferenceBid b, long end) =>
            new([b.Auction, b.Price, b.Bidder, b.DateTime, b.Extra, end]) { WindowEnd = end };
    }

    private sealed class Q8(ReferenceQuery q) : StreamingReference(q)
    {
        private const long Size = 10000;
        private readonly SortedDictionary<long, (Dictionary<long, string> People, HashSet<long> Sellers)> _windows = new();

        private (Dictionary<long, string> People, HashSet<long> Sellers) Window(long t)
        {
            var start = Floor(t, Size);
            if (!_windows.TryGetValue(start, out var w)) _windows[start] = w = (new(), new());
            return w;
        }

        public override void OnEvent(object ev, Emit emit)
        {
            switch (ev)
            {
                case ReferencePerson p: Window(p.DateTime).People[p.Id] = p.Name; break;
                case ReferenceAuction a: Window(a.DateTime).Sellers.Add(a.Seller); break;
            }
        }

        public override void OnWatermark(long watermark, Emit emit)
        {
            while (_windows.Count > 0)
            {
                var (start, w) = _windows.First();
                if (start + Size - 1 > watermark) break;
                _windows.Remove(start);
                foreach (var (id, name) in w.People.OrderBy(kv => kv.Key))
                    if (w.Sellers.Contains(id)) emit(new ReferenceRow([id, start, name, start + Size]) { WindowEnd = start + Size }, false);
            }
        }
    }
}
