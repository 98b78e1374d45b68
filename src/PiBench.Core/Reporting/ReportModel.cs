using System.Globalization;
using System.Text.Json;
using HdrHistogram;
using PiBench.Core.Benchmarking;

namespace PiBench.Core.Reporting;

/// <summary>Mean of repeated values with its 95 % Student-t interval; Count 0 = nothing measured.</summary>
public readonly record struct Figure(int Count, double Mean, double CiLow, double CiHigh)
{
    public bool HasValue => Count > 0;
    public static Figure Of(IEnumerable<double?> values)
    {
        var s = Statistics.Summarize(values.Where(v => v is not null).Select(v => v!.Value));
        return new Figure(s.Count, s.Mean, s.CiLow, s.CiHigh);
    }
}

/// <summary>
/// One query x system of a report: headline figures over the valid fixed-rate repetitions only (invalid ones are listed
/// with their reasons), latency percentiles from the merged HdrHistogram of those repetitions, sustainable searches.
/// </summary>
public sealed class ReportCell
{
    public string Query { get; init; } = "";
    public string System { get; init; } = "";
    public IReadOnlyList<ReportRow> Rows { get; init; } = Array.Empty<ReportRow>();
    public IReadOnlyList<ReportSearch> Searches { get; init; } = Array.Empty<ReportSearch>();

    /// <summary>Fixed-rate cells (Step 0).</summary>
    public IEnumerable<ReportRow> Fixed => Rows.Where(r => r.Step == 0);
    public IReadOnlyList<ReportRow> Valid => Fixed.Where(r => r.IsValidFixed).ToList();
    /// <summary>Every cell or step that is not valid, with its reason.</summary>
    public IEnumerable<ReportRow> Invalid => Rows.Where(r => !(r.Status == "Completed" && r.Valid == true));

    public double? TargetRate => Fixed.Select(r => r.TargetRate).FirstOrDefault(t => t is not null);
    public Figure InputRate => Figure.Of(Valid.Select(r => r.InputRate));
    public Figure OutputRate => Figure.Of(Valid.Select(r => r.OutputRate));
    public Figure EngineCpuPerMillionEvents => Figure.Of(Valid.Select(r => r.EngineCpuPerMillionEvents));
    public Figure EngineMemoryPeakMB => Figure.Of(Valid.Select(r => r.EngineMemoryPeakMB));
    public Figure NodeMemoryPeakMB => Figure.Of(Valid.Select(r => r.MemoryPeakMB));
    /// <summary>Per-repetition latency percentile over the valid repetitions (for its interval).</summary>
    public Figure LatencyPerRepetition(double percentile) => Figure.Of(Valid.Select(r => r.LatencyMs(percentile)));

    /// <summary>The valid repetitions' histograms added up (null when none has a log with values).</summary>
    public LongHistogram? MergedHistogram => LatencyLog.Merge(Valid.Select(r => r.Histogram));
    /// <summary>Valid repetitions whose histogram went into <see cref="MergedHistogram"/>.</summary>
    public int MergedCount => Valid.Count(r => r.Histogram is { TotalCount: > 0 });

    /// <summary>Latency at a percentile of the merged histogram (100 = max), ms; null without one.</summary>
    public double? MergedLatencyMs(double percentile)
    {
        var h = MergedHistogram;
        if (h is null) return null;
        return percentile >= 100 ? h.GetMaxValue() / 1000.0 : h.GetValueAtPercentile(percentile) / 1000.0;
    }

    public IReadOnlyList<ReportSearch> CompletedSearches => Searches.Where(s => s.Status == "Completed").ToList();
    /// <summary>Highest passing rate over completed searches: mean and interval (a lower bound of the limit).</summary>
    public Figure SustainableRate => Figure.Of(CompletedSearches.Select(s => s.SustainableRate));
    /// <summary>Lowest failing rate over completed searches (an upper bound of the limit).</summary>
    public Figure FailingRate => Figure.Of(CompletedSearches.Select(s => s.FailingRate));
}

/// <summary>Node metric samples read back from a Get-ClusterMetric -Path JSON-lines file (container lines are skipped).</summary>
public static class MetricsReader
{
    public static List<ClusterMetricSample> Read(string path)
    {
        IEnumerable<string> lines;
        try { lines = File.ReadAllLines(path); }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new PiBenchException("MetricsFileNotFound", PiBenchErrorCategory.ObjectNotFound, $"Cannot read '{path}': {ex.Message}", path,
                "Pass the JSON-lines file written by Get-ClusterMetric -Path.", ex);
        }
        var list = new List<ClusterMetricSample>();
        var n = 0;
        foreach (var line in lines)
        {
            n++;
            if (line.Trim().Length == 0) continue;
            try
            {
                using var doc = JsonDocument.Parse(line);
                var e = doc.RootElement;
                if (e.ValueKind != JsonValueKind.Object || e.TryGetProperty("ContainerId", out _)) continue; // a container sample
                if (ResultsReader.Date(e, "Timestamp") is not { } ts) continue;
                list.Add(new ClusterMetricSample
                {
                    Node = ResultsReader.Str(e, "Node"), Timestamp = ts, IntervalSeconds = ResultsReader.Num(e, "IntervalSeconds") ?? 0,
                    CpuPercent = ResultsReader.Num(e, "CpuPercent"), MemoryUsedMB = ResultsReader.Num(e, "MemoryUsedMB"),
                    MemoryTotalMB = ResultsReader.Num(e, "MemoryTotalMB"), NetworkRxBytesPerSec = ResultsReader.Num(e, "NetworkRxBytesPerSec"),
                    NetworkTxBytesPerSec = ResultsReader.Num(e, "NetworkTxBytesPerSec"), TemperatureC = ResultsReader.Num(e, "TemperatureC"),
                    Throttled = ResultsReader.Bool(e, "Throttled"), ThrottledFlags = ResultsReader.Str(e, "ThrottledFlags"),
                });
            }
            catch (JsonException ex)
            {
                throw new PiBenchException("MetricsFileInvalid", PiBenchErrorCategory.InvalidData, $"'{path}' line {n} is not JSON: {ex.Message}", path,
                    "Pass the JSON-lines file written by Get-ClusterMetric -Path.", ex);
            }
        }
        return list.OrderBy(s => s.Timestamp).ToList();
    }
}

/// <summary>Everything a report shows, grouped: runs, cells per query x system, node samples.</summary>
public sealed class ReportModel
{
    public IReadOnlyList<ReportRun> Runs { get; }
    public IReadOnlyList<ReportCell> Cells { get; }
    public IReadOnlyList<ClusterMetricSample> Samples { get; }
    public IReadOnlyList<string> Systems { get; }
    public IReadOnlyList<string> Queries { get; }
    public string? MetricsPath { get; }

    public ReportModel(IReadOnlyList<ReportRun> runs, IReadOnlyList<ClusterMetricSample>? samples = null, string? metricsPath = null)
    {
        Runs = runs;
        Samples = samples ?? Array.Empty<ClusterMetricSample>();
        MetricsPath = metricsPath;
        var rows = runs.SelectMany(r => r.Rows).ToList();
        var searches = runs.SelectMany(r => r.Searches).ToList();
        Systems = rows.Select(r => r.System).Concat(searches.Select(s => s.System)).Where(s => s.Length > 0)
            .Distinct(StringComparer.OrdinalIgnoreCase).ToList();
        Queries = rows.Select(r => r.Query).Concat(searches.Select(s => s.Query)).Where(q => q.Length > 0)
            .Distinct(StringComparer.OrdinalIgnoreCase).OrderBy(QueryOrder).ThenBy(q => q, StringComparer.OrdinalIgnoreCase).ToList();
        Cells = Queries.SelectMany(q => Systems.Select(s => new ReportCell
        {
            Query = q, System = s,
            Rows = rows.Where(r => Eq(r.Query, q) && Eq(r.System, s)).OrderBy(r => r.Repetition).ThenBy(r => r.Step).ToList(),
            Searches = searches.Where(x => Eq(x.Query, q) && Eq(x.System, s)).OrderBy(x => x.Repetition).ToList(),
        })).Where(c => c.Rows.Count > 0 || c.Searches.Count > 0).ToList();
    }

    public ReportCell? Cell(string query, string system) => Cells.FirstOrDefault(c => Eq(c.Query, query) && Eq(c.System, system));

    /// <summary>Measured windows (start, end) of every completed cell or step, for shading node charts.</summary>
    public IEnumerable<(DateTimeOffset From, DateTimeOffset To, string Label)> Windows =>
        Runs.SelectMany(r => r.Rows).Where(r => r.StartedAt is not null && r.DurationS is > 0)
            .Select(r => (r.StartedAt!.Value, r.StartedAt!.Value.AddSeconds(r.DurationS!.Value), $"{r.System} {r.Query} r{r.Repetition}{(r.Step > 0 ? $" s{r.Step}" : "")}"));

    private static bool Eq(string a, string b) => string.Equals(a, b, StringComparison.OrdinalIgnoreCase);

    /// <summary>q0, q1, ..., q10 in numeric order.</summary>
    private static int QueryOrder(string q) =>
        q.Length > 1 && (q[0] == 'q' || q[0] == 'Q') && int.TryParse(q.AsSpan(1), NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : int.MaxValue;
}
