using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace PiBench.StandIns;

/// <summary>
/// A stand-in for Apache Arroyo v0.11.0's REST API (<c>/api/v1</c> on one port), the controller's admin port and the
/// node daemons' admin ports (<c>/status</c>, <c>/metrics</c>), following the released source (tag v0.11.0, paths
/// under crates/): field names and types of arroyo-rpc/src/api_types/{pipelines,metrics,mod}.rs (camelCase, string
/// node/operator ids), <c>{"error": "…"}</c> bodies (arroyo-api/src/rest_utils.rs), validate_query answering 200 with
/// <c>{graph|null, errors:[String]}</c> (arroyo-api/src/pipelines.rs), pagination of GET /pipelines (rest_utils.rs,
/// api_queries.sql), DELETE only when terminal, EWMA metric groups (arroyo-controller/src/job_controller/job_metrics.rs)
/// and the Prometheus gauges 0.11 really exports (arroyo-controller/src/schedulers/mod.rs, arroyo-node/src/lib.rs).
/// SQL goes through <see cref="Arroyo011SqlChecker"/> (not a planner: see there what it checks).
/// Each poll of a pipeline's jobs advances the job one state along its script, so tests see every state.
/// </summary>
public sealed class ArroyoStandIn : IDisposable
{
    private readonly object _gate = new();
    private readonly Dictionary<string, Pipeline> _pipelines = new(StringComparer.Ordinal);
    private int _next;

    public ArroyoStandIn()
    {
        Api = new StandInHttpServer("arroyo-api", HandleApi);
        Admin = new StandInHttpServer("arroyo-admin", HandleAdmin);
    }

    /// <summary>API + UI port (5115 in production).</summary>
    public StandInHttpServer Api { get; }
    /// <summary>Admin port (5114 in production).</summary>
    public StandInHttpServer Admin { get; }
    public Uri ApiUri => Api.BaseUri;
    public Uri AdminUri => Admin.BaseUri;

    /// <summary>States a new job walks through, one per poll; the last one stays.</summary>
    public List<string> StartStates { get; set; } = ["Created", "Compiling", "Scheduling", "Running"];
    /// <summary>States after PATCH stop = graceful / immediate / force.</summary>
    public List<string> StopStates { get; set; } = ["Stopping", "Stopped"];
    /// <summary>States after PATCH stop = checkpoint.</summary>
    public List<string> CheckpointStopStates { get; set; } = ["CheckpointStopping", "Stopped"];
    /// <summary>A new pipeline's job list stays empty for this many polls (the job appears a moment after the pipeline).</summary>
    public int JobListedAfterPolls { get; set; }
    /// <summary>When set, new jobs fail after compiling with this failureMessage.</summary>
    public string? FailWith { get; set; }
    /// <summary>When set, a failed job's failureMessage is null and this is the first job error instead.</summary>
    public string? JobErrorMessage { get; set; }
    /// <summary>Queries containing this text are invalid: validate_query lists <see cref="ValidationError"/>, create answers 400.</summary>
    public string? RejectQueryContaining { get; set; }
    public string ValidationError { get; set; } = "Error during planning: table 'nope' not found";
    /// <summary>When set, validate_query passes but create answers 400 with this message.</summary>
    public string? CreateError { get; set; }
    /// <summary>Latest messages_sent of each source subtask i is SourceRate + i.</summary>
    public double SourceRate { get; set; } = 1000;
    /// <summary>
    /// When set, a pipeline's metrics come from what really flows (a consuming stand-in): (records/s out of the source,
    /// records/s into the sink) for the pipeline id, spread evenly over the subtasks.
    /// </summary>
    public Func<string, (double Source, double Sink)>? LiveRates { get; set; }
    /// <summary>Latest backpressure of the middle operator's subtasks.</summary>
    public double Backpressure { get; set; } = 0.25;
    /// <summary>Check every query as 0.11 would (<see cref="Arroyo011SqlChecker"/>); on by default.</summary>
    public bool CheckSql { get; set; } = true;
    /// <summary>The controller's metric collection period (job_metrics.rs COLLECTION_RATE = 2 s); tests may shorten it.</summary>
    public TimeSpan MetricsInterval { get; set; } = TimeSpan.FromSeconds(2);
    /// <summary>ARROYO__NODE__TASK_SLOTS of every node (PiBench deploys 1).</summary>
    public int SlotsPerNode { get; set; } = 1;
    /// <summary>Node daemons' admin ports (5114 on Pi2–Pi10), added by <see cref="AddNodes"/>.</summary>
    public IReadOnlyList<StandInHttpServer> Nodes => _nodes;
    private readonly List<StandInHttpServer> _nodes = [];
    /// <summary>Running workers node k reports. Default: the node scheduler with one slot per node — one worker per node
    /// for the first Σ parallelism of the Running pipelines. <c>_ =&gt; 0</c> stands in for the process scheduler
    /// (every worker on the controller, the nodes idle).</summary>
    public Func<int, int>? RunningWorkersOn { get; set; }

    // Node scheduler bookkeeping (arroyo-controller/src/schedulers/mod.rs, v0.11.0): every registration (a node start,
    // each with a fresh random id: arroyo-node/src/lib.rs start_server) adds its slots to both gauges (NodeStatus::new);
    // expiring or restarting a node never subtracts them. The gauges are lazy_static: absent until the first
    // registration. arroyo_controller_registered_nodes is declared but never touched, so it is never exported.
    private int _registrations;
    private readonly List<bool> _nodeRanWorker = [];
    private readonly List<bool> _nodeUp = [];

    /// <summary>Node registrations the controller has counted since it started (node starts and restarts).</summary>
    public int Registrations { get { lock (_gate) return _registrations; } }

    /// <summary>Starts <paramref name="count"/> node daemons: admin stand-ins (<c>/status</c>, <c>/metrics</c>) that
    /// register <see cref="SlotsPerNode"/> slots each with the controller; returns their base URIs.</summary>
    public IReadOnlyList<Uri> AddNodes(int count)
    {
        lock (_gate)
        {
            for (var i = 0; i < count; i++)
            {
                var k = _nodes.Count;
                _nodes.Add(new StandInHttpServer($"arroyo-node-{k}", r => HandleNodeAdmin(k, r)));
                _nodeRanWorker.Add(false);
                _nodeUp.Add(true);
                _registrations++;
            }
            return _nodes.Select(n => n.BaseUri).ToList();
        }
    }

    /// <summary>Node k's process restarts: a new random node id registers again (slot gauges grow, never shrink) and
    /// its running-workers gauge is a fresh lazy_static: absent until it runs a worker again.</summary>
    public void RestartNode(int k)
    {
        lock (_gate)
        {
            _registrations++;
            _nodeRanWorker[k] = false;
            _nodeUp[k] = true;
        }
    }

    /// <summary>Node k's daemon is down: its admin port answers nothing useful (503 here, connection refused for real);
    /// the controller keeps its slots in the gauges.</summary>
    public void StopNode(int k) { lock (_gate) _nodeUp[k] = false; }

    /// <summary>Slots held by running jobs: a job needs max operator parallelism slots (slot sharing, scheduling.rs).</summary>
    private int TakenSlots() => _pipelines.Values.Where(p => !p.Deleted && p.State is "Running" or "Scheduling" or "Recovering" or "Rescaling").Sum(p => p.Parallelism);

    private int DefaultRunningWorkers(int k)
    {
        // Greedy placement (schedulers/mod.rs start_workers): the node with most free slots first; with one slot per
        // node that is one worker per node for the first Σ parallelism nodes that are up.
        var up = Enumerable.Range(0, _nodes.Count).Where(i => _nodeUp[i]).ToList();
        var slotsNeeded = TakenSlots();
        var rank = up.IndexOf(k);
        return rank >= 0 && rank * SlotsPerNode < slotsNeeded ? 1 : 0;
    }

    private StandInResponse HandleNodeAdmin(int k, RecordedRequest r)
    {
        lock (_gate)
        {
            if (!_nodeUp[k]) return StandInResponse.Text("node down", 503);
            var workers = (RunningWorkersOn ?? DefaultRunningWorkers)(k);
            if (workers > 0) _nodeRanWorker[k] = true;
            return r.Path switch
            {
                // arroyo-server-common admin routes: /status answers "ok"
                "/status" => StandInResponse.Text("ok"),
                // arroyo/src/main.rs start_node: start_admin_server("worker"); arroyo-server-common root(): "{name}\n"
                "/name" => StandInResponse.Text("worker\n"),
                // arroyo-node/src/lib.rs: WORKERS is a lazy_static gauge first touched by WORKERS.inc() when a worker
                // starts: an idle node that never ran one exports no arroyo_node_running_workers line at all.
                "/metrics" => StandInResponse.Text(
                    (_nodeRanWorker[k]
                        ? "# HELP arroyo_node_running_workers number of workers managed by this node\n" +
                          "# TYPE arroyo_node_running_workers gauge\n" +
                          $"arroyo_node_running_workers {workers}\n"
                        : "") +
                    "# TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total 3.5\n"),
                _ => StandInResponse.Text("not found", 404),
            };
        }
    }

    public IReadOnlyList<RecordedRequest> Requests => Api.Requests;

    /// <summary>The pipelines created so far (name, query, parallelism, stop mode, current state).</summary>
    public IReadOnlyList<PipelineInfo> Pipelines
    {
        get { lock (_gate) return _pipelines.Values.Select(p => p.Info()).ToList(); }
    }

    public sealed record PipelineInfo(string Id, string JobId, string Name, string Query, int Parallelism, long? CheckpointIntervalMicros,
        string Stop, string State, bool Deleted, IReadOnlyList<string> StatesSeen);

    private sealed class Pipeline
    {
        public int Seq;
        public long? RunningSince;
        public readonly Dictionary<(string Op, string Metric, int Subtask), Ewma> Rates = new();
        public int MetricTicks;
        public required string Id;
        public required string JobId;
        public required string Name;
        public required string Query;
        public int Parallelism;
        public long? CheckpointMicros;
        public string Stop = "none";
        public Queue<string> Pending = new();
        public string State = "";
        public string? Failure;
        public bool Deleted;
        public int JobPolls;
        public long CreatedAt = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1000;
        public long? StartTime;
        public List<string> Seen = [];

        public PipelineInfo Info() => new(Id, JobId, Name, Query, Parallelism, CheckpointMicros, Stop, State, Deleted, Seen.ToList());

        public void Advance()
        {
            if (Pending.Count > 0)
            {
                State = Pending.Dequeue();
                Seen.Add(State);
                if (State == "Running")
                {
                    StartTime ??= DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1000;
                    RunningSince ??= Environment.TickCount64;
                }
                else RunningSince = null;
            }
        }
    }

    private static StandInResponse Error(string message, int status) => StandInResponse.Json(new JsonObject { ["error"] = message }, status);

    private StandInResponse HandleAdmin(RecordedRequest r)
    {
        lock (_gate)
        {
            var registered = _registrations * SlotsPerNode;
            // free = registered - taken; slots of expired/restarted nodes stay counted (schedulers/mod.rs)
            var free = Math.Max(0, registered - TakenSlots());
            return r.Path switch
            {
                "/status" => StandInResponse.Text("ok"),
                "/name" => StandInResponse.Text("cluster\n"), // CPService::All.name() for `arroyo cluster`
                "/metrics" => StandInResponse.Text(
                    (_registrations > 0
                        ? "# HELP arroyo_controller_free_slots number of free task slots\n" +
                          "# TYPE arroyo_controller_free_slots gauge\n" +
                          $"arroyo_controller_free_slots {free}\n" +
                          "# HELP arroyo_controller_registered_slots total number of registered task slots\n" +
                          "# TYPE arroyo_controller_registered_slots gauge\n" +
                          $"arroyo_controller_registered_slots {registered}\n"
                        : "") +
                    "# TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total 12.5\n"),
                _ => StandInResponse.Text("not found", 404),
            };
        }
    }

    private StandInResponse HandleApi(RecordedRequest r)
    {
        if ((r.Method is "POST" or "PATCH") && (r.ContentType is null || !r.ContentType.StartsWith("application/json", StringComparison.Ordinal)))
            return Error("Expected request with `Content-Type: application/json`", 415);
        var path = r.Path.TrimEnd('/');
        lock (_gate)
        {
            if (path == "/api/v1/ping" && r.Method == "GET") return StandInResponse.Json(JsonValue.Create("Pong"));
            if (path == "/api/v1/pipelines/validate_query" && r.Method == "POST") return Validate(r);
            if (path == "/api/v1/pipelines" && r.Method == "POST") return Create(r);
            if (path == "/api/v1/pipelines" && r.Method == "GET") return ListPipelines(r);
            if (path == "/api/v1/jobs" && r.Method == "GET")
                return StandInResponse.Json(new JsonObject { ["data"] = new JsonArray(_pipelines.Values.Where(p => !p.Deleted).Select(p => (JsonNode)JobJson(p)).ToArray()) });

            var m = Regex.Match(path, @"^/api/v1/pipelines/(?<pid>[^/]+)(?<rest>/.*)?$");
            if (!m.Success) return Error("Not found", 404);
            if (!_pipelines.TryGetValue(m.Groups["pid"].Value, out var p) || p.Deleted) return Error("Pipeline not found", 404);
            var rest = m.Groups["rest"].Value;
            if (rest == "")
            {
                return r.Method switch
                {
                    "GET" => StandInResponse.Json(PipelineJson(p)),
                    "PATCH" => Patch(p, r),
                    "DELETE" => Delete(p),
                    _ => Error("Method not allowed", 405),
                };
            }
            if (rest == "/jobs" && r.Method == "GET")
            {
                if (++p.JobPolls <= JobListedAfterPolls) return StandInResponse.Json(new JsonObject { ["data"] = new JsonArray() });
                p.Advance();
                return StandInResponse.Json(new JsonObject { ["data"] = new JsonArray(JobJson(p)) });
            }
            var j = Regex.Match(rest, @"^/jobs/(?<jid>[^/]+)/(?<what>errors|checkpoints|operator_metric_groups)$");
            if (!j.Success || r.Method != "GET") return Error("Not found", 404);
            if (j.Groups["jid"].Value != p.JobId) return Error("Job not found", 404);
            return j.Groups["what"].Value switch
            {
                "errors" => Errors(p),
                "checkpoints" => StandInResponse.Json(new JsonObject { ["data"] = new JsonArray() }),
                _ => Metrics(p),
            };
        }
    }

    /// <summary>GET /api/v1/pipelines: newest first, <c>limit</c> (default 10) and <c>starting_after</c> (a pipeline id)
    /// as arroyo-api/src/pipelines.rs get_pipelines + rest_utils.rs validate_pagination_params/paginate_results +
    /// queries/api_queries.sql get_pipelines (ORDER BY created_at DESC) at v0.11.0.</summary>
    private StandInResponse ListPipelines(RecordedRequest r)
    {
        var limit = 10;
        if (r.Query.TryGetValue("limit", out var l))
        {
            if (!int.TryParse(l, out limit)) return Error("Failed to deserialize query string: limit: invalid digit found in string", 400);
            if (limit < 1) return Error("Limit must be greater than 0", 400);
        }
        var all = _pipelines.Values.Where(p => !p.Deleted).OrderByDescending(p => p.Seq).ToList();
        if (r.Query.TryGetValue("starting_after", out var after) && after.Length > 0)
        {
            var cursor = _pipelines.TryGetValue(Uri.UnescapeDataString(after), out var c) ? c.Seq : -1;
            all = all.Where(p => p.Seq < cursor).ToList();
        }
        var page = all.Take(limit).ToList();
        return StandInResponse.Json(new JsonObject
        {
            ["data"] = new JsonArray(page.Select(p => (JsonNode)PipelineJson(p)).ToArray()),
            ["hasMore"] = all.Count > limit,
        });
    }

    /// <summary>The error 0.11 would report for the query, or null: the test's forced rejection, else the checker.</summary>
    private string? QueryError(string query)
    {
        if (RejectQueryContaining is not null && query.Contains(RejectQueryContaining, StringComparison.Ordinal)) return ValidationError;
        return CheckSql ? Arroyo011SqlChecker.Check(query) : null;
    }

    private StandInResponse Validate(RecordedRequest r)
    {
        var query = r.Json?["query"]?.GetValue<string>();
        if (query is null) return Error("Failed to deserialize the JSON body into the target type: missing field `query`", 422);
        // arroyo-api/src/pipelines.rs validate_query: HTTP 200 either way, QueryValidationResult {graph, errors}
        var error = QueryError(query);
        return StandInResponse.Json(new JsonObject
        {
            ["graph"] = error is not null ? null : GraphJson(1, "nexmark_source", SinkName(query)),
            ["errors"] = error is not null ? new JsonArray(error) : new JsonArray(),
        });
    }

    private StandInResponse Create(RecordedRequest r)
    {
        var body = r.Json;
        var name = body?["name"]?.GetValue<string>();
        var query = body?["query"]?.GetValue<string>();
        if (name is null || query is null || body?["parallelism"] is null)
            return Error("Failed to deserialize the JSON body into the target type: missing field", 422);
        var parallelism = body["parallelism"]!.GetValue<int>();
        // compile_sql(...).map_err(|err| bad_request(err.to_string())): planning errors are 400 on create
        if (QueryError(query) is { } error) return Error(error, 400);
        if (CreateError is not null) return Error(CreateError, 400);
        var n = Interlocked.Increment(ref _next);
        var p = new Pipeline
        {
            Seq = n,
            Id = $"pl_standin{n:D4}",
            JobId = $"job_standin{n:D4}",
            Name = name,
            Query = query,
            Parallelism = parallelism,
            CheckpointMicros = body["checkpointIntervalMicros"]?.GetValue<long>(),
        };
        var states = FailWith is null && JobErrorMessage is null ? StartStates : ["Created", "Compiling", "Scheduling", "Failed"];
        foreach (var s in states) p.Pending.Enqueue(s);
        p.Failure = FailWith;
        _pipelines[p.Id] = p;
        return StandInResponse.Json(PipelineJson(p));
    }

    private StandInResponse Patch(Pipeline p, RecordedRequest r)
    {
        var stop = r.Json?["stop"]?.GetValue<string>();
        if (stop is not null)
        {
            if (stop is not ("none" or "checkpoint" or "graceful" or "immediate" or "force"))
                return Error($"Failed to deserialize the JSON body into the target type: stop: unknown variant `{stop}`", 422);
            p.Stop = stop;
            if (stop != "none" && p.State is not ("Stopped" or "Finished" or "Failed"))
            {
                p.Pending.Clear();
                foreach (var s in stop == "checkpoint" ? CheckpointStopStates : StopStates) p.Pending.Enqueue(s);
            }
        }
        if (r.Json?["parallelism"] is JsonNode par) p.Parallelism = par.GetValue<int>();
        return StandInResponse.Json(PipelineJson(p));
    }

    private StandInResponse Delete(Pipeline p)
    {
        if (p.State is not ("Stopped" or "Finished" or "Failed"))
            return Error("Pipeline's jobs must be in a terminal state (stopped, finished, or failed) before it can be deleted", 400);
        p.Deleted = true;
        return StandInResponse.Json(new JsonObject());
    }

    private StandInResponse Errors(Pipeline p)
    {
        var data = new JsonArray();
        if (p.State == "Failed" && (JobErrorMessage ?? FailWith) is { } msg)
            data.Add(new JsonObject
            {
                ["id"] = "err_1", ["createdAt"] = p.CreatedAt, ["operatorId"] = "1", ["taskIndex"] = 0,
                ["level"] = "error", ["message"] = msg, ["details"] = "panicked at worker",
            });
        return StandInResponse.Json(new JsonObject { ["data"] = data, ["hasMore"] = false });
    }

    /// <summary>Operator ids as 0.11's planner names them (arroyo-planner/src/extension/{table_source,remote_table,sink}.rs:
    /// <c>source_{table}_{i}</c>, <c>value_{i}</c>, <c>sink_{table}_{i}</c>); strings in the graph and in metric groups.</summary>
    public const string SourceOperatorId = "source_nexmark_source_1";
    public const string ValueOperatorId = "value_2";
    public static string SinkOperatorId(string sink) => $"sink_{sink}_3";

    private static string SinkName(string query) =>
        Regex.Match(query, @"INSERT\s+INTO\s+(\w+)", RegexOptions.IgnoreCase) is { Success: true } m ? m.Groups[1].Value.ToLowerInvariant() : "preview";

    /// <summary>Graph (arroyo-datastream/src/logical.rs TryFrom&lt;LogicalProgram&gt; for PipelineGraph, v0.11.0): string
    /// nodeId/srcId/destId, connector name as a connector node's operator, keyType/valueType "()", edgeType the
    /// LogicalEdgeType Debug name. 1 kafka source → 2 value → 3 sink, every node at the pipeline's parallelism.</summary>
    private static JsonObject GraphJson(int parallelism, string source, string sink) => new()
    {
        ["nodes"] = new JsonArray(
            new JsonObject { ["nodeId"] = SourceOperatorId, ["operator"] = "kafka", ["description"] = $"KafkaSource<{source}>", ["parallelism"] = parallelism },
            new JsonObject { ["nodeId"] = ValueOperatorId, ["operator"] = "ArrowValue", ["description"] = "arrow_value", ["parallelism"] = parallelism },
            new JsonObject { ["nodeId"] = SinkOperatorId(sink), ["operator"] = "blackhole", ["description"] = "BlackholeSink", ["parallelism"] = parallelism }),
        ["edges"] = new JsonArray(
            new JsonObject { ["srcId"] = SourceOperatorId, ["destId"] = ValueOperatorId, ["keyType"] = "()", ["valueType"] = "()", ["edgeType"] = "Forward" },
            new JsonObject { ["srcId"] = ValueOperatorId, ["destId"] = SinkOperatorId(sink), ["keyType"] = "()", ["valueType"] = "()", ["edgeType"] = "Forward" }),
    };

    private static JsonObject PipelineJson(Pipeline p) => new()
    {
        ["id"] = p.Id,
        ["name"] = p.Name,
        ["query"] = p.Query,
        ["udfs"] = new JsonArray(),
        ["checkpointIntervalMicros"] = p.CheckpointMicros ?? 10_000_000,
        ["stop"] = p.Stop,
        ["createdAt"] = p.CreatedAt,
        ["action"] = p.State is "Stopped" or "Failed" ? "none" : "stop",
        ["actionText"] = p.State is "Stopped" or "Failed" ? "Start" : p.State is "Stopping" or "CheckpointStopping" ? "Stopping" : "Stop",
        ["actionInProgress"] = p.State is "Stopping" or "CheckpointStopping",
        ["graph"] = GraphJson(p.Parallelism, "nexmark_source", SinkName(p.Query)),
        ["preview"] = false,
    };

    private static JsonObject JobJson(Pipeline p) => new()
    {
        ["id"] = p.JobId,
        ["runningDesired"] = p.Stop == "none",
        ["state"] = p.State == "" ? "Created" : p.State,
        ["runId"] = 1,
        ["startTime"] = p.StartTime,
        ["finishTime"] = p.State is "Stopped" or "Finished" or "Failed" ? DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1000 : null,
        ["tasks"] = p.State == "Running" ? p.Parallelism * 3 : null,
        ["failureMessage"] = p.State == "Failed" ? p.Failure : null,
        ["createdAt"] = p.CreatedAt,
    };

    /// <summary>One subtask's rate series: job_metrics.rs RateMetric (EWMA over counter deltas) in a CircularBuffer of
    /// NUM_BUCKETS = 5 min / 2 s = 150 points.</summary>
    private sealed class Ewma
    {
        public bool HasPrev;
        public readonly List<(long Time, double Value)> Values = [];

        public void Push(long time, double value)
        {
            Values.Add((time, value));
            if (Values.Count > 150) Values.RemoveAt(0);
        }
    }

    /// <summary>The "true" per-second rates the stand-in's pipeline runs at, per operator and subtask.</summary>
    private (double Recv, double Sent) TrueRate(Pipeline p, string op, int i)
    {
        if (LiveRates is { } live)
        {
            var (source, sink) = live(p.Id);
            var n = Math.Max(1, p.Parallelism);
            return op == SourceOperatorId ? (0, source / n) : op == ValueOperatorId ? (source / n, sink / n) : (sink / n, 0);
        }
        return op == SourceOperatorId ? (0, SourceRate + i) : op == ValueOperatorId ? (SourceRate, SourceRate / 2) : (SourceRate / 2, 0);
    }

    /// <summary>
    /// GET …/operator_metric_groups as arroyo-controller/src/job_controller/job_metrics.rs (v0.11.0) computes it: the
    /// controller collects worker counters every <see cref="MetricsInterval"/> (COLLECTION_RATE 2 s); a rate point
    /// needs two collections (RateMetric::add keeps the first as prev only), then
    /// <c>rate = (1 - 0.1)·last + 0.1·(Δcount/Δt)</c> (EWMA_ALPHA 0.1: ~20 s memory); backpressure gets a point at
    /// every collection. get_groups drops subtasks without points, so the first answers have rate groups with empty
    /// or partial subtask lists (here odd subtasks' workers report one collection later). Operators and groups come
    /// out of HashMaps (no order). A job the controller does not run answers <c>data: []</c> (arroyo-api metrics.rs).
    /// </summary>
    private StandInResponse Metrics(Pipeline p)
    {
        if (p.State != "Running" || p.RunningSince is not { } since) return StandInResponse.Json(new JsonObject { ["data"] = new JsonArray() });
        var interval = Math.Max(1, (long)MetricsInterval.TotalMilliseconds);
        var elapsed = Environment.TickCount64 - since;
        var ticks = (int)Math.Min(elapsed / interval + 1, int.MaxValue);
        var startWallUs = (DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - elapsed) * 1000;
        var ops = new[] { SinkOperatorId(SinkName(p.Query)), SourceOperatorId, ValueOperatorId };
        var first = Math.Max(p.MetricTicks, ticks - 150);
        for (var t = first; t < ticks; t++)
        {
            var time = startWallUs + t * interval * 1000;
            for (var i = 0; i < p.Parallelism; i++)
            {
                if (t < i % 2) continue; // this subtask's worker has not reported yet
                foreach (var op in ops)
                {
                    var (recv, sent) = TrueRate(p, op, i);
                    var bp = op == ValueOperatorId ? Backpressure : 0;
                    Series(p, op, "backpressure", i).Push(time, bp);
                    foreach (var (metric, rate) in new[] { ("messages_recv", recv), ("messages_sent", sent), ("bytes_recv", recv * 100), ("bytes_sent", sent * 100) })
                    {
                        var e = Series(p, op, metric, i);
                        if (!e.HasPrev) { e.HasPrev = true; continue; }
                        e.Push(time, e.Values.Count == 0 ? rate : 0.9 * e.Values[^1].Value + 0.1 * rate);
                    }
                }
            }
        }
        p.MetricTicks = Math.Max(p.MetricTicks, ticks);

        var data = new JsonArray();
        foreach (var op in ops)
        {
            var groups = new JsonArray();
            foreach (var metric in new[] { "backpressure", "messages_sent", "bytes_recv", "messages_recv", "bytes_sent" })
            {
                var subtasks = new JsonArray();
                for (var i = p.Parallelism - 1; i >= 0; i--)
                {
                    if (!p.Rates.TryGetValue((op, metric, i), out var e) || e.Values.Count == 0) continue;
                    subtasks.Add(new JsonObject
                    {
                        ["index"] = i,
                        ["metrics"] = new JsonArray(e.Values.Select(v => (JsonNode)new JsonObject { ["time"] = v.Time, ["value"] = v.Value }).ToArray()),
                    });
                }
                groups.Add(new JsonObject { ["name"] = metric, ["subtasks"] = subtasks });
            }
            data.Add(new JsonObject { ["operatorId"] = op, ["metricGroups"] = groups });
        }
        return StandInResponse.Json(new JsonObject { ["data"] = data });
    }

    private static Ewma Series(Pipeline p, string op, string metric, int i)
    {
        if (!p.Rates.TryGetValue((op, metric, i), out var e)) p.Rates[(op, metric, i)] = e = new Ewma();
        return e;
    }

    public void Dispose()
    {
        Api.Dispose();
        Admin.Dispose();
        foreach (var n in _nodes) n.Dispose();
    }
}
