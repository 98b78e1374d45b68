using Xunit;
using System.Globalization;
using HdrHistogram;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Xml.Linq;
using PiBench.Browser;
using PiBench.Core.Reporting;

namespace PiBench.Core.Tests.Reporting;

public sealed class HtmlReportTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), $"pibench-report-{Guid.NewGuid():N}");
    private static readonly DateTimeOffset T0 = new(2026, 11, 30, 22, 0, 0, TimeSpan.Zero);

    public void Dispose()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, true);
    }

    private (WrittenRun Arroyo, WrittenRun Flink) TwoRuns() =>
        (ReportFixtures.WriteFixedRun(Path.Combine(_dir, "arroyo"), "Arroyo", T0, 3, 1.0, 1, invalidRep: 2),
         ReportFixtures.WriteFixedRun(Path.Combine(_dir, "flink"), "Flink", T0.AddHours(1), 3, 1.1, 2));

    /// <summary>The report is well-formed XML (by design), so it can be read back by data-k.</summary>
    internal static XDocument Parse(string html) => XDocument.Parse(html.Replace("<!DOCTYPE html>", "", StringComparison.Ordinal));

    private static string? DataV(XDocument doc, string key) =>
        doc.Descendants().FirstOrDefault(e => (string?)e.Attribute("data-k") == key)?.Attribute("data-v")?.Value;

    private static double D(string? s) => double.Parse(s!, CultureInfo.InvariantCulture);

    [Fact]
    public void EveryCellFigure_InTheReport_EqualsTheResultsJson()
    {
        var (a, f) = TwoRuns();
        var html = HtmlReport.Render(new ReportModel(new[] { ResultsReader.Read(a.JsonPath), ResultsReader.Read(f.JsonPath) }));
        var doc = Parse(html);
        var checkedValues = 0;
        foreach (var path in new[] { a.JsonPath, f.JsonPath })
        {
            using var json = JsonDocument.Parse(File.ReadAllText(path));
            var system = json.RootElement.GetProperty("System").GetString();
            foreach (var r in json.RootElement.GetProperty("Results").EnumerateArray())
            {
                var key = $"{r.GetProperty("Query").GetString()}|{system}|{r.GetProperty("Repetition").GetInt32()}|{r.GetProperty("Step").GetInt32()}";
                foreach (var fig in new[] { "TargetRate", "InputRate", "OutputRate", "LatencyP50Ms", "LatencyP99Ms", "LatencyMaxMs", "EngineCpuCoreSeconds", "CpuCoreSeconds", "EngineMemoryPeakMB", "MemoryPeakMB", "DurationS" })
                {
                    Assert.Equal(r.GetProperty(fig).GetDouble(), D(DataV(doc, $"{key}|{fig}")));
                    checkedValues++;
                }
            }
        }
        Assert.Equal(2 * 2 * 3 * 11, checkedValues);
    }

    [Fact]
    public void Summary_UsesValidRepetitionsOnly_MergedHistogramPercentiles_AndListsEveryInvalidCellWithItsReason()
    {
        var (a, f) = TwoRuns();
        var doc = Parse(HtmlReport.Render(new ReportModel(new[] { ResultsReader.Read(a.JsonPath), ResultsReader.Read(f.JsonPath) })));
        using var json = JsonDocument.Parse(File.ReadAllText(a.JsonPath));
        var q1 = json.RootElement.GetProperty("Results").EnumerateArray().Where(r => r.GetProperty("Query").GetString() == "q1").ToList();
        var valid = q1.Where(r => r.GetProperty("Valid").GetBoolean()).ToList();
        Assert.Equal(2, valid.Count);
        Assert.Equal("2", DataV(doc, "q1|Arroyo|ValidCount"));
        Assert.Equal(valid.Average(r => r.GetProperty("InputRate").GetDouble()), D(DataV(doc, "q1|Arroyo|InputRate")), 9);
        Assert.Equal(valid.Average(r => r.GetProperty("OutputRate").GetDouble()), D(DataV(doc, "q1|Arroyo|OutputRate")), 9);
        var cpuPerM = valid.Average(r => r.GetProperty("EngineCpuCoreSeconds").GetDouble() / (r.GetProperty("InputRate").GetDouble() * r.GetProperty("DurationS").GetDouble() / 1e6));
        Assert.Equal(cpuPerM, D(DataV(doc, "q1|Arroyo|EngineCpuPerMillionEvents")), 9);

        // Latency: the valid repetitions' raw latencies in one histogram, built here without any .hlog.
        var merged = ReportFixtures.Histogram(a.Latencies[("q1", 1)].Concat(a.Latencies[("q1", 3)]));
        Assert.Equal(merged.GetValueAtPercentile(99) / 1000.0, D(DataV(doc, "q1|Arroyo|LatencyP99Ms")));
        Assert.Equal("merged-hlog", (string?)doc.Descendants().Single(e => (string?)e.Attribute("data-k") == "q1|Arroyo|LatencyP99Ms").Attribute("data-source"));
        Assert.Equal(merged.GetValueAtPercentile(50) / 1000.0, D(DataV(doc, "q1|Arroyo|LatencyP50Ms")));
        Assert.Equal(merged.GetMaxValue() / 1000.0, D(DataV(doc, "q1|Arroyo|LatencyMaxMs")));

        var invalid = doc.Descendants().Single(e => (string?)e.Attribute("data-invalid") == "q1|Arroyo|2|0");
        Assert.Contains(q1.Single(r => !r.GetProperty("Valid").GetBoolean()).GetProperty("InvalidReason").GetString()!, invalid.Value);
        Assert.DoesNotContain(doc.Descendants(), e => ((string?)e.Attribute("data-invalid") ?? "").StartsWith("q1|Flink", StringComparison.Ordinal));
    }

    [Fact]
    public void FieldsMissingFromAnOlderFile_AreShownAsMissing_NeverAsZero()
    {
        var (a, _) = TwoRuns();
        var node = JsonNode.Parse(File.ReadAllText(a.JsonPath))!.AsObject();
        node.Remove("Images");
        foreach (var r in node["Results"]!.AsArray())
        {
            r!.AsObject().Remove("EngineCpuCoreSeconds");
            r.AsObject().Remove("EngineMemoryPeakMB");
        }
        node["Results"]![0]!["InputRate"] = "NaN"; // how the writer stores a figure that was not measured
        var old = Path.Combine(_dir, "arroyo", "benchmark_results_old.json");
        File.WriteAllText(old, node.ToJsonString());
        var run = ResultsReader.Read(old);
        Assert.Contains("Images", run.MissingFields);
        Assert.Contains("Results[].EngineCpuCoreSeconds", run.MissingFields);
        Assert.All(run.Rows, r => Assert.Null(r.EngineCpuCoreSeconds));
        Assert.Null(run.Rows[0].InputRate);
        var doc = Parse(HtmlReport.Render(new ReportModel(new[] { run })));
        var cell = doc.Descendants().Single(e => (string?)e.Attribute("data-k") == "q1|Arroyo|1|0|EngineCpuCoreSeconds");
        Assert.Equal("", cell.Attribute("data-v")!.Value);
        Assert.Equal("missing", cell.Value);
        Assert.Equal("", DataV(doc, "q1|Arroyo|1|0|InputRate"));
        Assert.Equal("", DataV(doc, "q1|Arroyo|EngineCpuPerMillionEvents"));
        Assert.Equal("", DataV(doc, "q1|Arroyo|EngineMemoryPeakMB"));
        Assert.DoesNotContain(doc.Descendants(), e => ((string?)e.Attribute("data-k") ?? "").Contains("EngineCpu", StringComparison.Ordinal) && (string?)e.Attribute("data-v") == "0");
    }

    [Fact]
    public void PipelineObjects_AreGroupedBySystem_WithNaNShownAsMissing_AndProvenanceSaysSo()
    {
        var (a, f) = TwoRuns();
        var objects = a.Document.Results.Concat(f.Document.Results).ToList();
        objects[0].EngineCpuCoreSeconds = double.NaN; // not measured
        var runs = ResultsReader.FromObjects(objects, Array.Empty<PiBench.Core.Benchmarking.SustainableThroughputResult>());
        Assert.Equal(new[] { "Arroyo", "Flink" }, runs.Select(r => r.System));
        var doc = Parse(HtmlReport.Render(new ReportModel(runs)));
        Assert.Equal("", DataV(doc, "q1|Arroyo|1|0|EngineCpuCoreSeconds"));
        Assert.Equal(objects[1].InputRate, D(DataV(doc, "q1|Arroyo|2|0|InputRate")));
        // Without .hlog files the summary latency is the mean of the objects' own figures, and says so.
        var p99 = doc.Descendants().Single(e => (string?)e.Attribute("data-k") == "q1|Arroyo|LatencyP99Ms");
        Assert.Equal(new[] { objects[0].LatencyP99Ms, objects[2].LatencyP99Ms }.Average(), D((string?)p99.Attribute("data-v")), 9);
        Assert.Equal("file-mean", (string?)p99.Attribute("data-source"));
        Assert.Contains(doc.Descendants(), e => e.Value.StartsWith("pipeline objects (no results file", StringComparison.Ordinal));
    }

    [Fact]
    public void NotAResultsFile_IsAStableError()
    {
        Directory.CreateDirectory(_dir);
        var p = Path.Combine(_dir, "x.json");
        File.WriteAllText(p, "{\"hello\": 1}");
        Assert.Equal("ResultsFileInvalid", Assert.Throws<PiBenchException>(() => ResultsReader.Read(p)).ErrorId);
        File.WriteAllText(p, "not json");
        Assert.Equal("ResultsFileInvalid", Assert.Throws<PiBenchException>(() => ResultsReader.Read(p)).ErrorId);
        Assert.Equal("ResultsFileNotFound", Assert.Throws<PiBenchException>(() => ResultsReader.Read(Path.Combine(_dir, "none.json"))).ErrorId);
    }

    private string FullReport()
    {
        var (a, f) = TwoRuns();
        var sa = ReportFixtures.WriteSustainableRun(Path.Combine(_dir, "sa"), "Arroyo", T0.AddHours(2));
        var sf = ReportFixtures.WriteSustainableRun(Path.Combine(_dir, "sf"), "Flink", T0.AddHours(3));
        var metrics = ReportFixtures.WriteMetrics(_dir, T0, 600);
        var model = new ReportModel(new[] { a.JsonPath, f.JsonPath, sa, sf }.Select(ResultsReader.Read).ToList(), MetricsReader.Read(metrics), metrics);
        var path = Path.Combine(_dir, "report.html");
        HtmlReport.Write(model, path);
        return path;
    }

    [Fact]
    public void Report_IsSelfContained_NoScript_NoExternalReference_AndHasEveryChart()
    {
        var html = File.ReadAllText(FullReport());
        Assert.DoesNotContain("<script", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("src=", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("@import", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("<link", html, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("Content-Security-Policy", html);
        // The only absolute URLs are XML namespace names.
        var urls = System.Text.RegularExpressions.Regex.Matches(html, "https?://[^\"' )<]+").Select(m => m.Value).Distinct().ToList();
        Assert.All(urls, u => Assert.Contains(u, new[] { "http://www.w3.org/1999/xhtml", "http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink" }));
        var doc = Parse(html);
        var charts = doc.Descendants().Where(e => e.Name.LocalName == "svg" && (string?)e.Attribute("class") == "chart").Select(e => (string)e.Attribute("data-chart")!).ToList();
        Assert.Equal(new[] { "rate", "lat", "lat", "sus", "node", "node", "node", "node" }, charts);
        // Element ids are unique across the inline SVGs (clip paths of one chart must not clip another).
        var ids = doc.Descendants().Select(e => (string?)e.Attribute("id")).Where(i => i is not null).ToList();
        Assert.Equal(ids.Count, ids.Distinct().Count());
        // Node charts: the six Arroyo windows inside the metrics' 600 s are shaded as vertical bands (time spans), the
        // throttled sample is a red dashed line.
        var cpu = doc.Descendants().First(e => e.Name.LocalName == "svg" && (string?)e.Attribute("data-chart") == "node");
        var bands = cpu.Descendants().Where(e => e.Name.LocalName == "rect" && (string?)e.Attribute("fill") is "#888" or "#888888" && e.Attribute("fill-opacity") is not null).ToList();
        // (one more is the legend's swatch, wide and short)
        Assert.Equal(6, bands.Count(b => D((string?)b.Attribute("height")) > 3 * D((string?)b.Attribute("width"))));
        // Dashed lines are SVG dashed strokes (Skia's SVG canvas cannot write a dash effect: it would warn on stderr and fill
        // every dash as a shape), here and in the legend, in the rate chart (target rate) and the sustainable chart (dotted).
        Assert.Equal(2, cpu.Descendants().Count(e => e.Name.LocalName == "path" && (string?)e.Attribute("stroke") == "red"
            && (string?)e.Attribute("stroke-dasharray") == "10 10" && (string?)e.Attribute("stroke-width") == "1.5"));
        Assert.DoesNotContain(cpu.Descendants(), e => e.Name.LocalName == "path" && (string?)e.Attribute("fill") == "red");
        string[] Dashes(string chart) => doc.Descendants().Where(e => e.Name.LocalName == "svg" && (string?)e.Attribute("data-chart") == chart)
            .SelectMany(c => c.Descendants()).Select(e => (string?)e.Attribute("stroke-dasharray")).OfType<string>().Distinct().ToArray();
        Assert.Equal(["10 10"], Dashes("rate"));
        Assert.Equal(["3 5"], Dashes("sus"));
        Assert.DoesNotContain("0078125", html);
        Assert.Contains("(1: pi2)", html); // the throttled sample
        Assert.Contains("none passed", html); // a search without a passing step is a bound, not 0
        Assert.Contains("flink:1.18.1-scala_2.12-java11", html); // provenance: image refs
        Assert.Contains("Raspberry Pi 4 Model B Rev 1.4", html); // node facts
    }

    [Fact]
    public void WritingTheReport_PrintsNothingFromSkiaOnStderr()
    {
        // Skia's SVG canvas writes "Unsupported path effect in addPaint." to the process's stderr (fd 2, below .NET) for
        // every dashed line it is given; in pwsh that lands in the user's console. Catch fd 2 while the report is written.
        Assert.True(OperatingSystem.IsLinux(), "the suite runs on Linux");
        var capture = Path.Combine(Directory.CreateDirectory(_dir).FullName, "stderr.txt");
        using (var file = File.Open(capture, FileMode.Create, FileAccess.ReadWrite))
        {
            var saved = Libc.dup(2);
            Assert.True(saved >= 0);
            try
            {
                Assert.Equal(2, Libc.dup2((int)file.SafeFileHandle.DangerousGetHandle(), 2));
                FullReport();
            }
            finally
            {
                Libc.fflush(IntPtr.Zero);
                Libc.dup2(saved, 2);
                Libc.close(saved);
            }
        }
        Assert.DoesNotContain("path effect", File.ReadAllText(capture));
    }

    private static class Libc
    {
        [System.Runtime.InteropServices.DllImport("libc", SetLastError = true)] public static extern int dup(int fd);
        [System.Runtime.InteropServices.DllImport("libc", SetLastError = true)] public static extern int dup2(int fd, int to);
        [System.Runtime.InteropServices.DllImport("libc")] public static extern int close(int fd);
        [System.Runtime.InteropServices.DllImport("libc")] public static extern int fflush(IntPtr stream);
    }

    [Fact]
    public async Task HeadlessChromium_RendersTheReport_NonBlank_ExpectedSize_ChartsVisible_NoNetworkRequest()
    {
        HeadlessChromium.RequirePath();
        var path = FullReport();
        var page = await HeadlessChromium.CaptureAsync(path, 1280, 900);
        // Only the document itself was requested: no font, image, style or script from anywhere.
        Assert.Equal(new[] { new Uri(path).AbsoluteUri }, page.RequestUrls);
        Assert.Empty(page.FailedOrBlocked);
        Assert.Equal(1280, page.CssWidth); // nothing wider than the window
        Assert.True(page.CssHeight > 3000, $"page height {page.CssHeight}");
        Assert.Equal(8, page.ChartCount);
        Assert.All(page.ChartBoxes, b => Assert.True(b.Width > 400 && b.Height > 150, $"chart box {b.Width}x{b.Height}"));
        var png = PngImage.Decode(page.Png);
        Assert.Equal(page.CssWidth, png.Width);
        Assert.Equal(page.CssHeight, png.Height);
        Assert.True(png.NonWhiteFraction() > 0.03, $"non-white {png.NonWhiteFraction():P2}");
        // The engines' bars and lines were painted: Arroyo orange and Flink blue.
        Assert.True(png.CountNear("#E4572E") > 3000, $"orange pixels {png.CountNear("#E4572E")}");
        Assert.True(png.CountNear("#1F77B4") > 3000, $"blue pixels {png.CountNear("#1F77B4")}");
        File.WriteAllBytes(Path.Combine(Path.GetTempPath(), "pibench-report-screenshot.png"), page.Png);
    }
}
