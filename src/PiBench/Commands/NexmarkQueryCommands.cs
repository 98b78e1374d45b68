using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;
using PiBench.Core;
using PiBench.Core.Engines;

namespace PiBench.Commands;

/// <summary>
/// Completes Nexmark query names (q0 … q22) from the embedded catalog; with -System given, only the queries that engine
/// can run.
/// </summary>
public sealed class NexmarkQueryNameCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        var word = (wordToComplete ?? "").Trim('\'', '"');
        var pattern = WildcardPattern.Get(word + "*", WildcardOptions.IgnoreCase);
        var system = fakeBoundParameters?["System"]?.ToString();
        var engine = string.Equals(system, nameof(StreamSystem.Arroyo), StringComparison.OrdinalIgnoreCase) ? nameof(StreamSystem.Arroyo) : nameof(StreamSystem.Flink);
        foreach (var q in NexmarkQueryCatalog.Default.Queries.Where(q => q.System == engine && (system is null || q.Supported)))
            if (pattern.IsMatch(q.Name))
                yield return new CompletionResult(q.Name, q.Name, CompletionResultType.ParameterValue, $"{q.Name}: {q.Title}");
    }
}

/// <summary>Endpoint parameters shared by the engine cmdlets.</summary>
/// <remarks>
/// Precedence: -EngineUri and -AuxiliaryUri win for their endpoint; -ControllerAddress wins for the host of the others.
/// A topology is in use when -Topology is given or when neither -ControllerAddress nor -EngineUri is (from parameters or
/// the pipeline): then the default topology is loaded, and the controller address and the engine ports (arroyo.api_port
/// and admin_port, flink.rest_port and sql_gateway_port) not given come from it. Without a topology the ports are the
/// engines' defaults (5115/5114, 8081/8083).
/// </remarks>
public abstract class EngineEndpointCmdlet : TopologyCmdlet
{
    /// <summary>Address of the controller node that runs the Arroyo cluster service or the Flink JobManager and SQL Gateway. Default: the topology's controller (-Topology, else the default topology) with its engine ports; the ports are 5115/5114 and 8081/8083 without a topology.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [Alias("Controller")]
    public string? ControllerAddress { get; set; }

    /// <summary>Full URI of the engine's main endpoint, overriding ControllerAddress: the Arroyo API (http://host:5115) or the Flink JobManager REST API (http://host:8081).</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [Alias("ApiUri", "JobManagerUri")]
    public string? EngineUri { get; set; }

    /// <summary>Full URI of the engine's second endpoint: the Arroyo admin port (http://host:5114, for Get-StreamWorker) or the Flink SQL Gateway (http://host:8083).</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [Alias("SqlGatewayUri", "AdminUri")]
    public string? AuxiliaryUri { get; set; }

    /// <summary>Seconds each HTTP request may take before it fails with EngineTimeout.</summary>
    [Parameter]
    [ValidateRange(1, 3600)]
    public int RequestTimeoutSeconds { get; set; } = 30;

    /// <summary>Milliseconds between state polls while waiting.</summary>
    [Parameter]
    [ValidateRange(10, 60000)]
    public int PollIntervalMilliseconds { get; set; } = 1000;

    private readonly Dictionary<string, IDisposable> _engines = new(StringComparer.Ordinal);

    /// <summary>Arroyo/Flink (validated by ValidateSet) to the Core enum; Core types stay out of parameter and field types,
    /// because PowerShell reflects over cmdlet parameters before the module's load context is hooked.</summary>
    protected static StreamSystem ParseSystem(string value) => Enum.Parse<StreamSystem>(value, ignoreCase: true);

    /// <summary>The topology when one is in use for the engine endpoints: -Topology given, or neither -ControllerAddress
    /// nor -EngineUri bound (then the default topology). Null when the explicit endpoints say everything.</summary>
    protected Core.Topology.ClusterTopology? EndpointTopology() =>
        TopologyInUse(endpointGiven: !string.IsNullOrWhiteSpace(ControllerAddress) || !string.IsNullOrWhiteSpace(EngineUri));

    /// <summary>The adapter for a system at the given (or bound) endpoints; cached for the command's lifetime.</summary>
    protected IStreamEngine Engine(StreamSystem system, string? controller = null, string? engineUri = null, string? auxiliaryUri = null)
    {
        controller = string.IsNullOrWhiteSpace(controller) ? ControllerAddress : controller;
        engineUri = string.IsNullOrWhiteSpace(engineUri) ? EngineUri : engineUri;
        auxiliaryUri = string.IsNullOrWhiteSpace(auxiliaryUri) ? AuxiliaryUri : auxiliaryUri;
        // Explicit endpoints win; a topology (the -Topology file, else the default one when no endpoint is given) fills the rest.
        var topology = TopologyInUse(endpointGiven: !string.IsNullOrWhiteSpace(controller) || !string.IsNullOrWhiteSpace(engineUri));
        var defaults = new StreamEngineSettings();
        if (string.IsNullOrWhiteSpace(controller)) controller = topology?.ControllerAddress;
        var key = $"{system}|{controller}|{engineUri}|{auxiliaryUri}|{topology?.Path}";
        if (_engines.TryGetValue(key, out var cached)) return (IStreamEngine)cached;
        var settings = new StreamEngineSettings
        {
            System = system,
            ControllerAddress = string.IsNullOrWhiteSpace(controller) ? "127.0.0.1" : controller!,
            ArroyoApiPort = topology?.Arroyo.ApiPort ?? defaults.ArroyoApiPort,
            ArroyoAdminPort = topology?.Arroyo.AdminPort ?? defaults.ArroyoAdminPort,
            FlinkRestPort = topology?.Flink.RestPort ?? defaults.FlinkRestPort,
            FlinkGatewayPort = topology?.Flink.SqlGatewayPort ?? defaults.FlinkGatewayPort,
            EngineUri = ParseUri(engineUri, "EngineUri"),
            AuxiliaryUri = ParseUri(auxiliaryUri, "AuxiliaryUri"),
            RequestTimeout = TimeSpan.FromSeconds(RequestTimeoutSeconds),
            PollInterval = TimeSpan.FromMilliseconds(PollIntervalMilliseconds),
            SubmitTimeout = TimeSpan.FromSeconds(Math.Max(RequestTimeoutSeconds * 4, 60)),
            // Arroyo 0.11 exports no node count: the topology's workers' admin ports (/status) and slots per node give it.
            NodeAdminUris = system == StreamSystem.Arroyo && topology is not null
                ? topology.Workers.Select(w => new Uri($"http://{(w.Address.Contains(':') ? $"[{w.Address}]" : w.Address)}:{topology.Arroyo.AdminPort}/")).ToList()
                : [],
            ArroyoSlotsPerNode = topology?.Arroyo.TaskSlots ?? defaults.ArroyoSlotsPerNode,
        };
        IStreamEngine engine;
        try { engine = StreamEngine.Create(settings, log: Log); }
        catch (PiBenchException ex) { ThrowTerminatingError(ex); throw; }
        _engines[key] = engine;
        return engine;
    }

    private Uri? ParseUri(string? value, string parameter)
    {
        if (string.IsNullOrWhiteSpace(value)) return null;
        if (!Uri.TryCreate(value, UriKind.Absolute, out var uri))
            ThrowArgumentError("EngineUriInvalid", $"-{parameter} '{value}' is not an absolute URI.", value, "Use e.g. http://192.168.2.70:8081.");
        return uri;
    }

    protected override Task EndProcessingAsync(CancellationToken cancellationToken)
    {
        foreach (var e in _engines.Values) e.Dispose();
        _engines.Clear();
        return Task.CompletedTask;
    }
}

/// <summary>Lists the Nexmark queries PiBench carries, for Arroyo and Flink, with their SQL and whether each engine can run them.</summary>
/// <remarks>
/// <para>The catalog holds Nexmark q0 to q22 as published by the Flink Nexmark suite (Flink SQL) and, where Arroyo 0.11 can express
/// them, an Arroyo SQL version. Each row is one query for one engine: Supported says whether the engine can run it and Notes why
/// not, or what differs from the suite. Sql is the query file (sink table and INSERT); the source DDL reading the generator's
/// Kafka topic is added at submit time.</para>
/// </remarks>
/// <example><code>Get-NexmarkQuery -System Arroyo</code><para>Lists every query for Arroyo with its support status.</para></example>
/// <example><code>Get-NexmarkQuery -Name q5,q7 -System Flink | ForEach-Object Sql</code><para>Shows the Flink SQL of q5 and q7.</para></example>
[Cmdlet(VerbsCommon.Get, "NexmarkQuery")]
[OutputType("PiBench.Core.Engines.NexmarkQuery")]
public sealed class GetNexmarkQueryCommand : PiBenchCmdlet
{
    /// <summary>Query names (q0 … q22); wildcards allowed. All when omitted.</summary>
    [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(NexmarkQueryNameCompleter))]
    [SupportsWildcards]
    public string[]? Name { get; set; }

    /// <summary>Only this engine's version (Arroyo, Flink or Reference). All when omitted.</summary>
    [Parameter(Position = 1)]
    [ValidateSet("Arroyo", "Flink", "Reference")]
    public string? System { get; set; }

    /// <summary>Only queries the engine can run.</summary>
    [Parameter]
    public SwitchParameter Supported { get; set; }

    protected override Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        StreamSystem? system = string.IsNullOrEmpty(System) ? null : Enum.Parse<StreamSystem>(System, ignoreCase: true);
        foreach (var name in Name ?? ["*"])
        {
            try
            {
                foreach (var q in NexmarkQueryCatalog.Default.Find([name], system))
                    if (!Supported || q.Supported) WriteObject(q);
            }
            catch (PiBenchException ex) { WriteError(ex); }
        }
        return Task.CompletedTask;
    }
}

/// <summary>The parameters that render a Nexmark query's script (Invoke-NexmarkQuery submits it, Test-NexmarkQuery checks it),
/// and how the values not given come from the topology.</summary>
public abstract class NexmarkScriptCmdlet : EngineEndpointCmdlet
{
    /// <summary>Parallelism of every operator (Arroyo) / the job's default parallelism (Flink). Default: the topology's parallelism (one per worker) when a topology is in use, else 9.</summary>
    [Parameter]
    [ValidateRange(1, 4096)]
    public int? Parallelism { get; set; }

    /// <summary>Kafka bootstrap servers written into the source (and capture sink). Default: the topology's controller address and kafka.port when a topology is in use, else the controller address, port 9092.</summary>
    [Parameter]
    public string? BootstrapServers { get; set; }

    /// <summary>The generator's topic. Default: the topology's kafka.input_topic when a topology is in use, else nexmark.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Topic { get; set; }

    /// <summary>Kafka consumer group of the source.</summary>
    [Parameter]
    public string? GroupId { get; set; }

    /// <summary>Placeholder values for the query resources (e.g. @{ STARTUP_MODE = 'latest-offset'; NEXMARK_DIR = '/data/nexmark' }).</summary>
    [Parameter]
    public Hashtable? Parameter { get; set; }

    /// <summary>The render options for a query on this engine: a parameter given wins, then the topology in use, then the
    /// defaults (parallelism 9, topic nexmark, the controller's port 9092).</summary>
    protected NexmarkRenderOptions RenderOptions(IStreamEngine engine, Core.Topology.ClusterTopology? topology, string? resultTopic, bool latencyVariant) => new()
    {
        BootstrapServers = !string.IsNullOrWhiteSpace(BootstrapServers) ? BootstrapServers!
            : topology?.KafkaBootstrap ?? $"{(string.IsNullOrWhiteSpace(ControllerAddress) ? engine.Settings.ApiUri.Host : ControllerAddress)}:9092",
        Topic = !string.IsNullOrEmpty(Topic) ? Topic! : topology?.Kafka.InputTopic ?? "nexmark",
        GroupId = GroupId,
        Parallelism = Parallelism ?? topology?.Parallelism ?? 9,
        ResultTopic = resultTopic,
        LatencyVariant = latencyVariant,
        Parameters = Parameter?.Cast<DictionaryEntry>().ToDictionary(e => e.Key.ToString()!, e => e.Value?.ToString() ?? "", StringComparer.OrdinalIgnoreCase),
    };
}

/// <summary>Submits Nexmark queries to Arroyo or Flink and returns a NexmarkQueryRun handle per query at once.</summary>
/// <remarks>
/// <para>Each query is rendered from the catalog (source DDL reading the generator's Kafka topic, the query, a discarding sink or,
/// with -ResultTopic, a Kafka sink), then submitted: Arroyo through POST /api/v1/pipelines after validate_query, Flink through a
/// SQL Gateway session whose INSERT returns the job id. The command returns once the engine has a job id; use Wait-NexmarkQueryRun
/// to wait for Running and Get-NexmarkQueryRun for state and metrics.</para>
/// <para>All names are checked before anything is submitted: an unknown query or one the engine cannot run stops the command
/// (or, with -SkipUnsupported, is skipped with a warning).</para>
/// <para>Where the values come from: a parameter you give always wins. A topology is in use when -Topology is given or when
/// neither -ControllerAddress nor -EngineUri is (then the default topology): it supplies the engine endpoints (controller
/// address, arroyo.api_port/admin_port, flink.rest_port/sql_gateway_port), the Kafka bootstrap servers (controller address and
/// kafka.port), the topic (kafka.input_topic) and the parallelism (benchmark.parallelism, i.e. one per worker) that are not given.
/// Without a topology the defaults are parallelism 9, topic nexmark and bootstrap servers on the controller's port 9092.</para>
/// </remarks>
/// <example><code>Invoke-NexmarkQuery -Name q5 -System Arroyo -Topology ./lab.yaml</code><para>Submits q5 to the lab cluster's Arroyo, reading its Kafka input topic, at one subtask per worker.</para></example>
/// <example><code>Invoke-NexmarkQuery -Name q1,q3 -System Flink -ControllerAddress 192.168.2.70</code><para>Submits q1 and q3 to Flink at parallelism 9.</para></example>
/// <example><code>Get-NexmarkQuery -System Arroyo -Supported | Invoke-NexmarkQuery -ControllerAddress 192.168.2.70 -Parallelism 9</code><para>Submits every query Arroyo can run.</para></example>
[Cmdlet(VerbsLifecycle.Invoke, "NexmarkQuery", SupportsShouldProcess = true)]
[OutputType("PiBench.Core.Engines.NexmarkQueryRun")]
public sealed class InvokeNexmarkQueryCommand : NexmarkScriptCmdlet
{
    /// <summary>Query names (q0 … q22).</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true, HelpMessage = "Nexmark query names, e.g. q1,q5")]
    [ArgumentCompleter(typeof(NexmarkQueryNameCompleter))]
    public string[] Name { get; set; } = [];

    /// <summary>The engine: Arroyo or Flink; or Reference, PiBench's reference implementation running in this process (a correctness reference, not an engine to compare against).</summary>
    [Parameter(Mandatory = true, Position = 1, ValueFromPipelineByPropertyName = true, HelpMessage = "Arroyo, Flink or Reference")]
    [ValidateSet("Arroyo", "Flink", "Reference")]
    public string System { get; set; } = "";

    /// <summary>Capture the result: replace the discarding sink by a Kafka sink writing to this topic (use a different topic per query).</summary>
    [Parameter]
    public string? ResultTopic { get; set; }

    /// <summary>Checkpoint interval in seconds (engine default when omitted).</summary>
    [Parameter]
    [ValidateRange(1, 86400)]
    public int CheckpointIntervalSeconds { get; set; }

    /// <summary>Skip queries the engine cannot run (with a warning) instead of stopping before any submission.</summary>
    [Parameter]
    public SwitchParameter SkipUnsupported { get; set; }

    private readonly List<(string Name, string System)> _requested = [];

    protected override Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        foreach (var n in Name)
            foreach (var part in n.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                _requested.Add((part, System));
        return Task.CompletedTask;
    }

    protected override async Task EndProcessingAsync(CancellationToken cancellationToken)
    {
        try
        {
            // 1. Resolve everything first: nothing is submitted if any pair is unknown or unsupported.
            var queries = new List<NexmarkQuery>();
            foreach (var (name, system) in _requested)
            {
                NexmarkQuery q;
                try { q = NexmarkQueryCatalog.Default.Get(name, ParseSystem(system)); }
                catch (PiBenchException ex) { ThrowTerminatingError(ex); throw; }
                if (!q.Supported)
                {
                    if (SkipUnsupported) { WriteWarning($"{q.Name} is skipped: {q.System} cannot run it ({q.Notes})"); continue; }
                    ThrowTerminatingError(NexmarkQueryCatalog.Unsupported(q));
                }
                if (!queries.Any(x => x.Name == q.Name && x.System == q.System)) queries.Add(q);
            }
            var topology = queries.Count > 0 ? EndpointTopology() : null;

            // 2. Submit one by one; a failure of one query does not stop the others.
            foreach (var q in queries)
            {
                var engine = Engine(Enum.Parse<StreamSystem>(q.System));
                var options = RenderOptions(engine, topology, ResultTopic, latencyVariant: false);
                string sqlCheck;
                try { sqlCheck = NexmarkQueryCatalog.Default.Render(q, options); }
                catch (PiBenchException ex) { WriteError(ex); continue; }
                if (!ShouldProcess($"{q.Name} on {q.System} ({engine.Settings.ApiUri})", $"Submit at parallelism {options.Parallelism} ({sqlCheck.Length} characters of SQL)"))
                    continue;
                try
                {
                    var run = await NexmarkQueryRunner.SubmitAsync(engine, q, options,
                        CheckpointIntervalSeconds > 0 ? TimeSpan.FromSeconds(CheckpointIntervalSeconds) : null, cancellationToken);
                    WriteObject(run);
                }
                catch (PiBenchException ex) { WriteError(ex); }
            }
        }
        finally
        {
            await base.EndProcessingAsync(cancellationToken);
        }
    }
}

/// <summary>Parameters that identify a submitted query; they bind by property name from a NexmarkQueryRun (or a CSV row of one).</summary>
public abstract class NexmarkRunCmdlet : EngineEndpointCmdlet
{
    /// <summary>The engine that runs the job.</summary>
    [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true, HelpMessage = "Arroyo, Flink or Reference")]
    [ValidateSet("Arroyo", "Flink", "Reference")]
    public string System { get; set; } = "";

    /// <summary>The engine's job id.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true, HelpMessage = "Job id from Invoke-NexmarkQuery")]
    public string JobId { get; set; } = "";

    /// <summary>Arroyo pipeline id (required for Arroyo); Flink SQL Gateway session handle.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    public string? PipelineId { get; set; }

    /// <summary>The query name (q5), carried into the output.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    public string? Name { get; set; }

    /// <summary>The job name, carried into the output.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    public string? JobName { get; set; }

    /// <summary>The parallelism the query was submitted at, carried into the output.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    public int Parallelism { get; set; }

    /// <summary>The result topic, carried into the output.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    public string? ResultTopic { get; set; }

    /// <summary>When the query was submitted, carried into the output.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    public DateTimeOffset SubmittedAt { get; set; }

    protected NexmarkQueryRun BoundRun() => new()
    {
        Name = Name ?? "",
        System = ParseSystem(System).ToString(),
        JobId = JobId,
        PipelineId = PipelineId ?? "",
        JobName = JobName ?? Name ?? JobId,
        Parallelism = Parallelism,
        ResultTopic = ResultTopic ?? "",
        SubmittedAt = SubmittedAt,
    };
}

/// <summary>Refreshes submitted Nexmark queries: state, and metrics while they run.</summary>
/// <remarks>
/// <para>Reads the job's state (Arroyo: the pipeline's job; Flink: GET /jobs/:jid) and, while it runs, its metrics: records in and
/// out per operator and subtask, the source throughput (sum of the source subtasks' records/s) and backpressure. With -Operator
/// it writes one row per operator subtask instead of the run.</para>
/// <para>Endpoints: -EngineUri and -AuxiliaryUri (a NexmarkQueryRun from the pipeline carries both) win, then -ControllerAddress
/// with the engine's default ports; when -Topology is given, or no endpoint is, the topology (the -Topology file, else the default
/// topology) supplies the controller address and its engine ports.</para>
/// </remarks>
/// <example><code>$runs | Get-NexmarkQueryRun</code><para>Refreshes every handle Invoke-NexmarkQuery returned.</para></example>
/// <example><code>$run | Get-NexmarkQueryRun -Operator</code><para>Lists per-subtask records and backpressure of one query.</para></example>
/// <example><code>Get-NexmarkQueryRun -System Flink -JobId $jobId -Topology ./lab.yaml</code><para>Refreshes a Flink job of the lab cluster by id; the endpoints come from the topology.</para></example>
[Cmdlet(VerbsCommon.Get, "NexmarkQueryRun")]
[OutputType("PiBench.Core.Engines.NexmarkQueryRun", "PiBench.Core.Engines.StreamOperatorMetric")]
public sealed class GetNexmarkQueryRunCommand : NexmarkRunCmdlet
{
    /// <summary>Write one StreamOperatorMetric per operator subtask instead of the run.</summary>
    [Parameter]
    public SwitchParameter Operator { get; set; }

    protected override async Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        var engine = Engine(ParseSystem(System), null, EngineUri, AuxiliaryUri);
        try
        {
            var (run, metrics) = await NexmarkQueryRunner.RefreshAsync(engine, BoundRun(), cancellationToken);
            if (!Operator) { WriteObject(run); return; }
            if (metrics is null)
            {
                WriteWarning($"{run.Name} ({run.JobId}) is {run.EngineState}: no metrics outside Running.");
                return;
            }
            foreach (var m in metrics.Operators) WriteObject(m);
        }
        catch (PiBenchException ex) { WriteError(ex); }
    }
}

/// <summary>Waits until submitted Nexmark queries run (or end), then returns them refreshed.</summary>
/// <remarks>
/// <para>Polls the engine's job state. With -State Running (default) it returns when the job runs and fails with EngineJobFailed
/// (carrying the engine's failure message) if the job fails, or EngineTimeout after -TimeoutSeconds. With -State Terminal it
/// returns when the job is Stopped, Finished or Failed.</para>
/// <para>Endpoints: -EngineUri and -AuxiliaryUri (a NexmarkQueryRun from the pipeline carries both) win, then -ControllerAddress
/// with the engine's default ports; when -Topology is given, or no endpoint is, the topology (the -Topology file, else the default
/// topology) supplies the controller address and its engine ports.</para>
/// </remarks>
/// <example><code>Invoke-NexmarkQuery q5 Flink -ControllerAddress 192.168.2.70 | Wait-NexmarkQueryRun -TimeoutSeconds 120</code><para>Submits q5 and waits until it runs.</para></example>
[Cmdlet(VerbsLifecycle.Wait, "NexmarkQueryRun")]
[OutputType("PiBench.Core.Engines.NexmarkQueryRun")]
public sealed class WaitNexmarkQueryRunCommand : NexmarkRunCmdlet
{
    /// <summary>Wait for Running (default) or Terminal (Stopped, Finished or Failed).</summary>
    [Parameter]
    [ValidateSet("Running", "Terminal")]
    public string State { get; set; } = "Running";

    /// <summary>Longest wait per query, in seconds.</summary>
    [Parameter]
    [ValidateRange(1, 86400)]
    public int TimeoutSeconds { get; set; } = 120;

    protected override async Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        var engine = Engine(ParseSystem(System), null, EngineUri, AuxiliaryUri);
        var run = BoundRun();
        var terminal = State == "Terminal";
        var progress = Progress; // observed on pool threads: posted to the pipeline thread
        var label = string.IsNullOrEmpty(run.Name) ? run.JobId : run.Name;
        try
        {
            await engine.WaitAsync(run.ToHandle(),
                s => terminal ? s.State.IsTerminal() : s.State == StreamJobState.Running,
                TimeSpan.FromSeconds(TimeoutSeconds), cancellationToken,
                s => progress.Report("Wait for Nexmark queries", $"{label}: {s.EngineState}", -1, label),
                failOnFailed: !terminal);
            CompleteProgress("Wait for Nexmark queries", label);
            var (refreshed, _) = await NexmarkQueryRunner.RefreshAsync(engine, run, cancellationToken);
            WriteObject(refreshed);
        }
        catch (PiBenchException ex) { WriteError(ex); }
    }
}

/// <summary>Stops submitted Nexmark queries, gracefully or immediately, and cleans up after them.</summary>
/// <remarks>
/// <para>Immediate: Arroyo PATCH stop = "immediate", Flink cancel (PATCH /jobs/:jid?mode=cancel). Graceful: Arroyo stop = "graceful",
/// Flink stop with savepoint (needs a savepoint directory every TaskManager can write). The command then waits for a terminal state
/// and removes what the submission left (Arroyo deletes the pipeline, Flink closes the SQL Gateway session) unless -KeepPipeline
/// or -NoWait is given.</para>
/// <para>Endpoints: -EngineUri and -AuxiliaryUri (a NexmarkQueryRun from the pipeline carries both) win, then -ControllerAddress
/// with the engine's default ports; when -Topology is given, or no endpoint is, the topology (the -Topology file, else the default
/// topology) supplies the controller address and its engine ports.</para>
/// </remarks>
/// <example><code>$runs | Stop-NexmarkQuery</code><para>Stops every query immediately and deletes the Arroyo pipelines.</para></example>
/// <example><code>$run | Stop-NexmarkQuery -Mode Graceful -PassThru</code><para>Stops one query gracefully and returns its final state.</para></example>
[Cmdlet(VerbsLifecycle.Stop, "NexmarkQuery", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType("PiBench.Core.Engines.NexmarkQueryRun")]
public sealed class StopNexmarkQueryCommand : NexmarkRunCmdlet
{
    /// <summary>Graceful or Immediate (default).</summary>
    [Parameter]
    [ValidateSet("Graceful", "Immediate")]
    public string Mode { get; set; } = "Immediate";

    /// <summary>Return once the engine accepted the stop request (no wait, no cleanup).</summary>
    [Parameter]
    public SwitchParameter NoWait { get; set; }

    /// <summary>Keep the Arroyo pipeline / Flink session after the job stopped.</summary>
    [Parameter]
    public SwitchParameter KeepPipeline { get; set; }

    /// <summary>Longest wait for the job to stop, in seconds.</summary>
    [Parameter]
    [ValidateRange(1, 86400)]
    public int TimeoutSeconds { get; set; } = 60;

    /// <summary>Write the refreshed run after stopping.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override async Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        var run = BoundRun();
        var label = string.IsNullOrEmpty(run.Name) ? run.JobId : run.Name;
        var engine = Engine(ParseSystem(System), null, EngineUri, AuxiliaryUri);
        if (!ShouldProcess($"{label} ({System} job {JobId})", $"Stop ({Mode})")) return;
        try
        {
            var job = run.ToHandle();
            await engine.StopAsync(job, Enum.Parse<StreamStopMode>(Mode, ignoreCase: true), cancellationToken);
            if (NoWait)
            {
                if (PassThru) WriteObject((await NexmarkQueryRunner.RefreshAsync(engine, run, cancellationToken)).Run);
                return;
            }
            var final = await engine.WaitAsync(job, s => s.State.IsTerminal(), TimeSpan.FromSeconds(TimeoutSeconds), cancellationToken, failOnFailed: false);
            if (!KeepPipeline) await engine.RemoveAsync(job, cancellationToken);
            if (PassThru) WriteObject(NexmarkQueryRun.From(run.Name, job, engine, run.Parallelism, run.ResultTopic, final));
        }
        catch (PiBenchException ex) { WriteError(ex); }
    }
}

/// <summary>Lists the workers an engine sees: Flink TaskManagers, or Arroyo's live nodes and slots.</summary>
/// <remarks>
/// <para>Flink: one row per TaskManager from GET /taskmanagers (slots, free slots, cores, memory, heartbeat). Arroyo 0.11 has no REST
/// call that lists nodes and exports no node-count gauge: the command returns one summary row whose Nodes are the topology's workers
/// whose Arroyo admin /status answers, Slots = Nodes x the topology's Arroyo task slots, FreeSlots the controller's free-slot gauge
/// (admin /metrics, port 5114) less the slots of stale registrations, and Registrations the controller's count of node registrations
/// (registered slots / slots per node; it grows with every node restart and never shrinks). Without a topology (explicit endpoints)
/// Nodes is that registration count.</para>
/// <para>Endpoints: -EngineUri and -AuxiliaryUri (a NexmarkQueryRun from the pipeline carries both) win, then -ControllerAddress
/// with the engine's default ports; when -Topology is given, or no endpoint is, the topology (the -Topology file, else the default
/// topology) supplies the controller address and its engine ports.</para>
/// </remarks>
/// <example><code>Get-StreamWorker -System Flink</code><para>Lists the TaskManagers of the default topology's cluster.</para></example>
/// <example><code>Get-StreamWorker -System Flink -ControllerAddress 192.168.2.70</code><para>Lists the nine TaskManagers.</para></example>
/// <example><code>Get-StreamWorker -System Arroyo -ControllerAddress 192.168.2.70</code><para>Shows how many Arroyo nodes and slots the controller has.</para></example>
[Cmdlet(VerbsCommon.Get, "StreamWorker")]
[OutputType("PiBench.Core.Engines.StreamWorker")]
public sealed class GetStreamWorkerCommand : EngineEndpointCmdlet
{
    /// <summary>The engine: Arroyo or Flink.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true, HelpMessage = "Arroyo, Flink or Reference")]
    [ValidateSet("Arroyo", "Flink", "Reference")]
    public string System { get; set; } = "";

    protected override async Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        var engine = Engine(ParseSystem(System));
        try
        {
            foreach (var w in await engine.GetWorkersAsync(cancellationToken)) WriteObject(w);
        }
        catch (PiBenchException ex) { WriteError(ex); }
    }
}
