using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using PiBench.Core.Nexmark;

namespace PiBench.Benchmarks;

/// <summary>
/// Nexmark generation and Kafka-JSON serialisation on one core, as ratios against references measured in the same run:
/// generation alone, and generation + System.Text.Json <see cref="JsonSerializer"/> of equivalent row objects (the
/// obvious implementation, which builds row objects and timestamp strings per event).
/// Run: dotnet run -c Release --project tests/PiBench.Benchmarks -- nexmark-generator
/// </summary>
public static class GeneratorBenchmarks
{
    private const int Events = 1_000_000;
    private const int Rounds = 5;

    public static void RegisterAll()
    {
        Program.Register("nexmark-generator", _ => Run());
        Program.Register("nexmark-json", _ => JsonOnly());
    }

    /// <summary>
    /// Serialisation alone on the same 200,000 pre-generated events (Flink profile): the direct Kafka writer
    /// (NexmarkJson.WriteKafka) against the Utf8JsonWriter path it replaced (NexmarkJson.WriteKafkaReference), interleaved,
    /// 7 rounds, CPU time of this thread. Run: ... -- nexmark-json
    /// </summary>
    private static Task JsonOnly()
    {
        var g = new NexmarkGenerator(new NexmarkConfiguration { BaseTime = NexmarkDefaults.BeamBaseTime });
        var events = Enumerable.Range(0, 200_000).Select(_ => g.Next()).ToArray();
        var buffer = new ArrayBufferWriter<byte>(64 * 1024);
        double Time(Action<NexmarkEvent, ArrayBufferWriter<byte>> write)
        {
            var c0 = ThreadCpuNs();
            foreach (var ev in events) { buffer.ResetWrittenCount(); write(ev, buffer); }
            return (ThreadCpuNs() - c0) / (double)events.Length;
        }
        for (var w = 0; w < 3; w++) { Time(NexmarkJson.WriteKafka); Time(NexmarkJson.WriteKafkaReference); }
        var fast = new List<double>(); var reference = new List<double>();
        for (var r = 0; r < 7; r++) { fast.Add(Time(NexmarkJson.WriteKafka)); reference.Add(Time(NexmarkJson.WriteKafkaReference)); }
        var ratios = Enumerable.Range(0, 7).Select(i => fast[i] / reference[i]).Order().ToArray();
        Console.WriteLine($"Kafka JSON of 200,000 Flink events, 7 interleaved rounds, thread CPU time: direct writer {Median(fast):F0} ns/event, Utf8JsonWriter path {Median(reference):F0} ns/event; ratio {ratios[3]:F2} ({ratios[0]:F2}-{ratios[6]:F2})");
        return Task.CompletedTask;
    }

    [System.Runtime.InteropServices.StructLayout(System.Runtime.InteropServices.LayoutKind.Sequential)]
    private struct TimeSpec { public long Sec, Nsec; }

    [System.Runtime.InteropServices.DllImport("libc")]
    private static extern int clock_gettime(int clock, out TimeSpec ts);

    private static long ThreadCpuNs() { clock_gettime(3, out var ts); return ts.Sec * 1_000_000_000L + ts.Nsec; }

    private static Task Run()
    {
        PinToOneCore();
        var flink = new NexmarkConfiguration { BaseTime = NexmarkDefaults.BeamBaseTime };
        var beam = new NexmarkConfiguration { Profile = NexmarkProfile.Beam };
        CheckSameBytes(flink);

        // Warm-up: tables, pool, JIT tiers.
        foreach (var c in new[] { flink, beam })
        {
            Measure(c, Mode.GenerateOnly, 200_000);
            Measure(c, Mode.NexmarkJson, 200_000);
            Measure(c, Mode.SystemTextJson, 200_000);
        }

        foreach (var (name, c) in new[] { ("Flink", flink), ("Beam", beam) })
        {
            // The three variants are interleaved within each round, and every figure is the median over the rounds, so
            // that load from other processes hits reference and candidate alike.
            var gens = new List<Result>(); var ours = new List<Result>(); var stjs = new List<Result>();
            for (int r = 0; r < Rounds; r++)
            {
                gens.Add(Measure(c, Mode.GenerateOnly, Events));
                ours.Add(Measure(c, Mode.NexmarkJson, Events));
                stjs.Add(Measure(c, Mode.SystemTextJson, Events));
            }
            var gen = Median(gens); var our = Median(ours); var stj = Median(stjs);
            double vsGen = Median(Enumerable.Range(0, Rounds).Select(i => ours[i].Rate / gens[i].Rate));
            double vsStj = Median(Enumerable.Range(0, Rounds).Select(i => ours[i].Rate / stjs[i].Rate));
            double serial = Median(Enumerable.Range(0, Rounds).Select(i => SerializationOnlySpeedup(gens[i], ours[i], stjs[i])));
            Console.WriteLine($"profile {name}: {Events:N0} events per measurement, median of {Rounds} interleaved rounds, one thread{(s_pinned ? " pinned to one core" : "")}:");
            Console.WriteLine($"  generation only                     {gen.Rate,12:N0} events/s  {gen.AllocPerEvent,6:F0} B alloc/event");
            Console.WriteLine($"  generation + NexmarkJson.WriteKafka {our.Rate,12:N0} events/s  {our.AllocPerEvent,6:F0} B alloc/event  {our.BytesPerEvent,6:F1} B JSON/event  {our.Rate * our.BytesPerEvent / 1e6,6:F1} MB/s");
            Console.WriteLine($"  generation + JsonSerializer (ref)   {stj.Rate,12:N0} events/s  {stj.AllocPerEvent,6:F0} B alloc/event  {stj.BytesPerEvent,6:F1} B JSON/event  {stj.Rate * stj.BytesPerEvent / 1e6,6:F1} MB/s");
            Console.WriteLine($"  ratio (gen + NexmarkJson) / (gen only)           = {vsGen:F3}");
            Console.WriteLine($"  ratio (gen + NexmarkJson) / (gen + JsonSerializer) = {vsStj:F3}");
            Console.WriteLine($"  serialisation alone: NexmarkJson is {serial:F2}x as fast as JsonSerializer");
            if (name == "Beam") Console.WriteLine("  (Beam reference rows write channel/url as null, so its JSON is slightly longer)");
        }
        return Task.CompletedTask;
    }

    private static Result Median(List<Result> rs) => rs.OrderBy(r => r.Rate).ElementAt(rs.Count / 2);

    private static double Median(IEnumerable<double> xs) { var a = xs.Order().ToArray(); return a[a.Length / 2]; }

    private enum Mode { GenerateOnly, NexmarkJson, SystemTextJson }

    private readonly record struct Result(double Rate, double BytesPerEvent, double AllocPerEvent);

    private static bool s_pinned;

    private static void PinToOneCore()
    {
        try
        {
            if (OperatingSystem.IsLinux() || OperatingSystem.IsWindows())
            {
                var cpus = Environment.ProcessorCount;
                Process.GetCurrentProcess().ProcessorAffinity = (IntPtr)(1L << (cpus - 1));
                s_pinned = true;
            }
        }
        catch (Exception ex) when (ex is PlatformNotSupportedException or System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            Console.WriteLine($"(could not pin to one core: {ex.Message}; running on one thread)");
        }
    }

    private static double SerializationOnlySpeedup(Result gen, Result ours, Result stj)
    {
        double genCost = 1 / gen.Rate, oursCost = 1 / ours.Rate - genCost, stjCost = 1 / stj.Rate - genCost;
        return oursCost > 0 ? stjCost / oursCost : double.PositiveInfinity;
    }

    private static readonly JsonSerializerOptions StjOptions = new()
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };

    private static Result Measure(NexmarkConfiguration c, Mode mode, int events)
    {
        var g = new NexmarkGenerator(c);
        var buffer = new ArrayBufferWriter<byte>(64 * 1024);
        var stjWriter = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = StjOptions.Encoder, SkipValidation = true });
        long bytes = 0;
        GC.Collect();
        long alloc0 = GC.GetAllocatedBytesForCurrentThread();
        var sw = Stopwatch.StartNew();
        for (int i = 0; i < events; i++)
        {
            g.TryNext(out var ev);
            switch (mode)
            {
                case Mode.NexmarkJson:
                    buffer.ResetWrittenCount();
                    NexmarkJson.WriteKafka(ev!, buffer);
                    bytes += buffer.WrittenCount;
                    break;
                case Mode.SystemTextJson:
                    buffer.ResetWrittenCount();
                    stjWriter.Reset(buffer);
                    JsonSerializer.Serialize(stjWriter, KafkaRow.From(ev!), StjOptions);
                    stjWriter.Flush();
                    bytes += buffer.WrittenCount;
                    break;
            }
        }
        sw.Stop();
        long alloc = GC.GetAllocatedBytesForCurrentThread() - alloc0;
        return new Result(events / sw.Elapsed.TotalSeconds, bytes / (double)events, alloc / (double)events);
    }

    /// <summary>The reference must write the same bytes, or the comparison means nothing.</summary>
    private static void CheckSameBytes(NexmarkConfiguration c)
    {
        var g = new NexmarkGenerator(c);
        for (int i = 0; i < 5000; i++)
        {
            var ev = g.Next();
            var ours = NexmarkJson.ToJsonString(ev);
            var stj = JsonSerializer.Serialize(KafkaRow.From(ev), StjOptions);
            if (ours != stj) throw new InvalidOperationException($"reference differs at event {i}:\n{ours}\n{stj}");
        }
        Console.WriteLine("reference check: JsonSerializer output equals NexmarkJson.WriteKafka for 5,000 events");
    }

    // ---------------------------------------------------------------- the reference's row objects (Flink schema, 9.2)

    private static string Ts(long ms) =>
        DateTime.UnixEpoch.AddMilliseconds(ms).ToString("yyyy-MM-dd HH:mm:ss.FFF", CultureInfo.InvariantCulture);

    private sealed class KafkaRow
    {
        [JsonPropertyName("event_type")] public int EventType { get; init; }
        [JsonPropertyName("person")] public PersonRow? Person { get; init; }
        [JsonPropertyName("auction")] public AuctionRow? Auction { get; init; }
        [JsonPropertyName("bid")] public BidRow? Bid { get; init; }

        public static KafkaRow From(NexmarkEvent e) => new()
        {
            EventType = (int)e.EventType,
            Person = e.Person is { } p ? new PersonRow(p.Id, p.Name, p.EmailAddress, p.CreditCard, p.City, p.State, Ts(p.DateTime), p.Extra) : null,
            Auction = e.Auction is { } a ? new AuctionRow(a.Id, a.ItemName, a.Description, a.InitialBid, a.Reserve, Ts(a.DateTime), Ts(a.Expires), a.Seller, a.Category, a.Extra) : null,
            Bid = e.Bid is { } b ? new BidRow(b.Auction, b.Bidder, b.Price, b.Channel!, b.Url!, Ts(b.DateTime), b.Extra) : null,
        };
    }

    private sealed record PersonRow(
        [property: JsonPropertyName("id")] long Id, [property: JsonPropertyName("name")] string Name,
        [property: JsonPropertyName("emailAddress")] string EmailAddress, [property: JsonPropertyName("creditCard")] string CreditCard,
        [property: JsonPropertyName("city")] string City, [property: JsonPropertyName("state")] string State,
        [property: JsonPropertyName("dateTime")] string DateTime, [property: JsonPropertyName("extra")] string Extra);

    private sealed record AuctionRow(
        [property: JsonPropertyName("id")] long Id, [property: JsonPropertyName("itemName")] string ItemName,
        [property: JsonPropertyName("description")] string Description, [property: JsonPropertyName("initialBid")] long InitialBid,
        [property: JsonPropertyName("reserve")] long Reserve, [property: JsonPropertyName("dateTime")] string DateTime,
        [property: JsonPropertyName("expires")] string Expires, [property: JsonPropertyName("seller")] long Seller,
        [property: JsonPropertyName("category")] long Category, [property: JsonPropertyName("extra")] string Extra);

    private sealed record BidRow(
        [property: JsonPropertyName("auction")] long Auction, [property: JsonPropertyName("bidder")] long Bidder,
        [property: JsonPropertyName("price")] long Price, [property: JsonPropertyName("channel")] string Channel,
        [property: JsonPropertyName("url")] string Url, [property: JsonPropertyName("dateTime")] string DateTime,
        [property: JsonPropertyName("extra")] string Extra);
}

/// <summary>
/// Measure-NexmarkGenerator's measurement (GeneratorCapacity.MeasureAsync) as the cmdlet runs it, printed with its
/// Runtime and Method, for comparison with nexmark-generator (run it from a Debug and a Release build to see the build's
/// share). PIBENCH_EVENTS: events per stage (default 3,000,000, as in issue 16).
/// </summary>
public static class GeneratorCapacityBenchmark
{
    public static void RegisterAll() => Program.Register("generator-capacity", async _ =>
    {
        var n = Environment.GetEnvironmentVariable("PIBENCH_EVENTS") is { Length: > 0 } v ? long.Parse(v, CultureInfo.InvariantCulture) : 3_000_000;
        var sources = PiBench.Core.Kafka.NexmarkPayloadSources.Create(new PiBench.Core.Kafka.NexmarkSourceSettings
        {
            Profile = "Flink", TotalEvents = n * 2, EventsPerSecond = 0, BaseTime = 1436918400000,
        });
        var cap = await PiBench.Core.Kafka.GeneratorCapacity.MeasureAsync(sources, n, 9, null, CancellationToken.None);
        foreach (var p in cap.GetType().GetProperties())
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {p.Name,-22} {p.GetValue(cap)}"));
    });
}
