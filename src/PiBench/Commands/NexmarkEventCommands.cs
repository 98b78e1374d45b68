using System.Management.Automation;
using System.Text;
using PiBench.Core;
using PiBench.Core.Nexmark;

namespace PiBench.Commands;

/// <summary>Generates Nexmark events (persons, auctions, bids) exactly as the Flink Nexmark suite or Apache Beam does.</summary>
/// <remarks>
/// <para>Streams NexmarkEvent objects from one generator: a bit-exact port of the Nexmark generator for two profiles.
/// Flink (default) is the current nexmark-flink generator with its three random sources seeded (-Seed, -UrlSeed,
/// -ExtraSeed; defaults 3, 2 and 1, the seeds of the reference vectors); Beam is the release-0.1 / Apache Beam generator,
/// which reseeds java.util.Random with every event id and needs no seed.</para>
/// <para>-GeneratorCount and -GeneratorIndex select one split of a stream shared by several generators, exactly as
/// parallel Flink source readers split it: all splits share timestamps and have disjoint id ranges. Every other Nexmark
/// configuration key can be set; defaults are those of the reference. Flink uses first event id and number 1 and the
/// current time as base time; Beam uses 0, 0 and 1436918400000 (2015-07-15T00:00:00Z). Pass -BaseTime to make a Flink
/// run repeatable. The resolved configuration, seeds included, is written to the verbose stream.</para>
/// <para>-Skip starts after that many events; the Beam profile jumps there, the Flink profile generates and drops them so
/// that the stream equals an uninterrupted run.</para>
/// </remarks>
/// <example>
/// <code>Get-NexmarkEvent -Count 10 -BaseTime 1436918400000</code>
/// <para>The first ten events of the seeded Flink stream (two auctions, then bids), as in the reference vectors.</para>
/// </example>
/// <example>
/// <code>Get-NexmarkEvent -Count 2000 -Profile Beam | ConvertTo-NexmarkJson -Shape Vector</code>
/// <para>The Beam-profile stream in the reference-vector line format; equals beam-equivalent_1gen_first2000.jsonl.</para>
/// </example>
/// <example>
/// <code>Get-NexmarkEvent -Count 5 -GeneratorCount 9 -GeneratorIndex 4 -FirstEventRate 100000 -Seed 42 -BaseTime 0 -Verbose</code>
/// <para>Five events of split 4 of a nine-generator stream at 100,000 events/s, with a custom generator seed.</para>
/// </example>
[Cmdlet(VerbsCommon.Get, "NexmarkEvent")]
[OutputType(typeof(NexmarkEvent))]
public sealed class GetNexmarkEventCommand : PiBenchCmdlet
{
    /// <summary>How many events to return (fewer if the generator reaches its limit first).</summary>
    [Parameter(Mandatory = true, Position = 0, HelpMessage = "How many events to generate.")]
    public long Count { get; set; }

    /// <summary>Start after this many events of the generator.</summary>
    [Parameter]
    public long Skip { get; set; }

    /// <summary>Flink (default: nexmark-flink master, seeded) or Beam (release-0.1 / Apache Beam).</summary>
    // A string, not the Core enum: a value-type field of a Core type makes PowerShell load PiBench.Core while it
    // reflects over the cmdlet types during Import-Module, before the module's load context is hooked.
    [Parameter]
    [ValidateSet("Flink", "Beam", IgnoreCase = true)]
    public string Profile { get; set; } = "Flink";

    /// <summary>Number of generators (splits) sharing the stream. Default 1.</summary>
    [Parameter]
    public int GeneratorCount { get; set; } = 1;

    /// <summary>Which split to generate, 0 .. GeneratorCount-1. Default 0.</summary>
    [Parameter]
    public int GeneratorIndex { get; set; }

    /// <summary>numEventGenerators, the factor on the inter-event delay. Default: GeneratorCount.</summary>
    [Parameter]
    public int? NumEventGenerators { get; set; }

    /// <summary>Flink profile: seed of the generator's random source. Default 3.</summary>
    [Parameter]
    public long Seed { get; set; } = NexmarkDefaults.GeneratorSeed;

    /// <summary>Flink profile: seed of the channel URL table. Default 2.</summary>
    [Parameter]
    public long UrlSeed { get; set; } = NexmarkDefaults.UrlSeed;

    /// <summary>Flink profile: seed of the 1 MiB extra-text pool. Default 1.</summary>
    [Parameter]
    public long ExtraSeed { get; set; } = NexmarkDefaults.ExtraSeed;

    /// <summary>Time of event number 0 in milliseconds since 1970-01-01 UTC. Default: Flink now, Beam 1436918400000.</summary>
    [Parameter]
    public long? BaseTime { get; set; }

    /// <summary>First event id. Default: Flink 1, Beam 0.</summary>
    [Parameter]
    public long? FirstEventId { get; set; }

    /// <summary>First event number. Default: Flink 1, Beam 0.</summary>
    [Parameter]
    public long? FirstEventNumber { get; set; }

    /// <summary>Events per second over all generators (first-event.rate). Default 10000.</summary>
    [Parameter]
    public int FirstEventRate { get; set; } = NexmarkDefaults.FirstEventRate;

    /// <summary>Total events of the whole stream over all generators (events.num); 0 = unbounded. Default 0.</summary>
    [Parameter]
    public long NumEvents { get; set; }

    /// <summary>Stop the whole stream at this event count (stop-at); -1 = never. Default -1.</summary>
    [Parameter]
    public long StopAtEvent { get; set; } = -1;

    /// <summary>Person share of the event mix. Default 1.</summary>
    [Parameter]
    public int PersonProportion { get; set; } = NexmarkDefaults.PersonProportion;

    /// <summary>Auction share of the event mix. Default 3.</summary>
    [Parameter]
    public int AuctionProportion { get; set; } = NexmarkDefaults.AuctionProportion;

    /// <summary>Bid share of the event mix. Default 46.</summary>
    [Parameter]
    public int BidProportion { get; set; } = NexmarkDefaults.BidProportion;

    /// <summary>Average person size in bytes (padding target). Default 200.</summary>
    [Parameter]
    public int AvgPersonByteSize { get; set; } = NexmarkDefaults.AvgPersonByteSize;

    /// <summary>Average auction size in bytes (padding target). Default 500.</summary>
    [Parameter]
    public int AvgAuctionByteSize { get; set; } = NexmarkDefaults.AvgAuctionByteSize;

    /// <summary>Average bid size in bytes (padding target). Default 100.</summary>
    [Parameter]
    public int AvgBidByteSize { get; set; } = NexmarkDefaults.AvgBidByteSize;

    /// <summary>A bid goes to a hot auction with probability 1 - 1/ratio. Default 2.</summary>
    [Parameter]
    public int HotAuctionRatio { get; set; } = NexmarkDefaults.HotAuctionRatio;

    /// <summary>An auction has a hot seller with probability 1 - 1/ratio. Default 4.</summary>
    [Parameter]
    public int HotSellersRatio { get; set; } = NexmarkDefaults.HotSellersRatio;

    /// <summary>A bid comes from a hot bidder with probability 1 - 1/ratio. Default 4.</summary>
    [Parameter]
    public int HotBiddersRatio { get; set; } = NexmarkDefaults.HotBiddersRatio;

    /// <summary>Window of auctions a cold bid may pick; also sets the auction length. Default 100.</summary>
    [Parameter]
    public int NumInFlightAuctions { get; set; } = NexmarkDefaults.NumInFlightAuctions;

    /// <summary>Window of people a cold seller or bidder may pick. Default 1000.</summary>
    [Parameter]
    public int NumActivePeople { get; set; } = NexmarkDefaults.NumActivePeople;

    /// <summary>Out-of-order group size of the event-number permutation; 1 = in order. Default 1.</summary>
    [Parameter]
    public long OutOfOrderGroupSize { get; set; } = NexmarkDefaults.OutOfOrderGroupSize;

    protected override Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        if (Count < 0) ThrowArgumentError("InvalidCount", $"-Count {Count} is negative.", Count, "Use 0 or more events.");
        if (Skip < 0) ThrowArgumentError("InvalidSkip", $"-Skip {Skip} is negative.", Skip, "Use 0 or more events.");

        var config = new NexmarkConfiguration
        {
            Profile = Enum.Parse<NexmarkProfile>(Profile, ignoreCase: true), GeneratorCount = GeneratorCount, GeneratorIndex = GeneratorIndex, NumEventGenerators = NumEventGenerators,
            GeneratorSeed = Seed, UrlSeed = UrlSeed, ExtraSeed = ExtraSeed, BaseTime = BaseTime, FirstEventId = FirstEventId,
            FirstEventNumber = FirstEventNumber, FirstEventRate = FirstEventRate, NumEvents = NumEvents, StopAtEvent = StopAtEvent,
            PersonProportion = PersonProportion, AuctionProportion = AuctionProportion, BidProportion = BidProportion,
            AvgPersonByteSize = AvgPersonByteSize, AvgAuctionByteSize = AvgAuctionByteSize, AvgBidByteSize = AvgBidByteSize,
            HotAuctionRatio = HotAuctionRatio, HotSellersRatio = HotSellersRatio, HotBiddersRatio = HotBiddersRatio,
            NumInFlightAuctions = NumInFlightAuctions, NumActivePeople = NumActivePeople, OutOfOrderGroupSize = OutOfOrderGroupSize,
        };

        NexmarkGenerator generator;
        try { generator = new NexmarkGenerator(config); }
        catch (PiBenchException ex) { ThrowTerminatingError(ex); return Task.CompletedTask; }

        WriteVerbose($"Nexmark generator: {generator.Configuration}; split first event id {generator.FirstEventId}, " +
                     $"limit {generator.Limit} events, delay {generator.InterEventDelayMicros} us.");

        long skip = Skip;
        while (skip > 0 && generator.HasNext)
        {
            cancellationToken.ThrowIfCancellationRequested();
            skip -= generator.Skip(Math.Min(skip, 65536)); // in slices, so Ctrl+C stays prompt in the Flink profile
        }
        for (long i = 0; i < Count && generator.TryNext(out var ev); i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            WriteObject(ev);
        }
        if (generator.EventsCountSoFar < Skip + Count && !generator.HasNext)
            WriteVerbose($"The generator reached its limit of {generator.Limit} events.");
        return Task.CompletedTask;
    }
}

/// <summary>Converts Nexmark events to JSON lines: the Kafka wire format of the Flink suite, or the reference-vector format.</summary>
/// <remarks>
/// <para>Takes NexmarkEvent objects from the pipeline (Get-NexmarkEvent) and writes one compact JSON string per event.
/// -Shape Kafka (default) is the message value the Flink Nexmark suite's Kafka source reads:
/// {"event_type":..,"person":..,"auction":..,"bid":..} with the two absent rows as null and timestamps as
/// 'yyyy-MM-dd HH:mm:ss[.fff]' UTC text. -Shape Vector is the line format of the shared reference vectors
/// (numbering, type, epoch-millisecond timestamps and the entity).</para>
/// <para>The output is byte-identical to the reference vectors for their configurations; join the lines with a
/// newline to get the file.</para>
/// </remarks>
/// <example>
/// <code>Get-NexmarkEvent -Count 3 -BaseTime 1436918400000 | ConvertTo-NexmarkJson</code>
/// <para>Three Kafka messages: two auctions and the first bid.</para>
/// </example>
/// <example>
/// <code>$lines = Get-NexmarkEvent -Count 2000 -BaseTime 1436918400000 | ConvertTo-NexmarkJson -Shape Vector
/// [IO.File]::WriteAllText("$PWD/flink.jsonl", ($lines -join "`n") + "`n")</code>
/// <para>Writes the seeded Flink reference vector flink-head-seeded_1gen_first2000.jsonl.</para>
/// </example>
[Cmdlet(VerbsData.ConvertTo, "NexmarkJson")]
[OutputType(typeof(string))]
public sealed class ConvertToNexmarkJsonCommand : PiBenchCmdlet
{
    private NexmarkJsonWriter? _writer;

    /// <summary>The event to convert (from Get-NexmarkEvent).</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, HelpMessage = "A NexmarkEvent from Get-NexmarkEvent.")]
    public NexmarkEvent InputObject { get; set; } = null!;

    /// <summary>Kafka (default): the Flink suite's Kafka JSON. Vector: the reference-vector line format.</summary>
    [Parameter]
    [ValidateSet("Kafka", "Vector", IgnoreCase = true)]
    public string Shape { get; set; } = "Kafka"; // a string for the same reason as Get-NexmarkEvent -Profile

    protected override Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        _writer ??= new NexmarkJsonWriter(Enum.Parse<NexmarkJsonShape>(Shape, ignoreCase: true));
        WriteObject(Encoding.UTF8.GetString(_writer.Serialize(InputObject).Span));
        return Task.CompletedTask;
    }
}
