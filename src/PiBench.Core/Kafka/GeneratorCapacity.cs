using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Runtime;
using System.Runtime.InteropServices;

namespace PiBench.Core.Kafka;

/// <summary>What this host sustains: Measure-NexmarkGenerator's result.</summary>
public sealed class NexmarkGeneratorCapacity
{
    public string Source { get; init; } = "";
    public long Events { get; init; }
    /// <summary>Events per CPU-second generated, not serialised: one thread, per core (see <see cref="Method"/>).</summary>
    public double GenerationRate { get; init; }
    /// <summary>Events per CPU-second generated and serialised to Kafka JSON: one thread, per core (see <see cref="Method"/>).</summary>
    public double SerializationRate { get; init; }
    /// <summary>The same work per wall-clock second: lower than SerializationRate when other processes took the core.</summary>
    public double SerializationWallRate { get; init; }
    /// <summary>Events per second produced unthrottled into the embedded broker (generation and serialisation included; wall clock).</summary>
    public double ProduceRate { get; init; }
    /// <summary>CPU of this process per event while producing (all threads: sender, librdkafka, and the embedded broker), ns.</summary>
    public double ProduceCpuNsPerEvent { get; init; }
    /// <summary>The stage with the largest cost per event: Generation, Serialization or Produce.</summary>
    public string Bottleneck { get; init; } = "";
    public double MeanEventBytes { get; init; }
    /// <summary>Highest rate worth asking for on this host: the produce rate (the whole path).</summary>
    public double SustainableRate { get; init; }
    public int Partitions { get; init; }
    public int ProcessorCount { get; init; }
    /// <summary>How the code ran: build (optimised or not), runtime, JIT tiering and PGO, GC mode.</summary>
    public string Runtime { get; init; } = "";
    /// <summary>How the rates were measured.</summary>
    public string Method { get; init; } = "";
    public string Note { get; init; } = "";
}

public static class GeneratorCapacity
{
    private const int Rounds = 3;

    /// <summary>
    /// Times generation alone and generation + Kafka-JSON serialisation on one dedicated thread, then the whole produce
    /// path against a fresh embedded broker (librdkafka mock, in process). The first two are per core: each stage is warmed
    /// up (JIT tiers) first, then measured in <see cref="Rounds"/> interleaved rounds, and each rate is events / CPU time of
    /// the measuring thread (CLOCK_THREAD_CPUTIME_ID; wall time where that clock is unavailable), median of the rounds, so
    /// other processes on the host do not lower it. Per-event costs: generation = 1/G, serialisation = 1/S - 1/G,
    /// produce = 1/P - 1/S; the largest one is the bottleneck.
    /// </summary>
    public static async Task<NexmarkGeneratorCapacity> MeasureAsync(INexmarkPayloadSourceFactory sources, long events, int partitions,
        IProgressSink? progress, CancellationToken cancellationToken)
    {
        if (events < 1000)
            throw new PiBenchException("InvalidEventCount", PiBenchErrorCategory.InvalidArgument,
                $"Measure at least 1000 events, not {events}.", events);
        var p = progress ?? NullProgress.Instance;
        const string activity = "Measure Nexmark generator";

        p.Report(activity, "generation and serialisation (one thread)", 0);
        CoreResult core = default;
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try { core = MeasureOneCore(sources, events, cancellationToken); }
            catch (Exception ex) { failure = ex; }
        }) { IsBackground = true, Name = "pibench-capacity" };
        thread.Start();
        await Task.Run(thread.Join, CancellationToken.None).ConfigureAwait(false);
        if (failure is OperationCanceledException) throw failure;
        if (failure is not null) throw new PiBenchException("CapacityMeasurementFailed", PiBenchErrorCategory.InvalidOperation,
            "Measuring the generator failed: " + failure.Message, sources.Description, null, failure);
        cancellationToken.ThrowIfCancellationRequested();

        p.Report(activity, "produce into the embedded broker", 60);
        using var cluster = EmbeddedKafkaCluster.Start(1);
        const string topic = "pibench-capacity";
        cluster.CreateTopic(topic, partitions, 1);
        var cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
        var run = await NexmarkGeneratorRun.StartAsync(new ProducerRunOptions
        {
            BootstrapServers = cluster.BootstrapServers, Topic = topic, EventsPerSecond = 0, TotalEvents = core.Events,
        }, sources, null, cancellationToken).ConfigureAwait(false);
        try { await run.WaitAsync(cancellationToken).ConfigureAwait(false); }
        catch (OperationCanceledException) { await run.StopAsync(CancellationToken.None).ConfigureAwait(false); throw; }
        if (run.GetError() is { } err) throw err;
        var produceCpu = Process.GetCurrentProcess().TotalProcessorTime - cpu0;
        var prodRate = run.AchievedRate;
        p.Report(activity, "done", 100);

        double genRate = core.GenerationRate, serRate = core.SerializationRate;
        double tGen = 1 / genRate, tSer = Math.Max(0, 1 / serRate - tGen), tProd = Math.Max(0, 1 / prodRate - 1 / serRate);
        var pipelined = new ProducerRunOptions().PipelineGeneration;
        var upstream = tSer >= tGen ? "Serialization" : "Generation";
        // pipelined: generation runs on its own thread, so the run is as fast as the slower of the two threads
        var bottleneck = pipelined
            ? (prodRate < 0.95 * serRate ? "Produce" : upstream)
            : (tProd >= tSer && tProd >= tGen ? "Produce" : upstream);
        var runtime = DescribeRuntime();
        return new NexmarkGeneratorCapacity
        {
            Source = sources.Description,
            Events = core.Events,
            GenerationRate = Math.Round(genRate),
            SerializationRate = Math.Round(serRate),
            SerializationWallRate = Math.Round(core.SerializationWallRate),
            ProduceRate = Math.Round(prodRate),
            ProduceCpuNsPerEvent = Math.Round(produceCpu.TotalMilliseconds * 1e6 / Math.Max(1, run.Sent)),
            SustainableRate = Math.Round(prodRate),
            Bottleneck = bottleneck,
            MeanEventBytes = core.Events == 0 ? 0 : Math.Round(core.Bytes / (double)core.Events, 1),
            Partitions = partitions,
            ProcessorCount = Environment.ProcessorCount,
            Runtime = runtime.Text,
            Method = string.Create(CultureInfo.InvariantCulture,
                $"GenerationRate and SerializationRate: one dedicated thread, {core.WarmUp:N0} warm-up events per stage, then {Rounds} interleaved rounds of about {core.Events / Rounds:N0} events per stage; events / {(core.ThreadCpu ? "CPU time of that thread (CLOCK_THREAD_CPUTIME_ID)" : "wall time (no thread CPU clock on this OS)")}, median of the rounds. "
                + $"ProduceRate: {core.Events:N0} events unthrottled into a fresh embedded broker (librdkafka mock in this process, {partitions} partitions), events / wall time from the first send to the last; ProduceCpuNsPerEvent: this process's CPU over that run / events."),
            Note = (runtime.Optimized ? "" : "PiBench.Core is a Debug build (JIT optimiser disabled): every rate is far below what a Release build reaches, build with -c Release; ")
                + (pipelined ? "generator and producer threads pipelined" : "one thread generates and produces")
                + "; the embedded broker shares this host's cores, a real broker on Pi1 adds network and disk"
                + (core.SerializationWallRate < 0.8 * serRate ? string.Create(CultureInfo.InvariantCulture,
                    $"; the measuring thread got {100 * core.SerializationWallRate / serRate:F0} % of a core (other processes were running): wall-clock rates here are lower than the host's capacity") : ""),
        };
    }

    private struct CoreResult
    {
        public long Events, Bytes, WarmUp;
        public double GenerationRate, SerializationRate, SerializationWallRate;
        public bool ThreadCpu;
    }

    private static CoreResult MeasureOneCore(INexmarkPayloadSourceFactory sources, long events, CancellationToken ct)
    {
        var warmUp = Math.Clamp(events / 5, 20_000, 300_000);
        var buffer = new ArrayBufferWriter<byte>(4096);
        // warm-up: enough events for the JIT to reach its optimised tier on both paths
        sources.GenerateOnly(warmUp);
        Serialize(sources, warmUp, buffer, out _);
        var gen = new double[Rounds];
        var ser = new double[Rounds];
        var serWall = new double[Rounds];
        long n = 0, bytes = 0;
        var threadCpu = ThreadCpuClock.Available;
        for (var r = 0; r < Rounds; r++)
        {
            ct.ThrowIfCancellationRequested();
            var perRound = events / Rounds + (r < events % Rounds ? 1 : 0); // the rounds add up to events
            var c0 = ThreadCpuClock.NowNs(); var w0 = Stopwatch.GetTimestamp();
            var g = sources.GenerateOnly(perRound);
            var c1 = ThreadCpuClock.NowNs(); var w1 = Stopwatch.GetTimestamp();
            gen[r] = g / Seconds(c1 - c0, w1 - w0, threadCpu);
            ct.ThrowIfCancellationRequested();
            c0 = ThreadCpuClock.NowNs(); w0 = Stopwatch.GetTimestamp();
            var s = Serialize(sources, perRound, buffer, out var b);
            c1 = ThreadCpuClock.NowNs(); w1 = Stopwatch.GetTimestamp();
            ser[r] = s / Seconds(c1 - c0, w1 - w0, threadCpu);
            serWall[r] = s / ((w1 - w0) / (double)Stopwatch.Frequency);
            n += s; bytes += b;
        }
        return new CoreResult
        {
            Events = n, Bytes = bytes, WarmUp = warmUp, ThreadCpu = threadCpu,
            GenerationRate = Median(gen), SerializationRate = Median(ser), SerializationWallRate = Median(serWall),
        };
    }

    private static double Seconds(long cpuNs, long wallTicks, bool threadCpu) =>
        Math.Max(1e-9, threadCpu ? cpuNs / 1e9 : wallTicks / (double)Stopwatch.Frequency);

    private static long Serialize(INexmarkPayloadSourceFactory sources, long count, ArrayBufferWriter<byte> buffer, out long bytes)
    {
        var src = sources.Create();
        long n = 0;
        bytes = 0;
        while (n < count)
        {
            buffer.ResetWrittenCount();
            if (!src.TryNext(buffer, out _)) break;
            bytes += buffer.WrittenCount;
            n++;
        }
        return n;
    }

    private static double Median(double[] xs)
    {
        var a = xs.Order().ToArray();
        return a.Length % 2 == 1 ? a[a.Length / 2] : (a[a.Length / 2 - 1] + a[a.Length / 2]) / 2;
    }

    /// <summary>Build and runtime settings that change the rates: optimised or Debug build, JIT tiering/PGO, GC mode.</summary>
    internal static (string Text, bool Optimized) DescribeRuntime()
    {
        var debuggable = typeof(GeneratorCapacity).Assembly.GetCustomAttribute<DebuggableAttribute>();
        var optimized = debuggable is null || !debuggable.IsJITOptimizerDisabled;
        static string Switch(string name, bool fallback) =>
            AppContext.TryGetSwitch(name, out var on) ? (on ? "on" : "off") : (fallback ? "on" : "off") + " (default)";
        var tiered = Environment.GetEnvironmentVariable("DOTNET_TieredCompilation") is "0" ? "off (DOTNET_TieredCompilation=0)" : Switch("System.Runtime.TieredCompilation", true);
        var pgo = Environment.GetEnvironmentVariable("DOTNET_TieredPGO") is "0" ? "off (DOTNET_TieredPGO=0)" : Switch("System.Runtime.TieredPGO", true);
        var gc = (GCSettings.IsServerGC ? "server" : "workstation") + (GCSettings.LatencyMode == GCLatencyMode.Batch ? " non-concurrent" : " concurrent") + " GC";
        return (string.Create(CultureInfo.InvariantCulture,
            $"PiBench.Core {(optimized ? "optimised (Release)" : "Debug (JIT optimiser disabled)")}; {RuntimeInformation.FrameworkDescription} {RuntimeInformation.ProcessArchitecture}; tiered compilation {tiered}, tiered PGO {pgo}; {gc}"), optimized);
    }
}

/// <summary>CPU time of the calling thread (Linux CLOCK_THREAD_CPUTIME_ID); unavailable elsewhere.</summary>
internal static class ThreadCpuClock
{
    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec { public long Sec; public long Nsec; }

    [DllImport("libc", EntryPoint = "clock_gettime")]
    private static extern int ClockGetTime(int clockId, out TimeSpec ts);

    private const int ClockThreadCpuTimeId = 3;

    public static readonly bool Available = Probe();

    private static bool Probe()
    {
        if (!OperatingSystem.IsLinux()) return false;
        try { return ClockGetTime(ClockThreadCpuTimeId, out _) == 0; }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException) { return false; }
    }

    /// <summary>Nanoseconds of CPU this thread has used; 0 when <see cref="Available"/> is false.</summary>
    public static long NowNs()
    {
        if (!Available || ClockGetTime(ClockThreadCpuTimeId, out var ts) != 0) return 0;
        return ts.Sec * 1_000_000_000L + ts.Nsec;
    }
}
