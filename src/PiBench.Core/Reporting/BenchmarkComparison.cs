using System.Globalization;

namespace PiBench.Core.Reporting;

/// <summary>
/// One figure of one query compared between two benchmark results (Compare-BenchmarkResult), in the spirit of
/// Compare-Object. Flat scalars, the same on every instance. Values are means over the valid fixed-rate repetitions
/// (completed searches for SustainableRate); NaN = not measured on that side.
/// </summary>
public sealed class BenchmarkComparison
{
    public string Query { get; set; } = "";
    /// <summary>InputRate, OutputRate, LatencyP50Ms, LatencyP99Ms, LatencyMaxMs, EngineCpuPerMillionEvents, EngineMemoryPeakMB, CpuCoreSeconds or SustainableRate.</summary>
    public string Figure { get; set; } = "";
    public string Unit { get; set; } = "";
    public string ReferenceSystem { get; set; } = "";
    public string DifferenceSystem { get; set; } = "";
    public double ReferenceValue { get; set; } = double.NaN;
    public double DifferenceValue { get; set; } = double.NaN;
    /// <summary>DifferenceValue / ReferenceValue (NaN when either is missing or the reference is 0).</summary>
    public double Ratio { get; set; } = double.NaN;
    public int ReferenceCount { get; set; }
    public int DifferenceCount { get; set; }
    public double ReferenceCiLow { get; set; } = double.NaN;
    public double ReferenceCiHigh { get; set; } = double.NaN;
    public double DifferenceCiLow { get; set; } = double.NaN;
    public double DifferenceCiHigh { get; set; } = double.NaN;
    /// <summary>Welch's t statistic (difference minus reference), NaN when not computed.</summary>
    public double TStatistic { get; set; } = double.NaN;
    /// <summary>Welch-Satterthwaite degrees of freedom, NaN when not computed.</summary>
    public double DegreesOfFreedom { get; set; } = double.NaN;
    /// <summary>True: the means differ at the 95 % level; false: they do not; null: not decided (too few repetitions, or one side missing).</summary>
    public bool? Significant { get; set; }
    /// <summary>
    /// "&gt;" Difference significantly higher, "&lt;" significantly lower, "==" no significant difference, "?" not decided,
    /// "&lt;=" only in Reference, "=&gt;" only in Difference (as Compare-Object's arrows).
    /// </summary>
    public string SideIndicator { get; set; } = "?";
    /// <summary>How Significant was decided, in words.</summary>
    public string Test { get; set; } = "";
    public string ReferenceSource { get; set; } = "";
    public string DifferenceSource { get; set; } = "";
}

/// <summary>
/// Compares two sets of results figure by figure. Significance: Welch's two-sided t-test at 95 % on the per-repetition
/// values (valid fixed-rate repetitions; completed searches for the sustainable rate): |t| above Student's t critical
/// value for the Welch-Satterthwaite degrees of freedom (rounded down, so the test errs on the side of "not
/// significant"). At least two values per side are needed; with no spread on either side, any difference counts.
/// </summary>
public static class BenchmarkComparer
{
    private static readonly (string Figure, string Unit, Func<ReportCell, IEnumerable<double?>> Values)[] Figures =
    {
        ("InputRate", "events/s", c => c.Valid.Select(r => r.InputRate)),
        ("OutputRate", "records/s", c => c.Valid.Select(r => r.OutputRate)),
        ("LatencyP50Ms", "ms", c => c.Valid.Select(r => r.LatencyMs(50))),
        ("LatencyP99Ms", "ms", c => c.Valid.Select(r => r.LatencyMs(99))),
        ("LatencyMaxMs", "ms", c => c.Valid.Select(r => r.LatencyMs(100))),
        ("EngineCpuPerMillionEvents", "core-s / 10^6 events", c => c.Valid.Select(r => r.EngineCpuPerMillionEvents)),
        ("EngineMemoryPeakMB", "MB", c => c.Valid.Select(r => r.EngineMemoryPeakMB)),
        ("CpuCoreSeconds", "core-s", c => c.Valid.Select(r => r.CpuCoreSeconds)),
        ("SustainableRate", "events/s", c => c.CompletedSearches.Select(s => s.SustainableRate)),
    };

    public static List<BenchmarkComparison> Compare(IReadOnlyList<ReportRun> reference, IReadOnlyList<ReportRun> difference)
    {
        var refModel = new ReportModel(reference);
        var difModel = new ReportModel(difference);
        var refSystem = string.Join("+", refModel.Systems);
        var difSystem = string.Join("+", difModel.Systems);
        var refSource = Source(reference);
        var difSource = Source(difference);
        var queries = refModel.Queries.Concat(difModel.Queries).Distinct(StringComparer.OrdinalIgnoreCase).ToList();
        var list = new List<BenchmarkComparison>();
        foreach (var q in queries)
        {
            var rc = refModel.Cells.Where(c => c.Query.Equals(q, StringComparison.OrdinalIgnoreCase)).ToList();
            var dc = difModel.Cells.Where(c => c.Query.Equals(q, StringComparison.OrdinalIgnoreCase)).ToList();
            foreach (var (figure, unit, values) in Figures)
            {
                var a = rc.SelectMany(values).Where(v => v is not null).Select(v => v!.Value).ToArray();
                var b = dc.SelectMany(values).Where(v => v is not null).Select(v => v!.Value).ToArray();
                if (a.Length == 0 && b.Length == 0) continue;
                list.Add(Judge(q, figure, unit, a, b, refSystem, difSystem, refSource, difSource));
            }
        }
        return list;
    }

    /// <summary>One comparison of two samples (Welch's t-test, 95 %, two-sided).</summary>
    public static BenchmarkComparison Judge(string query, string figure, string unit, double[] a, double[] b,
        string refSystem = "", string difSystem = "", string refSource = "", string difSource = "")
    {
        var sa = Benchmarking.Statistics.Summarize(a);
        var sb = Benchmarking.Statistics.Summarize(b);
        var c = new BenchmarkComparison
        {
            Query = query, Figure = figure, Unit = unit, ReferenceSystem = refSystem, DifferenceSystem = difSystem,
            ReferenceSource = refSource, DifferenceSource = difSource,
            ReferenceValue = sa.Mean, DifferenceValue = sb.Mean, ReferenceCount = sa.Count, DifferenceCount = sb.Count,
            ReferenceCiLow = sa.CiLow, ReferenceCiHigh = sa.CiHigh, DifferenceCiLow = sb.CiLow, DifferenceCiHigh = sb.CiHigh,
            Ratio = sa.Count > 0 && sb.Count > 0 && sa.Mean != 0 ? sb.Mean / sa.Mean : double.NaN,
        };
        if (sa.Count == 0) { c.SideIndicator = "=>"; c.Test = "only in Difference: not decided"; return c; }
        if (sb.Count == 0) { c.SideIndicator = "<="; c.Test = "only in Reference: not decided"; return c; }
        if (sa.Count < 2 || sb.Count < 2)
        {
            c.Test = string.Create(CultureInfo.InvariantCulture, $"not decided: Welch's t-test needs at least 2 values per side, has {sa.Count} and {sb.Count}");
            return c;
        }
        var va = sa.StdDev * sa.StdDev / sa.Count;
        var vb = sb.StdDev * sb.StdDev / sb.Count;
        if (va + vb == 0)
        {
            c.Significant = sa.Mean != sb.Mean;
            c.SideIndicator = !c.Significant.Value ? "==" : sb.Mean > sa.Mean ? ">" : "<";
            c.Test = string.Create(CultureInfo.InvariantCulture, $"no spread on either side ({sa.Count} and {sb.Count} identical values): any difference counts");
            return c;
        }
        var t = (sb.Mean - sa.Mean) / Math.Sqrt(va + vb);
        var df = (va + vb) * (va + vb) / (va * va / (sa.Count - 1) + vb * vb / (sb.Count - 1));
        var crit = Benchmarking.Statistics.TCritical95(Math.Max(1, (int)Math.Floor(df)));
        c.TStatistic = t;
        c.DegreesOfFreedom = df;
        c.Significant = Math.Abs(t) > crit;
        c.SideIndicator = !c.Significant.Value ? "==" : t > 0 ? ">" : "<";
        c.Test = string.Create(CultureInfo.InvariantCulture,
            $"Welch's t-test, two-sided 95 %: |t| = {Math.Abs(t):0.###} {(c.Significant.Value ? ">" : "<=")} {crit:0.###} (df {df:0.#}, n = {sa.Count} vs {sb.Count})");
        return c;
    }

    private static string Source(IReadOnlyList<ReportRun> runs) =>
        string.Join(", ", runs.Select(r => r.SourcePath.Length > 0 ? Path.GetFileName(r.SourcePath) : $"{r.System} objects"));
}
