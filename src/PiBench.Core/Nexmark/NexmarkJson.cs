using System.Buffers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace PiBench.Core.Nexmark;

/// <summary>The JSON line shapes PiBench writes.</summary>
public enum NexmarkJsonShape
{
    /// <summary>
    /// The Flink suite's Kafka wire format (spec 9.3): <c>{"event_type":..,"person":..,"auction":..,"bid":..}</c>,
    /// absent rows as <c>null</c>, timestamps as <c>yyyy-MM-dd HH:mm:ss[.fff]</c> UTC strings.
    /// </summary>
    Kafka = 0,

    /// <summary>The line format of shared/vectors/nexmark (spec 9.1): numbering, type, timestamps and the entity, epoch-ms numbers.</summary>
    Vector = 1,
}

/// <summary>
/// Writes <see cref="NexmarkEvent"/>s as compact UTF-8 JSON with <see cref="Utf8JsonWriter"/>, byte-identical to the
/// reference vectors: no whitespace, strings escaped with <c>\"</c>, <c>\\</c> and <c>\u00XX</c> only (printable ASCII
/// such as the backquote is written as is). No string is built per event: the Flink profile's "extra" text is copied
/// straight from the pool bytes, and timestamps are formatted into a stack buffer.
/// </summary>
/// <remarks>
/// The static methods are thread-safe (each thread reuses its own <see cref="Utf8JsonWriter"/>). For a producer that
/// needs one byte array or span per message, <see cref="NexmarkJsonWriter"/> owns a reusable buffer.
/// </remarks>
public static class NexmarkJson
{
    private static readonly JsonWriterOptions Options = new()
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        Indented = false,
        SkipValidation = true,
    };

    [ThreadStatic] private static Utf8JsonWriter? t_writer;
    [ThreadStatic] private static TimestampCache? t_ts;

    // Property names, encoded once.
    private static readonly JsonEncodedText PEventType = JsonEncodedText.Encode("event_type");
    private static readonly JsonEncodedText PPerson = JsonEncodedText.Encode("person");
    private static readonly JsonEncodedText PAuction = JsonEncodedText.Encode("auction");
    private static readonly JsonEncodedText PBid = JsonEncodedText.Encode("bid");
    private static readonly JsonEncodedText PIndex = JsonEncodedText.Encode("index");
    private static readonly JsonEncodedText PEventNumber = JsonEncodedText.Encode("eventNumber");
    private static readonly JsonEncodedText PAdjusted = JsonEncodedText.Encode("adjustedEventNumber");
    private static readonly JsonEncodedText PEventId = JsonEncodedText.Encode("eventId");
    private static readonly JsonEncodedText PType = JsonEncodedText.Encode("type");
    private static readonly JsonEncodedText PEventTypeCamel = JsonEncodedText.Encode("eventType");
    private static readonly JsonEncodedText PEventTimestamp = JsonEncodedText.Encode("eventTimestamp");
    private static readonly JsonEncodedText PWatermark = JsonEncodedText.Encode("watermark");
    private static readonly JsonEncodedText PId = JsonEncodedText.Encode("id");
    private static readonly JsonEncodedText PName = JsonEncodedText.Encode("name");
    private static readonly JsonEncodedText PEmail = JsonEncodedText.Encode("emailAddress");
    private static readonly JsonEncodedText PCreditCard = JsonEncodedText.Encode("creditCard");
    private static readonly JsonEncodedText PCity = JsonEncodedText.Encode("city");
    private static readonly JsonEncodedText PState = JsonEncodedText.Encode("state");
    private static readonly JsonEncodedText PDateTime = JsonEncodedText.Encode("dateTime");
    private static readonly JsonEncodedText PExtra = JsonEncodedText.Encode("extra");
    private static readonly JsonEncodedText PItemName = JsonEncodedText.Encode("itemName");
    private static readonly JsonEncodedText PDescription = JsonEncodedText.Encode("description");
    private static readonly JsonEncodedText PInitialBid = JsonEncodedText.Encode("initialBid");
    private static readonly JsonEncodedText PReserve = JsonEncodedText.Encode("reserve");
    private static readonly JsonEncodedText PExpires = JsonEncodedText.Encode("expires");
    private static readonly JsonEncodedText PSeller = JsonEncodedText.Encode("seller");
    private static readonly JsonEncodedText PCategory = JsonEncodedText.Encode("category");
    private static readonly JsonEncodedText PBidAuction = JsonEncodedText.Encode("auction");
    private static readonly JsonEncodedText PBidder = JsonEncodedText.Encode("bidder");
    private static readonly JsonEncodedText PPrice = JsonEncodedText.Encode("price");
    private static readonly JsonEncodedText PChannel = JsonEncodedText.Encode("channel");
    private static readonly JsonEncodedText PUrl = JsonEncodedText.Encode("url");
    private static readonly JsonEncodedText VPerson = JsonEncodedText.Encode("PERSON");
    private static readonly JsonEncodedText VAuction = JsonEncodedText.Encode("AUCTION");
    private static readonly JsonEncodedText VBid = JsonEncodedText.Encode("BID");

    /// <summary>
    /// Appends the Kafka wire JSON of <paramref name="ev"/> (no trailing newline) to <paramref name="output"/>:
    /// <c>{"event_type":2,"person":null,"auction":null,"bid":{"auction":1012,...,"dateTime":"2015-07-15 00:00:00",...}}</c>.
    /// Beam-profile bids have no <c>channel</c> / <c>url</c> (release-0.1 schema).
    /// </summary>
    public static void WriteKafka(NexmarkEvent ev, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(ev);
        ArgumentNullException.ThrowIfNull(output);
        if (!NexmarkKafkaJsonFast.TryWrite(ev, output)) WriteWithUtf8JsonWriter(ev, NexmarkJsonShape.Kafka, output);
    }

    /// <summary>The Kafka shape through <see cref="Utf8JsonWriter"/> only (the reference the fast path is tested against).</summary>
    internal static void WriteKafkaReference(NexmarkEvent ev, IBufferWriter<byte> output) => WriteWithUtf8JsonWriter(ev, NexmarkJsonShape.Kafka, output);

    /// <summary>Appends the reference-vector line of <paramref name="ev"/> (no trailing newline) to <paramref name="output"/>.</summary>
    public static void WriteVector(NexmarkEvent ev, IBufferWriter<byte> output) => Write(ev, NexmarkJsonShape.Vector, output);

    /// <summary>Appends <paramref name="ev"/> in <paramref name="shape"/> (no trailing newline) to <paramref name="output"/>.</summary>
    public static void Write(NexmarkEvent ev, NexmarkJsonShape shape, IBufferWriter<byte> output)
    {
        if (shape == NexmarkJsonShape.Kafka) WriteKafka(ev, output);
        else WriteWithUtf8JsonWriter(ev, shape, output);
    }

    private static void WriteWithUtf8JsonWriter(NexmarkEvent ev, NexmarkJsonShape shape, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(ev);
        ArgumentNullException.ThrowIfNull(output);
        var w = t_writer;
        if (w is null) t_writer = w = new Utf8JsonWriter(output, Options);
        else w.Reset(output);
        try
        {
            if (shape == NexmarkJsonShape.Kafka) WriteKafkaCore(w, ev);
            else WriteVectorCore(w, ev);
            w.Flush();
        }
        finally
        {
            w.Reset(NullBufferWriter.Instance); // do not keep the caller's buffer alive
        }
    }

    /// <summary>The JSON line as a string (allocates; for the cmdlets and tests, not for the hot path).</summary>
    public static string ToJsonString(NexmarkEvent ev, NexmarkJsonShape shape = NexmarkJsonShape.Kafka)
    {
        var buffer = new ArrayBufferWriter<byte>(1024);
        Write(ev, shape, buffer);
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>
    /// Formats epoch milliseconds as Flink's SQL TIMESTAMP(3) text (spec 9.3): <c>yyyy-MM-dd HH:mm:ss</c> UTC, then the
    /// millisecond fraction without trailing zeros and no dot when it is zero. Returns the bytes written (19 to 23).
    /// </summary>
    public static int FormatTimestamp(long epochMs, Span<byte> destination)
    {
        if ((ulong)epochMs > NexmarkDefaults.MaxEpochMilliseconds)
            throw new ArgumentOutOfRangeException(nameof(epochMs), epochMs, "Epoch milliseconds must be 0 .. 253402300799999.");
        long days = epochMs / 86_400_000L;
        int msOfDay = (int)(epochMs % 86_400_000L);
        DateOnly.FromDayNumber(719_162 + (int)days).Deconstruct(out int year, out int month, out int day);
        int hour = msOfDay / 3_600_000, minute = msOfDay / 60_000 % 60, second = msOfDay / 1000 % 60, ms = msOfDay % 1000;
        var d = destination;
        d[0] = (byte)('0' + year / 1000); d[1] = (byte)('0' + year / 100 % 10); d[2] = (byte)('0' + year / 10 % 10); d[3] = (byte)('0' + year % 10);
        d[4] = (byte)'-'; d[5] = (byte)('0' + month / 10); d[6] = (byte)('0' + month % 10);
        d[7] = (byte)'-'; d[8] = (byte)('0' + day / 10); d[9] = (byte)('0' + day % 10);
        d[10] = (byte)' '; d[11] = (byte)('0' + hour / 10); d[12] = (byte)('0' + hour % 10);
        d[13] = (byte)':'; d[14] = (byte)('0' + minute / 10); d[15] = (byte)('0' + minute % 10);
        d[16] = (byte)':'; d[17] = (byte)('0' + second / 10); d[18] = (byte)('0' + second % 10);
        if (ms == 0) return 19;
        d[19] = (byte)'.'; d[20] = (byte)('0' + ms / 100); d[21] = (byte)('0' + ms / 10 % 10); d[22] = (byte)('0' + ms % 10);
        int len = 23;
        while (d[len - 1] == (byte)'0') len--;
        return len;
    }

    // ------------------------------------------------------------------------------------------------------------ shapes

    private static void WriteKafkaCore(Utf8JsonWriter w, NexmarkEvent ev)
    {
        w.WriteStartObject();
        w.WriteNumber(PEventType, (int)ev.EventType);
        if (ev.Person is { } p) { w.WritePropertyName(PPerson); WritePerson(w, p, kafka: true); } else w.WriteNull(PPerson);
        if (ev.Auction is { } a) { w.WritePropertyName(PAuction); WriteAuction(w, a, kafka: true); } else w.WriteNull(PAuction);
        if (ev.Bid is { } b) { w.WritePropertyName(PBid); WriteBid(w, b, ev.Profile, kafka: true); } else w.WriteNull(PBid);
        w.WriteEndObject();
    }

    private static void WriteVectorCore(Utf8JsonWriter w, NexmarkEvent ev)
    {
        w.WriteStartObject();
        w.WriteNumber(PIndex, ev.Index);
        w.WriteNumber(PEventNumber, ev.EventNumber);
        w.WriteNumber(PAdjusted, ev.AdjustedEventNumber);
        w.WriteNumber(PEventId, ev.EventId);
        switch (ev.EventType)
        {
            case NexmarkEventType.Person: w.WriteString(PType, VPerson); break;
            case NexmarkEventType.Auction: w.WriteString(PType, VAuction); break;
            default: w.WriteString(PType, VBid); break;
        }
        w.WriteNumber(PEventTypeCamel, (int)ev.EventType);
        w.WriteNumber(PEventTimestamp, ev.EventTimestamp);
        w.WriteNumber(PWatermark, ev.Watermark);
        if (ev.Person is { } p) { w.WritePropertyName(PPerson); WritePerson(w, p, kafka: false); }
        else if (ev.Auction is { } a) { w.WritePropertyName(PAuction); WriteAuction(w, a, kafka: false); }
        else if (ev.Bid is { } b) { w.WritePropertyName(PBid); WriteBid(w, b, ev.Profile, kafka: false); }
        w.WriteEndObject();
    }

    // ------------------------------------------------------------------------------------------------------------ rows

    private static void WritePerson(Utf8JsonWriter w, Person p, bool kafka)
    {
        w.WriteStartObject();
        w.WriteNumber(PId, p.Id);
        w.WriteString(PName, p.Name);
        w.WriteString(PEmail, p.EmailAddress);
        w.WriteString(PCreditCard, p.CreditCard);
        w.WriteString(PCity, p.City);
        w.WriteString(PState, p.State);
        WriteTime(w, PDateTime, p.DateTime, kafka);
        WriteExtra(w, ref p.ExtraRef);
        w.WriteEndObject();
    }

    private static void WriteAuction(Utf8JsonWriter w, Auction a, bool kafka)
    {
        w.WriteStartObject();
        w.WriteNumber(PId, a.Id);
        w.WriteString(PItemName, a.ItemName);
        w.WriteString(PDescription, a.Description);
        w.WriteNumber(PInitialBid, a.InitialBid);
        w.WriteNumber(PReserve, a.Reserve);
        WriteTime(w, PDateTime, a.DateTime, kafka);
        WriteTime(w, PExpires, a.Expires, kafka);
        w.WriteNumber(PSeller, a.Seller);
        w.WriteNumber(PCategory, a.Category);
        WriteExtra(w, ref a.ExtraRef);
        w.WriteEndObject();
    }

    private static void WriteBid(Utf8JsonWriter w, Bid b, NexmarkProfile profile, bool kafka)
    {
        w.WriteStartObject();
        w.WriteNumber(PBidAuction, b.Auction);
        w.WriteNumber(PBidder, b.Bidder);
        w.WriteNumber(PPrice, b.Price);
        if (profile == NexmarkProfile.Flink)
        {
            w.WriteString(PChannel, b.Channel);
            w.WriteString(PUrl, b.Url);
        }
        WriteTime(w, PDateTime, b.DateTime, kafka);
        WriteExtra(w, ref b.ExtraRef);
        w.WriteEndObject();
    }

    private static void WriteExtra(Utf8JsonWriter w, ref ExtraText extra)
    {
        if (extra.TryGetUtf8(out var utf8)) w.WriteString(PExtra, utf8);
        else w.WriteString(PExtra, extra.Text);
    }

    private static void WriteTime(Utf8JsonWriter w, JsonEncodedText name, long epochMs, bool kafka)
    {
        if (!kafka) { w.WriteNumber(name, epochMs); return; }
        var cache = t_ts ??= new TimestampCache();
        if (cache.Ms != epochMs)
        {
            cache.Length = FormatTimestamp(epochMs, cache.Bytes);
            cache.Ms = epochMs;
        }
        w.WriteString(name, cache.Bytes.AsSpan(0, cache.Length));
    }

    /// <summary>Consecutive events share their millisecond (ten per ms at the default rate): format it once.</summary>
    private sealed class TimestampCache
    {
        public long Ms = long.MinValue;
        public int Length;
        public readonly byte[] Bytes = new byte[23];
    }

    private sealed class NullBufferWriter : IBufferWriter<byte>
    {
        public static readonly NullBufferWriter Instance = new();
        public void Advance(int count) { }
        public Memory<byte> GetMemory(int sizeHint = 0) => Array.Empty<byte>();
        public Span<byte> GetSpan(int sizeHint = 0) => Span<byte>.Empty;
    }
}

/// <summary>
/// A reusable single-threaded serializer for producers: one growing buffer, reset per event, so serialising costs no
/// allocation. <c>var json = writer.Serialize(ev);</c> gives a span valid until the next call.
/// </summary>
public sealed class NexmarkJsonWriter
{
    private readonly ArrayBufferWriter<byte> _buffer;

    /// <param name="shape">Kafka (default) or Vector.</param>
    /// <param name="initialCapacity">Initial buffer size in bytes; it grows as needed and is kept.</param>
    public NexmarkJsonWriter(NexmarkJsonShape shape = NexmarkJsonShape.Kafka, int initialCapacity = 4096)
    {
        Shape = shape;
        _buffer = new ArrayBufferWriter<byte>(initialCapacity);
    }

    /// <summary>The shape every call writes.</summary>
    public NexmarkJsonShape Shape { get; }

    /// <summary>The JSON of <paramref name="ev"/> (no newline); the memory is reused by the next call.</summary>
    public ReadOnlyMemory<byte> Serialize(NexmarkEvent ev)
    {
        _buffer.ResetWrittenCount();
        NexmarkJson.Write(ev, Shape, _buffer);
        return _buffer.WrittenMemory;
    }

    /// <summary>The JSON of <paramref name="ev"/> as a new array (for APIs that keep the bytes, e.g. a Kafka message value).</summary>
    public byte[] SerializeToArray(NexmarkEvent ev) => Serialize(ev).ToArray();
}

/// <summary>
/// The Kafka shape written straight into the output span, without <see cref="Utf8JsonWriter"/>'s per-value escape
/// scans and UTF-16 transcoding: property names are constant bytes, numbers are formatted with
/// <see cref="System.Buffers.Text.Utf8Formatter"/> (the same "G" format Utf8JsonWriter uses), strings that are printable
/// ASCII are narrowed as is, with <c>\</c> and <c>"</c> escaped like the relaxed encoder does. The Flink "extra" text
/// is copied from the pool bytes (the pool is checked once to hold only printable ASCII) in runs between its backslashes
/// and quotes, and a bid's channel and URL from the table's pre-encoded entry. Anything else (a control character, DEL,
/// non-ASCII) makes <see cref="TryWrite"/> return false before anything is committed, and the caller writes the
/// event through Utf8JsonWriter: the bytes are identical either way (NexmarkJsonTests compares both paths).
/// </summary>
internal static class NexmarkKafkaJsonFast
{
    public static bool TryWrite(NexmarkEvent ev, IBufferWriter<byte> output)
    {
        var bound = 160 + Bound(ev);
        var span = output.GetSpan(bound);
        var n = 0;
        if (!TryWriteCore(ev, span, ref n)) return false;
        output.Advance(n);
        return true;
    }

    private static int Bound(NexmarkEvent ev)
    {
        // every string byte may double (\\), numbers take at most 20 bytes, a timestamp 23
        if (ev.Person is { } p)
            return 2 * (p.Name.Length + p.EmailAddress.Length + p.CreditCard.Length + p.City.Length + p.State.Length + p.ExtraRef.Length) + 200;
        if (ev.Auction is { } a)
            return 2 * (a.ItemName.Length + a.Description.Length + a.ExtraRef.Length) + 300;
        var b = ev.Bid!;
        if (b.UrlTable?.ChannelJson is { } cj && b.UrlEntry >= 0)
            return cj.Stride + 2 * b.ExtraRef.Length + 200;
        return 2 * ((b.Channel?.Length ?? 0) + (b.Url?.Length ?? 0) + b.ExtraRef.Length) + 200;
    }

    private static bool TryWriteCore(NexmarkEvent ev, Span<byte> d, ref int n)
    {
        Raw(d, ref n, "{\"event_type\":"u8);
        Num(d, ref n, (int)ev.EventType);
        if (ev.Person is { } p)
        {
            Raw(d, ref n, ",\"person\":{\"id\":"u8); Num(d, ref n, p.Id);
            Raw(d, ref n, ",\"name\":"u8); if (!Str(d, ref n, p.Name)) return false;
            Raw(d, ref n, ",\"emailAddress\":"u8); if (!Str(d, ref n, p.EmailAddress)) return false;
            Raw(d, ref n, ",\"creditCard\":"u8); if (!Str(d, ref n, p.CreditCard)) return false;
            Raw(d, ref n, ",\"city\":"u8); if (!Str(d, ref n, p.City)) return false;
            Raw(d, ref n, ",\"state\":"u8); if (!Str(d, ref n, p.State)) return false;
            Raw(d, ref n, ",\"dateTime\":"u8); Time(d, ref n, p.DateTime);
            Raw(d, ref n, ",\"extra\":"u8); if (!Extra(d, ref n, ref p.ExtraRef)) return false;
            Raw(d, ref n, "}"u8);
        }
        else Raw(d, ref n, ",\"person\":null"u8);
        if (ev.Auction is { } a)
        {
            Raw(d, ref n, ",\"auction\":{\"id\":"u8); Num(d, ref n, a.Id);
            Raw(d, ref n, ",\"itemName\":"u8); if (!Str(d, ref n, a.ItemName)) return false;
            Raw(d, ref n, ",\"description\":"u8); if (!Str(d, ref n, a.Description)) return false;
            Raw(d, ref n, ",\"initialBid\":"u8); Num(d, ref n, a.InitialBid);
            Raw(d, ref n, ",\"reserve\":"u8); Num(d, ref n, a.Reserve);
            Raw(d, ref n, ",\"dateTime\":"u8); Time(d, ref n, a.DateTime);
            Raw(d, ref n, ",\"expires\":"u8); Time(d, ref n, a.Expires);
            Raw(d, ref n, ",\"seller\":"u8); Num(d, ref n, a.Seller);
            Raw(d, ref n, ",\"category\":"u8); Num(d, ref n, a.Category);
            Raw(d, ref n, ",\"extra\":"u8); if (!Extra(d, ref n, ref a.ExtraRef)) return false;
            Raw(d, ref n, "}"u8);
        }
        else Raw(d, ref n, ",\"auction\":null"u8);
        if (ev.Bid is { } b)
        {
            Raw(d, ref n, ",\"bid\":{\"auction\":"u8); Num(d, ref n, b.Auction);
            Raw(d, ref n, ",\"bidder\":"u8); Num(d, ref n, b.Bidder);
            Raw(d, ref n, ",\"price\":"u8); Num(d, ref n, b.Price);
            if (ev.Profile == NexmarkProfile.Flink && b.UrlTable?.ChannelJson is { } cj && b.UrlEntry >= 0)
            {
                // the table entry's pre-encoded ,"channel":"..","url":"..": one contiguous copy, no string touched
                var entry = cj[b.UrlEntry];
                entry.CopyTo(d[n..]);
                n += entry.Length;
            }
            else if (ev.Profile == NexmarkProfile.Flink)
            {
                Raw(d, ref n, ",\"channel\":"u8); if (!Str(d, ref n, b.Channel)) return false;
                Raw(d, ref n, ",\"url\":"u8); if (!Str(d, ref n, b.Url)) return false;
            }
            Raw(d, ref n, ",\"dateTime\":"u8); Time(d, ref n, b.DateTime);
            Raw(d, ref n, ",\"extra\":"u8); if (!Extra(d, ref n, ref b.ExtraRef)) return false;
            Raw(d, ref n, "}}"u8);
        }
        else Raw(d, ref n, ",\"bid\":null}"u8);
        return true;
    }

    // inlined, so each literal's length is a constant and the copy is unrolled instead of a Memmove call
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private static void Raw(Span<byte> d, ref int n, ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(d[n..]);
        n += bytes.Length;
    }

    private static void Num(Span<byte> d, ref int n, long value)
    {
        System.Buffers.Text.Utf8Formatter.TryFormat(value, d[n..], out var w);
        n += w;
    }

    [ThreadStatic] private static long t_tsMs;
    [ThreadStatic] private static byte[]? t_ts;
    [ThreadStatic] private static int t_tsLength;

    private static void Time(Span<byte> d, ref int n, long epochMs)
    {
        var cache = t_ts;
        if (cache is null) { t_ts = cache = new byte[23]; t_tsMs = epochMs; t_tsLength = NexmarkJson.FormatTimestamp(epochMs, cache); }
        else if (t_tsMs != epochMs) { t_tsLength = NexmarkJson.FormatTimestamp(epochMs, cache); t_tsMs = epochMs; }
        d[n++] = (byte)'"';
        cache.AsSpan(0, t_tsLength).CopyTo(d[n..]);
        n += t_tsLength;
        d[n++] = (byte)'"';
    }

    /// <summary>A string value: printable ASCII with '"' and '\\' escaped; false for anything else.</summary>
    private static bool Str(Span<byte> d, ref int n, string? s)
    {
        if (s is null) { Raw(d, ref n, "null"u8); return true; }
        var chars = s.AsSpan();
        if (chars.IndexOfAnyExceptInRange(' ', '~') >= 0) return false;
        d[n++] = (byte)'"';
        while (true)
        {
            var i = chars.IndexOfAny('"', '\\');
            var run = i < 0 ? chars : chars[..i];
            System.Text.Ascii.FromUtf16(run, d[n..], out var w);
            n += w;
            if (i < 0) break;
            d[n++] = (byte)'\\';
            d[n++] = (byte)chars[i];
            chars = chars[(i + 1)..];
        }
        d[n++] = (byte)'"';
        return true;
    }

    private static bool Extra(Span<byte> d, ref int n, ref ExtraText extra)
    {
        if (!extra.TryGetPool(out var pool, out var offset, out var length) || !pool.PrintableAscii) return Str(d, ref n, extra.Text);
        // the slice is printable ASCII (the pool was checked once); copy it in runs between the quotes and backslashes
        // (the pool's alphabet 'H'..'z' holds the backslash), found by a vectorised scan of the slice itself. The index of
        // the pool's escape positions this replaces needed two more random loads per event (its block table and its
        // position list), in memory that a producer's message copies keep evicting from the caches.
        var rest = pool.Utf8.AsSpan(offset, length);
        d[n++] = (byte)'"';
        while (true)
        {
            var i = rest.IndexOfAny((byte)'"', (byte)'\\');
            if (i < 0) break;
            rest[..i].CopyTo(d[n..]);
            n += i;
            d[n++] = (byte)'\\';
            d[n++] = rest[i];
            rest = rest[(i + 1)..];
        }
        rest.CopyTo(d[n..]);
        n += rest.Length;
        d[n++] = (byte)'"';
        return true;
    }
}
