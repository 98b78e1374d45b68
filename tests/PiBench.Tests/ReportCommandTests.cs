using System.Globalization;
using System.Runtime.InteropServices;
using System.Runtime.Loader;
using System.Xml.Linq;
using PiBench.Browser;
using PiBench.StandIns;
using PiBench.Tests.Harness;

namespace PiBench.Tests;

/// <summary>
/// Export-BenchmarkReport and Compare-BenchmarkResult on results of real Invoke-Benchmark runs (embedded Kafka from the
/// module, the Arroyo and Flink HTTP stand-ins), through the staged module: its load context must serve ScottPlot,
/// SkiaSharp and the native libSkiaSharp from out/PiBench/dependencies.
/// </summary>
[Collection("module")]
public sealed class ReportCommandTests(ModuleFixture fx) : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), $"pibench-reportcmd-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, true);
    }

    private (PsResult Runs, string ArroyoJson, string FlinkJson) RunBothEngines()
    {
        using var arroyo = new ArroyoStandIn();
        using var flink = new FlinkStandIn();
        var r = fx.Run("""
            $k = Start-EmbeddedKafka
            try {
              $common = @{ Query = 'q0'; Repetitions = 2; EventsPerSecond = 300; TotalEvents = 100000; Parallelism = 2; Partitions = 2; WarmupSeconds = 1;
                           FixedWarmup = $true; CheckpointIntervalSeconds = 1; MeasureSeconds = 3; BootstrapServers = $k.BootstrapServers; NoMetrics = $true; Seed = 7 }
              Invoke-Benchmark -System Arroyo @common -EngineUri $api -AuxiliaryUri $admin -OutputDirectory $dirA
              Invoke-Benchmark -System Flink @common -EngineUri $rest -AuxiliaryUri $gw -OutputDirectory $dirF
            } finally { $k | Stop-EmbeddedKafka }
            """, new Dictionary<string, object?>
        {
            ["api"] = arroyo.ApiUri, ["admin"] = arroyo.AdminUri, ["rest"] = flink.RestUri, ["gw"] = flink.GatewayUri,
            ["dirA"] = Path.Combine(_dir, "arroyo"), ["dirF"] = Path.Combine(_dir, "flink"),
        }, TimeSpan.FromSeconds(240));
        Assert.Null(r.Terminating);
        Assert.Equal(4, r.Output.Count);
        return (r, Directory.GetFiles(Path.Combine(_dir, "arroyo"), "benchmark_results_*.json").Single(),
            Directory.GetFiles(Path.Combine(_dir, "flink"), "benchmark_results_*.json").Single());
    }

    [Fact]
    public async Task RealRuns_ReportInChromium_NumbersEqualTheJson_PlotLibraryLoadedByTheModulesContext_AndCompare()
    {
        HeadlessChromium.RequirePath(); // fails (not skips) without Chromium
        var (runs, aJson, fJson) = RunBothEngines();
        var html = Path.Combine(_dir, "report.html");
        var r = fx.Run("Export-BenchmarkReport -Path $html -ResultsPath $a, $f", new Dictionary<string, object?> { ["html"] = html, ["a"] = aJson, ["f"] = fJson })
            .AssertNoErrors();
        var file = Assert.IsType<FileInfo>(Assert.Single(r.Output).BaseObject);
        Assert.Equal(html, file.FullName);

        // 1. Numbers: every figure of every cell equals the results .json; the invalid cells' reasons are all listed.
        var doc = XDocument.Parse(File.ReadAllText(html).Replace("<!DOCTYPE html>", "", StringComparison.Ordinal));
        var compared = 0;
        foreach (var path in new[] { aJson, fJson })
        {
            using var json = System.Text.Json.JsonDocument.Parse(File.ReadAllText(path));
            var system = json.RootElement.GetProperty("System").GetString();
            foreach (var cell in json.RootElement.GetProperty("Results").EnumerateArray())
            {
                var key = $"{cell.GetProperty("Query").GetString()}|{system}|{cell.GetProperty("Repetition").GetInt32()}|{cell.GetProperty("Step").GetInt32()}";
                foreach (var fig in new[] { "TargetRate", "InputRate", "OutputRate", "LatencyP99Ms", "CpuCoreSeconds", "EngineCpuCoreSeconds", "DurationS" })
                {
                    var v = doc.Descendants().Single(e => (string?)e.Attribute("data-k") == $"{key}|{fig}").Attribute("data-v")!.Value;
                    var j = cell.GetProperty(fig);
                    var expected = j.ValueKind == System.Text.Json.JsonValueKind.Number ? j.GetDouble() : double.NaN; // "NaN" = not measured
                    if (double.IsNaN(expected)) Assert.Equal("", v); // shown as missing, not 0
                    else Assert.Equal(expected, double.Parse(v, CultureInfo.InvariantCulture));
                    compared++;
                }
                if (!cell.GetProperty("Valid").GetBoolean())
                    Assert.Contains(cell.GetProperty("InvalidReason").GetString()!,
                        doc.Descendants().Single(e => (string?)e.Attribute("data-invalid") == key).Value);
            }
        }
        Assert.Equal(4 * 7, compared);
        Assert.Contains(doc.Descendants(), e => (string?)e.Attribute("data-k") == "q0|Arroyo|ValidCount");
        Assert.Contains(doc.Descendants(), e => (string?)e.Attribute("data-k") == "q0|Flink|ValidCount");

        // 2. The plotting library and its native part were loaded by the module's own load context, from the staged module.
        var deps = Path.Combine(StagedModule.Directory, "dependencies");
        var alc = AssemblyLoadContext.All.Single(c => c.Name == "PiBench.Core");
        foreach (var name in new[] { "ScottPlot", "SkiaSharp" })
        {
            var asm = alc.Assemblies.SingleOrDefault(x => x.GetName().Name == name);
            Assert.True(asm is not null, $"{name} is not in the PiBench.Core load context");
            Assert.StartsWith(deps, asm!.Location);
            Assert.DoesNotContain(AssemblyLoadContext.Default.Assemblies, x => x.GetName().Name == name);
        }
        var rid = RuntimeInformation.ProcessArchitecture == Architecture.Arm64 ? "linux-arm64" : "linux-x64";
        var maps = File.ReadAllText("/proc/self/maps");
        Assert.Contains(Path.Combine(deps, "runtimes", rid, "native", "libSkiaSharp.so"), maps);

        // 3. A real browser opens it offline: non-blank, as wide as the window, the chart present, no network request.
        var page = await HeadlessChromium.CaptureAsync(html, 1280, 900);
        Assert.Equal(new[] { new Uri(html).AbsoluteUri }, page.RequestUrls);
        Assert.Equal(1280, page.CssWidth);
        var charts = doc.Descendants().Count(e => e.Name.LocalName == "svg" && (string?)e.Attribute("class") == "chart");
        Assert.True(charts >= 1);
        Assert.Equal(charts, page.ChartCount);
        Assert.All(page.ChartBoxes, b => Assert.True(b.Width > 400 && b.Height > 150, $"chart box {b.Width}x{b.Height}"));
        var png = PngImage.Decode(page.Png);
        Assert.Equal((page.CssWidth, page.CssHeight), (png.Width, png.Height));
        Assert.True(png.NonWhiteFraction() > 0.02, $"non-white {png.NonWhiteFraction():P2}");

        // 4. Compare-BenchmarkResult on the same files: the stand-ins consume nothing, so no repetition is valid and
        // there is nothing to compare; on the pipeline objects taken as they are, likewise.
        var c = fx.Run("Compare-BenchmarkResult -Reference $a -Difference $f", new Dictionary<string, object?> { ["a"] = aJson, ["f"] = fJson }).AssertNoErrors();
        Assert.Empty(c.Output);
    }

    [Fact]
    public void Compare_TakesObjects_OneRowPerQueryAndFigure_WithTheFormatView()
    {
        var (runs, _, _) = RunBothEngines();
        // The stand-ins' runs are invalid (nothing consumed); the test marks the objects valid to exercise the object path.
        var a = runs.Output.Take(2).ToList();
        var f = runs.Output.Skip(2).ToList();
        foreach (var o in a.Concat(f)) { o.Properties["Valid"].Value = true; o.Properties["InvalidReason"].Value = ""; }
        var r = fx.Run("Compare-BenchmarkResult -Reference $a -Difference $f", new Dictionary<string, object?> { ["a"] = a.ToArray(), ["f"] = f.ToArray() }).AssertNoErrors();
        Assert.NotEmpty(r.Output);
        Assert.All(r.Output, o => Assert.Equal("PiBench.Core.Reporting.BenchmarkComparison", o.TypeNames[0]));
        var input = r.Output.Single(o => (string)o.Properties["Figure"].Value == "InputRate");
        Assert.Equal("q0", input.Properties["Query"].Value);
        Assert.Equal("Arroyo", input.Properties["ReferenceSystem"].Value);
        Assert.Equal("Flink", input.Properties["DifferenceSystem"].Value);
        var ra = a.Average(o => (double)o.Properties["InputRate"].Value);
        var rf = f.Average(o => (double)o.Properties["InputRate"].Value);
        Assert.Equal(ra, (double)input.Properties["ReferenceValue"].Value, 9);
        Assert.Equal(rf, (double)input.Properties["DifferenceValue"].Value, 9);
        Assert.Equal(rf / ra, (double)input.Properties["Ratio"].Value, 9);
        Assert.Equal(2, input.Properties["ReferenceCount"].Value);
        Assert.NotEqual("", (string)input.Properties["Test"].Value);
        // Same property set on every object (Export-Csv reads the first one's).
        var names = r.Output.Select(o => string.Join(",", o.Properties.Select(p => p.Name))).Distinct().ToList();
        Assert.Single(names);
        // A format view is registered for the type.
        var views = fx.Run("(Get-Module PiBench).ExportedFormatFiles").AssertNoErrors().Output.Select(o => o.ToString()!).ToList();
        var report = Assert.Single(views, v => v.EndsWith("PiBench.Report.format.ps1xml", StringComparison.Ordinal));
        Assert.Contains("<TypeName>PiBench.Core.Reporting.BenchmarkComparison</TypeName>", File.ReadAllText(report));
        _ = new System.Management.Automation.Runspaces.FormatTable(new[] { report }); // loads (throws on a bad view)
    }

    [Fact]
    public void Report_BadInput_StableErrorIds()
    {
        var none = fx.Run("Export-BenchmarkReport -Path $p", new Dictionary<string, object?> { ["p"] = Path.Combine(_dir, "x.html") });
        var e = (none.Terminating as System.Management.Automation.RuntimeException)?.ErrorRecord ?? none.Errors.FirstOrDefault();
        Assert.NotNull(e);
        Assert.StartsWith("ReportInputMissing,", e!.FullyQualifiedErrorId);
        var missing = fx.Run("Export-BenchmarkReport -Path $p -ResultsPath $r",
            new Dictionary<string, object?> { ["p"] = Path.Combine(_dir, "x.html"), ["r"] = Path.Combine(_dir, "nope.json") });
        var e2 = (missing.Terminating as System.Management.Automation.RuntimeException)?.ErrorRecord ?? missing.Errors.FirstOrDefault();
        Assert.StartsWith("ResultsFileNotFound,", e2!.FullyQualifiedErrorId);
        Assert.False(File.Exists(Path.Combine(_dir, "x.html")));
        var bad = fx.Run("'hello', 42 | Export-BenchmarkReport -Path $p", new Dictionary<string, object?> { ["p"] = Path.Combine(_dir, "x.html") });
        Assert.Contains(bad.Errors, x => x.FullyQualifiedErrorId.StartsWith("ReportInputNotAResult,", StringComparison.Ordinal) || x.FullyQualifiedErrorId.StartsWith("ResultsFileNotFound,", StringComparison.Ordinal));
    }
}
