using System.Buffers;
using System.Diagnostics.CodeAnalysis;

namespace PiBench.Core.Nexmark;

// Specification notes (shared/reference/nexmark-generator.md). Points the specification leaves open, and what this port
// does about them, so that nothing is guessed silently:
//  * Seeds of side-by-side generators (spec 8.1 says it is a PiBench decision): GeneratorSeed seeds the one instance
//    being built, as given, for every GeneratorIndex (the behaviour of the patched Java that made the vectors). Callers
//    that run N generators and want independent draws must pass different seeds themselves.
//  * numEventGenerators versus the split count (spec 2.4 says treat them as two inputs): NumEventGenerators (delay) is
//    separate from GeneratorCount (splits) and defaults to it.
//  * maxEmitSpeed and isSourceKeepAlive (spec 2.1) are behaviours of the Flink source, not of the generator: they are
//    not part of this class; a paced producer uses NexmarkEvent.WallclockOffsetMicros instead.
//  * Validation is stricter than Java: hot ratios < 1, negative sizes, proportions, windows, ids or numbers, a zero rate
//    and a maxEvents divisor outside 1..int.MaxValue are refused with an ErrorId instead of throwing or wrapping later.
//  * nextLongBelow's nextLong() branch (bounds >= Integer.MAX_VALUE, spec 3.5) is implemented as written but cannot be
//    reached with int-sized windows and is not covered by any reference vector.
//  * Skipping in the Flink profile replays the events (spec 8.3) so that the stream equals an uninterrupted run.

/// <summary>
/// One Nexmark generator instance (one split of the logical stream), a bit-exact port of the Java generator of
/// nexmark-flink (profile <see cref="NexmarkProfile.Flink"/>, seeded) or of release-0.1 / Apache Beam
/// (<see cref="NexmarkProfile.Beam"/>), written from shared/reference/nexmark-generator.md.
/// </summary>
/// <remarks>
/// <para>Use: <c>var g = new NexmarkGenerator(config); while (g.TryNext(out var ev)) { ... }</c>. Not thread-safe; run one
/// instance per thread. Several instances with different <see cref="NexmarkConfiguration.GeneratorIndex"/> together make
/// the stream of <see cref="NexmarkConfiguration.GeneratorCount"/> parallel Flink source readers: they share event numbers
/// and timestamps (parallel timelines) and have disjoint event-id ranges (spec 2.4).</para>
/// <para>Pacing: <see cref="NexmarkEvent.WallclockOffsetMicros"/> is the event's intended send time relative to the start
/// of this generator's run, exactly as the Java source computes its wall-clock timestamps; a producer pacing at
/// <see cref="NexmarkConfiguration.FirstEventRate"/> can send each event at <c>start + WallclockOffsetMicros</c>
/// (all generators together then reach the configured rate). <see cref="IntendedOffsetMicros"/> gives the same value
/// for any index without generating.</para>
/// <para>Seeds: <see cref="NexmarkConfiguration.GeneratorSeed"/> seeds this one instance as given (the Java seed patch reads
/// one seed value, so two splits built with the same seed share their random draws, while ids and types differ). When a
/// caller runs several generators side by side it decides whether they get the same or different seeds; the reference
/// vectors only fix the single-generator case.</para>
/// </remarks>
public sealed class NexmarkGenerator
{
    private const int PoolLength = NexmarkDefaults.ExtraPoolLength;

    private readonly NexmarkProfile _profile;
    private readonly long _baseTime, _firstEventId, _firstEventNumber, _outOfOrder;
    private readonly double _delayUs;
    private readonly int _p, _a, _t;
    private readonly int _avgPerson, _avgAuction, _avgBid;
    private readonly int _hotAuctionRatio, _hotSellersRatio, _hotBiddersRatio;
    private readonly int _inFlight, _activePeople;
    private readonly long _auctionAhead;
    private readonly NexmarkExtraPool? _pool;
    private readonly NexmarkUrlTable? _urls;
    private readonly ChannelJsonSlots? _channelSlots;
    private SplitMix _rng; // Flink profile: the generator RNG shared by all events
    private long _count;

    /// <summary>Builds the generator for <c>configuration.GeneratorIndex</c> of <c>configuration.GeneratorCount</c>.</summary>
    /// <param name="configuration">Validated and resolved here (a null base time becomes "now" for Flink, see
    /// <see cref="NexmarkConfiguration.Resolve"/>); the resolved copy is <see cref="Configuration"/>.</param>
    /// <param name="eventsCountSoFar">Start after this many events (spec 8.3). The Flink profile replays them to reach the
    /// same RNG state as an uninterrupted run; the Beam profile jumps.</param>
    /// <exception cref="PiBenchException">A configuration value is invalid (ErrorId such as InvalidGeneratorIndex).</exception>
    public NexmarkGenerator(NexmarkConfiguration configuration, long eventsCountSoFar = 0)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var c = configuration.Resolve();
        Configuration = c;
        _profile = c.Profile;
        _baseTime = c.BaseTime!.Value;
        _outOfOrder = c.OutOfOrderGroupSize;
        _p = c.PersonProportion; _a = c.AuctionProportion; _t = c.PersonProportion + c.AuctionProportion + c.BidProportion;
        _avgPerson = c.AvgPersonByteSize; _avgAuction = c.AvgAuctionByteSize; _avgBid = c.AvgBidByteSize;
        _hotAuctionRatio = c.HotAuctionRatio; _hotSellersRatio = c.HotSellersRatio; _hotBiddersRatio = c.HotBiddersRatio;
        _inFlight = c.NumInFlightAuctions; _activePeople = c.NumActivePeople;
        _auctionAhead = _a == 0 ? 0 : (long)_inFlight * _t / _a; // only used by auction events, which need A > 0

        // Spec 2.3: delay in IEEE double, divide first, then multiply.
        _delayUs = 1_000_000.0 / c.FirstEventRate * c.NumEventGenerators!.Value;

        // Spec 2.3: maxEvents, the divisor in 32-bit arithmetic (Validate keeps it in range).
        long maxEvents = c.NumEvents != 0
            ? c.NumEvents
            : long.MaxValue / (_t * Math.Max(_avgPerson, Math.Max(_avgAuction, _avgBid)));
        TotalMaxEvents = maxEvents;

        // Spec 2.4: split.
        int n = c.GeneratorCount, i = c.GeneratorIndex;
        long firstEventId = c.FirstEventId!.Value, stopAt = c.StopAtEvent, maxI = maxEvents, stopI = stopAt;
        if (n > 1)
        {
            long sub = maxEvents / n, subStop = stopAt / n;
            firstEventId += i * sub;
            maxI = i == n - 1 ? maxEvents - sub * (n - 1) : sub;
            stopI = i == n - 1 ? stopAt - subStop * (n - 1) : subStop;
            if (stopAt < 0) stopI = -1; // the Flink reader rebuilds its split with the top-level stopAtEvent
        }
        _firstEventId = firstEventId;
        _firstEventNumber = c.FirstEventNumber!.Value;
        MaxEvents = maxI;
        StopAtEvent = stopI;
        Limit = stopI < 0 ? maxI : Math.Min(stopI, maxI);

        if (_profile == NexmarkProfile.Flink)
        {
            _pool = NexmarkExtraPool.For(c.ExtraSeed);
            _urls = NexmarkUrlTable.For(c.UrlSeed);
            _channelSlots = _urls.ChannelJson;
            _rng = new SplitMix(c.GeneratorSeed);
        }

        if (eventsCountSoFar < 0) throw new PiBenchException("InvalidSkip", PiBenchErrorCategory.InvalidArgument,
            $"Cannot start after {eventsCountSoFar} events.", eventsCountSoFar, "Use 0 or more.");
        Skip(eventsCountSoFar);
    }

    /// <summary>
    /// Resumes a generator from a saved position without replaying (spec 8.3): <paramref name="eventsCountSoFar"/> and,
    /// for the Flink profile, the <see cref="RandomState"/> saved at that position. The configuration must be the
    /// resolved one of the saved generator (<see cref="Configuration"/>), including its base time.
    /// </summary>
    public static NexmarkGenerator Resume(NexmarkConfiguration configuration, long eventsCountSoFar, long randomState)
    {
        var g = new NexmarkGenerator(configuration);
        if (eventsCountSoFar < 0 || eventsCountSoFar > g.Limit)
            throw new PiBenchException("InvalidSkip", PiBenchErrorCategory.InvalidArgument,
                $"Cannot resume after {eventsCountSoFar} events; the generator's limit is {g.Limit}.", eventsCountSoFar,
                "Pass the EventsCountSoFar saved from the same configuration.");
        g._count = eventsCountSoFar;
        if (g._profile == NexmarkProfile.Flink) g._rng.State = randomState;
        return g;
    }

    /// <summary>The resolved configuration (no nulls left) this generator runs with.</summary>
    public NexmarkConfiguration Configuration { get; }

    /// <summary>Flink or Beam.</summary>
    public NexmarkProfile Profile => _profile;

    /// <summary>Epoch ms of event number 0 (<c>baseTime</c>).</summary>
    public long BaseTime => _baseTime;

    /// <summary>This split's first event id (<c>firstEventId + GeneratorIndex * (maxEvents / GeneratorCount)</c>).</summary>
    public long FirstEventId => _firstEventId;

    /// <summary><c>firstEventNumber</c> (shared by all splits).</summary>
    public long FirstEventNumber => _firstEventNumber;

    /// <summary>Inter-event delay in microseconds: <c>1e6 / firstEventRate * numEventGenerators</c>.</summary>
    public double InterEventDelayMicros => _delayUs;

    /// <summary>maxEvents of the whole stream before splitting (spec 2.3).</summary>
    public long TotalMaxEvents { get; }

    /// <summary>maxEvents of this split.</summary>
    public long MaxEvents { get; }

    /// <summary>stopAtEvent of this split (−1 = none).</summary>
    public long StopAtEvent { get; }

    /// <summary>How many events this generator produces in total: min(stopAtEvent, maxEvents) of the split.</summary>
    public long Limit { get; }

    /// <summary>Events produced (or skipped) so far: the index of the next event.</summary>
    public long EventsCountSoFar => _count;

    /// <summary>True while <see cref="EventsCountSoFar"/> &lt; <see cref="Limit"/>.</summary>
    public bool HasNext => _count < Limit;

    /// <summary>Flink profile: the generator RNG's 64-bit state (save it with <see cref="EventsCountSoFar"/> to resume).
    /// Beam profile: 0 (there is no state).</summary>
    public long RandomState => _profile == NexmarkProfile.Flink ? _rng.State : 0;

    /// <summary>Timestamp of an event number (spec 3.2): <c>baseTime + (long)(m * delayUs) / 1000</c>.</summary>
    public long TimestampForNumber(long eventNumber) => _baseTime + (long)(eventNumber * _delayUs) / 1000;

    /// <summary>Intended send time of event <paramref name="index"/> relative to the run start, µs (spec 3.2, wall clock).</summary>
    public long IntendedOffsetMicros(long index) => (long)((_firstEventNumber + index) * _delayUs);

    /// <summary>The next event, or false when <see cref="Limit"/> is reached.</summary>
    public bool TryNext([NotNullWhen(true)] out NexmarkEvent? ev)
    {
        if (_count >= Limit) { ev = null; return false; }
        ev = Generate();
        return true;
    }

    /// <summary>The next event.</summary>
    /// <exception cref="InvalidOperationException">The generator reached its <see cref="Limit"/>.</exception>
    public NexmarkEvent Next() =>
        TryNext(out var ev) ? ev : throw new InvalidOperationException($"The Nexmark generator reached its limit of {Limit} events.");

    /// <summary>
    /// Skips <paramref name="count"/> events (stopping at the limit); returns how many were skipped. Beam: O(1). Flink: the
    /// events are generated and dropped, so that the RNG state equals that of an uninterrupted run.
    /// </summary>
    public long Skip(long count)
    {
        if (count <= 0) return 0;
        long n = Math.Min(count, Limit - _count);
        if (n <= 0) return 0;
        if (_profile == NexmarkProfile.Beam) { _count += n; return n; }
        for (long i = 0; i < n; i++) Generate();
        return n;
    }

    // ---------------------------------------------------------------------------------------------------- per event

    private NexmarkEvent Generate()
    {
        long k = _count;
        long e = _firstEventNumber + k;
        long adjusted = _outOfOrder == 1 ? e : e / _outOfOrder * _outOfOrder + e * 953 % _outOfOrder;
        long watermarkNumber = _outOfOrder == 1 ? e : e / _outOfOrder * _outOfOrder;
        long eventTs = Ts(adjusted);
        long watermark = Ts(watermarkNumber);
        long id = _firstEventId + adjusted;
        long wallUs = (long)(e * _delayUs);
        long rem = id % _t;
        NexmarkEventType type = rem < _p ? NexmarkEventType.Person : rem < _p + _a ? NexmarkEventType.Auction : NexmarkEventType.Bid;

        Person? person = null; Auction? auction = null; Bid? bid = null;
        if (_profile == NexmarkProfile.Flink)
        {
            switch (type)
            {
                case NexmarkEventType.Person: person = NewPerson(ref _rng, id, eventTs); break;
                case NexmarkEventType.Auction: auction = NewAuction(ref _rng, adjusted, id, eventTs); break;
                default: bid = NewBid(ref _rng, id, eventTs); break;
            }
        }
        else
        {
            var rng = new JavaLcg(id); // spec 8.2: a fresh java.util.Random(eventId) per event
            switch (type)
            {
                case NexmarkEventType.Person: person = NewPerson(ref rng, id, eventTs); break;
                case NexmarkEventType.Auction: auction = NewAuction(ref rng, adjusted, id, eventTs); break;
                default: bid = NewBid(ref rng, id, eventTs); break;
            }
        }
        _count = k + 1;
        return new NexmarkEvent(_profile, k, e, adjusted, id, type, eventTs, watermark, wallUs, person, auction, bid);
    }

    private long Ts(long eventNumber) => _baseTime + (long)(eventNumber * _delayUs) / 1000;

    // ---------------------------------------------------------------------------------------------------- ids (3.4, 3.5)

    private long LastBase0PersonId(long id)
    {
        long epoch = id / _t, off = id % _t;
        if (off >= _p) off = _p - 1;
        return epoch * _p + off;
    }

    private long LastBase0AuctionId(long id)
    {
        long epoch = id / _t, off = id % _t;
        if (off < _p) { epoch--; off = _a - 1; }
        else if (off >= _p + _a) off = _a - 1;
        else off -= _p;
        return epoch * _a + off;
    }

    private static long NextLongBelow<TR>(ref TR rng, long n) where TR : struct, IJavaRng =>
        n < int.MaxValue ? rng.NextInt((int)n) : Math.Abs(rng.NextLong() % n);

    private long NextBase0PersonId<TR>(ref TR rng, long id) where TR : struct, IJavaRng
    {
        long num = LastBase0PersonId(id) + 1;
        long active = Math.Min(num, _activePeople);
        return num - active + NextLongBelow(ref rng, active + NexmarkDefaults.PersonIdLead);
    }

    private long NextBase0AuctionId<TR>(ref TR rng, long id) where TR : struct, IJavaRng
    {
        long max = LastBase0AuctionId(id);
        long min = Math.Max(max - _inFlight, 0);
        return min + NextLongBelow(ref rng, max - min + 1 + NexmarkDefaults.AuctionIdLead);
    }

    // ---------------------------------------------------------------------------------------------------- entities (5)

    private Person NewPerson<TR>(ref TR rng, long id, long eventTs) where TR : struct, IJavaRng
    {
        long personId = LastBase0PersonId(id) + NexmarkDefaults.FirstPersonId;
        int first = rng.NextInt(NexmarkWords.FirstNames.Length);
        int last = rng.NextInt(NexmarkWords.LastNames.Length);
        string name = NexmarkWords.FullNames[first * NexmarkWords.LastNames.Length + last];

        Span<char> buf = stackalloc char[24];
        Span<char> email = stackalloc char[7 + 1 + 5 + 4];
        var local = NexmarkStrings.NextString(ref rng, 7, ' ', buf);
        int len = 0;
        buf[local].CopyTo(email); len += buf[local].Length;
        email[len++] = '@';
        var domain = NexmarkStrings.NextString(ref rng, 5, ' ', buf);
        buf[domain].CopyTo(email[len..]); len += buf[domain].Length;
        ".com".CopyTo(email[len..]); len += 4;
        string emailAddress = new(email[..len]);

        Span<char> cc = stackalloc char[19];
        for (int g = 0; g < 4; g++)
        {
            int v = rng.NextInt(10000);
            int o = g * 5;
            cc[o] = (char)('0' + v / 1000);
            cc[o + 1] = (char)('0' + v / 100 % 10);
            cc[o + 2] = (char)('0' + v / 10 % 10);
            cc[o + 3] = (char)('0' + v % 10);
            if (g < 3) cc[o + 4] = ' ';
        }
        string creditCard = new(cc);
        string city = NexmarkWords.Cities[rng.NextInt(NexmarkWords.Cities.Length)];
        string state = NexmarkWords.States[rng.NextInt(NexmarkWords.States.Length)];
        int size = 8 + name.Length + emailAddress.Length + creditCard.Length + city.Length + state.Length;
        var extra = NextExtra(ref rng, size, _avgPerson);
        return new Person(personId, name, emailAddress, creditCard, city, state, eventTs, extra);
    }

    private Auction NewAuction<TR>(ref TR rng, long adjustedEventNumber, long id, long eventTs) where TR : struct, IJavaRng
    {
        long auctionId = LastBase0AuctionId(id) + NexmarkDefaults.FirstAuctionId;
        long seller = rng.NextInt(_hotSellersRatio) > 0
            ? LastBase0PersonId(id) / NexmarkDefaults.HotSellerBlock * NexmarkDefaults.HotSellerBlock
            : NextBase0PersonId(ref rng, id);
        seller += NexmarkDefaults.FirstPersonId;
        long category = NexmarkDefaults.FirstCategoryId + rng.NextInt(NexmarkDefaults.NumCategories);
        long initialBid = NextPrice(ref rng);

        // Spec 3.6: the horizon uses the adjusted event NUMBER; expires is drawn before the item name.
        long horizon = Ts(adjustedEventNumber + _auctionAhead) - eventTs;
        long expires = eventTs + 1 + NextLongBelow(ref rng, Math.Max(2 * horizon, 1));

        Span<char> buf = stackalloc char[100];
        string itemName = new(buf[NexmarkStrings.NextString(ref rng, 20, ' ', buf)]);
        string description = new(buf[NexmarkStrings.NextString(ref rng, 100, ' ', buf)]);
        long reserve = initialBid + NextPrice(ref rng);
        int size = 8 + itemName.Length + description.Length + 8 + 8 + 8 + 8 + 8;
        var extra = NextExtra(ref rng, size, _avgAuction);
        return new Auction(auctionId, itemName, description, initialBid, reserve, eventTs, expires, seller, category, extra);
    }

    private Bid NewBid<TR>(ref TR rng, long id, long eventTs) where TR : struct, IJavaRng
    {
        long auction = rng.NextInt(_hotAuctionRatio) > 0
            ? LastBase0AuctionId(id) / NexmarkDefaults.HotAuctionBlock * NexmarkDefaults.HotAuctionBlock
            : NextBase0AuctionId(ref rng, id);
        auction += NexmarkDefaults.FirstAuctionId;
        long bidder = rng.NextInt(_hotBiddersRatio) > 0
            ? LastBase0PersonId(id) / NexmarkDefaults.HotBidderBlock * NexmarkDefaults.HotBidderBlock + 1
            : NextBase0PersonId(ref rng, id);
        bidder += NexmarkDefaults.FirstPersonId;
        long price = NextPrice(ref rng);

        string? channel = null, url = null;
        var entry = -1;
        if (_urls is not null) // Flink profile only
        {
            if (rng.NextInt(2) > 0)
            {
                int i = rng.NextInt(NexmarkWords.HotChannels.Length);
                channel = NexmarkWords.HotChannels[i];
                url = _urls.HotUrls[i];
                entry = i;
            }
            else
            {
                int c = rng.NextInt(NexmarkDefaults.ChannelsNumber);
                channel = _urls.ChannelNames[c];
                url = _urls.ChannelUrls[c];
                entry = NexmarkWords.HotChannels.Length + c;
                if (_channelSlots is { } slots) CachePrefetch.Range(slots.Bytes, entry * slots.Stride, slots.Stride);
            }
            bidder += NexmarkDefaults.FirstPersonId; // added a second time: upstream nexmark-flink behaviour (spec 5.3)
        }
        var extra = NextExtra(ref rng, 32, _avgBid);
        return new Bid(auction, bidder, price, channel, url, eventTs, extra) { UrlTable = _urls, UrlEntry = entry };
    }

    // ---------------------------------------------------------------------------------------------------- helpers (6)

    private static long NextPrice<TR>(ref TR rng) where TR : struct, IJavaRng =>
        (long)Math.Round(Math.Pow(10.0, rng.NextDouble() * 6.0) * 100.0, MidpointRounding.AwayFromZero);

    private ExtraText NextExtra<TR>(ref TR rng, int currentSize, int desiredAverageSize) where TR : struct, IJavaRng
    {
        if (currentSize > desiredAverageSize) return new ExtraText(string.Empty); // no draw at all
        int want = desiredAverageSize - currentSize;
        int delta = (int)Math.Round(want * 0.2, MidpointRounding.AwayFromZero); // Java Math.round, non-negative input
        int size = want - delta + (delta == 0 ? 0 : rng.NextInt(2 * delta));
        return NextExactString(ref rng, size);
    }

    private ExtraText NextExactString<TR>(ref TR rng, int length) where TR : struct, IJavaRng
    {
        if (_pool is not null && length < PoolLength / 2)
        {
            int off = rng.NextInt(PoolLength - length); // one draw, even for length 0
            CachePrefetch.Range(_pool.Utf8, off, length);
            return new ExtraText(_pool, off, length);
        }
        if (length == 0) return new ExtraText(string.Empty);
        char[]? rented = null;
        Span<char> buf = length <= 1024 ? stackalloc char[length] : (rented = ArrayPool<char>.Shared.Rent(length)).AsSpan(0, length);
        NexmarkStrings.ExactStringLoop(ref rng, buf);
        var text = new string(buf);
        if (rented is not null) ArrayPool<char>.Shared.Return(rented);
        return new ExtraText(text);
    }
}
