using System.Globalization;
using HdrHistogram;
using System.Text.RegularExpressions;
using PiBench.Core.Benchmarking;
using ScottPlot;

namespace PiBench.Core.Reporting;

/// <summary>
/// The report's charts, drawn with ScottPlot 5 and returned as SVG (ScottPlot renders through SkiaSharp's SVG canvas:
/// libSkiaSharp and libHarfBuzzSharp, loaded by the module's load context). Element ids are made unique per chart so
/// several SVGs can sit inline in one HTML page.
/// </summary>
public static partial class ReportCharts
{
    public const int Width = 900;
    public const int Height = 380;
    private static int s_chart;

    /// <summary>True when SkiaSharp found at least one font on this host; without one the charts carry no text.</summary>
    public static bool HasFonts
    {
        get
        {
            try { return SkiaSharp.SKFontManager.Default.FontFamilyCount > 0; }
            catch (Exception ex) when (ex is DllNotFoundException or TypeInitializationException) { return false; }
        }
    }

    /// <summary>A sans-serif family this host has (ScottPlot's own detection settles on a serif one here), else null.</summary>
    private static readonly string? PreferredFont = FindFont();

    private static string? FindFont()
    {
        try
        {
            var families = SkiaSharp.SKFontManager.Default.GetFontFamilies();
            return new[] { "DejaVu Sans", "Liberation Sans", "Noto Sans", "Arial", "Helvetica" }.FirstOrDefault(f => families.Contains(f, StringComparer.OrdinalIgnoreCase));
        }
        catch (Exception ex) when (ex is DllNotFoundException or TypeInitializationException) { return null; }
    }

    private static readonly Dictionary<string, string> KnownColors = new(StringComparer.OrdinalIgnoreCase)
    {
        ["Arroyo"] = "#E4572E", ["Flink"] = "#1F77B4",
    };
    private static readonly string[] Spare = { "#2CA02C", "#9467BD", "#8C564B", "#17BECF", "#BCBD22", "#7F7F7F" };
    private static readonly string[] NodeColors = { "#1F77B4", "#E4572E", "#2CA02C", "#9467BD", "#8C564B", "#17BECF", "#BCBD22", "#E377C2", "#7F7F7F" };

    public static string SystemColor(ReportModel m, string system)
    {
        if (KnownColors.TryGetValue(system, out var c)) return c;
        var i = m.Systems.ToList().FindIndex(s => string.Equals(s, system, StringComparison.OrdinalIgnoreCase));
        return Spare[Math.Max(0, i) % Spare.Length];
    }

    private static Plot NewPlot(string title, string yLabel)
    {
        var plt = new Plot();
        plt.Title(title, 15);
        plt.YLabel(yLabel, 13);
        if (PreferredFont is { } font) plt.Font.Set(font);
        return plt;
    }

    private static (List<double> Positions, double Width) Slots(int systems, int index)
    {
        var w = 0.8 / Math.Max(1, systems);
        return (new List<double> { (index - (systems - 1) / 2.0) * w }, w);
    }

    private static void QueryTicks(Plot plt, IReadOnlyList<string> queries)
    {
        var ticks = new ScottPlot.TickGenerators.NumericManual();
        for (var i = 0; i < queries.Count; i++) ticks.AddMajor(i, queries[i]);
        plt.Axes.Bottom.TickGenerator = ticks;
        plt.Axes.SetLimitsX(-0.6, queries.Count - 0.4);
    }

    /// <summary>Achieved input rate (mean of valid repetitions, 95 % interval as error bar) per query and engine, target marked.</summary>
    public static string RateChart(ReportModel m)
    {
        var plt = NewPlot("Achieved input rate vs target (valid repetitions, mean and 95 % CI)", "events/s");
        var queries = m.Queries.Where(q => m.Cells.Any(c => c.Query.Equals(q, StringComparison.OrdinalIgnoreCase) && c.Fixed.Any())).ToList();
        var bars = new List<Bar>();
        for (var qi = 0; qi < queries.Count; qi++)
        {
            double? target = null;
            for (var si = 0; si < m.Systems.Count; si++)
            {
                var cell = m.Cell(queries[qi], m.Systems[si]);
                if (cell is null) continue;
                target ??= cell.TargetRate;
                var x = qi + Slots(m.Systems.Count, si).Positions[0];
                var w = Slots(m.Systems.Count, si).Width;
                var f = cell.InputRate;
                if (f.HasValue)
                    bars.Add(new Bar { Position = x, Value = f.Mean, Size = w * 0.9, FillColor = Color.FromHex(SystemColor(m, cell.System)),
                        Error = f.Count > 1 ? (f.CiHigh - f.CiLow) / 2 : 0 });
                else
                {
                    var t = plt.Add.Text("no valid run", x, 0);
                    t.LabelRotation = -90;
                    t.LabelFontSize = 11;
                    t.LabelFontColor = Color.FromHex(SystemColor(m, cell.System));
                }
            }
            if (target is { } tr)
            {
                var line = plt.Add.Line(qi - 0.45, tr, qi + 0.45, tr);
                line.LineColor = Colors.Black;
                line.LineWidth = Dashed(2);
            }
        }
        if (bars.Count > 0) plt.Add.Bars(bars);
        QueryTicks(plt, queries);
        plt.Axes.Margins(bottom: 0);
        var items = m.Systems.Select(s => new LegendItem { LabelText = s, FillColor = Color.FromHex(SystemColor(m, s)) }).ToList();
        items.Add(new LegendItem { LabelText = "target rate", LineColor = Colors.Black, LineWidth = Dashed(2) });
        plt.ShowLegend(items, Alignment.UpperRight);
        return Svg(plt, "rate");
    }

    /// <summary>Latency percentile distribution of one query (merged histogram of the valid repetitions), one line per engine.</summary>
    public static string LatencyChart(ReportModel m, string query)
    {
        var plt = NewPlot($"{query}: latency by percentile (merged HdrHistogram of valid repetitions)", "latency, ms");
        var items = new List<LegendItem>();
        var maxX = 3.0;
        foreach (var system in m.Systems)
        {
            var cell = m.Cell(query, system);
            var h = cell?.MergedHistogram;
            if (h is null) continue;
            var color = Color.FromHex(SystemColor(m, system));
            var pts = LatencyLog.Distribution(h).Where(p => p.Percentile < 100).ToList();
            var xs = pts.Select(p => Math.Log10(100.0 / (100.0 - p.Percentile))).ToArray();
            var ys = pts.Select(p => p.Ms).ToArray();
            if (xs.Length > 0)
            {
                var line = plt.Add.ScatterLine(xs, ys, color);
                line.LineWidth = 2;
                maxX = Math.Max(maxX, Math.Ceiling(xs.Max()));
            }
            var mx = plt.Add.Marker(xs.Length > 0 ? xs.Max() : 0, h.GetMaxValue() / 1000.0, MarkerShape.FilledTriangleUp, 9, color);
            items.Add(new LegendItem { LabelText = $"{system} ({cell!.MergedCount} rep., {h.TotalCount:N0} results; ▲ max)", LineColor = color, LineWidth = 2 });
        }
        var ticks = new ScottPlot.TickGenerators.NumericManual();
        string[] labels = { "0%", "90%", "99%", "99.9%", "99.99%", "99.999%", "99.9999%" };
        for (var i = 0; i <= Math.Min(6, (int)maxX); i++) ticks.AddMajor(i, labels[i]);
        plt.Axes.Bottom.TickGenerator = ticks;
        plt.XLabel("percentile (log scale of 1 / (1 - p))", 12);
        plt.Axes.SetLimitsX(-0.1, Math.Min(6, maxX) + 0.1);
        if (items.Count == 0) plt.Add.Text("no latency histogram for a valid repetition", 0.2, 0);
        else plt.ShowLegend(items, Alignment.UpperLeft);
        return Svg(plt, "lat");
    }

    /// <summary>Sustainable rate per query and engine: the highest passing step (a lower bound) and the lowest failing step (an upper bound).</summary>
    public static string SustainableChart(ReportModel m)
    {
        var plt = NewPlot("Sustainable input rate: bounds from the step search (mean over completed searches)", "events/s");
        var queries = m.Queries.Where(q => m.Cells.Any(c => c.Query.Equals(q, StringComparison.OrdinalIgnoreCase) && c.Searches.Count > 0)).ToList();
        var bars = new List<Bar>();
        for (var qi = 0; qi < queries.Count; qi++)
            for (var si = 0; si < m.Systems.Count; si++)
            {
                var cell = m.Cell(queries[qi], m.Systems[si]);
                if (cell is null || cell.Searches.Count == 0) continue;
                var (pos, w) = Slots(m.Systems.Count, si);
                var x = qi + pos[0];
                var color = Color.FromHex(SystemColor(m, cell.System));
                var lo = cell.SustainableRate;
                var hi = cell.FailingRate;
                if (lo.HasValue)
                    bars.Add(new Bar { Position = x, Value = lo.Mean, Size = w * 0.9, FillColor = color.WithAlpha(0.75), Error = lo.Count > 1 ? (lo.CiHigh - lo.CiLow) / 2 : 0 });
                else
                {
                    var t = plt.Add.Text("no step passed", x, 0);
                    t.LabelRotation = -90;
                    t.LabelFontSize = 11;
                }
                if (hi.HasValue)
                {
                    var mk = plt.Add.Marker(x, hi.Mean, MarkerShape.FilledTriangleDown, 12, color);
                    var seg = plt.Add.Line(x, lo.HasValue ? lo.Mean : 0, x, hi.Mean);
                    seg.LineColor = color;
                    seg.LineWidth = Dotted(2);
                }
            }
        if (bars.Count > 0) plt.Add.Bars(bars);
        QueryTicks(plt, queries);
        plt.Axes.Margins(bottom: 0);
        var items = m.Systems.Select(s => new LegendItem { LabelText = $"{s}: highest passing rate (lower bound)", FillColor = Color.FromHex(SystemColor(m, s)).WithAlpha(0.75) }).ToList();
        items.Add(new LegendItem { LabelText = "▼ lowest failing rate (upper bound)", MarkerShape = MarkerShape.FilledTriangleDown, MarkerFillColor = Colors.Gray, MarkerSize = 10 });
        plt.ShowLegend(items, Alignment.UpperRight);
        return Svg(plt, "sus");
    }

    /// <summary>One node metric over time, one line per node; measured windows shaded, throttled samples marked.</summary>
    public static string NodeChart(ReportModel m, string title, string yLabel, Func<ClusterMetricSample, double?> value)
    {
        var plt = NewPlot(title, yLabel);
        var t0 = m.Samples.Count > 0 ? m.Samples.Min(s => s.Timestamp) : DateTimeOffset.UnixEpoch;
        var t1 = m.Samples.Count > 0 ? m.Samples.Max(s => s.Timestamp) : t0;
        double X(DateTimeOffset t) => (t - t0).TotalSeconds;
        var shaded = 0;
        foreach (var (from, to, _) in m.Windows)
        {
            if (to < t0 || from > t1) continue;
            var span = plt.Add.HorizontalSpan(Math.Max(0, X(from)), Math.Min(X(t1), X(to)), Color.FromHex("#888888").WithAlpha(0.18));
            span.LineWidth = 0;
            shaded++;
        }
        var items = new List<LegendItem>();
        var nodes = m.Samples.Select(s => s.Node).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        for (var i = 0; i < nodes.Count; i++)
        {
            var pts = m.Samples.Where(s => s.Node == nodes[i] && value(s) is not null).ToList();
            if (pts.Count == 0) continue;
            var color = Color.FromHex(NodeColors[i % NodeColors.Length]);
            var line = plt.Add.ScatterLine(pts.Select(s => X(s.Timestamp)).ToArray(), pts.Select(s => value(s)!.Value).ToArray(), color);
            line.LineWidth = 1.5f;
            items.Add(new LegendItem { LabelText = nodes[i], LineColor = color, LineWidth = 2 });
        }
        var throttled = m.Samples.Where(s => s.Throttled == true).ToList();
        foreach (var s in throttled)
        {
            plt.Add.VerticalLine(X(s.Timestamp), Dashed(1.5f), Colors.Red);
        }
        if (shaded > 0) items.Add(new LegendItem { LabelText = "measured window", FillColor = Color.FromHex("#888888").WithAlpha(0.3) });
        if (throttled.Count > 0) items.Add(new LegendItem { LabelText = "throttled", LineColor = Colors.Red, LineWidth = Dashed(1.5f) });
        plt.XLabel($"seconds since {t0.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture)} UTC", 12);
        if (items.Count > 0) plt.ShowLegend(items, Alignment.UpperRight);
        return Svg(plt, "node");
    }

    // Skia's SVG canvas cannot write a dash path effect (ScottPlot's LinePattern): it prints "Unsupported path effect in
    // addPaint." on stderr and draws every dash as a filled shape. So dashed and dotted lines are drawn solid, with a width
    // that marks them (a multiple of 0.5 plus 1/128 or 2/128: exact in binary, and written exactly), and Svg() gives the
    // marked strokes their width back with an SVG stroke-dasharray of ScottPlot's own intervals (10 10 and 3 5 pixels).
    private const float PatternMark = 1f / 128;
    private static float Dashed(float width) => Marked(width, 1);
    private static float Dotted(float width) => Marked(width, 2);

    private static float Marked(float width, int pattern) =>
        width * 2 == MathF.Floor(width * 2) ? width + pattern * PatternMark
            : throw new ArgumentOutOfRangeException(nameof(width), width, "A patterned line's width is a multiple of 0.5.");

    private static string Patterned(Match m)
    {
        var width = float.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
        var mark = (width * 2 - MathF.Floor(width * 2)) / 2;
        var pattern = (int)MathF.Round(mark / PatternMark);
        var dashes = pattern switch { 1 => "10 10", 2 => "3 5", _ => null };
        if (dashes is null || MathF.Abs(mark - pattern * PatternMark) > 1e-5f) return m.Value; // a width of its own
        var plain = (width - pattern * PatternMark).ToString("0.##", CultureInfo.InvariantCulture);
        return $"stroke-width=\"{plain}\" stroke-dasharray=\"{dashes}\"";
    }

    /// <summary>The SVG of a plot, without the XML declaration, with every id made unique and patterned strokes dashed.</summary>
    private static string Svg(Plot plt, string kind)
    {
        var svg = plt.GetSvgXml(Width, Height);
        plt.Dispose();
        var start = svg.IndexOf("<svg", StringComparison.Ordinal);
        if (start > 0) svg = svg[start..];
        var prefix = $"{kind}{Interlocked.Increment(ref s_chart)}_";
        var ids = IdPattern().Matches(svg).Select(mm => mm.Groups[1].Value).Distinct().ToList();
        foreach (var id in ids)
            svg = svg.Replace($"id=\"{id}\"", $"id=\"{prefix}{id}\"", StringComparison.Ordinal)
                     .Replace($"#{id})", $"#{prefix}{id})", StringComparison.Ordinal)
                     .Replace($"\"#{id}\"", $"\"#{prefix}{id}\"", StringComparison.Ordinal);
        svg = StrokeWidthPattern().Replace(svg, Patterned);
        return svg.Replace("<svg ", $"<svg class=\"chart\" data-chart=\"{kind}\" role=\"img\" ", StringComparison.Ordinal);
    }

    [GeneratedRegex("id=\"([^\"]+)\"")]
    private static partial Regex IdPattern();

    [GeneratedRegex("stroke-width=\"([0-9]+\\.[0-9]+)\"")]
    private static partial Regex StrokeWidthPattern();
}
