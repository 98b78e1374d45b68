using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using Confluent.Kafka;

namespace PiBench.Core.Kafka;

/// <summary>Result of handing one message to the Kafka client.</summary>
internal enum ProduceResult { Ok, QueueFull, Error }

/// <summary>Callbacks from a run producer (any thread).</summary>
internal interface IRunProducerEvents
{
    void Delivered(int partition);
    void DeliveryFailed(int partition, ErrorCode code, string reason);
    void ClientError(ErrorCode code, string reason, bool fatal);
    void ClientLog(int level, string facility, string message);
}

/// <summary>The Kafka client a run sends through: Confluent.Kafka, or librdkafka called directly (the fast path).</summary>
internal interface IRunProducer : IDisposable
{
    string Kind { get; }
    ProduceResult Produce(int partition, ReadOnlySpan<byte> value, out ErrorCode error, out string reason);
    /// <summary>
    /// Hands values first.. of a batch to the client for one partition, in order: value k is data[ends[k-1]..ends[k]]
    /// (value 0 starts at 0). Returns how many were accepted; when fewer than all, <paramref name="result"/> says why the
    /// first refused one was refused. After QueueFull the accepted ones are a prefix (retry from there); after Error the
    /// run ends.
    /// </summary>
    int ProduceBatch(int partition, ReadOnlySpan<byte> data, ReadOnlySpan<int> ends, int first, out ProduceResult result, out ErrorCode error, out string reason);
    /// <summary>Waits up to <paramref name="timeout"/> for outstanding messages; returns how many are still outstanding.</summary>
    int Flush(TimeSpan timeout);
    void Purge(int flags);
    /// <summary>
    /// Serves delivery reports on the calling thread, waiting up to <paramref name="timeoutMs"/> for one (so it also
    /// serves as the sender's sleep). Confluent.Kafka serves them on its own thread: there it only waits.
    /// </summary>
    void Poll(int timeoutMs);
}

/// <summary>Confluent.Kafka's producer with a per-message delivery handler.</summary>
internal sealed class ConfluentRunProducer : IRunProducer
{
    private readonly IProducer<Null, byte[]> _producer;
    private readonly TopicPartition[] _tps;
    private readonly Action<DeliveryReport<Null, byte[]>> _handler;

    public ConfluentRunProducer(ProducerConfig config, string topic, int partitions, IRunProducerEvents events)
    {
        _tps = Enumerable.Range(0, partitions).Select(p => new TopicPartition(topic, new Partition(p))).ToArray();
        _handler = r =>
        {
            if (r.Error.IsError) events.DeliveryFailed(r.Partition.Value, r.Error.Code, r.Error.Reason);
            else events.Delivered(r.Partition.Value);
        };
        _producer = new ProducerBuilder<Null, byte[]>(config)
            .SetErrorHandler((_, e) => events.ClientError(e.Code, e.Reason, e.IsFatal))
            .SetLogHandler((_, m) => events.ClientLog((int)m.Level, m.Facility, m.Message))
            .Build();
    }

    public string Kind => "Confluent.Kafka";

    public ProduceResult Produce(int partition, ReadOnlySpan<byte> value, out ErrorCode error, out string reason)
    {
        try
        {
            _producer.Produce(_tps[partition], new Message<Null, byte[]> { Value = value.ToArray() }, _handler);
            error = ErrorCode.NoError; reason = "";
            return ProduceResult.Ok;
        }
        catch (ProduceException<Null, byte[]> ex)
        {
            error = ex.Error.Code; reason = ex.Error.Reason;
            return ex.Error.Code == ErrorCode.Local_QueueFull ? ProduceResult.QueueFull : ProduceResult.Error;
        }
    }

    public int ProduceBatch(int partition, ReadOnlySpan<byte> data, ReadOnlySpan<int> ends, int first, out ProduceResult result, out ErrorCode error, out string reason)
    {
        error = ErrorCode.NoError; reason = ""; result = ProduceResult.Ok;
        for (var k = first; k < ends.Length; k++)
        {
            result = Produce(partition, data[(k == 0 ? 0 : ends[k - 1])..ends[k]], out error, out reason);
            if (result != ProduceResult.Ok) return k - first;
        }
        return ends.Length - first;
    }

    public int Flush(TimeSpan timeout) => _producer.Flush(timeout);
    public void Purge(int flags) => RdKafkaNative.Purge(_producer, flags);
    public void Poll(int timeoutMs) { if (timeoutMs > 0) Thread.Sleep(timeoutMs); }
    public void Dispose() => _producer.Dispose();
}

/// <summary>
/// librdkafka's C producer driven directly (rd_kafka_produce with F_COPY, a native dr_msg_cb reading err and
/// partition), for the per-message cost of a C client: no managed message, handle or report object per event.
/// It binds to the same librdkafka object as Confluent (<see cref="RdKafkaNative"/>). Callbacks run on this class's
/// poll thread.
/// </summary>
internal sealed unsafe class NativeRunProducer : IRunProducer
{
    private readonly IntPtr _rk, _rkt;
    private readonly GCHandle _self;
    private readonly IRunProducerEvents _events;
    private readonly RdKafkaNative.Producer _x = RdKafkaNative.ProducerExports()!;
    private readonly Thread _poller;
    private volatile bool _closing;
    private long _senderPolledTicks;
    private int _disposed;

    private NativeRunProducer(IntPtr rk, IntPtr rkt, GCHandle self, IRunProducerEvents events)
    {
        _rk = rk; _rkt = rkt; _self = self; _events = events;
        _poller = new Thread(PollWhenIdle) { IsBackground = true, Name = "pibench-kafka-poll" };
        _poller.Start();
    }

    public string Kind => "librdkafka";

    /// <summary>Builds the producer; null when this librdkafka lacks an export (then use Confluent).</summary>
    public static NativeRunProducer? TryCreate(IEnumerable<KeyValuePair<string, string>> config, string topic, IRunProducerEvents events)
    {
        var x = RdKafkaNative.ProducerExports();
        if (x is null) return null;
        var conf = x.ConfNew();
        var err = stackalloc byte[512];
        foreach (var (k, v) in config)
        {
            if (k.StartsWith("dotnet.", StringComparison.Ordinal) || v is null) continue;
            var kb = Utf8Z(k); var vb = Utf8Z(v);
            int res;
            fixed (byte* kp = kb) fixed (byte* vp = vb) res = x.ConfSet(conf, kp, vp, err, 512);
            if (res != 0)
            {
                x.ConfDestroy(conf);
                throw new PiBenchException("InvalidProducerSetting", PiBenchErrorCategory.InvalidArgument,
                    $"The Kafka producer rejected {k}={v}: {Marshal.PtrToStringUTF8((IntPtr)err)}.", k);
            }
        }
        // debug=eos: the idempotence state changes reach OnLog, which tells WaitUntilReady when the producer id is assigned
        var pairs = config.Where(kv => kv.Value is not null).ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);
        if (pairs.TryGetValue("enable.idempotence", out var idem) && string.Equals(idem, "true", StringComparison.OrdinalIgnoreCase))
        {
            var debug = pairs.TryGetValue("debug", out var d) && d.Length > 0 ? d + ",eos" : "eos";
            var kb = Utf8Z("debug"); var vb = Utf8Z(debug);
            fixed (byte* kp = kb) fixed (byte* vp = vb) x.ConfSet(conf, kp, vp, err, 512);
        }
        var holder = new Holder();
        var self = GCHandle.Alloc(holder);
        x.ConfSetOpaque(conf, GCHandle.ToIntPtr(self));
        x.ConfSetDrMsgCb(conf, &OnDelivery);
        x.ConfSetErrorCb(conf, &OnError);
        x.ConfSetLogCb(conf, &OnLog);
        var rk = x.New(0 /* RD_KAFKA_PRODUCER */, conf, err, 512); // takes ownership of conf on success
        if (rk == IntPtr.Zero)
        {
            x.ConfDestroy(conf);
            self.Free();
            throw new PiBenchException("InvalidProducerSetting", PiBenchErrorCategory.InvalidArgument,
                "The Kafka producer could not be created: " + Marshal.PtrToStringUTF8((IntPtr)err), null);
        }
        var tb = Utf8Z(topic);
        IntPtr rkt;
        fixed (byte* tp = tb) rkt = x.TopicNew(rk, tp, IntPtr.Zero);
        var p = new NativeRunProducer(rk, rkt, self, events);
        holder.Producer = p;
        return p;
    }

    private sealed class Holder { public NativeRunProducer? Producer; }

    private static IRunProducerEvents? EventsOf(IntPtr opaque) =>
        opaque == IntPtr.Zero ? null : (GCHandle.FromIntPtr(opaque).Target as Holder)?.Producer?._events;

    [UnmanagedCallersOnly(CallConvs = new[] { typeof(CallConvCdecl) })]
    private static void OnDelivery(IntPtr rk, IntPtr msg, IntPtr opaque)
    {
        try
        {
            var ev = EventsOf(opaque);
            if (ev is null) return;
            var err = *(int*)msg;                                   // rd_kafka_message_t.err
            var partition = *(int*)((byte*)msg + 2 * IntPtr.Size);  // after err (padded) and rkt
            if (err == 0) ev.Delivered(partition);
            else ev.DeliveryFailed(partition, (ErrorCode)err, RdKafkaNative.ErrorString(err));
        }
        catch { /* never unwind into C */ }
    }

    [UnmanagedCallersOnly(CallConvs = new[] { typeof(CallConvCdecl) })]
    private static void OnError(IntPtr rk, int err, IntPtr reason, IntPtr opaque)
    {
        try
        {
            var ev = EventsOf(opaque);
            if (ev is null) return;
            var fatal = err == (int)ErrorCode.Local_Fatal;
            ev.ClientError((ErrorCode)err, Marshal.PtrToStringUTF8(reason) ?? "", fatal);
        }
        catch { }
    }

    [UnmanagedCallersOnly(CallConvs = new[] { typeof(CallConvCdecl) })]
    private static void OnLog(IntPtr rk, int level, IntPtr facility, IntPtr buf)
    {
        try
        {
            var opaque = RdKafkaNative.ProducerExports()!.Opaque(rk);
            var producer = opaque == IntPtr.Zero ? null : (GCHandle.FromIntPtr(opaque).Target as Holder)?.Producer;
            if (producer is null) return;
            var fac = Marshal.PtrToStringUTF8(facility) ?? "";
            var text = Marshal.PtrToStringUTF8(buf) ?? "";
            // debug=eos: "Idempotent producer state change WaitPID -> Assigned" (rdkafka_idempotence.c, rd_kafka_idemp_set_state)
            if (fac == "IDEMPSTATE" && text.EndsWith("-> Assigned", StringComparison.Ordinal)) producer._pidAssigned.Set();
            producer._events.ClientLog(level, fac, text);
        }
        catch { }
    }

    /// <summary>
    /// The partition count of the producer's topic, asked with a Metadata request on this producer's own
    /// connections (no second client: an admin client costs a connection and 200 ms to close). 0 = the broker does not
    /// know the topic (the producer is built with allow.auto.create.topics=false, so asking never creates it).
    /// </summary>
    public int DescribeTopic(string topic, string bootstrapServers, TimeSpan timeout)
    {
        var x = _x;
        IntPtr md;
        var err = x.Metadata(_rk, 0, _rkt, &md, (int)timeout.TotalMilliseconds);
        if (err != 0)
            throw KafkaTopicAdmin.Unreachable(bootstrapServers, topic, new KafkaException(new Error((ErrorCode)err, RdKafkaNative.ErrorString(err))));
        try
        {
            var head = *(RdKafkaNative.MetadataHead*)md;
            for (var i = 0; i < head.TopicCount; i++)
            {
                var t = ((RdKafkaNative.MetadataTopic*)head.Topics)[i];
                if (Marshal.PtrToStringUTF8(t.Topic) != topic) continue;
                if (t.Error == (int)ErrorCode.UnknownTopicOrPart) return 0;
                if (t.Error != 0)
                    throw new PiBenchException("KafkaTopicDescribeFailed", PiBenchErrorCategory.ReadError,
                        $"Describing topic '{topic}' failed: {RdKafkaNative.ErrorString(t.Error)} ({(ErrorCode)t.Error}).", topic,
                        "Check the topic on the broker (Get-NexmarkTopic), then start again.");
                return t.PartitionCount;
            }
            return 0;
        }
        finally { x.MetadataDestroy(md); }
    }

    /// <summary>
    /// Idempotent producers only: returns once the broker has assigned the producer id (messages queued before that
    /// wait in the client), or after <paramref name="bound"/> (false; librdkafka keeps trying on its own). In
    /// librdkafka 2.16 (unlike kcat's 2.0.2) the bootstrap connection is not promoted to a learned broker, so the first
    /// attempt finds no broker up and librdkafka retries on a 500 ms timer (rdkafka_idempotence.c, rd_kafka_idemp_pid_timer_restart); a
    /// Metadata response re-runs that state machine (rdkafka_metadata.c, rd_kafka_parse_Metadata), so this asks for
    /// metadata every 5 ms until the id is there: the producer is ready in a few round trips instead of half a second.
    /// The signal is librdkafka's own state change, read from its eos debug log.
    /// </summary>
    public bool WaitUntilReady(TimeSpan bound, CancellationToken cancellationToken)
    {
        var until = Stopwatch.GetTimestamp() + (long)(bound.TotalSeconds * Stopwatch.Frequency);
        while (!_pidAssigned.IsSet)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (Stopwatch.GetTimestamp() > until) return false;
            IntPtr md;
            if (_x.Metadata(_rk, 0, _rkt, &md, 1000) == 0) _x.MetadataDestroy(md);
            _pidAssigned.Wait(5, cancellationToken);
        }
        return true;
    }

    private readonly ManualResetEventSlim _pidAssigned = new(false);

    /// <summary>librdkafka logged the idempotence state change to Assigned.</summary>
    public bool ProducerIdAssigned => _pidAssigned.IsSet;

    /// <summary>
    /// Delivery reports are served by the sending thread (<see cref="Poll(int)"/>, as kcat does): librdkafka frees each
    /// message in the report, so malloc and free stay on one thread (glibc's per-thread cache, one arena, no lock
    /// traffic) and the counters stay in that core's cache. This thread is only the fallback while the sender does not
    /// poll (before the first send, during a flush by another caller, after the run): it serves reports when the sender
    /// has not polled for 20 ms.
    /// </summary>
    private void PollWhenIdle()
    {
        var x = RdKafkaNative.ProducerExports()!;
        var idle = Stopwatch.Frequency / 50;
        while (!_closing)
        {
            if (Stopwatch.GetTimestamp() - Volatile.Read(ref _senderPolledTicks) > idle) x.Poll(_rk, 10);
            else Thread.Sleep(10);
        }
    }

    public void Poll(int timeoutMs)
    {
        Volatile.Write(ref _senderPolledTicks, Stopwatch.GetTimestamp());
        _x.Poll(_rk, timeoutMs);
    }

    public ProduceResult Produce(int partition, ReadOnlySpan<byte> value, out ErrorCode error, out string reason)
    {
        var x = _x;
        int r;
        fixed (byte* p = value) r = x.Produce(_rkt, partition, 2 /* RD_KAFKA_MSG_F_COPY */, p, (nuint)value.Length, null, 0, IntPtr.Zero);
        if (r == 0) { error = ErrorCode.NoError; reason = ""; return ProduceResult.Ok; }
        var code = x.LastError();
        error = (ErrorCode)code;
        reason = RdKafkaNative.ErrorString(code);
        return code == (int)ErrorCode.Local_QueueFull ? ProduceResult.QueueFull : ProduceResult.Error;
    }

    /// <summary>
    /// rd_kafka_produce_batch with F_COPY to one partition (rdkafka_msg.c): one clock read, one topic lock and one
    /// partition lookup for the whole batch instead of one per message. Once a message meets a full queue every later
    /// one gets the same error, so what was accepted is a prefix and the order holds.
    /// </summary>
    public int ProduceBatch(int partition, ReadOnlySpan<byte> data, ReadOnlySpan<int> ends, int first, out ProduceResult result, out ErrorCode error, out string reason)
    {
        var n = ends.Length - first;
        if (_batch.Length < n) _batch = new RdKafkaNative.Message[Math.Max(n, 2 * _batch.Length)];
        int good;
        fixed (byte* d = data)
        fixed (RdKafkaNative.Message* m = _batch)
        {
            var start = first == 0 ? 0 : ends[first - 1];
            for (var k = 0; k < n; k++)
            {
                m[k] = default;
                m[k].Payload = (IntPtr)(d + start);
                m[k].Length = (nuint)(ends[first + k] - start);
                start = ends[first + k];
            }
            good = _x.ProduceBatch(_rkt, partition, 2 /* RD_KAFKA_MSG_F_COPY */, m, n);
        }
        if (good == n) { result = ProduceResult.Ok; error = ErrorCode.NoError; reason = ""; return n; }
        // the first refused message says why; after a full queue every later one is refused too (a prefix was accepted),
        // after any other error (a message too large, say) later ones may still have been accepted: all are counted as
        // sent, and the run fails
        var f = 0;
        while (f < n && _batch[f].Error == 0) f++;
        var code = _batch[f].Error;
        error = (ErrorCode)code;
        reason = RdKafkaNative.ErrorString(code);
        result = code == (int)ErrorCode.Local_QueueFull ? ProduceResult.QueueFull : ProduceResult.Error;
        return good;
    }

    private RdKafkaNative.Message[] _batch = new RdKafkaNative.Message[64];

    public int Flush(TimeSpan timeout)
    {
        var x = RdKafkaNative.ProducerExports()!;
        x.Flush(_rk, (int)timeout.TotalMilliseconds);
        return x.OutqLen(_rk);
    }

    public void Purge(int flags) => RdKafkaNative.ProducerExports()!.Purge(_rk, flags);

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        _closing = true;
        _poller.Join(TimeSpan.FromSeconds(5));
        var x = RdKafkaNative.ProducerExports()!;
        x.TopicDestroy(_rkt);
        x.Destroy(_rk);
        _self.Free();
        _pidAssigned.Dispose(); // no callback after rd_kafka_destroy
    }

    private static byte[] Utf8Z(string s)
    {
        var b = new byte[Encoding.UTF8.GetByteCount(s) + 1];
        Encoding.UTF8.GetBytes(s, b);
        return b;
    }
}
