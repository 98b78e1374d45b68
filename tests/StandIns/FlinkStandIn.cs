using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace PiBench.StandIns;

/// <summary>
/// A stand-in for Apache Flink 1.18.1: the SQL Gateway (its own port, /v1 and /v2: sessions, statements, operation status
/// and results where an INSERT's result carries <c>jobID</c>) and the JobManager REST API (another port: jobs, vertices,
/// vertex/subtask metrics with string values, cancel, stop with savepoint, TaskManagers), built from
/// shared/reference/flink.md §1–§3. Errors are <c>{"errors": ["…", "…stack…"]}</c>. Each GET /jobs/:jid advances the job one
/// state along its script, so tests see every state.
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

    /// <summary>States a new job walks through, one per GET /jobs/:jid; the last one stays.</summary>
    public List<string> StartStates { get; set; } = ["INITIALIZING", "CREATED", "RUNNING"];
    /// <summary>When set, new jobs fail (RUNNING → FAILING → FAILED) with this root cause.</summary>
    public string? FailWith { get; set; }
    /// <summary>Statements containing this text fail: status ERROR, result fetch HTTP 500 with <see cref="StatementError"/> as root cause.</summary>
    public string? RejectStatementContaining { get; set; }
    public string StatementError { get; set; } = "org.apache.flink.table.api.ValidationException: Object 'nope' not found within 'default_catalog.default_database'";
    /// <summary>How many result fetches of an INSERT answer NOT_READY first.</summary>
    public int NotReadyFetches { get; set; } = 1;
    /// <summary>Latest source-operator numRecordsOutPerSecond of subtask i is SourceRate + i.</summary>
    public double SourceRate { get; set; } = 2000;
    /// <summary>backPressuredTimeMsPerSecond of the source subtasks.</summary>
    public double BackPressuredMsPerSecond { get; set; } = 500;
    /// <summary>When set, stop-with-savepoint completes with this failure cause.</summary>
    public string? SavepointFailure { get; set; }
    public int TaskManagers { get; set; } = 9;
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
        bool StopRequested, JsonObject? StopBody);

    public IReadOnlyList<SessionInfo> Sessions
    {
        get { lock (_gate) return _sessions.Values.Select(s => new SessionInfo(s.Handle, s.Properties, s.Statements.ToList(), s.Configs.ToList(), s.Closed)).ToList(); }
    }

    public IReadOnlyList<JobInfo> Jobs
    {
        get { lock (_gate) return _jobs.Values.Select(j => new JobInfo(j.Id, j.Name, j.Parallelism, j.State, j.Seen.ToList(), j.CancelMode, j.StopBody is not null, j.StopBody)).ToList(); }
    }

    private sealed class Session
    {
        public required string Handle;
        public Dictionary<string, string> Properties = new(StringComparer.Ordinal);
        public List<string> Statements = [];
        public List<JsonObject?> Configs = [];
        public Dictionary<string, Operation> Operations = new(StringComparer.Ordinal);
        public bool Closed;
    }

    private sealed class Operation
    {
        public required string Handle;
        public required string Statement;
        public string? JobId;
        public bool Failed;
        public int NotReadyLeft;
    }

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
        public long Start = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

        public void Advance()
        {
            if (Pending.Count == 0) return;
            State = Pending.Dequeue();
            Seen.Add(State);
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
            if (what == "status") return StandInResponse.Json(new JsonObject { ["status"] = op.Failed ? "ERROR" : "FINISHED" });
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
        var op = new Operation { Handle = Guid.NewGuid().ToString(), Statement = statement };
        op.Failed = RejectStatementContaining is not null && statement.Contains(RejectStatementContaining, StringComparison.Ordinal);
        if (!op.Failed && Regex.IsMatch(statement, @"^\s*INSERT\s+INTO", RegexOptions.IgnoreCase))
        {
            var n = Interlocked.Increment(ref _next);
            var job = new Job
            {
                Id = n.ToString("x32", CultureInfo.InvariantCulture),
                Name = (r.Json?["executionConfig"]?["pipeline.name"]?.GetValue<string>()) ?? (session.Properties.TryGetValue("pipeline.name", out var pn) ? pn : "insert-into"),
                Parallelism = int.Parse(session.Properties.TryGetValue("parallelism.default", out var p) ? p : "1", CultureInfo.InvariantCulture),
                Failure = FailWith,
            };
            foreach (var s in FailWith is null ? StartStates : ["INITIALIZING", "CREATED", "RUNNING", "FAILING", "FAILED"]) job.Pending.Enqueue(s);
            _jobs[job.Id] = job;
            op.JobId = job.Id;
            op.NotReadyLeft = NotReadyFetches;
        }
        session.Operations[op.Handle] = op;
        return StandInResponse.Json(new JsonObject { ["operationHandle"] = op.Handle });
    }

    private StandInResponse Result(Session session, Operation op, int token)
    {
        if (op.Failed)
            return Errors(500, "Internal server error.",
                "<Exception on server side:\norg.apache.flink.table.gateway.api.utils.SqlGatewayException: Failed to fetchResults.\n" +
                "\tat org.apache.flink.table.gateway.rest.handler.statement.FetchResultsHandler.handleRequest(FetchResultsHandler.java:91)\n" +
                "Caused by: org.apache.flink.table.gateway.service.utils.SqlExecutionException: Failed to execute the operation " + op.Handle + ".\n" +
                "\tat org.apache.flink.table.gateway.service.operation.OperationManager$Operation.processThrowable(OperationManager.java:414)\n" +
                "Caused by: " + StatementError + "\n" +
                "\tat org.apache.flink.table.planner.calcite.FlinkPlannerImpl.validate(FlinkPlannerImpl.scala:188)\n\nEnd of exception on server side>");
        var next = $"/v2/sessions/{session.Handle}/operations/{op.Handle}/result/{token + 1}?rowFormat=JSON";
        if (op.JobId is not null && op.NotReadyLeft > 0)
        {
            op.NotReadyLeft--;
            return StandInResponse.Json(new JsonObject { ["resultType"] = "NOT_READY", ["isQueryResult"] = false, ["resultKind"] = "SUCCESS_WITH_CONTENT", ["nextResultUri"] = $"/v2/sessions/{session.Handle}/operations/{op.Handle}/result/{token}?rowFormat=JSON" });
        }
        if (token > 0) return StandInResponse.Json(new JsonObject { ["resultType"] = "EOS", ["isQueryResult"] = false, ["resultKind"] = "SUCCESS_WITH_CONTENT" });
        if (op.JobId is not null)
            return StandInResponse.Json(new JsonObject
            {
                ["resultType"] = "PAYLOAD",
                ["isQueryResult"] = false,
                ["jobID"] = op.JobId,
                ["resultKind"] = "SUCCESS_WITH_CONTENT",
                ["results"] = new JsonObject
                {
                    ["columns"] = new JsonArray(new JsonObject { ["name"] = "job id", ["logicalType"] = new JsonObject { ["type"] = "VARCHAR", ["nullable"] = true, ["length"] = 2147483647 }, ["comment"] = null }),
                    ["rowFormat"] = "JSON",
                    ["data"] = new JsonArray(new JsonObject { ["kind"] = "INSERT", ["fields"] = new JsonArray(op.JobId) }),
                },
                ["nextResultUri"] = next,
            });
        return StandInResponse.Json(new JsonObject
        {
            ["resultType"] = "PAYLOAD",
            ["isQueryResult"] = false,
            ["resultKind"] = "SUCCESS",
            ["results"] = new JsonObject
            {
                ["columns"] = new JsonArray(new JsonObject { ["name"] = "result", ["logicalType"] = new JsonObject { ["type"] = "VARCHAR", ["nullable"] = true, ["length"] = 2147483647 }, ["comment"] = null }),
                ["rowFormat"] = "JSON",
                ["data"] = new JsonArray(new JsonObject { ["kind"] = "INSERT", ["fields"] = new JsonArray("OK") }),
            },
            ["nextResultUri"] = next,
        });
    }

    // ---------------------------------------------------------------- JobManager REST

    private const string SourceVertex = "cbc357ccb763df2852fee8c4fc7d55f2";
    private const string SinkVertex = "90bea66de1c231edf33913ecd54406c1";
    private const string SourceName = "Source: TableSourceScan(table=[[default_catalog, default_database, kafka]], fields=[event_type, person, auction, bid]) -> Calc(select=[bid.auction AS auction])";
    private const string SourceOperatorMetric = "Source__TableSourceScan(table=[[default_catalog__default_database__kafka]]__fi";

    private StandInResponse HandleRest(RecordedRequest r)
    {
        var path = r.Path.TrimEnd('/');
        if (path.StartsWith("/v1/", StringComparison.Ordinal)) path = path[3..];
        lock (_gate)
        {
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
                            ["duration"] = 5000, ["last-modification"] = j.Start, ["tasks"] = new JsonObject { ["total"] = j.Parallelism },
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
            if (rest == "" && r.Method == "GET") { job.Advance(); return StandInResponse.Json(JobDetails(job)); }
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
            var vd = Regex.Match(rest, @"^/vertices/(?<vid>[0-9a-f]{32})$");
            if (vd.Success)
            {
                if (vd.Groups["vid"].Value is not (SourceVertex or SinkVertex)) return Errors(404, "Vertex not found");
                return StandInResponse.Json(VertexDetails(job, vd.Groups["vid"].Value));
            }
            var v = Regex.Match(rest, @"^/vertices/(?<vid>[0-9a-f]{32})/(?<what>metrics|subtasks/metrics)$");
            if (!v.Success) return Errors(404, "Not found: " + path);
            var vid = v.Groups["vid"].Value;
            if (vid is not (SourceVertex or SinkVertex)) return Errors(404, "Vertex not found");
            return v.Groups["what"].Value == "metrics" ? VertexMetrics(job, vid, r) : SubtaskMetrics(job, vid, r);
        }
    }

    private JsonObject JobDetails(Job job)
    {
        JsonObject Vertex(string id, string name) => new()
        {
            ["id"] = id, ["name"] = name, ["maxParallelism"] = 128, ["parallelism"] = job.Parallelism,
            ["status"] = job.State is "RUNNING" ? "RUNNING" : job.State == "CANCELLING" ? "CANCELING" : job.State == "CANCELED" ? "CANCELED" : "CREATED",
            ["start-time"] = job.Start, ["end-time"] = -1, ["duration"] = 1000,
            ["tasks"] = new JsonObject { ["RUNNING"] = job.State == "RUNNING" ? job.Parallelism : 0 },
            ["metrics"] = new JsonObject
            {
                ["read-bytes"] = 0, ["read-bytes-complete"] = true, ["write-bytes"] = 0, ["write-bytes-complete"] = true,
                ["read-records"] = 0, ["read-records-complete"] = true, ["write-records"] = 0, ["write-records-complete"] = true,
                ["accumulated-backpressured-time"] = 0, ["accumulated-idle-time"] = 0, ["accumulated-busy-time"] = 0.0,
            },
        };
        return new JsonObject
        {
            ["jid"] = job.Id, ["name"] = job.Name, ["isStoppable"] = false, ["state"] = job.State,
            ["start-time"] = job.Start, ["end-time"] = job.Terminal ? job.Start + 5000 : -1, ["duration"] = 5000, ["maxParallelism"] = -1,
            ["now"] = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(),
            ["timestamps"] = new JsonObject { [job.State] = job.Start },
            ["vertices"] = new JsonArray(Vertex(SourceVertex, SourceName), Vertex(SinkVertex, "Sink: nexmark_q0[2]: Writer")),
            ["status-counts"] = new JsonObject { ["RUNNING"] = job.State == "RUNNING" ? 2 : 0 },
            ["plan"] = new JsonObject
            {
                ["jid"] = job.Id, ["name"] = job.Name, ["type"] = "STREAMING",
                ["nodes"] = new JsonArray(
                    new JsonObject { ["id"] = SinkVertex, ["parallelism"] = job.Parallelism, ["operator"] = "", ["description"] = "Sink: nexmark_q0", ["inputs"] = new JsonArray(new JsonObject { ["num"] = 0, ["id"] = SourceVertex, ["ship_strategy"] = "HASH", ["exchange"] = "pipelined_bounded" }) },
                    new JsonObject { ["id"] = SourceVertex, ["parallelism"] = job.Parallelism, ["operator"] = "", ["description"] = SourceName }),
            },
        };
    }

    /// <summary>JobVertexDetailsInfo (flink.md §1.2 <c>/jobs/:jid/vertices/:vid</c>): subtasks with host, 1.18's
    /// endpoint (host:port) and taskmanager-id.</summary>
    private JsonObject VertexDetails(Job job, string vid) => new()
    {
        ["id"] = vid, ["name"] = vid == SourceVertex ? SourceName : "Sink: nexmark_q0[2]: Writer",
        ["parallelism"] = job.Parallelism, ["maxParallelism"] = 128, ["now"] = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(),
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

    private IEnumerable<(string Id, double Value)> Metrics(Job job, string vid)
    {
        var isSource = vid == SourceVertex;
        for (var i = 0; i < job.Parallelism; i++)
        {
            var rate = SourceRate + i;
            yield return ($"{i}.numRecordsIn", isSource ? 0 : 5000 * (i + 1));
            yield return ($"{i}.numRecordsOut", isSource ? 5000 * (i + 1) : 0);
            yield return ($"{i}.numRecordsInPerSecond", isSource ? 0 : rate);
            yield return ($"{i}.numRecordsOutPerSecond", isSource ? rate : 0);
            yield return ($"{i}.busyTimeMsPerSecond", 400);
            yield return ($"{i}.idleTimeMsPerSecond", 100);
            yield return ($"{i}.backPressuredTimeMsPerSecond", isSource ? BackPressuredMsPerSecond : 0);
            yield return ($"{i}.isBackPressured", isSource && BackPressuredMsPerSecond > 0 ? 1 : 0);
            if (isSource)
            {
                yield return ($"{i}.{SourceOperatorMetric}.numRecordsOut", 10_000 * (i + 1));
                yield return ($"{i}.{SourceOperatorMetric}.numRecordsOutPerSecond", rate);
                yield return ($"{i}.{SourceOperatorMetric}.pendingRecords", 42);
            }
        }
    }

    private static IReadOnlyList<string> GetIds(RecordedRequest r) =>
        r.Query.TryGetValue("get", out var g) ? g.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(Uri.UnescapeDataString).ToList() : [];

    private StandInResponse VertexMetrics(Job job, string vid, RecordedRequest r)
    {
        var all = Metrics(job, vid).ToList();
        var ids = GetIds(r);
        if (ids.Count == 0) return StandInResponse.Json(new JsonArray(all.Select(m => (JsonNode)new JsonObject { ["id"] = m.Id }).ToArray()));
        var byId = all.ToDictionary(m => m.Id, m => m.Value);
        return StandInResponse.Json(new JsonArray(ids.Where(byId.ContainsKey).Select(id =>
            (JsonNode)new JsonObject { ["id"] = id, ["value"] = byId[id].ToString(CultureInfo.InvariantCulture) }).ToArray()));
    }

    private StandInResponse SubtaskMetrics(Job job, string vid, RecordedRequest r)
    {
        var groups = Metrics(job, vid).GroupBy(m => m.Id[(m.Id.IndexOf('.') + 1)..]).ToDictionary(g => g.Key, g => g.Select(x => x.Value).ToList());
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
