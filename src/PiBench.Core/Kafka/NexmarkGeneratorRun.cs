using System.Buffers;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Confluent.Kafka;
using HdrHistogram;

namespace PiBench.Core.Kafka;

/// <summary>Settings of one paced producer run.</summary>
public sealed class ProducerRunOptions
{
    public string BootstrapServers { get; set; } = "";
    public string Topic { get; set; } = "nexmark";
    /// <summary>Target rate in events per second over the whole run; 0 = unthrottled (as fast as possible).</summary>
    public double EventsPerSecond { get; set; } = 10_000;
    /// <summary>Events to send; the run ends earlier if the source is exhausted.</summary>
    public long TotalEvents { get; set; } = 10_000_000;
    /// <summary>
    /// Catch-up limit: after a stall the producer sends the backlog at no more than this multiple of the target
    /// rate (token bucket refilled at factor × rate, holding at most 2 ms of it or 64 events). Default 2.
    /// </summary>
    public double CatchUpFactor { get; set; } = 2.0;
    /// <summary>Validity gate: the achieved rate must be at least this fraction of the target (methodology §3.2: 0.995).</summary>
    public double MinAchievedFraction { get; set; } = 0.995;
    /// <summary>Validity gate: the p99 schedule lag must not exceed this many milliseconds.</summary>
    public double MaxScheduleLagP99Ms { get; set; } = 100;
    /// <summary>librdkafka message.timeout.ms: a message not acknowledged in this time fails.</summary>
    public TimeSpan DeliveryTimeout { get; set; } = TimeSpan.FromSeconds(30);
    /// <summary>No acknowledgement at all for this long while messages are outstanding ends the run (broker gone).</summary>
    public TimeSpan AckStallTimeout { get; set; } = TimeSpan.FromSeconds(15);
    /// <summary>Bound on the final flush (completed runs) and on the drain after a stop or a failure.</summary>
    public TimeSpan FlushTimeout { get; set; } = TimeSpan.FromSeconds(30);
    public TimeSpan DrainTimeout { get; set; } = TimeSpan.FromSeconds(5);
    /// <summary>Producer settings (test-environment §5.3): acks=all, idempotence, linger 20 ms, 1 MB batches, lz4.</summary>
    public string Acks { get; set; } = "all";
    public bool EnableIdempotence { get; set; } = true;
    public int LingerMs { get; set; } = 20;
    public int BatchSizeBytes { get; set; } = 1_000_000;
    public string Compression { get; set; } = "lz4";
    public int QueueBufferingMaxMessages { get; set; } = 500_000;
    /// <summary>
    /// Send through librdkafka's C API directly (default; no managed object per message) instead of
    /// Confluent.Kafka's Produce + delivery handler. Falls back to Confluent.Kafka when an export is missing.
    /// </summary>
    public bool NativeClient { get; set; } = true;
    /// <summary>
    /// Consecutive events per partition turn: event i goes to partition (i / block) mod partitions. 0 (default) =
    /// automatic, see <see cref="AutoPartitionBlock"/>; 1 = strict round robin (i mod partitions). Blocks give the
    /// broker fewer, larger batches, like the sticky partitioner behind the Flink suite's 'round-robin' Kafka sink, and
    /// keep the spread even to within one block; producer-vs-kcat measured round robin at about 450 ns more CPU per
    /// event (client and broker) than blocks of 64 on the build host.
    /// </summary>
    public int PartitionBlock { get; set; }

    /// <summary>
    /// The automatic partition block: paced, rate / 10,000 events (a tenth of a millisecond of the schedule per turn;
    /// 1 = round robin below 20,000 events/s), at most 64; unthrottled, TotalEvents / (64 x partitions) (every partition
    /// gets at least 64 turns), 1 to 64. So at any moment the partitions' newest events are at most
    /// block x partitions events apart: under a millisecond of event time at the target rate.
    /// </summary>
    public static int AutoPartitionBlock(double eventsPerSecond, long totalEvents, int partitions) =>
        eventsPerSecond > 0
            ? (int)Math.Clamp(Math.Floor(eventsPerSecond / 10_000), 1, 64)
            : (int)Math.Clamp(totalEvents / (64L * Math.Max(1, partitions)), 1, 64);
    /// <summary>
    /// Generate and serialise on a second thread, up to 65,536 events ahead of the sender. Off by default: on the
    /// 2-core build host the extra thread cost more than it saved (producer-vs-kcat benchmark); not yet measured on a Pi 4.
    /// </summary>
    public bool PipelineGeneration { get; set; }
    /// <summary>Any other librdkafka producer properties.</summary>
    public IDictionary<string, string> Extra { get; } = new Dictionary<string, string>(StringComparer.Ordinal);
}

/// <summary>
/// A running or finished open-loop producer: the handle that Start-NexmarkGenerator returns. Event i has the
/// intended send time start + i / rate; the producer thread sends each event when it is due, never earlier,
/// to partition (i / PartitionBlock) mod partitions (engines read partition p on subtask p mod parallelism; the block is 1 below 20,000 events/s), and records the
/// schedule lag (send time - intended time) in an HdrHistogram. After a stall it catches up at no more than
/// <see cref="ProducerRunOptions.CatchUpFactor"/> × rate. Every event is accounted for: at the end
/// Sent = Acknowledged + Failed (messages purged or still unacknowledged when a bounded flush ends count as Failed).
/// A delivery failure, a fatal client error, all brokers down or an acknowledgement stall end the run with
/// State Failed, an Error and the counts so far. A run that finished but missed the rate (achieved &lt; 99.5 % of
/// target, or p99 lag over the bound) ends FellBehind with Valid = false and the reason.
/// </summary>
public sealed class NexmarkGeneratorRun : IRunProducerEvents
{
    private static readonly ConcurrentDictionary<int, NexmarkGeneratorRun> s_runs = new();
    private static int s_nextId;

    private readonly ProducerRunOptions _o;
    private readonly INexmarkPayloadSourceFactory _sources;
    private readonly ILogSink _log;
    private readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private IRunProducer? _producer;
    private long[] _sentPerPartition = Array.Empty<long>();
    private long[] _ackedPerPartition = Array.Empty<long>();
    private RunCounters _c; // Sent/LastSendTicks (producer thread) and Acked/Failed (delivery reports) on separate cache lines
    private long _startTicks, _endTicks, _scheduleStartUnixMs;
    private const int AckPad = 8; // _ackedPerPartition[p + AckPad]: 64 bytes between it and the producer thread's _sentPerPartition
    private volatile bool _stopRequested;
    private volatile bool _finalized;
    private volatile bool _countsClosed;
    private volatile bool _purging;
    private volatile string _state = "Starting";
    private volatile Failure? _failure;
    private double _lagP99Ms, _lagMaxMs;
    private string _invalidReason = "";
    private bool _valid;

    private sealed record Failure(string ErrorId, PiBenchErrorCategory Category, string Message, string? Recommended);

    private NexmarkGeneratorRun(ProducerRunOptions options, INexmarkPayloadSourceFactory sources, ILogSink log)
    {
        _o = options;
        _sources = sources;
        _log = log;
        Id = Interlocked.Increment(ref s_nextId);
        StartTime = DateTimeOffset.Now;
    }

    /// <summary>Runs started in this process (finished ones included), oldest first.</summary>
    public static IReadOnlyList<NexmarkGeneratorRun> All => s_runs.Values.OrderBy(r => r.Id).ToList();
    public static NexmarkGeneratorRun? Find(int id) => s_runs.TryGetValue(id, out var r) ? r : null;

    public int Id { get; }
    public string Topic => _o.Topic;
    public string BootstrapServers => _o.BootstrapServers;
    /// <summary>Starting, Running, Stopping, Completed, FellBehind, Stopped or Failed.</summary>
    public string State => _state;
    /// <summary>True only for a Completed run that held the rate (see InvalidReason otherwise).</summary>
    public bool Valid => _finalized && _valid;
    public string InvalidReason => _finalized ? _invalidReason : "";
    /// <summary>Events per second requested (0 = unthrottled).</summary>
    public double TargetRate => _o.EventsPerSecond;
    /// <summary>Sent / (time of the last send - start + one interval); live while running.</summary>
    public double AchievedRate
    {
        get
        {
            var sent = Interlocked.Read(ref _c.Sent);
            var start = Interlocked.Read(ref _startTicks);
            if (sent == 0 || start == 0) return 0;
            var end = _finalized ? Interlocked.Read(ref _c.LastSendTicks) : Stopwatch.GetTimestamp();
            var seconds = (end - start) / (double)Stopwatch.Frequency + (_o.EventsPerSecond > 0 ? 1.0 / _o.EventsPerSecond : 0);
            return seconds <= 0 ? 0 : sent / seconds;
        }
    }
    public long TotalEvents => _o.TotalEvents;
    /// <summary>Events handed to the Kafka client.</summary>
    public long Sent => Interlocked.Read(ref _c.Sent);
    /// <summary>Events the brokers acknowledged (acks=all by default).</summary>
    public long Acknowledged => Interlocked.Read(ref _c.Acked);
    /// <summary>Events that failed or were never acknowledged before the run ended.</summary>
    public long Failed => Interlocked.Read(ref _c.Failed);
    /// <summary>Sent but not yet acknowledged or failed (0 once the run has ended).</summary>
    public long Pending => Math.Max(0, Sent - Acknowledged - Failed);
    public int Partitions => _sentPerPartition.Length;
    /// <summary>Consecutive events per partition turn in this run (event i goes to partition (i / PartitionBlock) mod Partitions).</summary>
    public int PartitionBlock { get; private set; } = 1;
    /// <summary>The Kafka client that sent: librdkafka (direct, the default) or Confluent.Kafka.</summary>
    public string Client => _producer?.Kind ?? "";
    /// <summary>Events sent per partition, "0:n0 1:n1 ..." (scalar, Export-Csv friendly).</summary>
    public string PartitionCounts => string.Join(" ", _sentPerPartition.Select((n, p) => $"{p}:{Volatile.Read(ref _sentPerPartition[p])}"));
    /// <summary>99th percentile of send time - intended time, ms (updated every 250 ms while running).</summary>
    public double ScheduleLagP99Ms => Volatile.Read(ref _lagP99Ms);
    public double MaxScheduleLagMs => Volatile.Read(ref _lagMaxMs);
    public DateTimeOffset StartTime { get; }
    /// <summary>Wall-clock time (Unix ms) the send schedule was anchored at (event 0 handed to the client); 0 before that.</summary>
    public long ScheduleStartUnixMs => Interlocked.Read(ref _scheduleStartUnixMs);
    /// <summary>Seconds from the first intended send to the end (live while running).</summary>
    public double DurationSeconds
    {
        get
        {
            var start = Interlocked.Read(ref _startTicks);
            if (start == 0) return 0;
            var end = _finalized ? Interlocked.Read(ref _endTicks) : Stopwatch.GetTimestamp();
            return (end - start) / (double)Stopwatch.Frequency;
        }
    }
    /// <summary>The event source and its seeds, so the run can be repeated.</summary>
    public string Source => _sources.Description;
    public string ErrorId => _failure?.ErrorId ?? "";
    public string Error => _failure?.Message ?? "";
    public bool IsFinished => _finalized;
    /// <summary>Diagnostics: when the final flush/drain ended and when the client was closed (Stopwatch ticks).</summary>
    internal long FlushedTicks { get; private set; }
    internal long ClosedTicks { get; private set; }
    internal long StartTicks => Interlocked.Read(ref _startTicks);
    internal long LastSendTicks => Interlocked.Read(ref _c.LastSendTicks);
    /// <summary>CPU time of the sender thread over the send loop (generation, serialisation, handing to the client,
    /// delivery reports served there), ns; 0 where the thread clock is unavailable. For the producer benchmark.</summary>
    internal long SenderCpuNs { get; private set; }

    /// <summary>Sent and acknowledged counts per partition (copies).</summary>
    public long[] GetSentPerPartition() => _sentPerPartition.Select((_, p) => Volatile.Read(ref _sentPerPartition[p])).ToArray();
    public long[] GetAcknowledgedPerPartition() => _sentPerPartition.Select((_, p) => Volatile.Read(ref _ackedPerPartition[p + AckPad])).ToArray();

    /// <summary>The failure as an exception for the cmdlet layer (null when the run did not fail).</summary>
    public PiBenchException? GetError() => _failure is { } f
        ? new PiBenchException(f.ErrorId, f.Category, f.Message + $" (sent {Sent}, acknowledged {Acknowledged}, failed {Failed})", this, f.Recommended)
        : null;

    public override string ToString() => $"NexmarkGeneratorRun {Id} {Topic} {State} {Sent}/{TotalEvents}";

    /// <summary>
    /// Checks the topic (it must exist; its partition count decides the spread), connects a producer and starts
    /// the producer thread. Returns at once; watch the handle or await <see cref="WaitAsync"/>.
    /// </summary>
    public static async Task<NexmarkGeneratorRun> StartAsync(ProducerRunOptions options, INexmarkPayloadSourceFactory sources,
        ILogSink? log, CancellationToken cancellationToken)
    {
        Validate(options);
        var run = new NexmarkGeneratorRun(options, sources, log ?? NullLog.Instance);
        await run.ConnectAsync(cancellationToken).ConfigureAwait(false);
        s_runs[run.Id] = run;
        var thread = new Thread(run.ThreadMain) { IsBackground = true, Name = $"pibench-producer-{run.Id}" };
        try { thread.Priority = ThreadPriority.Highest; } // pacing thread: mostly asleep, must wake on time (ignored without the right to renice)
        catch (Exception ex) when (ex is PlatformNotSupportedException or ThreadStateException or UnauthorizedAccessException) { }
        thread.Start();
        return run;
    }

    private static void Validate(ProducerRunOptions o)
    {
        if (!(o.EventsPerSecond >= 0) || double.IsInfinity(o.EventsPerSecond))
            throw new PiBenchException("InvalidEventRate", PiBenchErrorCategory.InvalidArgument,
                $"EventsPerSecond must be 0 (unthrottled) or positive, not {o.EventsPerSecond}.", o.EventsPerSecond);
        if (o.TotalEvents < 1)
            throw new PiBenchException("InvalidEventCount", PiBenchErrorCategory.InvalidArgument,
                $"TotalEvents must be at least 1, not {o.TotalEvents}.", o.TotalEvents);
        if (!(o.CatchUpFactor >= 1))
            throw new PiBenchException("InvalidCatchUpFactor", PiBenchErrorCategory.InvalidArgument,
                $"CatchUpFactor must be at least 1, not {o.CatchUpFactor}.", o.CatchUpFactor);
        if (o.PartitionBlock < 0)
            throw new PiBenchException("InvalidPartitionBlock", PiBenchErrorCategory.InvalidArgument,
                $"PartitionBlock must be 0 (automatic) or positive, not {o.PartitionBlock}.", o.PartitionBlock);
        if (string.IsNullOrWhiteSpace(o.Topic))
            throw new PiBenchException("InvalidTopicName", PiBenchErrorCategory.InvalidArgument, "The topic name is empty.", o.Topic);
    }

    internal static ProducerConfig BuildConfig(ProducerRunOptions o)
    {
        var cfg = new ProducerConfig
        {
            BootstrapServers = o.BootstrapServers,
            ClientId = "pibench-generator",
            EnableIdempotence = o.EnableIdempotence,
            LingerMs = o.LingerMs,
            BatchSize = o.BatchSizeBytes,
            MessageTimeoutMs = (int)Math.Max(1000, o.DeliveryTimeout.TotalMilliseconds),
            QueueBufferingMaxMessages = o.QueueBufferingMaxMessages,
        };
        cfg.Set("acks", o.Acks);
        cfg.Set("compression.type", o.Compression);
        cfg.Set("dotnet.producer.delivery.report.fields", "status");
        cfg.Set("allow.auto.create.topics", "false"); // asking for the topic's metadata must never create it
        // connect to every broker as soon as it is known: with sparse connections (the default) librdkafka 2.16 holds the
        // first connection to a learned broker back for reconnect.backoff.ms / 2 (rdkafka_broker.c, rd_kafka_connect_any),
        // 50 ms before the producer can ask for its id; a producer writes to every partition, so it needs every leader anyway
        cfg.Set("enable.sparse.connections", "false");
        foreach (var (k, v) in o.Extra) cfg.Set(k, v);
        return cfg;
    }

    /// <summary>
    /// Creates the producer and learns the topic's partition count. The direct librdkafka producer asks on its own
    /// connection and then waits (bounded) until it can deliver: an idempotent producer needs its producer id first.
    /// So the send schedule starts when the producer is ready, not half a second before (see
    /// <see cref="NativeRunProducer.WaitUntilReady"/>). The Confluent.Kafka client asks through an admin client.
    /// </summary>
    private async Task ConnectAsync(CancellationToken cancellationToken)
    {
        var config = BuildConfig(_o);
        IRunProducer? producer = null;
        try
        {
            var native = _o.NativeClient ? NativeRunProducer.TryCreate(config, _o.Topic, this) : null;
            int partitions;
            if (native is not null)
            {
                producer = native;
                var connect = Task.Run(() =>
                {
                    var n = native.DescribeTopic(_o.Topic, _o.BootstrapServers, TimeSpan.FromSeconds(10));
                    ReadySeconds = 0;
                    if (n > 0 && _o.EnableIdempotence)
                    {
                        var t0 = Stopwatch.GetTimestamp();
                        if (!native.WaitUntilReady(TimeSpan.FromSeconds(2), cancellationToken))
                            _log.Verbose("The Kafka producer had no producer id after 2 s; the first events wait in the client until it has one.");
                        ReadySeconds = Stopwatch.GetElapsedTime(t0).TotalSeconds;
                    }
                    return n;
                }, CancellationToken.None);
                try { partitions = await connect.WaitAsync(cancellationToken).ConfigureAwait(false); }
                catch (OperationCanceledException)
                {
                    _ = connect.ContinueWith(_ => native.Dispose(), TaskScheduler.Default); // the blocking call ends within its timeout
                    producer = null;
                    throw;
                }
            }
            else
            {
                KafkaTopicDescription? topic;
                using (var admin = KafkaTopicAdmin.Open(_o.BootstrapServers, TimeSpan.FromSeconds(10)))
                    topic = await admin.DescribeTopicAsync(_o.Topic, cancellationToken).ConfigureAwait(false);
                partitions = topic?.Partitions ?? 0;
                if (partitions > 0) producer = new ConfluentRunProducer(config, _o.Topic, partitions, this);
            }
            if (partitions == 0)
                throw new PiBenchException("KafkaTopicMissing", PiBenchErrorCategory.ObjectNotFound,
                    $"Topic '{_o.Topic}' does not exist on {_o.BootstrapServers}.", _o.Topic,
                    "Create it first: Initialize-NexmarkTopic -Topic " + _o.Topic + " -BootstrapServers " + _o.BootstrapServers);
            _sentPerPartition = new long[partitions];
            _ackedPerPartition = new long[partitions + 2 * AckPad];
            PartitionBlock = _o.PartitionBlock > 0 ? _o.PartitionBlock : ProducerRunOptions.AutoPartitionBlock(_o.EventsPerSecond, _o.TotalEvents, partitions);
            _producer = producer;
            producer = null;
        }
        catch (ArgumentException ex)
        {
            throw new PiBenchException("InvalidProducerSetting", PiBenchErrorCategory.InvalidArgument,
                "The Kafka producer rejected its configuration: " + ex.Message, _o.Extra, null, ex);
        }
        catch (KafkaException ex)
        {
            throw new PiBenchException("InvalidProducerSetting", PiBenchErrorCategory.InvalidArgument,
                "The Kafka producer rejected its configuration: " + ex.Error.Reason, _o.Extra, null, ex);
        }
        finally
        {
            producer?.Dispose(); // not handed over: the run did not start
        }
    }

    /// <summary>Seconds the producer took after learning the topic until it could deliver (idempotent producer id); diagnostics.</summary>
    internal double ReadySeconds { get; private set; }

    /// <summary>The direct librdkafka producer has seen its idempotent producer id assigned (diagnostics and tests).</summary>
    internal bool ProducerIdAssigned => _producer is NativeRunProducer n && n.ProducerIdAssigned;

    private void Fail(string errorId, PiBenchErrorCategory category, string message, string? recommended = null)
    {
        if (_failure is not null || _finalized) return;
        Interlocked.CompareExchange(ref _failure, new Failure(errorId, category, message, recommended), null);
    }

    void IRunProducerEvents.ClientError(ErrorCode code, string reason, bool fatal)
    {
        if (fatal)
            Fail("KafkaProducerFatal", PiBenchErrorCategory.InvalidOperation, $"The Kafka producer hit a fatal error: {code}: {reason}.");
        else if (code == ErrorCode.Local_AllBrokersDown)
            Fail("KafkaBrokerUnavailable", PiBenchErrorCategory.ConnectionError, $"All Kafka brokers of {_o.BootstrapServers} are down: {reason}.",
                "Check the broker (Kafka on the controller node) and the network; then start a new run.");
        else
            _log.Verbose($"librdkafka error {code}: {reason}");
    }

    void IRunProducerEvents.ClientLog(int level, string facility, string message)
    {
        if (level <= 4) _log.Verbose($"librdkafka {facility}: {message}"); // syslog warning and worse
    }

    void IRunProducerEvents.DeliveryFailed(int partition, ErrorCode code, string reason)
    {
        if (_countsClosed) return;
        Interlocked.Increment(ref _c.Failed);
        if (_purging && code is ErrorCode.Local_PurgeQueue or ErrorCode.Local_PurgeInflight) return; // our own stop/failure drain
        Fail(code is ErrorCode.Local_MsgTimedOut ? "KafkaDeliveryTimeout" : "KafkaDeliveryFailed",
            code is ErrorCode.Local_MsgTimedOut ? PiBenchErrorCategory.OperationTimeout : PiBenchErrorCategory.WriteError,
            $"Kafka did not accept an event for {_o.Topic} [{partition}]: {code}: {reason}.",
            "Check the broker and the topic; the counts show how far the run got.");
    }

    void IRunProducerEvents.Delivered(int partition)
    {
        if (_countsClosed) return;
        Interlocked.Increment(ref _c.Acked);
        if ((uint)partition < (uint)_sentPerPartition.Length) Interlocked.Increment(ref _ackedPerPartition[partition + AckPad]);
    }

    /// <summary>Asks the producer thread to stop sending; queued messages are purged, in-flight ones get a bounded drain.</summary>
    public void Stop()
    {
        if (_finalized) return;
        _stopRequested = true;
        if (_state is "Starting" or "Running") _state = "Stopping";
    }

    /// <summary>Completes when the run has ended (any final state). Cancelling the token stops the wait, not the run.</summary>
    public Task WaitAsync(CancellationToken cancellationToken) => _done.Task.WaitAsync(cancellationToken);

    /// <summary>Stops the run and waits (bounded by the drain time plus a margin) until it has ended.</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        Stop();
        try { await _done.Task.WaitAsync(_o.DrainTimeout + TimeSpan.FromSeconds(15), cancellationToken).ConfigureAwait(false); }
        catch (TimeoutException) { }
    }

    private void ThreadMain()
    {
        var hist = new LongHistogram(1, 3_600_000_000L, 3); // microseconds, up to an hour
        string final = "Completed";
        try
        {
            _state = _stopRequested ? "Stopping" : "Running";
            var cpu0 = ThreadCpuClock.NowNs();
            try { SendLoop(hist); }
            finally { SenderCpuNs = ThreadCpuClock.NowNs() - cpu0; }
            final = _failure is not null ? "Failed" : _stopRequested ? "Stopped" : "Completed";
        }
        catch (Exception ex)
        {
            Fail("ProducerCrashed", PiBenchErrorCategory.InvalidOperation, "The producer thread failed: " + ex.Message);
            final = "Failed";
        }
        finally
        {
            try { Finish(final == "Completed", hist); }
            catch (Exception ex) { Fail("ProducerCrashed", PiBenchErrorCategory.InvalidOperation, "Ending the producer failed: " + ex.Message); }
            if (_failure is not null) final = "Failed";
            PublishLag(hist);
            Interlocked.Exchange(ref _endTicks, Stopwatch.GetTimestamp());
            Decide(final);
            _finalized = true;
            _done.TrySetResult();
        }
    }

    private void Decide(string final)
    {
        if (final != "Completed")
        {
            _valid = false;
            _invalidReason = final == "Stopped" ? "stopped before all events were sent" : "the run failed: " + Error;
            _state = final;
            return;
        }
        var reasons = new List<string>();
        if (_o.EventsPerSecond > 0)
        {
            // _finalized is still false here; compute from the final send time explicitly
            var seconds = (Interlocked.Read(ref _c.LastSendTicks) - _startTicks) / (double)Stopwatch.Frequency + 1.0 / _o.EventsPerSecond;
            var achieved = _c.Sent / seconds;
            if (achieved < _o.MinAchievedFraction * _o.EventsPerSecond)
                reasons.Add(string.Create(CultureInfo.InvariantCulture,
                    $"achieved {achieved:F0} events/s = {100 * achieved / _o.EventsPerSecond:F2} % of the target {_o.EventsPerSecond:F0} (< {100 * _o.MinAchievedFraction:F1} %)"));
            if (_lagP99Ms > _o.MaxScheduleLagP99Ms)
                reasons.Add(string.Create(CultureInfo.InvariantCulture,
                    $"schedule lag p99 {_lagP99Ms:F1} ms > {_o.MaxScheduleLagP99Ms:F1} ms"));
        }
        if (_c.Acked != _c.Sent) reasons.Add($"{_c.Sent - _c.Acked} events not acknowledged");
        _valid = reasons.Count == 0;
        _invalidReason = string.Join("; ", reasons);
        _state = _valid ? "Completed" : "FellBehind";
    }

    private void PublishLag(LongHistogram hist)
    {
        if (hist.TotalCount == 0) return;
        Volatile.Write(ref _lagP99Ms, hist.GetValueAtPercentile(99) / 1000.0);
        Volatile.Write(ref _lagMaxMs, hist.GetMaxValue() / 1000.0);
    }

    private void SendLoop(LongHistogram hist)
    {
        var producer = _producer!;
        var source = _sources.Create();
        var buffer = new ArrayBufferWriter<byte>(4096);
        var partitions = _sentPerPartition.Length;
        var block = PartitionBlock;
        var total = _o.TotalEvents;
        var rate = _o.EventsPerSecond;
        var throttled = rate > 0;
        var freq = (double)Stopwatch.Frequency;
        var interval = throttled ? freq / rate : 0;            // ticks per event
        var refill = throttled ? rate * _o.CatchUpFactor / freq : 0; // tokens per tick
        var capacity = throttled ? Math.Max(64, rate * _o.CatchUpFactor * 0.002) : 0;
        var tokens = capacity;
        var publishEvery = (long)(freq / 4);
        var stall = (long)(_o.AckStallTimeout.TotalSeconds * freq);

        // Warm-up, off the clock: JIT the source and serialiser on a throwaway instance of the same stream.
        var warm = _sources.Create();
        for (var w = 0; w < 2_000; w++) { buffer.ResetWrittenCount(); if (!warm.TryNext(buffer, out _)) break; }
        hist.RecordValue(1);
        hist.Reset();

        // The schedule is anchored on the first event: it is handed to the client (first-call costs of the Kafka
        // client included), then event i is due at that moment + i / rate.
        long i = 0;
        using var feed = PayloadFeed.Create(source, _o.PipelineGeneration);
        var turnData = new ArrayBufferWriter<byte>(64 * 1024);
        var turnEnds = new int[256];
        Func<bool> stopping = () => _stopRequested || _failure is not null;
        if (!feed.TryTake(stopping, out var first)) return;
        if (!TryProduce(producer, 0, first)) return;
        var start = Stopwatch.GetTimestamp();
        Interlocked.Exchange(ref _scheduleStartUnixMs, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        Interlocked.Exchange(ref _startTicks, start);
        Interlocked.Exchange(ref _c.LastSendTicks, start);
        Volatile.Write(ref _c.Sent, 1);
        Volatile.Write(ref _sentPerPartition[0], 1);
        if (throttled) hist.RecordValue(1);
        i = 1;
        var lastRefill = start;
        var nextPublish = start + publishEvery;
        long lastDone = 0, lastDoneChange = start;

        while (i < total)
        {
            if (_stopRequested || _failure is not null) return;
            var now = Stopwatch.GetTimestamp();
            if (now >= nextPublish)
            {
                PublishLag(hist);
                nextPublish = now + publishEvery;
                var done = Interlocked.Read(ref _c.Acked) + Interlocked.Read(ref _c.Failed);
                if (done != lastDone) { lastDone = done; lastDoneChange = now; }
                else if (i > done && now - lastDoneChange > stall)
                {
                    Fail("KafkaAcknowledgementTimeout", PiBenchErrorCategory.OperationTimeout,
                        $"No acknowledgement from {_o.BootstrapServers} for {_o.AckStallTimeout.TotalSeconds:F0} s with {i - done} events outstanding.",
                        "Check the broker; it may be down or overloaded.");
                    return;
                }
            }

            long batch;
            if (throttled)
            {
                tokens = Math.Min(capacity, tokens + (now - lastRefill) * refill);
                lastRefill = now;
                var due = Math.Min(total, (long)((now - start) / interval) + 1); // events whose intended time has come
                if (due <= i)
                {
                    WaitUntil(producer, start + (long)(i * interval));
                    continue;
                }
                batch = Math.Min(Math.Min(due - i, (long)tokens), 4096);
                if (batch <= 0)
                {
                    Thread.SpinWait(20);
                    continue;
                }
                tokens -= batch;
            }
            else
            {
                batch = Math.Min(total - i, 4096);
            }

            // Sent and the per-partition counts have one writer, this thread: plain increments published with
            // Volatile.Write, no locked instruction per event
            if (throttled)
            {
                for (long k = 0; k < batch; k++)
                {
                    if (!feed.TryTake(stopping, out var value)) { if (!stopping()) total = i; break; }
                    var p = (int)(i / block % partitions);
                    if (!TryProduce(producer, p, value)) return;
                    var sentAt = Stopwatch.GetTimestamp();
                    Volatile.Write(ref _c.LastSendTicks, sentAt);
                    Volatile.Write(ref _c.Sent, i + 1);
                    Volatile.Write(ref _sentPerPartition[p], _sentPerPartition[p] + 1);
                    var lag = sentAt - (start + (long)(i * interval));
                    hist.RecordValue(Math.Max(1, (long)(lag * 1_000_000 / freq)));
                    i++;
                    if ((i & 63) == 0) producer.Poll(0);
                }
            }
            else if (block > 1)
            {
                // unthrottled with partition blocks: each partition turn (at most 256 events) is written into one buffer
                // and handed to the client in one call (rd_kafka_produce_batch: one clock read, topic lock and partition
                // lookup per turn); delivery reports are served every 64 events or more
                var end = i + batch;
                while (i < end)
                {
                    var p = (int)(i / block % partitions);
                    var turnEnd = Math.Min(end, Math.Min((i / block + 1) * block, i + turnEnds.Length));
                    turnData.ResetWrittenCount();
                    var count = 0;
                    var exhausted = false;
                    while (i + count < turnEnd)
                    {
                        if (!feed.TryAppend(stopping, turnData)) { exhausted = true; break; }
                        turnEnds[count++] = turnData.WrittenCount;
                    }
                    var accepted = count == 0 ? 0 : TryProduceTurn(producer, p, turnData.WrittenSpan, turnEnds.AsSpan(0, count), out var ok);
                    if (accepted > 0)
                    {
                        var before = i;
                        i += accepted;
                        Volatile.Write(ref _c.Sent, i);
                        Volatile.Write(ref _sentPerPartition[p], _sentPerPartition[p] + accepted);
                        if ((i >> 6) != (before >> 6)) producer.Poll(0);
                    }
                    if (accepted < count) { Volatile.Write(ref _c.LastSendTicks, Stopwatch.GetTimestamp()); return; }
                    if (exhausted) { if (!stopping()) total = i; break; }
                }
                Volatile.Write(ref _c.LastSendTicks, Stopwatch.GetTimestamp());
            }
            else
            {
                // unthrottled: no schedule to keep, so the send time is taken once per batch (AchievedRate's end)
                for (long k = 0; k < batch; k++)
                {
                    if (!feed.TryTake(stopping, out var value)) { if (!stopping()) total = i; break; }
                    var p = (int)(i / block % partitions);
                    if (!TryProduce(producer, p, value)) { Volatile.Write(ref _c.LastSendTicks, Stopwatch.GetTimestamp()); return; }
                    Volatile.Write(ref _c.Sent, i + 1);
                    Volatile.Write(ref _sentPerPartition[p], _sentPerPartition[p] + 1);
                    i++;
                    if ((i & 63) == 0) producer.Poll(0); // delivery reports on this thread, every 64 events
                }
                Volatile.Write(ref _c.LastSendTicks, Stopwatch.GetTimestamp());
            }
        }
    }

    private bool TryProduce(IRunProducer producer, int partition, ReadOnlySpan<byte> value)
    {
        var stallUntil = 0L;
        while (true)
        {
            var r = producer.Produce(partition, value, out var code, out var reason);
            if (r == ProduceResult.Ok) return true;
            if (!WaitAfterRefusal(producer, r, code, reason, partition, ref stallUntil)) return false;
        }
    }

    /// <summary>
    /// Sends one partition turn (values first.. of <paramref name="ends"/>, see <see cref="IRunProducer.ProduceBatch"/>) and
    /// returns how many the client accepted: all of them, or fewer when the run must end (<paramref name="ok"/> false).
    /// </summary>
    private int TryProduceTurn(IRunProducer producer, int partition, ReadOnlySpan<byte> data, ReadOnlySpan<int> ends, out bool ok)
    {
        var stallUntil = 0L;
        var accepted = 0;
        while (true)
        {
            accepted += producer.ProduceBatch(partition, data, ends, accepted, out var r, out var code, out var reason);
            if (r == ProduceResult.Ok) { ok = true; return accepted; }
            if (WaitAfterRefusal(producer, r, code, reason, partition, ref stallUntil)) continue; // the queue was full: retry the rest
            ok = false;
            return accepted;
        }
    }

    /// <summary>After the client refused an event: true = retry (the queue was full; served delivery reports for up to
    /// 1 ms), false = the run fails or stops (the failure is recorded).</summary>
    private bool WaitAfterRefusal(IRunProducer producer, ProduceResult r, ErrorCode code, string reason, int partition, ref long stallUntil)
    {
        if (r == ProduceResult.QueueFull)
        {
            // local queue full: the broker is slower than the schedule; wait (bounded) and count the lag
            var now = Stopwatch.GetTimestamp();
            if (stallUntil == 0) stallUntil = now + (long)(_o.AckStallTimeout.TotalSeconds * Stopwatch.Frequency);
            if (_stopRequested || _failure is not null) return false;
            if (now > stallUntil)
            {
                Fail("KafkaAcknowledgementTimeout", PiBenchErrorCategory.OperationTimeout,
                    $"The producer queue stayed full for {_o.AckStallTimeout.TotalSeconds:F0} s: {_o.BootstrapServers} does not keep up or is gone.",
                    "Check the broker; lower -EventsPerSecond.");
                return false;
            }
            producer.Poll(1); // serves delivery reports, which frees queue space
            return true;
        }
        // a broker error seen earlier (librdkafka then fails new messages for the topic at once) is a delivery failure;
        // a local one (message too large, unknown partition, fatal state) is the client refusing the event
        var local = (int)code < 0;
        Fail(local ? "KafkaProduceFailed" : "KafkaDeliveryFailed", PiBenchErrorCategory.WriteError,
            $"Kafka {(local ? "client refused" : "did not accept")} an event for {_o.Topic} [{partition}]: {code}: {reason}.",
            "Check the broker and the topic; the counts show how far the run got.");
        return false;
    }

    /// <summary>Sleeps in 1 ms steps (serving delivery reports) while the target is far, then yields until it has come.</summary>
    private void WaitUntil(IRunProducer producer, long ticks)
    {
        var msTicks = Stopwatch.Frequency / 1000;
        while (!_stopRequested)
        {
            var left = ticks - Stopwatch.GetTimestamp();
            if (left <= 0) return;
            if (left > msTicks + msTicks / 5) producer.Poll(1); // sleeps up to 1 ms serving delivery reports
            else if (left > msTicks / 20) Thread.Yield();
            else Thread.SpinWait(30);
            if (left > msTicks * 250) return; // let the caller publish statistics and check the watchdog
        }
    }

    private void Finish(bool completed, LongHistogram hist)
    {
        var producer = _producer;
        if (producer is null) return;
        var freq = (double)Stopwatch.Frequency;
        if (completed && _failure is null && !_stopRequested)
        {
            _state = "Flushing";
            var deadline = Stopwatch.GetTimestamp() + (long)(_o.FlushTimeout.TotalSeconds * freq);
            long lastDone = -1, lastChange = Stopwatch.GetTimestamp();
            while (producer.Flush(TimeSpan.FromMilliseconds(100)) > 0)
            {
                var now = Stopwatch.GetTimestamp();
                var done = Interlocked.Read(ref _c.Acked) + Interlocked.Read(ref _c.Failed);
                if (done != lastDone) { lastDone = done; lastChange = now; }
                if (_failure is not null || _stopRequested) break;
                if (now > deadline || now - lastChange > _o.AckStallTimeout.TotalSeconds * freq)
                {
                    Fail("KafkaFlushTimeout", PiBenchErrorCategory.OperationTimeout,
                        $"{Sent - Acknowledged - Failed} events were still unacknowledged when the final flush ended.",
                        "Check the broker; the counts show how far the run got.");
                    break;
                }
            }
        }
        if (Sent - Acknowledged - Failed > 0)
        {
            // a stop or a failure: drop what is still queued (and, after a failure, in flight), then drain briefly
            _purging = true;
            try { producer.Purge(RdKafkaNative.PurgeQueue | (_failure is not null ? RdKafkaNative.PurgeInflight : 0) | RdKafkaNative.PurgeNonBlocking); }
            catch (Exception ex) when (ex is PiBenchException or EntryPointNotFoundException or DllNotFoundException) { _log.Verbose("purge unavailable: " + ex.Message); }
            var drainEnd = Stopwatch.GetTimestamp() + (long)(_o.DrainTimeout.TotalSeconds * freq);
            while (producer.Flush(TimeSpan.FromMilliseconds(100)) > 0 && Stopwatch.GetTimestamp() < drainEnd) { }
        }
        _state = _state == "Flushing" ? "Flushing" : "Stopping";
        FlushedTicks = Stopwatch.GetTimestamp();
        var disposed = Task.Run(producer.Dispose).Wait(TimeSpan.FromSeconds(10));
        ClosedTicks = Stopwatch.GetTimestamp(); // bounded: never hang on a dead broker
        if (!disposed) _log.Warning("The Kafka producer did not close within 10 s; it is left behind.");
        _countsClosed = true; // late delivery reports are ignored from here on
        var unknown = Sent - Acknowledged - Failed;
        if (unknown > 0)
        {
            Interlocked.Add(ref _c.Failed, unknown);
            if (_failure is null && !_stopRequested)
                Fail("KafkaFlushTimeout", PiBenchErrorCategory.OperationTimeout, $"{unknown} events were never acknowledged.");
        }
    }
}

/// <summary>
/// The run's hot counters, each group on its own cache lines: Sent and LastSendTicks are written by the producer
/// thread only, Acked and Failed by the delivery-report thread (and, after the client is closed, by the end of the run).
/// Without the padding every acknowledgement would steal the producer thread's cache line.
/// </summary>
[System.Runtime.InteropServices.StructLayout(System.Runtime.InteropServices.LayoutKind.Explicit, Size = 320)]
internal struct RunCounters
{
    [System.Runtime.InteropServices.FieldOffset(64)] public long Sent;
    [System.Runtime.InteropServices.FieldOffset(72)] public long LastSendTicks;
    [System.Runtime.InteropServices.FieldOffset(192)] public long Acked;
    [System.Runtime.InteropServices.FieldOffset(200)] public long Failed;
}
