using Xunit;
using System.Buffers;
using System.Diagnostics;
using PiBench.Core.Kafka;

namespace PiBench.Core.Tests.Kafka;

/// <summary>Synthetic events that stall once (at <c>stallAt</c>, for <c>stallMs</c>) and record when each was taken.</summary>
internal sealed class StallingSourceFactory(long stallAt, int stallMs, long capacity) : INexmarkPayloadSourceFactory
{
    public long StallAt { get; } = stallAt;
    public int StallMs { get; } = stallMs;
    public long[] TakenAt { get; } = new long[capacity];
    public string Description => "stalling test source";
    public long GenerateOnly(long count) => count;
    public INexmarkPayloadSource Create() => new Source(this);

    private sealed class Source(StallingSourceFactory f) : INexmarkPayloadSource
    {
        private readonly INexmarkPayloadSource _inner = new SyntheticPayloadSourceFactory(100).Create();
        private long _n;

        public bool TryNext(IBufferWriter<byte> payload, out long eventTimeMs)
        {
            if (_n == f.StallAt) Thread.Sleep(f.StallMs);
            if (_n < f.TakenAt.Length) f.TakenAt[_n] = Stopwatch.GetTimestamp();
            _n++;
            return _inner.TryNext(payload, out eventTimeMs);
        }
    }
}

[CollectionDefinition("kafka", DisableParallelization = true)]
public sealed class KafkaCollection { }
