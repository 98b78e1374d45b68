using System.Globalization;
using System.Net;
using System.Text;
using PiBench.Core.Benchmarking;

namespace PiBench.Core.Reporting;

/// <summary>
/// Renders a <see cref="ReportModel"/> as one self-contained HTML file: inline CSS and inline SVG charts, no script, no
/// font or image from anywhere (a Content-Security-Policy of default-src 'none' says so to the browser too), readable
/// without JavaScript. Every figure cell carries data-k (what) and data-v (the exact value) for tools and tests.
/// The markup is well-formed XML (XHTML-compatible) so it can also be read by an XML parser.
/// </summary>
public static class HtmlReport
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    private const string Css = """
        body{font-family:"DejaVu Sans","Liberation Sans",Arial,Helvetica,sans-serif;margin:24px auto;max-width:1180px;color:#222;line-height:1.4;padding:0 12px}
        h1{font-size:26px;margin-bottom:4px}h2{font-size:20px;border-bottom:2px solid #ddd;padding-bottom:4px;margin-top:36px}h3{font-size:16px}
        p.meta,p.note{color:#555;font-size:13px}
        table{border-collapse:collapse;font-size:13px;margin:8px 0 16px}
        th,td{border:1px solid #ccc;padding:4px 7px;vertical-align:top;text-align:right}
        th{background:#f1f3f5;text-align:center}td.t{text-align:left}
        td small{color:#666;display:block}
        table.summary{font-size:12px}td.reason{min-width:260px}
        .missing{color:#a0a0a0;font-style:italic}
        .invalid{color:#b00020}.valid{color:#1b7a2b}
        .sys{display:inline-block;width:10px;height:10px;margin-right:5px;border-radius:2px}
        figure{margin:10px 0 24px}figcaption{font-size:13px;color:#444;max-width:900px}
        svg.chart{max-width:100%;height:auto;border:1px solid #e3e3e3}
        nav a{margin-right:14px}
        div.scroll{overflow-x:auto;max-width:100%}
        td.t{overflow-wrap:break-word}
        ul.invalid{font-size:13px;margin-top:0}
        code{background:#f4f4f4;padding:0 3px}
        """;

    public static void Write(ReportModel model, string path)
    {
        var html = Render(model);
        var dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(dir)) Directory.CreateDirectory(dir);
        var tmp = path + ".tmp-" + Environment.ProcessId;
        File.WriteAllText(tmp, html, new UTF8Encoding(false));
        File.Move(tmp, path, overwrite: true);
    }

    public static string Render(ReportModel m)
    {
        var sb = new StringBuilder();
        var systems = string.Join(" vs ", m.Systems);
        sb.Append("<!DOCTYPE html>\n<html lang=\"en\" xmlns=\"http://www.w3.org/1999/xhtml\"><head><meta charset=\"utf-8\"/>")
          .Append("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\"/>")
          .Append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>")
          .Append("<title>").Append(E($"PiBench report: {systems}")).Append("</title><style>").Append(Css).Append("</style></head>\n<body>\n");
        sb.Append("<h1>PiBench benchmark report</h1>\n<p class=\"meta\">")
          .Append(E($"{systems} · generated {DateTimeOffset.UtcNow.ToString("yyyy-MM-dd HH:mm:ss", Inv)} UTC by PiBench {ModuleInfo.Version} from "))
          .Append(E(m.Runs.Count == 1 ? "1 source" : $"{m.Runs.Count} sources")).Append(": ")
          .Append(E(string.Join(", ", m.Runs.Select(r => r.SourcePath.Length > 0 ? Path.GetFileName(r.SourcePath) : $"{r.System} pipeline objects"))))
          .Append(m.MetricsPath is { } mp ? E($"; node metrics from {Path.GetFileName(mp)}") : "").Append(".</p>\n");
        sb.Append("<nav><a href=\"#summary\">Summary</a><a href=\"#rates\">Rates</a><a href=\"#latency\">Latency</a><a href=\"#sustainable\">Sustainable rate</a>")
          .Append("<a href=\"#nodes\">Nodes</a><a href=\"#repetitions\">Every cell</a><a href=\"#provenance\">Provenance</a></nav>\n");
        if (!ReportCharts.HasFonts)
            sb.Append("<p class=\"note invalid\">No font was found on the host that wrote this report, so the charts carry no text (install fonts-dejavu-core and write it again).</p>\n");

        Summary(sb, m);
        Rates(sb, m);
        Latency(sb, m);
        Sustainable(sb, m);
        Nodes(sb, m);
        Repetitions(sb, m);
        Provenance(sb, m);
        sb.Append("</body></html>\n");
        return sb.ToString();
    }

    private static void Summary(StringBuilder sb, ReportModel m)
    {
        sb.Append("<section id=\"summary\"><h2>Summary per query and system</h2>\n<p class=\"note\">Headline figures use the <b>valid</b> fixed-rate repetitions only ")
          .Append("(Completed and passed the validity gate); every invalid cell is listed with its reason. Intervals are 95 % Student-t over those repetitions ")
          .Append("(none with one repetition). Input and output rates are the engine's own counters over the measured window (RateSource says which, per cell). ")
          .Append("Latency percentiles come from the HdrHistogram interval logs (.hlog) of the valid repetitions <b>merged</b> into one histogram; ")
          .Append("the interval below is over the per-repetition percentiles. Engine CPU per million events = engine containers' CPU core-seconds / ")
          .Append("(input rate × window length / 10<sup>6</sup>). Memory = highest summed memory of the engine's containers (node peak below). ")
          .Append("<span class=\"missing\">missing</span> = not in the results file or not measured (never shown as 0).</p>\n");
        sb.Append("<div class=\"scroll\"><table class=\"summary\"><thead><tr><th>Query</th><th>System</th><th>Valid</th><th>Target, ev/s</th><th>Input, ev/s</th><th>Output, rec/s</th>")
          .Append("<th>p50, ms (merged)</th><th>p99, ms (merged)</th><th>max, ms (merged)</th><th>Engine CPU, core-s / M events</th><th>Engine memory peak, MB</th><th>Validity</th></tr></thead><tbody>\n");
        foreach (var c in m.Cells)
        {
            var key = $"{c.Query}|{c.System}";
            var fixedRows = c.Fixed.ToList();
            sb.Append("<tr data-cell=\"").Append(E(key)).Append("\"><td class=\"t\">").Append(E(c.Query)).Append("</td><td class=\"t\">").Append(Swatch(m, c.System)).Append(E(c.System)).Append("</td>");
            sb.Append("<td data-k=\"").Append(E(key)).Append("|ValidCount\" data-v=\"").Append(c.Valid.Count).Append("\">")
              .Append(fixedRows.Count == 0 ? "<span class=\"missing\">no fixed-rate cell</span>" : E($"{c.Valid.Count} of {fixedRows.Count}")).Append("</td>");
            Value(sb, key + "|TargetRate", c.TargetRate, "#,##0.##");
            Fig(sb, key + "|InputRate", c.InputRate, "#,##0.#");
            Fig(sb, key + "|OutputRate", c.OutputRate, "#,##0.#");
            foreach (var (p, name) in new[] { (50.0, "P50"), (99.0, "P99"), (100.0, "Max") })
            {
                var merged = c.MergedLatencyMs(p);
                var per = c.LatencyPerRepetition(p);
                var shown = merged ?? (per.HasValue ? per.Mean : null);
                sb.Append("<td data-k=\"").Append(E($"{key}|Latency{name}Ms")).Append("\" data-v=\"").Append(V(shown))
                  .Append("\" data-source=\"").Append(merged is not null ? "merged-hlog" : per.HasValue ? "file-mean" : "").Append("\">");
                if (merged is { } v)
                {
                    sb.Append(E(v.ToString("#,##0.0##", Inv)));
                    sb.Append("<small>").Append(E(per.Count > 1 ? $"per rep. [{per.CiLow.ToString("#,##0.0", Inv)}, {per.CiHigh.ToString("#,##0.0", Inv)}]" : "1 rep., no interval"))
                      .Append("</small>");
                }
                else if (per.HasValue)
                    sb.Append(E(per.Mean.ToString("#,##0.0##", Inv))).Append("<small>mean of file figures (no .hlog)</small>");
                else sb.Append("<span class=\"missing\">missing</span>");
                sb.Append("</td>");
            }
            Fig(sb, key + "|EngineCpuPerMillionEvents", c.EngineCpuPerMillionEvents, "#,##0.00");
            Fig(sb, key + "|EngineMemoryPeakMB", c.EngineMemoryPeakMB, "#,##0");
            var invalid = c.Invalid.ToList();
            var badSearches = c.Searches.Count(s => s.Status != "Completed");
            sb.Append("<td class=\"t\">").Append(invalid.Count + badSearches == 0
                ? "<span class=\"valid\">all valid</span>"
                : $"<span class=\"invalid\">{invalid.Count + badSearches} invalid, reasons below</span>");
            sb.Append("</td></tr>\n");
        }
        sb.Append("</tbody></table></div>\n");
        var bad = m.Cells.SelectMany(c => c.Invalid.Select(r => (c, r))).ToList();
        var badSearch = m.Cells.SelectMany(c => c.Searches.Where(s => s.Status != "Completed").Select(s => (c, s))).ToList();
        if (bad.Count + badSearch.Count > 0)
        {
            sb.Append("<h3>Invalid cells and their reasons</h3>\n<ul class=\"invalid\">\n");
            foreach (var (c, r) in bad)
                sb.Append("<li class=\"invalid\" data-invalid=\"").Append(E($"{c.Query}|{c.System}|{r.Repetition}|{r.Step}")).Append("\">")
                  .Append(E($"{c.Query} {c.System} repetition {r.Repetition}{(r.Step > 0 ? $" step {r.Step}" : "")}, {(r.Status.Length > 0 ? r.Status : "status missing")}: "))
                  .Append(E(r.InvalidReason.Length > 0 ? r.InvalidReason : r.Valid is null ? "validity missing from the file" : "no reason recorded")).Append("</li>\n");
            foreach (var (c, s) in badSearch)
                sb.Append("<li class=\"invalid\">").Append(E($"{c.Query} {c.System} search {s.Repetition}, {s.Status}: {s.Reason}")).Append("</li>\n");
            sb.Append("</ul>\n");
        }
        sb.Append("</section>\n");
    }

    private static void Rates(StringBuilder sb, ReportModel m)
    {
        sb.Append("<section id=\"rates\"><h2>Achieved vs target rate</h2>\n");
        if (!m.Cells.Any(c => c.Fixed.Any())) { sb.Append("<p class=\"note\">No fixed-rate cells in these results.</p></section>\n"); return; }
        sb.Append("<figure>").Append(ReportCharts.RateChart(m))
          .Append("<figcaption>Bars: mean input rate of the valid repetitions per query, engines side by side; error bars: 95 % interval; dashed line: the generator's target rate.</figcaption></figure></section>\n");
    }

    private static void Latency(StringBuilder sb, ReportModel m)
    {
        sb.Append("<section id=\"latency\"><h2>Latency percentile distribution</h2>\n<p class=\"note\">End-to-end latency on the broker's clock (see LatencyReference and LatencyClock per cell), ")
          .Append("from each query's valid repetitions' HdrHistogram interval logs added together.</p>\n");
        var any = false;
        foreach (var q in m.Queries)
        {
            if (!m.Cells.Any(c => c.Query.Equals(q, StringComparison.OrdinalIgnoreCase) && c.MergedHistogram is not null)) continue;
            any = true;
            sb.Append("<figure>").Append(ReportCharts.LatencyChart(m, q)).Append("<figcaption>")
              .Append(E(string.Join("; ", m.Systems.Select(s => m.Cell(q, s)).Where(c => c is not null).Select(c =>
                  $"{c!.System}: {c.MergedCount} repetition(s) merged, reference: {c.Valid.Select(r => r.LatencyReference).FirstOrDefault(x => x.Length > 0) ?? "missing"}"))))
              .Append("</figcaption></figure>\n");
        }
        if (!any) sb.Append("<p class=\"note\">No valid repetition has a latency histogram (.hlog beside the results file).</p>\n");
        sb.Append("</section>\n");
    }

    private static void Sustainable(StringBuilder sb, ReportModel m)
    {
        sb.Append("<section id=\"sustainable\"><h2>Sustainable rate</h2>\n");
        var cells = m.Cells.Where(c => c.Searches.Count > 0).ToList();
        if (cells.Count == 0) { sb.Append("<p class=\"note\">No sustainable-rate searches in these results (Invoke-Benchmark -Mode Sustainable).</p></section>\n"); return; }
        sb.Append("<p class=\"note\">A step search measures isolated steps; the engine's limit lies between the highest passing rate (a lower bound) and the lowest failing rate ")
          .Append("(an upper bound). LimitedBy says what bounded it; Generator means the load driver could not go faster, so the engine's limit is above the lower bound, not measured.</p>\n");
        sb.Append("<figure>").Append(ReportCharts.SustainableChart(m)).Append("<figcaption>Bars: highest passing rate (lower bound); ▼: lowest failing rate (upper bound); dotted: the bracket.</figcaption></figure>\n");
        sb.Append("<div class=\"scroll\"><table><thead><tr><th>Query</th><th>System</th><th>Rep.</th><th>Status</th><th>Lower bound (passed), ev/s</th><th>Upper bound (failed), ev/s</th><th>Limited by</th><th>Steps</th><th>Reason</th></tr></thead><tbody>\n");
        foreach (var c in cells)
            foreach (var s in c.Searches)
            {
                var key = $"{c.Query}|{c.System}|{s.Repetition}";
                sb.Append("<tr><td class=\"t\">").Append(E(c.Query)).Append("</td><td class=\"t\">").Append(E(c.System)).Append("</td><td>").Append(s.Repetition).Append("</td><td class=\"t\">").Append(E(s.Status)).Append("</td>");
                Value(sb, key + "|SustainableRate", s.SustainableRate, "#,##0.##", s.SustainableRate is null ? "none passed" : null);
                Value(sb, key + "|FailingRate", s.FailingRate, "#,##0.##", s.FailingRate is null ? "none failed" : null);
                sb.Append("<td class=\"t\">").Append(E(s.LimitedBy)).Append("</td><td class=\"t\">").Append(E(s.StepRates)).Append("</td><td class=\"t\">").Append(E(s.Reason)).Append("</td></tr>\n");
            }
        sb.Append("</tbody></table></div></section>\n");
    }

    private static void Nodes(StringBuilder sb, ReportModel m)
    {
        sb.Append("<section id=\"nodes\"><h2>Nodes over time</h2>\n");
        if (m.Samples.Count == 0)
        {
            sb.Append("<p class=\"note\">").Append(m.MetricsPath is null ? "No node metrics were given (-MetricsPath metrics.jsonl from Get-ClusterMetric -Path)." : "The metrics file holds no node samples.").Append("</p></section>\n");
            return;
        }
        var throttled = m.Samples.Where(s => s.Throttled == true).ToList();
        var throttledNodes = string.Join(", ", throttled.Select(s => s.Node).Distinct());
        var throttledText = throttled.Count == 0 ? " (none)." : $" ({throttled.Count}: {throttledNodes}).";
        sb.Append("<p class=\"note\">").Append(E($"{m.Samples.Count} samples of {m.Samples.Select(s => s.Node).Distinct().Count()} node(s) from Get-ClusterMetric (/proc over SSH; temperature and throttling from vcgencmd). "))
          .Append("Grey bands: the measured windows of the cells in these results; red dashed lines: samples where a throttling condition was active")
          .Append(E(throttledText))
          .Append("</p>\n");
        sb.Append("<figure>").Append(ReportCharts.NodeChart(m, "CPU busy (all cores)", "%", s => s.CpuPercent)).Append("</figure>\n");
        sb.Append("<figure>").Append(ReportCharts.NodeChart(m, "Memory used", "MB", s => s.MemoryUsedMB)).Append("</figure>\n");
        sb.Append("<figure>").Append(ReportCharts.NodeChart(m, "SoC temperature", "°C", s => s.TemperatureC)).Append("</figure>\n");
        sb.Append("<figure>").Append(ReportCharts.NodeChart(m, "Network, received + sent (physical interfaces)", "MB/s",
            s => s.NetworkRxBytesPerSec is null && s.NetworkTxBytesPerSec is null ? null : ((s.NetworkRxBytesPerSec ?? 0) + (s.NetworkTxBytesPerSec ?? 0)) / 1e6)).Append("</figure>\n");
        sb.Append("</section>\n");
    }

    private static void Repetitions(StringBuilder sb, ReportModel m)
    {
        sb.Append("<section id=\"repetitions\"><h2>Every cell, as in the results files</h2>\n<p class=\"note\">One row per query, repetition and step, figures exactly as recorded ")
          .Append("(latency from the file; the summary's latency comes from the merged .hlog).</p>\n");
        sb.Append("<div class=\"scroll\"><table><thead><tr><th>System</th><th>Query</th><th>Rep.</th><th>Step</th><th>Status</th><th>Valid</th><th>Target</th><th>Input</th><th>Output</th><th>p50 ms</th><th>p99 ms</th><th>max ms</th>")
          .Append("<th>Engine core-s</th><th>Cluster core-s</th><th>Engine MB</th><th>Node MB</th><th>Window s</th><th>Reason</th></tr></thead><tbody>\n");
        foreach (var r in m.Runs.SelectMany(x => x.Rows))
        {
            var key = $"{r.Query}|{r.System}|{r.Repetition}|{r.Step}";
            sb.Append("<tr data-row=\"").Append(E(key)).Append("\"><td class=\"t\">").Append(E(r.System)).Append("</td><td class=\"t\">").Append(E(r.Query)).Append("</td><td>")
              .Append(r.Repetition).Append("</td><td>").Append(r.Step).Append("</td><td class=\"t\">").Append(E(r.Status)).Append("</td><td class=\"t ")
              .Append(r.Valid == true ? "valid\">yes" : r.Valid == false ? "invalid\">no" : "missing\">missing").Append("</td>");
            Value(sb, key + "|TargetRate", r.TargetRate, "#,##0.##");
            Value(sb, key + "|InputRate", r.InputRate, "#,##0.##");
            Value(sb, key + "|OutputRate", r.OutputRate, "#,##0.##");
            Value(sb, key + "|LatencyP50Ms", r.LatencyP50Ms, "#,##0.###");
            Value(sb, key + "|LatencyP99Ms", r.LatencyP99Ms, "#,##0.###");
            Value(sb, key + "|LatencyMaxMs", r.LatencyMaxMs, "#,##0.###");
            Value(sb, key + "|EngineCpuCoreSeconds", r.EngineCpuCoreSeconds, "#,##0.###");
            Value(sb, key + "|CpuCoreSeconds", r.CpuCoreSeconds, "#,##0.###");
            Value(sb, key + "|EngineMemoryPeakMB", r.EngineMemoryPeakMB, "#,##0.#");
            Value(sb, key + "|MemoryPeakMB", r.MemoryPeakMB, "#,##0.#");
            Value(sb, key + "|DurationS", r.DurationS, "#,##0.###");
            sb.Append("<td class=\"t reason\">").Append(E(r.InvalidReason)).Append("</td></tr>\n");
        }
        sb.Append("</tbody></table></div></section>\n");
    }

    private static void Provenance(StringBuilder sb, ReportModel m)
    {
        sb.Append("<section id=\"provenance\"><h2>Provenance</h2>\n");
        foreach (var run in m.Runs)
        {
            sb.Append("<h3>").Append(Swatch(m, run.System)).Append(E($"{run.System}: {(run.SourcePath.Length > 0 ? Path.GetFileName(run.SourcePath) : "pipeline objects")}")).Append("</h3>\n");
            sb.Append("<div class=\"scroll\"><table class=\"prov\"><tbody>\n");
            foreach (var (name, value) in run.Provenance)
                sb.Append("<tr><th>").Append(E(name)).Append("</th><td class=\"t\">").Append(value.Length == 0 ? "<span class=\"missing\">missing</span>" : E(value)).Append("</td></tr>\n");
            foreach (var (image, reference) in run.Images.OrderBy(kv => kv.Key, StringComparer.Ordinal))
                sb.Append("<tr><th>").Append(E("image " + image)).Append("</th><td class=\"t\"><code>").Append(E(reference)).Append("</code></td></tr>\n");
            sb.Append("</tbody></table></div>\n");
            if (run.MissingFields.Count > 0)
                sb.Append("<p class=\"note\">Not in this file (shown as missing): ").Append(E(string.Join(", ", run.MissingFields))).Append(".</p>\n");
            if (run.Nodes.Count > 0)
            {
                var cols = run.Nodes.SelectMany(n => n.Keys).Distinct(StringComparer.Ordinal).ToList();
                sb.Append("<div class=\"scroll\"><table class=\"nodes\"><thead><tr>");
                foreach (var c in cols) sb.Append("<th>").Append(E(c)).Append("</th>");
                sb.Append("</tr></thead><tbody>\n");
                foreach (var n in run.Nodes)
                {
                    sb.Append("<tr>");
                    foreach (var c in cols)
                        sb.Append("<td class=\"t\">").Append(n.TryGetValue(c, out var v) && v.Length > 0 ? E(v) : "<span class=\"missing\">missing</span>").Append("</td>");
                    sb.Append("</tr>\n");
                }
                sb.Append("</tbody></table></div>\n");
            }
            else sb.Append("<p class=\"note\">No node facts recorded (run with -NoMetrics, or pipeline objects).</p>\n");
        }
        sb.Append("</section>\n");
    }

    private static string Swatch(ReportModel m, string system) =>
        $"<span class=\"sys\" style=\"background:{ReportCharts.SystemColor(m, system)}\"></span>";

    private static void Value(StringBuilder sb, string key, double? v, string format, string? missingText = null)
    {
        sb.Append("<td data-k=\"").Append(E(key)).Append("\" data-v=\"").Append(V(v)).Append("\">")
          .Append(v is { } x ? E(x.ToString(format, Inv)) : $"<span class=\"missing\">{E(missingText ?? "missing")}</span>").Append("</td>");
    }

    private static void Fig(StringBuilder sb, string key, Figure f, string format)
    {
        sb.Append("<td data-k=\"").Append(E(key)).Append("\" data-v=\"").Append(f.HasValue ? V(f.Mean) : "").Append("\" data-n=\"").Append(f.Count).Append("\">");
        if (!f.HasValue) { sb.Append("<span class=\"missing\">missing</span></td>"); return; }
        sb.Append(E(f.Mean.ToString(format, Inv))).Append("<small>")
          .Append(E(f.Count > 1 ? $"[{f.CiLow.ToString(format, Inv)}, {f.CiHigh.ToString(format, Inv)}] n={f.Count}" : "n=1, no interval")).Append("</small></td>");
    }

    private static string V(double? v) => v is { } x ? x.ToString("R", Inv) : "";

    private static string E(string s) => WebUtility.HtmlEncode(s);
}
