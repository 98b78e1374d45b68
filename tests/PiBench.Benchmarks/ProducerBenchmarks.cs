using System.Buffers;
using HdrHistogram;
using System.Diagnostics;
using System.Globalization;
using PiBench.Core.Kafka;

namespace PiBench.Benchmarks;

/// <summary>
/// Producer benchmarks against the embedded broker (librdkafka mock cluster in this process):
///   producer-vs-kcat   unthrottled produce throughput of the generator run vs kcat (separate process) sending the
///                      same Nexmark Kafka-JSON messages to the same cluster with the same producer settings (goal >= 0.9x).
///   producer-rate      rate accuracy at 10,000 and 100,000 events/s over 30 s: achieved/target (goal within 0.2 %)
///                      and schedule lag p99.
/// Options (environment): PIBENCH_EVENTS (producer-vs-kcat, default 500000), PIBENCH_SECONDS (producer-rate, default 30).
/// </summary>
public static class ProducerBenchmarks
{
    public static void RegisterAll()
    {
        Program.Register("producer-vs-kcat", VsKcat);
        Program.Register("producer-rate", RateAccuracy);
    }

    private static long Arg(string[] args, string name, long fallback) =>
        Environment.GetEnvironmentVariable(name) is { Length: > 0 } v ? long.Parse(v, CultureInfo.InvariantCulture) : fallback;

    private static INexmarkPayloadSourceFactory Nexmark(long events) => NexmarkPayloadSources.Create(new NexmarkSourceSettings
    {
        Profile = "Flink", TotalEvents = events, EventsPerSecond = 0, BaseTime = 1436918400000,
    });

    /// <summary>Replays pre-serialised messages: the producer path alone.</summary>
    private sealed class Replay(List<byte[]> messages) : INexmarkPayloadSourceFactory
    {
        public string Description => "replay";
        public long GenerateOnly(long count) => Math.Min(count, messages.Count);
        public INexmarkPayloadSource Create() => new Source(messages);
        private sealed class Source(List<byte[]> m) : INexmarkPayloadSource
        {
            private int _i;
            public bool TryNext(IBufferWriter<byte> payload, out long eventTimeMs)
            {
                eventTimeMs = 0;
                if (_i >= m.Count) return false;
                payload.Write(m[_i++]);
                return true;
            }
        }
    }

    private static async Task<(double Rate, NexmarkGeneratorRun Run)> RunPiBench(EmbeddedKafkaCluster c, string topic, long n, INexmarkPayloadSourceFactory f, bool pipelined = false, int block = 1)
    {
        var sw = Stopwatch.StartNew();
        var run = await NexmarkGeneratorRun.StartAsync(new ProducerRunOptions
        {
            BootstrapServers = c.BootstrapServers, Topic = topic, EventsPerSecond = 0, TotalEvents = n, PipelineGeneration = pipelined, PartitionBlock = block,
        }, f, null, CancellationToken.None);
        await run.WaitAsync(CancellationToken.None);
        sw.Stop();
        if (Environment.GetEnvironmentVariable("PIBENCH_VERBOSE") == "1")
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"    {topic}: wall {sw.Elapsed.TotalSeconds:F3} s, first to last send {n / run.AchievedRate:F3} s (send rate {run.AchievedRate:N0}/s), start to end {run.DurationSeconds:F3} s, last send to flushed {(run.FlushedTicks - run.LastSendTicks) / (double)Stopwatch.Frequency:F3} s, close {(run.ClosedTicks - run.FlushedTicks) / (double)Stopwatch.Frequency:F3} s, client {run.Client}"));
        if (run.Acknowledged != n) throw new InvalidOperationException($"PiBench run {run.State}: {run.Acknowledged}/{n} acknowledged, {run.Error}");
        return (n / sw.Elapsed.TotalSeconds, run);
    }

    private static double Median(IEnumerable<double> xs)
    {
        var a = xs.OrderBy(x => x).ToArray();
        return a.Length % 2 == 1 ? a[a.Length / 2] : (a[a.Length / 2 - 1] + a[a.Length / 2]) / 2;
    }

    private static double RunKcat(EmbeddedKafkaCluster c, string topic, string file, long n)
    {
        var psi = new ProcessStartInfo("kcat")
        {
            RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false,
        };
        foreach (var a in new[] { "-P", "-b", c.BootstrapServers, "-t", topic, "-l",
                     "-X", "acks=all", "-X", "enable.idempotence=true", "-X", "linger.ms=20", "-X", "batch.size=1000000",
                     "-X", "compression.type=lz4", "-X", "queue.buffering.max.messages=500000", file })
            psi.ArgumentList.Add(a);
        var sw = Stopwatch.StartNew();
        using var p = Process.Start(psi) ?? throw new InvalidOperationException("kcat did not start");
        var err = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromMinutes(5))) { p.Kill(); throw new TimeoutException("kcat did not finish in 5 minutes"); }
        sw.Stop();
        if (p.ExitCode != 0) throw new InvalidOperationException($"kcat exited {p.ExitCode}: {err.Result}");
        var marks = KafkaTopicAdmin.QueryWatermarks(c.BootstrapServers, topic, 9, TimeSpan.FromSeconds(10));
        var high = marks.Sum(m => m.High);
        if (high != n) throw new InvalidOperationException($"kcat delivered {high} of {n} (watermarks)");
        return n / sw.Elapsed.TotalSeconds;
    }

    private static async Task VsKcat(string[] args)
    {
        var n = Arg(args, "PIBENCH_EVENTS", 500_000);
        Console.WriteLine($"{n:N0} Nexmark Flink-profile Kafka-JSON messages, 9 partitions, 1 mock broker, acks=all idempotent linger 20 ms 1 MB lz4");
        var file = Path.Combine(Path.GetTempPath(), $"pibench-kcat-{Environment.ProcessId}.jsonl");
        var messages = new List<byte[]>((int)n);
        var buf = new ArrayBufferWriter<byte>();
        var src = Nexmark(n).Create();
        await using (var fs = File.Create(file))
        {
            while (messages.Count < n)
            {
                buf.ResetWrittenCount();
                if (!src.TryNext(buf, out _)) break;
                var m = buf.WrittenSpan.ToArray();
                if (m.Contains((byte)'\n')) throw new InvalidOperationException("a message contains a newline");
                messages.Add(m);
                fs.Write(m);
                fs.WriteByte((byte)'\n');
            }
        }
        try
        {
            var reps = (int)Arg(args, "PIBENCH_REPS", 3);
            var rows = new List<(double K, double R, double L, double P, double B)>();
            for (var rep = 1; rep <= reps; rep++)
            {
                // each rep: kcat and the three PiBench variants back to back on one fresh cluster, so they share its load
                using var c = EmbeddedKafkaCluster.Start(1);
                foreach (var t in new[] { "kcat", "replay", "live", "piped", "block" }) c.CreateTopic(t, 9, 1);
                var kcat = RunKcat(c, "kcat", file, n);
                var (replay, _) = await RunPiBench(c, "replay", n, new Replay(messages));
                var (live, _) = await RunPiBench(c, "live", n, Nexmark(n));
                var (piped, _) = await RunPiBench(c, "piped", n, Nexmark(n), pipelined: true);
                var (blocked, _) = await RunPiBench(c, "block", n, Nexmark(n), block: 1024);
                rows.Add((kcat, replay, live, piped, blocked));
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"rep {rep}: kcat {kcat,9:N0}/s | replay {replay,9:N0}/s = {replay / kcat:F2}x | live {live,9:N0}/s = {live / kcat:F2}x | live pipelined {piped,9:N0}/s = {piped / kcat:F2}x | live, 1024-event partition blocks {blocked,9:N0}/s = {blocked / kcat:F2}x"));
            }
            var med = (k: Median(rows.Select(r => r.K)), r: Median(rows.Select(r => r.R / r.K)), l: Median(rows.Select(r => r.L / r.K)), p: Median(rows.Select(r => r.P / r.K)), b: Median(rows.Select(r => r.B / r.K)));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"median of {reps}: kcat {med.k:N0} msg/s; PiBench replay {med.r:F2}x, live generator {med.l:F2}x, live pipelined {med.p:F2}x, live with 1024-event partition blocks {med.b:F2}x (goal >= 0.90x); load {File.ReadAllText("/proc/loadavg").Trim()}"));
        }
        finally
        {
            File.Delete(file);
        }
    }

    private static async Task RateAccuracy(string[] args)
    {
        var seconds = Arg(args, "PIBENCH_SECONDS", 30);
        // reference in the same run: how late does this host wake a thread that sleeps 1 ms (scheduler/timer jitter)?
        var jitter = new LongHistogram(1, 60_000_000, 3);
        var until = Stopwatch.StartNew();
        while (until.Elapsed < TimeSpan.FromSeconds(5))
        {
            var t0 = Stopwatch.GetTimestamp();
            Thread.Sleep(1);
            jitter.RecordValue(Math.Max(1, (Stopwatch.GetTimestamp() - t0) * 1_000_000 / Stopwatch.Frequency - 1000));
        }
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"host reference: Thread.Sleep(1) oversleep over 5 s: p50 {jitter.GetValueAtPercentile(50) / 1000.0:F2} ms, p99 {jitter.GetValueAtPercentile(99) / 1000.0:F2} ms, max {jitter.GetMaxValue() / 1000.0:F2} ms; load average {File.ReadAllText("/proc/loadavg").Trim()}"));
        foreach (var rate in new[] { 10_000, 100_000 })
        {
            using var c = EmbeddedKafkaCluster.Start(1);
            c.CreateTopic("rate", 9, 1);
            var n = rate * seconds;
            var run = await NexmarkGeneratorRun.StartAsync(new ProducerRunOptions
            {
                BootstrapServers = c.BootstrapServers, Topic = "rate", EventsPerSecond = rate, TotalEvents = n,
            }, NexmarkPayloadSources.Create(new NexmarkSourceSettings { TotalEvents = n, EventsPerSecond = rate }), null, CancellationToken.None);
            var gc0 = GC.CollectionCount(0); var gc2 = GC.CollectionCount(2); var pause0 = GC.GetTotalPauseDuration();
            await run.WaitAsync(CancellationToken.None);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  GC during the run: {GC.CollectionCount(0) - gc0} gen0, {GC.CollectionCount(2) - gc2} gen2, total pause {(GC.GetTotalPauseDuration() - pause0).TotalMilliseconds:F0} ms"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"target {rate,7:N0}/s over {seconds} s: achieved {run.AchievedRate,12:N1}/s = {run.AchievedRate / rate:F5} (|error| {Math.Abs(1 - run.AchievedRate / rate) * 100:F3} %, goal <= 0.2 %), " +
                $"lag p99 {run.ScheduleLagP99Ms:F2} ms, max {run.MaxScheduleLagMs:F2} ms, sent {run.Sent:N0}, acked {run.Acknowledged:N0}, failed {run.Failed:N0}, state {run.State} {run.InvalidReason}"));
        }
    }
}

/// <summary>Diagnostics: schedule lag at 10,000 events/s for a few producer/source variants (PIBENCH_SECONDS, default 5).</summary>
public static class ProducerLagVariants
{
    public static void RegisterAll() => Program.Register("producer-lag-variants", async _ =>
    {
        var seconds = Environment.GetEnvironmentVariable("PIBENCH_SECONDS") is { Length: > 0 } v ? int.Parse(v, CultureInfo.InvariantCulture) : 5;
        const int rate = 10_000;
        var n = rate * seconds;
        var variants = new (string Name, bool Synthetic, Action<ProducerRunOptions> Tweak)[]
        {
            ("nexmark, defaults", false, _ => { }),
            ("synthetic, defaults", true, _ => { }),
            ("nexmark, no compression, linger 5", false, o => { o.Compression = "none"; o.LingerMs = 5; }),
            ("nexmark, no idempotence, acks=1", false, o => { o.EnableIdempotence = false; o.Acks = "1"; }),
        };
        foreach (var (name, synthetic, tweak) in variants)
        {
            using var c = EmbeddedKafkaCluster.Start(1);
            c.CreateTopic("lag", 9, 1);
            var o = new ProducerRunOptions { BootstrapServers = c.BootstrapServers, Topic = "lag", EventsPerSecond = rate, TotalEvents = n };
            tweak(o);
            var pause0 = GC.GetTotalPauseDuration();
            var run = await NexmarkGeneratorRun.StartAsync(o, NexmarkPayloadSources.Create(new NexmarkSourceSettings { TotalEvents = n, EventsPerSecond = rate, Synthetic = synthetic }), null, CancellationToken.None);
            await run.WaitAsync(CancellationToken.None);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{name,-40} achieved/target {run.AchievedRate / rate:F5}  lag p99 {run.ScheduleLagP99Ms,7:F2} ms  max {run.MaxScheduleLagMs,7:F2} ms  GC pause {(GC.GetTotalPauseDuration() - pause0).TotalMilliseconds,5:F0} ms  {run.State}"));
        }
    });
}
