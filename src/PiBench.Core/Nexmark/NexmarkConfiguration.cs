using System.Globalization;

namespace PiBench.Core.Nexmark;

/// <summary>Constants of the Nexmark generator (spec 2.2) and PiBench's documented defaults.</summary>
public static class NexmarkDefaults
{
    /// <summary>Default seed of the Flink profile's per-generator <c>SplittableRandom</c> (the vectors' "generator" seed).</summary>
    public const long GeneratorSeed = 3;

    /// <summary>Default seed of the Flink profile's URL/channel table <c>SplittableRandom</c> (the vectors' "url" seed).</summary>
    public const long UrlSeed = 2;

    /// <summary>Default seed of the Flink profile's 1 MiB extra-text pool <c>SplittableRandom</c> (the vectors' "extra" seed).</summary>
    public const long ExtraSeed = 1;

    /// <summary>Beam's standard base time and the reference vectors' base time: 2015-07-15T00:00:00Z in epoch ms.</summary>
    public const long BeamBaseTime = 1436918400000L;

    /// <summary>First event id / number of the Flink table source (hard-coded there).</summary>
    public const long FlinkFirstEventId = 1, FlinkFirstEventNumber = 1;

    /// <summary>First event id / number of Beam's standard configuration.</summary>
    public const long BeamFirstEventId = 0, BeamFirstEventNumber = 0;

    public const int FirstEventRate = 10000;
    public const int PersonProportion = 1, AuctionProportion = 3, BidProportion = 46;
    public const int AvgPersonByteSize = 200, AvgAuctionByteSize = 500, AvgBidByteSize = 100;
    public const int HotAuctionRatio = 2, HotSellersRatio = 4, HotBiddersRatio = 4;
    public const int NumInFlightAuctions = 100, NumActivePeople = 1000;
    public const long OutOfOrderGroupSize = 1;

    /// <summary>Ids of the first person and the first auction.</summary>
    public const long FirstPersonId = 1000, FirstAuctionId = 1000;
    /// <summary>First category id; there are <see cref="NumCategories"/> categories.</summary>
    public const int FirstCategoryId = 10, NumCategories = 5;
    /// <summary>How far ahead of the last created person / auction a random choice may point.</summary>
    public const int PersonIdLead = 10, AuctionIdLead = 10;
    /// <summary>Block size of hot sellers, hot auctions and hot bidders.</summary>
    public const int HotSellerBlock = 100, HotAuctionBlock = 100, HotBidderBlock = 100;
    /// <summary>Flink profile: number of cold channels and the size of the extra-text pool.</summary>
    public const int ChannelsNumber = 10000, ExtraPoolLength = 1024 * 1024;

    /// <summary>Largest epoch-millisecond value that still formats as a date (9999-12-31T23:59:59.999Z).</summary>
    public const long MaxEpochMilliseconds = 253402300799999L;
}

/// <summary>
/// Everything that decides the generated stream: the Nexmark configuration fields the generator reads (spec 2.1), the
/// generator numbering (base time, first event id and number), the split (<see cref="GeneratorCount"/> /
/// <see cref="GeneratorIndex"/>) and, for the Flink profile, the three seeds. Null means "the profile's default"
/// (see <see cref="Resolve"/>). A mutable options bag: <see cref="NexmarkGenerator"/> takes a resolved copy.
/// </summary>
public sealed class NexmarkConfiguration
{
    /// <summary>Flink (default) or Beam.</summary>
    public NexmarkProfile Profile { get; set; } = NexmarkProfile.Flink;

    /// <summary>Total events over all generators; 0 = as many as possible (spec 2.3).</summary>
    public long NumEvents { get; set; }

    /// <summary>How many generators share the stream (the number of splits, spec 2.4). Default 1.</summary>
    public int GeneratorCount { get; set; } = 1;

    /// <summary>Which split this generator is, 0 .. GeneratorCount-1. Default 0.</summary>
    public int GeneratorIndex { get; set; }

    /// <summary>
    /// <c>numEventGenerators</c>, which multiplies the inter-event delay. Null = <see cref="GeneratorCount"/>.
    /// Java keeps the two apart (Flink: parallelism.default vs. the source's actual parallelism); normally they agree.
    /// </summary>
    public int? NumEventGenerators { get; set; }

    /// <summary>Epoch ms of event number 0. Null = Flink: the current time; Beam: 1436918400000.</summary>
    public long? BaseTime { get; set; }

    /// <summary>Null = Flink 1, Beam 0.</summary>
    public long? FirstEventId { get; set; }

    /// <summary>Null = Flink 1, Beam 0.</summary>
    public long? FirstEventNumber { get; set; }

    /// <summary>Flink profile: seed of the per-generator RNG. Ignored by Beam. Default <see cref="NexmarkDefaults.GeneratorSeed"/>.</summary>
    public long GeneratorSeed { get; set; } = NexmarkDefaults.GeneratorSeed;

    /// <summary>Flink profile: seed of the channel/URL tables. Ignored by Beam. Default <see cref="NexmarkDefaults.UrlSeed"/>.</summary>
    public long UrlSeed { get; set; } = NexmarkDefaults.UrlSeed;

    /// <summary>Flink profile: seed of the extra-text pool. Ignored by Beam. Default <see cref="NexmarkDefaults.ExtraSeed"/>.</summary>
    public long ExtraSeed { get; set; } = NexmarkDefaults.ExtraSeed;

    /// <summary>Events per second over all generators (<c>first-event.rate</c>). Default 10000.</summary>
    public int FirstEventRate { get; set; } = NexmarkDefaults.FirstEventRate;

    public int PersonProportion { get; set; } = NexmarkDefaults.PersonProportion;
    public int AuctionProportion { get; set; } = NexmarkDefaults.AuctionProportion;
    public int BidProportion { get; set; } = NexmarkDefaults.BidProportion;
    public int AvgPersonByteSize { get; set; } = NexmarkDefaults.AvgPersonByteSize;
    public int AvgAuctionByteSize { get; set; } = NexmarkDefaults.AvgAuctionByteSize;
    public int AvgBidByteSize { get; set; } = NexmarkDefaults.AvgBidByteSize;
    /// <summary>A bid goes to a hot auction with probability 1 - 1/ratio.</summary>
    public int HotAuctionRatio { get; set; } = NexmarkDefaults.HotAuctionRatio;
    /// <summary>An auction has a hot seller with probability 1 - 1/ratio.</summary>
    public int HotSellersRatio { get; set; } = NexmarkDefaults.HotSellersRatio;
    /// <summary>A bid comes from a hot bidder with probability 1 - 1/ratio.</summary>
    public int HotBiddersRatio { get; set; } = NexmarkDefaults.HotBiddersRatio;
    public int NumInFlightAuctions { get; set; } = NexmarkDefaults.NumInFlightAuctions;
    public int NumActivePeople { get; set; } = NexmarkDefaults.NumActivePeople;
    /// <summary>Event-number permutation group (spec 3.1); 1 = in order.</summary>
    public long OutOfOrderGroupSize { get; set; } = NexmarkDefaults.OutOfOrderGroupSize;
    /// <summary>Flink <c>stop-at</c>: stop the whole stream early at this event count; negative = no early stop.</summary>
    public long StopAtEvent { get; set; } = -1;

    /// <summary>A shallow copy.</summary>
    public NexmarkConfiguration Clone() => (NexmarkConfiguration)MemberwiseClone();

    /// <summary>
    /// A copy with every null filled from the profile's defaults (base time: <paramref name="nowMs"/> for Flink,
    /// or the current time when that is null), after <see cref="Validate"/>.
    /// </summary>
    public NexmarkConfiguration Resolve(long? nowMs = null)
    {
        Validate();
        var c = Clone();
        var beam = Profile == NexmarkProfile.Beam;
        c.NumEventGenerators ??= GeneratorCount;
        c.FirstEventId ??= beam ? NexmarkDefaults.BeamFirstEventId : NexmarkDefaults.FlinkFirstEventId;
        c.FirstEventNumber ??= beam ? NexmarkDefaults.BeamFirstEventNumber : NexmarkDefaults.FlinkFirstEventNumber;
        c.BaseTime ??= beam ? NexmarkDefaults.BeamBaseTime : nowMs ?? DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        return c;
    }

    /// <summary>
    /// Checks every value and throws <see cref="PiBenchException"/> (category InvalidArgument, a stable ErrorId such as
    /// <c>InvalidGeneratorIndex</c>, the offending value as target) for the first bad one. Values the Java generator
    /// would accept but that make it throw or produce nonsense (zero hot ratios, negative sizes) are rejected here.
    /// </summary>
    public void Validate()
    {
        if (!Enum.IsDefined(Profile)) Fail("InvalidProfile", nameof(Profile), Profile, "Use Flink or Beam.");
        if (GeneratorCount < 1) Fail("InvalidGeneratorCount", nameof(GeneratorCount), GeneratorCount, "Use 1 or more generators.");
        if (GeneratorIndex < 0 || GeneratorIndex >= GeneratorCount)
            Fail("InvalidGeneratorIndex", nameof(GeneratorIndex), GeneratorIndex,
                $"Use an index from 0 to {GeneratorCount - 1} (GeneratorCount is {GeneratorCount}).");
        if (NumEventGenerators is < 1) Fail("InvalidNumEventGenerators", nameof(NumEventGenerators), NumEventGenerators, "Use 1 or more.");
        if (NumEvents < 0) Fail("InvalidNumEvents", nameof(NumEvents), NumEvents, "Use 0 (unbounded) or a positive count.");
        if (BaseTime is < 0 or > NexmarkDefaults.MaxEpochMilliseconds)
            Fail("InvalidBaseTime", nameof(BaseTime), BaseTime, "Use epoch milliseconds between 0 and 253402300799999.");
        if (FirstEventId is < 0) Fail("InvalidFirstEventId", nameof(FirstEventId), FirstEventId, "Use 0 or more.");
        if (FirstEventNumber is < 0) Fail("InvalidFirstEventNumber", nameof(FirstEventNumber), FirstEventNumber, "Use 0 or more.");
        if (FirstEventRate < 1) Fail("InvalidFirstEventRate", nameof(FirstEventRate), FirstEventRate, "Use 1 or more events per second.");
        if (PersonProportion < 0) Fail("InvalidProportion", nameof(PersonProportion), PersonProportion, "Proportions are 0 or more.");
        if (AuctionProportion < 0) Fail("InvalidProportion", nameof(AuctionProportion), AuctionProportion, "Proportions are 0 or more.");
        if (BidProportion < 0) Fail("InvalidProportion", nameof(BidProportion), BidProportion, "Proportions are 0 or more.");
        long total = (long)PersonProportion + AuctionProportion + BidProportion;
        if (total < 1 || total > int.MaxValue)
            Fail("InvalidProportion", "PersonProportion + AuctionProportion + BidProportion", total, "The three proportions must add up to 1 .. 2147483647.");
        if (AvgPersonByteSize < 0) Fail("InvalidAverageSize", nameof(AvgPersonByteSize), AvgPersonByteSize, "Use 0 or more bytes.");
        if (AvgAuctionByteSize < 0) Fail("InvalidAverageSize", nameof(AvgAuctionByteSize), AvgAuctionByteSize, "Use 0 or more bytes.");
        if (AvgBidByteSize < 0) Fail("InvalidAverageSize", nameof(AvgBidByteSize), AvgBidByteSize, "Use 0 or more bytes.");
        if (NumEvents == 0)
        {
            // Java computes T * max(avg sizes) in 32-bit arithmetic; a zero or overflowing divisor would throw or
            // give a negative maxEvents there, so PiBench refuses it.
            long divisor = total * Math.Max(AvgPersonByteSize, Math.Max(AvgAuctionByteSize, AvgBidByteSize));
            if (divisor < 1 || divisor > int.MaxValue)
                Fail("InvalidAverageSize", "(PersonProportion + AuctionProportion + BidProportion) * max(average sizes)", divisor,
                    "With NumEvents = 0 the product must be 1 .. 2147483647; set NumEvents or smaller sizes.");
        }
        if (HotAuctionRatio < 1) Fail("InvalidHotRatio", nameof(HotAuctionRatio), HotAuctionRatio, "Use 1 or more (1 = never hot).");
        if (HotSellersRatio < 1) Fail("InvalidHotRatio", nameof(HotSellersRatio), HotSellersRatio, "Use 1 or more (1 = never hot).");
        if (HotBiddersRatio < 1) Fail("InvalidHotRatio", nameof(HotBiddersRatio), HotBiddersRatio, "Use 1 or more (1 = never hot).");
        if (NumInFlightAuctions < 0) Fail("InvalidInFlightAuctions", nameof(NumInFlightAuctions), NumInFlightAuctions, "Use 0 or more.");
        if (NumActivePeople < 0) Fail("InvalidActivePeople", nameof(NumActivePeople), NumActivePeople, "Use 0 or more.");
        if (OutOfOrderGroupSize < 1) Fail("InvalidOutOfOrderGroupSize", nameof(OutOfOrderGroupSize), OutOfOrderGroupSize, "Use 1 (in order) or more.");
    }

    private static void Fail(string errorId, string name, object? value, string action) =>
        throw new PiBenchException(errorId, PiBenchErrorCategory.InvalidArgument,
            string.Create(CultureInfo.InvariantCulture, $"Nexmark configuration: {name} = {value} is not valid."), value, action);

    /// <summary>One line with every value (seeds included) so a run can be repeated.</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"Profile={Profile} GeneratorCount={GeneratorCount} GeneratorIndex={GeneratorIndex} NumEventGenerators={NumEventGenerators?.ToString(CultureInfo.InvariantCulture) ?? "(=GeneratorCount)"} " +
        $"Seed={GeneratorSeed} UrlSeed={UrlSeed} ExtraSeed={ExtraSeed} BaseTime={BaseTime?.ToString(CultureInfo.InvariantCulture) ?? "(default)"} " +
        $"FirstEventId={FirstEventId?.ToString(CultureInfo.InvariantCulture) ?? "(default)"} FirstEventNumber={FirstEventNumber?.ToString(CultureInfo.InvariantCulture) ?? "(default)"} " +
        $"NumEvents={NumEvents} StopAtEvent={StopAtEvent} FirstEventRate={FirstEventRate} " +
        $"Proportions={PersonProportion}/{AuctionProportion}/{BidProportion} AvgSizes={AvgPersonByteSize}/{AvgAuctionByteSize}/{AvgBidByteSize} " +
        $"HotRatios(auction/seller/bidder)={HotAuctionRatio}/{HotSellersRatio}/{HotBiddersRatio} InFlightAuctions={NumInFlightAuctions} " +
        $"ActivePeople={NumActivePeople} OutOfOrderGroupSize={OutOfOrderGroupSize}");
}
