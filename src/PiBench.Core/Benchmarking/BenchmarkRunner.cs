using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Confluent.Kafka;
using PiBench.Core.Engines;
using PiBench.Core.Kafka;
using PiBench.Core.Remote;
using PiBench.Core.Topology;

namespace PiBench.Core.Benchmarking;

/// <summary>Everything one Invoke-Benchmark run needs.</summary>
public sealed class BenchmarkPlan
{
    public StreamEngineSettings Engine { get; init; } = new();
    private IReadOnlyList<string> _queries = new[] { "q1", "q2", "q3", "q4", "q5", "q7", "q8" };
    public IReadOnlyList<string> Queries { get => _queries; init => _queries = value; }
    public int Repetitions { get; init; } = 3;
    public double EventsPerSecond { get; init; } = 10_000;
    public long TotalEvents { get; init; } = 10_000_000;
    public int Parallelism { get; init; } = 9;
    public int Partitions { get; init; } = 9;
    /// <summary>Longest warm-up, seconds: the window opens earlier once throughput is steady, unless <see cref="FixedWarmup"/>.</summary>
    public int WarmupSeconds { get; init; } = 30;
    public int MeasureSeconds { get; init; } = 120;
    public bool FixedWarmup { get; init; }
    public long? Seed { get; init; }
    public string Profile { get; init; } = "Flink";
    public string BootstrapServers { get; init; } = "";
    public string OutputDirectory { get; init; } = ".";
    /// <summary>A results .json to finish (completed cells are skipped, new results are added to it).</summary>
    public string? ResumePath { get; init; }
    /// <summary>Nodes sampled for CPU / memory / network / throttling (empty = no resource figures).</summary>
    public IReadOnlyList<PiNode> MetricNodes { get; init; } = Array.Empty<PiNode>();
    public SshOptions? Ssh { get; init; }
    public double MetricIntervalSeconds { get; init; } = 1;
    public string TopologyName { get; init; } = "";
    public string TopologyPath { get; init; } = "";
    public string EngineVersion { get; init; } = "";
    public Dictionary<string, string> Images { get; init; } = new();
    public ValidityThresholds Thresholds { get; init; } = new();
    /// <summary>Longest wait for the job to reach Running.</summary>
    public TimeSpan StartTimeout { get; init; } = TimeSpan.FromSeconds(60);
    /// <summary>Fixed (every cell at <see cref="EventsPerSecond"/>) or Sustainable (a step search per cell).</summary>
    public string Mode { get; init; } = "Fixed";
    /// <summary>The step search of Sustainable mode (its start rate is <see cref="EventsPerSecond"/>).</summary>
    public SustainableSearchOptions Search { get; init; } = new();
    /// <summary>
    /// Seconds between the engine metric samples taken during the window (also one at its start and end). Default 1:
    /// counter rates are taken between cache refresh boundaries, which a sample locates only to within this gap.
    /// </summary>
    public int EngineMetricsEverySeconds { get; init; } = 1;
    /// <summary>
    /// The topology node the Kafka broker runs on (Pi1), for the clock-offset check of the latency; null when unknown
    /// (then only a broker on this host, by a loopback address, has a known offset).
    /// </summary>
    public PiNode? BrokerNode { get; init; }
    /// <summary>
    /// The job's checkpoint interval, sent with every submission (null = the engine's default). Engines commit input
    /// offsets to Kafka only at checkpoints, so this is also the step of the committed-offset series the lag gate reads.
    /// </summary>
    public TimeSpan? CheckpointInterval { get; init; }
    /// <summary>Keep each cell's input and result topics instead of deleting them once the cell is measured.</summary>
    public bool KeepTopics { get; init; }
    /// <summary>After each cell's window: stop the input, let the engine drain and compare its whole output with the
    /// reference result (CellResultCheck). Adds the drain time (up to 3 checkpoint intervals) to every cell.</summary>
    public bool CheckResults { get; init; } = true;
    /// <summary>Extra seconds of input a sustainable step's generator has beyond warm-up and measurement.</summary>
    public int StepSlackSeconds { get; init; } = 30;

    public bool Sustainable => string.Equals(Mode, "Sustainable", StringComparison.OrdinalIgnoreCase);

    /// <summary>A copy of this plan with other queries.</summary>
    public BenchmarkPlan WithQueries(IReadOnlyList<string> queries)
    {
        var copy = (BenchmarkPlan)MemberwiseClone();
        copy._queries = queries;
        return copy;
    }

    /// <summary>Events a step at <paramref name="rate"/> needs: warm-up + measurement + slack (Sustainable mode ignores TotalEvents).</summary>
    public long StepEvents(double rate) => (long)Math.Ceiling(rate * (WarmupSeconds + MeasureSeconds + StepSlackSeconds));

    /// <summary>The cells in run order (query-major, repetitions inside), for -WhatIf.</summary>
    public IEnumerable<string> Describe()
    {
        foreach (var q in Queries)
            for (var r = 1; r <= Repetitions; r++)
                if (Sustainable)
                    yield return string.Create(CultureInfo.InvariantCulture,
                        $"{Engine.System} {q} repetition {r}/{Repetitions}: sustainable-rate search from {EventsPerSecond} events/s (x{Search.StepFactor} up to {Search.MaxRate}, then bisect to {Search.Resolution:P0}, at most {Search.MaxSteps} steps{(double.IsFinite(Search.LatencySloMs) ? $", p99 objective {Search.LatencySloMs} ms" : "")}); each step: fresh topics ({Partitions} partitions), parallelism {Parallelism}, warm-up up to {WarmupSeconds} s, measure {MeasureSeconds} s{(CheckpointInterval is { } ci ? $", checkpoint every {ci.TotalSeconds:0.#} s" : "")}");
                else
                yield return string.Create(CultureInfo.InvariantCulture,
                    $"{Engine.System} {q} repetition {r}/{Repetitions}: fresh topics ({Partitions} partitions), parallelism {Parallelism}, {EventsPerSecond} events/s (at most {TotalEvents}), warm-up up to {WarmupSeconds} s{(FixedWarmup ? " (fixed)" : "")}, measure {MeasureSeconds} s, {(CheckpointInterval is { } ci ? $"checkpoint every {ci.TotalSeconds:0.#} s" : "engine's checkpoint interval")}, {MetricNodes.Count} node(s) sampled");
    }
}

/// <summary>
/// Runs a benchmark: for each query and repetition fresh input and result topics, submit the query, wait for
/// Running, start the generator, warm up (until throughput is steady or the warm-up ends), measure, stop the job and
/// the generator, and turn what was seen into a <see cref="BenchmarkResult"/>, written to both result files at once.
/// Cancellation stops the current query and generator, keeps the results so far, and marks the rest NotRun.
/// </summary>
public sealed class BenchmarkRunner
{
    private readonly BenchmarkPlan _plan;
    private readonly IProgressSink? _progress;
    private readonly ILogSink? _log;
    private readonly Func<StreamEngineSettings, IStreamEngine> _engineFactory;
    private ContainerDirectory? _containers;

    public BenchmarkRunner(BenchmarkPlan plan, IProgressSink? progress = null, ILogSink? log = null, Func<StreamEngineSettings, IStreamEngine>? engineFactory = null)
    {
        _plan = plan;
        _progress = progress;
        _log = log;
        _engineFactory = engineFactory ?? (s => StreamEngine.Create(s, null, log));
    }

    public string TextPath { get; private set; } = "";
    public string JsonPath { get; private set; } = "";
    public BenchmarkRunDocument Document { get; private set; } = new();

    /// <summary>
    /// Runs the plan. Fixed mode passes each measured cell to <paramref name="onResult"/>; Sustainable mode passes each
    /// finished search to <paramref name="onSearch"/> (its steps go to the files only).
    /// </summary>
    public async Task RunAsync(Action<BenchmarkResult>? onResult, CancellationToken ct, Action<SustainableThroughputResult>? onSearch = null)
    {
        var p = _plan;
        if (string.IsNullOrWhiteSpace(p.BootstrapServers))
            throw new PiBenchException("BootstrapServersMissing", PiBenchErrorCategory.InvalidArgument, "No Kafka bootstrap servers were given.", null,
                "Pass -BootstrapServers or set kafka in the topology file.");
        string baseName, dir;
        if (p.ResumePath is { } resume)
        {
            Document = ResumeCheck.Load(resume, p); // a PiBench file of this very run, or refused untouched
            dir = Path.GetDirectoryName(Path.GetFullPath(resume))!;
            ResumeCheck.EnsureWritable(dir);
            baseName = Path.GetFileNameWithoutExtension(resume);
            Document.Results.RemoveAll(r => r.Status != "Completed");
            // Steps of searches that did not complete are measured again with their search.
            var searched = Document.Searches.Where(x => x.Status == "Completed").Select(x => x.Key).ToHashSet(StringComparer.Ordinal);
            Document.Results.RemoveAll(r => r.Step > 0 && !searched.Contains(r.Key));
            Document.Searches.RemoveAll(x => x.Status != "Completed");
            Document.PruneContainers();
            if (!string.Equals(Document.Mode, p.Mode, StringComparison.OrdinalIgnoreCase))
                throw new PiBenchException("ResumeModeMismatch", PiBenchErrorCategory.InvalidArgument,
                    $"'{resume}' holds a {Document.Mode} run; it cannot be resumed with -Mode {p.Mode}.", resume, $"Resume it with -Mode {Document.Mode}.");
            Document.State = "Running";
            Document.EndedAt = null;
        }
        else
        {
            dir = p.OutputDirectory;
            ResumeCheck.EnsureWritable(dir); // before anything is measured
            Document = NewDocument();
            baseName = ResumeCheck.FreshBaseName(dir, Document.StartedAt);
            await ProbeNodesAsync(ct).ConfigureAwait(false);
        }
        var cells = p.Queries.SelectMany(q => Enumerable.Range(1, p.Repetitions).Select(r => (Query: q, Rep: r))).ToList();
        using var engine = _engineFactory(p.Engine);
        await QueryPreflight.CheckAsync(engine, p, Document, _log, ct).ConfigureAwait(false); // the engine must accept every query before the first cell (issue 17)
        var index = 0;
        try
        {
            if (p.Sustainable) await RunSearchesAsync(engine, cells, dir, baseName, onSearch, ct).ConfigureAwait(false);
            else
            {
                var done = Document.CompletedKeys();
                foreach (var (q, rep) in cells)
                {
                    index++;
                    var key = new BenchmarkResult { System = p.Engine.System.ToString(), Query = q, Repetition = rep }.Key;
                    if (done.Contains(key)) { _log?.Verbose($"{q} repetition {rep}: already measured, skipped (-Resume)."); continue; }
                    var result = await MeasureAsync(engine, q, rep, p.EventsPerSecond, p.TotalEvents, 0, $"{q} repetition {rep} ({index} of {cells.Count})",
                        (index - 1) * 100 / Math.Max(1, cells.Count), ct).ConfigureAwait(false);
                    Document.Results.Add(result);
                    onResult?.Invoke(result); // the result reaches the pipeline even if the write below fails
                    (TextPath, JsonPath) = ResultsFiles.Write(dir, baseName, Document);
                }
                ResumeCheck.ThrowIfEveryCellFailed(Document, cells, p.Engine.System.ToString());
            }
            Document.State = "Completed";
        }
        catch (Exception ex)
        {
            Document.State = ct.IsCancellationRequested ? "Stopped" : "Failed";
            var why = ct.IsCancellationRequested ? "not run: stopped" : $"not run: {ex.Message}";
            if (p.Sustainable)
            {
                var have = Document.Searches.Select(r => r.Key).ToHashSet();
                foreach (var (q, rep) in cells)
                {
                    var s = SearchSkeleton(q, rep);
                    if (!have.Contains(s.Key)) { s.Status = "NotRun"; s.Reason = why; Document.Searches.Add(s); }
                }
            }
            else
            {
                var have = Document.Results.Select(r => r.Key).ToHashSet();
                foreach (var (q, rep) in cells)
                {
                    var r = Skeleton(q, rep, p.EventsPerSecond, 0);
                    if (!have.Contains(r.Key)) { r.Status = "NotRun"; r.InvalidReason = why; Document.Results.Add(r); }
                }
            }
            throw;
        }
        finally
        {
            _containers?.Dispose();
            _containers = null;
            Document.EndedAt = DateTimeOffset.UtcNow;
            (TextPath, JsonPath) = ResultsFiles.Write(dir, baseName, Document);
        }
    }

    /// <summary>Sustainable mode: one step search per query and repetition; every step is kept in the files.</summary>
    private async Task RunSearchesAsync(IStreamEngine engine, List<(string Query, int Rep)> cells, string dir, string baseName,
        Action<SustainableThroughputResult>? onSearch, CancellationToken ct)
    {
        var p = _plan;
        var done = Document.Searches.Where(s => s.Status == "Completed").Select(s => s.Key).ToHashSet(StringComparer.Ordinal);
        var index = 0;
        foreach (var (q, rep) in cells)
        {
            index++;
            var summary = SearchSkeleton(q, rep);
            if (done.Contains(summary.Key)) { _log?.Verbose($"{q} repetition {rep}: search already completed, skipped (-Resume)."); continue; }
            var label = $"{q} repetition {rep} ({index} of {cells.Count})";
            var percent = (index - 1) * 100 / Math.Max(1, cells.Count);
            try
            {
                await SustainableRateSearch.RunAsync(p.Search, summary, (rate, step, token) =>
                    MeasureAsync(engine, q, rep, rate, p.StepEvents(rate), step, $"{label}, step {step} at {rate:0.##} events/s", percent, token),
                    step =>
                    {
                        Document.Results.Add(step);
                        (TextPath, JsonPath) = ResultsFiles.Write(dir, baseName, Document);
                        _log?.Verbose(string.Create(CultureInfo.InvariantCulture,
                            $"{q} repetition {rep} step {step.Step}: {step.TargetRate:0.##} events/s -> {(step.Valid ? "pass" : "fail")}, input {step.InputRate:0.##}/s, p99 {step.LatencyP99Ms:0.#} ms{(step.Valid ? "" : ": " + step.InvalidReason)}"));
                    }, ct).ConfigureAwait(false);
            }
            finally
            {
                Document.Searches.Add(summary); // Stopped searches are kept with what they found
            }
            (TextPath, JsonPath) = ResultsFiles.Write(dir, baseName, Document);
            onSearch?.Invoke(summary);
        }
    }

    private SustainableThroughputResult SearchSkeleton(string q, int rep) => new()
    {
        System = _plan.Engine.System.ToString(), Query = q, Repetition = rep, Parallelism = _plan.Parallelism, Seed = _plan.Seed ?? 0,
        EngineVersion = _plan.EngineVersion, StartedAt = DateTimeOffset.UtcNow,
    };

    private BenchmarkRunDocument NewDocument() => new()
    {
        System = _plan.Engine.System.ToString(), EngineVersion = _plan.EngineVersion, Images = _plan.Images, TopologyName = _plan.TopologyName,
        TopologyPath = _plan.TopologyPath, BootstrapServers = _plan.BootstrapServers, GeneratorProfile = _plan.Profile, Seed = _plan.Seed ?? 0,
        TargetRate = _plan.EventsPerSecond, TotalEvents = _plan.TotalEvents, Mode = _plan.Sustainable ? "Sustainable" : "Fixed",
        Search = _plan.Sustainable ? _plan.Search : null, Parallelism = _plan.Parallelism, Repetitions = _plan.Repetitions,
        WarmupSeconds = _plan.WarmupSeconds, MeasureSeconds = _plan.MeasureSeconds, Queries = _plan.Queries.ToList(), StartedAt = DateTimeOffset.UtcNow,
        Nodes = _plan.MetricNodes.Select(n => new NodeFact { Node = n.Name, Address = n.Address, Role = n.Role.ToString() }).ToList(),
    };

    /// <summary>Node facts for the provenance record: model, kernel, architecture, temperature, throttle flags, clock offset.</summary>
    private async Task ProbeNodesAsync(CancellationToken ct)
    {
        if (_plan.MetricNodes.Count == 0) return;
        _progress?.Report("Invoke-Benchmark", "Recording node facts");
        var health = await Task.WhenAll(_plan.MetricNodes.Select(n => NodeProbe.ProbeAsync(SshConnectionPool.Shared, n, _plan.Ssh, ct))).ConfigureAwait(false);
        foreach (var h in health)
        {
            var fact = Document.Nodes.FirstOrDefault(f => f.Node == h.Node);
            if (fact is null) continue;
            fact.Model = h.Model ?? "";
            fact.Kernel = h.Kernel ?? "";
            fact.Architecture = h.Architecture ?? "";
            fact.TemperatureC = h.TemperatureC;
            fact.ThrottledFlags = h.ThrottledFlags ?? "";
            fact.ClockOffsetMs = h.ClockOffsetMs;
            fact.ClockOffsetUncertaintyMs = h.ClockOffsetUncertaintyMs;
            if (!h.Reachable) _log?.Warning($"{h.Node}: not reachable for node facts: {h.Error}");
        }
    }

    /// <summary>
    /// Names and labels of the sampled nodes' containers: asked once per run at the first sampled cell (a node whose
    /// Docker daemon cannot be asked gives one warning), kept until the run ends.
    /// </summary>
    private async Task<ContainerDirectory?> ContainersAsync(CancellationToken ct) => _plan.MetricNodes.Count == 0 ? null
        : _containers ??= await ContainerDirectory.OpenAsync(SshConnectionPool.Shared, _plan.MetricNodes, _plan.Ssh, _log, ct).ConfigureAwait(false);

    private BenchmarkResult Skeleton(string q, int rep, double rate, int step) => new()
    {
        System = _plan.Engine.System.ToString(), Query = q, Repetition = rep, Step = step, Parallelism = _plan.Parallelism, TargetRate = rate,
        Seed = _plan.Seed ?? 0, EngineVersion = _plan.EngineVersion, StartedAt = DateTimeOffset.UtcNow,
        ExpectedOutput = OutputExpectation.For(q).Description,
    };

    private void Report(string label, int percent, string phase, int phasePercent = -1)
    {
        _progress?.Report("Invoke-Benchmark", label, percent);
        _progress?.Report("Invoke-Benchmark", phase, phasePercent, child: "Phase");
    }

    /// <summary>
    /// One measurement at one rate: fresh topics, submit, warm up (<see cref="WarmUpAsync"/>), measure
    /// (<see cref="ObserveWindowAsync"/>), stop, judge (<see cref="CellJudge"/>); tear down in the finally.
    /// </summary>
    private async Task<BenchmarkResult> MeasureAsync(IStreamEngine engine, string q, int rep, double rate, long totalEvents, int step,
        string label, int percent, CancellationToken ct)
    {
        var p = _plan;
        var result = Skeleton(q, rep, rate, step);
        var tag = $"{q}-r{rep}{(step > 0 ? $"-s{step}" : "")}-{Guid.NewGuid().ToString("N")[..6]}";
        var inputTopic = $"pibench-{tag}-in";
        var resultTopic = $"pibench-{tag}-out";
        var groupId = $"pibench-{tag}";
        var query = NexmarkQueryCatalog.Default.Get(q, p.Engine.System);
        var containers = await ContainersAsync(ct).ConfigureAwait(false); // before anything that needs cleaning up

        // The clock latency rests on: the broker's against this host's (where the generator schedules events).
        Report(label, percent, "Checking the broker's clock");
        var (clockOffset, clockCheck) = await BrokerClock.MeasureAsync(p.BootstrapServers, p.BrokerNode, p.Ssh, p.Thresholds.MaxClockOffsetMs, ct).ConfigureAwait(false);
        result.ClockOffsetMs = clockOffset;
        result.ClockCheck = clockCheck;

        Report(label, percent, "Creating topics");
        var embedded = false;
        using (var admin = KafkaTopicAdmin.Open(p.BootstrapServers))
        {
            // Both topics stamped by the broker (Pi1) on append: result stamps come from the broker's clock, whose
            // offset to this host's (the generator's) was just checked.
            await admin.CreateTopicAsync(inputTopic, p.Partitions, 1, ct, KafkaTopicAdmin.LogAppendTime).ConfigureAwait(false);
            await admin.CreateTopicAsync(resultTopic, p.Partitions, 1, ct, KafkaTopicAdmin.LogAppendTime).ConfigureAwait(false);
            embedded = admin.IsEmbedded;
        }

        var recorder = new LatencyRecorder();
        using var collector = OutputLatencyCollector.Start(p.BootstrapServers, resultTopic, p.Partitions, recorder);
        using var sampling = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var samples = new ConcurrentQueue<ClusterMetricSample>();
        var containerSamples = new ConcurrentQueue<ContainerMetricSample>();
        var sampler = p.MetricNodes.Count == 0 ? Task.CompletedTask : Task.Run(() => ClusterMetricSampler.RunAsync(SshConnectionPool.Shared, p.MetricNodes,
            new ClusterMetricSamplerOptions
            {
                IntervalSeconds = p.MetricIntervalSeconds, Ssh = p.Ssh, OnSnapshotPair = containers?.Hook(containerSamples.Enqueue),
                OnWarning = w => _log?.Warning(w),
            }, samples.Enqueue,
            e => _log?.Warning(e.Message), sampling.Token), CancellationToken.None);

        NexmarkQueryRun? run = null;
        NexmarkGeneratorRun? generator = null;
        using var offsets = new OffsetReader(p.BootstrapServers, groupId);
        try
        {
            Report(label, percent, "Submitting the query");
            var render = new NexmarkRenderOptions
            {
                BootstrapServers = p.BootstrapServers, Topic = inputTopic, GroupId = groupId, Parallelism = p.Parallelism, ResultTopic = resultTopic,
                LatencyVariant = true,
            };
            result.LatencyReference = query.LatencyReference.Length > 0 ? query.LatencyReference : "none: the query's output carries no event time";
            result.WatermarkDelayMs = query.WatermarkDelayMs;
            try
            {
                run = await NexmarkQueryRunner.SubmitAsync(engine, query, render, p.CheckpointInterval, ct).ConfigureAwait(false);
            }
            catch (PiBenchException ex) when (ex.ErrorId == EngineErrorIds.SqlError && query.LatencySql.Length > 0)
            {
                // The engine refused the latency variant (its extra latency_ts column): run the plain query, without a latency figure.
                _log?.Warning($"{q}: {p.Engine.System} rejected the latency variant ({ex.Message}); running the plain query, latency is not measured.");
                result.LatencyReference = "none: the engine rejected the latency variant";
                result.WatermarkDelayMs = 0;
                run = await NexmarkQueryRunner.SubmitAsync(engine, query, render with { LatencyVariant = false }, p.CheckpointInterval, ct).ConfigureAwait(false);
            }
            await engine.WaitAsync(run.ToHandle(), s => s.State == StreamJobState.Running, p.StartTimeout, ct).ConfigureAwait(false);

            Report(label, percent, "Starting the generator");
            var baseTime = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            generator = await NexmarkGeneratorRun.StartAsync(new ProducerRunOptions
            {
                BootstrapServers = p.BootstrapServers, Topic = inputTopic, EventsPerSecond = rate, TotalEvents = totalEvents,
            }, NexmarkPayloadSources.Create(new NexmarkSourceSettings
            {
                // Event i carries base + i / rate on this host's clock (Pi1, beside the broker), for either profile.
                Profile = p.Profile, Seed = p.Seed, TotalEvents = totalEvents, EventsPerSecond = rate, BaseTime = baseTime,
            }),
                _log, ct).ConfigureAwait(false);
            result.Seed = p.Seed ?? 0;
            // Event i carries base + i / rate, but the schedule starts only once the producer is up (connect, warm-up):
            // shift event times by that gap so latencies are measured from each event's intended send time.
            var anchorWait = Stopwatch.StartNew();
            while (generator.ScheduleStartUnixMs == 0 && !generator.IsFinished && anchorWait.Elapsed < TimeSpan.FromSeconds(30))
                await Task.Delay(5, ct).ConfigureAwait(false);
            if (generator.ScheduleStartUnixMs > 0)
            {
                recorder.EventTimeOffsetMs = generator.ScheduleStartUnixMs - baseTime;
                _log?.Verbose($"{q} repetition {rep}: the send schedule started {recorder.EventTimeOffsetMs} ms after the events' base time; latencies are taken from the intended send times.");
            }

            await WarmUpAsync(engine, run, offsets, inputTopic, result, label, percent, ct).ConfigureAwait(false);

            var window = await ObserveWindowAsync(engine, run, generator, offsets, inputTopic, resultTopic, recorder, label, percent, ct).ConfigureAwait(false);
            if (window.Engine.Failures > 0)
                _log?.Verbose($"{q} repetition {rep}: {window.Engine.Failures} engine metric sample(s) failed: {window.Engine.LastError}");

            var (genOk, genReason) = GeneratorVerdict(generator); // before stopping it: a stop by us is not its failure
            var inputEnded = generator.IsFinished && generator.State == "Completed" ? generator.Sent : -1;
            if (p.CheckResults)
            {
                // The answers: stop the input, let the engine drain, compare its whole output with the reference.
                Report(label, percent, "Checking the answers against the reference");
                await StopGeneratorAsync(generator).ConfigureAwait(false);
                await CellResultCheck.RunAsync(result, q, engine, run.ToHandle(), p.BootstrapServers, inputTopic,
                    resultTopic, groupId, p.Partitions, p.CheckpointInterval, _log, ct).ConfigureAwait(false);
            }
            else result.ResultCheckReason = "-SkipResultCheck";
            Report(label, percent, "Stopping the query and the generator");
            await StopAsync(engine, run, generator).ConfigureAwait(false);
            await Task.Delay(500, CancellationToken.None).ConfigureAwait(false); // let the last in-window results arrive
            collector.Stop();
            sampling.Cancel();
            await sampler.ConfigureAwait(false);

            var t1 = window.Start.AddSeconds(window.Seconds);
            var res = ResourceSummary.FromSamples(samples, window.Start, t1, p.MetricNodes.Select(n => n.Name).ToList(), p.MetricIntervalSeconds);
            var engineUse = ContainerSummary.FromSamples(containerSamples, window.Start, t1, p.Engine.System.ToString());
            foreach (var u in engineUse.Containers) { u.Query = q; u.Repetition = rep; u.Step = step; Document.Containers.Add(u); }
            result.LatencyClock = collector.TimestampType switch
            {
                "LogAppendTime" => "broker",
                "" => "none",
                var t when embedded => $"producer ({t}; the embedded mock cannot apply LogAppendTime)",
                var t => $"producer ({t})",
            };
            if (collector.Records > 0 && collector.Unparsed == collector.Records && !result.LatencyReference.StartsWith("none", StringComparison.Ordinal))
                _log?.Warning($"{q} repetition {rep}: none of the {collector.Records} results carried a readable event time or window end; no latency figure.");
            if (!embedded && collector.TimestampType is "CreateTime" or "Mixed")
                _log?.Warning($"{q} repetition {rep}: results on '{resultTopic}' carry {collector.TimestampType} stamps although the topic was created with message.timestamp.type=LogAppendTime; latency is measured against the producing node's clock (LatencyClock).");
            CellJudge.Fill(result, window, recorder, res, engineUse, new CellJudge.Context
            {
                GeneratorValid = genOk, GeneratorReason = genReason, InputEndedAfterEvents = inputEnded, TargetRate = rate,
                CommitIntervalSeconds = p.CheckpointInterval?.TotalSeconds ?? 0, NodesSampled = p.MetricNodes.Count > 0, Thresholds = p.Thresholds,
            });
            if (result.ResultCheck == "Incorrect")
            {
                // Wrong answers: the figures describe an engine that did not compute the query.
                result.InvalidReason = string.Join("; ", new[] { result.InvalidReason, $"wrong answers ({result.ResultCheckReason})" }.Where(x => x.Length > 0));
                result.Valid = false;
            }
            if (result.RateCheck.StartsWith("mismatch", StringComparison.Ordinal)) _log?.Warning($"{q} repetition {rep}: engine and Kafka disagree: {result.RateCheck}");
            if (result.OutputCheck.StartsWith("outside", StringComparison.Ordinal)) _log?.Warning($"{q} repetition {rep}: {result.OutputCheck}");

            var hlog = Path.Combine(_plan.ResumePath is { } rp ? Path.GetDirectoryName(Path.GetFullPath(rp))! : p.OutputDirectory,
                $"{(_plan.ResumePath is { } rp2 ? Path.GetFileNameWithoutExtension(rp2) : ResultsFiles.BaseName(Document.StartedAt))}_{q}_r{rep}{(step > 0 ? $"_s{step}" : "")}.hlog");
            try
            {
                Directory.CreateDirectory(Path.GetDirectoryName(hlog)!);
                recorder.WriteIntervalLog(hlog, window.Start);
                result.HistogramFile = Path.GetFileName(hlog);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException) { _log?.Warning($"{q} repetition {rep}: the latency log {hlog} could not be written: {ex.Message}"); }
            return result;
        }
        catch (Exception) when (ct.IsCancellationRequested)
        {
            // Ctrl+C: stop what runs, keep this cell as Stopped (its figures were not completed).
            await StopAsync(engine, run, generator).ConfigureAwait(false);
            result.Status = "Stopped";
            result.Valid = false;
            result.InvalidReason = "stopped before the measurement ended";
            Document.Results.Add(result);
            throw;
        }
        catch (PiBenchException ex)
        {
            await StopAsync(engine, run, generator).ConfigureAwait(false);
            result.Status = "Failed";
            result.Valid = false;
            result.InvalidReason = $"{ex.ErrorId}: {ex.Message}";
            _log?.Warning($"{q} repetition {rep} failed: {ex.Message}");
            return result;
        }
        finally
        {
            sampling.Cancel();
            try { await sampler.ConfigureAwait(false); } catch (Exception) { }
            collector.Stop();
            if (!p.KeepTopics) await DeleteTopicsAsync(inputTopic, resultTopic).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Warm-up: the input throughput, one sample per second, until the series is steady (or the warm-up ends); sets
    /// WarmupS and SteadyState on <paramref name="result"/>. The series is <see cref="WarmupSeries"/>'s (engine source
    /// rate, or committed offsets when the engine gives nothing for several seconds in a row).
    /// </summary>
    private async Task WarmUpAsync(IStreamEngine engine, NexmarkQueryRun run, OffsetReader offsets, string inputTopic, BenchmarkResult result,
        string label, int percent, CancellationToken ct)
    {
        var p = _plan;
        var series = new WarmupSeries();
        var last = p.FixedWarmup ? 0 : offsets.Consumed(inputTopic, p.Partitions); // no series is read with a fixed warm-up
        var sw = Stopwatch.StartNew();
        var warmupEnd = p.WarmupSeconds;
        var detected = false;
        for (var s = 1; s <= p.WarmupSeconds; s++)
        {
            Report(label, percent, $"Warming up ({s} of at most {p.WarmupSeconds} s)", s * 100 / Math.Max(1, p.WarmupSeconds));
            await Task.Delay(TimeSpan.FromSeconds(s) - sw.Elapsed is { } d && d > TimeSpan.Zero ? d : TimeSpan.Zero, ct).ConfigureAwait(false);
            if (p.FixedWarmup) continue;
            var now = offsets.Consumed(inputTopic, p.Partitions);
            series.AddKafka(now - last);
            last = now;
            try { series.AddEngine(await engine.GetMetricsAsync(run.ToHandle(), ct).ConfigureAwait(false)); }
            catch (PiBenchException) { series.EngineFailed(); }
            if (SteadyState.Detect(series.Series, p.WarmupSeconds, window: 5).Detected) { warmupEnd = s; detected = true; break; }
        }
        var seriesName = series.Name;
        result.WarmupS = warmupEnd;
        result.SteadyState = p.FixedWarmup ? $"fixed warm-up {p.WarmupSeconds} s"
            : detected ? $"detected after {warmupEnd} s ({seriesName})"
            : $"not detected within {p.WarmupSeconds} s ({seriesName}); measured after the longest warm-up";
        if (!p.FixedWarmup && !detected && p.WarmupSeconds > 0)
            _log?.Warning($"{result.Query} repetition {result.Repetition}: throughput was not steady within the {p.WarmupSeconds}-s warm-up ({seriesName}); the window opened anyway (SteadyState says so).");
        _log?.Verbose($"{result.Query} repetition {result.Repetition}: measuring after {warmupEnd} s of warm-up ({result.SteadyState}).");
    }

    /// <summary>
    /// The measured window: once a second the job's state, the input topic's end offsets (what the broker appended),
    /// the consumer group's lag and the generator's client queue; the engine's metrics every
    /// <see cref="BenchmarkPlan.EngineMetricsEverySeconds"/>; committed and result offsets at both ends.
    /// </summary>
    private async Task<WindowObservation> ObserveWindowAsync(IStreamEngine engine, NexmarkQueryRun run, NexmarkGeneratorRun generator, OffsetReader offsets,
        string inputTopic, string resultTopic, LatencyRecorder recorder, string label, int percent, CancellationToken ct)
    {
        var p = _plan;
        var w = new WindowObservation { Start = DateTimeOffset.UtcNow };
        var clock0 = Stopwatch.GetTimestamp();
        double Now() => Stopwatch.GetElapsedTime(clock0).TotalSeconds;
        void ReadBroker()
        {
            var before = Now();
            var end = offsets.End(inputTopic, p.Partitions);
            w.Series.AddInputEnd((before + Now()) / 2, end); // the read's midpoint
            w.Series.AddClientQueue(Now(), generator.Pending);
            w.Series.AddLag(Now(), end - offsets.Consumed(inputTopic, p.Partitions));
        }
        w.Consumed0 = offsets.Consumed(inputTopic, p.Partitions);
        w.Produced0 = offsets.End(resultTopic, p.Partitions);
        recorder.WindowStartMs = w.Start.ToUnixTimeMilliseconds();
        async Task SampleEngineAsync()
        {
            try { w.Engine.Add(await engine.GetMetricsAsync(run.ToHandle(), ct).ConfigureAwait(false)); }
            catch (PiBenchException ex) { w.Engine.Failed(ex.Message); }
        }
        ReadBroker();
        await SampleEngineAsync().ConfigureAwait(false);
        for (var s = 1; s <= p.MeasureSeconds; s++)
        {
            Report(label, percent, $"Measuring ({s} of {p.MeasureSeconds} s)", s * 100 / Math.Max(1, p.MeasureSeconds));
            var due = TimeSpan.FromSeconds(s) - Stopwatch.GetElapsedTime(clock0);
            if (due > TimeSpan.Zero) await Task.Delay(due, ct).ConfigureAwait(false);
            var status = await engine.GetStatusAsync(run.ToHandle(), ct).ConfigureAwait(false);
            if (status.State != StreamJobState.Running)
            {
                if (status.State.IsTerminal()) { w.Failure = status.EngineState; break; }
                w.Restarts++;
            }
            ReadBroker();
            if (s % Math.Max(1, p.EngineMetricsEverySeconds) == 0 || s == p.MeasureSeconds) await SampleEngineAsync().ConfigureAwait(false);
        }
        w.Consumed1 = offsets.Consumed(inputTopic, p.Partitions);
        w.Produced1 = offsets.End(resultTopic, p.Partitions);
        w.Seconds = Now();
        recorder.WindowEndMs = w.Start.AddSeconds(w.Seconds).ToUnixTimeMilliseconds();
        return w;
    }

    /// <summary>
    /// Drops a cell's topics once it is measured: every cell gets fresh ones, and at the default 10,000 events/s an input
    /// topic grows by about 2 MB/s on Pi1's disk. Best effort, bounded; a failure is a warning.
    /// </summary>
    private async Task DeleteTopicsAsync(params string[] topics)
    {
        try
        {
            using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            using var admin = KafkaTopicAdmin.Open(_plan.BootstrapServers, TimeSpan.FromSeconds(10));
            foreach (var t in topics) await admin.DeleteTopicAsync(t, bound.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is PiBenchException or OperationCanceledException or KafkaException)
        {
            _log?.Warning($"Could not delete topics {string.Join(", ", topics)}: {ex.Message} (delete them by hand to free Kafka's disk).");
        }
    }

    /// <summary>The generator's own verdict: its final state when it ended, else its live schedule lag and rate against its bounds.</summary>
    internal static (bool? Ok, string Reason) GeneratorVerdict(NexmarkGeneratorRun g, double maxLagP99Ms = 100, double minFraction = 0.995)
    {
        if (g.IsFinished) return g.State == "Completed" ? (true, "") : (false, g.InvalidReason);
        if (g.ScheduleLagP99Ms > maxLagP99Ms)
            return (false, string.Create(CultureInfo.InvariantCulture, $"p99 schedule lag {g.ScheduleLagP99Ms:0.#} ms > {maxLagP99Ms:0.#} ms"));
        if (g.TargetRate > 0 && g.AchievedRate < minFraction * g.TargetRate)
            return (false, string.Create(CultureInfo.InvariantCulture, $"achieved {g.AchievedRate:0.#} of {g.TargetRate:0.#} events/s"));
        return (true, "");
    }

    private async Task StopGeneratorAsync(NexmarkGeneratorRun generator)
    {
        using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        if (!generator.IsFinished)
            try { await generator.StopAsync(bound.Token).ConfigureAwait(false); } catch (Exception ex) when (ex is OperationCanceledException or PiBenchException) { _log?.Warning($"generator stop: {ex.Message}"); }
    }

    private async Task StopAsync(IStreamEngine engine, NexmarkQueryRun? run, NexmarkGeneratorRun? generator)
    {
        using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        if (generator is not null && !generator.IsFinished)
            try { await generator.StopAsync(bound.Token).ConfigureAwait(false); } catch (Exception ex) when (ex is OperationCanceledException or PiBenchException) { _log?.Warning($"generator stop: {ex.Message}"); }
        if (run is not null)
            try
            {
                await engine.StopAsync(run.ToHandle(), StreamStopMode.Immediate, bound.Token).ConfigureAwait(false);
                await engine.WaitAsync(run.ToHandle(), s => s.State.IsTerminal(), TimeSpan.FromSeconds(20), bound.Token, failOnFailed: false).ConfigureAwait(false);
                await engine.RemoveAsync(run.ToHandle(), bound.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or PiBenchException) { _log?.Warning($"query stop: {ex.Message}"); }
    }
}

/// <summary>Kafka offsets through the protocol: topic end offsets and a consumer group's committed offsets.</summary>
internal sealed class OffsetReader : IDisposable
{
    private readonly IConsumer<Ignore, Ignore> _consumer;
    private readonly TimeSpan _timeout = TimeSpan.FromSeconds(5);

    public OffsetReader(string bootstrapServers, string groupId)
    {
        _consumer = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig { BootstrapServers = bootstrapServers, GroupId = groupId, EnableAutoCommit = false })
            .SetLogHandler((_, _) => { }).Build();
    }

    /// <summary>Sum of the partitions' high watermarks.</summary>
    public long End(string topic, int partitions)
    {
        long sum = 0;
        for (var p = 0; p < partitions; p++) sum += _consumer.QueryWatermarkOffsets(new TopicPartition(topic, p), _timeout).High.Value;
        return sum;
    }

    /// <summary>Sum of the group's committed offsets (what the engine consumed); partitions without a commit count 0.</summary>
    public long Consumed(string topic, int partitions)
    {
        var committed = _consumer.Committed(Enumerable.Range(0, partitions).Select(p => new TopicPartition(topic, p)), _timeout);
        return committed.Sum(c => c.Offset.Value < 0 ? 0 : c.Offset.Value);
    }

    public void Dispose() => _consumer.Dispose();
}
