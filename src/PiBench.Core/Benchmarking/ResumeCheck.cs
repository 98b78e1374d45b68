using System.Globalization;
using System.Text;
using System.Text.Json;

namespace PiBench.Core.Benchmarking;

/// <summary>
/// Guards of the results files: -Resume accepts only a PiBench results document that matches the run (system, mode,
/// query set, rate, events, parallelism, seed, window, topology), and never writes over a file it did not create; the
/// output folder is proved writable before anything runs; a fresh run never reuses the name of an existing file.
/// </summary>
public static class ResumeCheck
{
    /// <summary>Largest results .json read for -Resume (a real campaign's file is a few MB).</summary>
    public const long MaxResultsFileBytes = 256L * 1024 * 1024;

    /// <summary>Top-level properties every PiBench results document has (written by <see cref="ResultsFiles.Write"/>).</summary>
    private static readonly string[] Marker = { "SchemaVersion", "PiBenchVersion", "System", "Mode", "StartedAt", "State", "Queries", "Results" };

    /// <summary>
    /// Reads <paramref name="path"/> for -Resume and checks that it is a PiBench results document of this very run.
    /// Nothing is written: a refused file is left exactly as it was. ErrorIds: ResultsFileNotFound, ResultsFileTooLarge,
    /// ResumeFileNotPiBench, ResultsFileInvalid, ResumeTextFileNotPiBench, ResumeModeMismatch, ResumeMismatch.
    /// </summary>
    public static BenchmarkRunDocument Load(string path, BenchmarkPlan plan)
    {
        var info = new FileInfo(path);
        if (!info.Exists)
            throw new PiBenchException("ResultsFileNotFound", PiBenchErrorCategory.ObjectNotFound, $"The results file '{path}' does not exist.", path,
                "Pass the .json written beside benchmark_results_*.txt.");
        if (info.Length > MaxResultsFileBytes)
            throw new PiBenchException("ResultsFileTooLarge", PiBenchErrorCategory.InvalidData,
                $"'{path}' is {info.Length / 1024 / 1024} MB, more than any PiBench results file ({MaxResultsFileBytes / 1024 / 1024} MB); it was not read.", path,
                "Pass the .json written beside benchmark_results_*.txt.");
        string text;
        try { text = File.ReadAllText(path); }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new PiBenchException("ResultsFileNotFound", PiBenchErrorCategory.ReadError, $"Cannot read '{path}': {ex.Message}", path,
                "Check the path and permissions of the results .json.", ex);
        }
        CheckMarker(path, text);
        var doc = ResultsFiles.Read(path);
        CheckComplete(path, doc);
        CheckTextSibling(path);
        var mode = plan.Sustainable ? "Sustainable" : "Fixed";
        if (!string.Equals(doc.Mode, mode, StringComparison.OrdinalIgnoreCase))
            throw new PiBenchException("ResumeModeMismatch", PiBenchErrorCategory.InvalidArgument,
                $"'{path}' holds a {doc.Mode} run; it cannot be resumed with -Mode {mode}. Nothing was run and the file is unchanged.", path, $"Resume it with -Mode {doc.Mode}.");
        var differences = Differences(doc, plan);
        if (differences.Count > 0)
            throw new PiBenchException("ResumeMismatch", PiBenchErrorCategory.InvalidArgument,
                $"'{path}' is a different run: {string.Join("; ", differences)}. Nothing was run and the file is unchanged.", path,
                "Resume with the same -System, -Mode, -Query, -EventsPerSecond, -TotalEvents, -Parallelism, -Seed, -WarmupSeconds, -MeasureSeconds and -Topology as the run that wrote it, or start a new run without -Resume.");
        return doc;
    }

    /// <summary>The cells (query, repetition) a resume of <paramref name="doc"/> would still run, in run order.</summary>
    public static IReadOnlyList<(string Query, int Repetition)> RemainingCells(BenchmarkRunDocument doc, BenchmarkPlan plan)
    {
        var system = plan.Engine.System.ToString();
        var done = plan.Sustainable
            ? doc.Searches.Where(s => s.Status == "Completed").Select(s => s.Key).ToHashSet(StringComparer.Ordinal)
            : doc.CompletedKeys();
        return plan.Queries.SelectMany(q => Enumerable.Range(1, plan.Repetitions).Select(r => (q, r)))
            .Where(c => !done.Contains(new BenchmarkResult { System = system, Query = c.q, Repetition = c.r }.Key))
            .ToList();
    }

    /// <summary>What -WhatIf -Resume shows: the cells that would run and the ones kept from the file.</summary>
    public static IEnumerable<string> DescribeResume(string path, BenchmarkRunDocument doc, BenchmarkPlan plan)
    {
        var remaining = RemainingCells(doc, plan);
        var total = plan.Queries.Count * plan.Repetitions;
        yield return $"Resume {path} (started {doc.StartedAt.ToString("u", CultureInfo.InvariantCulture)}, state {doc.State}): {total - remaining.Count} of {total} cell(s) already completed and kept, {remaining.Count} to run";
        var keep = remaining.Select(c => $"{c.Query}|{c.Repetition}").ToHashSet(StringComparer.OrdinalIgnoreCase);
        var planned = plan.Queries.SelectMany(q => Enumerable.Range(1, plan.Repetitions).Select(r => (q, r))).ToList();
        var lines = plan.Describe().ToList();
        for (var i = 0; i < planned.Count && i < lines.Count; i++)
            if (keep.Contains($"{planned[i].q}|{planned[i].r}")) yield return lines[i];
    }

    /// <summary>
    /// Proves that <paramref name="directory"/> can hold the results: creates it if needed and writes and deletes a
    /// probe file. Throws OutputDirectoryNotWritable (PermissionDenied) before anything is measured.
    /// </summary>
    public static void EnsureWritable(string directory)
    {
        var probe = Path.Combine(directory, $".pibench-write-probe-{Environment.ProcessId}-{Guid.NewGuid():N}");
        try
        {
            Directory.CreateDirectory(directory);
            using (var f = new FileStream(probe, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.DeleteOnClose))
                f.WriteByte(0);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            throw new PiBenchException("OutputDirectoryNotWritable", PiBenchErrorCategory.PermissionDenied,
                $"The results folder '{directory}' cannot be written ({ex.Message}); nothing was run.", directory,
                "Pass an -OutputDirectory you can write to.", ex);
        }
    }

    /// <summary>
    /// The base name of a fresh run's files: benchmark_results_YYYYMMDD_HHMMSS, with _2, _3 ... appended when a file of
    /// that name already exists in <paramref name="directory"/> (two runs in one second never share files).
    /// </summary>
    public static string FreshBaseName(string directory, DateTimeOffset startedAt)
    {
        var stem = ResultsFiles.BaseName(startedAt);
        var name = stem;
        for (var i = 2; File.Exists(Path.Combine(directory, name + ".json")) || File.Exists(Path.Combine(directory, name + ".txt")); i++)
            name = $"{stem}_{i}";
        return name;
    }

    /// <summary>
    /// A run in which every cell that ran failed is not a completed run: throws BenchmarkAllCellsFailed (the results
    /// stay in the files and the pipeline; the run's State becomes Failed).
    /// </summary>
    public static void ThrowIfEveryCellFailed(BenchmarkRunDocument doc, IEnumerable<(string Query, int Rep)> cells, string system)
    {
        var keys = cells.Select(c => new BenchmarkResult { System = system, Query = c.Query, Repetition = c.Rep }.Key).ToHashSet(StringComparer.Ordinal);
        var ran = doc.Results.Where(r => r.Step == 0 && keys.Contains(r.Key)).ToList();
        if (ran.Count == 0 || ran.Any(r => r.Status != "Failed")) return;
        throw new PiBenchException("BenchmarkAllCellsFailed", PiBenchErrorCategory.InvalidResult,
            $"All {ran.Count} cell(s) failed; nothing was measured. First failure ({ran[0].Query} repetition {ran[0].Repetition}): {ran[0].InvalidReason}", null,
            "Fix the cause named above (engine, Kafka or nodes), then run again; the failed cells are in the results files.");
    }

    private static void CheckMarker(string path, string text)
    {
        string? why = null;
        try
        {
            using var json = JsonDocument.Parse(text, new JsonDocumentOptions { AllowTrailingCommas = false, MaxDepth = 64 });
            if (json.RootElement.ValueKind != JsonValueKind.Object) why = "it is not a JSON object";
            else
            {
                var missing = Marker.Where(m => !json.RootElement.TryGetProperty(m, out _)).ToList();
                if (missing.Count > 0) why = $"it lacks {string.Join(", ", missing)}";
                else if (json.RootElement.GetProperty("SchemaVersion") is not { ValueKind: JsonValueKind.Number } v || !v.TryGetInt32(out var schema) || schema != 1)
                    why = "its SchemaVersion is not 1";
                else if (json.RootElement.GetProperty("PiBenchVersion").ValueKind != JsonValueKind.String)
                    why = "its PiBenchVersion is not a string";
            }
        }
        catch (JsonException ex) { why = "it is not valid JSON: " + ex.Message; }
        if (why is not null)
            throw new PiBenchException("ResumeFileNotPiBench", PiBenchErrorCategory.InvalidData,
                $"'{path}' is not a PiBench results file ({why}). It was not changed.", path,
                "Pass the .json that Invoke-Benchmark wrote beside benchmark_results_*.txt.");
    }

    /// <summary>Nulls where the document needs values (a hand-edited or damaged file) are refused, naming the field.</summary>
    private static void CheckComplete(string path, BenchmarkRunDocument doc)
    {
        var problems = new List<string>();
        void Need(bool ok, string field) { if (!ok) problems.Add(field); }
        Need(doc.System is { Length: > 0 }, "System");
        Need(doc.Mode is not null, "Mode");
        Need(doc.Queries is not null && doc.Queries.All(q => q is not null), "Queries");
        Need(doc.Results is not null, "Results");
        Need(doc.Searches is not null, "Searches");
        Need(doc.Containers is not null, "Containers");
        Need(doc.Nodes is not null && doc.Nodes.All(n => n is not null), "Nodes");
        Need(doc.Images is not null, "Images");
        Need(doc.Summaries is not null, "Summaries");
        if (doc.Results is not null)
            for (var i = 0; i < doc.Results.Count; i++)
                if (doc.Results[i] is not { System: not null, Query: not null, Status: not null }) problems.Add($"Results[{i}]");
        if (doc.Searches is not null)
            for (var i = 0; i < doc.Searches.Count; i++)
                if (doc.Searches[i] is not { System: not null, Query: not null, Status: not null }) problems.Add($"Searches[{i}]");
        if (doc.Containers is not null)
            for (var i = 0; i < doc.Containers.Count; i++)
                if (doc.Containers[i] is not { Query: not null }) problems.Add($"Containers[{i}]");
        if (problems.Count > 0)
            throw new PiBenchException("ResultsFileInvalid", PiBenchErrorCategory.InvalidData,
                $"'{path}' is damaged: {string.Join(", ", problems.Take(10))}{(problems.Count > 10 ? $" and {problems.Count - 10} more" : "")} missing or null. It was not changed.", path,
                "Restore the file from a copy, or start a new run without -Resume.");
    }

    /// <summary>The .txt beside the .json is rewritten by a resume: it must be absent or PiBench's own.</summary>
    private static void CheckTextSibling(string jsonPath)
    {
        var txt = Path.ChangeExtension(jsonPath, ".txt");
        if (!File.Exists(txt)) return;
        string head;
        try
        {
            using var r = new StreamReader(txt, Encoding.UTF8);
            var buf = new char[200];
            head = new string(buf, 0, r.ReadBlock(buf, 0, buf.Length));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException) { head = ""; }
        var lines = head.Split('\n');
        if (lines.Length < 2 || !lines[0].StartsWith("=====", StringComparison.Ordinal) || !lines[1].EndsWith(" BENCHMARK RESULTS", StringComparison.Ordinal))
            throw new PiBenchException("ResumeTextFileNotPiBench", PiBenchErrorCategory.ResourceExists,
                $"Resuming would rewrite '{txt}', which PiBench did not write. Neither file was changed.", txt,
                "Move that .txt away, or copy the results .json into its own folder and resume from there.");
    }

    /// <summary>Every way the document's run differs from the plan, named for the user.</summary>
    public static List<string> Differences(BenchmarkRunDocument doc, BenchmarkPlan plan)
    {
        var d = new List<string>();
        static string N(double v) => v.ToString("0.###", CultureInfo.InvariantCulture);
        static bool Same(double a, double b) => (double.IsNaN(a) && double.IsNaN(b)) || Math.Abs(a - b) <= 1e-9 * Math.Max(1, Math.Abs(a));
        var system = plan.Engine.System.ToString();
        if (!string.Equals(doc.System, system, StringComparison.OrdinalIgnoreCase)) d.Add($"system {doc.System} in the file, {system} now");
        var mode = plan.Sustainable ? "Sustainable" : "Fixed";
        if (!string.Equals(doc.Mode, mode, StringComparison.OrdinalIgnoreCase)) d.Add($"mode {doc.Mode} in the file, {mode} now");
        var fileQueries = doc.Queries.Select(q => q.ToLowerInvariant()).ToHashSet();
        var planQueries = plan.Queries.Select(q => q.ToLowerInvariant()).ToHashSet();
        if (!fileQueries.SetEquals(planQueries))
            d.Add($"queries {string.Join(",", doc.Queries)} in the file, {string.Join(",", plan.Queries)} now");
        if (!Same(doc.TargetRate, plan.EventsPerSecond)) d.Add($"rate {N(doc.TargetRate)} events/s in the file, {N(plan.EventsPerSecond)} now");
        if (doc.TotalEvents != plan.TotalEvents) d.Add($"total events {doc.TotalEvents} in the file, {plan.TotalEvents} now");
        if (doc.Parallelism != plan.Parallelism) d.Add($"parallelism {doc.Parallelism} in the file, {plan.Parallelism} now");
        if (doc.Seed != (plan.Seed ?? 0)) d.Add($"seed {doc.Seed} in the file, {plan.Seed ?? 0} now");
        if (doc.WarmupSeconds != plan.WarmupSeconds) d.Add($"warm-up {doc.WarmupSeconds} s in the file, {plan.WarmupSeconds} s now");
        if (doc.MeasureSeconds != plan.MeasureSeconds) d.Add($"measured window {doc.MeasureSeconds} s in the file, {plan.MeasureSeconds} s now");
        if (!string.Equals(doc.TopologyName, plan.TopologyName, StringComparison.Ordinal))
            d.Add($"topology '{doc.TopologyName}' in the file, '{plan.TopologyName}' now");
        if (doc.Nodes.Count > 0 && plan.MetricNodes.Count > 0)
        {
            var fileNodes = doc.Nodes.Select(n => $"{n.Node}={n.Address}/{n.Role}").Order(StringComparer.Ordinal).ToList();
            var planNodes = plan.MetricNodes.Select(n => $"{n.Name}={n.Address}/{n.Role}").Order(StringComparer.Ordinal).ToList();
            if (!fileNodes.SequenceEqual(planNodes, StringComparer.OrdinalIgnoreCase))
                d.Add($"topology nodes {string.Join(", ", fileNodes)} in the file, {string.Join(", ", planNodes)} now");
        }
        if (plan.Sustainable && doc.Search is { } s)
        {
            var p = plan.Search;
            if (!Same(s.MaxRate, p.MaxRate)) d.Add($"-MaxEventsPerSecond {N(s.MaxRate)} in the file, {N(p.MaxRate)} now");
            if (!Same(s.StepFactor, p.StepFactor)) d.Add($"-StepFactor {N(s.StepFactor)} in the file, {N(p.StepFactor)} now");
            if (!Same(s.Resolution, p.Resolution)) d.Add($"-Resolution {N(s.Resolution)} in the file, {N(p.Resolution)} now");
            if (s.MaxSteps != p.MaxSteps) d.Add($"-MaxSteps {s.MaxSteps} in the file, {p.MaxSteps} now");
            if (!Same(s.LatencySloMs, p.LatencySloMs)) d.Add($"-LatencySloMs {N(s.LatencySloMs)} in the file, {N(p.LatencySloMs)} now");
            if (!Same(s.MinInputFraction, p.MinInputFraction)) d.Add($"-MinInputFraction {N(s.MinInputFraction)} in the file, {N(p.MinInputFraction)} now");
        }
        return d;
    }
}
