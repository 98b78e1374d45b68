using System.Globalization;
using System.Text.Json;

namespace PiBench.Core.Nexmark.Reference;

/// <summary>Correct: every certain row arrived once and nothing else did; Incorrect otherwise; NotChecked: nothing
/// could be compared (see the reason).</summary>
public enum ResultVerdict { Correct, Incorrect, NotChecked }

/// <summary>
/// Expected vs received rows of one query. Counts are of rows (a multiset: a row expected twice must arrive twice).
/// <see cref="Mismatched"/> rows have the key of an expected row (<see cref="ReferenceQuery.KeyCount"/> columns) but
/// other values; <see cref="Missing"/>/<see cref="Extra"/> are the rest. Rows of pending windows are counted apart.
/// </summary>
public sealed class ReferenceComparison
{
    public required string Query { get; init; }
    public required ResultVerdict Verdict { get; init; }
    public required string Reason { get; init; }
    public long Expected { get; init; }
    public long Received { get; init; }
    public long Matched { get; init; }
    public long Missing { get; init; }
    public long Extra { get; init; }
    public long Mismatched { get; init; }
    /// <summary>Rows of windows the final watermark may not have closed (see <see cref="ReferenceResult.Pending"/>).</summary>
    public long PendingExpected { get; init; }
    /// <summary>Received rows that belong to those windows (neither errors nor matches).</summary>
    public long PendingReceived { get; init; }
    /// <summary>Received messages that were not a JSON object with the query's columns (or a debezium delete).</summary>
    public long Unreadable { get; init; }
    /// <summary>The columns compared: the query's columns the received rows carry (a plain query has no latency_ts).</summary>
    public IReadOnlyList<string> Columns { get; init; } = [];
    public IReadOnlyList<string> MissingExamples { get; init; } = [];
    public IReadOnlyList<string> ExtraExamples { get; init; } = [];
    public IReadOnlyList<string> MismatchedExamples { get; init; } = [];
}

/// <summary>Compares an engine's captured output (one JSON value per Kafka message) with a reference result.</summary>
public static class ResultComparer
{
    /// <param name="expected">The reference result.</param>
    /// <param name="received">The Kafka message values of the captured output topic (JSON rows; debezium-json for q4).</param>
    /// <param name="examples">How many example rows to keep per kind of difference.</param>
    public static ReferenceComparison Compare(ReferenceResult expected, IEnumerable<ReadOnlyMemory<byte>> received, int examples = 3)
    {
        var q = expected.Query;
        var rows = new List<Dictionary<string, string>>();
        long unreadable = 0;
        HashSet<string>? present = null;
        foreach (var value in received)
        {
            if (!TryRead(value, q, out var row)) { unreadable++; continue; }
            rows.Add(row);
            if (present is null) present = new HashSet<string>(row.Keys, StringComparer.OrdinalIgnoreCase);
            else present.IntersectWith(row.Keys);
        }
        var columns = q.Columns.Select((c, i) => (c, i)).Where(x => present is null || present.Contains(x.c.Name)).ToList();
        var keyColumns = columns.Where(x => x.i < q.KeyCount).ToList();
        if (rows.Count > 0 && keyColumns.Count == 0)
            return new ReferenceComparison
            {
                Query = q.Name, Verdict = ResultVerdict.NotChecked, Received = rows.Count + unreadable, Unreadable = unreadable,
                Expected = expected.Rows.Count, PendingExpected = expected.Pending.Count,
                Reason = $"The received rows carry none of {q.Name}'s key columns ({string.Join(", ", q.Columns.Take(q.KeyCount).Select(c => c.Name))}).",
            };

        string Full(IEnumerable<string> parts) => ReferenceCanon.Join(parts);
        string ExpectedFull(ReferenceRow r) => Full(columns.Select(x => ReferenceCanon.Value(r.Values[x.i], x.c.Kind)));
        string ExpectedKey(ReferenceRow r) => Full(keyColumns.Select(x => ReferenceCanon.Value(r.Values[x.i], x.c.Kind)));
        string ReceivedFull(Dictionary<string, string> r) => Full(columns.Select(x => r[x.c.Name]));
        string ReceivedKey(Dictionary<string, string> r) => Full(keyColumns.Select(x => r[x.c.Name]));
        string Show(IEnumerable<(string Name, string Value)> cols) => string.Join(", ", cols.Select(c => $"{c.Name}={c.Value}"));
        string ShowExpected(ReferenceRow r) => Show(columns.Select(x => (x.c.Name, ReferenceCanon.Value(r.Values[x.i], x.c.Kind))));
        string ShowReceived(Dictionary<string, string> r) => Show(columns.Select(x => (x.c.Name, r[x.c.Name])));

        if (q.Changelog) return CompareFinal(expected, rows, unreadable, columns.Select(x => x.c.Name).ToList(), ExpectedKey, ExpectedFull,
            ReceivedKey, ReceivedFull, ShowExpected, ShowReceived, examples);

        // 1. Whole rows: a received row equal to a certain expected row matches it (multiset), else to a pending one.
        var certain = new Dictionary<string, List<ReferenceRow>>();
        foreach (var r in expected.Rows) Bucket(certain, ExpectedFull(r), r);
        var pending = new Dictionary<string, int>();
        foreach (var r in expected.Pending) { var k = ExpectedFull(r); pending[k] = pending.GetValueOrDefault(k) + 1; }
        long matched = 0, pendingReceived = 0;
        var unmatched = new List<Dictionary<string, string>>();
        foreach (var r in rows)
        {
            var k = ReceivedFull(r);
            if (certain.TryGetValue(k, out var list) && list.Count > 0) { list.RemoveAt(list.Count - 1); matched++; }
            else if (pending.TryGetValue(k, out var n) && n > 0) { pending[k] = n - 1; pendingReceived++; }
            else unmatched.Add(r);
        }
        // 2. What is left, by key: a leftover received row with the key of a leftover expected row is a mismatch; a received
        // row whose key belongs to a pending window is pending, not extra.
        var leftByKey = new Dictionary<string, List<ReferenceRow>>();
        foreach (var r in certain.Values.SelectMany(l => l)) Bucket(leftByKey, ExpectedKey(r), r);
        var pendingKeys = expected.Pending.Select(ExpectedKey).ToHashSet();
        long mismatched = 0, extra = 0;
        var mismatchedEx = new List<string>();
        var extraEx = new List<string>();
        foreach (var r in unmatched)
        {
            var k = ReceivedKey(r);
            if (leftByKey.TryGetValue(k, out var list) && list.Count > 0)
            {
                var e = list[^1];
                list.RemoveAt(list.Count - 1);
                mismatched++;
                if (mismatchedEx.Count < examples) mismatchedEx.Add($"expected {ShowExpected(e)}; received {ShowReceived(r)}");
            }
            else if (pendingKeys.Contains(k)) pendingReceived++;
            else
            {
                extra++;
                if (extraEx.Count < examples) extraEx.Add(ShowReceived(r));
            }
        }
        var missingRows = leftByKey.Values.SelectMany(l => l).ToList();
        var missing = missingRows.Count;
        var ok = missing == 0 && extra == 0 && mismatched == 0;
        return new ReferenceComparison
        {
            Query = q.Name,
            Verdict = ok ? ResultVerdict.Correct : ResultVerdict.Incorrect,
            Reason = ok
                ? $"All {expected.Rows.Count} expected rows received once; {pendingReceived} of {expected.Pending.Count} rows of windows still open at the end of the stream arrived."
                : $"{missing} missing, {extra} extra, {mismatched} mismatched of {expected.Rows.Count} expected rows.",
            Expected = expected.Rows.Count, Received = rows.Count + unreadable, Matched = matched, Missing = missing, Extra = extra,
            Mismatched = mismatched, PendingExpected = expected.Pending.Count, PendingReceived = pendingReceived, Unreadable = unreadable,
            Columns = columns.Select(x => x.c.Name).ToList(),
            MissingExamples = missingRows.OrderBy(r => r.WindowEnd ?? 0).Take(examples).Select(ShowExpected).ToList(),
            ExtraExamples = extraEx, MismatchedExamples = mismatchedEx,
        };
    }

    /// <summary>Updating results: the rows' arrival order is not kept across the output topic's partitions, so the check
    /// is that each key's final value was emitted (as an insert or update-after) and no key outside the reference appeared.</summary>
    private static ReferenceComparison CompareFinal(ReferenceResult expected, List<Dictionary<string, string>> rows, long unreadable,
        List<string> columns, Func<ReferenceRow, string> expectedKey, Func<ReferenceRow, string> expectedFull,
        Func<Dictionary<string, string>, string> receivedKey, Func<Dictionary<string, string>, string> receivedFull,
        Func<ReferenceRow, string> showExpected, Func<Dictionary<string, string>, string> showReceived, int examples)
    {
        var byKey = rows.GroupBy(receivedKey).ToDictionary(g => g.Key, g => g.ToList());
        long matched = 0, missing = 0, mismatched = 0;
        var missingEx = new List<string>();
        var mismatchedEx = new List<string>();
        var expectedKeys = new HashSet<string>();
        foreach (var e in expected.Rows)
        {
            var k = expectedKey(e);
            expectedKeys.Add(k);
            if (!byKey.TryGetValue(k, out var got)) { missing++; if (missingEx.Count < examples) missingEx.Add(showExpected(e)); continue; }
            var full = expectedFull(e);
            if (got.Any(r => receivedFull(r) == full)) matched++;
            else
            {
                mismatched++;
                if (mismatchedEx.Count < examples) mismatchedEx.Add($"expected final {showExpected(e)}; received {string.Join(" | ", got.TakeLast(3).Select(showReceived))}");
            }
        }
        var extraKeys = byKey.Keys.Where(k => !expectedKeys.Contains(k)).ToList();
        var ok = missing == 0 && mismatched == 0 && extraKeys.Count == 0;
        return new ReferenceComparison
        {
            Query = expected.Query.Name,
            Verdict = ok ? ResultVerdict.Correct : ResultVerdict.Incorrect,
            Reason = ok ? $"The final value of all {expected.Rows.Count} keys was emitted (updating result: final values checked, not the order of updates)."
                : $"{missing} keys missing, {mismatched} keys never reached their final value, {extraKeys.Count} unexpected keys.",
            Expected = expected.Rows.Count, Received = rows.Count + unreadable, Matched = matched, Missing = missing,
            Extra = extraKeys.Count, Mismatched = mismatched, Unreadable = unreadable, Columns = columns,
            MissingExamples = missingEx, MismatchedExamples = mismatchedEx,
            ExtraExamples = extraKeys.Take(examples).Select(k => showReceived(byKey[k][^1])).ToList(),
        };
    }

    private static void Bucket<T>(Dictionary<string, List<T>> d, string key, T value)
    {
        if (!d.TryGetValue(key, out var list)) d[key] = list = [];
        list.Add(value);
    }

    /// <summary>Reads one message into canonical column texts (only the query's columns). Debezium-json: the "after"
    /// image of c/u/r changes; deletes and tombstones are not rows.</summary>
    internal static bool TryRead(ReadOnlyMemory<byte> value, ReferenceQuery query, out Dictionary<string, string> row)
    {
        row = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        if (value.IsEmpty) return false;
        try
        {
            using var doc = JsonDocument.Parse(value);
            var obj = doc.RootElement;
            if (obj.ValueKind != JsonValueKind.Object) return false;
            if (obj.TryGetProperty("op", out var op) && obj.TryGetProperty("after", out var after))
            {
                if (op.ValueKind != JsonValueKind.String || op.GetString() is "d" || after.ValueKind != JsonValueKind.Object) return false;
                obj = after;
            }
            foreach (var c in query.Columns)
                if (TryProperty(obj, c.Name, out var v) && TryCanon(v, c.Kind, out var text)) row[c.Name] = text;
            return row.Count > 0;
        }
        catch (JsonException) { return false; }
    }

    private static bool TryProperty(JsonElement obj, string name, out JsonElement value)
    {
        if (obj.TryGetProperty(name, out value)) return true;
        foreach (var p in obj.EnumerateObject())
            if (p.Name.Equals(name, StringComparison.OrdinalIgnoreCase)) { value = p.Value; return true; }
        return false;
    }

    internal static bool TryCanon(JsonElement v, ReferenceColumnKind kind, out string text)
    {
        text = "";
        switch (kind)
        {
            case ReferenceColumnKind.Text:
                if (v.ValueKind == JsonValueKind.Null) { text = ReferenceCanon.Value(null, kind); return true; }
                text = v.ValueKind == JsonValueKind.String ? v.GetString()! : v.GetRawText();
                return true;
            case ReferenceColumnKind.Long:
                if (v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out var l)) { text = ReferenceCanon.Value(l, kind); return true; }
                if (TryDecimal(v, out var d) && d == Math.Truncate(d)) { text = ReferenceCanon.Value((long)d, kind); return true; }
                return false;
            case ReferenceColumnKind.Decimal:
                if (TryDecimal(v, out var x)) { text = ReferenceCanon.Value(x, kind); return true; }
                return false;
            default:
                if (TryTime(v, out var ms)) { text = ReferenceCanon.Value(ms, ReferenceColumnKind.Time); return true; }
                return false;
        }
    }

    private static bool TryDecimal(JsonElement v, out decimal d)
    {
        d = 0;
        if (v.ValueKind == JsonValueKind.Number)
        {
            if (v.TryGetDecimal(out d)) return true;
            if (v.TryGetDouble(out var x) && Math.Abs(x) < 7.9e27) { d = (decimal)x; return true; }
            return false;
        }
        return v.ValueKind == JsonValueKind.String
            && decimal.TryParse(v.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out d);
    }

    /// <summary>Epoch milliseconds from a JSON time: a number (ms, µs or ns by magnitude, as engines differ) or a string
    /// (Flink's SQL "yyyy-MM-dd HH:mm:ss.SSS", ISO-8601/RFC 3339; without a zone = UTC).</summary>
    internal static bool TryTime(JsonElement v, out long ms)
    {
        ms = 0;
        if (v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out var n))
        {
            var abs = Math.Abs(n);
            ms = abs >= 100_000_000_000_000_000 ? n / 1_000_000 : abs >= 100_000_000_000_000 ? n / 1000 : n;
            return true;
        }
        if (v.ValueKind != JsonValueKind.String) return false;
        var s = v.GetString()!;
        if (long.TryParse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var m)) { ms = m; return true; }
        if (DateTimeOffset.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var t))
        {
            ms = t.ToUnixTimeMilliseconds();
            return true;
        }
        return false;
    }
}
