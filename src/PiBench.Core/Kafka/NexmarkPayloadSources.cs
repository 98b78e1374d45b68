using System.Buffers;
using System.Globalization;
using PiBench.Core.Nexmark;

namespace PiBench.Core.Kafka;

/// <summary>What Start-NexmarkGenerator asks of its event source.</summary>
public sealed class NexmarkSourceSettings
{
    /// <summary>Flink (nexmark-flink, seeded) or Beam (release-0.1).</summary>
    public string Profile { get; set; } = "Flink";
    /// <summary>Generator seed (Flink profile); null = the documented default.</summary>
    public long? Seed { get; set; }
    public long? UrlSeed { get; set; }
    public long? ExtraSeed { get; set; }
    /// <summary>Epoch ms of event number 0; null = Flink: now, Beam: 1436918400000.</summary>
    public long? BaseTime { get; set; }
    /// <summary>Split the logical stream across this many generators (spec 2.4), merged in event order.</summary>
    public int GeneratorCount { get; set; } = 1;
    public long TotalEvents { get; set; } = 10_000_000;
    /// <summary>Events per second (firstEventRate): sets the event timestamps; 0 = the reference default 10,000.</summary>
    public double EventsPerSecond { get; set; } = 10_000;
    /// <summary>Use the synthetic stand-in instead of the Nexmark generator (raw produce checks).</summary>
    public bool Synthetic { get; set; }
}

/// <summary>Picks the payload source for a run.</summary>
public static class NexmarkPayloadSources
{
    public static INexmarkPayloadSourceFactory Create(NexmarkSourceSettings settings)
    {
        if (settings.GeneratorCount < 1)
            throw new PiBenchException("InvalidGeneratorCount", PiBenchErrorCategory.InvalidArgument,
                $"GeneratorCount must be at least 1, not {settings.GeneratorCount}.", settings.GeneratorCount);
        var rate = settings.EventsPerSecond > 0 ? (int)Math.Clamp(Math.Round(settings.EventsPerSecond), 1, int.MaxValue) : NexmarkDefaults.FirstEventRate;
        if (settings.Synthetic) return new SyntheticPayloadSourceFactory(200, NexmarkDefaults.BeamBaseTime, rate / 1000.0);
        if (!Enum.TryParse<NexmarkProfile>(settings.Profile, ignoreCase: true, out var profile))
            throw new PiBenchException("InvalidProfile", PiBenchErrorCategory.InvalidArgument,
                $"Unknown Nexmark profile '{settings.Profile}'.", settings.Profile, "Use Flink or Beam.");
        var c = new NexmarkConfiguration
        {
            Profile = profile,
            NumEvents = settings.TotalEvents,
            GeneratorCount = settings.GeneratorCount,
            FirstEventRate = rate,
            BaseTime = settings.BaseTime,
        };
        if (settings.Seed is { } s) c.GeneratorSeed = s;
        if (settings.UrlSeed is { } u) c.UrlSeed = u;
        if (settings.ExtraSeed is { } e) c.ExtraSeed = e;
        return new NexmarkGeneratorSourceFactory(c);
    }
}

/// <summary>
/// The Nexmark generator (src/PiBench.Core/Nexmark) as a payload source: GeneratorCount splits (spec 2.4), each its
/// own <see cref="NexmarkGenerator"/>; they run parallel timelines sharing event numbers, so the merged stream takes
/// their k-th events in split order, then the (k+1)-th ones. Values are the Kafka JSON wire format
/// (<see cref="NexmarkJson.WriteKafka"/>). The base time is resolved once so every split shares it.
/// </summary>
public sealed class NexmarkGeneratorSourceFactory : INexmarkPayloadSourceFactory
{
    private readonly NexmarkConfiguration _config;

    public NexmarkGeneratorSourceFactory(NexmarkConfiguration configuration)
    {
        _config = configuration.Resolve();
        _ = new NexmarkGenerator(Split(0)); // validates every value now, on the caller's thread
    }

    public NexmarkConfiguration Configuration => _config;

    public string Description => string.Create(CultureInfo.InvariantCulture,
        $"Nexmark {_config.Profile} Seed={_config.GeneratorSeed} UrlSeed={_config.UrlSeed} ExtraSeed={_config.ExtraSeed} BaseTime={_config.BaseTime} GeneratorCount={_config.GeneratorCount} FirstEventRate={_config.FirstEventRate}");

    private NexmarkConfiguration Split(int index)
    {
        var c = _config.Clone();
        c.GeneratorIndex = index;
        return c;
    }

    public INexmarkPayloadSource Create() =>
        new Source(Enumerable.Range(0, _config.GeneratorCount).Select(i => new NexmarkGenerator(Split(i))).ToArray());

    public long GenerateOnly(long count)
    {
        var gens = Enumerable.Range(0, _config.GeneratorCount).Select(i => new NexmarkGenerator(Split(i))).ToArray();
        long n = 0;
        var turn = 0;
        var exhausted = 0;
        while (n < count && exhausted < gens.Length)
        {
            var g = gens[turn];
            turn = turn + 1 == gens.Length ? 0 : turn + 1;
            if (!g.TryNext(out _)) { exhausted++; continue; }
            exhausted = 0;
            n++;
        }
        return n;
    }

    /// <summary>
    /// Round-robin over the splits, one event ahead: the next event is generated before this one is serialised, so the
    /// memory its JSON is copied from (a random channel entry and extra-pool slice, asked for by the generator's cache
    /// prefetch) is on its way while this event is written. The order of events is unchanged.
    /// </summary>
    private sealed class Source(NexmarkGenerator[] generators) : INexmarkPayloadSource
    {
        private int _turn;
        private bool _started;
        private NexmarkEvent? _ahead;

        public bool TryNext(IBufferWriter<byte> payload, out long eventTimeMs)
        {
            var ev = _started ? _ahead : Pull();
            _started = true;
            if (ev is null) { eventTimeMs = 0; return false; }
            _ahead = Pull();
            NexmarkJson.WriteKafka(ev, payload);
            eventTimeMs = ev.EventTimestamp;
            return true;
        }

        private NexmarkEvent? Pull()
        {
            for (var tried = 0; tried < generators.Length; tried++)
            {
                var g = generators[_turn];
                _turn = _turn + 1 == generators.Length ? 0 : _turn + 1;
                if (g.TryNext(out var ev)) return ev;
            }
            return null;
        }
    }
}
