using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace PiBench.StandIns;

/// <summary>
/// A stand-in for Apache Flink 1.18.1: the SQL Gateway (its own port, /v1 and /v2: sessions, statements, operation status
/// and results where an INSERT's result carries <c>jobID</c>, EXPLAIN, parse and validation errors with positions) and the
/// JobManager REST API (another port: jobs with chained vertices, vertex/subtask metrics served from a metric cache with
/// string values, cancel, stop with savepoint, TaskManagers, /jobmanager/config). Errors are
/// <c>{"errors": ["…", "…stack…"]}</c>. Each GET /jobs/:jid advances the job one state along its script, so tests see
/// every state. Behaviours follow apache/flink release-1.18 (files named at each one) and shared/reference/flink.md.
/// </summary>
public sealed class FlinkStandIn : IDisposable
{
    private readonly object _gate = new();
    private readonly Dictionary<string, Session> _sessions = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Job> _jobs = new(StringComparer.Ordinal);
    private int _next;

    public FlinkStandIn()
    {
        Rest = new StandInHttpServer("flink-jobmanager", HandleRest);
        Gateway = new StandInHttpServer("flink-sql-gateway", HandleGateway);
    }

    /// <summary>JobManager REST (8081 in production).</summary>
    public StandInHttpServer Rest { get; }
    /// <summary>SQL Gateway (8083 in production).</summary>
    public StandInHttpServer Gateway { get; }
    public Uri RestUri => Rest.BaseUri;
    public Uri GatewayUri => Gateway.BaseUri;

    /// <summary>The stand-in's clock (counters, meters, the metric cache); tests may move it forward.</summary>
    public Func<DateTimeOffset> Clock { get; set; } = () => DateTimeOffset.UtcNow;

    /// <summary>States a new job walks through, one per GET /jobs/:jid; the last one stays.</summary>
    public List<string> StartStates { get; set; } = ["INITIALIZING", "CREATED", "RUNNING"];
    /// <summary>When set, new jobs fail (RUNNING → FAILING → FAILED) with this root cause.</summary>
    public string? FailWith { get; set; }
    /// <summary>Statements containing this text fail: status ERROR, result fetch HTTP 500 with <see cref="StatementError"/> as root cause.</summary>
    public string? RejectStatementContaining { get; set; }
    public string StatementError { get; set; } = "org.apache.flink.table.api.ValidationException: Object 'nope' not found within 'default_catalog.default_database'";
    /// <summary>Connectors whose jar is missing: planning a table that uses one fails ("Could not find any factory for identifier").</summary>
    public HashSet<string> MissingConnectors { get; } = new(StringComparer.OrdinalIgnoreCase);
    /// <summary>How many result fetches of an INSERT answer NOT_READY first.</summary>
    public int NotReadyFetches { get; set; } = 1;
    /// <summary>Records/s the source operator of subtask i emits: SourceRate + i (its numRecordsOut counter grows at that rate while RUNNING).</summary>
    public double SourceRate { get; set; } = 2000;
    /// <summary>Records into the sink operator per record out of the sources (a filter's or an aggregation's selectivity).</summary>
    public double OutputRatio { get; set; } = 0.5;
    /// <summary>backPressuredTimeMsPerSecond of the source subtasks.</summary>
    public double BackPressuredMsPerSecond { get; set; } = 500;
    /// <summary>When set, stop-with-savepoint completes with this failure cause.</summary>
    public string? SavepointFailure { get; set; }
    public int TaskManagers { get; set; } = 9;

    /// <summary>
    /// <c>metrics.fetcher.update-interval</c> of the JobManager: null = not configured (MetricOptions' default, 10 s, and
    /// absent from /jobmanager/config, which lists explicitly set keys only); set = configured (the deploy sets 1 s).
    /// </summary>
    public TimeSpan? MetricCacheInterval { get; set; }
    private TimeSpan EffectiveCacheInterval => MetricCacheInterval ?? TimeSpan.FromSeconds(10);
    /// <summary>Metric fetches after RUNNING whose snapshot holds only the task-level metrics (operators not yet registered).</summary>
    public int PartialFetchesAfterRunning { get; set; } = 1;

    /// <summary>TaskManager (1-based) that runs subtask i of a vertex; default round robin over <see cref="TaskManagers"/>.
    /// Return 0 for "the JobManager host" (192.168.2.70) to stand in for everything placed on the controller.</summary>
    public Func<int, int>? PlaceSubtask { get; set; }
    private int TaskManagerOf(int subtask) => PlaceSubtask?.Invoke(subtask) ?? subtask % TaskManagers + 1;
    /// <summary>TaskManager i's host (i = 0: the JobManager's, 192.168.2.70); data only, never contacted.</summary>
    public static string TaskManagerHost(int i) => $"192.168.2.{70 + i}";
    private static string TaskManagerId(int i) => $"{TaskManagerHost(i)}:6122-{i:x6}";

    public IReadOnlyList<RecordedRequest> GatewayRequests => Gateway.Requests;
    public IReadOnlyList<RecordedRequest> RestRequests => Rest.Requests;

    public sealed record SessionInfo(string Handle, IReadOnlyDictionary<string, string> Properties, IReadOnlyList<string> Statements,
        IReadOnlyList<JsonObject?> ExecutionConfigs, bool Closed);

    public sealed record JobInfo(string Id, string Name, int Parallelism, string State, IReadOnlyList<string> StatesSeen, string? CancelMode,
        bool StopRequested, JsonObject? StopBody, IReadOnlyList<string> VertexNames);

    public IReadOnlyList<SessionInfo> Sessions
    {
        get { lock (_gate) return _sessions.Values.Select(s => new SessionInfo(s.Handle, s.Properties, s.Statements.ToList(), s.Configs.ToList(), s.Closed)).ToList(); }
    }

    public IReadOnlyList<JobInfo> Jobs
    {
        get
        {
            lock (_gate)
                return _jobs.Values.Select(j => new JobInfo(j.Id, j.Name, j.Parallelism, j.State, j.Seen.ToList(), j.CancelMode, j.StopBody is not null, j.StopBody,
                    j.Vertices.Select(v => v.Name).ToList())).ToList();
        }
    }

    /// <summary>Records the source operators of a job emitted so far (Σ subtasks), on the stand-in's clock.</summary>
    public double SourceRecordsOut(string jobId) { lock (_gate) return Enumerable.Range(0, _jobs[jobId].Parallelism).Sum(i => SourceCount(_jobs[jobId], i, Clock())); }

    /// <summary>Records the sink operators of a job received so far (Σ subtasks), on the stand-in's clock.</summary>
    public double SinkRecordsIn(string jobId) => SourceRecordsOut(jobId) * OutputRatio;

    private sealed class Session
    {
        public required string Handle;
        public Dictionary<string, string> Properties = new(StringComparer.Ordinal);
        public List<string> Statements = [];
        public List<JsonObject?> Configs = [];
        public Dictionary<string, Operation> Operations = new(StringComparer.Ordinal);
        /// <summary>Tables and views of the session's in-memory catalog: name → (columns or null = unknown, connector, options).</summary>
        public Dictionary<string, Table> Catalog = new(StringComparer.OrdinalIgnoreCase);
        public HashSet<string> Functions = new(StringComparer.OrdinalIgnoreCase);
        public bool Closed;
    }

    private sealed record Table(string Name, IReadOnlyList<string>? Columns, string Connector, string With, IReadOnlyList<Table>? Under = null)
    {
        /// <summary>The catalog tables behind this one (itself for a table; what a view reads, recursively).</summary>
        public IEnumerable<Table> Physical => Under is null ? [this] : Under.SelectMany(u => u.Physical);
    }

    private sealed class Operation
    {
        public required string Handle;
        public required string Statement;
        public string? JobId;
        public string? Error;
        public string? Plan;
        public int NotReadyLeft;
    }

    private sealed record Vertex(string Id, string Name, bool Source, bool Sink, IReadOnlyList<string> Operators);

    private sealed class Job
    {
        public required string Id;
        public required string Name;
        public int Parallelism;
        public Queue<string> Pending = new();
        public string State = "INITIALIZING";
        public List<string> Seen = [];
        public string? Failure;
        public string? CancelMode;
        public JsonObject? StopBody;
        public string? SavepointId;
        public int SavepointPolls;
        public long Start;
        public DateTimeOffset? RunningSince;
        public int FetchesSinceRunning;
        public List<Vertex> Vertices = [];
        public bool SinkV2;

        public void Advance(DateTimeOffset now)
        {
            if (Pending.Count == 0) return;
            State = Pending.Dequeue();
            Seen.Add(State);
            if (State == "RUNNING" && RunningSince is null) RunningSince = now;
        }

        public bool Terminal => State is "FAILED" or "CANCELED" or "FINISHED";
    }

    private static StandInResponse Errors(int status, params string[] errors) =>
        StandInResponse.Json(new JsonObject { ["errors"] = new JsonArray(errors.Select(e => (JsonNode)JsonValue.Create(e)!).ToArray()) }, status);

    // ---------------------------------------------------------------- SQL Gateway

    private StandInResponse HandleGateway(RecordedRequest r)
    {
        var path = r.Path.TrimEnd('/');
        lock (_gate)
        {
            if (path is "/v1/info" or "/v2/info") return StandInResponse.Json(new JsonObject { ["productName"] = "Apache Flink", ["version"] = "1.18.1" });
            if (path == "/api_versions") return StandInResponse.Json(new JsonObject { ["versions"] = new JsonArray("v1", "v2") });
            if (path is "/v1/sessions" or "/v2/sessions" && r.Method == "POST")
            {
                var s = new Session { Handle = Guid.NewGuid().ToString() };
                foreach (var (k, v) in r.Json?["properties"] as JsonObject ?? []) s.Properties[k] = v?.GetValue<string>() ?? "";
                _sessions[s.Handle] = s;
                return StandInResponse.Json(new JsonObject { ["sessionHandle"] = s.Handle });
            }
            var m = Regex.Match(path, @"^/v[12]/sessions/(?<sh>[^/]+)(?<rest>/.*)?$");
            if (!m.Success) return Errors(404, "Not found: " + path);
            if (!_sessions.TryGetValue(m.Groups["sh"].Value, out var session) || session.Closed)
                return Errors(500, "Internal server error.", $"<Exception on server side:\norg.apache.flink.table.gateway.api.utils.SqlGatewayException: Session '{m.Groups["sh"].Value}' does not exist.\n>");
            var rest = m.Groups["rest"].Value;
            if (rest == "" && r.Method == "DELETE") { session.Closed = true; return StandInResponse.Json(new JsonObject { ["status"] = "CLOSED" }); }
            if (rest == "" && r.Method == "GET") return StandInResponse.Json(new JsonObject { ["properties"] = new JsonObject(session.Properties.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)JsonValue.Create(kv.Value)))) });
            if (rest == "/heartbeat") return StandInResponse.Json(new JsonObject());
            if (rest == "/statements" && r.Method == "POST") return Statement(session, r);
            var o = Regex.Match(rest, @"^/operations/(?<oh>[^/]+)/(?<what>status|result/(?<token>\d+)|cancel|close)$");
            if (!o.Success || !session.Operations.TryGetValue(o.Groups["oh"].Value, out var op)) return Errors(404, "Operation not found");
            var what = o.Groups["what"].Value;
            // OperationStatus (flink-sql-gateway-api OperationStatus.java): a failed operation is ERROR.
            if (what == "status") return StandInResponse.Json(new JsonObject { ["status"] = op.Error is not null ? "ERROR" : "FINISHED" });
            if (what == "cancel") return StandInResponse.Json(new JsonObject { ["status"] = "CANCELED" });
            if (what == "close") return StandInResponse.Json(new JsonObject { ["status"] = "CLOSED" });
            return Result(session, op, int.Parse(o.Groups["token"].Value, CultureInfo.InvariantCulture));
        }
    }

    private StandInResponse Statement(Session session, RecordedRequest r)
    {
        var statement = r.Json?["statement"]?.GetValue<string>();
        if (statement is null) return Errors(400, "Field 'statement' is required");
        session.Statements.Add(statement);
        session.Configs.Add(r.Json?["executionConfig"] as JsonObject is { } c ? (JsonObject)c.DeepClone() : null);
        // The gateway submits every statement as an asynchronous operation (OperationManager.submitOperation, release-1.18):
        // parse and validation errors surface when its result is fetched, never on this POST.
        var op = new Operation { Handle = Guid.NewGuid().ToString(), Statement = statement };
        session.Operations[op.Handle] = op;
        if (RejectStatementContaining is not null && statement.Contains(RejectStatementContaining, StringComparison.Ordinal))
        {
            op.Error = StatementError;
            return StandInResponse.Json(new JsonObject { ["operationHandle"] = op.Handle });
        }
        op.Error = Plan(session, statement, out var insert);
        if (op.Error is null && insert is not null)
        {
            if (Regex.IsMatch(statement, @"^\s*EXPLAIN\b", RegexOptions.IgnoreCase))
                op.Plan = $"== Abstract Syntax Tree ==\nLogicalSink(table=[default_catalog.default_database.{insert.Sink}])\n\n== Optimized Execution Plan ==\nSink(table=[default_catalog.default_database.{insert.Sink}])\n";
            else StartJob(session, r, op, statement, insert);
        }
        return StandInResponse.Json(new JsonObject { ["operationHandle"] = op.Handle });
    }

    private sealed record Insert(string Sink, bool Stateful, IReadOnlyList<Table> Sources);

    private void StartJob(Session session, RecordedRequest r, Operation op, string statement, Insert insert)
    {
        var n = Interlocked.Increment(ref _next);
        var sinkTable = session.Catalog.TryGetValue(insert.Sink, out var t) ? t : null;
        var job = new Job
        {
            Id = n.ToString("x32", CultureInfo.InvariantCulture),
            Name = (r.Json?["executionConfig"]?["pipeline.name"]?.GetValue<string>()) ?? (session.Properties.TryGetValue("pipeline.name", out var pn) ? pn : "insert-into_default_catalog.default_database." + insert.Sink),
            Parallelism = int.Parse(session.Properties.TryGetValue("parallelism.default", out var p) ? p : "1", CultureInfo.InvariantCulture),
            Failure = FailWith,
            Start = Clock().ToUnixTimeMilliseconds(),
            // The Kafka table sink is a Sink-V2 (KafkaSink: SinkWriter + Committer); blackhole is a legacy SinkFunction in 1.18
            // (BlackHoleTableSinkFactory → SinkFunctionProvider).
            SinkV2 = sinkTable?.Connector.Equals("kafka", StringComparison.OrdinalIgnoreCase) == true,
        };
        // KafkaSourceBuilder (flink-connector-kafka 3.x): without 'scan.startup.mode' the table source starts from the group's
        // committed offsets with OffsetResetStrategy.NONE, so a fresh group fails once the reader asks for its position.
        var noStart = insert.Sources.FirstOrDefault(s => s.Connector.Equals("kafka", StringComparison.OrdinalIgnoreCase)
            && !s.With.Contains("'scan.startup.mode'", StringComparison.Ordinal) && !s.With.Contains("'properties.auto.offset.reset'", StringComparison.Ordinal));
        if (job.Failure is null && noStart is not null)
            job.Failure = $"org.apache.kafka.clients.consumer.NoOffsetForPartitionException: Undefined offset with no reset policy for partitions: [{Regex.Match(noStart.With, @"'topic'\s*=\s*'([^']*)'").Groups[1].Value}-0]";
        job.Vertices = Topology(job, insert);
        foreach (var s in job.Failure is null ? StartStates : ["INITIALIZING", "CREATED", "RUNNING", "FAILING", "FAILED"]) job.Pending.Enqueue(s);
        _jobs[job.Id] = job;
        op.JobId = job.Id;
        op.NotReadyLeft = NotReadyFetches;
    }

    /// <summary>
    /// Chaining as the 1.18 planner and StreamingJobGraphGenerator do for these shapes: a stateless query (q0, q1, q2, q14,
    /// q21, q22) is one vertex, source → calc → sink; a stateful one (join, aggregation, window, rank) is split at its hash
    /// exchange, the sink chained into the stateful operator's vertex. Operator names follow table.exec.simplify-operator-name
    /// (default true): "Source: kafka[1]", "Calc[2]", and the sink "Sink: &lt;table&gt;[n]" (legacy SinkFunction) or, for a
    /// Sink-V2, its writer and committer "Sink: &lt;table&gt;[n]: Writer" / ": Committer" (SinkTransformationTranslator).
    /// </summary>
    private static List<Vertex> Topology(Job job, Insert insert)
    {
        var sink = $"Sink: {insert.Sink}[{(insert.Stateful ? 6 : 3)}]";
        var sinkOps = job.SinkV2 ? new[] { sink + ": Writer", sink + ": Committer" } : [sink];
        var ids = Enumerable.Range(0, 2).Select(k => Convert.ToHexString(System.Security.Cryptography.MD5.HashData(System.Text.Encoding.UTF8.GetBytes(job.Id + k))).ToLowerInvariant()).ToList();
        if (!insert.Stateful)
        {
            var ops = new List<string> { "Source: kafka[1]", "Calc[2]" };
            ops.AddRange(sinkOps);
            return [new Vertex(ids[0], string.Join(" -> ", ops), true, true, ops)];
        }
        var first = new List<string> { "Source: kafka[1]", "Calc[2]" };
        var second = new List<string> { "GroupAggregate[4]", "Calc[5]" };
        second.AddRange(sinkOps);
        return [new Vertex(ids[0], string.Join(" -> ", first), true, false, first), new Vertex(ids[1], string.Join(" -> ", second), false, true, second)];
    }

    // ------------------------------------------------------- planning (parse and validate, as far as a stand-in can)

    private static readonly Regex CreateTableRegexPattern = new(@"^\s*CREATE\s+(?:TEMPORARY\s+)?TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?`?(?<name>\w+)`?\s*\(", RegexOptions.IgnoreCase);
    private static readonly Regex CreateViewRegexPattern = new(@"^\s*CREATE\s+(?:TEMPORARY\s+)?VIEW\s+`?(?<name>\w+)`?\s+AS\s+(?<query>.*)$", RegexOptions.IgnoreCase | RegexOptions.Singleline);
    private static readonly Regex CreateFunctionRegexPattern = new(@"^\s*CREATE\s+(?:TEMPORARY\s+)?(?:SYSTEM\s+)?FUNCTION\s+(?:IF\s+NOT\s+EXISTS\s+)?`?(?<name>\w+)`?", RegexOptions.IgnoreCase);
    private static readonly Regex InsertRegexPattern = new(@"^\s*(?:EXPLAIN\s+)?INSERT\s+INTO\s+`?(?<sink>\w+)`?", RegexOptions.IgnoreCase);
    private static readonly Regex ConnectorRegexPattern = new(@"'connector'\s*=\s*'(?<c>[^']*)'", RegexOptions.IgnoreCase);

    private static readonly HashSet<string> Builtins = new(StringComparer.OrdinalIgnoreCase)
    {
        // keywords that can precede '('
        "AS", "IN", "ON", "AND", "OR", "NOT", "BY", "FROM", "JOIN", "TABLE", "DESCRIPTOR", "OVER", "FILTER", "WITH", "VALUES", "ROW", "EXISTS",
        "WHERE", "SELECT", "THEN", "ELSE", "WHEN", "CASE", "ARRAY", "MAP", "LATERAL", "UNNEST", "INTERVAL", "TIMESTAMP", "DECIMAL", "VARCHAR",
        "CHAR", "TIMESTAMP_LTZ", "TIME", "DATE", "BETWEEN", "HAVING", "PARTITION", "ORDER", "GROUP", "USING", "SET", "ALL", "ANY", "DISTINCT",
        // built-in functions (Flink 1.18 BuiltInFunctionDefinitions / FlinkSqlOperatorTable), those the suite uses and common ones
        "COUNT", "SUM", "MIN", "MAX", "AVG", "CAST", "TRY_CAST", "COALESCE", "IF", "IFNULL", "NULLIF", "MOD", "ABS", "FLOOR", "CEIL", "ROUND",
        "LOWER", "UPPER", "TRIM", "CONCAT", "CONCAT_WS", "SUBSTRING", "SUBSTR", "CHAR_LENGTH", "REPLACE", "REGEXP", "REGEXP_EXTRACT",
        "REGEXP_REPLACE", "SPLIT_INDEX", "DATE_FORMAT", "HOUR", "MINUTE", "SECOND", "DAYOFMONTH", "EXTRACT", "UNIX_TIMESTAMP", "TO_TIMESTAMP",
        "TO_TIMESTAMP_LTZ", "FROM_UNIXTIME", "CURRENT_TIMESTAMP", "NOW", "PROCTIME", "LOCALTIMESTAMP", "TUMBLE", "HOP", "SESSION", "CUMULATE",
        "TUMBLE_START", "TUMBLE_END", "HOP_START", "HOP_END", "SESSION_START", "SESSION_END", "TUMBLE_ROWTIME", "HOP_ROWTIME",
        "SESSION_ROWTIME", "TUMBLE_PROCTIME", "ROW_NUMBER", "RANK", "DENSE_RANK", "FIRST_VALUE", "LAST_VALUE", "LISTAGG", "STDDEV_POP",
    };

    private static readonly HashSet<string> StatementKeywords = new(StringComparer.OrdinalIgnoreCase)
    { "CREATE", "INSERT", "EXPLAIN", "SET", "RESET", "USE", "SHOW", "DROP", "ALTER", "SELECT", "DESCRIBE", "DESC", "LOAD", "UNLOAD", "ADD", "EXECUTE", "BEGIN", "END", "WITH" };

    /// <summary>
    /// The planner's verdict on one statement: null (accepted) or the server-side error text. Registers DDL in the session's
    /// in-memory catalog (GenericInMemoryCatalog per session). Checks, with positions relative to the statement as received
    /// (Calcite SqlParserPos, 1-based): the leading keyword and balanced parentheses (SqlParserException … "Encountered … at
    /// line X, column Y"), tables after FROM/JOIN/TABLE and function names (ValidationException "SQL validation failed. From
    /// line X, column Y to line X, column Z: Object 'x' not found" / "No match found for function signature"), columns of a
    /// single-source SELECT ("Column 'x' not found in any table"), and connectors whose factory is missing.
    /// </summary>
    private string? Plan(Session session, string statement, out Insert? insert)
    {
        insert = null;
        var code = Mask(statement);
        var lead = Regex.Match(code, @"^\s*(\w+)");
        if (!lead.Success || !StatementKeywords.Contains(lead.Groups[1].Value))
        {
            var at = lead.Success ? lead.Groups[1].Index : 0;
            return ParseError(statement, lead.Success ? lead.Groups[1].Value : statement.Trim(), at);
        }
        var depth = 0;
        for (var i = 0; i < code.Length; i++)
        {
            if (code[i] == '(') depth++;
            else if (code[i] == ')' && --depth < 0) return ParseError(statement, ")", i);
        }
        if (depth > 0) return ParseError(statement, "<EOF>", statement.Length);

        if (CreateTableRegexPattern.Match(code) is { Success: true } ct)
        {
            var name = ct.Groups["name"].Value;
            var withAt = Regex.Match(code, @"\)\s*WITH\s*\(", RegexOptions.IgnoreCase);
            var columnsText = withAt.Success ? code[(ct.Index + ct.Length)..withAt.Index] : code[(ct.Index + ct.Length)..];
            var columns = TopLevel(columnsText).Select(c => Regex.Match(c.Trim(), @"^`?(\w+)`?").Groups[1].Value)
                .Where(c => c.Length > 0 && !c.Equals("WATERMARK", StringComparison.OrdinalIgnoreCase) && !c.Equals("PRIMARY", StringComparison.OrdinalIgnoreCase)).ToList();
            var with = withAt.Success ? statement[withAt.Index..] : "";
            session.Catalog[name] = new Table(name, columns, ConnectorRegexPattern.Match(with).Groups["c"].Value, with);
            return null;
        }
        if (CreateFunctionRegexPattern.Match(code) is { Success: true } cf) { session.Functions.Add(cf.Groups["name"].Value); return null; }
        if (CreateViewRegexPattern.Match(code) is { Success: true } cv)
        {
            var error = Validate(session, statement, code, out var under);
            if (error is not null) return error;
            session.Catalog[cv.Groups["name"].Value] = new Table(cv.Groups["name"].Value, ViewColumns(cv.Groups["query"].Value), "view", "", under);
            return null;
        }
        if (InsertRegexPattern.Match(code) is { Success: true } ins)
        {
            var sink = ins.Groups["sink"].Value;
            if (!session.Catalog.ContainsKey(sink)) return ValidationError(statement, $"Object '{sink}' not found", ins.Groups["sink"].Index, sink.Length);
            var error = Validate(session, statement, code, out var read);
            if (error is not null) return error;
            var sources = read.SelectMany(t => t.Physical).Distinct().ToList();
            foreach (var t in sources.Append(session.Catalog[sink]).Where(t => MissingConnectors.Contains(t.Connector)))
                return ServerError(
                    $"org.apache.flink.table.api.ValidationException: Unable to create a {(t.Name.Equals(sink, StringComparison.OrdinalIgnoreCase) ? "sink for writing" : "source for reading")} table 'default_catalog.default_database.{t.Name}'.",
                    $"org.apache.flink.table.api.ValidationException: Could not find any factory for identifier '{t.Connector}' that implements 'org.apache.flink.table.factories.DynamicTableFactory' in the classpath.");
            var stateful = Regex.IsMatch(code, @"\b(JOIN|GROUP\s+BY|OVER|TUMBLE|HOP|SESSION|CUMULATE)\b", RegexOptions.IgnoreCase);
            insert = new Insert(sink, stateful, sources);
        }
        return null;
    }

    /// <summary>Blanks string literals and comments (same length), so positions stay where they are.</summary>
    private static string Mask(string sql)
    {
        var chars = sql.ToCharArray();
        for (var i = 0; i < chars.Length; i++)
        {
            if (chars[i] == '\'')
            {
                var j = i + 1;
                while (j < chars.Length)
                {
                    if (chars[j] == '\'' && j + 1 < chars.Length && chars[j + 1] == '\'') { j += 2; continue; }
                    if (chars[j] == '\'') break;
                    j++;
                }
                for (var k = i + 1; k < Math.Min(j, chars.Length); k++) if (chars[k] != '\n') chars[k] = ' ';
                i = j;
            }
            else if (chars[i] == '-' && i + 1 < chars.Length && chars[i + 1] == '-')
                while (i < chars.Length && chars[i] != '\n') chars[i++] = ' ';
        }
        return new string(chars);
    }

    /// <summary>The identifier before the innermost '(' still open at <paramref name="index"/> ("" if none).</summary>
    private static string EnclosingCall(string code, int index)
    {
        var depth = 0;
        for (var i = index - 1; i >= 0; i--)
        {
            if (code[i] == ')') depth++;
            else if (code[i] == '(' && depth-- == 0) return Regex.Match(code[..i], @"(\w+)\s*$").Groups[1].Value;
        }
        return "";
    }

    private static List<string> TopLevel(string text)
    {
        var parts = new List<string>();
        var depth = 0;
        var angle = 0;
        var start = 0;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c == '(') depth++;
            else if (c == ')') depth--;
            else if (c == '<') angle++;
            else if (c == '>') angle--;
            else if (c == ',' && depth == 0 && angle == 0) { parts.Add(text[start..i]); start = i + 1; }
        }
        parts.Add(text[start..]);
        return parts;
    }

    /// <summary>Output columns of a view's SELECT list: the alias, else the last part of a (dotted) name; null if any is an expression without alias.</summary>
    private static List<string>? ViewColumns(string query)
    {
        var m = Regex.Match(query, @"^\s*SELECT\s+(?<list>.*?)\s+FROM\s", RegexOptions.IgnoreCase | RegexOptions.Singleline);
        if (!m.Success) return null;
        var columns = new List<string>();
        foreach (var item in TopLevel(m.Groups["list"].Value))
        {
            var alias = Regex.Match(item, @"\bAS\s+`?(\w+)`?\s*$", RegexOptions.IgnoreCase);
            if (alias.Success) { columns.Add(alias.Groups[1].Value); continue; }
            var name = Regex.Match(item.Trim(), @"^`?(?:\w+`?\.`?)*(\w+)`?$");
            if (!name.Success) return null;
            columns.Add(name.Groups[1].Value);
        }
        return columns;
    }

    private string? Validate(Session session, string statement, string code, out List<Table> sources)
    {
        sources = [];
        foreach (Match t in Regex.Matches(code, @"\b(?:FROM|JOIN|TABLE)\s+`?(?<name>[A-Za-z_]\w*)`?", RegexOptions.IgnoreCase))
        {
            var name = t.Groups["name"].Value;
            if (name.Equals("TABLE", StringComparison.OrdinalIgnoreCase) || name.Equals("LATERAL", StringComparison.OrdinalIgnoreCase)) continue;
            if (EnclosingCall(code, t.Index).ToUpperInvariant() is "EXTRACT" or "TRIM" or "SUBSTRING" or "OVERLAY" or "POSITION") continue; // FROM inside a call
            if (!session.Catalog.TryGetValue(name, out var table))
                return ValidationError(statement, $"Object '{name}' not found", t.Groups["name"].Index, name.Length);
            sources.Add(table);
        }
        foreach (Match f in Regex.Matches(code, @"(?<![\w.`])(?<name>[A-Za-z_]\w*)\s*\("))
        {
            var name = f.Groups["name"].Value;
            if (Builtins.Contains(name) || session.Functions.Contains(name) || session.Catalog.ContainsKey(name)) continue;
            if (Regex.IsMatch(code[..f.Index], @"\b(?:INSERT\s+INTO|AS)\s*$", RegexOptions.IgnoreCase)) continue; // column lists, aliases t(a, b)
            return ValidationError(statement, $"No match found for function signature {name}(<ANY>)", f.Groups["name"].Index, name.Length);
        }
        // Columns of a simple SELECT over one table or view whose columns are known.
        var simple = Regex.Match(code, @"\bSELECT\s+(?<list>(?:(?!\bSELECT\b).)*?)\s+FROM\s+`?(?<from>\w+)`?(?<tail>(?:(?!\bSELECT\b|\bJOIN\b|,).)*)$", RegexOptions.IgnoreCase | RegexOptions.Singleline);
        if (simple.Success && session.Catalog.TryGetValue(simple.Groups["from"].Value, out var only) && only.Columns is { } known)
        {
            var listStart = simple.Groups["list"].Index;
            var offset = 0;
            foreach (var item in TopLevel(simple.Groups["list"].Value))
            {
                var bare = Regex.Match(item, @"^\s*`?(?<c>[A-Za-z_]\w*)`?\s*(?:AS\s+\w+\s*)?$", RegexOptions.IgnoreCase);
                if (bare.Success && !known.Contains(bare.Groups["c"].Value, StringComparer.OrdinalIgnoreCase) && bare.Groups["c"].Value != "*")
                    return ValidationError(statement, $"Column '{bare.Groups["c"].Value}' not found in any table", listStart + offset + bare.Groups["c"].Index, bare.Groups["c"].Length);
                offset += item.Length + 1;
            }
        }
        return null;
    }

    private static (int Line, int Column) Position(string statement, int offset)
    {
        int line = 1, column = 1;
        for (var i = 0; i < offset && i < statement.Length; i++)
        {
            if (statement[i] == '\n') { line++; column = 1; }
            else column++;
        }
        return (line, column);
    }

    /// <summary>
    /// FlinkPlannerImpl.validate wraps Calcite's CalciteContextException (SqlUtil.newContextException: "From line X, column Y
    /// to line X, column Z: …", over SqlValidatorException) in ValidationException("SQL validation failed. " + message).
    /// </summary>
    private static string ValidationError(string statement, string message, int offset, int length)
    {
        var (l1, c1) = Position(statement, offset);
        var (l2, c2) = Position(statement, offset + Math.Max(length, 1) - 1);
        var where = $"From line {l1}, column {c1} to line {l2}, column {c2}";
        return ServerError($"org.apache.flink.table.api.ValidationException: SQL validation failed. {where}: {message}",
            $"org.apache.calcite.runtime.CalciteContextException: {where}: {message}",
            $"org.apache.calcite.sql.validate.SqlValidatorException: {message}");
    }

    /// <summary>CalciteParser.parse: SqlParserException("SQL parse failed. " + message) over the generated parser's ParseException.</summary>
    private static string ParseError(string statement, string token, int offset)
    {
        var (l, c) = Position(statement, offset);
        var message = $"Encountered \"{token}\" at line {l}, column {c}.";
        return ServerError($"org.apache.flink.table.api.SqlParserException: SQL parse failed. {message}\nWas expecting one of:\n    \"ABS\" ...\n    \"ALL\" ...",
            $"org.apache.flink.sql.parser.impl.ParseException: {message}");
    }

    /// <summary>The chain the gateway returns (FetchResultsHandler → SqlExecutionException → the planner's exceptions).</summary>
    private static string ServerError(params string[] causes) => string.Join("\n", causes.Select(c => "Caused by: " + c + "\n\tat org.apache.flink.table.planner.Stub.call(Stub.java:1)"));

    private StandInResponse Result(Session session, Operation op, int token)
    {
        if (op.Error is not null)
            return Errors(500, "Internal server error.",
                "<Exception on server side:\norg.apache.flink.table.gateway.api.utils.SqlGatewayException: org.apache.flink.table.gateway.api.utils.SqlGatewayException: Failed to fetchResults.\n" +
                "\tat org.apache.flink.table.gateway.rest.handler.statement.FetchResultsHandler.handleRequest(FetchResultsHandler.java:91)\n" +
                "Caused by: org.apache.flink.table.gateway.service.utils.SqlExecutionException: Failed to execute the operation " + op.Handle + ".\n" +
                "\tat org.apache.flink.table.gateway.service.operation.OperationManager$Operation.processThrowable(OperationManager.java:414)\n" +
                (op.Error.StartsWith("Caused by: ", StringComparison.Ordinal) ? op.Error : "Caused by: " + op.Error + "\n\tat org.apache.flink.table.planner.calcite.FlinkPlannerImpl.validate(FlinkPlannerImpl.scala:188)") +
                "\n\nEnd of exception on server side>");
        var next = $"/v2/sessions/{session.Handle}/operations/{op.Handle}/result/{token + 1}?rowFormat=JSON";
        if (op.JobId is not null && op.NotReadyLeft > 0)
        {
            op.NotReadyLeft--;
            return StandInResponse.Json(new JsonObject { ["resultType"] = "NOT_READY", ["isQueryResult"] = false, ["resultKind"] = "SUCCESS_WITH_CONTENT", ["nextResultUri"] = $"/v2/sessions/{session.Handle}/operations/{op.Handle}/result/{token}?rowFormat=JSON" });
        }
        // FetchResultResponseBodyImpl: EOS carries no nextResultUri.
        if (token > 0) return StandInResponse.Json(new JsonObject { ["resultType"] = "EOS", ["isQueryResult"] = false, ["resultKind"] = "SUCCESS_WITH_CONTENT" });
        JsonObject Payload(string kind, string column, string value, string? jobId) => new()
        {
            ["resultType"] = "PAYLOAD",
            ["isQueryResult"] = false,
            ["jobID"] = jobId,
            ["resultKind"] = kind,
            ["results"] = new JsonObject
            {
                ["columns"] = new JsonArray(new JsonObject { ["name"] = column, ["logicalType"] = new JsonObject { ["type"] = "VARCHAR", ["nullable"] = true, ["length"] = 2147483647 }, ["comment"] = null }),
                ["rowFormat"] = "JSON",
                ["data"] = new JsonArray(new JsonObject { ["kind"] = "INSERT", ["fields"] = new JsonArray(value) }),
            },
            ["nextResultUri"] = next,
        };
        // OperationExecutor.callModifyOperations: one row, column "job id"; EXPLAIN: one row, column "result" with the plan.
        if (op.JobId is not null) return StandInResponse.Json(Payload("SUCCESS_WITH_CONTENT", "job id", op.JobId, op.JobId));
        if (op.Plan is not null) return StandInResponse.Json(Payload("SUCCESS_WITH_CONTENT", "result", op.Plan, null));
        return StandInResponse.Json(Payload("SUCCESS", "result", "OK", null));
    }

    // ---------------------------------------------------------------- JobManager REST

    private StandInResponse HandleRest(RecordedRequest r)
    {
        var path = r.Path.TrimEnd('/');
        if (path.StartsWith("/v1/", StringComparison.Ordinal)) path = path[3..];
        lock (_gate)
        {
            var now = Clock();
            switch (path)
            {
                case "/overview":
                    return StandInResponse.Json(new JsonObject
                    {
                        ["taskmanagers"] = TaskManagers, ["slots-total"] = TaskManagers, ["slots-available"] = TaskManagers - _jobs.Values.Count(j => !j.Terminal),
                        ["jobs-running"] = _jobs.Values.Count(j => j.State == "RUNNING"), ["jobs-finished"] = _jobs.Values.Count(j => j.State == "FINISHED"),
                        ["jobs-cancelled"] = _jobs.Values.Count(j => j.State == "CANCELED"), ["jobs-failed"] = _jobs.Values.Count(j => j.State == "FAILED"),
                        ["flink-version"] = "1.18.1", ["flink-commit"] = "a8c8b1c", ["slots-free-and-blocked"] = 0, ["taskmanagers-blocked"] = 0,
                    });
                case "/jobmanager/config":
                    // ClusterConfigHandler: the effective configuration's explicitly set keys, [{key, value}] with string values.
                    var config = new JsonArray(new JsonObject { ["key"] = "jobmanager.rpc.address", ["value"] = TaskManagerHost(0) }, new JsonObject { ["key"] = "rest.port", ["value"] = "8081" });
                    if (MetricCacheInterval is { } ci) config.Add(new JsonObject { ["key"] = "metrics.fetcher.update-interval", ["value"] = ((long)ci.TotalMilliseconds).ToString(CultureInfo.InvariantCulture) });
                    return StandInResponse.Json(config);
                case "/taskmanagers":
                    return StandInResponse.Json(new JsonObject
                    {
                        ["taskmanagers"] = new JsonArray(Enumerable.Range(1, TaskManagers).Select(i => (JsonNode)new JsonObject
                        {
                            ["id"] = TaskManagerId(i),
                            ["path"] = $"pekko.tcp://flink@192.168.2.{70 + i}:6122/user/rpc/taskmanager_0",
                            ["dataPort"] = 40000 + i, ["jmxPort"] = -1, ["timeSinceLastHeartbeat"] = 1_720_000_000_000L + i,
                            ["slotsNumber"] = 1, ["freeSlots"] = 1,
                            ["totalResource"] = new JsonObject { ["cpuCores"] = 1.0, ["taskHeapMemory"] = 537, ["taskOffHeapMemory"] = 0, ["managedMemory"] = 635, ["networkMemory"] = 159 },
                            ["freeResource"] = new JsonObject { ["cpuCores"] = 1.0, ["taskHeapMemory"] = 537, ["taskOffHeapMemory"] = 0, ["managedMemory"] = 635, ["networkMemory"] = 159 },
                            ["hardware"] = new JsonObject { ["cpuCores"] = 4, ["physicalMemory"] = 8_000_000_000L, ["freeMemory"] = 563_000_000L, ["managedMemory"] = 665_000_000L },
                            ["memoryConfiguration"] = new JsonObject { ["frameworkHeap"] = 134217728, ["taskHeap"] = 563085312 },
                            ["blocked"] = false,
                        }).ToArray()),
                    });
                case "/jobs/overview":
                    return StandInResponse.Json(new JsonObject
                    {
                        ["jobs"] = new JsonArray(_jobs.Values.Select(j => (JsonNode)new JsonObject
                        {
                            ["jid"] = j.Id, ["name"] = j.Name, ["state"] = j.State, ["start-time"] = j.Start, ["end-time"] = j.Terminal ? j.Start + 5000 : -1,
                            ["duration"] = 5000, ["last-modification"] = j.Start,
                            ["tasks"] = new JsonObject { ["total"] = j.Parallelism * j.Vertices.Count, ["running"] = j.State == "RUNNING" ? j.Parallelism * j.Vertices.Count : 0 },
                        }).ToArray()),
                    });
                case "/jobs":
                    return StandInResponse.Json(new JsonObject { ["jobs"] = new JsonArray(_jobs.Values.Select(j => (JsonNode)new JsonObject { ["id"] = j.Id, ["status"] = j.State }).ToArray()) });
            }
            var m = Regex.Match(path, @"^/jobs/(?<jid>[0-9a-f]{32})(?<rest>/.*)?$");
            if (!m.Success) return Errors(404, "Not found: " + path);
            if (!_jobs.TryGetValue(m.Groups["jid"].Value, out var job))
                return Errors(404, $"org.apache.flink.runtime.rest.handler.RestHandlerException: Job {m.Groups["jid"].Value} not found");
            var rest = m.Groups["rest"].Value;
            if (rest == "" && r.Method == "GET") { job.Advance(now); return StandInResponse.Json(JobDetails(job)); }
            if (rest == "" && r.Method == "PATCH")
            {
                var mode = r.Query.TryGetValue("mode", out var md) ? md : "cancel";
                if (mode == "stop") return new StandInResponse(308, "");
                if (job.Terminal) return Errors(409, $"Job {job.Id} is already in a terminal state {job.State}.");
                job.CancelMode = mode;
                job.Pending.Clear();
                job.Pending.Enqueue("CANCELLING");
                job.Pending.Enqueue("CANCELED");
                return StandInResponse.Json(new JsonObject(), 202);
            }
            if (rest == "/status") return StandInResponse.Json(new JsonObject { ["status"] = job.State });
            if (rest == "/exceptions")
                return StandInResponse.Json(new JsonObject
                {
                    ["root-exception"] = job.Failure is null ? null : $"org.apache.flink.runtime.JobException: Recovery is suppressed by NoRestartBackoffTimeStrategy\n\tat org.apache.flink.runtime.executiongraph.failover.flip1.ExecutionFailureHandler.handleFailure(ExecutionFailureHandler.java:176)\nCaused by: {job.Failure}\n\tat org.apache.flink.connector.kafka.source.reader.KafkaSourceReader.fetch(KafkaSourceReader.java:99)",
                    ["timestamp"] = job.Start,
                    ["all-exceptions"] = new JsonArray(),
                    ["truncated"] = false,
                    ["exceptionHistory"] = new JsonObject { ["entries"] = new JsonArray(), ["truncated"] = false },
                });
            if (rest == "/stop" && r.Method == "POST")
            {
                if (job.Terminal) return Errors(409, $"Job {job.Id} is not running.");
                job.StopBody = r.Json as JsonObject ?? new JsonObject();
                job.SavepointId = Guid.NewGuid().ToString("N");
                job.SavepointPolls = 0;
                return StandInResponse.Json(new JsonObject { ["request-id"] = job.SavepointId }, 202);
            }
            var sp = Regex.Match(rest, @"^/savepoints/(?<rid>[0-9a-f]+)$");
            if (sp.Success)
            {
                if (sp.Groups["rid"].Value != job.SavepointId) return Errors(404, "Operation not found under key: " + sp.Groups["rid"].Value);
                if (job.SavepointPolls++ == 0) return StandInResponse.Json(new JsonObject { ["status"] = new JsonObject { ["id"] = "IN_PROGRESS" } });
                if (SavepointFailure is not null)
                    return StandInResponse.Json(new JsonObject
                    {
                        ["status"] = new JsonObject { ["id"] = "COMPLETED" },
                        ["operation"] = new JsonObject { ["failure-cause"] = new JsonObject { ["class"] = "java.util.concurrent.CompletionException", ["stack-trace"] = SavepointFailure + "\n\tat org.apache.flink.runtime.scheduler.stopwithsavepoint" } },
                    });
                if (!job.Terminal) { job.Pending.Clear(); job.Pending.Enqueue("FINISHED"); }
                return StandInResponse.Json(new JsonObject
                {
                    ["status"] = new JsonObject { ["id"] = "COMPLETED" },
                    ["operation"] = new JsonObject { ["location"] = "file:///savepoints/savepoint-" + job.Id[..6] },
                });
            }
            var vd = Regex.Match(rest, @"^/vertices/(?<vid>[0-9a-f]{32})(?<what>/metrics|/subtasks/metrics)?$");
            if (!vd.Success) return Errors(404, "Not found: " + path);
            var vertex = job.Vertices.FirstOrDefault(x => x.Id == vd.Groups["vid"].Value);
            if (vertex is null) return Errors(404, "Vertex not found");
            return vd.Groups["what"].Value switch
            {
                "" => StandInResponse.Json(VertexDetails(job, vertex)),
                "/metrics" => VertexMetrics(job, vertex, r, now),
                _ => SubtaskMetrics(job, vertex, r, now),
            };
        }
    }

    private JsonObject JobDetails(Job job)
    {
        JsonObject Vertex(Vertex v) => new()
        {
            ["id"] = v.Id, ["name"] = v.Name, ["maxParallelism"] = 128, ["parallelism"] = job.Parallelism,
            ["status"] = job.State is "RUNNING" ? "RUNNING" : job.State == "CANCELLING" ? "CANCELING" : job.State == "CANCELED" ? "CANCELED" : "CREATED",
            ["start-time"] = job.Start, ["end-time"] = -1, ["duration"] = 1000,
            ["tasks"] = new JsonObject { ["RUNNING"] = job.State == "RUNNING" ? job.Parallelism : 0 },
            // IOMetricsInfo: network traffic between tasks only; a fully chained job reads and writes none.
            ["metrics"] = new JsonObject
            {
                ["read-bytes"] = 0, ["read-bytes-complete"] = true, ["write-bytes"] = 0, ["write-bytes-complete"] = true,
                ["read-records"] = 0, ["read-records-complete"] = true, ["write-records"] = 0, ["write-records-complete"] = true,
                ["accumulated-backpressured-time"] = 0, ["accumulated-idle-time"] = 0, ["accumulated-busy-time"] = 0.0,
            },
        };
        var nodes = new JsonArray();
        for (var k = job.Vertices.Count - 1; k >= 0; k--)
        {
            var node = new JsonObject { ["id"] = job.Vertices[k].Id, ["parallelism"] = job.Parallelism, ["operator"] = "", ["description"] = job.Vertices[k].Name };
            if (k > 0) node["inputs"] = new JsonArray(new JsonObject { ["num"] = 0, ["id"] = job.Vertices[k - 1].Id, ["ship_strategy"] = "HASH", ["exchange"] = "pipelined_bounded" });
            nodes.Add(node);
        }
        return new JsonObject
        {
            ["jid"] = job.Id, ["name"] = job.Name, ["isStoppable"] = false, ["state"] = job.State,
            ["start-time"] = job.Start, ["end-time"] = job.Terminal ? job.Start + 5000 : -1, ["duration"] = 5000, ["maxParallelism"] = -1,
            ["now"] = Clock().ToUnixTimeMilliseconds(),
            ["timestamps"] = new JsonObject { [job.State] = job.Start },
            ["vertices"] = new JsonArray(job.Vertices.Select(v => (JsonNode)Vertex(v)).ToArray()),
            ["status-counts"] = new JsonObject { ["RUNNING"] = job.State == "RUNNING" ? job.Vertices.Count : 0 },
            ["plan"] = new JsonObject { ["jid"] = job.Id, ["name"] = job.Name, ["type"] = "STREAMING", ["nodes"] = nodes },
        };
    }

    /// <summary>JobVertexDetailsInfo (flink.md §1.2 <c>/jobs/:jid/vertices/:vid</c>): subtasks with host, 1.18's
    /// endpoint (host:port) and taskmanager-id.</summary>
    private JsonObject VertexDetails(Job job, Vertex vertex) => new()
    {
        ["id"] = vertex.Id, ["name"] = vertex.Name,
        ["parallelism"] = job.Parallelism, ["maxParallelism"] = 128, ["now"] = Clock().ToUnixTimeMilliseconds(),
        ["subtasks"] = new JsonArray(Enumerable.Range(0, job.Parallelism).Select(i =>
        {
            var tm = TaskManagerOf(i);
            return (JsonNode)new JsonObject
            {
                ["subtask"] = i, ["status"] = job.State == "RUNNING" ? "RUNNING" : "CREATED", ["attempt"] = 0,
                ["host"] = TaskManagerHost(tm), ["endpoint"] = $"{TaskManagerHost(tm)}:{40000 + tm}",
                ["start-time"] = job.Start, ["end-time"] = -1, ["duration"] = 1000,
                ["metrics"] = new JsonObject { ["read-bytes"] = 0, ["write-bytes"] = 0, ["read-records"] = 0, ["write-records"] = 0 },
                ["taskmanager-id"] = tm == 0 ? "localhost:6122-jobmanager" : TaskManagerId(tm),
                ["status-duration"] = new JsonObject { ["RUNNING"] = 1000 },
            };
        }).ToArray()),
    };

    // ------------------------------------------------------- metrics: values, MeterView, the JobManager's metric cache

    private double SourceCount(Job job, int subtask, DateTimeOffset at) =>
        job.RunningSince is { } since && at > since ? (SourceRate + subtask) * (at - since).TotalSeconds : 0;

    /// <summary>
    /// MeterView (flink-metrics-core, release-1.18): the counter is sampled every View.UPDATE_INTERVAL_SECONDS (5 s) by the
    /// registry's ViewUpdater and the rate is (count now − count 60 s earlier) / 60, the history starting at 0, so a meter is
    /// a 60-s moving average that climbs for a minute after the start.
    /// </summary>
    private static double Meter(Func<DateTimeOffset, double> count, DateTimeOffset? since, DateTimeOffset at)
    {
        if (since is not { } s || at <= s) return 0;
        var tick = s + TimeSpan.FromSeconds(Math.Floor((at - s).TotalSeconds / 5) * 5);
        var back = tick - TimeSpan.FromSeconds(60);
        return (count(tick) - (back > s ? count(back) : 0)) / 60.0;
    }

    /// <summary>Operator names as metric-id segments: TaskMetricGroup truncates names to 80 characters
    /// (METRICS_OPERATOR_NAME_MAX_LENGTH) and MetricQueryService's filter turns ' ', '.', ':', ',' into '_'.</summary>
    private static string MetricName(string operatorName)
    {
        var name = operatorName.Length > 80 ? operatorName[..80] : operatorName;
        return Regex.Replace(name, "[ .:,]", "_");
    }

    /// <summary>The metric values of one vertex at <paramref name="at"/>, as the TaskManagers' MetricQueryService dumps them
    /// (task scope "&lt;subtask&gt;.&lt;metric&gt;", operator scope "&lt;subtask&gt;.&lt;operator&gt;.&lt;metric&gt;").</summary>
    private Dictionary<string, double> Snapshot(Job job, Vertex vertex, DateTimeOffset at, bool operators)
    {
        var values = new Dictionary<string, double>(StringComparer.Ordinal);
        var since = job.RunningSince;
        for (var i = 0; i < job.Parallelism; i++)
        {
            var subtask = i;
            double Source(DateTimeOffset t) => SourceCount(job, subtask, t);
            double Sink(DateTimeOffset t) => SourceCount(job, subtask, t) * OutputRatio;
            // Task IO (TaskIOMetricGroup): records over the network only. A source task reads none; a task whose chain ends
            // in a sink writes none; the stateful vertex reads what the source vertex sends.
            Func<DateTimeOffset, double> taskIn = vertex.Source ? _ => 0 : Source;
            Func<DateTimeOffset, double> taskOut = vertex.Sink ? _ => 0 : Source;
            values[$"{i}.numRecordsIn"] = taskIn(at);
            values[$"{i}.numRecordsOut"] = taskOut(at);
            values[$"{i}.numRecordsInPerSecond"] = Meter(taskIn, since, at);
            values[$"{i}.numRecordsOutPerSecond"] = Meter(taskOut, since, at);
            values[$"{i}.busyTimeMsPerSecond"] = 400;
            values[$"{i}.idleTimeMsPerSecond"] = 100;
            values[$"{i}.backPressuredTimeMsPerSecond"] = vertex.Source ? BackPressuredMsPerSecond : 0;
            values[$"{i}.isBackPressured"] = vertex.Source && BackPressuredMsPerSecond > 0 ? 1 : 0;
            if (!operators) continue;
            foreach (var op in vertex.Operators)
            {
                var id = $"{i}.{MetricName(op)}";
                // OperatorIOMetricGroup: a source operator counts no input, a sink writer no output (it forwards committables).
                Func<DateTimeOffset, double> opIn = op.StartsWith("Source:", StringComparison.Ordinal) ? _ => 0
                    : op.EndsWith(": Committer", StringComparison.Ordinal) ? t => Math.Floor(Source(t) / 1000) // committables, not records
                    : op.StartsWith("Sink:", StringComparison.Ordinal) ? Sink : Source;
                Func<DateTimeOffset, double> opOut = op.StartsWith("Sink:", StringComparison.Ordinal) && !op.EndsWith(": Writer", StringComparison.Ordinal) ? _ => 0
                    : op.EndsWith(": Writer", StringComparison.Ordinal) ? t => Math.Floor(Source(t) / 1000) : Source;
                values[$"{id}.numRecordsIn"] = opIn(at);
                values[$"{id}.numRecordsOut"] = opOut(at);
                values[$"{id}.numRecordsInPerSecond"] = Meter(opIn, since, at);
                values[$"{id}.numRecordsOutPerSecond"] = Meter(opOut, since, at);
                if (op.StartsWith("Source:", StringComparison.Ordinal)) values[$"{id}.pendingRecords"] = 42;
                if (op.EndsWith(": Writer", StringComparison.Ordinal)) values[$"{id}.numRecordsSend"] = opIn(at);
            }
        }
        return values;
    }

    private Dictionary<string, Dictionary<string, double>> _store = new(StringComparer.Ordinal);
    private (DateTimeOffset At, Dictionary<string, Dictionary<string, double>> Values)? _fetching;
    private DateTimeOffset _lastUpdate = DateTimeOffset.MinValue;

    /// <summary>
    /// MetricFetcherImpl.update (release-1.18) as AbstractMetricsHandler calls it before reading the MetricStore: if more than
    /// metrics.fetcher.update-interval passed since the last fetch, a fetch starts asynchronously; the request is answered from
    /// the store as it is, so it sees the previous fetch (the first request after a quiet spell sees old values, the very
    /// first none). Here the fetch completes before the next request. Right after RUNNING the operators have not registered
    /// their metrics yet (<see cref="PartialFetchesAfterRunning"/> fetches hold the task scope only).
    /// </summary>
    private Dictionary<string, Dictionary<string, double>> MetricStore(DateTimeOffset now)
    {
        if (_fetching is { } done) { _store = done.Values; _fetching = null; }
        if (now - _lastUpdate > EffectiveCacheInterval)
        {
            _lastUpdate = now;
            var values = new Dictionary<string, Dictionary<string, double>>(StringComparer.Ordinal);
            foreach (var job in _jobs.Values.Where(j => j.State == "RUNNING" && j.RunningSince is not null))
            {
                var operators = job.FetchesSinceRunning++ >= PartialFetchesAfterRunning;
                foreach (var v in job.Vertices) values[job.Id + "/" + v.Id] = Snapshot(job, v, now, operators);
            }
            _fetching = (now, values);
        }
        return _store;
    }

    private static IReadOnlyList<string> GetIds(RecordedRequest r) =>
        r.Query.TryGetValue("get", out var g) ? g.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(Uri.UnescapeDataString).ToList() : [];

    private StandInResponse VertexMetrics(Job job, Vertex vertex, RecordedRequest r, DateTimeOffset now)
    {
        // AbstractMetricsHandler: an unknown component answers an empty list; a listing without ?get= names every id; values are strings.
        if (!MetricStore(now).TryGetValue(job.Id + "/" + vertex.Id, out var all)) return StandInResponse.Json(new JsonArray());
        var ids = GetIds(r);
        if (ids.Count == 0) return StandInResponse.Json(new JsonArray(all.Keys.Select(k => (JsonNode)new JsonObject { ["id"] = k }).ToArray()));
        return StandInResponse.Json(new JsonArray(ids.Where(all.ContainsKey).Select(id =>
            (JsonNode)new JsonObject { ["id"] = id, ["value"] = all[id].ToString(CultureInfo.InvariantCulture) }).ToArray()));
    }

    private StandInResponse SubtaskMetrics(Job job, Vertex vertex, RecordedRequest r, DateTimeOffset now)
    {
        if (!MetricStore(now).TryGetValue(job.Id + "/" + vertex.Id, out var all)) return StandInResponse.Json(new JsonArray());
        var groups = all.GroupBy(m => m.Key[(m.Key.IndexOf('.') + 1)..]).ToDictionary(g => g.Key, g => g.Select(x => x.Value).ToList());
        var ids = GetIds(r);
        if (ids.Count == 0) return StandInResponse.Json(new JsonArray(groups.Keys.Select(k => (JsonNode)new JsonObject { ["id"] = k }).ToArray()));
        var aggs = r.Query.TryGetValue("agg", out var a) ? Uri.UnescapeDataString(a).Split(',') : ["min", "max", "avg", "sum"];
        return StandInResponse.Json(new JsonArray(ids.Where(groups.ContainsKey).Select(id =>
        {
            var o = new JsonObject { ["id"] = id };
            foreach (var agg in aggs)
                o[agg] = agg switch { "min" => groups[id].Min(), "max" => groups[id].Max(), "avg" => groups[id].Average(), _ => groups[id].Sum() };
            return (JsonNode)o;
        }).ToArray()));
    }

    public void Dispose()
    {
        Rest.Dispose();
        Gateway.Dispose();
    }
}
