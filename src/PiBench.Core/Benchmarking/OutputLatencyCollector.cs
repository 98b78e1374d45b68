using System.Globalization;
using System.Text.Json;
using Confluent.Kafka;

namespace PiBench.Core.Benchmarking;

/// <summary>Reads the event time (or window end) a query result carries.</summary>
public static class ResultEventTime
{
    /// <summary>
    /// Fields looked up, in order: latency_ts (the latency variants' column: event time or window end), then window
    /// ends, then the event's own time.
    /// </summary>
    public static readonly string[] Fields = { "latency_ts", "window_end", "windowEnd", "wend", "dateTime", "datetime", "date_time", "event_time", "eventTime" };

    /// <summary>
    /// Extracts a Unix-millisecond time from a top-level JSON field of <paramref name="json"/>, or from the "after"
    /// row of a debezium-json change record (updating Flink results; a delete has no "after" and yields nothing):
    /// a number (epoch ms) or a string (ISO 8601 / RFC 3339, or "yyyy-MM-dd HH:mm:ss[.fff]", read as UTC when it has
    /// no offset).
    /// </summary>
    public static bool TryExtractMs(ReadOnlySpan<byte> json, out long ms)
    {
        ms = 0;
        var best = int.MaxValue; // rank in Fields of the field found so far (lower wins)
        try
        {
            var r = new Utf8JsonReader(json);
            if (!r.Read() || r.TokenType != JsonTokenType.StartObject) return false;
            ReadObject(ref r, ref best, ref ms, allowAfter: true);
        }
        catch (JsonException) { return false; }
        return best != int.MaxValue;
    }

    private static readonly byte[][] Utf8Fields = Fields.Select(f => System.Text.Encoding.UTF8.GetBytes(f)).ToArray();
    private static readonly byte[] After = "after"u8.ToArray();

    /// <summary>Reads the properties of the object whose StartObject <paramref name="r"/> is on; keeps the best-ranked time.</summary>
    private static void ReadObject(ref Utf8JsonReader r, ref int best, ref long ms, bool allowAfter)
    {
        var depth = r.CurrentDepth;
        while (r.Read())
        {
            if (r.TokenType == JsonTokenType.EndObject && r.CurrentDepth == depth) return;
            if (r.TokenType != JsonTokenType.PropertyName) continue;
            var rank = -1;
            for (var i = 0; i < Utf8Fields.Length && i < best; i++)
                if (r.ValueTextEquals(Utf8Fields[i])) { rank = i; break; }
            var isAfter = rank < 0 && allowAfter && r.ValueTextEquals(After);
            if (!r.Read()) throw new JsonException("truncated");
            if (isAfter && r.TokenType == JsonTokenType.StartObject) { ReadObject(ref r, ref best, ref ms, allowAfter: false); continue; }
            if (r.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray) { r.Skip(); continue; }
            if (rank < 0) continue;
            long t;
            if (r.TokenType == JsonTokenType.Number && r.TryGetInt64(out var n)) t = n;
            else if (r.TokenType == JsonTokenType.Number && r.TryGetDouble(out var d)) t = (long)d;
            else if (r.TokenType == JsonTokenType.String && !r.ValueIsEscaped && TryParseTimeUtf8(r.ValueSpan, out var u)) t = u;
            else if (r.TokenType == JsonTokenType.String && TryParseTime(r.GetString()!, out var v)) t = v;
            else continue;
            best = rank;
            ms = t;
        }
    }

    /// <summary>
    /// Fast path for the two shapes engines write: "yyyy-MM-dd HH:mm:ss[.f…]" (Flink SQL) and
    /// "yyyy-MM-ddTHH:mm:ss[.f…][Z]" (RFC 3339 in UTC, Arroyo), read as UTC. Anything else (offsets, epochs as
    /// strings) goes to <see cref="TryParseTime"/>.
    /// </summary>
    internal static bool TryParseTimeUtf8(ReadOnlySpan<byte> s, out long ms)
    {
        ms = 0;
        if (s.Length < 19 || s[4] != '-' || s[7] != '-' || (s[10] != ' ' && s[10] != 'T') || s[13] != ':' || s[16] != ':') return false;
        static int D(ReadOnlySpan<byte> s, int at, int len)
        {
            var v = 0;
            for (var i = at; i < at + len; i++)
            {
                var c = s[i] - '0';
                if ((uint)c > 9) return -1;
                v = v * 10 + c;
            }
            return v;
        }
        int year = D(s, 0, 4), month = D(s, 5, 2), day = D(s, 8, 2), hour = D(s, 11, 2), minute = D(s, 14, 2), second = D(s, 17, 2);
        if (year < 1 || month is < 1 or > 12 || day < 1 || day > DateTime.DaysInMonth(year, month) || hour is < 0 or > 23 || minute is < 0 or > 59 || second is < 0 or > 59)
            return false;
        var i = 19;
        var fraction = 0L;
        if (i < s.Length && s[i] == '.')
        {
            i++;
            var digits = 0;
            while (i < s.Length && (uint)(s[i] - '0') <= 9)
            {
                if (digits < 3) fraction = fraction * 10 + (s[i] - '0');
                digits++;
                i++;
            }
            if (digits == 0) return false;
            for (var k = Math.Min(digits, 3); k < 3; k++) fraction *= 10;
        }
        if (i < s.Length && s[i] == 'Z') i++;
        if (i != s.Length) return false; // an offset or anything else: the general parser
        var ticks = new DateTime(year, month, day, hour, minute, second, DateTimeKind.Utc).Ticks;
        ms = (ticks - DateTime.UnixEpoch.Ticks) / TimeSpan.TicksPerMillisecond + fraction;
        return true;
    }

    internal static bool TryParseTime(string s, out long ms)
    {
        ms = 0;
        if (long.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out ms)) return true;
        if (DateTimeOffset.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var t))
        {
            ms = t.ToUnixTimeMilliseconds();
            return true;
        }
        return false;
    }
}

/// <summary>
/// Consumes a query's output topic and records, per result, the broker timestamp minus the event time it carries into
/// a <see cref="LatencyRecorder"/>. With the output topic on <c>message.timestamp.type=LogAppendTime</c> the broker
/// stamps the append time, so both ends of the latency come from one clock when the generator's event times are
/// stamped on the same node (Pi1); with CreateTime the stamp is the engine's producer clock and
/// <see cref="TimestampType"/> says so. Records without an event time are counted in <see cref="Unparsed"/>.
/// </summary>
public sealed class OutputLatencyCollector : IDisposable
{
    private readonly IConsumer<Ignore, byte[]> _consumer;
    private readonly LatencyRecorder _recorder;
    private readonly CancellationTokenSource _stop = new();
    private readonly Thread _thread;
    private long _records, _unparsed, _logAppend, _create;
    private volatile Exception? _error;

    private OutputLatencyCollector(IConsumer<Ignore, byte[]> consumer, LatencyRecorder recorder)
    {
        _consumer = consumer;
        _recorder = recorder;
        _thread = new Thread(Loop) { IsBackground = true, Name = "pibench-latency" };
    }

    public long Records => Interlocked.Read(ref _records);
    public long Unparsed => Interlocked.Read(ref _unparsed);
    /// <summary>LogAppendTime, CreateTime, Mixed, or "" before the first record.</summary>
    public string TimestampType
    {
        get
        {
            var a = Interlocked.Read(ref _logAppend); var c = Interlocked.Read(ref _create);
            return a > 0 && c > 0 ? "Mixed" : a > 0 ? "LogAppendTime" : c > 0 ? "CreateTime" : "";
        }
    }
    public Exception? Error => _error;

    /// <summary>Starts reading every partition of <paramref name="topic"/> from the beginning (fresh topic per run) or the end.</summary>
    public static OutputLatencyCollector Start(string bootstrapServers, string topic, int partitions, LatencyRecorder recorder, bool fromBeginning = true)
    {
        var cfg = new ConsumerConfig
        {
            BootstrapServers = bootstrapServers, GroupId = "pibench-latency-" + Guid.NewGuid().ToString("N")[..8],
            EnableAutoCommit = false, EnablePartitionEof = false, FetchWaitMaxMs = 50,
        };
        var consumer = new ConsumerBuilder<Ignore, byte[]>(cfg).SetLogHandler((_, _) => { }).Build();
        consumer.Assign(Enumerable.Range(0, partitions).Select(p => new TopicPartitionOffset(topic, p, fromBeginning ? Offset.Beginning : Offset.End)));
        var c = new OutputLatencyCollector(consumer, recorder);
        c._thread.Start();
        return c;
    }

    private void Loop()
    {
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                ConsumeResult<Ignore, byte[]>? r;
                try { r = _consumer.Consume(TimeSpan.FromMilliseconds(100)); }
                catch (ConsumeException) { continue; } // transient (e.g. topic not there yet): bounded by the stop flag
                if (r?.Message is null) continue;
                var ts = r.Message.Timestamp;
                if (ts.Type == Confluent.Kafka.TimestampType.LogAppendTime) Interlocked.Increment(ref _logAppend); else Interlocked.Increment(ref _create);
                Interlocked.Increment(ref _records);
                if (r.Message.Value is { } v && ResultEventTime.TryExtractMs(v, out var eventMs)) _recorder.Record(ts.UnixTimestampMs, eventMs);
                else Interlocked.Increment(ref _unparsed);
            }
        }
        catch (Exception ex) { _error = ex; }
    }

    /// <summary>Stops reading (bounded: the loop polls every 100 ms).</summary>
    public void Stop()
    {
        _stop.Cancel();
        _thread.Join(TimeSpan.FromSeconds(5));
    }

    public void Dispose()
    {
        Stop();
        try { _consumer.Close(); } catch (KafkaException) { }
        _consumer.Dispose();
        _stop.Dispose();
    }
}
