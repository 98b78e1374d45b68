using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;

namespace PiBench.Core.Engines.Flink;

/// <summary>
/// Apache Flink 1.18.1: SQL through the SQL Gateway (flink.md §3: session, one statement per call, operation results,
/// an INSERT's result carries the job id) and everything about the job through the JobManager REST API (§1: job
/// state, vertex and subtask metrics, cancel, stop with savepoint, TaskManagers).
/// </summary>
public sealed partial class FlinkEngine : IStreamEngine
{
    private const int MaxGetQueryLength = 1500; // Flink's netty REST endpoint limits the request line to 4096 bytes
    private readonly EngineHttp _http;
    /// <summary>Complete metric-id listings per job/vertex (a partial one is never kept: it is asked again next time).</summary>
    private readonly ConcurrentDictionary<string, IReadOnlyList<string>> _metricIds = new(StringComparer.Ordinal);
    /// <summary>Per job: what the previous metric sample saw, to tell a cached snapshot from fresh values.</summary>
    private readonly ConcurrentDictionary<string, SampleMark> _lastSample = new(StringComparer.Ordinal);
    private TimeSpan? _cacheInterval;

    /// <summary>MetricOptions.METRIC_FETCHER_UPDATE_INTERVAL's default (apache/flink release-1.18, 10000 ms).</summary>
    public static readonly TimeSpan DefaultMetricCacheInterval = TimeSpan.FromSeconds(10);
    /// <summary>MeterView's default time span (flink-metrics-core MeterView, 60 s): every <c>…PerSecond</c> meter averages over it.</summary>
    public static readonly TimeSpan MeterSpan = TimeSpan.FromSeconds(60);

    private sealed record SampleMark(DateTimeOffset RequestedAt, string Fingerprint, DateTimeOffset? TakenAfter, DateTimeOffset TakenBefore);

    public FlinkEngine(StreamEngineSettings settings, HttpMessageHandler? handler = null, ILogSink? log = null)
    {
        Settings = settings with { System = StreamSystem.Flink };
        _http = new EngineHttp(StreamSystem.Flink, Settings.RequestTimeout, handler, ExtractError, log);
    }

    public StreamSystem System => StreamSystem.Flink;
    public StreamEngineSettings Settings { get; }

    private Uri Rest(string path) => new(Settings.ApiUri, path.TrimStart('/'));
    private Uri Gateway(string path) => new(Settings.SecondaryUri, path.TrimStart('/'));

    /// <summary>
    /// Flink's error body is <c>{"errors": ["message", "…stack…"]}</c>. Returns the first message plus the root
    /// cause (the last <c>Caused by:</c> line of the stack), which is where the SQL validator's text is.
    /// </summary>
    internal static string ExtractError(string body)
    {
        if (JsonNode.Parse(body)?["errors"] is not JsonArray errors || errors.Count == 0) return body;
        var texts = errors.Select(e => e?.ToString() ?? "").Where(t => t.Length > 0).ToList();
        var first = texts.Select(t => t.Split('\n')[0].Trim()).FirstOrDefault(l => l.Length > 0 && !l.StartsWith("<Exception on server side", StringComparison.Ordinal)) ?? "";
        var lines = texts.SelectMany(t => t.Split('\n')).Select(l => l.Trim()).ToList();
        var cause = lines.LastOrDefault(l => l.StartsWith("Caused by:", StringComparison.Ordinal));
        if (cause is not null) cause = cause["Caused by:".Length..].Trim();
        else cause = lines.FirstOrDefault(l => l.Contains("Exception:", StringComparison.Ordinal) && l != first);
        return cause is null || cause == first ? first : first.Length == 0 ? cause : $"{first} | {cause}";
    }

    private PiBenchException Map(EngineHttpFailure f, string target, bool sql = false) => f.Status switch
    {
        HttpStatusCode.BadRequest or HttpStatusCode.InternalServerError when sql => new PiBenchException(EngineErrorIds.SqlError,
            PiBenchErrorCategory.InvalidArgument, $"Flink rejected the statement of {target}: {f.Message}", target,
            "Fix the SQL (Get-NexmarkQuery shows it), or add the missing connector/UDF jar to the gateway and TaskManagers."),
        HttpStatusCode.NotFound => new PiBenchException(EngineErrorIds.JobNotFound, PiBenchErrorCategory.ObjectNotFound,
            $"Flink: {target} not found ({f.Message}).", target, "The job, session or operation no longer exists (expired or JobManager restarted)."),
        _ => new PiBenchException(EngineErrorIds.RequestFailed, PiBenchErrorCategory.ProtocolError,
            $"Flink answered HTTP {(int)f.Status} for {target}: {f.Message}", target, "Read the JobManager / SQL Gateway log."),
    };

    /// <summary>
    /// Plans the script on the SQL Gateway without starting a job: opens a session (streaming mode), runs every DDL
    /// statement, sends the INSERT as <c>EXPLAIN INSERT …</c> (parse, validation and optimization, no job), and closes the
    /// session. The first failing statement's error is returned with the line/column of Flink's message
    /// (<c>SqlParserException: … at line X, column Y</c>, <c>ValidationException: … From line X, column Y to …</c>) mapped
    /// onto the script. A script without exactly one INSERT is refused without a request.
    /// </summary>
    public async Task<SqlValidation> ValidateAsync(string sql, CancellationToken cancellationToken)
    {
        var statements = SqlScript.SplitWithPositions(sql);
        if (statements.Count(s => SqlScript.IsJobStatement(s.Text)) != 1)
            return new SqlValidation([new SqlDiagnostic("The script must contain exactly one INSERT statement.")]);

        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(Settings.SubmitTimeout);
        string? session = null;
        try
        {
            var opened = await _http.JsonAsync(HttpMethod.Post, Gateway("v1/sessions"),
                new JsonObject { ["sessionName"] = "pibench-validate", ["properties"] = new JsonObject { ["execution.runtime-mode"] = "streaming" } },
                f => Map(f, "session"), cts.Token).ConfigureAwait(false);
            session = opened.Str("sessionHandle");
            if (session.Length == 0) throw _http.BadResponse(Gateway("v1/sessions"), "no sessionHandle");
            foreach (var statement in statements)
            {
                var isJob = SqlScript.IsJobStatement(statement.Text);
                var prefix = isJob ? ExplainPrefix : "";
                var op = await _http.JsonAsync(HttpMethod.Post, Gateway($"v1/sessions/{session}/statements"),
                    new JsonObject { ["statement"] = prefix + statement.Text, ["executionTimeout"] = 0 },
                    f => Map(f, "validation", sql: true), cts.Token).ConfigureAwait(false);
                var handle = op.Str("operationHandle");
                if (handle.Length == 0) throw _http.BadResponse(Gateway($"v1/sessions/{session}/statements"), "no operationHandle");
                var error = await OperationErrorAsync(session, handle, cts.Token).ConfigureAwait(false);
                if (error is not null) return new SqlValidation([Diagnostic(error, statement, prefix.Length)]);
            }
            return SqlValidation.Ok;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new PiBenchException(EngineErrorIds.Timeout, PiBenchErrorCategory.OperationTimeout,
                $"Flink did not plan the script within {Settings.SubmitTimeout.TotalSeconds:0.#} s.", "validation",
                "Check the SQL Gateway and that it reaches the JobManager (rest.address).");
        }
        finally
        {
            if (session is not null) await CloseSessionQuietlyAsync(session).ConfigureAwait(false);
        }
    }

    private const string ExplainPrefix = "EXPLAIN ";

    /// <summary>Follows an operation's <c>result/0</c> to its end; returns Flink's error text (the whole <c>errors</c> body) or null.</summary>
    private async Task<string?> OperationErrorAsync(string session, string operation, CancellationToken ct)
    {
        for (var token = 0; token <= 100;)
        {
            var uri = Gateway($"v2/sessions/{session}/operations/{operation}/result/{token}?rowFormat=JSON");
            var (body, failure) = await _http.SendAsync(HttpMethod.Get, uri, null, ct).ConfigureAwait(false);
            if (failure is not null)
            {
                if (failure.Status is HttpStatusCode.BadRequest or HttpStatusCode.InternalServerError) return ErrorText(failure.Body);
                throw Map(failure, "validation");
            }
            JsonNode? node;
            try { node = JsonNode.Parse(body); }
            catch (global::System.Text.Json.JsonException ex) { throw _http.BadResponse(uri, "not JSON", ex); }
            var type = node.Str("resultType");
            if (type == "NOT_READY") { await Task.Delay(Settings.PollInterval, ct).ConfigureAwait(false); continue; }
            if (type == "EOS" || (type == "PAYLOAD" && node?["nextResultUri"] is null)) return null;
            if (type != "PAYLOAD") throw _http.BadResponse(uri, $"resultType '{type}'");
            token++;
        }
        return null;
    }

    /// <summary>All lines of Flink's <c>{"errors": [...]}</c> (message and server-side stack), or the body as it is.</summary>
    internal static string ErrorText(string body)
    {
        try
        {
            if (JsonNode.Parse(body)?["errors"] is JsonArray errors)
                return string.Join("\n", errors.Select(e => e?.ToString() ?? ""));
        }
        catch (global::System.Text.Json.JsonException) { }
        return body;
    }

    /// <summary>
    /// One diagnostic from Flink's error text: the message is the most specific exception line (the root cause that is not
    /// a wrapper), the position the first <c>line X, column Y</c> of Calcite/Flink's parser or validator messages, mapped
    /// from the statement (less the <c>EXPLAIN </c> prefix on its first line) onto the script.
    /// </summary>
    internal static SqlDiagnostic Diagnostic(string errorText, SqlStatement statement, int prefixLength)
    {
        var lines = errorText.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0).ToList();
        var message = ExtractError(new JsonObject { ["errors"] = new JsonArray(errorText) }.ToJsonString());
        // Prefer the cause that names the position (ValidationException / SqlParserException / CalciteContextException).
        var positioned = lines.Select(l => l.StartsWith("Caused by:", StringComparison.Ordinal) ? l["Caused by:".Length..].Trim() : l)
            .Where(l => !l.StartsWith("at ", StringComparison.Ordinal) && PositionRegex().IsMatch(l)).ToList();
        if (positioned.Count == 0) return new SqlDiagnostic(message);
        var m = PositionRegex().Match(positioned[^1]);
        var line = int.Parse(m.Groups["line"].Value, CultureInfo.InvariantCulture);
        var column = int.Parse(m.Groups["col"].Value, CultureInfo.InvariantCulture);
        if (line == 1) column = Math.Max(1, column - prefixLength);
        var (scriptLine, scriptColumn) = statement.ScriptPosition(line, column);
        return new SqlDiagnostic(positioned[^1], scriptLine, scriptColumn);
    }

    [global::System.Text.RegularExpressions.GeneratedRegex(@"(?:[Aa]t|From) line (?<line>\d+), column (?<col>\d+)")]
    private static partial global::System.Text.RegularExpressions.Regex PositionRegex();

    public async Task<StreamJobHandle> SubmitAsync(StreamJobRequest request, CancellationToken cancellationToken)
    {
        if (request.Parallelism < 1)
            throw new PiBenchException("ParallelismInvalid", PiBenchErrorCategory.InvalidArgument,
                $"Parallelism must be at least 1 (got {request.Parallelism}).", request.Parallelism, "Use 1..the cluster's slots.");
        var statements = SqlScript.Split(request.Sql);
        if (statements.Count(SqlScript.IsJobStatement) != 1)
            throw new PiBenchException(EngineErrorIds.SqlError, PiBenchErrorCategory.InvalidArgument,
                $"The script of {request.Name} must contain exactly one INSERT statement.", request.Name, "Check the query resource.");

        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(Settings.SubmitTimeout);
        string? session = null;
        DateTimeOffset? insertPostedAt = null;
        string? jobId = null;
        try
        {
            var properties = new JsonObject
            {
                ["execution.runtime-mode"] = "streaming",
                ["parallelism.default"] = request.Parallelism.ToString(CultureInfo.InvariantCulture),
                ["pipeline.name"] = request.Name,
            };
            if (request.CheckpointInterval is { } ci)
                properties["execution.checkpointing.interval"] = $"{(long)ci.TotalMilliseconds} ms";
            var opened = await _http.JsonAsync(HttpMethod.Post, Gateway("v1/sessions"),
                new JsonObject { ["sessionName"] = request.Name, ["properties"] = properties },
                f => Map(f, "session"), cts.Token).ConfigureAwait(false);
            session = opened.Str("sessionHandle");
            if (session.Length == 0) throw _http.BadResponse(Gateway("v1/sessions"), "no sessionHandle");

            foreach (var statement in statements)
            {
                var isJob = SqlScript.IsJobStatement(statement);
                var body = new JsonObject { ["statement"] = statement, ["executionTimeout"] = 0 };
                if (isJob) body["executionConfig"] = new JsonObject { ["pipeline.name"] = request.Name };
                if (isJob) insertPostedAt = DateTimeOffset.UtcNow;
                var op = await _http.JsonAsync(HttpMethod.Post, Gateway($"v1/sessions/{session}/statements"), body,
                    f => Map(f, request.Name, sql: true), cts.Token).ConfigureAwait(false);
                var handle = op.Str("operationHandle");
                if (handle.Length == 0) throw _http.BadResponse(Gateway($"v1/sessions/{session}/statements"), "no operationHandle");
                var id = await FetchResultAsync(session, handle, request.Name, isJob, cts.Token).ConfigureAwait(false);
                if (isJob) jobId = id;
            }
            if (string.IsNullOrEmpty(jobId))
                throw new PiBenchException(EngineErrorIds.BadResponse, PiBenchErrorCategory.InvalidData,
                    $"Flink accepted the INSERT of {request.Name} but returned no job id.", request.Name,
                    "Check that table.dml-sync is false in the gateway's configuration.");
            return new StreamJobHandle(StreamSystem.Flink, jobId, request.Name) { PipelineId = session, SubmittedAt = DateTimeOffset.UtcNow };
        }
        catch (Exception ex) when (session is not null)
        {
            // The INSERT may have started a job whose id never reached us (Ctrl+C or timeout while fetching it):
            // closing the session does not cancel it, so find it by name and cancel it.
            if (insertPostedAt is { } since && ex is OperationCanceledException) await CancelOrphanAsync(request.Name, since).ConfigureAwait(false);
            await CloseSessionQuietlyAsync(session).ConfigureAwait(false);
            if (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested) throw SubmitTimeout(request);
            throw;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw SubmitTimeout(request);
        }
    }

    /// <summary>
    /// Cancels jobs named <paramref name="name"/> that started since the INSERT was posted and are not terminal
    /// (<c>GET /jobs/overview</c>, <c>PATCH /jobs/:jid?mode=cancel</c>). Best effort, at most ~10 s, never throws.
    /// </summary>
    private async Task CancelOrphanAsync(string name, DateTimeOffset since)
    {
        using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            var overview = await _http.JsonAsync(HttpMethod.Get, Rest("jobs/overview"), null, f => Map(f, "jobs"), bound.Token).ConfigureAwait(false);
            if (overview?["jobs"] is not JsonArray jobs) return;
            var from = since.ToUnixTimeMilliseconds() - 5000; // JobManager and this host may disagree by a little
            foreach (var j in jobs)
            {
                var state = j.Str("state");
                if (j.Str("name") != name || state is "FAILED" or "CANCELED" or "FINISHED" or "CANCELLING" || j.Long("start-time") < from) continue;
                await _http.SendAsync(HttpMethod.Patch, Rest($"jobs/{j.Str("jid")}?mode=cancel"), null, bound.Token).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or PiBenchException or HttpRequestException)
        {
            // Left running: Get-NexmarkQuery / the Flink UI show it.
        }
    }

    private PiBenchException SubmitTimeout(StreamJobRequest request) =>
        new(EngineErrorIds.Timeout, PiBenchErrorCategory.OperationTimeout,
            $"Flink did not accept {request.Name} within {Settings.SubmitTimeout.TotalSeconds:0.#} s.", request.Name,
            "Check the SQL Gateway and that it reaches the JobManager (rest.address).");

    /// <summary>Follows <c>result/0</c>: NOT_READY → retry; PAYLOAD/EOS → done. Returns the job id of an INSERT.</summary>
    private async Task<string?> FetchResultAsync(string session, string operation, string name, bool isJob, CancellationToken ct)
    {
        var token = 0;
        while (true)
        {
            var uri = Gateway($"v2/sessions/{session}/operations/{operation}/result/{token}?rowFormat=JSON");
            var node = await _http.JsonAsync(HttpMethod.Get, uri, null, f => Map(f, name, sql: true), ct).ConfigureAwait(false);
            var type = node.Str("resultType");
            if (type == "NOT_READY")
            {
                await Task.Delay(Settings.PollInterval, ct).ConfigureAwait(false);
                continue;
            }
            if (type is not ("PAYLOAD" or "EOS")) throw _http.BadResponse(uri, $"resultType '{type}'");
            if (!isJob) return null;
            var jobId = node.Str("jobID");
            if (jobId.Length == 0 && node?["results"]?["data"] is JsonArray { Count: > 0 } data)
                jobId = data[0]?["fields"] is JsonArray { Count: > 0 } fields ? fields[0]?.ToString() ?? "" : "";
            if (jobId.Length > 0 || type == "EOS") return jobId;
            token++; // PAYLOAD without the row yet: follow nextResultUri's token
            if (token > 100) return null;
        }
    }

    private async Task CloseSessionQuietlyAsync(string session)
    {
        try
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await _http.SendAsync(HttpMethod.Delete, Gateway($"v1/sessions/{session}"), null, cts.Token).ConfigureAwait(false);
        }
        catch (Exception) { /* best effort: the gateway expires idle sessions */ }
    }

    public async Task<StreamJobStatus> GetStatusAsync(StreamJobHandle job, CancellationToken cancellationToken)
    {
        var node = await _http.JsonAsync(HttpMethod.Get, Rest($"jobs/{job.JobId}"), null, f => Map(f, $"job {job.JobId}"), cancellationToken).ConfigureAwait(false);
        var engineState = node.Str("state");
        var state = MapState(engineState);
        var failure = "";
        if (state == StreamJobState.Failed || engineState == "FAILING")
            failure = await RootExceptionAsync(job, cancellationToken).ConfigureAwait(false);
        var start = node.Long("start-time");
        var tasks = (node?["vertices"] as JsonArray)?.Sum(v => (int)v.Long("parallelism", 0)) ?? -1;
        return new StreamJobStatus(job, state, engineState)
        {
            FailureMessage = failure,
            Tasks = tasks,
            StartTime = start > 0 ? DateTimeOffset.FromUnixTimeMilliseconds(start) : null,
        };
    }

    private async Task<string> RootExceptionAsync(StreamJobHandle job, CancellationToken ct)
    {
        try
        {
            var ex = await _http.JsonAsync(HttpMethod.Get, Rest($"jobs/{job.JobId}/exceptions"), null, f => Map(f, job.JobId), ct).ConfigureAwait(false);
            var root = ex.Str("root-exception");
            if (root.Length == 0 && ex?["exceptionHistory"]?["entries"] is JsonArray { Count: > 0 } entries)
                root = entries[0].Str("exceptionName") + ": " + entries[0].Str("stacktrace");
            var lines = root.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0).ToList();
            var cause = lines.LastOrDefault(l => l.StartsWith("Caused by:", StringComparison.Ordinal));
            return cause is null ? lines.FirstOrDefault() ?? "" : $"{lines[0]} | {cause["Caused by:".Length..].Trim()}";
        }
        catch (PiBenchException) { return ""; }
    }

    /// <summary>Flink JobStatus (flink.md §1.2) onto the neutral states. Note job CANCELLING (two L).</summary>
    public static StreamJobState MapState(string engineState) => engineState switch
    {
        "INITIALIZING" or "CREATED" => StreamJobState.Starting,
        "RUNNING" => StreamJobState.Running,
        "RESTARTING" or "RECONCILING" => StreamJobState.Recovering,
        "FAILING" or "CANCELLING" => StreamJobState.Stopping,
        "SUSPENDED" => StreamJobState.Suspended,
        "CANCELED" => StreamJobState.Stopped,
        "FINISHED" => StreamJobState.Finished,
        "FAILED" => StreamJobState.Failed,
        _ => StreamJobState.Unknown,
    };

    /// <summary>
    /// One sample of the job's metrics (flink.md §1.3, §2). Per vertex and subtask: the task's counters and meters, for a
    /// source vertex the source operator's own <c>numRecordsOut</c> (a FLIP-27 source task counts no input), for the vertex
    /// holding the sink the sink operator's own <c>numRecordsIn</c>: Flink chains the sink into its upstream operators, so
    /// the task's <c>numRecordsIn</c> is 0 for a fully chained job (q0, q1, q2, q14, q21, q22) and the join's or window's
    /// input otherwise. Sink-V2 sinks (Kafka) name it <c>Sink__&lt;name&gt;__Writer</c>, legacy SinkFunction sinks
    /// (blackhole in 1.18) <c>Sink__&lt;name&gt;</c>; a <c>…Committer</c> counts committables and is never read. Ids are
    /// discovered from the vertex's listing, which is asked again until it holds them all (it is partial right after
    /// RUNNING). The JobManager answers from its metric cache: <see cref="StreamJobMetrics.CacheInterval"/>,
    /// <see cref="StreamJobMetrics.ValuesChanged"/> and the ValuesTaken bounds say how fresh the values are; the
    /// <c>…PerSecond</c> figures are 60-s MeterView averages (<see cref="StreamJobMetrics.RateAveragingWindow"/>).
    /// </summary>
    public async Task<StreamJobMetrics> GetMetricsAsync(StreamJobHandle job, CancellationToken cancellationToken)
    {
        var requestedAt = DateTimeOffset.UtcNow;
        var node = await _http.JsonAsync(HttpMethod.Get, Rest($"jobs/{job.JobId}"), null, f => Map(f, $"job {job.JobId}"), cancellationToken).ConfigureAwait(false);
        var vertices = (node?["vertices"] as JsonArray ?? []).Where(v => v is not null).ToList();
        // Topology from the plan: a node no one lists as input is a sink; one without inputs is a source.
        var inputsOf = new Dictionary<string, int>(StringComparer.Ordinal);
        var feeds = new HashSet<string>(StringComparer.Ordinal);
        var planKnown = false;
        foreach (var p in node?["plan"]?["nodes"] as JsonArray ?? [])
        {
            planKnown = true;
            var inputs = p?["inputs"] as JsonArray ?? [];
            inputsOf[p.Str("id")] = inputs.Count;
            foreach (var i in inputs) feeds.Add(i.Str("id"));
        }
        var cacheInterval = await CacheIntervalAsync(cancellationToken).ConfigureAwait(false);

        var rows = new List<StreamOperatorMetric>();
        var now = DateTimeOffset.UtcNow;
        foreach (var v in vertices)
        {
            var vid = v.Str("id");
            var name = v.Str("name");
            var parallelism = (int)v.Long("parallelism", 1);
            var isSource = planKnown && inputsOf.TryGetValue(vid, out var n) ? n == 0 : name.StartsWith("Source:", StringComparison.Ordinal);
            var isSink = planKnown ? !feeds.Contains(vid) : name.Contains("Sink:", StringComparison.Ordinal);
            var values = await VertexMetricsAsync(job, vid, parallelism, isSource, isSink, cancellationToken).ConfigureAwait(false);
            now = DateTimeOffset.UtcNow;
            for (var i = 0; i < parallelism; i++)
            {
                double Get(string metric) => values.TryGetValue($"{i}.{metric}", out var x) ? x : double.NaN;
                var ops = OperatorIds(values.Keys, i);
                var sourceOut = SumOf(values, i, ops.Where(o => IsSourceOperator(o) && o.EndsWith(".numRecordsOut", StringComparison.Ordinal)));
                var sourceRate = SumOf(values, i, ops.Where(o => IsSourceOperator(o) && o.EndsWith(".numRecordsOutPerSecond", StringComparison.Ordinal)));
                var sinkOps = SinkOperators(ops);
                var sinkIn = SumOf(values, i, sinkOps.Select(o => o + ".numRecordsIn"));
                var sinkRate = SumOf(values, i, sinkOps.Select(o => o + ".numRecordsInPerSecond"));
                var recordsOut = isSource ? sourceOut : Get("numRecordsOut");
                var rateOut = isSource ? sourceRate : Get("numRecordsOutPerSecond");
                var recordsIn = isSink ? sinkIn : Get("numRecordsIn");
                var rateIn = isSink ? sinkRate : Get("numRecordsInPerSecond");
                var bp = Get("backPressuredTimeMsPerSecond");
                var busy = Get("busyTimeMsPerSecond");
                rows.Add(new StreamOperatorMetric
                {
                    JobId = job.JobId,
                    OperatorId = vid,
                    OperatorName = name,
                    Subtask = i,
                    IsSource = isSource,
                    IsSink = isSink,
                    RecordsIn = double.IsNaN(recordsIn) ? -1 : (long)recordsIn,
                    RecordsOut = double.IsNaN(recordsOut) ? -1 : (long)recordsOut,
                    RecordsInPerSecond = rateIn,
                    RecordsOutPerSecond = rateOut,
                    Backpressure = double.IsNaN(bp) ? double.NaN : bp / 1000.0,
                    Busy = double.IsNaN(busy) ? double.NaN : busy / 1000.0,
                    SampledAt = now,
                });
            }
        }

        // A cached snapshot served again is not news: the counters of a fresh one differ from the previous sample's.
        var fingerprint = string.Join(",", rows.Select(r => string.Create(CultureInfo.InvariantCulture, $"{r.RecordsIn}/{r.RecordsOut}")));
        _lastSample.TryGetValue(job.JobId, out var previous);
        var mark = previous is null ? new SampleMark(requestedAt, fingerprint, null, now)
            : previous.Fingerprint == fingerprint ? previous with { RequestedAt = requestedAt }
            : new SampleMark(requestedAt, fingerprint, previous.RequestedAt, now);
        _lastSample[job.JobId] = mark;
        return new StreamJobMetrics(job, rows)
        {
            SampledAt = now,
            CacheInterval = cacheInterval,
            ValuesChanged = previous is null || previous.Fingerprint != fingerprint,
            ValuesTakenAfter = mark.TakenAfter,
            ValuesTakenBefore = mark.TakenBefore,
            RateAveragingWindow = MeterSpan,
        };
    }

    /// <summary>Operator-scoped ids of subtask <paramref name="subtask"/> without the subtask prefix: <c>&lt;operator&gt;.&lt;metric&gt;</c>.</summary>
    private static List<string> OperatorIds(IEnumerable<string> ids, int subtask)
    {
        var prefix = subtask.ToString(CultureInfo.InvariantCulture) + ".";
        return ids.Where(id => id.StartsWith(prefix, StringComparison.Ordinal)).Select(id => id[prefix.Length..]).Where(id => id.Contains('.')).ToList();
    }

    private static bool IsSourceOperator(string operatorId) => operatorId.StartsWith("Source_", StringComparison.Ordinal);

    /// <summary>
    /// The sink operators among a subtask's operator ids (<c>&lt;operator&gt;.numRecordsIn</c> → operator), named from
    /// "Sink: &lt;name&gt;[: Writer|: Committer]" with ' ', ':', '.', ',' made '_' (MetricQueryService's filter): the Sink-V2
    /// writers (<c>Sink__…__Writer</c>) where there are any, else the legacy SinkFunction sinks (<c>Sink__…</c>); never a
    /// committer.
    /// </summary>
    internal static IReadOnlyList<string> SinkOperators(IEnumerable<string> operatorIds)
    {
        var sinks = operatorIds.Where(o => o.StartsWith("Sink__", StringComparison.Ordinal) && o.EndsWith(".numRecordsIn", StringComparison.Ordinal))
            .Select(o => o[..^".numRecordsIn".Length])
            .Where(o => !o.EndsWith("Committer", StringComparison.Ordinal))
            .Distinct(StringComparer.Ordinal).ToList();
        var writers = sinks.Where(o => o.EndsWith("__Writer", StringComparison.Ordinal)).ToList();
        return writers.Count > 0 ? writers : sinks;
    }

    /// <summary>Σ of subtask <paramref name="subtask"/>'s values of the operator metric ids; NaN when none was answered.</summary>
    private static double SumOf(Dictionary<string, double> values, int subtask, IEnumerable<string> operatorMetricIds)
    {
        var found = false;
        var sum = 0.0;
        foreach (var id in operatorMetricIds.Distinct(StringComparer.Ordinal))
            if (values.TryGetValue($"{subtask}.{id}", out var v) && !double.IsNaN(v))
            {
                found = true;
                sum += v;
            }
        return found ? sum : double.NaN;
    }

    /// <summary>
    /// The JobManager's <c>metrics.fetcher.update-interval</c> from <c>GET /jobmanager/config</c> (only explicitly set keys
    /// are listed; absent = MetricOptions' default, 10 s). Asked once per adapter; an unanswered request is asked again next time
    /// and counts as the default meanwhile.
    /// </summary>
    private async Task<TimeSpan> CacheIntervalAsync(CancellationToken ct)
    {
        if (_cacheInterval is { } known) return known;
        var (body, failure) = await _http.SendAsync(HttpMethod.Get, Rest("jobmanager/config"), null, ct).ConfigureAwait(false);
        if (failure is not null) return DefaultMetricCacheInterval;
        try
        {
            var entry = (JsonNode.Parse(body) as JsonArray ?? []).FirstOrDefault(e => e.Str("key") == "metrics.fetcher.update-interval");
            var value = entry.Str("value").Trim();
            var interval = value.Length == 0 ? DefaultMetricCacheInterval
                : long.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var ms) ? TimeSpan.FromMilliseconds(ms)
                : DefaultMetricCacheInterval;
            _cacheInterval = interval;
            return interval;
        }
        catch (global::System.Text.Json.JsonException) { return DefaultMetricCacheInterval; }
    }

    private static readonly string[] TaskMetrics =
        ["numRecordsIn", "numRecordsOut", "numRecordsInPerSecond", "numRecordsOutPerSecond", "backPressuredTimeMsPerSecond", "busyTimeMsPerSecond"];

    /// <summary>
    /// A listing holds everything this adapter reads once every subtask has its task counters, a source vertex its source
    /// operator's <c>numRecordsOut</c> and a sink vertex its sink operator's <c>numRecordsIn</c>.
    /// </summary>
    internal static bool ListingComplete(IReadOnlyCollection<string> ids, int parallelism, bool isSource, bool isSink)
    {
        var set = ids as IReadOnlySet<string> ?? ids.ToHashSet(StringComparer.Ordinal);
        for (var i = 0; i < parallelism; i++)
        {
            if (!set.Contains($"{i}.numRecordsIn") || !set.Contains($"{i}.numRecordsOut")) return false;
            var ops = OperatorIds(ids, i);
            if (isSource && !ops.Any(o => IsSourceOperator(o) && o.EndsWith(".numRecordsOut", StringComparison.Ordinal))) return false;
            if (isSink && SinkOperators(ops).Count == 0) return false;
        }
        return true;
    }

    /// <summary>
    /// Lists a vertex's metric ids (kept once complete, asked again while partial), then reads the wanted per-subtask ids
    /// in request lines of bounded length.
    /// </summary>
    private async Task<Dictionary<string, double>> VertexMetricsAsync(StreamJobHandle job, string vid, int parallelism, bool isSource, bool isSink, CancellationToken ct)
    {
        var key = job.JobId + "/" + vid;
        if (!_metricIds.TryGetValue(key, out var available))
        {
            var list = await _http.JsonAsync(HttpMethod.Get, Rest($"jobs/{job.JobId}/vertices/{vid}/metrics"), null, f => Map(f, $"vertex {vid}"), ct).ConfigureAwait(false);
            available = (list as JsonArray ?? []).Select(m => m.Str("id")).Where(s => s.Length > 0).Distinct(StringComparer.Ordinal).ToList();
            if (ListingComplete(available, parallelism, isSource, isSink)) _metricIds[key] = available;
        }
        var set = available.ToHashSet(StringComparer.Ordinal);
        var wanted = new List<string>();
        for (var i = 0; i < parallelism; i++)
        {
            foreach (var m in TaskMetrics)
                if (set.Contains($"{i}.{m}")) wanted.Add($"{i}.{m}");
            var ops = OperatorIds(available, i);
            if (isSource)
                wanted.AddRange(ops.Where(o => IsSourceOperator(o) && (o.EndsWith(".numRecordsOut", StringComparison.Ordinal) || o.EndsWith(".numRecordsOutPerSecond", StringComparison.Ordinal)))
                    .Select(o => $"{i}.{o}"));
            if (isSink)
                foreach (var sink in SinkOperators(ops))
                    foreach (var m in new[] { ".numRecordsIn", ".numRecordsInPerSecond" })
                        if (set.Contains($"{i}.{sink}{m}")) wanted.Add($"{i}.{sink}{m}");
        }

        var values = new Dictionary<string, double>(StringComparer.Ordinal);
        var batch = new StringBuilder();
        async Task FlushAsync()
        {
            if (batch.Length == 0) return;
            var answer = await _http.JsonAsync(HttpMethod.Get, Rest($"jobs/{job.JobId}/vertices/{vid}/metrics?get={batch}"), null, f => Map(f, $"vertex {vid}"), ct).ConfigureAwait(false);
            foreach (var m in answer as JsonArray ?? [])
                values[m.Str("id")] = JsonExt.Number(m?["value"]);
            batch.Clear();
        }
        foreach (var id in wanted)
        {
            var escaped = Uri.EscapeDataString(id);
            if (batch.Length > 0 && batch.Length + escaped.Length + 1 > MaxGetQueryLength) await FlushAsync().ConfigureAwait(false);
            if (batch.Length > 0) batch.Append(',');
            batch.Append(escaped);
        }
        await FlushAsync().ConfigureAwait(false);
        return values;
    }

    public async Task StopAsync(StreamJobHandle job, StreamStopMode mode, CancellationToken cancellationToken)
    {
        if (mode == StreamStopMode.Immediate)
        {
            var (_, failure) = await _http.SendAsync(HttpMethod.Patch, Rest($"jobs/{job.JobId}?mode=cancel"), null, cancellationToken).ConfigureAwait(false);
            if (failure is null || failure.Status == HttpStatusCode.Conflict) return; // 409: already finished
            throw Map(failure, $"job {job.JobId}");
        }

        var body = new JsonObject { ["drain"] = false, ["formatType"] = "CANONICAL" };
        if (!string.IsNullOrEmpty(Settings.FlinkSavepointDirectory)) body["targetDirectory"] = Settings.FlinkSavepointDirectory;
        var accepted = await _http.JsonAsync(HttpMethod.Post, Rest($"jobs/{job.JobId}/stop"), body, f => Map(f, $"job {job.JobId}"), cancellationToken).ConfigureAwait(false);
        var requestId = accepted.Str("request-id");
        if (requestId.Length == 0) throw _http.BadResponse(Rest($"jobs/{job.JobId}/stop"), "no request-id");

        var deadline = DateTimeOffset.UtcNow + Settings.SubmitTimeout;
        while (true)
        {
            var s = await _http.JsonAsync(HttpMethod.Get, Rest($"jobs/{job.JobId}/savepoints/{requestId}"), null, f => Map(f, $"savepoint {requestId}"), cancellationToken).ConfigureAwait(false);
            if (s?["status"].Str("id") == "COMPLETED")
            {
                var cause = s?["operation"]?["failure-cause"];
                if (cause is null) return;
                var text = cause.Str("stack-trace");
                var message = text.Length > 0 ? text.Split('\n')[0] : cause.ToJsonString();
                throw new PiBenchException(EngineErrorIds.StopFailed, PiBenchErrorCategory.InvalidOperation,
                    $"Flink could not stop job {job.JobId} with a savepoint: {message}", job.JobId,
                    "Set a savepoint directory every TaskManager can write (state.savepoints.dir), or stop with -Mode Immediate.");
            }
            if (DateTimeOffset.UtcNow >= deadline)
                throw new PiBenchException(EngineErrorIds.Timeout, PiBenchErrorCategory.OperationTimeout,
                    $"Flink's stop-with-savepoint of job {job.JobId} did not complete within {Settings.SubmitTimeout.TotalSeconds:0.#} s.", job.JobId,
                    "Stop with -Mode Immediate, or check checkpoint storage.");
            await Task.Delay(Settings.PollInterval, cancellationToken).ConfigureAwait(false);
        }
    }

    public async Task RemoveAsync(StreamJobHandle job, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(job.PipelineId)) return;
        var (_, failure) = await _http.SendAsync(HttpMethod.Delete, Gateway($"v1/sessions/{job.PipelineId}"), null, cancellationToken).ConfigureAwait(false);
        if (failure is null || failure.Status is HttpStatusCode.NotFound or HttpStatusCode.InternalServerError) return; // expired sessions answer 500/404
        throw Map(failure, $"session {job.PipelineId}");
    }

    /// <summary>
    /// <c>GET /jobs/overview</c>: the jobs whose <c>name</c> starts with <paramref name="namePrefix"/> (ordinal) and whose
    /// <c>state</c> is not globally terminal (FINISHED, CANCELED, FAILED). The SQL Gateway session is not known from here.
    /// </summary>
    public async Task<IReadOnlyList<StreamJobHandle>> ListActiveJobsAsync(string namePrefix, CancellationToken cancellationToken)
    {
        var overview = await _http.JsonAsync(HttpMethod.Get, Rest("jobs/overview"), null, f => Map(f, "jobs"), cancellationToken).ConfigureAwait(false);
        if (overview?["jobs"] is not JsonArray jobs) throw _http.BadResponse(Rest("jobs/overview"), "no jobs array");
        return jobs.Where(j => j is not null
                && j.Str("name").StartsWith(namePrefix ?? "", StringComparison.Ordinal)
                && j.Str("state") is not ("FINISHED" or "CANCELED" or "FAILED"))
            .Select(j => new StreamJobHandle(StreamSystem.Flink, j.Str("jid"), j.Str("name"))
            {
                SubmittedAt = j.Long("start-time") > 0 ? DateTimeOffset.FromUnixTimeMilliseconds(j.Long("start-time")) : DateTimeOffset.UtcNow,
            })
            .ToList();
    }

    public async Task<IReadOnlyList<StreamWorker>> GetWorkersAsync(CancellationToken cancellationToken)
    {
        var node = await _http.JsonAsync(HttpMethod.Get, Rest("taskmanagers"), null, f => Map(f, "taskmanagers"), cancellationToken).ConfigureAwait(false);
        if (node?["taskmanagers"] is not JsonArray tms) throw _http.BadResponse(Rest("taskmanagers"), "no taskmanagers array");
        return tms.Where(t => t is not null).Select(t => new StreamWorker
        {
            System = nameof(StreamSystem.Flink),
            Id = t.Str("id"),
            Address = AddressFromPath(t.Str("path")),
            Nodes = 1,
            Slots = (int)t.Long("slotsNumber", 0),
            FreeSlots = (int)t.Long("freeSlots", 0),
            CpuCores = (int)t!["hardware"].Long("cpuCores"),
            PhysicalMemoryBytes = t!["hardware"].Long("physicalMemory"),
            LastHeartbeat = t.Long("timeSinceLastHeartbeat"),
        }).ToList();
    }

    /// <summary>
    /// <c>GET /jobs/:jid</c> for the vertices, then <c>GET /jobs/:jid/vertices/:vid</c> for each: <c>subtasks[]</c> with
    /// <c>subtask</c>, <c>status</c>, <c>host</c> (1.18 also <c>endpoint</c> = host:port) and <c>taskmanager-id</c>
    /// (flink.md §1.2). One row per subtask; Host without port.
    /// </summary>
    public async Task<IReadOnlyList<SubtaskPlacement>> GetPlacementAsync(StreamJobHandle job, CancellationToken cancellationToken)
    {
        var jobUri = Rest($"jobs/{job.JobId}");
        var details = await _http.JsonAsync(HttpMethod.Get, jobUri, null, f => Map(f, job.JobId), cancellationToken).ConfigureAwait(false);
        if (details?["vertices"] is not JsonArray vertices) throw _http.BadResponse(jobUri, "no vertices array");
        var rows = new List<SubtaskPlacement>();
        foreach (var v in vertices.Where(v => v is not null))
        {
            var vid = v.Str("id");
            if (vid.Length == 0) continue;
            var uri = Rest($"jobs/{job.JobId}/vertices/{vid}");
            var vertex = await _http.JsonAsync(HttpMethod.Get, uri, null, f => Map(f, vid), cancellationToken).ConfigureAwait(false);
            if (vertex?["subtasks"] is not JsonArray subtasks) throw _http.BadResponse(uri, "no subtasks array");
            rows.AddRange(ParseSubtasks(job, vid, v.Str("name"), subtasks));
        }
        return rows;
    }

    internal static IEnumerable<SubtaskPlacement> ParseSubtasks(StreamJobHandle job, string vertexId, string vertexName, JsonArray subtasks)
    {
        foreach (var st in subtasks.Where(s => s is not null))
        {
            var tm = st.Str("taskmanager-id");
            var host = st.Str("host");
            if (host.Length == 0) host = st.Str("endpoint");
            if (host.Length == 0 && tm.Length > 0 && tm.Contains(':')) host = tm; // standalone ids start with host:port
            yield return new SubtaskPlacement
            {
                System = nameof(StreamSystem.Flink),
                JobId = job.JobId,
                OperatorId = vertexId,
                OperatorName = vertexName,
                Subtask = (int)st.Long("subtask", -1),
                Host = StripPort(host),
                Worker = tm,
                Workers = 1,
                Status = st.Str("status"),
                Evidence = "VertexSubtasks",
            };
        }
    }

    /// <summary><c>10.0.0.5:36423</c> → <c>10.0.0.5</c>; <c>[::1]:80</c> → <c>::1</c>; a bare host stays.</summary>
    internal static string StripPort(string hostPort)
    {
        if (hostPort.StartsWith('['))
        {
            var close = hostPort.IndexOf(']');
            return close > 0 ? hostPort[1..close] : hostPort;
        }
        var colon = hostPort.LastIndexOf(':');
        return colon > 0 && hostPort.IndexOf(':') == colon ? hostPort[..colon] : hostPort;
    }

    /// <summary><c>pekko.tcp://flink@10.0.0.5:36423/user/rpc/taskmanager_0</c> → <c>10.0.0.5:36423</c>.</summary>
    internal static string AddressFromPath(string path)
    {
        var at = path.IndexOf('@');
        if (at < 0) return path;
        var rest = path[(at + 1)..];
        var slash = rest.IndexOf('/');
        return slash < 0 ? rest : rest[..slash];
    }

    public void Dispose() => _http.Dispose();
}
