namespace PiBench.Core.Kafka;

/// <summary>What Start-NexmarkGenerator asks of its event source.</summary>
public sealed class NexmarkSourceSettings
{
    /// <summary>Flink (nexmark-flink, seeded) or Beam (release-0.1).</summary>
    public string Profile { get; set; } = "Flink";
    /// <summary>Generator seed (Flink profile); null = the documented default.</summary>
    public long? Seed { get; set; }
    /// <summary>Split the logical stream across this many generators, merged in event order.</summary>
    public int GeneratorCount { get; set; } = 1;
    public long TotalEvents { get; set; } = 10_000_000;
    /// <summary>Events per second (firstEventRate): sets the event timestamps; 0 = the reference default 10,000.</summary>
    public double EventsPerSecond { get; set; } = 10_000;
    /// <summary>Use the synthetic stand-in instead of the Nexmark generator (tests, raw produce checks).</summary>
    public bool Synthetic { get; set; }
}

/// <summary>Picks the payload source for a run.</summary>
public static class NexmarkPayloadSources
{
    /// <summary>True once the Nexmark generator (src/PiBench.Core/Nexmark) is wired in.</summary>
    public static bool NexmarkAvailable => false;

    public static INexmarkPayloadSourceFactory Create(NexmarkSourceSettings settings, ILogSink? log = null)
    {
        if (settings.GeneratorCount < 1)
            throw new PiBenchException("InvalidGeneratorCount", PiBenchErrorCategory.InvalidArgument,
                $"GeneratorCount must be at least 1, not {settings.GeneratorCount}.", settings.GeneratorCount);
        if (!settings.Synthetic)
            (log ?? NullLog.Instance).Warning("The Nexmark generator is not built into this version yet: the run produces synthetic 200-byte JSON events.");
        return new SyntheticPayloadSourceFactory(200, 1436918400000, settings.EventsPerSecond > 0 ? settings.EventsPerSecond / 1000 : 10);
    }
}
