using System.Diagnostics;
using System.Text;
using System.Text.Json;
using PiBench.Core.Benchmarking;

namespace PiBench.Benchmarks;

/// <summary>
/// result-time-parse: reading the event time or window end out of captured query results (what the latency collector
/// does for every result record), as a ratio to parsing the same records with JsonDocument and looking the field up,
/// in the same run. Plain rows (q2-style), change records (q4's debezium-json) and RFC 3339 times (Arroyo).
/// </summary>
public static class LatencyParseBenchmarks
{
    public static void RegisterAll() => Program.Register("result-time-parse", _ =>
    {
        const int count = 500_000;
        var rows = new (string Name, byte[][] Records)[]
        {
            ("q2 row, SQL timestamp", Make(count, i => $"{{\"auction\":{1000 + i},\"price\":{i % 997},\"latency_ts\":\"2026-12-01 10:00:{i % 60:00}.{i % 1000:000}\"}}")),
            ("q5 row, RFC 3339 (Arroyo)", Make(count, i => $"{{\"auction\":{1000 + i},\"num\":{i % 50},\"latency_ts\":\"2026-12-01T10:00:{i % 60:00}.{i % 1000:000}Z\"}}")),
            ("q4 change record", Make(count, i => $"{{\"before\":{{\"id\":{i % 10},\"final\":{i},\"latency_ts\":\"2026-12-01 10:00:00.000\"}},\"after\":{{\"id\":{i % 10},\"final\":{i + 1},\"latency_ts\":\"2026-12-01 10:00:{i % 60:00}.{i % 1000:000}\"}},\"op\":\"u\"}}")),
        };
        foreach (var (name, records) in rows)
        {
            // Warm up both paths, then time them alternately.
            Run(records, Pibench); Run(records, Reference);
            var ours = Time(records, Pibench);
            var reference = Time(records, Reference);
            Console.WriteLine($"{name}: {count / ours.TotalSeconds / 1e6:0.00} M records/s, {ours.TotalSeconds / reference.TotalSeconds:0.00}x the time of JsonDocument + lookup ({count / reference.TotalSeconds / 1e6:0.00} M/s)");
        }
        return Task.CompletedTask;
    });

    private static byte[][] Make(int count, Func<int, string> row) => Enumerable.Range(0, count).Select(i => Encoding.UTF8.GetBytes(row(i))).ToArray();

    private static long Pibench(byte[] r) => ResultEventTime.TryExtractMs(r, out var ms) ? ms : -1;

    /// <summary>The straightforward way: a DOM per record, the field at the top or in "after".</summary>
    private static long Reference(byte[] r)
    {
        using var doc = JsonDocument.Parse(r);
        var root = doc.RootElement.TryGetProperty("after", out var after) && after.ValueKind == JsonValueKind.Object ? after : doc.RootElement;
        if (!root.TryGetProperty("latency_ts", out var v) || v.ValueKind != JsonValueKind.String) return -1;
        return DateTimeOffset.Parse(v.GetString()!, System.Globalization.CultureInfo.InvariantCulture,
            System.Globalization.DateTimeStyles.AssumeUniversal | System.Globalization.DateTimeStyles.AdjustToUniversal).ToUnixTimeMilliseconds();
    }

    private static long Run(byte[][] records, Func<byte[], long> parse)
    {
        long sum = 0;
        foreach (var r in records) sum += parse(r);
        return sum;
    }

    private static TimeSpan Time(byte[][] records, Func<byte[], long> parse)
    {
        var sw = Stopwatch.StartNew();
        var sum = Run(records, parse);
        sw.Stop();
        if (sum == 0) Console.WriteLine("(no times parsed)");
        return sw.Elapsed;
    }
}
