using System.Management.Automation;
using PiBench.Core;
using PiBench.Core.Benchmarking;
using PiBench.Core.Engines;
using PiBench.Core.Remote;
using PiBench.Core.Topology;

namespace PiBench.Commands;

/// <summary>Runs the Nexmark benchmark on Arroyo or Flink and writes one measured result per query and repetition.</summary>
/// <remarks>
/// <para>For each query and repetition: fresh input and result topics (one partition per worker), submit the query,
/// wait until it runs, start the Nexmark generator, warm up (the window opens once the engine's source rate is
/// steady, at the latest after -WarmupSeconds; -FixedWarmup always waits the full warm-up), measure -MeasureSeconds,
/// stop the query and the generator, and write a BenchmarkResult to the pipeline at once. The cell's topics are then
/// deleted (-KeepTopics keeps them).</para>
/// <para>InputRate and OutputRate = the engine's own figures over the window (records out of its sources and into its
/// sinks: Flink's counters, exact; Arroyo's smoothed rates, averaged over samples every 5 s; RateSource says which),
/// cross-checked with Kafka (KafkaInputRate from the consumer group's committed offsets, KafkaOutputRate from the result
/// topic's growth; RateCheck, tolerance 5 %, a mismatch is a warning). Engines commit offsets only when they checkpoint,
/// so over a window W with checkpoint interval C the Kafka input rate is uncertain by up to about C/W. Latency = the broker's log-append time of
/// each result minus the event time (or window end) it carries: both topics are created with
/// message.timestamp.type=LogAppendTime and each event's time is its intended send time on this host (Pi1, beside the
/// broker), so both ends are read off one clock and generator delays count (LatencyClock says which clock was used).
/// Recorded in an HdrHistogram (interval log written beside the results). CPU, memory, network, temperature and throttling come from every topology node over one
/// SSH channel each (Get-ClusterMetric), integrated over exactly the window: CpuCoreSeconds is the whole cluster's CPU
/// time (every node: engine, Kafka, MinIO, generator, OS). EngineCpuCoreSeconds is the system under test's alone: the
/// CPU time of the containers labelled pibench.system = the benchmarked engine, read from their cgroups by the same
/// loop (Get-ClusterMetric -Container) over the same window; EngineMemoryPeakMB is the highest sum of those
/// containers' latest memory readings at any sample time. Both are NaN when no engine container was sampled (e.g. the
/// Docker API could not be asked: one warning). The per-container breakdown is in the .json (Containers). Network is
/// per node only: with host networking the containers' traffic cannot be told apart. A run is Valid only if the generator
/// stayed on schedule, no node throttled, the job neither restarted nor failed and the consumer lag stayed bounded
/// (judged on the lag right after each checkpoint commit: the window must span two checkpoint intervals);
/// otherwise Valid is $false with the reason. Invalid runs are kept.</para>
/// <para>benchmark_results_YYYYMMDD_HHMMSS.txt (the original scripts' layout plus repetitions and 95 % confidence
/// intervals) and a .json with every figure and its provenance are rewritten atomically after each query. -Resume
/// finishes an interrupted run from its .json without repeating completed cells. Ctrl+C stops the running query and
/// the generator, keeps what was measured and marks the rest NotRun. -WhatIf prints the plan (and contacts no engine).
/// Before the first cell every query is checked on the engine without a job, as Test-NexmarkQuery does: one the engine
/// rejects stops the run with BenchmarkQueryRejected before anything is measured.</para>
/// <para>-Mode Sustainable searches, per query and repetition, the highest input rate whose measurement is valid:
/// isolated steps (fresh topics, fresh job) starting at -EventsPerSecond, multiplied by -StepFactor while they pass (up
/// to -MaxEventsPerSecond), then bisecting between the highest passing and the lowest failing rate until they are within
/// -Resolution. A step passes when it is Valid (lag bounded, no restart, no throttling, generator on schedule), its
/// input rate reached -MinInputFraction of the target and, with -LatencySloMs, its p99 latency is within the objective. A step where the generator itself fell behind ends the
/// search (LimitedBy Generator: the engine's limit lies above what this host can drive). Each step's generator sends
/// rate x (warm-up + measurement + 30 s) events (-TotalEvents does not apply). The pipeline gets one
/// SustainableThroughputResult per search; every step is in the results files.</para>
/// </remarks>
/// <example><code>Invoke-Benchmark -System Flink | Export-Csv results.csv</code><para>The default campaign from the topology file, as a CSV table.</para></example>
/// <example><code>Invoke-Benchmark -System Arroyo -Query q1,q5 -EventsPerSecond 20000 -Repetitions 5 -WhatIf</code><para>Shows the ten cells that would run.</para></example>
/// <example><code>Invoke-Benchmark -System Arroyo -Resume ./benchmark_results_20261130_220000.json</code><para>Finishes an interrupted run. Give the same settings as the run it resumes (system, queries, rate, events, parallelism, seed, warm-up, window, topology): -Resume refuses a file of another run and names the difference.</para></example>
/// <example><code>Invoke-Benchmark -System Flink -Mode Sustainable -Query q1,q5 -EventsPerSecond 20000 -MaxEventsPerSecond 320000 -Repetitions 3 -LatencySloMs 1000</code><para>Finds each query's highest sustainable input rate three times (mean and 95 % CI in the results files), counting a p99 above one second as a failure.</para></example>
[Cmdlet(VerbsLifecycle.Invoke, "Benchmark", SupportsShouldProcess = true)]
[OutputType(typeof(BenchmarkResult), typeof(SustainableThroughputResult))]
public sealed class InvokeBenchmarkCommand : PiBenchCmdlet
{
    /// <summary>The engine: Arroyo or Flink; or Reference, PiBench's reference implementation in this process (a correctness reference and a way to try PiBench on one machine with the embedded broker, not an engine to compare against).</summary>
    [Parameter(Mandatory = true, Position = 0, HelpMessage = "Arroyo, Flink or Reference.")]
    [ValidateSet("Arroyo", "Flink", "Reference")]
    public string System { get; set; } = "";

    /// <summary>Queries to run, in order (default: the topology's benchmark.queries, q1,q2,q3,q4,q5,q7,q8, leaving out with a warning those the engine cannot run, e.g. q4 on Arroyo).</summary>
    [Parameter]
    [ArgumentCompleter(typeof(NexmarkQueryNameCompleter))]
    public string[]? Query { get; set; }

    /// <summary>Generator target rate, events per second (default: the topology's, 10,000).</summary>
    [Parameter]
    [ValidateRange(1, 100_000_000)]
    public double EventsPerSecond { get; set; }

    /// <summary>Most events the generator sends per cell (default: the topology's, 10,000,000).</summary>
    [Parameter]
    [ValidateRange(1, long.MaxValue)]
    public long TotalEvents { get; set; }

    /// <summary>Query parallelism (default: one per worker).</summary>
    [Parameter]
    [ValidateRange(1, 4096)]
    public int Parallelism { get; set; }

    /// <summary>Kafka partitions of the fresh topics (default: one per worker).</summary>
    [Parameter]
    [ValidateRange(1, 10_000)]
    public int Partitions { get; set; }

    /// <summary>Repetitions per query (default: the topology's, 3).</summary>
    [Parameter]
    [ValidateRange(1, 1000)]
    public int Repetitions { get; set; }

    /// <summary>Longest warm-up, seconds (default: the topology's, 30).</summary>
    [Parameter]
    [ValidateRange(0, 86_400)]
    public int WarmupSeconds { get; set; } = -1;

    /// <summary>Always wait the full warm-up instead of opening the window at steady state.</summary>
    [Parameter]
    public SwitchParameter FixedWarmup { get; set; }

    /// <summary>Measured window, seconds (default: the topology's, 120).</summary>
    [Parameter]
    [ValidateRange(1, 86_400)]
    public int MeasureSeconds { get; set; }

    /// <summary>Generator seed (default: the generator's documented default).</summary>
    [Parameter]
    public long? Seed { get; set; }

    /// <summary>Topology file (default: $env:PIBENCH_TOPOLOGY, ./config/cluster-topology.yaml, then the module's copy).</summary>
    [Parameter]
    public string? Topology { get; set; }

    /// <summary>Folder for the results files. Default: the current folder.</summary>
    [Parameter]
    public string? OutputDirectory { get; set; }

    /// <summary>Kafka bootstrap servers (default: the topology's controller and Kafka port).</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    public string? BootstrapServers { get; set; }

    /// <summary>Engine API address (Arroyo REST API or Flink REST), overriding the topology's.</summary>
    [Parameter]
    public Uri? EngineUri { get; set; }

    /// <summary>Arroyo admin or Flink SQL Gateway address, overriding the topology's.</summary>
    [Parameter]
    public Uri? AuxiliaryUri { get; set; }

    /// <summary>Host of the engine's controller (default: the topology's controller address).</summary>
    [Parameter]
    public string? ControllerAddress { get; set; }

    /// <summary>Do not sample node resources (no SSH): CPU, memory and network figures stay empty.</summary>
    [Parameter]
    public SwitchParameter NoMetrics { get; set; }

    /// <summary>A results .json of an interrupted run to finish.</summary>
    [Parameter]
    public string? Resume { get; set; }

    /// <summary>
    /// Checkpoint interval of the benchmarked jobs, seconds (default: the topology's arroyo/flink checkpoint_interval_seconds,
    /// 30). Engines commit their input offsets to Kafka only at checkpoints: the consumer-lag check reads the lag right
    /// after each commit, so the measured window must span at least two intervals.
    /// </summary>
    [Parameter]
    [ValidateRange(1, 86_400)]
    public int CheckpointIntervalSeconds { get; set; }

    /// <summary>Keep each cell's input and result topics (pibench-&lt;query&gt;-r&lt;n&gt;-...-in/-out) instead of deleting them once the cell is measured.</summary>
    [Parameter]
    public SwitchParameter KeepTopics { get; set; }

    /// <summary>Do not check each cell's answers. By default, after each measured window the generator stops, the engine is given time to consume everything sent (up to three checkpoint intervals) and its whole output is compared with PiBench's reference result for those events (q0–q5, q7, q8): ResultCheck = Correct, Incorrect (the cell is invalid) or NotChecked with the reason, with the row counts in the results.</summary>
    [Parameter]
    public SwitchParameter SkipResultCheck { get; set; }

    /// <summary>Fixed: every cell at -EventsPerSecond (default). Sustainable: search each query's highest valid input rate.</summary>
    [Parameter]
    [ValidateSet("Fixed", "Sustainable")]
    public string Mode { get; set; } = "Fixed";

    /// <summary>Sustainable mode: the highest rate tried, events per second (default 16 x -EventsPerSecond).</summary>
    [Parameter]
    [ValidateRange(1, 100_000_000)]
    public double MaxEventsPerSecond { get; set; }

    /// <summary>Sustainable mode: factor between steps while they pass (default 2).</summary>
    [Parameter]
    [ValidateRange(1.01, 100)]
    public double StepFactor { get; set; } = 2;

    /// <summary>Sustainable mode: stop bisecting when the failing and passing rates are within this fraction (default 0.05 = 5 %).</summary>
    [Parameter]
    [ValidateRange(0.001, 0.9)]
    public double Resolution { get; set; } = 0.05;

    /// <summary>Sustainable mode: most steps per search (default 12).</summary>
    [Parameter]
    [ValidateRange(1, 100)]
    public int MaxSteps { get; set; } = 12;

    /// <summary>
    /// Sustainable mode: a step whose input rate is below this fraction of its target fails (default 0.9; 0 = off). The
    /// input rate comes from committed offsets, which move at checkpoints: keep -MeasureSeconds at least ten checkpoint
    /// intervals or lower this.
    /// </summary>
    [Parameter]
    [ValidateRange(0.0, 1.0)]
    public double MinInputFraction { get; set; } = 0.9;

    /// <summary>Sustainable mode: a step whose p99 latency exceeds this many milliseconds fails (default: no latency objective).</summary>
    [Parameter]
    [ValidateRange(0.001, 86_400_000)]
    public double LatencySloMs { get; set; } = double.NaN;

    /// <summary>The image references the deployment pins for this run's services (recorded in the results .json).</summary>
    private static Dictionary<string, string> ImagesOf(PiBench.Core.Deployment.PinnedImages images, StreamSystem system) => system switch
    {
        // The Reference system runs in this process: no engine image.
        StreamSystem.Reference => new(StringComparer.Ordinal) { ["kafka"] = images.Kafka },
        _ => new(StringComparer.Ordinal)
        {
            ["kafka"] = images.Kafka,
            ["minio"] = images.Minio,
            [system == StreamSystem.Arroyo ? "arroyo" : "flink"] = system == StreamSystem.Arroyo ? images.Arroyo : images.Flink,
        },
    };

    /// <summary>The host of the first bootstrap server (host:port, [v6]:port or host).</summary>
    internal static string BootstrapHost(string bootstrap)
    {
        var first = bootstrap.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault() ?? bootstrap;
        if (first.StartsWith('[') && first.IndexOf(']') is > 0 and var end) return first[1..end];
        var colon = first.LastIndexOf(':');
        return colon > 0 && first.IndexOf(':') == colon ? first[..colon] : first;
    }

    protected override async Task EndProcessingAsync(CancellationToken cancellationToken)
    {
        var system = Enum.Parse<StreamSystem>(System, ignoreCase: true);
        ClusterTopology? topology = null;
        var topologyPath = Topology is null ? ClusterTopology.DefaultPath : GetUnresolvedProviderPathFromPSPath(Topology);
        // With -BootstrapServers and no -Topology, the default topology is not read: only what the user named is contacted.
        if (Topology is not null || (BootstrapServers is null && File.Exists(topologyPath))) topology = ClusterTopology.Load(topologyPath);
        var nodeSource = topology is not null
            ? $"{topology.Nodes.Count} node(s) from topology {topology.Path}{(Topology is null ? " (the default topology: no -Topology given)" : "")}{(NoMetrics ? ", not sampled (-NoMetrics)" : "")}"
            : "no nodes: no -Topology given and -BootstrapServers names the cluster, so no topology file was read and no node is sampled";
        var bench = topology?.Benchmark ?? new BenchmarkSettings();
        var bootstrap = BootstrapServers ?? topology?.KafkaBootstrap;
        if (string.IsNullOrWhiteSpace(bootstrap))
            ThrowArgumentError("BootstrapServersMissing", "No Kafka bootstrap servers: pass -BootstrapServers or a topology file.", null);
        // Without a topology the engine is looked for on the host the user named (the first bootstrap server's), not on a default address.
        var controller = ControllerAddress ?? topology?.Controller.Address ?? EngineUri?.Host ?? BootstrapHost(bootstrap!);
        var engine = new StreamEngineSettings
        {
            System = system, ControllerAddress = controller, EngineUri = EngineUri, AuxiliaryUri = AuxiliaryUri,
            ArroyoApiPort = topology?.Arroyo.ApiPort ?? 5115, ArroyoAdminPort = topology?.Arroyo.AdminPort ?? 5114,
            FlinkRestPort = topology?.Flink.RestPort ?? 8081, FlinkGatewayPort = topology?.Flink.SqlGatewayPort ?? 8083,
        };
        var workers = topology?.WorkerCount is > 0 ? topology.WorkerCount : 1;
        var rate = EventsPerSecond > 0 ? EventsPerSecond : bench.EventsPerSecond;
        var plan = new BenchmarkPlan
        {
            Engine = engine,
            Queries = Query is { Length: > 0 } ? Query.SelectMany(q => q.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToList() : bench.Queries,
            Repetitions = Repetitions > 0 ? Repetitions : bench.Repetitions,
            EventsPerSecond = rate,
            TotalEvents = TotalEvents > 0 ? TotalEvents : bench.TotalEvents,
            Parallelism = Parallelism > 0 ? Parallelism : topology?.Parallelism ?? workers,
            Partitions = Partitions > 0 ? Partitions : topology?.Partitions ?? workers,
            WarmupSeconds = WarmupSeconds >= 0 ? WarmupSeconds : bench.WarmupSeconds,
            MeasureSeconds = MeasureSeconds > 0 ? MeasureSeconds : bench.MeasureSeconds,
            FixedWarmup = FixedWarmup,
            Seed = Seed,
            BootstrapServers = bootstrap!,
            OutputDirectory = OutputDirectory is null ? SessionState.Path.CurrentFileSystemLocation.Path : GetUnresolvedProviderPathFromPSPath(OutputDirectory),
            ResumePath = Resume is null ? null : GetUnresolvedProviderPathFromPSPath(Resume),
            MetricNodes = NoMetrics || topology is null ? Array.Empty<PiNode>() : topology.Nodes,
            BrokerNode = topology?.Controller, // Kafka runs on the controller: its clock offset is checked per cell
            TopologyName = topology?.Name ?? "",
            TopologyPath = topology?.Path ?? "",
            EngineVersion = system switch
            {
                StreamSystem.Arroyo => topology?.Arroyo.Version ?? "",
                StreamSystem.Reference => "PiBench reference " + ModuleInfo.Version,
                _ => topology?.Flink.Version ?? "",
            },
            Mode = Mode,
            KeepTopics = KeepTopics,
            CheckResults = !SkipResultCheck,
            CheckpointInterval = TimeSpan.FromSeconds(CheckpointIntervalSeconds > 0 ? CheckpointIntervalSeconds
                : system switch
                {
                    StreamSystem.Arroyo => topology?.Arroyo.CheckpointIntervalSeconds ?? 30,
                    StreamSystem.Reference => 2,
                    _ => topology?.Flink.CheckpointIntervalSeconds ?? 30,
                }),
            Images = ImagesOf(topology is null ? PiBench.Core.Deployment.PinnedImages.Default : PiBench.Core.Deployment.ClusterSession.SettingsFrom(topology).Images, system),
            Search = new SustainableSearchOptions
            {
                StartRate = rate, MaxRate = MaxEventsPerSecond > 0 ? MaxEventsPerSecond : rate * 16,
                StepFactor = StepFactor, Resolution = Resolution, MaxSteps = MaxSteps, LatencySloMs = LatencySloMs, MinInputFraction = MinInputFraction,
            },
        };
        if (plan.Sustainable) plan.Search.Validate(); // e.g. -MaxEventsPerSecond below the start rate: fails before anything runs
        if (Query is not { Length: > 0 })
        {
            // The default list (the topology's benchmark.queries) is for both engines: leave out what this one cannot run.
            var skipped = plan.Queries.Where(q => NexmarkQueryCatalog.Default.Get(q, system) is { Supported: false }).ToList();
            foreach (var q in skipped)
                WriteWarning($"{q} is left out: {NexmarkQueryCatalog.Default.Get(q, system).Notes} (pass -Query to choose the queries).");
            if (skipped.Count > 0) plan = plan.WithQueries(plan.Queries.Except(skipped, StringComparer.OrdinalIgnoreCase).ToList());
        }
        foreach (var q in plan.Queries) // unknown or unsupported queries asked for by name fail before anything runs
            if (NexmarkQueryCatalog.Default.Get(q, system) is { Supported: false } unsupported)
                ThrowTerminatingError(NexmarkQueryCatalog.Unsupported(unsupported));

        var target = $"{system} via {plan.BootstrapServers}";
        IEnumerable<string> cells = plan.Describe();
        if (plan.ResumePath is { } resumePath)
        {
            // Refuses a foreign or mismatched file before anything runs (and before -WhatIf), and shows what resuming would run.
            var doc = ResumeCheck.Load(resumePath, plan);
            cells = ResumeCheck.DescribeResume(resumePath, doc, plan);
        }
        if (!ShouldProcess(target, "Run the benchmark:\n  " + string.Join("\n  ", cells.Prepend("Nodes: " + nodeSource)))) return;

        // Before anything runs: the results folder can be written, and a bootstrap server answers (else: which, and why).
        if (plan.ResumePath is null) ResumeCheck.EnsureWritable(plan.OutputDirectory);
        await PiBench.Core.Kafka.BootstrapProbe.CheckAsync(plan.BootstrapServers, TimeSpan.FromSeconds(5), cancellationToken);
        var runner = new BenchmarkRunner(plan, Progress, Log);
        await runner.RunAsync(r => Post(() => WriteObject(r)), cancellationToken, s => Post(() => WriteObject(s)));
        WriteVerbose($"Results: {runner.TextPath} and {runner.JsonPath}");
    }
}
