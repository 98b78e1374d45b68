using System.Buffers;
using System.Diagnostics;

namespace PiBench.Core.Kafka;

/// <summary>What this host sustains: Measure-NexmarkGenerator's result.</summary>
public sealed class NexmarkGeneratorCapacity
{
    public string Source { get; init; } = "";
    public long Events { get; init; }
    /// <summary>Events per second generated, not serialised (one core).</summary>
    public double GenerationRate { get; init; }
    /// <summary>Events per second generated and serialised to Kafka JSON (one core).</summary>
    public double SerializationRate { get; init; }
    /// <summary>Events per second produced unthrottled into the embedded broker (generation and serialisation included).</summary>
    public double ProduceRate { get; init; }
    /// <summary>The stage with the largest cost per event: Generation, Serialization or Produce.</summary>
    public string Bottleneck { get; init; } = "";
    public double MeanEventBytes { get; init; }
    /// <summary>Highest rate worth asking for on this host: the produce rate (the whole path).</summary>
    public double SustainableRate { get; init; }
    public int Partitions { get; init; }
    public int ProcessorCount { get; init; }
    public string Note { get; init; } = "";
}

public static class GeneratorCapacity
{
    /// <summary>
    /// Times generation alone, generation + serialisation, and the whole produce path against a fresh embedded
    /// broker (librdkafka mock, in process). Per-event costs: generation = 1/G, serialisation = 1/S - 1/G,
    /// produce = 1/P - 1/S; the largest one is the bottleneck. When generation is pipelined on its own thread
    /// (more than one core), produce is the bottleneck if P &lt; 0.95 S, else the larger upstream stage.
    /// </summary>
    public static async Task<NexmarkGeneratorCapacity> MeasureAsync(INexmarkPayloadSourceFactory sources, long events, int partitions,
        IProgressSink? progress, CancellationToken cancellationToken)
    {
        if (events < 1000)
            throw new PiBenchException("InvalidEventCount", PiBenchErrorCategory.InvalidArgument,
                $"Measure at least 1000 events, not {events}.", events);
        var p = progress ?? NullProgress.Instance;
        const string activity = "Measure Nexmark generator";

        p.Report(activity, "generation", 0);
        sources.GenerateOnly(Math.Min(events / 10, 20_000)); // warm-up (JIT, tables)
        var sw = Stopwatch.StartNew();
        var generated = sources.GenerateOnly(events);
        var genRate = generated / sw.Elapsed.TotalSeconds;
        cancellationToken.ThrowIfCancellationRequested();

        p.Report(activity, "serialization", 30);
        var buffer = new ArrayBufferWriter<byte>(4096);
        var warm = sources.Create();
        for (var i = 0; i < Math.Min(events / 10, 20_000); i++) { buffer.ResetWrittenCount(); if (!warm.TryNext(buffer, out _)) break; }
        var src = sources.Create();
        long n = 0, bytes = 0;
        sw.Restart();
        while (n < events)
        {
            buffer.ResetWrittenCount();
            if (!src.TryNext(buffer, out _)) break;
            bytes += buffer.WrittenCount;
            n++;
        }
        var serRate = n / sw.Elapsed.TotalSeconds;
        cancellationToken.ThrowIfCancellationRequested();

        p.Report(activity, "produce into the embedded broker", 60);
        using var cluster = EmbeddedKafkaCluster.Start(1);
        const string topic = "pibench-capacity";
        cluster.CreateTopic(topic, partitions, 1);
        var run = await NexmarkGeneratorRun.StartAsync(new ProducerRunOptions
        {
            BootstrapServers = cluster.BootstrapServers, Topic = topic, EventsPerSecond = 0, TotalEvents = n,
        }, sources, null, cancellationToken).ConfigureAwait(false);
        try { await run.WaitAsync(cancellationToken).ConfigureAwait(false); }
        catch (OperationCanceledException) { await run.StopAsync(CancellationToken.None).ConfigureAwait(false); throw; }
        if (run.GetError() is { } err) throw err;
        var prodRate = run.AchievedRate;
        p.Report(activity, "done", 100);

        double tGen = 1 / genRate, tSer = Math.Max(0, 1 / serRate - tGen), tProd = Math.Max(0, 1 / prodRate - 1 / serRate);
        var pipelined = new ProducerRunOptions().PipelineGeneration;
        var upstream = tSer >= tGen ? "Serialization" : "Generation";
        // pipelined: generation runs on its own thread, so the run is as fast as the slower of the two threads
        var bottleneck = pipelined
            ? (prodRate < 0.95 * serRate ? "Produce" : upstream)
            : (tProd >= tSer && tProd >= tGen ? "Produce" : upstream);
        return new NexmarkGeneratorCapacity
        {
            Source = sources.Description,
            Events = n,
            GenerationRate = Math.Round(genRate),
            SerializationRate = Math.Round(serRate),
            ProduceRate = Math.Round(prodRate),
            SustainableRate = Math.Round(prodRate),
            Bottleneck = bottleneck,
            MeanEventBytes = n == 0 ? 0 : Math.Round(bytes / (double)n, 1),
            Partitions = partitions,
            ProcessorCount = Environment.ProcessorCount,
            Note = (pipelined ? "generator and producer threads pipelined" : "one thread generates and produces")
                + "; the embedded broker shares this host's cores, a real broker on Pi1 adds network and disk",
        };
    }
}
