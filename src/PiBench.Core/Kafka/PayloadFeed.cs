using System.Buffers;

namespace PiBench.Core.Kafka;

/// <summary>
/// Hands serialised event values to the producer thread. Inline: the source runs on the producer thread.
/// Pipelined: a generator thread runs ahead (at most <c>capacity</c> events) through a single-producer,
/// single-consumer ring, so the producer thread only sends; events are still sent at their intended times.
/// </summary>
internal abstract class PayloadFeed : IDisposable
{
    /// <summary>The next value (valid until the next call); false when the source is exhausted or the feed was stopped.</summary>
    public abstract bool TryTake(Func<bool> stopRequested, out ReadOnlySpan<byte> value);

    /// <summary>Appends the next value to <paramref name="destination"/> (no copy in between for the inline feed); false as <see cref="TryTake"/>.</summary>
    public virtual bool TryAppend(Func<bool> stopRequested, ArrayBufferWriter<byte> destination)
    {
        if (!TryTake(stopRequested, out var value)) return false;
        destination.Write(value);
        return true;
    }

    public virtual void Dispose() { }

    public static PayloadFeed Create(INexmarkPayloadSource source, bool pipelined) =>
        pipelined ? new Pipelined(source, 65_536) : new Inline(source);

    private sealed class Inline(INexmarkPayloadSource source) : PayloadFeed
    {
        private readonly ArrayBufferWriter<byte> _buffer = new(4096);

        public override bool TryTake(Func<bool> stopRequested, out ReadOnlySpan<byte> value)
        {
            _buffer.ResetWrittenCount();
            if (!source.TryNext(_buffer, out _)) { value = default; return false; }
            value = _buffer.WrittenSpan;
            return true;
        }

        public override bool TryAppend(Func<bool> stopRequested, ArrayBufferWriter<byte> destination) =>
            source.TryNext(destination, out _);
    }

    private sealed class Pipelined : PayloadFeed
    {
        private readonly byte[][] _ring;
        private readonly int _mask;
        private long _head; // next slot to read (consumer)
        private long _tail; // next slot to write (producer)
        private volatile bool _exhausted;
        private volatile bool _stopped;
        private volatile Exception? _error;
        private readonly Thread _thread;

        public Pipelined(INexmarkPayloadSource source, int capacity)
        {
            _ring = new byte[capacity][];
            _mask = capacity - 1;
            _thread = new Thread(() => Fill(source)) { IsBackground = true, Name = "pibench-generator" };
            _thread.Start();
        }

        private void Fill(INexmarkPayloadSource source)
        {
            var buffer = new ArrayBufferWriter<byte>(4096);
            var spin = new SpinWait();
            try
            {
                while (!_stopped)
                {
                    buffer.ResetWrittenCount();
                    if (!source.TryNext(buffer, out _)) break;
                    var value = buffer.WrittenSpan.ToArray();
                    var tail = _tail;
                    while (tail - Volatile.Read(ref _head) >= _ring.Length) // full: the producer is behind
                    {
                        if (_stopped) return;
                        spin.SpinOnce(sleep1Threshold: 10);
                    }
                    spin.Reset();
                    _ring[tail & _mask] = value;
                    Volatile.Write(ref _tail, tail + 1);
                }
            }
            catch (Exception ex)
            {
                _error = ex;
            }
            finally
            {
                _exhausted = true;
            }
        }

        public override bool TryTake(Func<bool> stopRequested, out ReadOnlySpan<byte> value)
        {
            var head = _head;
            var spin = new SpinWait();
            while (head >= Volatile.Read(ref _tail))
            {
                if (_exhausted && head >= Volatile.Read(ref _tail))
                {
                    if (_error is { } e) throw new InvalidOperationException("The event generator failed: " + e.Message, e);
                    value = default;
                    return false;
                }
                if (stopRequested()) { value = default; return false; }
                spin.SpinOnce(sleep1Threshold: -1); // the generator is behind: yield, do not sleep a whole ms
            }
            value = _ring[head & _mask];
            _ring[head & _mask] = null!;
            Volatile.Write(ref _head, head + 1);
            return true;
        }

        public override void Dispose()
        {
            _stopped = true;
            _thread.Join(TimeSpan.FromSeconds(5));
        }
    }
}
