using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace PiBench.StandIns;

/// <summary>
/// A stand-in for Apache Arroyo 0.11's REST API (<c>/api/v1</c> on one port) and the controller's admin port
/// (<c>/status</c>, <c>/metrics</c>), built from shared/reference/arroyo.md §2: field names, camelCase, job states,
/// <c>{"error": "…"}</c> bodies, 400 on bad SQL, DELETE only when stopped, metric groups as
/// <c>{data:[{operatorId, metricGroups:[{name, subtasks:[{index, metrics:[{time, value}]}]}]}]}</c>.
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
    public int RegisteredNodes { get; set; } = 9;
    public int RegisteredSlots { get; set; } = 9;
    public int FreeSlots { get; set; } = 0;
    /// <summary>Node daemons' admin ports (5114 on Pi2–Pi10), added by <see cref="AddNodes"/>.</summary>
    public IReadOnlyList<StandInHttpServer> Nodes => _nodes;
    private readonly List<StandInHttpServer> _nodes = [];
    /// <summary>Running workers node k reports. Default: the node scheduler with one slot per node — one worker per node
    /// for the first Σ parallelism of the Running pipelines. <c>_ =&gt; 0</c> stands in for the process scheduler
    /// (every worker on the controller, the nodes idle).</summary>
    public Func<int, int>? RunningWorkersOn { get; set; }

    /// <summary>Starts <paramref name="count"/> node admin stand-ins (<c>/status</c>, <c>/metrics</c> with
    /// <c>arroyo_node_running_workers</c>, arroyo.md §5.5) and returns their base URIs.</summary>
    public IReadOnlyList<Uri> AddNodes(int count)
    {
        for (var i = 0; i < count; i++)
        {
            var k = _nodes.Count;
            _nodes.Add(new StandInHttpServer($"arroyo-node-{k}", r => HandleNodeAdmin(k, r)));
        }
        return _nodes.Select(n => n.BaseUri).ToList();
    }

    private int DefaultRunningWorkers(int k)
    {
        lock (_gate)
            return k < _pipelines.Values.Where(p => !p.Deleted && p.State == "Running").Sum(p => p.Parallelism) ? 1 : 0;
    }

    private StandInResponse HandleNodeAdmin(int k, RecordedRequest r) => r.Path switch
    {
        "/status" => StandInResponse.Text("ok"),
        "/name" => StandInResponse.Text("arroyo-node"),
        "/metrics" => StandInResponse.Text(
            "# HELP arroyo_node_running_workers Number of workers running on this node\n" +
            "# TYPE arroyo_node_running_workers gauge\n" +
            $"arroyo_node_running_workers {(RunningWorkersOn ?? DefaultRunningWorkers)(k)}\n" +
            "process_cpu_seconds_total{service=\"node\"} 3.5\n"),
        _ => StandInResponse.Text("not found", 404),
    };

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
                if (State == "Running") StartTime ??= DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1000;
            }
        }
    }

    private static StandInResponse Error(string message, int status) => StandInResponse.Json(new JsonObject { ["error"] = message }, status);

    private StandInResponse HandleAdmin(RecordedRequest r) => r.Path switch
    {
        "/status" => StandInResponse.Text("ok"),
        "/name" => StandInResponse.Text("arroyo-controller"),
        "/metrics" => StandInResponse.Text(
            "# HELP arroyo_controller_registered_nodes Number of registered nodes\n" +
            "# TYPE arroyo_controller_registered_nodes gauge\n" +
            $"arroyo_controller_registered_nodes {RegisteredNodes}\n" +
            "# TYPE arroyo_controller_registered_slots gauge\n" +
            $"arroyo_controller_registered_slots {RegisteredSlots}\n" +
            "# TYPE arroyo_controller_free_slots gauge\n" +
            $"arroyo_controller_free_slots {FreeSlots}\n" +
            "process_cpu_seconds_total{service=\"controller\"} 12.5\n"),
        _ => StandInResponse.Text("not found", 404),
    };

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
            if (path == "/api/v1/pipelines" && r.Method == "GET")
                return StandInResponse.Json(new JsonObject { ["data"] = new JsonArray(_pipelines.Values.Where(p => !p.Deleted).Select(PipelineJson).ToArray()), ["hasMore"] = false });
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

    private StandInResponse Validate(RecordedRequest r)
    {
        var query = r.Json?["query"]?.GetValue<string>();
        if (query is null) return Error("Failed to deserialize the JSON body into the target type: missing field `query`", 422);
        var invalid = RejectQueryContaining is not null && query.Contains(RejectQueryContaining, StringComparison.Ordinal);
        return StandInResponse.Json(new JsonObject
        {
            ["graph"] = invalid ? null : GraphJson(1),
            ["errors"] = invalid ? new JsonArray(ValidationError) : new JsonArray(),
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
        if (RejectQueryContaining is not null && query.Contains(RejectQueryContaining, StringComparison.Ordinal)) return Error(ValidationError, 400);
        if (CreateError is not null) return Error(CreateError, 400);
        var n = Interlocked.Increment(ref _next);
        var p = new Pipeline
        {
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

    /// <summary>Graph: 1 kafka source → 2 value (projection) → 3 blackhole sink, every node at the pipeline's parallelism.</summary>
    private static JsonObject GraphJson(int parallelism) => new()
    {
        ["nodes"] = new JsonArray(
            new JsonObject { ["nodeId"] = 1, ["operator"] = "kafka", ["description"] = "KafkaSource<nexmark>", ["parallelism"] = parallelism },
            new JsonObject { ["nodeId"] = 2, ["operator"] = "value", ["description"] = "projection", ["parallelism"] = parallelism },
            new JsonObject { ["nodeId"] = 3, ["operator"] = "blackhole", ["description"] = "BlackholeSink", ["parallelism"] = parallelism }),
        ["edges"] = new JsonArray(
            new JsonObject { ["srcId"] = 1, ["destId"] = 2, ["keyType"] = "()", ["valueType"] = "Record", ["edgeType"] = "forward" },
            new JsonObject { ["srcId"] = 2, ["destId"] = 3, ["keyType"] = "()", ["valueType"] = "Record", ["edgeType"] = "forward" }),
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
        ["graph"] = GraphJson(p.Parallelism),
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

    private StandInResponse Metrics(Pipeline p)
    {
        if (p.State != "Running") return StandInResponse.Json(new JsonObject { ["data"] = new JsonArray() });
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1000;
        JsonObject Group(string name, Func<int, double> latest) => new()
        {
            ["name"] = name,
            ["subtasks"] = new JsonArray(Enumerable.Range(0, p.Parallelism).Select(i => (JsonNode)new JsonObject
            {
                ["index"] = i,
                // an older point first, with a different value: the latest must win
                ["metrics"] = new JsonArray(
                    new JsonObject { ["time"] = now - 2_000_000, ["value"] = latest(i) / 2 + 7 },
                    new JsonObject { ["time"] = now, ["value"] = latest(i) }),
            }).ToArray()),
        };
        JsonObject Op(string id, Func<int, double> recv, Func<int, double> sent, double bp) => new()
        {
            ["operatorId"] = id,
            ["metricGroups"] = new JsonArray(
                Group("messages_recv", recv), Group("messages_sent", sent), Group("backpressure", _ => bp),
                Group("bytes_recv", i => recv(i) * 100), Group("bytes_sent", i => sent(i) * 100)),
        };
        if (LiveRates is { } live)
        {
            var (source, sink) = live(p.Id);
            var n = Math.Max(1, p.Parallelism);
            return StandInResponse.Json(new JsonObject
            {
                ["data"] = new JsonArray(
                    Op("1", _ => 0, _ => source / n, 0),
                    Op("2", _ => source / n, _ => sink / n, Backpressure),
                    Op("3", _ => sink / n, _ => 0, 0)),
            });
        }
        return StandInResponse.Json(new JsonObject
        {
            ["data"] = new JsonArray(
                Op("1", _ => 0, i => SourceRate + i, 0),
                Op("2", _ => SourceRate, i => SourceRate / 2, Backpressure),
                Op("3", _ => SourceRate / 2, _ => 0, 0)),
        });
    }

    public void Dispose()
    {
        Api.Dispose();
        Admin.Dispose();
        foreach (var n in _nodes) n.Dispose();
    }
}
