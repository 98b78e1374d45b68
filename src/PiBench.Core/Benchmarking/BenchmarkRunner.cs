using System.Globalization;
using PiBench.Core.Engines;
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
    /// <summary>Where this run's files go and their name without extension (a cell's latency log is named after them).</summary>
    private (string Directory, string BaseName) _files = (".", "");

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
        _files = (dir, baseName);
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

    /// <summary>
    /// One measurement at one rate, a cell: its resources (<see cref="CellResources"/>: fresh topics, result collector,
    /// sampling), the job (<see cref="CellJobStart"/>), the generator (<see cref="CellGeneratorStart"/>), the warm-up
    /// (<see cref="WarmupPhase"/>), the window (<see cref="WindowPhase"/>), the answers (<see cref="CellResultCheck"/>),
    /// stop, the verdict (<see cref="CellVerdict"/>) and the latency log; the resources are released on every way out.
    /// A <see cref="PiBenchException"/> after the topics exist makes the cell Failed; cancellation makes it Stopped.
    /// </summary>
    private async Task<BenchmarkResult> MeasureAsync(IStreamEngine engine, string q, int rep, double rate, long totalEvents, int step,
        string label, int percent, CancellationToken ct)
    {
        var p = _plan;
        var result = Skeleton(q, rep, rate, step);
        var topics = CellTopics.For(q, rep, step);
        var query = NexmarkQueryCatalog.Default.Get(q, p.Engine.System);
        var progress = new CellProgress(_progress, label, percent);
        var containers = await ContainersAsync(ct).ConfigureAwait(false); // before anything that needs cleaning up

        // The clock latency rests on: the broker's against this host's (where the generator schedules events).
        progress.Report("Checking the broker's clock");
        (result.ClockOffsetMs, result.ClockCheck) = await BrokerClock.MeasureAsync(p.BootstrapServers, p.BrokerNode, p.Ssh, p.Thresholds.MaxClockOffsetMs, ct).ConfigureAwait(false);

        progress.Report("Creating topics");
        var cell = await CellResources.OpenAsync(engine, p, topics, containers, _log, ct).ConfigureAwait(false);
        try
        {
            progress.Report("Submitting the query");
            var run = await CellJobStart.StartAsync(cell, query, p, result, _log, ct).ConfigureAwait(false);

            progress.Report("Starting the generator");
            var generator = await CellGeneratorStart.StartAsync(cell, p, rate, totalEvents, result, _log, ct).ConfigureAwait(false);

            await WarmupPhase.RunAsync(cell, run, p, result, progress, _log, ct).ConfigureAwait(false);

            var window = await WindowPhase.ObserveAsync(cell, run, generator, p, progress, ct).ConfigureAwait(false);
            if (window.Engine.Failures > 0)
                _log?.Verbose($"{q} repetition {rep}: {window.Engine.Failures} engine metric sample(s) failed: {window.Engine.LastError}");

            var generatorVerdict = GeneratorVerdict.Of(generator); // before stopping it: a stop by us is not its failure
            if (p.CheckResults)
            {
                // The answers: stop the input, let the engine drain, compare its whole output with the reference.
                progress.Report("Checking the answers against the reference");
                await cell.StopGeneratorAsync().ConfigureAwait(false);
                await CellResultCheck.RunAsync(result, q, engine, run.ToHandle(), p.BootstrapServers, topics.Input,
                    topics.Result, topics.GroupId, p.Partitions, p.CheckpointInterval, _log, ct).ConfigureAwait(false);
            }
            else result.ResultCheckReason = "-SkipResultCheck";

            progress.Report("Stopping the query and the generator");
            await cell.StopAsync().ConfigureAwait(false);
            await cell.FinishObservingAsync().ConfigureAwait(false);

            var (res, engineUse) = cell.Sampling.Summarize(window);
            foreach (var u in engineUse.Containers) { u.Query = q; u.Repetition = rep; u.Step = step; Document.Containers.Add(u); }
            CellVerdict.Judge(result, window, cell, res, engineUse, generatorVerdict, p, rate, _log);
            LatencyLogFile.Write(result, cell.Recorder, window.Start, _files.Directory, _files.BaseName, _log);
            return result;
        }
        catch (Exception ex) when (ct.IsCancellationRequested || ex is not PiBenchException)
        {
            // Ctrl+C, or a failure PiBench did not foresee (it ends the run): stop what runs, and keep this cell as Stopped
            // or Failed (its figures were not completed) before the run's other cells are marked not run.
            await cell.StopAsync().ConfigureAwait(false);
            var stopped = ct.IsCancellationRequested;
            result.Status = stopped ? "Stopped" : "Failed";
            result.Valid = false;
            result.InvalidReason = stopped ? "stopped before the measurement ended" : $"{ex.GetType().Name}: {ex.Message}";
            Document.Results.Add(result);
            throw;
        }
        catch (PiBenchException ex)
        {
            await cell.StopAsync().ConfigureAwait(false);
            result.Status = "Failed";
            result.Valid = false;
            result.InvalidReason = $"{ex.ErrorId}: {ex.Message}";
            _log?.Warning($"{q} repetition {rep} failed: {ex.Message}");
            return result;
        }
        finally
        {
            await cell.DisposeAsync().ConfigureAwait(false);
        }
    }
}
