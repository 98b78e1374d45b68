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

/// <summary>Mean and 95 % confidence interval of one figure over the valid repetitions of a query.</summary>
public sealed class FigureSummary
{
    public string Query { get; set; } = "";
    public string Figure { get; set; } = "";
    public int Count { get; set; }
    public double Mean { get; set; }
    public double StdDev { get; set; }
    public double CiLow { get; set; }
    public double CiHigh { get; set; }
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
    /// Summaries (mean, 95 % CI) per query: the main figures over completed, valid fixed-rate repetitions, and the
    /// sustainable rate over completed searches that found one.
    /// </summary>
    public static List<FigureSummary> Summarize(IEnumerable<BenchmarkResult> results, IEnumerable<SustainableThroughputResult>? searches = null)
    {
        var list = new List<FigureSummary>();
        foreach (var g in (searches ?? Array.Empty<SustainableThroughputResult>()).Where(x => x.Status == "Completed" && double.IsFinite(x.SustainableRate))
                     .GroupBy(x => x.Query, StringComparer.OrdinalIgnoreCase))
        {
            var s = Statistics.Summarize(g.Select(x => x.SustainableRate));
            list.Add(new FigureSummary { Query = g.Key, Figure = "SustainableRate", Count = s.Count, Mean = s.Mean, StdDev = s.StdDev, CiLow = s.CiLow, CiHigh = s.CiHigh });
        }
        foreach (var g in results.Where(r => r.Status == "Completed" && r.Valid && r.Step == 0).GroupBy(r => r.Query, StringComparer.OrdinalIgnoreCase))
        {
            void Add(string figure, Func<BenchmarkResult, double> f)
            {
                var s = Statistics.Summarize(g.Select(f));
                list.Add(new FigureSummary { Query = g.Key, Figure = figure, Count = s.Count, Mean = s.Mean, StdDev = s.StdDev, CiLow = s.CiLow, CiHigh = s.CiHigh });
            }
            Add("InputRate", r => r.InputRate);
            Add("OutputRate", r => r.OutputRate);
            Add("LatencyP50Ms", r => r.LatencyP50Ms);
            Add("LatencyP99Ms", r => r.LatencyP99Ms);
            Add("CpuCoreSeconds", r => r.CpuCoreSeconds);
            if (g.Any(r => double.IsFinite(r.EngineCpuCoreSeconds))) Add("EngineCpuCoreSeconds", r => r.EngineCpuCoreSeconds);
        }
        return list;
    }

    /// <summary>Writes both files atomically (temp file + rename); returns (txt, json) paths.</summary>
    public static (string Text, string Json) Write(string directory, string baseName, BenchmarkRunDocument doc)
    {
        doc.Summaries = Summarize(doc.Results, doc.Searches);
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
        // Fixed mode: mean over completed repetitions. Sustainable mode: the figures at each search's sustainable step.
        var tableRows = doc.Mode == "Sustainable"
            ? doc.Searches.Where(x => x.Status == "Completed" && double.IsFinite(x.SustainableRate))
                .Select(x => new BenchmarkResult { Query = x.Query, InputRate = x.InputRate, OutputRate = x.OutputRate, CpuCoreSeconds = x.CpuCoreSeconds })
            : doc.Results.Where(r => r.Status == "Completed" && r.Step == 0);
        foreach (var g in tableRows.GroupBy(r => r.Query, StringComparer.OrdinalIgnoreCase))
        {
            var inRate = Statistics.Summarize(g.Select(r => r.InputRate)).Mean;
            var outRate = Statistics.Summarize(g.Select(r => r.OutputRate)).Mean;
            var cores = Statistics.Summarize(g.Select(r => r.CpuCoreSeconds)).Mean;
            sb.Append(Row(g.Key, $"{N2(inRate)} events/sec", $"{N2(outRate)} events/sec", $"{N2(cores)} core-sec")).Append(nl);
        }
        sb.Append(nl);

        if (doc.Mode == "Sustainable")
        {
            sb.Append(Rule).Append(nl).Append("Sustainable throughput (highest valid step rate per search)").Append(nl).Append(Rule).Append(nl).Append(nl);
            sb.Append("Query      Rep Status    Sustainable/s  Failing/s      Limited by   Steps Reason").Append(nl);
            foreach (var x in doc.Searches)
                sb.Append(string.Create(CultureInfo.InvariantCulture,
                    $"{x.Query,-10} {x.Repetition,3} {x.Status,-9} {N2(x.SustainableRate),-14} {N2(x.FailingRate),-14} {x.LimitedBy,-12} {x.Steps,5} {x.Reason}").TrimEnd()).Append(nl);
            sb.Append(nl);
        }

        sb.Append(Rule).Append(nl).Append(doc.Mode == "Sustainable" ? "Steps" : "Repetitions").Append(nl).Append(Rule).Append(nl).Append(nl);
        sb.Append("Query      Rep Step Target/s     Status    Valid Input/s      Output/s     p50 ms    p99 ms    p99.9 ms  max ms    Core-s     Clock    Reason").Append(nl);
        foreach (var r in doc.Results)
            sb.Append(string.Create(CultureInfo.InvariantCulture,
                $"{r.Query,-10} {r.Repetition,3} {r.Step,4} {N2(r.TargetRate),-12} {r.Status,-9} {(r.Valid ? "yes" : "no"),-5} {N2(r.InputRate),-12} {N2(r.OutputRate),-12} {N2(r.LatencyP50Ms),-9} {N2(r.LatencyP99Ms),-9} {N2(r.LatencyP999Ms),-9} {N2(r.LatencyMaxMs),-9} {N2(r.CpuCoreSeconds),-10} {(r.LatencyClock.StartsWith("producer", StringComparison.Ordinal) ? "producer" : r.LatencyClock),-8} {r.InvalidReason}").TrimEnd()).Append(nl);
        sb.Append(nl);

        var summaries = doc.Summaries.Count > 0 ? doc.Summaries : Summarize(doc.Results, doc.Searches);
        if (summaries.Count > 0)
        {
            sb.Append(Rule).Append(nl).Append("Summary (valid repetitions or completed searches, mean and 95% CI, Student t)").Append(nl).Append(Rule).Append(nl).Append(nl);
            foreach (var s in summaries)
                sb.Append(string.Create(CultureInfo.InvariantCulture,
                    $"{s.Query,-10} {s.Figure,-15} n={s.Count,-3} mean={N2(s.Mean),-12} ci95=[{N2(s.CiLow)}, {N2(s.CiHigh)}]")).Append(nl);
            sb.Append(nl);
        }
        return sb.ToString();
    }

    private static string Row(string a, string b, string c, string d, int coreWidth = 15) =>
        a.PadRight(10) + " " + b.PadRight(20) + " " + c.PadRight(20) + " " + d.PadRight(coreWidth);

    private static string N2(double v) => double.IsFinite(v) ? v.ToString("0.00", CultureInfo.InvariantCulture) : "n/a";
}
