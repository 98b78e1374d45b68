using System.Globalization;

namespace PiBench.Core.Nexmark;

/// <summary>Which generator behaviour to reproduce (spec section 1).</summary>
public enum NexmarkProfile
{
    /// <summary>
    /// Current nexmark-flink master: one <c>SplittableRandom</c> per generator (seed <c>GeneratorSeed</c>), a shared
    /// 1 MiB "extra" pool (seed <c>ExtraSeed</c>) and the channel/URL tables (seed <c>UrlSeed</c>); bids carry
    /// <c>channel</c> and <c>url</c>, and the bidder id has 1000 added twice (upstream behaviour, kept on purpose).
    /// </summary>
    Flink = 0,

    /// <summary>
    /// nexmark-flink <c>release-0.1</c> = the Apache Beam generator algorithm: a fresh <c>java.util.Random(eventId)</c>
    /// for every event, no seeds, bids without channel and url.
    /// </summary>
    Beam = 1,
}

/// <summary>The Nexmark event kind; the numeric values are the <c>event_type</c> column of the Flink table.</summary>
public enum NexmarkEventType
{
    /// <summary>A new person (event_type 0).</summary>
    Person = 0,
    /// <summary>A new auction (event_type 1).</summary>
    Auction = 1,
    /// <summary>A bid on an auction (event_type 2).</summary>
    Bid = 2,
}

/// <summary>
/// The "extra" padding string of an entity. In the Flink profile it is a slice of the process-wide pool and is only
/// turned into a string when somebody reads <c>Extra</c>; the JSON writers copy it straight from the pool bytes.
/// </summary>
internal struct ExtraText
{
    private string? _text;
    private readonly NexmarkExtraPool? _pool;
    private readonly int _offset;
    private readonly int _length;

    public ExtraText(string text) { _text = text; _pool = null; _offset = 0; _length = text.Length; }

    public ExtraText(NexmarkExtraPool pool, int offset, int length) { _text = null; _pool = pool; _offset = offset; _length = length; }

    public readonly int Length => _length;

    /// <summary>The ASCII bytes when the text lives in the pool; empty otherwise (then use <see cref="Text"/>).</summary>
    public readonly bool TryGetUtf8(out ReadOnlySpan<byte> utf8)
    {
        if (_pool is null) { utf8 = default; return false; }
        utf8 = _pool.Utf8.AsSpan(_offset, _length);
        return true;
    }

    /// <summary>The pool slice behind the text, when it lives in the pool.</summary>
    internal readonly bool TryGetPool(out NexmarkExtraPool pool, out int offset, out int length)
    {
        pool = _pool!; offset = _offset; length = _length;
        return _pool is not null;
    }

    public string Text => _text ??= _pool!.Text.Substring(_offset, _length);
}

/// <summary>A Nexmark person (spec 5.1). All timestamps are epoch milliseconds (UTC).</summary>
public sealed class Person
{
    private ExtraText _extra;

    internal Person(long id, string name, string emailAddress, string creditCard, string city, string state, long dateTime, ExtraText extra)
    {
        Id = id; Name = name; EmailAddress = emailAddress; CreditCard = creditCard; City = city; State = state;
        DateTime = dateTime; _extra = extra;
    }

    /// <summary>Person id (the first person is 1000).</summary>
    public long Id { get; }
    /// <summary>First and last name, e.g. "Peter Jones".</summary>
    public string Name { get; }
    /// <summary>Random e-mail address ending in ".com".</summary>
    public string EmailAddress { get; }
    /// <summary>Four groups of four digits separated by spaces.</summary>
    public string CreditCard { get; }
    /// <summary>One of ten US cities.</summary>
    public string City { get; }
    /// <summary>One of six US state codes.</summary>
    public string State { get; }
    /// <summary>Creation time, epoch milliseconds (equals the event timestamp).</summary>
    public long DateTime { get; }
    /// <summary>Padding that brings the record to its average size.</summary>
    public string Extra => _extra.Text;

    internal ref ExtraText ExtraRef => ref _extra;

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"Person {Id} '{Name}' {City}, {State}");
}

/// <summary>A Nexmark auction (spec 5.2). All timestamps are epoch milliseconds (UTC).</summary>
public sealed class Auction
{
    private ExtraText _extra;

    internal Auction(long id, string itemName, string description, long initialBid, long reserve, long dateTime, long expires,
        long seller, long category, ExtraText extra)
    {
        Id = id; ItemName = itemName; Description = description; InitialBid = initialBid; Reserve = reserve;
        DateTime = dateTime; Expires = expires; Seller = seller; Category = category; _extra = extra;
    }

    /// <summary>Auction id (the first auction is 1000).</summary>
    public long Id { get; }
    /// <summary>Random item name (letters and spaces).</summary>
    public string ItemName { get; }
    /// <summary>Random description (letters and spaces).</summary>
    public string Description { get; }
    /// <summary>Initial bid in cents.</summary>
    public long InitialBid { get; }
    /// <summary>Reserve price in cents (initial bid plus a random price).</summary>
    public long Reserve { get; }
    /// <summary>Creation time, epoch milliseconds (equals the event timestamp).</summary>
    public long DateTime { get; }
    /// <summary>End of the auction, epoch milliseconds.</summary>
    public long Expires { get; }
    /// <summary>Person id of the seller.</summary>
    public long Seller { get; }
    /// <summary>Category id, 10 to 14.</summary>
    public long Category { get; }
    /// <summary>Padding that brings the record to its average size.</summary>
    public string Extra => _extra.Text;

    internal ref ExtraText ExtraRef => ref _extra;

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"Auction {Id} '{ItemName}' seller {Seller} cat {Category} bid {InitialBid}");
}

/// <summary>
/// A Nexmark bid (spec 5.3). <see cref="Channel"/> and <see cref="Url"/> are null in the Beam profile, which has no
/// such fields. All timestamps are epoch milliseconds (UTC).
/// </summary>
public sealed class Bid
{
    private ExtraText _extra;

    internal Bid(long auction, long bidder, long price, string? channel, string? url, long dateTime, ExtraText extra)
    {
        Auction = auction; Bidder = bidder; Price = price; Channel = channel; Url = url; DateTime = dateTime; _extra = extra;
    }

    /// <summary>Auction id the bid is for.</summary>
    public long Auction { get; }
    /// <summary>Person id of the bidder (Flink profile: base-0 id + 2000, see spec 5.3).</summary>
    public long Bidder { get; }
    /// <summary>Price in cents.</summary>
    public long Price { get; }
    /// <summary>Flink profile: "Google", "Facebook", "Baidu", "Apple" or "channel-N"; Beam profile: null.</summary>
    public string? Channel { get; }
    /// <summary>Flink profile: the channel's URL; Beam profile: null.</summary>
    public string? Url { get; }
    /// <summary>Bid time, epoch milliseconds (equals the event timestamp).</summary>
    public long DateTime { get; }
    /// <summary>Padding that brings the record to its average size.</summary>
    public string Extra => _extra.Text;

    internal ref ExtraText ExtraRef => ref _extra;

    /// <summary>Flink profile: the table <see cref="Channel"/> and <see cref="Url"/> come from, and their entry in it
    /// (hot channels first, then channel-0 ..); the Kafka JSON writer copies that entry's pre-encoded bytes.</summary>
    internal NexmarkUrlTable? UrlTable;
    internal int UrlEntry;

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"Bid auction {Auction} bidder {Bidder} price {Price}");
}

/// <summary>
/// One generated Nexmark event: numbering, timestamps and exactly one of <see cref="Person"/>, <see cref="Auction"/>,
/// <see cref="Bid"/> (the other two are null). Immutable.
/// </summary>
public sealed class NexmarkEvent
{
    internal NexmarkEvent(NexmarkProfile profile, long index, long eventNumber, long adjustedEventNumber, long eventId,
        NexmarkEventType eventType, long eventTimestamp, long watermark, long wallclockOffsetMicros,
        Person? person, Auction? auction, Bid? bid)
    {
        Profile = profile; Index = index; EventNumber = eventNumber; AdjustedEventNumber = adjustedEventNumber;
        EventId = eventId; EventType = eventType; EventTimestamp = eventTimestamp; Watermark = watermark;
        WallclockOffsetMicros = wallclockOffsetMicros; Person = person; Auction = auction; Bid = bid;
    }

    /// <summary>The profile that generated the event (decides the bid fields in JSON).</summary>
    public NexmarkProfile Profile { get; }

    /// <summary>Events this generator produced before this one (0-based; <c>eventsCountSoFar</c> in Java).</summary>
    public long Index { get; }

    /// <summary><c>firstEventNumber + Index</c>.</summary>
    public long EventNumber { get; }

    /// <summary>The event number after the out-of-order permutation (spec 3.1); equals EventNumber for group size 1.</summary>
    public long AdjustedEventNumber { get; }

    /// <summary><c>firstEventId + AdjustedEventNumber</c>; decides the event type.</summary>
    public long EventId { get; }

    /// <summary>Person, Auction or Bid.</summary>
    public NexmarkEventType EventType { get; }

    /// <summary>Event time in epoch milliseconds (UTC); equals the entity's DateTime.</summary>
    public long EventTimestamp { get; }

    /// <summary>Event time as a date (UTC), for display.</summary>
    public DateTimeOffset EventTime => DateTimeOffset.FromUnixTimeMilliseconds(EventTimestamp);

    /// <summary>Watermark in epoch milliseconds: the time of the watermark number (spec 3.2).</summary>
    public long Watermark { get; }

    /// <summary>
    /// Intended send time of this event relative to the start of the run, in microseconds:
    /// <c>(long)(EventNumber * delayUs)</c>. Java's wall-clock timestamp is
    /// <c>wallclockBase + WallclockOffsetMs</c> (spec 3.2), where wallclockBase is the real clock at the first event.
    /// Note that the offset counts from event number 0, so with <c>firstEventNumber = 1</c> the first event's offset
    /// is one delay, exactly as in Java.
    /// </summary>
    public long WallclockOffsetMicros { get; }

    /// <summary>Java's <c>wallclockTimestamp - wallclockBase</c> in milliseconds (<c>WallclockOffsetMicros / 1000</c>).</summary>
    public long WallclockOffsetMs => WallclockOffsetMicros / 1000;

    /// <summary>The person for a Person event, otherwise null.</summary>
    public Person? Person { get; }

    /// <summary>The auction for an Auction event, otherwise null.</summary>
    public Auction? Auction { get; }

    /// <summary>The bid for a Bid event, otherwise null.</summary>
    public Bid? Bid { get; }

    public override string ToString() => EventType switch
    {
        NexmarkEventType.Person => Person!.ToString(),
        NexmarkEventType.Auction => Auction!.ToString(),
        _ => Bid!.ToString(),
    };
}
