using System.Globalization;
using System.Text;

namespace PiBench.Core.Nexmark.Reference;

/// <summary>How a column of a query's result is compared.</summary>
public enum ReferenceColumnKind
{
    /// <summary>A BIGINT: compared as a whole number.</summary>
    Long,
    /// <summary>A DECIMAL/DOUBLE: compared rounded to 3 decimal places (q1's DECIMAL(23, 3); Arroyo writes a DOUBLE).</summary>
    Decimal,
    /// <summary>A VARCHAR: compared exactly.</summary>
    Text,
    /// <summary>A TIMESTAMP(3): compared as epoch milliseconds (UTC), whatever the engine's JSON time format.</summary>
    Time,
}

/// <summary>One result column: the sink column's name and how it is compared.</summary>
public sealed record ReferenceColumn(string Name, ReferenceColumnKind Kind);

/// <summary>
/// What a reference query yields and how its rows are matched: <see cref="Columns"/> in sink order (the latency
/// variant's <c>latency_ts</c> included where the query has one), the first <see cref="KeyCount"/> of them identify a
/// row (a received row with the key of an expected row but other values is Mismatched, not Missing + Extra).
/// </summary>
public sealed class ReferenceQuery
{
    internal ReferenceQuery(string name, IReadOnlyList<ReferenceColumn> columns, int keyCount, bool windowed, bool changelog, string semantics)
    {
        Name = name; Columns = columns; KeyCount = keyCount; Windowed = windowed; Changelog = changelog; Semantics = semantics;
    }

    public string Name { get; }
    public IReadOnlyList<ReferenceColumn> Columns { get; }
    public int KeyCount { get; }
    /// <summary>Results come from event-time windows, so they appear only once the watermark passes the window end.</summary>
    public bool Windowed { get; }
    /// <summary>An updating result (Flink debezium-json): compared as the final value per key.</summary>
    public bool Changelog { get; }
    /// <summary>The semantics the reference follows, in words (shown by Test-NexmarkQueryResult).</summary>
    public string Semantics { get; }
}

/// <summary>One expected result row: values in <see cref="ReferenceQuery.Columns"/> order (long, decimal, string, or
/// long epoch ms for Time).</summary>
public sealed class ReferenceRow
{
    public ReferenceRow(IReadOnlyList<object?> values) => Values = values;

    public IReadOnlyList<object?> Values { get; }

    /// <summary>Window end (epoch ms) this row depends on; null for rows that do not wait for a watermark.</summary>
    public long? WindowEnd { get; init; }

    public override string ToString() => string.Join(", ", Values.Select(v => v switch
    {
        null => "null",
        decimal d => d.ToString("0.###", CultureInfo.InvariantCulture),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => v.ToString(),
    }));
}

/// <summary>The exact result of one query over one generated stream.</summary>
public sealed class ReferenceResult
{
    internal ReferenceResult(ReferenceQuery query, List<ReferenceRow> rows, List<ReferenceRow> pending, long events,
        long firstEventTime, long lastEventTime, long watermarkDelayMs, long pendingMarginMs)
    {
        Query = query; Rows = rows; Pending = pending; Events = events; FirstEventTime = firstEventTime;
        LastEventTime = lastEventTime; WatermarkDelayMs = watermarkDelayMs; PendingMarginMs = pendingMarginMs;
    }

    public ReferenceQuery Query { get; }
    /// <summary>Rows every correct engine emits for this stream.</summary>
    public IReadOnlyList<ReferenceRow> Rows { get; }
    /// <summary>Rows of windows that end too close to the end of the stream: the final watermark (last event time −
    /// the DDL's 4 s, per partition, emitted periodically) may or may not have passed them, so an engine may or may not
    /// have emitted them. Reported apart, never as errors.</summary>
    public IReadOnlyList<ReferenceRow> Pending { get; }
    public long Events { get; }
    public long FirstEventTime { get; }
    public long LastEventTime { get; }
    public long WatermarkDelayMs { get; }
    public long PendingMarginMs { get; }
    /// <summary>The highest watermark the stream can produce: last event time − the watermark delay.</summary>
    public long FinalWatermark => LastEventTime - WatermarkDelayMs;
}

/// <summary>Canonical text of values, so expected and received rows compare as strings.</summary>
internal static class ReferenceCanon
{
    public static string Value(object? v, ReferenceColumnKind kind) => v switch
    {
        null => "\u2205",
        decimal d => Round(d),
        double x => Round((decimal)x),
        long l when kind == ReferenceColumnKind.Decimal => Round(l),
        long l => l.ToString(CultureInfo.InvariantCulture),
        int i => i.ToString(CultureInfo.InvariantCulture),
        string s => s,
        _ => Convert.ToString(v, CultureInfo.InvariantCulture) ?? "",
    };

    private static string Round(decimal d) => Math.Round(d, 3, MidpointRounding.AwayFromZero).ToString("0.###", CultureInfo.InvariantCulture);

    public static string Join(IEnumerable<string> parts)
    {
        var sb = new StringBuilder();
        foreach (var p in parts)
        {
            if (sb.Length > 0) sb.Append('\u001f');
            sb.Append(p);
        }
        return sb.ToString();
    }
}
