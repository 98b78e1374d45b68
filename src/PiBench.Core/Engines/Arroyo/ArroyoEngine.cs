using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;

namespace PiBench.Core.Engines.Arroyo;

/// <summary>
/// Apache Arroyo 0.11 over its REST API (<c>/api/v1</c>, arroyo.md §2): validate the query, create a pipeline with
/// SQL and parallelism, poll the pipeline's job, read operator metric groups, PATCH <c>stop</c>, DELETE the pipeline.
/// Workers come from the controller's admin <c>/metrics</c> (no REST call lists nodes in 0.11).
/// </summary>
public sealed partial class ArroyoEngine : IStreamEngine
{
    private readonly EngineHttp _http;
    private readonly ConcurrentDictionary<string, Graph> _graphs = new(StringComparer.Ordinal);

    public ArroyoEngine(StreamEngineSettings settings, HttpMessageHandler? handler = null, ILogSink? log = null)
    {
        Settings = settings with { System = StreamSystem.Arroyo };
        _http = new EngineHttp(StreamSystem.Arroyo, Settings.RequestTimeout, handler, ExtractError, log);
    }

    public StreamSystem System => StreamSystem.Arroyo;
    public StreamEngineSettings Settings { get; }

    /// <summary>Arroyo's error body is <c>{"error": "&lt;message&gt;"}</c>.</summary>
    internal static string ExtractError(string body) => JsonNode.Parse(body)?["error"]?.GetValue<string>() ?? body;

    private Uri Api(string path) => new(Settings.ApiUri, "api/v1/" + path.TrimStart('/'));

    private PiBenchException Map(EngineHttpFailure f, string target, bool sql = false) => f.Status switch
    {
        HttpStatusCode.BadRequest when sql => new PiBenchException(EngineErrorIds.SqlError, PiBenchErrorCategory.InvalidArgument,
            $"Arroyo rejected the query {target}: {f.Message}", target, "Fix the SQL (Get-NexmarkQuery shows it); Arroyo's planner message is above."),
        HttpStatusCode.NotFound => new PiBenchException(EngineErrorIds.JobNotFound, PiBenchErrorCategory.ObjectNotFound,
            $"Arroyo: {f.Message} ({target}).", target, "The pipeline or job no longer exists (deleted, or the controller's database was reset)."),
        HttpStatusCode.ServiceUnavailable => new PiBenchException(EngineErrorIds.RequestFailed, PiBenchErrorCategory.ResourceUnavailable,
            $"Arroyo: {f.Message} ({target}).", target, "A service of the Arroyo cluster is not up yet; retry shortly."),
        _ => new PiBenchException(EngineErrorIds.RequestFailed, PiBenchErrorCategory.ProtocolError,
            $"Arroyo answered HTTP {(int)f.Status} for {target}: {f.Message}", target, "Read the Arroyo controller's log."),
    };

    /// <summary>
    /// <c>POST /api/v1/pipelines/validate_query</c> answers HTTP 200 with <c>QueryValidationResult {graph, errors:
    /// [String]}</c> (arroyo-rpc/src/api_types/pipelines.rs, arroyo-api/src/pipelines.rs at v0.11.0): one message per
    /// error and no position field. Only sqlparser's parse errors carry a position, inside the text
    /// (<c>"… at Line: 3, Column 19"</c>, sqlparser 0.44 <c>Location</c>); it becomes Line/Column, the message stays
    /// verbatim. Planning errors have no position (Line/Column null).
    /// </summary>
    public async Task<SqlValidation> ValidateAsync(string sql, CancellationToken cancellationToken)
    {
        var uri = Api("pipelines/validate_query");
        var body = new JsonObject { ["query"] = sql, ["udfs"] = new JsonArray() };
        var node = await _http.JsonAsync(HttpMethod.Post, uri, body, f => Map(f, "validate_query", sql: true), cancellationToken).ConfigureAwait(false);
        if (node is not JsonObject || node["errors"] is not JsonArray errors)
            throw _http.BadResponse(uri, "no errors array (is this Arroyo 0.11's API?)");
        return new SqlValidation(errors.Select(e => e is JsonValue v && v.TryGetValue<string>(out var m) ? m : e?.ToJsonString() ?? "")
            .Where(e => e.Length > 0).Select(Diagnostic).ToList());
    }

    /// <summary>A validate_query message with the position sqlparser put in it (0.44: "at Line: L, Column C"; later
    /// versions write "Column: C"); the last position in the text wins (DataFusion may quote nested errors).</summary>
    internal static SqlDiagnostic Diagnostic(string message)
    {
        var m = PositionRegex().Matches(message);
        if (m.Count == 0) return new SqlDiagnostic(message);
        var last = m[^1];
        return new SqlDiagnostic(message, int.Parse(last.Groups[1].Value, CultureInfo.InvariantCulture), int.Parse(last.Groups[2].Value, CultureInfo.InvariantCulture));
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"\bat Line: (\d{1,9}), Column:? (\d{1,9})")]
    private static partial System.Text.RegularExpressions.Regex PositionRegex();

    public async Task<StreamJobHandle> SubmitAsync(StreamJobRequest request, CancellationToken cancellationToken)
    {
        if (request.Parallelism < 1)
            throw new PiBenchException("ParallelismInvalid", PiBenchErrorCategory.InvalidArgument,
                $"Parallelism must be at least 1 (got {request.Parallelism}).", request.Parallelism, "Use 1..the cluster's slots.");
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(Settings.SubmitTimeout);
        try
        {
            var check = await ValidateAsync(request.Sql, cts.Token).ConfigureAwait(false);
            if (!check.Valid)
                throw new PiBenchException(EngineErrorIds.SqlError, PiBenchErrorCategory.InvalidArgument,
                    $"Arroyo rejected the query {request.Name}: {check.Message}", request.Name,
                    "Fix the SQL (Get-NexmarkQuery shows it); Arroyo's planner message is above.");

            var body = new JsonObject
            {
                ["name"] = request.Name,
                ["query"] = request.Sql,
                ["parallelism"] = request.Parallelism,
            };
            if (request.CheckpointInterval is { } ci)
                body["checkpointIntervalMicros"] = (long)(ci.TotalMilliseconds * 1000);
            var created = await _http.JsonAsync(HttpMethod.Post, Api("pipelines"), body, f => Map(f, request.Name, sql: true), cts.Token).ConfigureAwait(false);
            var pipelineId = created.Str("id");
            if (pipelineId.Length == 0) throw _http.BadResponse(Api("pipelines"), "no pipeline id");
            if (created?["graph"] is JsonObject g) _graphs[pipelineId] = Graph.Parse(g);

            // The pipeline has exactly one job; it may appear a moment after the pipeline.
            try
            {
                while (true)
                {
                    var jobs = await _http.JsonAsync(HttpMethod.Get, Api($"pipelines/{pipelineId}/jobs"), null, f => Map(f, pipelineId), cts.Token).ConfigureAwait(false);
                    if (jobs?["data"] is JsonArray { Count: > 0 } data && data[0].Str("id") is { Length: > 0 } jobId)
                        return new StreamJobHandle(StreamSystem.Arroyo, jobId, request.Name) { PipelineId = pipelineId, SubmittedAt = DateTimeOffset.UtcNow };
                    await Task.Delay(Settings.PollInterval, cts.Token).ConfigureAwait(false);
                }
            }
            catch (Exception) when (cts.IsCancellationRequested)
            {
                // Ctrl+C or the submit timeout after the pipeline was created: the caller never gets a handle, so
                // nobody else could stop it. Stop and delete it here (best effort, bounded), then report as usual.
                await AbandonAsync(pipelineId).ConfigureAwait(false);
                throw;
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new PiBenchException(EngineErrorIds.Timeout, PiBenchErrorCategory.OperationTimeout,
                $"Arroyo did not accept {request.Name} within {Settings.SubmitTimeout.TotalSeconds:0.#} s.", request.Name,
                "Check the Arroyo controller (compiler service, database).");
        }
    }

    /// <summary>Stops (immediate) and deletes a pipeline whose handle never reached the caller; at most ~10 s, never throws.</summary>
    private async Task AbandonAsync(string pipelineId)
    {
        using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var uri = Api($"pipelines/{pipelineId}");
        try
        {
            await _http.SendAsync(HttpMethod.Patch, uri, new JsonObject { ["stop"] = "immediate" }, bound.Token).ConfigureAwait(false);
            while (true)
            {
                // Arroyo deletes a pipeline only once its job is terminal (400 until then).
                var (_, failure) = await _http.SendAsync(HttpMethod.Delete, uri, null, bound.Token).ConfigureAwait(false);
                if (failure is null || failure.Status == HttpStatusCode.NotFound) { _graphs.TryRemove(pipelineId, out _); return; }
                await Task.Delay(Settings.PollInterval, bound.Token).ConfigureAwait(false);
                await _http.SendAsync(HttpMethod.Get, Api($"pipelines/{pipelineId}/jobs"), null, bound.Token).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or PiBenchException or HttpRequestException)
        {
            // Left running: Get-NexmarkQuery / the Arroyo UI show it; nothing more can be done here.
        }
    }

    public async Task<StreamJobStatus> GetStatusAsync(StreamJobHandle job, CancellationToken cancellationToken)
    {
        RequirePipeline(job);
        var jobs = await _http.JsonAsync(HttpMethod.Get, Api($"pipelines/{job.PipelineId}/jobs"), null, f => Map(f, job.PipelineId), cancellationToken).ConfigureAwait(false);
        var node = (jobs?["data"] as JsonArray)?.FirstOrDefault(j => j.Str("id") == job.JobId)
            ?? throw new PiBenchException(EngineErrorIds.JobNotFound, PiBenchErrorCategory.ObjectNotFound,
                $"Arroyo: job {job.JobId} not found in pipeline {job.PipelineId}.", job.JobId, "The pipeline was deleted or restarted under a new job.");
        var engineState = node.Str("state");
        var state = MapState(engineState);
        var failure = node?["failureMessage"] is JsonValue fm && fm.TryGetValue<string>(out var m) ? m : "";
        if (state == StreamJobState.Failed && failure.Length == 0)
            failure = await FirstJobErrorAsync(job, cancellationToken).ConfigureAwait(false);
        var start = node.Long("startTime");
        return new StreamJobStatus(job, state, engineState)
        {
            FailureMessage = failure,
            Tasks = (int)node.Long("tasks"),
            StartTime = start > 0 ? DateTimeOffset.FromUnixTimeMilliseconds(start / 1000) : null,
        };
    }

    private async Task<string> FirstJobErrorAsync(StreamJobHandle job, CancellationToken cancellationToken)
    {
        try
        {
            var errs = await _http.JsonAsync(HttpMethod.Get, Api($"pipelines/{job.PipelineId}/jobs/{job.JobId}/errors?limit=10"), null,
                f => Map(f, job.JobId), cancellationToken).ConfigureAwait(false);
            var list = (errs?["data"] as JsonArray)?.Where(e => e is not null).ToList() ?? [];
            var first = list.FirstOrDefault(e => e.Str("level") == "error") ?? list.FirstOrDefault();
            return first is null ? "" : $"{first.Str("message")} {first.Str("details")}".Trim();
        }
        catch (PiBenchException) { return ""; }
    }

    /// <summary>Arroyo controller states (arroyo.md §2.4) onto the neutral states.</summary>
    public static StreamJobState MapState(string engineState) => engineState switch
    {
        "Created" or "Compiling" or "Scheduling" => StreamJobState.Starting,
        "Running" => StreamJobState.Running,
        "Recovering" or "Rescaling" or "Restarting" => StreamJobState.Recovering,
        "CheckpointStopping" or "Stopping" or "Finishing" => StreamJobState.Stopping,
        "Stopped" => StreamJobState.Stopped,
        "Finished" => StreamJobState.Finished,
        "Failed" => StreamJobState.Failed,
        _ => StreamJobState.Unknown,
    };

    public async Task<StreamJobMetrics> GetMetricsAsync(StreamJobHandle job, CancellationToken cancellationToken)
    {
        RequirePipeline(job);
        if (!_graphs.TryGetValue(job.PipelineId, out var graph))
        {
            var p = await _http.JsonAsync(HttpMethod.Get, Api($"pipelines/{job.PipelineId}"), null, f => Map(f, job.PipelineId), cancellationToken).ConfigureAwait(false);
            graph = Graph.Parse(p?["graph"] as JsonObject);
            _graphs[job.PipelineId] = graph;
        }
        var uri = Api($"pipelines/{job.PipelineId}/jobs/{job.JobId}/operator_metric_groups");
        var node = await _http.JsonAsync(HttpMethod.Get, uri, null, f => Map(f, job.JobId), cancellationToken).ConfigureAwait(false);
        return new StreamJobMetrics(job, ParseMetricGroups(job, node, graph)) { SampledAt = DateTimeOffset.UtcNow };
    }

    /// <summary>
    /// <c>{data:[{operatorId, metricGroups:[{name, subtasks:[{index, metrics:[{time, value}]}]}]}]}</c> → one row per
    /// operator and subtask with the latest (largest <c>time</c>) value of each group. Sources lack a real
    /// <c>messages_recv</c> and sinks a real <c>messages_sent</c>: those stay NaN.
    /// </summary>
    internal static List<StreamOperatorMetric> ParseMetricGroups(StreamJobHandle job, JsonNode? node, Graph graph)
    {
        var rows = new List<StreamOperatorMetric>();
        foreach (var op in (node?["data"] as JsonArray ?? []).Where(o => o is not null))
        {
            var opId = op.Str("operatorId");
            var latest = new SortedDictionary<int, Dictionary<string, (long Time, double Value)>>();
            foreach (var group in op!["metricGroups"] as JsonArray ?? [])
            {
                var name = group.Str("name");
                foreach (var sub in group?["subtasks"] as JsonArray ?? [])
                {
                    var idx = (int)sub.Long("index", 0);
                    if (!latest.TryGetValue(idx, out var values)) latest[idx] = values = new(StringComparer.Ordinal);
                    foreach (var point in sub?["metrics"] as JsonArray ?? [])
                    {
                        var t = point.Long("time", 0);
                        var v = JsonExt.Number(point?["value"]);
                        if (!values.TryGetValue(name, out var cur) || t >= cur.Time) values[name] = (t, v);
                    }
                }
            }
            var isSource = graph.IsSource(opId);
            var isSink = graph.IsSink(opId);
            foreach (var (idx, values) in latest)
            {
                double Get(string n) => values.TryGetValue(n, out var x) ? x.Value : double.NaN;
                var time = values.Count == 0 ? 0 : values.Values.Max(v => v.Time);
                rows.Add(new StreamOperatorMetric
                {
                    JobId = job.JobId,
                    OperatorId = opId,
                    OperatorName = graph.Name(opId),
                    Subtask = idx,
                    IsSource = isSource,
                    IsSink = isSink,
                    RecordsInPerSecond = isSource ? double.NaN : Get("messages_recv"),
                    RecordsOutPerSecond = isSink ? double.NaN : Get("messages_sent"),
                    Backpressure = Get("backpressure"),
                    SampledAt = time > 0 ? DateTimeOffset.FromUnixTimeMilliseconds(time / 1000) : DateTimeOffset.UtcNow,
                });
            }
        }
        return rows;
    }

    public async Task StopAsync(StreamJobHandle job, StreamStopMode mode, CancellationToken cancellationToken)
    {
        RequirePipeline(job);
        var stop = mode == StreamStopMode.Graceful ? "graceful" : "immediate";
        await _http.JsonAsync(HttpMethod.Patch, Api($"pipelines/{job.PipelineId}"), new JsonObject { ["stop"] = stop },
            f => Map(f, job.PipelineId), cancellationToken).ConfigureAwait(false);
    }

    public async Task RemoveAsync(StreamJobHandle job, CancellationToken cancellationToken)
    {
        RequirePipeline(job);
        var uri = Api($"pipelines/{job.PipelineId}");
        var (_, failure) = await _http.SendAsync(HttpMethod.Delete, uri, null, cancellationToken).ConfigureAwait(false);
        _graphs.TryRemove(job.PipelineId, out _);
        if (failure is null || failure.Status == HttpStatusCode.NotFound) return;
        if (failure.Status == HttpStatusCode.BadRequest)
            throw new PiBenchException(EngineErrorIds.StopFailed, PiBenchErrorCategory.InvalidOperation,
                $"Arroyo refused to delete pipeline {job.PipelineId}: {failure.Message}", job.PipelineId,
                "A pipeline can only be deleted once its job is Stopped, Finished or Failed: stop it first.");
        throw Map(failure, job.PipelineId);
    }

    /// <summary>
    /// Pipelines whose name starts with <paramref name="namePrefix"/> (ordinal) and whose job is not Stopped, Finished
    /// or Failed. <c>GET /api/v1/pipelines</c> is paginated (arroyo-api/src/rest_utils.rs: default limit 10,
    /// <c>starting_after</c> = the last pipeline id, <c>hasMore</c>), newest first; preview pipelines are not listed.
    /// Each pipeline's job comes from <c>GET /api/v1/pipelines/{id}/jobs</c> (a pipeline has one job; none yet = still
    /// being created, listed with an empty job id is useless for stopping, so it is skipped). Pages are bounded.
    /// </summary>
    public async Task<IReadOnlyList<StreamJobHandle>> ListActiveJobsAsync(string namePrefix, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(namePrefix);
        var result = new List<StreamJobHandle>();
        string? after = null;
        for (var page = 0; page < 1000; page++)
        {
            var path = "pipelines?limit=" + PageSize + (after is null ? "" : "&starting_after=" + Uri.EscapeDataString(after));
            var node = await _http.JsonAsync(HttpMethod.Get, Api(path), null, f => Map(f, "pipelines"), cancellationToken).ConfigureAwait(false);
            if (node?["data"] is not JsonArray data) throw _http.BadResponse(Api("pipelines"), "no data array");
            foreach (var p in data)
            {
                var id = p.Str("id");
                var name = p.Str("name");
                if (id.Length == 0 || !name.StartsWith(namePrefix, StringComparison.Ordinal)) continue;
                JsonNode? jobs;
                try
                {
                    jobs = await _http.JsonAsync(HttpMethod.Get, Api($"pipelines/{id}/jobs"), null, f => Map(f, id), cancellationToken).ConfigureAwait(false);
                }
                catch (PiBenchException ex) when (ex.ErrorId == EngineErrorIds.JobNotFound) { continue; } // deleted meanwhile
                foreach (var j in jobs?["data"] as JsonArray ?? [])
                {
                    var state = MapState(j.Str("state"));
                    if (state.IsTerminal() || j.Str("id").Length == 0) continue;
                    result.Add(new StreamJobHandle(StreamSystem.Arroyo, j.Str("id"), name) { PipelineId = id });
                }
            }
            var more = node["hasMore"] is JsonValue hm && hm.TryGetValue<bool>(out var b) && b;
            if (!more || data.Count == 0) return result;
            after = data[^1].Str("id");
        }
        return result;
    }

    /// <summary>Pipelines per GET /api/v1/pipelines page.</summary>
    internal const int PageSize = 100;

    /// <summary>
    /// One summary row of the node scheduler's capacity, from what 0.11 exports (verified in the v0.11.0 source):
    /// <list type="bullet">
    /// <item>the controller's admin <c>/metrics</c> has <c>arroyo_controller_registered_slots</c> and
    /// <c>…_free_slots</c> only once a node has registered, and both only grow: a restarted node registers again under
    /// a new random id and an expired node's slots are never subtracted (arroyo-controller/src/schedulers/mod.rs).
    /// <c>arroyo_controller_registered_nodes</c> is declared there but never set, so it is never exported;</item>
    /// <item>every node's admin <c>/status</c> answers <c>ok</c> while its daemon runs.</item>
    /// </list>
    /// Nodes = the <see cref="StreamEngineSettings.NodeAdminUris"/> answering <c>/status</c> (without node URIs: the
    /// registrations, registered slots / slots per node, an upper bound after restarts). Slots = Nodes × slots per node;
    /// FreeSlots = the free gauge less the slots of stale registrations (registrations − live nodes), at least 0.
    /// <see cref="StreamWorker.Registrations"/> keeps the raw registration count so the drift stays visible.
    /// </summary>
    public async Task<IReadOnlyList<StreamWorker>> GetWorkersAsync(CancellationToken cancellationToken)
    {
        var uri = new Uri(Settings.SecondaryUri, "metrics");
        var (text, failure) = await _http.SendAsync(HttpMethod.Get, uri, null, cancellationToken).ConfigureAwait(false);
        if (failure is not null) throw Map(failure, uri.ToString());
        var m = ParsePrometheus(text);
        var perNode = Settings.ArroyoSlotsPerNode;
        var registeredSlots = m.TryGetValue("arroyo_controller_registered_slots", out var rs) ? (int)rs : 0; // absent = no registration yet
        var freeGauge = m.TryGetValue("arroyo_controller_free_slots", out var fs) ? (int)fs : 0;
        var registrations = registeredSlots / perNode;
        var nodes = registrations;
        if (Settings.NodeAdminUris.Count > 0)
        {
            var live = 0;
            foreach (var node in Settings.NodeAdminUris)
                if (await NodeAnswersAsync(node, cancellationToken).ConfigureAwait(false)) live++;
            // A node counts when its daemon answers and the controller holds a registration for it: a daemon that is up
            // but never registered (wrong controller address, refused) gives no slot.
            nodes = Math.Min(live, registrations);
        }
        var stale = Math.Max(0, registrations - nodes);
        return
        [
            new StreamWorker
            {
                System = nameof(StreamSystem.Arroyo),
                Id = "controller",
                Address = Settings.SecondaryUri.GetLeftPart(UriPartial.Authority),
                Nodes = nodes,
                Slots = nodes * perNode,
                FreeSlots = Math.Clamp(freeGauge - stale * perNode, 0, nodes * perNode),
                Registrations = registrations,
            },
        ];
    }

    /// <summary>A node's admin <c>/status</c> answers 200 (the daemon runs); refused, timed out or non-200 = not live.</summary>
    private async Task<bool> NodeAnswersAsync(Uri node, CancellationToken cancellationToken)
    {
        try
        {
            var (_, failure) = await _http.SendAsync(HttpMethod.Get, new Uri(node, "status"), null, cancellationToken).ConfigureAwait(false);
            return failure is null;
        }
        catch (PiBenchException) when (!cancellationToken.IsCancellationRequested) { return false; }
    }

    /// <summary>
    /// Arroyo 0.11 has no REST call that says where subtasks run (arroyo.md §2.1, §5.2): the node scheduler spawns one
    /// worker per node and job, so each node's admin <c>/metrics</c> gauge <c>arroyo_node_running_workers</c> is the
    /// placement evidence. That gauge is a lazy_static first touched when the node starts its first worker
    /// (arroyo-node/src/lib.rs, v0.11.0): a node whose <c>/metrics</c> lacks it ran no worker yet and counts 0 —
    /// provided its admin <c>/name</c> says <c>worker</c> (what 0.11's node daemon answers; else it is not an Arroyo
    /// node's admin port: bad response). One row per node
    /// with running workers &gt; 0; it counts workers of every running job, not only <paramref name="job"/>. A node
    /// that does not answer is an error (its URI in the target object).
    /// </summary>
    public async Task<IReadOnlyList<SubtaskPlacement>> GetPlacementAsync(StreamJobHandle job, CancellationToken cancellationToken)
    {
        var rows = new List<SubtaskPlacement>();
        foreach (var node in Settings.NodeAdminUris)
        {
            var uri = new Uri(node, "metrics");
            var (text, failure) = await _http.SendAsync(HttpMethod.Get, uri, null, cancellationToken).ConfigureAwait(false);
            if (failure is not null) throw Map(failure, uri.ToString());
            var m = ParsePrometheus(text);
            if (!m.TryGetValue(RunningWorkersMetric, out var workers))
            {
                // The node daemon's admin server is started as start_admin_server("worker") (arroyo/src/main.rs
                // start_node, v0.11.0) and /name answers "worker\n"; the controller's says "cluster"/"controller".
                var nameUri = new Uri(node, "name");
                var (name, nameFailure) = await _http.SendAsync(HttpMethod.Get, nameUri, null, cancellationToken).ConfigureAwait(false);
                if (nameFailure is not null || name.Trim() != "worker")
                    throw _http.BadResponse(uri, $"no {RunningWorkersMetric} and {nameUri} does not say 'worker' (is this an Arroyo node's admin port?)");
                workers = 0; // a node daemon that has not run a worker since it started
            }
            if (workers <= 0) continue;
            rows.Add(new SubtaskPlacement
            {
                System = nameof(StreamSystem.Arroyo),
                JobId = job.JobId,
                Host = node.Host,
                Worker = node.Authority,
                Workers = (int)workers,
                Evidence = "NodeRunningWorkers",
            });
        }
        return rows;
    }

    /// <summary>The node daemon's gauge of workers it runs (arroyo.md §5.5).</summary>
    public const string RunningWorkersMetric = "arroyo_node_running_workers";

    /// <summary>Prometheus text format: sums samples per metric name (labels ignored), skips comments.</summary>
    internal static Dictionary<string, double> ParsePrometheus(string text)
    {
        var result = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.Trim();
            if (line.Length == 0 || line[0] == '#') continue;
            var nameEnd = line.IndexOfAny([' ', '{']);
            if (nameEnd <= 0) continue;
            var name = line[..nameEnd];
            var rest = line[nameEnd..];
            if (rest.StartsWith('{')) { var close = rest.IndexOf('}'); if (close < 0) continue; rest = rest[(close + 1)..]; }
            var parts = rest.Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length == 0 || !double.TryParse(parts[0], NumberStyles.Float, CultureInfo.InvariantCulture, out var value)) continue;
            result[name] = result.TryGetValue(name, out var prev) ? prev + value : value;
        }
        return result;
    }

    private static void RequirePipeline(StreamJobHandle job)
    {
        if (string.IsNullOrEmpty(job.PipelineId))
            throw new PiBenchException("PipelineIdMissing", PiBenchErrorCategory.InvalidArgument,
                $"The Arroyo job {job.JobId} has no pipeline id.", job.JobId, "Pass the NexmarkQueryRun returned by Invoke-NexmarkQuery (it carries PipelineId).");
    }

    public void Dispose() => _http.Dispose();

    /// <summary>The pipeline graph: node names and which nodes have no incoming (source) / outgoing (sink) edge.</summary>
    internal sealed class Graph
    {
        private readonly Dictionary<string, string> _names = new(StringComparer.Ordinal);
        private readonly HashSet<string> _hasIn = new(StringComparer.Ordinal);
        private readonly HashSet<string> _hasOut = new(StringComparer.Ordinal);
        private bool _known;

        public static Graph Parse(JsonObject? graph)
        {
            var g = new Graph();
            if (graph is null) return g;
            foreach (var n in graph["nodes"] as JsonArray ?? [])
            {
                var id = n.Str("nodeId");
                if (id.Length == 0) continue;
                var op = n.Str("operator");
                var desc = n.Str("description");
                g._names[id] = desc.Length > 0 && desc != op ? $"{op}: {desc}" : op;
                g._known = true;
            }
            foreach (var e in graph["edges"] as JsonArray ?? [])
            {
                g._hasOut.Add(e.Str("srcId"));
                g._hasIn.Add(e.Str("destId"));
            }
            return g;
        }

        public string Name(string id) => _names.TryGetValue(id, out var n) ? n : id;
        public bool IsSource(string id) => _known && _names.ContainsKey(id) && !_hasIn.Contains(id);
        public bool IsSink(string id) => _known && _names.ContainsKey(id) && !_hasOut.Contains(id);
    }
}
