using System.Collections.ObjectModel;
using System.Management.Automation;
using PiBench.Core;
using PiBench.Core.Benchmarking;
using PiBench.Core.Reporting;

namespace PiBench.Commands;

/// <summary>Shared input handling: results .json paths, FileInfo, or BenchmarkResult / SustainableThroughputResult objects.</summary>
internal static class ReportInput
{
    /// <summary>Reads what was given into report runs: each path is one run, the objects are grouped by system.</summary>
    public static List<ReportRun> Load(PSCmdlet cmdlet, IEnumerable<object?> items, Action<PiBenchException> onBadItem)
    {
        var runs = new List<ReportRun>();
        var results = new List<BenchmarkResult>();
        var searches = new List<SustainableThroughputResult>();
        foreach (var raw in items)
        {
            var item = raw is PSObject pso ? pso.BaseObject : raw;
            switch (item)
            {
                case null: break;
                case BenchmarkResult r: results.Add(r); break;
                case SustainableThroughputResult s: searches.Add(s); break;
                case FileInfo f: runs.Add(ResultsReader.Read(f.FullName)); break;
                case string p:
                    foreach (var path in Resolve(cmdlet, p)) runs.Add(ResultsReader.Read(path));
                    break;
                default:
                    onBadItem(new PiBenchException("ReportInputNotAResult", PiBenchErrorCategory.InvalidType,
                        $"'{raw}' ({item.GetType().FullName}) is not a BenchmarkResult, a SustainableThroughputResult or the path of a results .json.", raw,
                        "Pipe the output of Invoke-Benchmark, or pass results files with -ResultsPath."));
                    break;
            }
        }
        runs.AddRange(ResultsReader.FromObjects(results, searches));
        return runs;
    }

    /// <summary>A path with wildcards resolved on the FileSystem provider; a missing file is a PiBenchException.</summary>
    public static IEnumerable<string> Resolve(PSCmdlet cmdlet, string path)
    {
        Collection<string> resolved;
        ProviderInfo provider;
        try { resolved = cmdlet.GetResolvedProviderPathFromPSPath(path, out provider); }
        catch (ItemNotFoundException ex)
        {
            throw new PiBenchException("ResultsFileNotFound", PiBenchErrorCategory.ObjectNotFound, $"No file at '{path}'.", path,
                "Pass the .json written beside benchmark_results_*.txt by Invoke-Benchmark.", ex);
        }
        if (provider.Name != "FileSystem")
            throw new PiBenchException("PathNotFileSystem", PiBenchErrorCategory.InvalidArgument, $"'{path}' is not a file-system path.", path, "Pass a file path.");
        return resolved;
    }
}

/// <summary>Writes one self-contained HTML report (tables and charts) from benchmark results, for one engine or several side by side.</summary>
/// <remarks>
/// <para>Input: BenchmarkResult and SustainableThroughputResult objects from the pipeline (Invoke-Benchmark), and/or
/// results .json files (-ResultsPath; e.g. an Arroyo run and a Flink run). A results file brings its provenance (PiBench
/// and engine versions, image references, seed, topology, node facts) and its cells' HdrHistogram logs (.hlog beside it);
/// objects from the pipeline bring only their own figures. -MetricsPath adds per-node CPU, memory, temperature and
/// network over time from a Get-ClusterMetric -Path file, with the measured windows shaded and throttled samples marked.</para>
/// <para>Contents: a summary per query and system (input and output rate against the target, latency p50/p99/max from
/// the merged histograms of the valid repetitions with 95 % intervals, engine CPU core-seconds per million events,
/// engine memory peak, validity with the reason of every invalid cell), charts (achieved vs target rate, latency by
/// percentile, sustainable-rate bounds, nodes over time), every cell as recorded, and provenance. Headline figures use
/// valid repetitions only. A figure missing from a file is shown as missing, never as 0.</para>
/// <para>The file is self-contained: inline CSS and inline SVG charts drawn with ScottPlot, no script, no font or image
/// fetched from anywhere (its Content-Security-Policy forbids it), readable offline and without JavaScript. Outputs the
/// report's FileInfo.</para>
/// </remarks>
/// <example><code>Export-BenchmarkReport -Path report.html -ResultsPath ./arroyo/benchmark_results_*.json, ./flink/benchmark_results_*.json -MetricsPath metrics.jsonl</code><para>Arroyo and Flink side by side, with node charts.</para></example>
/// <example><code>Invoke-Benchmark -System Flink -Query q1 | Export-BenchmarkReport -Path flink.html</code><para>A report of the objects of one run.</para></example>
[Cmdlet(VerbsData.Export, "BenchmarkReport", SupportsShouldProcess = true)]
[OutputType(typeof(FileInfo))]
public sealed class ExportBenchmarkReportCommand : PiBenchCmdlet
{
    private readonly List<object?> _items = new();

    /// <summary>The HTML file to write.</summary>
    [Parameter(Mandatory = true, Position = 0, HelpMessage = "The HTML file to write, e.g. report.html.")]
    public string Path { get; set; } = "";

    /// <summary>BenchmarkResult or SustainableThroughputResult objects (Invoke-Benchmark output), or results .json files.</summary>
    [Parameter(ValueFromPipeline = true)]
    public PSObject[]? InputObject { get; set; }

    /// <summary>Results .json files written by Invoke-Benchmark (wildcards allowed).</summary>
    [Parameter]
    public string[]? ResultsPath { get; set; }

    /// <summary>A JSON-lines file of node samples from Get-ClusterMetric -Path.</summary>
    [Parameter]
    public string? MetricsPath { get; set; }

    /// <summary>Do not overwrite an existing file.</summary>
    [Parameter]
    public SwitchParameter NoClobber { get; set; }

    protected override Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        if (InputObject is not null) _items.AddRange(InputObject);
        return Task.CompletedTask;
    }

    protected override Task EndProcessingAsync(CancellationToken cancellationToken)
    {
        var target = GetUnresolvedProviderPathFromPSPath(Path);
        var items = new List<object?>(_items);
        if (ResultsPath is not null) items.AddRange(ResultsPath);
        var runs = ReportInput.Load(this, items, WriteError);
        if (runs.Count == 0 || runs.All(r => r.Rows.Count == 0 && r.Searches.Count == 0))
            ThrowTerminatingError(new PiBenchException("ReportInputMissing", PiBenchErrorCategory.InvalidArgument,
                "No benchmark results to report: nothing came from the pipeline or -ResultsPath, or the files hold no cells.", ResultsPath,
                "Pipe Invoke-Benchmark's output or pass -ResultsPath benchmark_results_*.json."));
        IReadOnlyList<ClusterMetricSample>? samples = null;
        string? metrics = null;
        if (MetricsPath is not null)
        {
            metrics = ReportInput.Resolve(this, MetricsPath).First();
            samples = MetricsReader.Read(metrics);
        }
        if (NoClobber && File.Exists(target))
            ThrowTerminatingError(new PiBenchException("ReportFileExists", PiBenchErrorCategory.ResourceExists, $"'{target}' exists and -NoClobber was given.", target,
                "Choose another -Path or leave out -NoClobber."));
        if (!ReportCharts.HasFonts)
            WriteWarning("No font was found on this host: the charts will carry no text. Install a font package (e.g. fonts-dejavu-core) and write the report again.");
        var model = new ReportModel(runs, samples, metrics);
        if (!ShouldProcess(target, $"Write an HTML report of {model.Cells.Count} query x system cell(s) from {runs.Count} source(s)")) return Task.CompletedTask;
        try { HtmlReport.Write(model, target); }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            ThrowTerminatingError(new PiBenchException("ReportFileNotWritable", PiBenchErrorCategory.WriteError, $"Cannot write '{target}': {ex.Message}", target,
                "Choose a writable -Path.", ex));
        }
        WriteObject(new FileInfo(target));
        return Task.CompletedTask;
    }
}

/// <summary>Compares two benchmark results query by query and figure by figure, and says whether each difference is significant.</summary>
/// <remarks>
/// <para>-Reference and -Difference each take a results .json (or several), or BenchmarkResult / SustainableThroughputResult
/// objects. One BenchmarkComparison per query and figure (InputRate, OutputRate, LatencyP50Ms, LatencyP99Ms,
/// LatencyMaxMs, EngineCpuPerMillionEvents, EngineMemoryPeakMB, CpuCoreSeconds, SustainableRate): both means over the
/// valid repetitions (completed searches for SustainableRate), Ratio = Difference / Reference, and Significant.</para>
/// <para>Significance: Welch's two-sided t-test at the 95 % level on the per-repetition values (latency percentiles per
/// repetition from its .hlog when the file has one): the difference counts when |t| exceeds Student's t critical value
/// for the Welch-Satterthwaite degrees of freedom, rounded down. It needs at least two values per side; otherwise
/// Significant is empty and Test says why. SideIndicator: '&gt;' Difference significantly higher, '&lt;' lower, '=='
/// no significant difference, '?' not decided, '&lt;=' / '=&gt;' only in Reference / Difference (as Compare-Object).</para>
/// </remarks>
/// <example><code>Compare-BenchmarkResult -Reference arroyo.json -Difference flink.json | Where-Object Significant</code><para>The figures where Flink and Arroyo differ beyond the spread of their repetitions.</para></example>
/// <example><code>Compare-BenchmarkResult -Reference arroyo.json -Difference flink.json</code><para>Every query and figure of both runs side by side: both means, the ratio and whether the difference is significant (the table view).</para></example>
[Cmdlet(VerbsData.Compare, "BenchmarkResult")]
[OutputType(typeof(BenchmarkComparison))]
public sealed class CompareBenchmarkResultCommand : PiBenchCmdlet
{
    /// <summary>The reference: results .json path(s) or result objects.</summary>
    [Parameter(Mandatory = true, Position = 0, HelpMessage = "Results .json or BenchmarkResult objects to compare against.")]
    [AllowEmptyCollection]
    public PSObject[] Reference { get; set; } = Array.Empty<PSObject>();

    /// <summary>The results compared with the reference: results .json path(s) or result objects.</summary>
    [Parameter(Mandatory = true, Position = 1, HelpMessage = "Results .json or BenchmarkResult objects to compare.")]
    [AllowEmptyCollection]
    public PSObject[] Difference { get; set; } = Array.Empty<PSObject>();

    protected override Task EndProcessingAsync(CancellationToken cancellationToken)
    {
        var reference = ReportInput.Load(this, Reference, WriteError);
        var difference = ReportInput.Load(this, Difference, WriteError);
        if (reference.Count == 0 || difference.Count == 0)
            ThrowTerminatingError(new PiBenchException("ComparisonInputMissing", PiBenchErrorCategory.InvalidArgument,
                $"Nothing to compare: {(reference.Count == 0 ? "-Reference" : "-Difference")} holds no results.", null,
                "Pass a results .json or Invoke-Benchmark's output to both -Reference and -Difference."));
        foreach (var c in BenchmarkComparer.Compare(reference, difference)) WriteObject(c);
        return Task.CompletedTask;
    }
}
