using System.Management.Automation;
using PiBench.Core;
using PiBench.Core.Kafka;

namespace PiBench.Commands;

/// <summary>Creates the Nexmark input topic with one partition per worker, idempotently.</summary>
/// <remarks>
/// <para>Creates the topic when it is missing and leaves it alone when it already has the requested number of
/// partitions (Action = Exists). A topic with another partition count is an error (KafkaTopicPartitionMismatch),
/// because the engines read partition p on subtask p mod parallelism; -Force deletes and recreates it after a
/// confirmation (all of its messages are lost; -Confirm:$false skips the question).</para>
/// <para>On the embedded broker (Start-EmbeddedKafka) topics are created natively, elsewhere through the Kafka admin API.</para>
/// <para>Where the values come from: a parameter you give always wins. Without -BootstrapServers the cluster topology
/// supplies the broker (controller address and kafka.port; the -Topology file, else the default topology) and then also
/// the topic (kafka.input_topic), the partition count (kafka.partitions, else one per worker) and the replication factor
/// (kafka.replication_factor) unless given. -Topology together with -BootstrapServers takes everything but the broker
/// from the file. With -BootstrapServers and no -Topology the defaults are topic nexmark, 9 partitions, replication 1.</para>
/// </remarks>
/// <example><code>Initialize-NexmarkTopic</code><para>Creates the default topology's input topic on its controller's broker with one partition per worker.</para></example>
/// <example><code>Initialize-NexmarkTopic -Topology ./lab.yaml</code><para>The same for the cluster described in lab.yaml.</para></example>
/// <example><code>Initialize-NexmarkTopic -Topic nexmark -BootstrapServers 192.168.1.101:9092 -Partitions 9</code><para>Creates topic nexmark with nine partitions on the cluster's broker.</para></example>
/// <example><code>Start-EmbeddedKafka | Initialize-NexmarkTopic -Partitions 4</code><para>Creates topic nexmark with four partitions on a new embedded broker.</para></example>
/// <example><code>Initialize-NexmarkTopic -BootstrapServers $kafka.BootstrapServers -Partitions 6 -Force -Confirm:$false</code><para>Recreates the topic with six partitions without asking.</para></example>
[Cmdlet(VerbsData.Initialize, "NexmarkTopic", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(NexmarkTopic))]
public sealed class InitializeNexmarkTopicCommand : KafkaTopicCmdlet
{
    /// <summary>Number of partitions, one per worker. Default: the topology's kafka.partitions, else its number of workers (9 on the default ten-Pi cluster); 9 without a topology.</summary>
    [Parameter]
    [ValidateRange(1, 10_000)]
    public int? Partitions { get; set; }

    /// <summary>Replication factor. Default: the topology's kafka.replication_factor; 1 (one broker on Pi1) without a topology.</summary>
    [Parameter]
    [ValidateRange(1, 32)]
    public int? ReplicationFactor { get; set; }

    /// <summary>
    /// Whose clock stamps the records of a new topic (message.timestamp.type). Default LogAppendTime: the broker stamps
    /// each record when it appends it, so latencies measured against these stamps use the broker's clock (Pi1) only.
    /// CreateTime keeps the producer's stamp. Applies when the topic is created or recreated; an existing topic is kept as it is.
    /// </summary>
    [Parameter]
    [ValidateSet("LogAppendTime", "CreateTime")]
    public string TimestampType { get; set; } = "LogAppendTime";

    /// <summary>Recreate a topic whose partition count differs (asks first; its messages are lost).</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    protected override async Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        // Explicit parameters win; the topology fills the rest when it is in use (see the remarks).
        var (bootstrap, topic, topology) = ResolveKafka();
        var partitions = Partitions ?? topology?.Partitions ?? 9;
        var replication = ReplicationFactor ?? topology?.Kafka.ReplicationFactor ?? 1;

        using var admin = KafkaTopicAdmin.Open(bootstrap);
        var existing = await admin.DescribeTopicAsync(topic, cancellationToken);
        var plan = KafkaTopicAdmin.Plan(existing, topic, partitions, Force);
        switch (plan)
        {
            case KafkaTopicAction.Create when !ShouldProcess($"{topic} on {bootstrap}", $"Create topic with {partitions} partitions, replication {replication}, message.timestamp.type={TimestampType}"):
                return;
            case KafkaTopicAction.Recreate:
                if (!ShouldProcess($"{topic} on {bootstrap}", $"Delete topic ({existing!.Partitions} partitions, all messages) and recreate it with {partitions} partitions"))
                    return;
                var confirmedOff = MyInvocation.BoundParameters.TryGetValue("Confirm", out var c) && c is SwitchParameter s && !s.IsPresent;
                if (!confirmedOff && !ShouldContinue($"Topic '{topic}' has {existing.Partitions} partitions. Delete it with all its messages and recreate it with {partitions}?", "Recreate Kafka topic"))
                    return;
                break;
        }
        var configs = new Dictionary<string, string>(StringComparer.Ordinal) { ["message.timestamp.type"] = TimestampType };
        WriteObject(await KafkaTopicAdmin.ApplyAsync(admin, topic, partitions, replication, plan, cancellationToken, configs));
    }
}

/// <summary>Starts producing Nexmark events into Kafka at a fixed rate and returns a run handle at once.</summary>
/// <remarks>
/// <para>Open loop: event i has the intended send time start + i / EventsPerSecond and is sent when it is due, never
/// earlier, to partition (i / block) mod partitions: the block is 1 (strict round robin) below 20,000 events/s and grows with the rate (-PartitionBlock). The schedule lag (send time - intended time) is recorded; after a stall
/// the producer catches up at no more than 2 x the target rate (a token bucket holding at most 2 ms of that, or
/// 64 events). Events are the Nexmark generator's (Flink or Beam profile, seeded) in the Flink suite's Kafka JSON.</para>
/// <para>The handle (NexmarkGeneratorRun) reports Sent, Acknowledged, Failed, TargetRate, AchievedRate,
/// ScheduleLagP99Ms, MaxScheduleLagMs, PartitionCounts, State and Error while it runs. At the end
/// Sent = Acknowledged + Failed. A delivery failure or a broker that goes away ends the run (State Failed) with
/// the error and the counts so far; a run that could not hold the rate (achieved below 99.5 % of the target or p99
/// lag above -MaxScheduleLagMs) ends FellBehind with Valid = $false and InvalidReason.</para>
/// <para>Producer: librdkafka called directly (the Client property says which client sent), acks=all, idempotence,
/// linger 20 ms, 1 MB batches, lz4. The topic must exist (Initialize-NexmarkTopic): the producer asks for it on its own
/// connection and never creates it. The schedule starts once the producer can deliver (its idempotent producer id
/// assigned, at most 2 s of waiting), so the first events do not wait in the client.
/// -Wait runs in the foreground; Ctrl+C then stops the run.</para>
/// <para>Where the broker and topic come from: a parameter you give always wins. Without -BootstrapServers the cluster
/// topology supplies the broker (controller address and kafka.port; the -Topology file, else the default topology)
/// and, unless given, the topic (kafka.input_topic), the rate (benchmark.events_per_second) and the number of events
/// (benchmark.total_events). -Topology together with -BootstrapServers takes everything but the broker from the file.
/// With -BootstrapServers and no -Topology the defaults are topic nexmark, 10,000 events/s, 10,000,000 events.</para>
/// </remarks>
/// <example><code>$run = Start-NexmarkGenerator -Topology ./lab.yaml -EventsPerSecond 20000 -TotalEvents 1000000</code><para>Produces a million events into the input topic on the broker of the cluster described in lab.yaml.</para></example>
/// <example><code>$run = Start-NexmarkGenerator -Topic nexmark -BootstrapServers 192.168.1.101:9092 -EventsPerSecond 50000 -TotalEvents 3000000</code><para>Produces three million events at 50,000 per second in the background.</para></example>
/// <example><code>$run | Wait-NexmarkGenerator -Timeout 120</code><para>Waits up to two minutes for the run to end and shows the final counts.</para></example>
/// <example><code>Start-NexmarkGenerator -BootstrapServers $kafka.BootstrapServers -EventsPerSecond 10000 -TotalEvents 50000 -Wait</code><para>Runs five seconds of events in the foreground and returns the finished run.</para></example>
[Cmdlet(VerbsLifecycle.Start, "NexmarkGenerator", SupportsShouldProcess = true)]
[OutputType(typeof(NexmarkGeneratorRun))]
public sealed class StartNexmarkGeneratorCommand : KafkaTopicCmdlet
{
    /// <summary>Target rate over the whole run, events per second; 0 = unthrottled. Default: the topology's benchmark.events_per_second when a topology is in use, else 10,000.</summary>
    [Parameter]
    [ValidateRange(0, 100_000_000)]
    public double? EventsPerSecond { get; set; }

    /// <summary>Events to produce. Default: the topology's benchmark.total_events when a topology is in use, else 10,000,000.</summary>
    [Parameter]
    [ValidateRange(1, long.MaxValue)]
    public long? TotalEvents { get; set; }

    /// <summary>Generator profile: Flink (nexmark-flink, seeded; default) or Beam (release-0.1).</summary>
    [Parameter]
    [ValidateSet("Flink", "Beam")]
    public string Profile { get; set; } = "Flink";

    /// <summary>Generator seed (Flink profile). Default: the documented default, printed in the run's Source.</summary>
    [Parameter]
    public long? Seed { get; set; }

    /// <summary>Number of generator splits sharing the stream (as the Flink source's parallelism). Default 1.</summary>
    [Parameter]
    [ValidateRange(1, 1024)]
    public int GeneratorCount { get; set; } = 1;

    /// <summary>Validity bound on the p99 schedule lag, milliseconds. Default 100.</summary>
    [Parameter]
    [ValidateRange(0.001, 3_600_000)]
    public double MaxScheduleLagMs { get; set; } = 100;

    /// <summary>Produce synthetic 200-byte JSON events instead of Nexmark events (raw producer checks).</summary>
    [Parameter]
    public SwitchParameter Synthetic { get; set; }

    /// <summary>Consecutive events per partition: event i goes to partition (i / PartitionBlock) mod partitions. Default 0 = automatic: EventsPerSecond / 10,000 (1, strict round robin, below 20,000 events/s), at most 64; unthrottled, enough for 64 turns per partition, at most 64. 1 = strict round robin. Larger blocks mean fewer, larger broker batches (less CPU per event); the run's PartitionBlock property says which was used.</summary>
    [Parameter]
    [ValidateRange(0, 1_000_000)]
    public int PartitionBlock { get; set; }

    /// <summary>Wait in the foreground until the run ends; Ctrl+C stops the run.</summary>
    [Parameter]
    public SwitchParameter Wait { get; set; }

    protected override async Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        var (bootstrap, topic, topology) = ResolveKafka();
        var eventsPerSecond = EventsPerSecond ?? topology?.Benchmark.EventsPerSecond ?? 10_000;
        var totalEvents = TotalEvents ?? topology?.Benchmark.TotalEvents ?? 10_000_000;
        var what = eventsPerSecond > 0 ? $"Produce {totalEvents} events at {eventsPerSecond} events/s" : $"Produce {totalEvents} events unthrottled";
        if (!ShouldProcess($"{topic} on {bootstrap}", what)) return;
        var sources = NexmarkPayloadSources.Create(new NexmarkSourceSettings
        {
            Profile = Profile, Seed = Seed, GeneratorCount = GeneratorCount, TotalEvents = totalEvents,
            EventsPerSecond = eventsPerSecond, Synthetic = Synthetic,
        });
        var options = new ProducerRunOptions
        {
            BootstrapServers = bootstrap, Topic = topic, EventsPerSecond = eventsPerSecond, TotalEvents = totalEvents,
            MaxScheduleLagP99Ms = MaxScheduleLagMs, PartitionBlock = PartitionBlock,
        };
        var run = await NexmarkGeneratorRun.StartAsync(options, sources, Log, cancellationToken);
        WriteVerbose($"Run {run.Id}: {run.Source}");
        if (!Wait)
        {
            WriteObject(run);
            return;
        }
        try
        {
            await run.WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            await run.StopAsync(CancellationToken.None); // Ctrl+C stops the run, bounded
            throw;
        }
        if (run.GetError() is { } error) WriteError(error);
        WriteObject(run);
    }
}

/// <summary>Gets Nexmark generator runs started in this PowerShell process.</summary>
/// <remarks><para>Without input, lists every run (finished ones included); with a run from the pipeline, returns
/// it with its live counters. The properties are read live, so the same object also updates in place.</para></remarks>
/// <example><code>Get-NexmarkGenerator</code><para>Lists all runs with their state and counts.</para></example>
/// <example><code>$run | Get-NexmarkGenerator</code><para>Shows the current counters of one run.</para></example>
[Cmdlet(VerbsCommon.Get, "NexmarkGenerator", DefaultParameterSetName = "All")]
[OutputType(typeof(NexmarkGeneratorRun))]
public sealed class GetNexmarkGeneratorCommand : PiBenchCmdlet
{
    /// <summary>A run handle from Start-NexmarkGenerator.</summary>
    [Parameter(Position = 0, ValueFromPipeline = true, ParameterSetName = "InputObject")]
    public NexmarkGeneratorRun[]? InputObject { get; set; }

    /// <summary>Run ids.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true, ParameterSetName = "Id")]
    public int[]? Id { get; set; }

    protected override Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        if (InputObject is not null)
            foreach (var r in InputObject) WriteObject(r);
        else if (Id is not null)
            foreach (var id in Id)
            {
                if (NexmarkGeneratorRun.Find(id) is { } r) WriteObject(r);
                else WriteError(new PiBenchException("NexmarkGeneratorNotFound", PiBenchErrorCategory.ObjectNotFound,
                    $"No Nexmark generator run with id {id} in this process.", id, "List runs with Get-NexmarkGenerator."));
            }
        else
            foreach (var r in NexmarkGeneratorRun.All) WriteObject(r);
        return Task.CompletedTask;
    }
}

/// <summary>Waits until Nexmark generator runs end and returns them.</summary>
/// <remarks><para>Returns each run once it has ended (Completed, FellBehind, Stopped or Failed). A failed run also
/// writes its error (e.g. KafkaBrokerUnavailable, KafkaDeliveryFailed). -Timeout bounds the wait per run
/// (NexmarkGeneratorWaitTimeout); Ctrl+C stops waiting but not the run: use Stop-NexmarkGenerator.</para></remarks>
/// <example><code>$run | Wait-NexmarkGenerator</code><para>Waits for the run and shows its final counts.</para></example>
/// <example><code>Get-NexmarkGenerator | Wait-NexmarkGenerator -Timeout 60</code><para>Waits up to a minute for each run.</para></example>
[Cmdlet(VerbsLifecycle.Wait, "NexmarkGenerator")]
[OutputType(typeof(NexmarkGeneratorRun))]
public sealed class WaitNexmarkGeneratorCommand : PiBenchCmdlet
{
    /// <summary>A run handle from Start-NexmarkGenerator.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, HelpMessage = "The run to wait for.")]
    public NexmarkGeneratorRun[] InputObject { get; set; } = Array.Empty<NexmarkGeneratorRun>();

    /// <summary>Seconds to wait per run; -1 (default) waits until it ends.</summary>
    [Parameter]
    [ValidateRange(-1, int.MaxValue)]
    public int Timeout { get; set; } = -1;

    protected override async Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        foreach (var run in InputObject)
        {
            try
            {
                var wait = run.WaitAsync(cancellationToken);
                if (Timeout >= 0) await wait.WaitAsync(TimeSpan.FromSeconds(Timeout), cancellationToken);
                else await wait;
            }
            catch (TimeoutException)
            {
                WriteError(new PiBenchException("NexmarkGeneratorWaitTimeout", PiBenchErrorCategory.OperationTimeout,
                    $"Run {run.Id} is still {run.State} after {Timeout} s (sent {run.Sent} of {run.TotalEvents}).", run,
                    "Wait longer, or stop it with Stop-NexmarkGenerator."));
                continue;
            }
            if (run.GetError() is { } error) WriteError(error);
            WriteObject(run);
        }
    }
}

/// <summary>Stops Nexmark generator runs and returns them in their final state.</summary>
/// <remarks><para>The producer stops sending at once, purges what is still queued and drains the messages in
/// flight for at most a few seconds; anything not acknowledged then counts as Failed, so Sent = Acknowledged + Failed.
/// The run ends in State Stopped (Valid = $false). Stopping a finished run returns it unchanged.</para></remarks>
/// <example><code>$run | Stop-NexmarkGenerator</code><para>Stops the run and shows its final counts.</para></example>
/// <example><code>Get-NexmarkGenerator | Stop-NexmarkGenerator</code><para>Stops every run of this process.</para></example>
[Cmdlet(VerbsLifecycle.Stop, "NexmarkGenerator", SupportsShouldProcess = true)]
[OutputType(typeof(NexmarkGeneratorRun))]
public sealed class StopNexmarkGeneratorCommand : PiBenchCmdlet
{
    /// <summary>A run handle from Start-NexmarkGenerator.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, HelpMessage = "The run to stop.")]
    public NexmarkGeneratorRun[] InputObject { get; set; } = Array.Empty<NexmarkGeneratorRun>();

    protected override async Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        foreach (var run in InputObject)
        {
            if (!run.IsFinished && !ShouldProcess($"run {run.Id} ({run.Topic})", "Stop the Nexmark generator")) continue;
            await run.StopAsync(cancellationToken);
            WriteObject(run);
        }
    }
}

/// <summary>Measures how many Nexmark events per second this host can generate, serialise and produce.</summary>
/// <remarks>
/// <para>Times three stages: generation alone and generation plus Kafka-JSON serialisation on one dedicated thread
/// (warmed up, then three interleaved rounds; GenerationRate and SerializationRate are events per CPU second of that
/// thread, so they say what one core of this host can do even while other processes run; SerializationWallRate is
/// the same work per wall-clock second), and the whole unthrottled produce path into a fresh embedded broker (the
/// librdkafka mock cluster, in this process; ProduceRate per wall-clock second, ProduceCpuNsPerEvent the process's
/// CPU per event). The stage with the largest cost per event is named as the Bottleneck; SustainableRate is the
/// produce rate. Runtime names the build (a Debug build of PiBench is far slower), the .NET runtime, JIT tiering and
/// GC mode; Method says how each figure was measured. The embedded broker shares this host's cores: a real broker on
/// Pi1 adds network and disk.</para>
/// <para>The measurement topic has -Partitions partitions, else as many as the topology's input topic (kafka.partitions,
/// else one per worker; the -Topology file, else the default topology). Nothing but the file is read: the cluster is not contacted.</para>
/// </remarks>
/// <example><code>Measure-NexmarkGenerator</code><para>Measures with 200,000 Flink-profile events.</para></example>
/// <example><code>Measure-NexmarkGenerator -Topology ./lab.yaml</code><para>Measures with as many partitions as the lab cluster has workers.</para></example>
/// <example><code>Measure-NexmarkGenerator -Count 1000000 -Profile Beam</code><para>Measures a million Beam-profile events.</para></example>
[Cmdlet(VerbsDiagnostic.Measure, "NexmarkGenerator")]
[OutputType(typeof(NexmarkGeneratorCapacity))]
public sealed class MeasureNexmarkGeneratorCommand : TopologyCmdlet
{
    /// <summary>Events per stage. Default 200,000.</summary>
    [Parameter(Position = 0)]
    [ValidateRange(1000, 100_000_000)]
    [Alias("Events")]
    public long Count { get; set; } = 200_000;

    /// <summary>Partitions of the measurement topic. Default: the topology's partition count (kafka.partitions, else one per worker; 9 on the default cluster).</summary>
    [Parameter]
    [ValidateRange(1, 1000)]
    public int? Partitions { get; set; }

    /// <summary>Generator profile: Flink (default) or Beam.</summary>
    [Parameter]
    [ValidateSet("Flink", "Beam")]
    public string Profile { get; set; } = "Flink";

    /// <summary>Measure the synthetic 200-byte events instead (the producer alone).</summary>
    [Parameter]
    public SwitchParameter Synthetic { get; set; }

    protected override async Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        var sources = NexmarkPayloadSources.Create(new NexmarkSourceSettings
        {
            Profile = Profile, TotalEvents = Count * 2, EventsPerSecond = 0, Synthetic = Synthetic, BaseTime = 1436918400000,
        });
        var partitions = Partitions ?? LoadTopology().Partitions;
        WriteObject(await GeneratorCapacity.MeasureAsync(sources, Count, partitions, Progress, cancellationToken));
    }
}
