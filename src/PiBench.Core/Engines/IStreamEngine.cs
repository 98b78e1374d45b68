namespace PiBench.Core.Engines;

/// <summary>
/// One shape for both engines. Every call is async, cancellable and bounded by
/// <see cref="StreamEngineSettings.RequestTimeout"/>; engine failures surface as <see cref="PiBenchException"/> with
/// the engine's own message and one of the <see cref="EngineErrorIds"/>.
/// </summary>
public interface IStreamEngine : IDisposable
{
    StreamSystem System { get; }
    StreamEngineSettings Settings { get; }

    /// <summary>Checks a script on the running engine without starting a job. Arroyo: <c>POST /api/v1/pipelines/validate_query</c>;
    /// Flink: the SQL Gateway plans it (EXPLAIN). Returns the engine's verdict with its messages and positions.</summary>
    Task<SqlValidation> ValidateAsync(string sql, CancellationToken cancellationToken);

    /// <summary>Jobs/pipelines on the engine whose name starts with <paramref name="namePrefix"/> and that are not
    /// terminal (so teardown can stop what PiBench left running).</summary>
    Task<IReadOnlyList<StreamJobHandle>> ListActiveJobsAsync(string namePrefix, CancellationToken cancellationToken);

    /// <summary>Submits the script at the parallelism and returns once the engine has a job id (not when it runs).</summary>
    Task<StreamJobHandle> SubmitAsync(StreamJobRequest request, CancellationToken cancellationToken);

    Task<StreamJobStatus> GetStatusAsync(StreamJobHandle job, CancellationToken cancellationToken);

    /// <summary>Records in/out and rates per operator and subtask, source throughput, backpressure where reported.</summary>
    Task<StreamJobMetrics> GetMetricsAsync(StreamJobHandle job, CancellationToken cancellationToken);

    /// <summary>Asks the engine to stop; returns when the request is accepted (poll the state for the end).</summary>
    Task StopAsync(StreamJobHandle job, StreamStopMode mode, CancellationToken cancellationToken);

    /// <summary>Frees what the submission left behind: Arroyo deletes the pipeline (only once Stopped/Finished/Failed);
    /// Flink closes the SQL Gateway session.</summary>
    Task RemoveAsync(StreamJobHandle job, CancellationToken cancellationToken);

    /// <summary>The workers (Arroyo: one summary row) or TaskManagers the engine sees.</summary>
    Task<IReadOnlyList<StreamWorker>> GetWorkersAsync(CancellationToken cancellationToken);

    /// <summary>Where the job's subtasks run (see <see cref="SubtaskPlacement"/>). Flink: every vertex's subtasks with
    /// their host; Arroyo 0.11 has no placement API: one row per node in <see cref="StreamEngineSettings.NodeAdminUris"/>
    /// with running workers (empty when no node URIs are given).</summary>
    Task<IReadOnlyList<SubtaskPlacement>> GetPlacementAsync(StreamJobHandle job, CancellationToken cancellationToken);
}

/// <summary>One message of an engine's SQL check; Line/Column are 1-based where the engine gives a position, else null.</summary>
public sealed record SqlDiagnostic(string Message, int? Line = null, int? Column = null);

/// <summary>An engine's verdict on a script: <see cref="Valid"/> = no diagnostics.</summary>
public sealed record SqlValidation(IReadOnlyList<SqlDiagnostic> Errors)
{
    public bool Valid => Errors.Count == 0;
    public static SqlValidation Ok { get; } = new([]);
    public string Message => string.Join(" | ", Errors.Select(e => e.Line is { } l ? $"{e.Message} (line {l}, column {e.Column})" : e.Message));
}

/// <summary>The stable ErrorIds engine adapters throw.</summary>
public static class EngineErrorIds
{
    /// <summary>The engine rejected the SQL (planning/validation error). InvalidArgument.</summary>
    public const string SqlError = "EngineSqlError";
    /// <summary>The job reached Failed. InvalidResult.</summary>
    public const string JobFailed = "EngineJobFailed";
    /// <summary>A request or a wait exceeded its time. OperationTimeout.</summary>
    public const string Timeout = "EngineTimeout";
    /// <summary>No TCP connection / DNS failure. ConnectionError.</summary>
    public const string Unreachable = "EngineUnreachable";
    /// <summary>Unknown job or pipeline (404). ObjectNotFound.</summary>
    public const string JobNotFound = "EngineJobNotFound";
    /// <summary>Any other non-success answer. ProtocolError.</summary>
    public const string RequestFailed = "EngineRequestFailed";
    /// <summary>The answer did not have the documented shape. InvalidData.</summary>
    public const string BadResponse = "EngineBadResponse";
    /// <summary>The job did not stop (e.g. a failed savepoint). InvalidOperation.</summary>
    public const string StopFailed = "EngineStopFailed";
}

public static class StreamEngine
{
    /// <summary>The adapter for <paramref name="settings"/>.System.</summary>
    public static IStreamEngine Create(StreamEngineSettings settings, HttpMessageHandler? handler = null, ILogSink? log = null)
    {
        settings.Validate();
        return settings.System switch
        {
            StreamSystem.Arroyo => new Arroyo.ArroyoEngine(settings, handler, log),
            StreamSystem.Flink => new Flink.FlinkEngine(settings, handler, log),
            StreamSystem.Reference => new Reference.ReferenceEngine(settings),
            _ => throw new PiBenchException("EngineSystemUnknown", PiBenchErrorCategory.InvalidArgument,
                $"Unknown stream system '{settings.System}'.", settings.System, "Use Arroyo, Flink or Reference."),
        };
    }

    /// <summary>Polls until <paramref name="until"/> holds, the job fails (EngineJobFailed, unless a failure is
    /// accepted), or <paramref name="timeout"/> passes (EngineTimeout). Every loop is bounded in time.</summary>
    public static async Task<StreamJobStatus> WaitAsync(this IStreamEngine engine, StreamJobHandle job,
        Func<StreamJobStatus, bool> until, TimeSpan timeout, CancellationToken cancellationToken,
        Action<StreamJobStatus>? observed = null, bool failOnFailed = true)
    {
        var deadline = DateTimeOffset.UtcNow + timeout;
        StreamJobStatus? last = null;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            last = await engine.GetStatusAsync(job, cancellationToken).ConfigureAwait(false);
            observed?.Invoke(last);
            if (until(last)) return last;
            if (failOnFailed && last.State == StreamJobState.Failed)
                throw new PiBenchException(EngineErrorIds.JobFailed, PiBenchErrorCategory.InvalidResult,
                    $"{engine.System} job {job.JobId} ({job.Name}) failed: {(last.FailureMessage.Length > 0 ? last.FailureMessage : last.EngineState)}",
                    job.Name, "Read the engine's job errors/exceptions; check the source topic, the connector jars and the cluster's slots.");
            if (last.State.IsTerminal())
                throw new PiBenchException(EngineErrorIds.JobFailed, PiBenchErrorCategory.InvalidResult,
                    $"{engine.System} job {job.JobId} ({job.Name}) ended in {last.EngineState} while waiting.", job.Name,
                    "The job ended on its own (bounded source?) or was stopped by someone else.");
            var now = DateTimeOffset.UtcNow;
            if (now >= deadline)
                throw new PiBenchException(EngineErrorIds.Timeout, PiBenchErrorCategory.OperationTimeout,
                    $"{engine.System} job {job.JobId} ({job.Name}) still {last.EngineState} after {timeout.TotalSeconds:0.#} s.", job.Name,
                    "Raise -Timeout, or check the engine (slots, workers, logs).");
            var wait = engine.Settings.PollInterval;
            if (now + wait > deadline) wait = deadline - now;
            if (wait > TimeSpan.Zero) await Task.Delay(wait, cancellationToken).ConfigureAwait(false);
        }
    }
}
