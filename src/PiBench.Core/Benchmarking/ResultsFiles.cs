using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace PiBench.Core.Benchmarking;

/// <summary>Facts about one node, recorded with the results.</summary>
public sealed class NodeFact
{
    public string Node { get; set; } = "";
    public string Address { get; set; } = "";
    public string Role { get; set; } = "";
    public string Model { get; set; } = "";
    public string Kernel { get; set; } = "";
    public string Architecture { get; set; } = "";
    public double? TemperatureC { get; set; }
    public string ThrottledFlags { get; set; } = "";
    public double? ClockOffsetMs { get; set; }
    /// <summary>The true clock offset is within ClockOffsetMs ± this (half the round trip of the exchange that read it).</summary>
    public double? ClockOffsetUncertaintyMs { get; set; }
}

/// <summary>
/// One summary figure of a query over its valid repetitions (or its searches that found the engine's limit).
/// Mean figures (rates, core-seconds, the sustainable rate): Value = Mean, 95 % Student-t interval. Latency
/// percentiles: Value = the percentile of the valid repetitions' merged histograms, Mean and StdDev NaN (no average of
/// percentiles is taken), CiLow/CiHigh from a bootstrap over repetitions. Method says which.
/// </summary>
public sealed class FigureSummary
{
    public string Query { get; set; } = "";
    public string Figure { get; set; } = "";
    /// <summary>Repetitions (or searches) the figure is computed from.</summary>
    public int Count { get; set; }
    public double Mean { get; set; }
    public double StdDev { get; set; }
    public double CiLow { get; set; }
    public double CiHigh { get; set; }
    /// <summary>The figure: the mean for mean figures, the merged-histogram percentile for latency percentiles.</summary>
    public double Value { get; set; } = double.NaN;
    /// <summary>How Value and the interval were computed, e.g. "mean; 95 % CI Student t" or "merged histograms; 95 % CI bootstrap ...".</summary>
    public string Method { get; set; } = "";
}

/// <summary>
/// The headline row of one query (the seed table's row): figures over valid, completed repetitions only; the others
/// are named beside them with their reasons, and a query with no valid repetition has no figure, only why.
/// </summary>
public sealed class QueryHeadline
{
    public string Query { get; set; } = "";
    public int ValidRepetitions { get; set; }
    /// <summary>Repetitions left out of the figures: completed but invalid, failed, stopped or not run.</summary>
    public int ExcludedRepetitions { get; set; }
    /// <summary>The left-out repetitions and why, "r2 (Completed, invalid): reason; r3 (NotRun): reason".</summary>
    public string Excluded { get; set; } = "";
    /// <summary>Means over the valid repetitions; NaN when there is none.</summary>
    public double InputRate { get; set; } = double.NaN;
    public double OutputRate { get; set; } = double.NaN;
    public double CpuCoreSeconds { get; set; } = double.NaN;
    /// <summary>Percentiles of the valid repetitions' merged latency histograms (ms); NaN when there is none or no histogram file.</summary>
    public double LatencyP50Ms { get; set; } = double.NaN;
    public double LatencyP99Ms { get; set; } = double.NaN;
    public double LatencyP999Ms { get; set; } = double.NaN;
    public double LatencyMaxMs { get; set; } = double.NaN;
    /// <summary>"" when the query has figures; else why not ("no valid repetition: ...").</summary>
    public string NoFigureReason { get; set; } = "";
}

/// <summary>The .json results document: every figure with its provenance. Rewritten atomically after each query.</summary>
public sealed class BenchmarkRunDocument
{
    public int SchemaVersion { get; set; } = 1;
    public string PiBenchVersion { get; set; } = ModuleInfo.Version;
    public string System { get; set; } = "";
    public string EngineVersion { get; set; } = "";
    /// <summary>Image name -> tag or digest.</summary>
    public Dictionary<string, string> Images { get; set; } = new();
    public string TopologyName { get; set; } = "";
    public string TopologyPath { get; set; } = "";
    public string BootstrapServers { get; set; } = "";
    public string GeneratorProfile { get; set; } = "";
    public long Seed { get; set; }
    public double TargetRate { get; set; }
    public long TotalEvents { get; set; }
    public int Parallelism { get; set; }
    public int Repetitions { get; set; }
    public int WarmupSeconds { get; set; }
    public int MeasureSeconds { get; set; }
    public List<string> Queries { get; set; } = new();
    public List<NodeFact> Nodes { get; set; } = new();
    public DateTimeOffset StartedAt { get; set; }
    public DateTimeOffset? EndedAt { get; set; }
    /// <summary>Running, Completed, Stopped or Failed.</summary>
    public string State { get; set; } = "Running";
    /// <summary>Fixed (every cell at TargetRate) or Sustainable (a step search per cell, TargetRate = start rate).</summary>
    public string Mode { get; set; } = "Fixed";
    /// <summary>The search settings of a Sustainable run.</summary>
    public SustainableSearchOptions? Search { get; set; }
    /// <summary>Fixed mode: one per cell. Sustainable mode: every step of every search (Step 1, 2, ...).</summary>
    public List<BenchmarkResult> Results { get; set; } = new();
    /// <summary>Sustainable mode: one per search (query and repetition).</summary>
    public List<SustainableThroughputResult> Searches { get; set; } = new();
    public List<FigureSummary> Summaries { get; set; } = new();
    /// <summary>Fixed mode: one headline per query, from valid repetitions only (the seed table's rows).</summary>
    public List<QueryHeadline> Headlines { get; set; } = new();
    /// <summary>
    /// Per-container CPU and memory over each measured window (fixed cells and sustainable steps), keyed by Query,
    /// Repetition and Step like <see cref="Results"/>; the flat results carry only the engine totals.
    /// </summary>
    public List<ContainerUsage> Containers { get; set; } = new();

    /// <summary>Drops container rows whose cell or step is no longer in <see cref="Results"/> (-Resume measures those again).</summary>
    public void PruneContainers()
    {
        var kept = Results.Select(r => (r.Query.ToLowerInvariant(), r.Repetition, r.Step)).ToHashSet();
        Containers.RemoveAll(c => !kept.Contains((c.Query.ToLowerInvariant(), c.Repetition, c.Step)));
    }

    /// <summary>Keys of fixed-rate cells that were measured to the end (Status Completed); -Resume skips them.</summary>
    public HashSet<string> CompletedKeys() => Results.Where(r => r.Status == "Completed" && r.Step == 0).Select(r => r.Key).ToHashSet(StringComparer.Ordinal);
}

/// <summary>Writes benchmark_results_YYYYMMDD_HHMMSS.txt (the seed's layout) and the .json beside it; reads the json for -Resume.</summary>
public static class ResultsFiles
{
    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public static string BaseName(DateTimeOffset at) => "benchmark_results_" + at.UtcDateTime.ToString("yyyyMMdd_HHmmss", CultureInfo.InvariantCulture);

    /// <summary>
    /// Summaries per query: the mean figures (mean, 95 % Student-t CI) over completed, valid fixed-rate repetitions;
    /// the latency percentiles of those repetitions' merged histograms (read from their .hlog files in
    /// <paramref name="directory"/>) with a bootstrap CI; and the sustainable rate over completed searches that found
    /// the engine's limit (lower bounds are left out).
    /// </summary>
    public static List<FigureSummary> Summarize(IEnumerable<BenchmarkResult> results, IEnumerable<SustainableThroughputResult>? searches = null, string? directory = null)
    {
        var list = new List<FigureSummary>();
        foreach (var g in (searches ?? Array.Empty<SustainableThroughputResult>()).Where(x => x.Status == "Completed" && !x.IsLowerBound && double.IsFinite(x.SustainableRate))
                     .GroupBy(x => x.Query, StringComparer.OrdinalIgnoreCase))
            list.Add(MeanFigure(g.Key, "SustainableRate", g.Select(x => x.SustainableRate)));
        foreach (var g in ValidCells(results).GroupBy(r => r.Query, StringComparer.OrdinalIgnoreCase))
        {
            list.Add(MeanFigure(g.Key, "InputRate", g.Select(r => r.InputRate)));
            list.Add(MeanFigure(g.Key, "OutputRate", g.Select(r => r.OutputRate)));
            var merged = Merge(g, directory);
            foreach (var (figure, pct) in new[] { ("LatencyP50Ms", 50.0), ("LatencyP99Ms", 99.0), ("LatencyP999Ms", 99.9) })
            {
                if (merged is null) { list.Add(new FigureSummary { Query = g.Key, Figure = figure, Count = 0, Mean = double.NaN, StdDev = double.NaN, CiLow = double.NaN, CiHigh = double.NaN, Method = "not available: no latency histogram (.hlog) of a valid repetition" }); continue; }
                var (lo, hi) = merged.BootstrapCi(pct);
                list.Add(new FigureSummary
                {
                    Query = g.Key, Figure = figure, Count = merged.Repetitions, Mean = double.NaN, StdDev = double.NaN,
                    Value = merged.ValueAt(pct) / 1000.0, CiLow = lo / 1000.0, CiHigh = hi / 1000.0,
                    Method = $"percentile of the merged latency histograms of {merged.Repetitions} valid repetition(s); 95 % CI {(merged.Repetitions < 2 ? "none (one repetition)" : MergedPercentiles.CiMethod)}",
                });
            }
            list.Add(MeanFigure(g.Key, "CpuCoreSeconds", g.Select(r => r.CpuCoreSeconds)));
            if (g.Any(r => double.IsFinite(r.EngineCpuCoreSeconds))) list.Add(MeanFigure(g.Key, "EngineCpuCoreSeconds", g.Select(r => r.EngineCpuCoreSeconds)));
        }
        return list;
    }

    private static FigureSummary MeanFigure(string query, string figure, IEnumerable<double> values)
    {
        var s = Statistics.Summarize(values);
        return new FigureSummary
        {
            Query = query, Figure = figure, Count = s.Count, Mean = s.Mean, StdDev = s.StdDev, CiLow = s.CiLow, CiHigh = s.CiHigh, Value = s.Mean,
            Method = s.Count < 2 ? "mean of one repetition; no CI" : $"mean of {s.Count}; 95 % CI Student t",
        };
    }

    /// <summary>Fixed-rate cells whose figures may be quoted: completed and valid.</summary>
    public static IEnumerable<BenchmarkResult> ValidCells(IEnumerable<BenchmarkResult> results) => results.Where(r => r.Status == "Completed" && r.Valid && r.Step == 0);

    /// <summary>The valid cells' histograms, merged (null when none of them has a readable .hlog).</summary>
    private static MergedPercentiles? Merge(IEnumerable<BenchmarkResult> cells, string? directory)
    {
        if (directory is null) return null;
        var hs = cells.Where(r => r.HistogramFile.Length > 0).Select(r => MergedPercentiles.ReadLog(Path.Combine(directory, r.HistogramFile)))
            .Where(h => h is { TotalCount: > 0 }).Cast<HdrHistogram.HistogramBase>().ToList();
        return hs.Count == 0 ? null : new MergedPercentiles(hs);
    }

    /// <summary>
    /// One headline per query of a fixed-rate run, in the run's query order: means over valid repetitions, merged-histogram
    /// percentiles, the excluded repetitions with their reasons, and no figure (only why) when none is valid.
    /// </summary>
    public static List<QueryHeadline> Headlines(BenchmarkRunDocument doc, string? directory = null)
    {
        var list = new List<QueryHeadline>();
        var fixedCells = doc.Results.Where(r => r.Step == 0).ToList();
        var queries = doc.Queries.Concat(fixedCells.Select(r => r.Query)).Distinct(StringComparer.OrdinalIgnoreCase).ToList();
        foreach (var q in queries)
        {
            var cells = fixedCells.Where(r => string.Equals(r.Query, q, StringComparison.OrdinalIgnoreCase)).OrderBy(r => r.Repetition).ToList();
            if (cells.Count == 0) continue;
            var valid = ValidCells(cells).ToList();
            var excluded = cells.Except(valid).ToList();
            var h = new QueryHeadline
            {
                Query = q, ValidRepetitions = valid.Count, ExcludedRepetitions = excluded.Count,
                Excluded = string.Join("; ", excluded.Select(r => $"r{r.Repetition} ({r.Status}{(r.Status == "Completed" ? ", invalid" : "")}): {(r.InvalidReason.Length > 0 ? r.InvalidReason : "no reason recorded")}")),
            };
            if (valid.Count == 0) h.NoFigureReason = "no valid repetition: " + h.Excluded;
            else
            {
                h.InputRate = Statistics.Summarize(valid.Select(r => r.InputRate)).Mean;
                h.OutputRate = Statistics.Summarize(valid.Select(r => r.OutputRate)).Mean;
                h.CpuCoreSeconds = Statistics.Summarize(valid.Select(r => r.CpuCoreSeconds)).Mean;
                if (Merge(valid, directory) is { } m)
                {
                    h.LatencyP50Ms = m.ValueAt(50) / 1000.0;
                    h.LatencyP99Ms = m.ValueAt(99) / 1000.0;
                    h.LatencyP999Ms = m.ValueAt(99.9) / 1000.0;
                    h.LatencyMaxMs = m.Max / 1000.0;
                }
            }
            list.Add(h);
        }
        return list;
    }

    /// <summary>Writes both files atomically (temp file + rename); returns (txt, json) paths.</summary>
    public static (string Text, string Json) Write(string directory, string baseName, BenchmarkRunDocument doc)
    {
        // Results written before HistogramFile existed (a -Resume of an older run): their .hlog has the conventional name.
        foreach (var r in doc.Results.Where(r => r.HistogramFile.Length == 0 && r.Status == "Completed"))
        {
            var conventional = $"{baseName}_{r.Query}_r{r.Repetition}{(r.Step > 0 ? $"_s{r.Step}" : "")}.hlog";
            if (File.Exists(Path.Combine(directory, conventional))) r.HistogramFile = conventional;
        }
        doc.Summaries = Summarize(doc.Results, doc.Searches, directory);
        doc.Headlines = doc.Mode == "Sustainable" ? new() : Headlines(doc, directory);
        var txt = Path.Combine(directory, baseName + ".txt");
        var json = Path.Combine(directory, baseName + ".json");
        try
        {
            Directory.CreateDirectory(directory);
            WriteAtomic(json, JsonSerializer.Serialize(doc, Json));
            WriteAtomic(txt, FormatText(doc));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new PiBenchException("ResultsWriteFailed", PiBenchErrorCategory.WriteError,
                $"The results could not be written to {json}: {ex.Message}. Results already measured were passed to the pipeline.", json,
                "Free space or fix the permissions of the results folder; save the pipeline output (e.g. | Export-Csv) meanwhile.", ex);
        }
        return (txt, json);
    }

    /// <summary>Reads a results .json (for -Resume).</summary>
    public static BenchmarkRunDocument Read(string path)
    {
        try
        {
            return JsonSerializer.Deserialize<BenchmarkRunDocument>(File.ReadAllText(path), Json)
                   ?? throw new JsonException("empty document");
        }
        catch (Exception ex) when (ex is JsonException or NotSupportedException)
        {
            throw new PiBenchException("ResultsFileInvalid", PiBenchErrorCategory.InvalidData, $"'{path}' is not a PiBench results file: {ex.Message}", path,
                "Pass the .json written beside benchmark_results_*.txt.", ex);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new PiBenchException("ResultsFileNotFound", PiBenchErrorCategory.ObjectNotFound, $"Cannot read '{path}': {ex.Message}", path,
                "Check the path of the results .json.", ex);
        }
    }

    private static void WriteAtomic(string path, string content)
    {
        var tmp = path + ".tmp-" + Environment.ProcessId;
        File.WriteAllText(tmp, content, new UTF8Encoding(false));
        File.Move(tmp, path, overwrite: true);
    }

    private const string Rule = "==========================================";

    /// <summary>
    /// The seed's text layout (§8.1): title, configuration block, then the table Query / Input Rate / Output
    /// Throughput / Core×Time (columns 10, 20, 20, 15, one space apart, every cell padded). One row per query with the
    /// mean over completed repetitions. The seed padded by bytes, so its "Core×Time" header cell is one character
    /// short; that quirk is kept so byte-oriented readers still match. After the table, PiBench's additions: the
    /// per-repetition figures with validity, and mean ± 95 % CI per query.
    /// </summary>
    public static string FormatText(BenchmarkRunDocument doc)
    {
        var sb = new StringBuilder();
        var nl = "\n";
        sb.Append(Rule).Append(nl).Append(doc.System.ToUpperInvariant()).Append(" BENCHMARK RESULTS").Append(nl).Append(Rule).Append(nl).Append(nl);
        sb.Append("Benchmark Configuration:").Append(nl);
        void Cfg(string label, string value) => sb.Append("  ").Append((label + ":").PadRight(22)).Append(value).Append(nl);
        Cfg("System", doc.System.ToLowerInvariant());
        Cfg("Timestamp", doc.StartedAt.ToString("yyyy-MM-dd'T'HH:mm:sszzz", CultureInfo.InvariantCulture));
        Cfg("Target Events/sec", doc.TargetRate.ToString("0.##", CultureInfo.InvariantCulture));
        Cfg("Total Events", doc.TotalEvents.ToString(CultureInfo.InvariantCulture));
        Cfg("Parallelism", doc.Parallelism.ToString(CultureInfo.InvariantCulture));
        sb.Append(nl).Append(Rule).Append(nl).Append("Query Results").Append(nl).Append(Rule).Append(nl).Append(nl);
        sb.Append(Row("Query", "Input Rate", "Output Throughput", "Core×Time", coreWidth: 14)).Append(nl);
        sb.Append(Row(new string('-', 10), new string('-', 20), new string('-', 20), new string('-', 15))).Append(nl);
        // Fixed mode: valid repetitions only (means; the rest listed below the table with their reasons; a query with
        // none shows no number, only why). Sustainable mode: the figures at each search's sustainable step, for
        // searches that found the engine's limit (lower bounds are listed in the searches table, not here).
        var excludedLines = new List<string>();
        if (doc.Mode == "Sustainable")
        {
            foreach (var g in doc.Searches.Where(x => x.Status == "Completed" && !x.IsLowerBound && double.IsFinite(x.SustainableRate)).GroupBy(x => x.Query, StringComparer.OrdinalIgnoreCase))
                sb.Append(Row(g.Key, $"{N2(Statistics.Summarize(g.Select(r => r.InputRate)).Mean)} events/sec", $"{N2(Statistics.Summarize(g.Select(r => r.OutputRate)).Mean)} events/sec",
                    $"{N2(Statistics.Summarize(g.Select(r => r.CpuCoreSeconds)).Mean)} core-sec")).Append(nl);
        }
        else
        {
            foreach (var h in doc.Headlines.Count > 0 ? doc.Headlines : Headlines(doc))
            {
                if (h.ValidRepetitions == 0) { sb.Append(h.Query.PadRight(10)).Append(' ').Append(h.NoFigureReason).Append(nl); continue; }
                sb.Append(Row(h.Query, $"{N2(h.InputRate)} events/sec", $"{N2(h.OutputRate)} events/sec", $"{N2(h.CpuCoreSeconds)} core-sec")).Append(nl);
                if (h.ExcludedRepetitions > 0) excludedLines.Add($"{h.Query,-10} {h.ValidRepetitions} valid; left out: {h.Excluded}");
            }
        }
        sb.Append(nl);
        if (excludedLines.Count > 0)
        {
            sb.Append("Left out of the table (not valid or not completed):").Append(nl);
            foreach (var l in excludedLines) sb.Append(l).Append(nl);
            sb.Append(nl);
        }

        if (doc.Mode == "Sustainable")
        {
            sb.Append(Rule).Append(nl).Append("Sustainable throughput (broker-side input rate of the highest valid step; \">=\": a lower bound, not the engine's limit)").Append(nl).Append(Rule).Append(nl).Append(nl);
            sb.Append("Query      Rep Status    Sustainable/s  Target/s     Failing/s      Limited by   Steps Reason").Append(nl);
            foreach (var x in doc.Searches)
                sb.Append(string.Create(CultureInfo.InvariantCulture,
                    $"{x.Query,-10} {x.Repetition,3} {x.Status,-9} {(x.IsLowerBound && double.IsFinite(x.SustainableRate) ? ">= " : "") + N2(x.SustainableRate),-14} {N2(x.SustainableTargetRate),-12} {N2(x.FailingRate),-14} {x.LimitedBy,-12} {x.Steps,5} {x.Reason}").TrimEnd()).Append(nl);
            sb.Append(nl);
        }

        sb.Append(Rule).Append(nl).Append(doc.Mode == "Sustainable" ? "Steps" : "Repetitions").Append(nl).Append(Rule).Append(nl).Append(nl);
        sb.Append("Query      Rep Step Target/s     Status    Valid Input/s      Broker in/s  Output/s     Out records  p50 ms    p99 ms    p99.9 ms  max ms    Neg lat  Core-s     Clock    Reason").Append(nl);
        foreach (var r in doc.Results)
            sb.Append(string.Create(CultureInfo.InvariantCulture,
                $"{r.Query,-10} {r.Repetition,3} {r.Step,4} {N2(r.TargetRate),-12} {r.Status,-9} {(r.Valid ? "yes" : "no"),-5} {N2(r.InputRate),-12} {N2(r.BrokerInputRate),-12} {N2(r.OutputRate),-12} {r.EventsOut,-12} {N2(r.LatencyP50Ms),-9} {N2(r.LatencyP99Ms),-9} {N2(r.LatencyP999Ms),-9} {N2(r.LatencyMaxMs),-9} {r.NegativeLatencies + r.ClampedLatencies,-8} {N2(r.CpuCoreSeconds),-10} {(r.LatencyClock.StartsWith("producer", StringComparison.Ordinal) ? "producer" : r.LatencyClock),-8} {r.InvalidReason}").TrimEnd()).Append(nl);
        sb.Append(nl);

        var summaries = doc.Summaries.Count > 0 ? doc.Summaries : Summarize(doc.Results, doc.Searches);
        if (summaries.Count > 0)
        {
            sb.Append(Rule).Append(nl).Append("Summary (valid repetitions, or searches that found the engine's limit; rates: mean, 95% CI Student t; latency: merged histograms, 95% CI bootstrap)").Append(nl).Append(Rule).Append(nl).Append(nl);
            foreach (var s in summaries)
                sb.Append(string.Create(CultureInfo.InvariantCulture,
                    $"{s.Query,-10} {s.Figure,-20} n={s.Count,-3} value={N2(s.Value),-12} ci95=[{N2(s.CiLow)}, {N2(s.CiHigh)}] {s.Method}").TrimEnd()).Append(nl);
            sb.Append(nl);
        }
        return sb.ToString();
    }

    private static string Row(string a, string b, string c, string d, int coreWidth = 15) =>
        a.PadRight(10) + " " + b.PadRight(20) + " " + c.PadRight(20) + " " + d.PadRight(coreWidth);

    private static string N2(double v) => double.IsFinite(v) ? v.ToString("0.00", CultureInfo.InvariantCulture) : "n/a";
}
