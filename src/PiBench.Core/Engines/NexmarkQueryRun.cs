using System.Globalization;

namespace PiBench.Core.Engines;

/// <summary>
/// A submitted Nexmark query: the handle Invoke-NexmarkQuery returns and Get-/Wait-NexmarkQueryRun refresh.
/// Flat scalars only; it carries the endpoints so a row read back from CSV still finds its engine.
/// Rates are NaN and counts -1 when not (yet) reported.
/// </summary>
public sealed class NexmarkQueryRun
{
    public string Name { get; init; } = "";
    public string System { get; init; } = "";
    public string JobId { get; init; } = "";
    /// <summary>Arroyo pipeline id; Flink SQL Gateway session handle.</summary>
    public string PipelineId { get; init; } = "";
    public string JobName { get; init; } = "";
    public int Parallelism { get; init; }
    /// <summary>Engine-neutral state (<see cref="StreamJobState"/>).</summary>
    public string State { get; init; } = nameof(StreamJobState.Unknown);
    /// <summary>The engine's own state string (Arroyo <c>Running</c>, Flink <c>RUNNING</c>, …).</summary>
    public string EngineState { get; init; } = "";
    public string FailureMessage { get; init; } = "";
    /// <summary>Σ records/s out of the source subtasks.</summary>
    public double SourceRecordsPerSecond { get; init; } = double.NaN;
    /// <summary>Σ cumulative source records (Flink); -1 for Arroyo, which reports rates only.</summary>
    public long SourceRecordsOut { get; init; } = -1;
    public double SinkRecordsPerSecond { get; init; } = double.NaN;
    /// <summary>Highest subtask backpressure, 0..1.</summary>
    public double MaxBackpressure { get; init; } = double.NaN;
    public int Operators { get; init; }
    public int Subtasks { get; init; }
    public string ResultTopic { get; init; } = "";
    public DateTimeOffset SubmittedAt { get; init; }
    public DateTimeOffset UpdatedAt { get; init; }
    /// <summary>Arroyo API / Flink JobManager REST.</summary>
    public string EngineUri { get; init; } = "";
    /// <summary>Arroyo admin / Flink SQL Gateway.</summary>
    public string AuxiliaryUri { get; init; } = "";

    public StreamJobHandle ToHandle() =>
        new(Enum.Parse<StreamSystem>(System, ignoreCase: true), JobId, JobName) { PipelineId = PipelineId, SubmittedAt = SubmittedAt };

    public static NexmarkQueryRun From(string name, StreamJobHandle job, IStreamEngine engine, int parallelism, string resultTopic,
        StreamJobStatus? status = null, StreamJobMetrics? metrics = null) => new()
    {
        Name = name,
        System = job.System.ToString(),
        JobId = job.JobId,
        PipelineId = job.PipelineId,
        JobName = job.Name,
        Parallelism = parallelism,
        State = (status?.State ?? StreamJobState.Starting).ToString(),
        EngineState = status?.EngineState ?? "",
        FailureMessage = status?.FailureMessage ?? "",
        SourceRecordsPerSecond = metrics?.SourceRecordsPerSecond ?? double.NaN,
        SourceRecordsOut = metrics?.SourceRecordsOut ?? -1,
        SinkRecordsPerSecond = metrics?.SinkRecordsPerSecond ?? double.NaN,
        MaxBackpressure = metrics?.MaxBackpressure ?? double.NaN,
        Operators = metrics?.Operators.Select(o => o.OperatorId).Distinct().Count() ?? 0,
        Subtasks = metrics?.Operators.Count ?? 0,
        ResultTopic = resultTopic,
        SubmittedAt = job.SubmittedAt,
        UpdatedAt = status?.ObservedAt ?? DateTimeOffset.UtcNow,
        EngineUri = engine.Settings.ApiUri.ToString(),
        AuxiliaryUri = engine.Settings.SecondaryUri.ToString(),
    };

    public override string ToString() => string.Format(CultureInfo.InvariantCulture, "{0} on {1}: {2}", Name, System, State);
}

/// <summary>The steps the cmdlets run, kept in Core so the benchmark can use them too.</summary>
public static class NexmarkQueryRunner
{
    /// <summary>Job name PiBench gives a query: <c>nexmark-q5-p9</c>.</summary>
    public static string JobName(string query, int parallelism) =>
        string.Create(CultureInfo.InvariantCulture, $"nexmark-{query}-p{parallelism}");

    /// <summary>Renders and submits one query; returns at once with the handle (state Starting).</summary>
    public static async Task<NexmarkQueryRun> SubmitAsync(IStreamEngine engine, NexmarkQuery query, NexmarkRenderOptions options,
        TimeSpan? checkpointInterval, CancellationToken cancellationToken)
    {
        var sql = NexmarkQueryCatalog.Default.Render(query, options);
        var request = new StreamJobRequest(JobName(query.Name, options.Parallelism), sql, options.Parallelism) { CheckpointInterval = checkpointInterval };
        var job = await engine.SubmitAsync(request, cancellationToken).ConfigureAwait(false);
        return NexmarkQueryRun.From(query.Name, job, engine, options.Parallelism, options.ResultTopic ?? "");
    }

    /// <summary>Reads state, and metrics while the job runs.</summary>
    public static async Task<(NexmarkQueryRun Run, StreamJobMetrics? Metrics)> RefreshAsync(IStreamEngine engine, NexmarkQueryRun run,
        CancellationToken cancellationToken)
    {
        var job = run.ToHandle();
        var status = await engine.GetStatusAsync(job, cancellationToken).ConfigureAwait(false);
        StreamJobMetrics? metrics = null;
        if (status.State == StreamJobState.Running)
            metrics = await engine.GetMetricsAsync(job, cancellationToken).ConfigureAwait(false);
        return (NexmarkQueryRun.From(run.Name, job, engine, run.Parallelism, run.ResultTopic, status, metrics), metrics);
    }
}
