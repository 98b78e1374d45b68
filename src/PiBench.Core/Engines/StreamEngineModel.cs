namespace PiBench.Core.Engines;

/// <summary>The stream processors PiBench compares.</summary>
public enum StreamSystem
{
    Arroyo,
    Flink,
    /// <summary>PiBench's reference implementation of the queries, in process (Engines/Reference): a correctness
    /// reference and a way to try PiBench on one machine, not a stream processor to compare engines against.</summary>
    Reference,
}

/// <summary>How a running query is stopped.</summary>
public enum StreamStopMode
{
    /// <summary>Arroyo: <c>stop = "graceful"</c> (a stop message flows like a barrier). Flink: stop with savepoint (<c>POST /jobs/:jid/stop</c>).</summary>
    Graceful,
    /// <summary>Arroyo: <c>stop = "immediate"</c>. Flink: cancel (<c>PATCH /jobs/:jid?mode=cancel</c>).</summary>
    Immediate,
}

/// <summary>One engine-neutral view of a job's lifecycle; the engine's own state string is kept beside it.</summary>
public enum StreamJobState
{
    Unknown,
    /// <summary>Arroyo Created/Compiling/Scheduling; Flink INITIALIZING/CREATED.</summary>
    Starting,
    Running,
    /// <summary>Arroyo Recovering/Restarting/Rescaling; Flink RESTARTING/RECONCILING.</summary>
    Recovering,
    /// <summary>Arroyo CheckpointStopping/Stopping/Finishing; Flink FAILING/CANCELLING.</summary>
    Stopping,
    /// <summary>Flink SUSPENDED (the JobManager lost leadership; not globally terminal).</summary>
    Suspended,
    /// <summary>Arroyo Stopped; Flink CANCELED. Terminal.</summary>
    Stopped,
    /// <summary>Arroyo Finished; Flink FINISHED. Terminal.</summary>
    Finished,
    /// <summary>Arroyo Failed; Flink FAILED. Terminal.</summary>
    Failed,
}

public static class StreamJobStates
{
    public static bool IsTerminal(this StreamJobState state) =>
        state is StreamJobState.Stopped or StreamJobState.Finished or StreamJobState.Failed;
}

/// <summary>What to submit: a complete SQL script (DDL then one INSERT) at a parallelism.</summary>
public sealed record StreamJobRequest(string Name, string Sql, int Parallelism)
{
    /// <summary>Arroyo <c>checkpointIntervalMicros</c>; Flink <c>execution.checkpointing.interval</c>. Null = engine default.</summary>
    public TimeSpan? CheckpointInterval { get; init; }
}

/// <summary>Identifies a submitted job at an engine. Flat and serialisable so a handle can be rebuilt from a CSV row.</summary>
public sealed record StreamJobHandle(StreamSystem System, string JobId, string Name)
{
    /// <summary>Arroyo pipeline id (<c>pl_…</c>); Flink SQL Gateway session handle (empty once closed).</summary>
    public string PipelineId { get; init; } = "";
    public DateTimeOffset SubmittedAt { get; init; } = DateTimeOffset.UtcNow;
}

/// <summary>A job's state at one moment.</summary>
public sealed record StreamJobStatus(StreamJobHandle Job, StreamJobState State, string EngineState)
{
    /// <summary>Arroyo <c>failureMessage</c> / first job error; Flink root exception (first line).</summary>
    public string FailureMessage { get; init; } = "";
    public int Tasks { get; init; } = -1;
    public DateTimeOffset? StartTime { get; init; }
    public DateTimeOffset ObservedAt { get; init; } = DateTimeOffset.UtcNow;
}

/// <summary>
/// One subtask of one operator (Arroyo graph node / Flink job vertex). Counters that an engine does not
/// report are -1 (counts) or NaN (rates, backpressure).
/// </summary>
public sealed class StreamOperatorMetric
{
    public string JobId { get; init; } = "";
    public string OperatorId { get; init; } = "";
    public string OperatorName { get; init; } = "";
    public int Subtask { get; init; }
    public bool IsSource { get; init; }
    public bool IsSink { get; init; }
    /// <summary>Cumulative records in (Flink <c>numRecordsIn</c>; for a vertex holding a sink, the sink operator's own
    /// counter, since the sink is chained into its upstream operators); -1 where the engine reports only rates (Arroyo) or
    /// the counter is not (yet) listed.</summary>
    public long RecordsIn { get; init; } = -1;
    /// <summary>Cumulative records out (Flink <c>numRecordsOut</c>, source operator's counter for sources); -1 for Arroyo.</summary>
    public long RecordsOut { get; init; } = -1;
    /// <summary>Arroyo <c>messages_recv</c> (EWMA rate); Flink <c>numRecordsInPerSecond</c>.</summary>
    public double RecordsInPerSecond { get; init; } = double.NaN;
    /// <summary>Arroyo <c>messages_sent</c> (EWMA rate); Flink <c>numRecordsOutPerSecond</c>.</summary>
    public double RecordsOutPerSecond { get; init; } = double.NaN;
    /// <summary>0 (none) … 1 (blocked): Arroyo <c>backpressure</c>; Flink <c>backPressuredTimeMsPerSecond</c> / 1000.</summary>
    public double Backpressure { get; init; } = double.NaN;
    /// <summary>Flink <c>busyTimeMsPerSecond</c> / 1000; NaN for Arroyo.</summary>
    public double Busy { get; init; } = double.NaN;
    public DateTimeOffset SampledAt { get; init; }
}

/// <summary>A job's metrics at one moment: the per-subtask rows and their sums.</summary>
public sealed record StreamJobMetrics(StreamJobHandle Job, IReadOnlyList<StreamOperatorMetric> Operators)
{
    /// <summary>When the adapter had the engine's answer.</summary>
    public DateTimeOffset SampledAt { get; init; } = DateTimeOffset.UtcNow;

    /// <summary>
    /// How often the engine refreshes the values it serves: Flink's JobManager answers from a metric cache refreshed at most
    /// every <c>metrics.fetcher.update-interval</c> (10 s by default; read from <c>/jobmanager/config</c>), so a value can be
    /// that much (plus the fetch) older than <see cref="SampledAt"/>. Zero = values are read live.
    /// </summary>
    public TimeSpan CacheInterval { get; init; }

    /// <summary>True when the values can come from the engine's cache (<see cref="CacheInterval"/> &gt; 0).</summary>
    public bool MayBeCached => CacheInterval > TimeSpan.Zero;

    /// <summary>
    /// False when every counter equals the previous sample's of this job by the same adapter: the engine served the same
    /// cached snapshot again, and this sample says nothing new about the time in between.
    /// </summary>
    public bool ValuesChanged { get; init; } = true;

    /// <summary>
    /// The engine took these values after this time (exclusive); null = unknown (first sample of a cached engine). For a
    /// cached engine: the request time of the last sample before the values changed (the cache was refreshed after it).
    /// Equal to <see cref="ValuesTakenBefore"/> for engines without a cache.
    /// </summary>
    public DateTimeOffset? ValuesTakenAfter
    {
        get => _takenAfterSet ? _takenAfter : MayBeCached ? null : SampledAt;
        init { _takenAfter = value; _takenAfterSet = true; }
    }
    private readonly DateTimeOffset? _takenAfter;
    private readonly bool _takenAfterSet;

    /// <summary>The engine took these values at or before this time: the answer time of the sample where they first appeared
    /// (<see cref="SampledAt"/> unless the adapter says otherwise).</summary>
    public DateTimeOffset ValuesTakenBefore
    {
        get => _takenBefore ?? SampledAt;
        init => _takenBefore = value;
    }
    private readonly DateTimeOffset? _takenBefore;

    /// <summary>
    /// The span over which the engine's own records/s figures (<see cref="StreamOperatorMetric.RecordsInPerSecond"/>,
    /// <see cref="StreamOperatorMetric.RecordsOutPerSecond"/>) are averaged: Flink's <c>…PerSecond</c> meters are MeterViews
    /// over 60 s. Such a rate is never a measured window's rate: use counter differences. Zero = unknown.
    /// </summary>
    public TimeSpan RateAveragingWindow { get; init; }

    /// <summary>Σ records/s out of the source subtasks (the engine's throughput figure); NaN if none reported.</summary>
    public double SourceRecordsPerSecond => SumOrNaN(Operators.Where(o => o.IsSource).Select(o => o.RecordsOutPerSecond));

    /// <summary>Σ cumulative records out of the source subtasks; -1 if the engine keeps no counters.</summary>
    public long SourceRecordsOut
    {
        get
        {
            var src = Operators.Where(o => o.IsSource).Select(o => o.RecordsOut).ToList();
            return src.Count == 0 || src.Any(v => v < 0) ? -1 : src.Sum();
        }
    }

    /// <summary>Σ cumulative records into the sink subtasks; -1 if the engine keeps no counters.</summary>
    public long SinkRecordsIn
    {
        get
        {
            var sink = Operators.Where(o => o.IsSink).Select(o => o.RecordsIn).ToList();
            return sink.Count == 0 || sink.Any(v => v < 0) ? -1 : sink.Sum();
        }
    }

    /// <summary>Σ records/s into the sink subtasks; NaN if none reported.</summary>
    public double SinkRecordsPerSecond => SumOrNaN(Operators.Where(o => o.IsSink).Select(o => o.RecordsInPerSecond));

    /// <summary>Highest backpressure of any subtask (0..1); NaN when the engine reported none.</summary>
    public double MaxBackpressure
    {
        get
        {
            var v = Operators.Select(o => o.Backpressure).Where(d => !double.IsNaN(d)).ToList();
            return v.Count == 0 ? double.NaN : v.Max();
        }
    }

    private static double SumOrNaN(IEnumerable<double> values)
    {
        var v = values.Where(d => !double.IsNaN(d)).ToList();
        return v.Count == 0 ? double.NaN : v.Sum();
    }
}

/// <summary>
/// A worker the engine sees. Flink: one row per TaskManager (<c>GET /taskmanagers</c>). Arroyo 0.11 has no REST
/// call that lists nodes, so it yields one summary row from the controller's admin <c>/metrics</c>
/// (<c>arroyo_controller_registered_nodes</c>, <c>…_registered_slots</c>, <c>…_free_slots</c>).
/// </summary>
public sealed class StreamWorker
{
    public string System { get; init; } = "";
    public string Id { get; init; } = "";
    public string Address { get; init; } = "";
    /// <summary>Nodes this row stands for: 1 for a Flink TaskManager, the registered node count for Arroyo.</summary>
    public int Nodes { get; init; }
    public int Slots { get; init; }
    public int FreeSlots { get; init; }
    /// <summary>Arroyo: node registrations the controller counted (registered-slots gauge / slots per node; grows with
    /// every node restart, never shrinks); more than <see cref="Nodes"/> means stale registrations. -1 for Flink.</summary>
    public int Registrations { get; init; } = -1;
    /// <summary>Flink <c>hardware.cpuCores</c>; -1 when unknown.</summary>
    public int CpuCores { get; init; } = -1;
    /// <summary>Flink <c>hardware.physicalMemory</c> in bytes; -1 when unknown.</summary>
    public long PhysicalMemoryBytes { get; init; } = -1;
    /// <summary>Flink <c>timeSinceLastHeartbeat</c> in ms (epoch ms of the last heartbeat in the REST answer); -1 when unknown.</summary>
    public long LastHeartbeat { get; init; } = -1;
}

/// <summary>
/// Where a job's work runs. Flink: one row per vertex subtask (JobManager <c>/jobs/:jid/vertices/:vid</c>: host and
/// <c>taskmanager-id</c>). Arroyo 0.11 reports no subtask placement over REST (arroyo.md §2.1): one row per node whose
/// admin <c>/metrics</c> shows <c>arroyo_node_running_workers</c> &gt; 0 (OperatorId empty, Subtask -1).
/// </summary>
public sealed class SubtaskPlacement
{
    public string System { get; init; } = "";
    public string JobId { get; init; } = "";
    /// <summary>Flink vertex id; empty for Arroyo.</summary>
    public string OperatorId { get; init; } = "";
    public string OperatorName { get; init; } = "";
    /// <summary>Subtask index; -1 when the engine does not report subtasks (Arroyo).</summary>
    public int Subtask { get; init; } = -1;
    /// <summary>Host (address or name) the subtask or worker runs on, without port.</summary>
    public string Host { get; init; } = "";
    /// <summary>Flink TaskManager id; Arroyo node admin endpoint (<c>host:port</c>).</summary>
    public string Worker { get; init; } = "";
    /// <summary>Flink: 1 per subtask. Arroyo: running workers on the node (any job).</summary>
    public int Workers { get; init; } = 1;
    /// <summary>Flink subtask status (<c>RUNNING</c>, …); Arroyo empty.</summary>
    public string Status { get; init; } = "";
    /// <summary>Where the row comes from: <c>VertexSubtasks</c> (Flink) or <c>NodeRunningWorkers</c> (Arroyo).</summary>
    public string Evidence { get; init; } = "";
}
