using System.Buffers;
using System.Buffers.Text;

namespace PiBench.Core.Kafka;

/// <summary>
/// One stream of Kafka message values, in event order. The producer pulls one event at a time, writes its
/// value into a reused buffer and decides when and where (partition) to send it; the source knows nothing of Kafka.
/// </summary>
public interface INexmarkPayloadSource
{
    /// <summary>Writes the next event's message value into <paramref name="payload"/>; false when the stream is exhausted.</summary>
    /// <remarks>eventTimeMs: the event's own timestamp (ms since the epoch), for diagnostics.</remarks>
    bool TryNext(IBufferWriter<byte> payload, out long eventTimeMs);
}

/// <summary>Makes payload sources for a run and measures generation alone (Measure-NexmarkGenerator).</summary>
public interface INexmarkPayloadSourceFactory
{
    /// <summary>Short description printed with every run: generator, profile, seeds, generator count.</summary>
    string Description { get; }

    /// <summary>A fresh source positioned at the first event.</summary>
    INexmarkPayloadSource Create();

    /// <summary>Generates <paramref name="count"/> events without serialising them (generation cost only); returns the number generated.</summary>
    long GenerateOnly(long count);
}

/// <summary>
/// A deterministic stand-in for the Nexmark generator: JSON values of about <c>averageBytes</c> bytes carrying a
/// sequence number, a timestamp and padding. Used by tests, benchmarks and whenever no Nexmark generator is wired.
/// </summary>
public sealed class SyntheticPayloadSourceFactory(int averageBytes = 200, long baseTimeMs = 1436918400000, double eventsPerMs = 10) : INexmarkPayloadSourceFactory
{
    public string Description => $"Synthetic ({averageBytes} B JSON, deterministic)";
    public INexmarkPayloadSource Create() => new SyntheticPayloadSource(averageBytes, baseTimeMs, eventsPerMs);

    public long GenerateOnly(long count)
    {
        long sum = 0;
        for (long i = 0; i < count; i++) sum += baseTimeMs + (long)(i / eventsPerMs) + (i * 2654435761L & 63);
        return sum == long.MinValue ? 0 : count; // keeps the loop from being optimised away
    }
}

public sealed class SyntheticPayloadSource(int averageBytes, long baseTimeMs, double eventsPerMs) : INexmarkPayloadSource
{
    private static readonly byte[] s_pad = System.Text.Encoding.ASCII.GetBytes(new string('x', 4096));
    private long _seq;

    /// <summary>Events produced so far.</summary>
    public long Count => _seq;

    public bool TryNext(IBufferWriter<byte> payload, out long eventTimeMs)
    {
        var seq = _seq++;
        eventTimeMs = baseTimeMs + (long)(seq / eventsPerMs);
        var padLength = Math.Clamp(averageBytes - 48 + (int)(seq * 2654435761L & 31) - 16, 0, s_pad.Length);
        var span = payload.GetSpan(64 + padLength);
        var n = 0;
        "{\"seq\":"u8.CopyTo(span); n += 7;
        Utf8Formatter.TryFormat(seq, span[n..], out var w); n += w;
        ",\"ts\":"u8.CopyTo(span[n..]); n += 6;
        Utf8Formatter.TryFormat(eventTimeMs, span[n..], out w); n += w;
        ",\"pad\":\""u8.CopyTo(span[n..]); n += 8;
        s_pad.AsSpan(0, padLength).CopyTo(span[n..]); n += padLength;
        "\"}"u8.CopyTo(span[n..]); n += 2;
        payload.Advance(n);
        return true;
    }
}
