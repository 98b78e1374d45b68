namespace PiBench.Core.Engines;

/// <summary>
/// One Nexmark query checked on a running engine without starting a job (Test-NexmarkQuery, and Invoke-Benchmark before its
/// first cell): the engine's verdict on the script PiBench would submit. Flat scalars; Line/Column are 1-based positions in
/// the rendered script (Get-NexmarkQuery's Sql follows the source DDL in it) where the engine gives one, else null.
/// </summary>
public sealed class NexmarkQueryValidation
{
    public string Name { get; init; } = "";
    public string System { get; init; } = "";
    public bool Valid { get; init; }
    /// <summary>The engine's message ("" when valid); several are joined with " | ".</summary>
    public string Message { get; init; } = "";
    public int? Line { get; init; }
    public int? Column { get; init; }
    /// <summary>Which script was checked: "plain", "captured" (Kafka result sink) or "latency" (captured, latency variant).</summary>
    public string Variant { get; init; } = "plain";
    /// <summary>How the engine checked it: Flink's SQL Gateway plans it (DDL, then EXPLAIN of the INSERT), Arroyo validates it (validate_query).</summary>
    public string Method { get; init; } = "";
    /// <summary>The checked script's line count, to read Line against.</summary>
    public int ScriptLines { get; init; }

    /// <summary>Renders <paramref name="query"/> with <paramref name="options"/> and asks the engine; engine failures (unreachable, timeout) throw.</summary>
    public static async Task<NexmarkQueryValidation> CheckAsync(IStreamEngine engine, NexmarkQuery query, NexmarkRenderOptions options, CancellationToken cancellationToken)
    {
        var script = NexmarkQueryCatalog.Default.Render(query, options);
        var verdict = await engine.ValidateAsync(script, cancellationToken).ConfigureAwait(false);
        var first = verdict.Errors.FirstOrDefault(e => e.Line is not null) ?? verdict.Errors.FirstOrDefault();
        return new NexmarkQueryValidation
        {
            Name = query.Name,
            System = query.System,
            Valid = verdict.Valid,
            Message = string.Join(" | ", verdict.Errors.Select(e => e.Message)),
            Line = first?.Line,
            Column = first?.Column,
            Variant = string.IsNullOrEmpty(options.ResultTopic) ? "plain" : options.LatencyVariant && query.LatencySql.Length > 0 ? "latency" : "captured",
            Method = engine.System == StreamSystem.Flink ? "SQL Gateway: DDL + EXPLAIN" : "validate_query",
            ScriptLines = script.Split('\n').Length,
        };
    }
}
