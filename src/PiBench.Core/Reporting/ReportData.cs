using System.Globalization;
using System.Text.Json;
using HdrHistogram;
using PiBench.Core.Benchmarking;

namespace PiBench.Core.Reporting;

/// <summary>
/// One measured cell (query, repetition, step) as read for a report: every figure nullable, so a field the results
/// file lacks, or one written as NaN (not measured), is shown as missing, never as 0.
/// </summary>
public sealed class ReportRow
{
    public string System { get; init; } = "";
    public string Query { get; init; } = "";
    public int Repetition { get; init; }
    public int Step { get; init; }
    public double? TargetRate { get; init; }
    public double? InputRate { get; init; }
    public double? OutputRate { get; init; }
    public double? LatencyP50Ms { get; init; }
    public double? LatencyP99Ms { get; init; }
    public double? LatencyP999Ms { get; init; }
    public double? LatencyMaxMs { get; init; }
    public double? CpuCoreSeconds { get; init; }
    public double? EngineCpuCoreSeconds { get; init; }
    public double? MemoryPeakMB { get; init; }
    public double? EngineMemoryPeakMB { get; init; }
    public double? DurationS { get; init; }
    public bool? Valid { get; init; }
    public string InvalidReason { get; init; } = "";
    public string Status { get; init; } = "";
    public DateTimeOffset? StartedAt { get; init; }
    public string LatencyReference { get; init; } = "";
    public string LatencyClock { get; init; } = "";
    public string RateSource { get; init; } = "";
    /// <summary>The cell's HdrHistogram interval log beside the results file, when it exists.</summary>
    public string? HlogPath { get; init; }
    /// <summary>The cell's latency histogram (all intervals of its .hlog added up), microseconds; null without a log.</summary>
    public LongHistogram? Histogram { get; init; }

    /// <summary>A fixed-rate cell that ran to the end and passed the validity gate.</summary>
    public bool IsValidFixed => Step == 0 && Status == "Completed" && Valid == true;

    /// <summary>
    /// Engine CPU per million events into the job: EngineCpuCoreSeconds / (InputRate x DurationS / 10^6). Null when any
    /// of the three is missing or no event came in.
    /// </summary>
    public double? EngineCpuPerMillionEvents =>
        EngineCpuCoreSeconds is { } c && InputRate is { } r && DurationS is { } d && r * d > 0 ? c / (r * d / 1e6) : null;

    /// <summary>Latency at a percentile: from the cell's histogram when it has one, else the results file's figure.</summary>
    public double? LatencyMs(double percentile)
    {
        if (Histogram is { TotalCount: > 0 } h)
            return percentile >= 100 ? h.GetMaxValue() / 1000.0 : h.GetValueAtPercentile(percentile) / 1000.0;
        return percentile switch { 50 => LatencyP50Ms, 99 => LatencyP99Ms, 99.9 => LatencyP999Ms, >= 100 => LatencyMaxMs, _ => null };
    }

    public static ReportRow From(BenchmarkResult r) => new()
    {
        System = r.System, Query = r.Query, Repetition = r.Repetition, Step = r.Step, TargetRate = F(r.TargetRate), InputRate = F(r.InputRate),
        OutputRate = F(r.OutputRate), LatencyP50Ms = F(r.LatencyP50Ms), LatencyP99Ms = F(r.LatencyP99Ms), LatencyP999Ms = F(r.LatencyP999Ms),
        LatencyMaxMs = F(r.LatencyMaxMs), CpuCoreSeconds = F(r.CpuCoreSeconds), EngineCpuCoreSeconds = F(r.EngineCpuCoreSeconds),
        MemoryPeakMB = F(r.MemoryPeakMB), EngineMemoryPeakMB = F(r.EngineMemoryPeakMB), DurationS = F(r.DurationS), Valid = r.Valid,
        InvalidReason = r.InvalidReason, Status = r.Status, StartedAt = r.StartedAt == default ? null : r.StartedAt,
        LatencyReference = r.LatencyReference, LatencyClock = r.LatencyClock, RateSource = r.RateSource,
    };

    internal static double? F(double v) => double.IsFinite(v) ? v : null;
}

/// <summary>One sustainable-rate search as read for a report.</summary>
public sealed class ReportSearch
{
    public string System { get; init; } = "";
    public string Query { get; init; } = "";
    public int Repetition { get; init; }
    /// <summary>Highest passing step rate: a lower bound of the engine's limit (null when no step passed).</summary>
    public double? SustainableRate { get; init; }
    /// <summary>Lowest failing step rate: an upper bound (null when none failed).</summary>
    public double? FailingRate { get; init; }
    public string LimitedBy { get; init; } = "";
    public string Reason { get; init; } = "";
    public string Status { get; init; } = "";
    public int? Steps { get; init; }
    public string StepRates { get; init; } = "";

    public static ReportSearch From(SustainableThroughputResult s) => new()
    {
        System = s.System, Query = s.Query, Repetition = s.Repetition, SustainableRate = ReportRow.F(s.SustainableRate), FailingRate = ReportRow.F(s.FailingRate),
        LimitedBy = s.LimitedBy, Reason = s.Reason, Status = s.Status, Steps = s.Steps, StepRates = s.StepRates,
    };
}

/// <summary>One results file (or one system's pipeline objects) as read for a report, with its provenance.</summary>
public sealed class ReportRun
{
    /// <summary>The results .json, or "" for objects from the pipeline.</summary>
    public string SourcePath { get; init; } = "";
    public string System { get; init; } = "";
    public string Mode { get; init; } = "";
    public string State { get; init; } = "";
    /// <summary>Provenance, in file order: label, value ("" = missing).</summary>
    public List<(string Name, string Value)> Provenance { get; init; } = new();
    public Dictionary<string, string> Images { get; init; } = new(StringComparer.Ordinal);
    /// <summary>Node facts: one dictionary per node (field name -> text).</summary>
    public List<Dictionary<string, string>> Nodes { get; init; } = new();
    public List<ReportRow> Rows { get; init; } = new();
    public List<ReportSearch> Searches { get; init; } = new();
    /// <summary>Fields expected from the current results format that this file lacks (shown in the report).</summary>
    public List<string> MissingFields { get; init; } = new();
}

/// <summary>
/// A small tolerant reader of PiBench results .json files (BenchmarkRunDocument, any schema version seen so far): reads
/// by name with JsonDocument, so added fields are ignored and missing ones stay missing (null), and NaN ("NaN") is
/// missing too. Each cell's HdrHistogram interval log (benchmark_results_..._q1_r1[_s2].hlog beside the .json) is read
/// and its intervals added up.
/// </summary>
public static class ResultsReader
{
    private static readonly string[] ExpectedRunFields =
        { "SchemaVersion", "PiBenchVersion", "System", "EngineVersion", "Images", "TopologyName", "Seed", "TargetRate", "Parallelism", "Repetitions", "Nodes", "Results" };
    private static readonly string[] ExpectedRowFields =
        { "TargetRate", "InputRate", "OutputRate", "LatencyP50Ms", "LatencyP99Ms", "LatencyMaxMs", "EngineCpuCoreSeconds", "EngineMemoryPeakMB", "DurationS", "Valid", "Status" };

    public static ReportRun Read(string path)
    {
        string text;
        try { text = File.ReadAllText(path); }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new PiBenchException("ResultsFileNotFound", PiBenchErrorCategory.ObjectNotFound, $"Cannot read '{path}': {ex.Message}", path,
                "Pass the .json written beside benchmark_results_*.txt by Invoke-Benchmark.", ex);
        }
        JsonDocument doc;
        try { doc = JsonDocument.Parse(text, new JsonDocumentOptions { AllowTrailingCommas = true }); }
        catch (JsonException ex)
        {
            throw new PiBenchException("ResultsFileInvalid", PiBenchErrorCategory.InvalidData, $"'{path}' is not JSON: {ex.Message}", path,
                "Pass the .json written beside benchmark_results_*.txt by Invoke-Benchmark.", ex);
        }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("Results", out var results) || results.ValueKind != JsonValueKind.Array)
                throw new PiBenchException("ResultsFileInvalid", PiBenchErrorCategory.InvalidData, $"'{path}' is not a PiBench results file (no Results array).", path,
                    "Pass the .json written beside benchmark_results_*.txt by Invoke-Benchmark.");
            var dir = Path.GetDirectoryName(Path.GetFullPath(path))!;
            var baseName = Path.GetFileNameWithoutExtension(path);
            var missing = ExpectedRunFields.Where(f => !root.TryGetProperty(f, out _)).ToList();
            var system = Str(root, "System");
            var rows = new List<ReportRow>();
            var rowMissing = new HashSet<string>(StringComparer.Ordinal);
            foreach (var r in results.EnumerateArray())
            {
                foreach (var f in ExpectedRowFields) if (!r.TryGetProperty(f, out _)) rowMissing.Add("Results[]." + f);
                var q = Str(r, "Query");
                var rep = Int(r, "Repetition") ?? 0;
                var step = Int(r, "Step") ?? 0;
                var hlog = Path.Combine(dir, $"{baseName}_{q}_r{rep}{(step > 0 ? $"_s{step}" : "")}.hlog");
                var hasLog = q.Length > 0 && File.Exists(hlog);
                rows.Add(new ReportRow
                {
                    System = Str(r, "System") is { Length: > 0 } s ? s : system, Query = q, Repetition = rep, Step = step,
                    TargetRate = Num(r, "TargetRate"), InputRate = Num(r, "InputRate"), OutputRate = Num(r, "OutputRate"),
                    LatencyP50Ms = Num(r, "LatencyP50Ms"), LatencyP99Ms = Num(r, "LatencyP99Ms"), LatencyP999Ms = Num(r, "LatencyP999Ms"),
                    LatencyMaxMs = Num(r, "LatencyMaxMs"), CpuCoreSeconds = Num(r, "CpuCoreSeconds"), EngineCpuCoreSeconds = Num(r, "EngineCpuCoreSeconds"),
                    MemoryPeakMB = Num(r, "MemoryPeakMB"), EngineMemoryPeakMB = Num(r, "EngineMemoryPeakMB"), DurationS = Num(r, "DurationS"),
                    Valid = Bool(r, "Valid"), InvalidReason = Str(r, "InvalidReason"), Status = Str(r, "Status"), StartedAt = Date(r, "StartedAt"),
                    LatencyReference = Str(r, "LatencyReference"), LatencyClock = Str(r, "LatencyClock"), RateSource = Str(r, "RateSource"),
                    HlogPath = hasLog ? hlog : null, Histogram = hasLog ? LatencyLog.ReadMerged(hlog) : null,
                });
            }
            missing.AddRange(rowMissing.Order(StringComparer.Ordinal));
            var searches = new List<ReportSearch>();
            if (root.TryGetProperty("Searches", out var ss) && ss.ValueKind == JsonValueKind.Array)
                foreach (var s in ss.EnumerateArray())
                    searches.Add(new ReportSearch
                    {
                        System = Str(s, "System") is { Length: > 0 } sy ? sy : system, Query = Str(s, "Query"), Repetition = Int(s, "Repetition") ?? 0,
                        SustainableRate = Num(s, "SustainableRate"), FailingRate = Num(s, "FailingRate"), LimitedBy = Str(s, "LimitedBy"),
                        Reason = Str(s, "Reason"), Status = Str(s, "Status"), Steps = Int(s, "Steps"), StepRates = Str(s, "StepRates"),
                    });
            var prov = new List<(string, string)> { ("Results file", Path.GetFullPath(path)) };
            foreach (var p in root.EnumerateObject())
            {
                if (p.Name is "Results" or "Searches" or "Summaries" or "Containers" or "Nodes" or "Images") continue;
                prov.Add((p.Name, Text(p.Value)));
            }
            var images = new Dictionary<string, string>(StringComparer.Ordinal);
            if (root.TryGetProperty("Images", out var im) && im.ValueKind == JsonValueKind.Object)
                foreach (var p in im.EnumerateObject()) images[p.Name] = Text(p.Value);
            var nodes = new List<Dictionary<string, string>>();
            if (root.TryGetProperty("Nodes", out var ns) && ns.ValueKind == JsonValueKind.Array)
                foreach (var n in ns.EnumerateArray().Where(n => n.ValueKind == JsonValueKind.Object))
                    nodes.Add(n.EnumerateObject().ToDictionary(p => p.Name, p => Text(p.Value), StringComparer.Ordinal));
            return new ReportRun
            {
                SourcePath = Path.GetFullPath(path), System = system, Mode = Str(root, "Mode") is { Length: > 0 } m ? m : "Fixed", State = Str(root, "State"),
                Provenance = prov, Images = images, Nodes = nodes, Rows = rows, Searches = searches, MissingFields = missing,
            };
        }
    }

    /// <summary>Runs built from pipeline objects (one per system): no provenance beyond what the objects carry, no histograms.</summary>
    public static List<ReportRun> FromObjects(IEnumerable<BenchmarkResult> results, IEnumerable<SustainableThroughputResult> searches)
    {
        var rows = results.Select(ReportRow.From).ToList();
        var ss = searches.Select(ReportSearch.From).ToList();
        return rows.Select(r => r.System).Concat(ss.Select(s => s.System)).Distinct(StringComparer.OrdinalIgnoreCase).Select(system =>
        {
            var rs = rows.Where(r => string.Equals(r.System, system, StringComparison.OrdinalIgnoreCase)).ToList();
            var sr = ss.Where(s => string.Equals(s.System, system, StringComparison.OrdinalIgnoreCase)).ToList();
            var versions = string.Join(", ", results.Where(r => string.Equals(r.System, system, StringComparison.OrdinalIgnoreCase)).Select(r => r.EngineVersion)
                .Concat(searches.Where(s => string.Equals(s.System, system, StringComparison.OrdinalIgnoreCase)).Select(s => s.EngineVersion)).Distinct());
            var seeds = string.Join(", ", results.Where(r => string.Equals(r.System, system, StringComparison.OrdinalIgnoreCase)).Select(r => r.Seed)
                .Concat(searches.Where(s => string.Equals(s.System, system, StringComparison.OrdinalIgnoreCase)).Select(s => s.Seed)).Distinct());
            return new ReportRun
            {
                System = system, Mode = sr.Count > 0 ? "Sustainable" : "Fixed", State = "",
                Provenance = new() { ("Source", "pipeline objects (no results file: images, topology and node facts are not known)"), ("EngineVersion", versions), ("Seed", seeds) },
                Rows = rs, Searches = sr,
            };
        }).ToList();
    }

    internal static string Str(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() ?? "" : "";

    internal static int? Int(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out var i) ? i : null;

    internal static bool? Bool(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) ? v.ValueKind switch { JsonValueKind.True => true, JsonValueKind.False => false, _ => null } : null;

    /// <summary>A number; null when missing, null, not a number, or NaN/Infinity (written as strings).</summary>
    internal static double? Num(JsonElement e, string name)
    {
        if (!e.TryGetProperty(name, out var v)) return null;
        if (v.ValueKind == JsonValueKind.Number && v.TryGetDouble(out var d) && double.IsFinite(d)) return d;
        if (v.ValueKind == JsonValueKind.String && double.TryParse(v.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var s) && double.IsFinite(s)) return s;
        return null;
    }

    internal static DateTimeOffset? Date(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String && DateTimeOffset.TryParse(v.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.None, out var d)
            ? d : null;

    private static string Text(JsonElement v) => v.ValueKind switch
    {
        JsonValueKind.String => v.GetString() ?? "",
        JsonValueKind.Null or JsonValueKind.Undefined => "",
        JsonValueKind.Object or JsonValueKind.Array => v.GetRawText(),
        _ => v.GetRawText(),
    };
}

/// <summary>HdrHistogram interval logs as written by <see cref="LatencyRecorder.WriteIntervalLog"/> (microseconds).</summary>
public static class LatencyLog
{
    /// <summary>Adds up every interval histogram of one log; null when the log holds none or cannot be read.</summary>
    public static LongHistogram? ReadMerged(string path)
    {
        try
        {
            using var fs = File.OpenRead(path);
            using var reader = new HistogramLogReader(fs);
            LongHistogram? total = null;
            foreach (var h in reader.ReadHistograms())
            {
                total ??= new LongHistogram(1, Math.Max(2, h.HighestTrackableValue), h.NumberOfSignificantValueDigits);
                total.Add(h);
            }
            return total;
        }
        catch (Exception ex) when (ex is IOException or FormatException or InvalidOperationException or ArgumentException or IndexOutOfRangeException)
        {
            return null;
        }
    }

    /// <summary>Adds several histograms (e.g. every valid repetition of a query) into one; null when none has values.</summary>
    public static LongHistogram? Merge(IEnumerable<LongHistogram?> histograms)
    {
        LongHistogram? total = null;
        foreach (var h in histograms)
        {
            if (h is null || h.TotalCount == 0) continue;
            total ??= new LongHistogram(1, Math.Max(2, h.HighestTrackableValue), h.NumberOfSignificantValueDigits);
            total.Add(h);
        }
        return total;
    }

    /// <summary>Latency (ms) at percentiles for a distribution chart: points from the histogram's percentile iteration.</summary>
    public static List<(double Percentile, double Ms)> Distribution(LongHistogram h)
    {
        var list = new List<(double, double)>();
        foreach (var p in h.Percentiles(5))
        {
            if (p.Percentile >= 100) break;
            list.Add((p.Percentile, p.ValueIteratedTo / 1000.0));
        }
        list.Add((100, h.GetMaxValue() / 1000.0));
        return list;
    }
}
