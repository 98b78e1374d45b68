using System.Reflection;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace PiBench.Core.Engines;

/// <summary>One Nexmark query for one engine, as Get-NexmarkQuery shows it (flat, same properties on every row).</summary>
public sealed class NexmarkQuery
{
    public string Name { get; init; } = "";
    public string System { get; init; } = "";
    public string Title { get; init; } = "";
    public string Description { get; init; } = "";
    public bool Supported { get; init; }
    /// <summary>Why an engine cannot run it, or what differs from the suite.</summary>
    public string Notes { get; init; } = "";
    /// <summary>The query resource: sink table DDL and the INSERT (empty when the engine cannot express it).</summary>
    public string Sql { get; init; } = "";
    /// <summary>Views/tables it reads, comma-separated (person, auction, bid).</summary>
    public string Inputs { get; init; } = "";
    public string SourceTable { get; init; } = "";
    public string SinkTable { get; init; } = "";
    public string Shape { get; init; } = "";
    /// <summary>True when the result is an updating (retracting) stream in Flink.</summary>
    public bool Changelog { get; init; }
    /// <summary>The suite's defaults, e.g. <c>slide=2s; size=10s</c>.</summary>
    public string Parameters { get; init; } = "";
    /// <summary>Embedded resource path of the query file, e.g. <c>Queries/Flink/q5.sql</c>.</summary>
    public string Resource { get; init; } = "";
    /// <summary>What Invoke-Benchmark measures this query's latency against (e.g. "window end"); "" = no latency figure.</summary>
    public string LatencyReference { get; init; } = "";
    /// <summary>
    /// The latency variant (sink DDL and INSERT with an extra latency_ts column) used when results are captured for a
    /// benchmark; "" when the plain query already carries its event time (q0, q1) or none exists.
    /// </summary>
    public string LatencySql { get; init; } = "";
    /// <summary>
    /// For latency against a window end: how far the source's watermark trails the event time (4 s in both DDLs), the
    /// part of the latency that is watermark policy, not engine work. 0 for queries measured against event times.
    /// </summary>
    public long WatermarkDelayMs { get; init; }
}

/// <summary>A suite default of one query and the SQL fragment that carries it in each dialect.</summary>
public sealed record NexmarkQueryParameter(string Name, string Value, string FlinkSql, string ArroyoSql);

/// <summary>What fills a query's placeholders at submit time.</summary>
public sealed record NexmarkRenderOptions
{
    /// <summary>Kafka bootstrap servers, e.g. <c>192.168.2.70:9092</c>.</summary>
    public required string BootstrapServers { get; init; }
    /// <summary>The generator's topic (one topic, all three event types).</summary>
    public string Topic { get; init; } = "nexmark";
    public string? GroupId { get; init; }
    public int Parallelism { get; init; } = 9;
    /// <summary>When set, the discarding sink is replaced by a Kafka sink writing to this topic (result capture).</summary>
    public string? ResultTopic { get; init; }
    /// <summary>With <see cref="ResultTopic"/>: use the query's latency variant (an extra latency_ts column) where there is one.</summary>
    public bool LatencyVariant { get; init; }
    /// <summary>Extra placeholder values (NEXMARK_DIR, FLINK_HOME, STARTUP_MODE, …) that override the defaults.</summary>
    public IReadOnlyDictionary<string, string>? Parameters { get; init; }
    public DateTimeOffset SubmitTime { get; init; } = DateTimeOffset.UtcNow;
}

/// <summary>
/// The Nexmark q0..q22 catalog from embedded resources: <c>Resources/Queries/catalog.json</c> (descriptions, support,
/// notes, suite parameters), <c>Queries/&lt;System&gt;/qN.sql</c> (one file per query and engine) and the shared source
/// DDL. <see cref="Render"/> builds the script an engine gets.
/// </summary>
public sealed partial class NexmarkQueryCatalog
{
    private const string Prefix = "PiBench.Core.Resources.";
    private readonly List<NexmarkQuery> _queries = [];
    private readonly Dictionary<string, IReadOnlyList<NexmarkQueryParameter>> _parameters = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<StreamSystem, IReadOnlyList<string>> _sourceFiles = [];
    private readonly Dictionary<string, string> _defaults = new(StringComparer.Ordinal);

    private static readonly Lazy<NexmarkQueryCatalog> s_default = new(() => new NexmarkQueryCatalog(typeof(NexmarkQueryCatalog).Assembly));

    /// <summary>The catalog embedded in PiBench.Core.</summary>
    public static NexmarkQueryCatalog Default => s_default.Value;

    /// <summary>q0 … q22 in order.</summary>
    public IReadOnlyList<string> Names { get; }

    public IReadOnlyList<NexmarkQuery> Queries => _queries;

    internal NexmarkQueryCatalog(Assembly assembly)
    {
        var index = JsonNode.Parse(ReadResource(assembly, "Queries/catalog.json"))!;
        var source = index["source"]!;
        foreach (var system in Enum.GetValues<StreamSystem>())
            _sourceFiles[system] = (source[system.ToString()] as JsonArray ?? []).Select(n => "Queries/" + n!.GetValue<string>()).ToList();
        foreach (var (k, v) in source["defaults"] as JsonObject ?? []) _defaults[k] = v!.GetValue<string>();
        var names = new List<string>();
        var latency = index["latency"] as JsonObject;
        var watermarkMs = source["watermark_delay_ms"]?.GetValue<long>() ?? 0;
        foreach (var q in index["queries"] as JsonArray ?? [])
        {
            var name = q!["name"]!.GetValue<string>();
            names.Add(name);
            var parameters = (q["parameters"] as JsonArray ?? []).Select(p => new NexmarkQueryParameter(
                p!["name"]!.GetValue<string>(), p["value"]!.GetValue<string>(),
                p["flink"]?.GetValue<string>() ?? "", p["arroyo"]?.GetValue<string>() ?? "")).ToList();
            _parameters[name] = parameters;
            foreach (var system in Enum.GetValues<StreamSystem>())
            {
                var resource = $"Queries/{system}/{name}.sql";
                var sql = TryReadResource(assembly, resource) ?? "";
                var latencySql = TryReadResource(assembly, $"Queries/{system}/latency/{name}.sql") ?? "";
                bool supported;
                string notes;
                if (system == StreamSystem.Reference)
                {
                    // The Reference system runs what the reference implementation knows; its output always has latency_ts.
                    supported = sql.Length > 0 && Nexmark.Reference.NexmarkReference.Names.Contains(name);
                    notes = supported
                        ? "PiBench's reference implementation in process (a correctness reference, not an engine to compare against): " + Nexmark.Reference.NexmarkReference.Query(name).Semantics
                        : "The reference implementation has no " + name + ".";
                }
                else
                {
                    var per = q[system.ToString().ToLowerInvariant()]!;
                    supported = per["supported"]!.GetValue<bool>();
                    notes = per["notes"]?.GetValue<string>() ?? "";
                }
                var latencyKey = system == StreamSystem.Reference ? "flink" : system.ToString().ToLowerInvariant();
                _queries.Add(new NexmarkQuery
                {
                    Name = name,
                    System = system.ToString(),
                    Title = q["title"]!.GetValue<string>(),
                    Description = q["description"]!.GetValue<string>(),
                    Supported = supported,
                    Notes = notes,
                    Sql = sql.Length > 0 ? StripHeader(sql) : "",
                    Inputs = string.Join(", ", (q["inputs"] as JsonArray ?? []).Select(i => i!.GetValue<string>())),
                    SourceTable = source["table"]?[system.ToString()]?.GetValue<string>() ?? "",
                    SinkTable = q["sink"]!.GetValue<string>(),
                    Shape = q["shape"]?.GetValue<string>() ?? "",
                    Changelog = q["changelog"]?.GetValue<bool>() ?? false,
                    Parameters = string.Join("; ", parameters.Select(p => $"{p.Name}={p.Value}")),
                    Resource = sql.Length > 0 ? resource : "",
                    LatencyReference = latency?[name]?[latencyKey]?.GetValue<string>() ?? "",
                    WatermarkDelayMs = latency?[name]?[latencyKey]?.GetValue<string>() == "window end" ? watermarkMs : 0,
                    LatencySql = latencySql.Length > 0 ? StripHeader(latencySql) : "",
                });
            }
        }
        Names = names;
    }

    /// <summary>Queries matching the names (wildcards, case-insensitive) and system; unknown exact names throw QueryNotFound.</summary>
    public IReadOnlyList<NexmarkQuery> Find(IEnumerable<string>? names, StreamSystem? system)
    {
        var result = new List<NexmarkQuery>();
        var patterns = names?.Where(n => !string.IsNullOrWhiteSpace(n)).ToList() ?? [];
        foreach (var pattern in patterns.Count == 0 ? ["*"] : patterns)
        {
            var regex = new Regex("^" + Regex.Escape(pattern.Trim()).Replace(@"\*", ".*").Replace(@"\?", ".") + "$", RegexOptions.IgnoreCase);
            var hits = _queries.Where(q => regex.IsMatch(q.Name) && (system is null || q.System == system.ToString())).ToList();
            if (hits.Count == 0 && !pattern.Contains('*') && !pattern.Contains('?'))
                throw NotFound(pattern);
            foreach (var h in hits) if (!result.Contains(h)) result.Add(h);
        }
        return result;
    }

    /// <summary>One query for one engine.</summary>
    public NexmarkQuery Get(string name, StreamSystem system) =>
        _queries.FirstOrDefault(q => q.Name.Equals(name.Trim(), StringComparison.OrdinalIgnoreCase) && q.System == system.ToString())
        ?? throw NotFound(name);

    public IReadOnlyList<NexmarkQueryParameter> ParametersOf(string name) =>
        _parameters.TryGetValue(name, out var p) ? p : throw NotFound(name);

    /// <summary>The source DDL files (resource paths) an engine's scripts start with.</summary>
    public IReadOnlyList<string> SourceFiles(StreamSystem system) => _sourceFiles[system];

    /// <summary>The raw text of a resource under Resources/ (e.g. <c>Queries/Flink/ddl_kafka.sql</c>).</summary>
    public static string Resource(string path) => ReadResource(typeof(NexmarkQueryCatalog).Assembly, path);

    /// <summary>
    /// The whole script for one engine: source DDL (+ views) then the query, placeholders filled, and the discarding
    /// sink swapped for a Kafka sink when <see cref="NexmarkRenderOptions.ResultTopic"/> is set. Throws QueryUnsupported
    /// for a pair the engine cannot run.
    /// </summary>
    public string Render(NexmarkQuery query, NexmarkRenderOptions options)
    {
        var system = Enum.Parse<StreamSystem>(query.System);
        if (!query.Supported || query.Sql.Length == 0)
            throw Unsupported(query);
        if (string.IsNullOrWhiteSpace(options.BootstrapServers))
            throw new PiBenchException("BootstrapServersMissing", PiBenchErrorCategory.InvalidArgument,
                "No Kafka bootstrap servers were given.", query.Name, "Pass -BootstrapServers host:9092.");
        var values = new Dictionary<string, string>(_defaults, StringComparer.Ordinal)
        {
            ["TOPIC"] = SqlScript.Literal(options.Topic),
            ["BOOTSTRAP_SERVERS"] = SqlScript.Literal(options.BootstrapServers),
            ["PARALLELISM"] = options.Parallelism.ToString(global::System.Globalization.CultureInfo.InvariantCulture),
            ["SUBMIT_TIME"] = options.SubmitTime.UtcDateTime.ToString("yyyyMMddHHmmss", global::System.Globalization.CultureInfo.InvariantCulture),
        };
        if (options.GroupId is { Length: > 0 } g) values["GROUP_ID"] = SqlScript.Literal(g);
        foreach (var (k, v) in options.Parameters ?? new Dictionary<string, string>()) values[k.ToUpperInvariant()] = SqlScript.Literal(v);

        var body = query.Sql;
        if (!string.IsNullOrWhiteSpace(options.ResultTopic))
            body = WithKafkaSink(query, system, options.ResultTopic!, options.BootstrapServers,
                options.LatencyVariant && query.LatencySql.Length > 0 ? query.LatencySql : null);
        var parts = SourceFiles(system).Select(f => StripHeader(Resource(f))).Append(body);
        return SqlScript.Render(string.Join("\n\n", parts.Select(p => p.Trim())) + "\n", values, $"{query.Name} ({query.System})");
    }

    /// <summary>Replaces the discarding sink's WITH clause with a Kafka sink (JSON, or debezium-json for updating Flink results).</summary>
    internal static string WithKafkaSink(NexmarkQuery query, StreamSystem system, string topic, string bootstrapServers, string? sql = null)
    {
        sql ??= query.Sql;
        var regex = system == StreamSystem.Flink ? FlinkBlackhole() : ArroyoBlackhole();
        if (regex.Matches(sql).Count != 1)
            throw new PiBenchException("QueryResultCaptureUnsupported", PiBenchErrorCategory.InvalidOperation,
                $"{query.Name} ({query.System}) does not write to a discarding sink, so its result cannot be captured to Kafka.",
                query.Name, "Run it without -ResultTopic.");
        var t = SqlScript.Literal(topic);
        var b = SqlScript.Literal(bootstrapServers);
        var with = system == StreamSystem.Flink
            ? $"WITH (\n  'connector' = 'kafka',\n  'topic' = '{t}',\n  'properties.bootstrap.servers' = '{b}',\n  'format' = '{(query.Changelog ? "debezium-json" : "json")}'\n)"
            : $"WITH (\n  connector = 'kafka',\n  bootstrap_servers = '{b}',\n  topic = '{t}',\n  type = 'sink',\n  format = 'json'\n)";
        return regex.Replace(sql, with.Replace("$", "$$"));
    }

    public static PiBenchException Unsupported(NexmarkQuery query) =>
        new("QueryUnsupported", PiBenchErrorCategory.InvalidOperation,
            $"{query.Name} cannot run on {query.System}: {query.Notes}", $"{query.Name}/{query.System}",
            "Run it on the other engine, or leave it out (Get-NexmarkQuery -System X shows Supported).");

    private static PiBenchException NotFound(string name) =>
        new("QueryNotFound", PiBenchErrorCategory.ObjectNotFound, $"There is no Nexmark query '{name}'.", name,
            "Use q0 … q22 (Get-NexmarkQuery lists them).");

    /// <summary>Drops the leading attribution comment block (up to its last line) so Sql shows the query itself.</summary>
    internal static string StripHeader(string sql)
    {
        var lines = sql.Replace("\r\n", "\n").Split('\n');
        var end = -1;
        for (var i = 0; i < lines.Length && lines[i].StartsWith("--", StringComparison.Ordinal); i++)
            if (lines[i].EndsWith("catalog.json.", StringComparison.Ordinal) || lines[i].EndsWith("before creating the pipeline.", StringComparison.Ordinal))
            {
                end = i;
                break;
            }
        return string.Join("\n", lines.Skip(end + 1)).Trim() + "\n";
    }

    private static string ReadResource(Assembly assembly, string path) =>
        TryReadResource(assembly, path) ?? throw new InvalidOperationException($"Embedded resource {Prefix}{path} is missing.");

    private static string? TryReadResource(Assembly assembly, string path)
    {
        using var stream = assembly.GetManifestResourceStream(Prefix + path.Replace('\\', '/'));
        if (stream is null) return null;
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    [GeneratedRegex(@"WITH\s*\(\s*'connector'\s*=\s*'blackhole'\s*\)", RegexOptions.IgnoreCase)]
    private static partial Regex FlinkBlackhole();

    [GeneratedRegex(@"WITH\s*\(\s*connector\s*=\s*'blackhole'\s*\)", RegexOptions.IgnoreCase)]
    private static partial Regex ArroyoBlackhole();
}
