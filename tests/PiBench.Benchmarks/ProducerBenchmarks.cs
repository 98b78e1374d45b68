using System.Buffers;
using HdrHistogram;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using PiBench.Core.Kafka;

namespace PiBench.Benchmarks;

/// <summary>
/// Producer benchmarks against the embedded broker (librdkafka mock cluster in this process):
///   producer-vs-kcat   unthrottled produce throughput of the generator run vs kcat (separate process) sending the
///                      same Nexmark Kafka-JSON messages to the same cluster with the same producer settings (goal >= 0.9x).
///   producer-rate      rate accuracy at 10,000 and 100,000 events/s over 30 s: achieved/target (goal within 0.2 %)
///                      and schedule lag p99.
/// Options (environment): PIBENCH_EVENTS (producer-vs-kcat, default 2,000,000: with 500,000 kcat is done in 0.3 s and the
/// per-repetition ratios swung from 0.54x to 1.31x on the 2-core build host), PIBENCH_REPS (default 5), PIBENCH_VARIANTS
/// (default "replay,live"; also "live:block=N", "live:pipelined", "replay:confluent", "live:build=DIR" (the child from
/// another build's output folder, to compare two builds in one run), "live:gen0=HEX" (the child's DOTNET_GCgen0size),
/// "live:env=NAME=VALUE" (any child environment variable; the value cannot hold ':' or ','), and "kcat-same-librdkafka": kcat
/// on PiBench's own librdkafka through LD_LIBRARY_PATH, which shows what the client library alone costs),
/// PIBENCH_SECONDS (producer-rate, default 30).
/// </summary>
public static class ProducerBenchmarks
{
    public static void RegisterAll()
    {
        Program.Register("producer-vs-kcat", VsKcat);
        Program.Register("producer-rate", RateAccuracy);
        Program.Register("internal-producer-child", Child);
    }

    private static long Arg(string[] args, string name, long fallback) =>
        Environment.GetEnvironmentVariable(name) is { Length: > 0 } v ? long.Parse(v, CultureInfo.InvariantCulture) : fallback;

    private static INexmarkPayloadSourceFactory Nexmark(long events) => NexmarkPayloadSources.Create(new NexmarkSourceSettings
    {
        Profile = "Flink", TotalEvents = events, EventsPerSecond = 0, BaseTime = 1436918400000,
    });

    /// <summary>
    /// Replays pre-serialised messages: the producer path alone. The messages are kcat's input file read into one array
    /// and walked in order (like kcat's buffered read of the same file), not one object per message scattered over the heap.
    /// </summary>
    private sealed class Replay(byte[] data, int[] ends) : INexmarkPayloadSourceFactory
    {
        private static (string File, byte[] Data)? s_loaded; // the warm-up runs and the measured run share one copy

        public static Replay Load(string file, long n)
        {
            if (s_loaded is not { } l || l.File != file) s_loaded = l = (file, File.ReadAllBytes(file));
            var data = l.Data;
            var ends = new List<int>();
            for (var at = 0; ends.Count < n && at < data.Length;)
            {
                var nl = Array.IndexOf(data, (byte)'\n', at);
                if (nl < 0) nl = data.Length;
                ends.Add(nl);
                at = nl + 1;
            }
            return new Replay(data, ends.ToArray());
        }

        public string Description => "replay";
        public long GenerateOnly(long count) => Math.Min(count, ends.Length);
        public INexmarkPayloadSource Create() => new Source(data, ends);
        private sealed class Source(byte[] data, int[] ends) : INexmarkPayloadSource
        {
            private int _i;
            public bool TryNext(IBufferWriter<byte> payload, out long eventTimeMs)
            {
                eventTimeMs = 0;
                if (_i >= ends.Length) return false;
                var start = _i == 0 ? 0 : ends[_i - 1] + 1;
                payload.Write(data.AsSpan(start, ends[_i] - start));
                _i++;
                return true;
            }
        }
    }

    // ------------------------------------------------------------------ producer-vs-kcat
    //
    // Both producers run as separate processes against the same in-process mock broker, so both pay the same
    // loopback TCP and the same broker, and both are measured the same way:
    //   rate       messages / wall time of the producing run (connect, send, final flush until every ack)
    //   CPU        user + system CPU of the producing process over that run (getrusage), per message
    //   peak RSS   highest resident set of the producing process (PiBench: VmHWM reset before the measured run;
    //              kcat: maxrss of the whole short process, GNU time)
    //   mock CPU   CPU of this process (the mock broker) during the run, per message: what each side's batching costs the broker
    // The PiBench child warms up (JIT, client) on a throwaway topic first; kcat is warmed by one unmeasured run
    // (page cache, mock). The order of the sides alternates from repetition to repetition.

    private const string ChildPrefix = "RESULT ";

    [StructLayout(LayoutKind.Sequential)]
    private struct RUsage
    {
        public long UtimeSec, UtimeUsec, StimeSec, StimeUsec, MaxRss, IxRss, IdRss, IsRss, MinFlt, MajFlt, NSwap, InBlock, OuBlock, MsgSnd, MsgRcv, NSignals, NvCsw, NivCsw;
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int getrusage(int who, out RUsage usage);

    /// <summary>User + system CPU of this process so far, in nanoseconds.</summary>
    private static long ProcessCpuNs()
    {
        if (getrusage(0 /* RUSAGE_SELF */, out var u) != 0) throw new InvalidOperationException("getrusage failed");
        return (u.UtimeSec + u.StimeSec) * 1_000_000_000L + (u.UtimeUsec + u.StimeUsec) * 1000L;
    }

    private static long ProcStatusKb(string field)
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
            if (line.StartsWith(field + ":", StringComparison.Ordinal))
                return long.Parse(line[(field.Length + 1)..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
        return -1;
    }

    private sealed record Side(string Name, double Rate, double CpuNsPerEvent, double PeakRssMb, double MockNsPerEvent, string Note)
    {
        /// <summary>PiBench: CPU of the sender thread alone per message (NaN for kcat).</summary>
        public double SenderNsPerEvent { get; init; } = double.NaN;
    }

    private static double Median(IEnumerable<double> xs)
    {
        var a = xs.OrderBy(x => x).ToArray();
        return a.Length % 2 == 1 ? a[a.Length / 2] : (a[a.Length / 2 - 1] + a[a.Length / 2]) / 2;
    }

    private static string[] KcatSettings => new[] { "acks=all", "enable.idempotence=true", "linger.ms=20", "batch.size=1000000",
        "compression.type=lz4", "queue.buffering.max.messages=500000", "message.timeout.ms=30000" };

    /// <summary>
    /// A folder holding librdkafka.so.1 = the librdkafka file this process (and the PiBench child) uses, so kcat can run
    /// on the same client library through LD_LIBRARY_PATH (librdkafka keeps its C ABI across versions).
    /// </summary>
    private static string SameLibraryFolder()
    {
        var lib = RdKafkaNative.LibraryPath ?? throw new InvalidOperationException("the librdkafka file of this process is not known");
        var dir = Path.Combine(Path.GetTempPath(), $"pibench-kcat-lib-{Environment.ProcessId}");
        Directory.CreateDirectory(dir);
        var link = Path.Combine(dir, "librdkafka.so.1");
        if (File.Exists(link)) File.Delete(link);
        File.CreateSymbolicLink(link, lib);
        return dir;
    }

    /// <summary>The variant name for kcat on PiBench's librdkafka (see <see cref="SameLibraryFolder"/>).</summary>
    private const string KcatSameLibrary = "kcat-same-librdkafka";

    private static Side RunKcat(EmbeddedKafkaCluster c, string topic, string file, long n, string name = "kcat", string? libraryFolder = null)
    {
        var timeFile = Path.Combine(Path.GetTempPath(), $"pibench-kcat-time-{Environment.ProcessId}.txt");
        var psi = new ProcessStartInfo("/usr/bin/time") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        if (libraryFolder is not null) psi.Environment["LD_LIBRARY_PATH"] = libraryFolder;
        foreach (var a in new[] { "-o", timeFile, "-f", "%e %U %S %M", "kcat", "-P", "-b", c.BootstrapServers, "-t", topic, "-l" }) psi.ArgumentList.Add(a);
        foreach (var x in KcatSettings) { psi.ArgumentList.Add("-X"); psi.ArgumentList.Add(x); }
        psi.ArgumentList.Add(file);
        var mock0 = ProcessCpuNs();
        using var p = Process.Start(psi) ?? throw new InvalidOperationException("kcat did not start");
        var err = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromMinutes(5))) { p.Kill(); throw new TimeoutException("kcat did not finish in 5 minutes"); }
        var mock = ProcessCpuNs() - mock0;
        if (p.ExitCode != 0) throw new InvalidOperationException($"kcat exited {p.ExitCode}: {err.Result}");
        var t = File.ReadAllText(timeFile).Trim().Split('\n')[^1].Split(' ');
        File.Delete(timeFile);
        double wall = double.Parse(t[0], CultureInfo.InvariantCulture), cpu = double.Parse(t[1], CultureInfo.InvariantCulture) + double.Parse(t[2], CultureInfo.InvariantCulture);
        var marks = KafkaTopicAdmin.QueryWatermarks(c.BootstrapServers, topic, 9, TimeSpan.FromSeconds(10));
        var high = marks.Sum(m => m.High);
        if (high != n) throw new InvalidOperationException($"kcat delivered {high} of {n} (watermarks)");
        return new Side(name, n / wall, cpu * 1e9 / n, long.Parse(t[3], CultureInfo.InvariantCulture) / 1024.0, mock / (double)n,
            "whole process (GNU time)" + (libraryFolder is null ? "" : ", librdkafka " + Confluent.Kafka.Library.VersionString + " via LD_LIBRARY_PATH"));
    }

    private static Side RunPiBenchChild(EmbeddedKafkaCluster c, string topic, string warmTopic, string file, long n, string variant)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardError = true, RedirectStandardOutput = true, RedirectStandardInput = true, UseShellExecute = false };
        // options the parent applies (ChildVariant ignores them): "build=DIR" runs the child from another build's output
        // folder (compare two builds in one run); "env=NAME=VALUE" sets a child environment variable (e.g.
        // GLIBC_TUNABLES=glibc.malloc.trim_threshold=N); "gen0=HEX" is env=DOTNET_GCgen0size=HEX (the child's GC gen0 budget)
        string? build = null;
        foreach (var opt in variant.Split(':').Skip(1).Select(o => o.Split('=', 2)).Where(o => o.Length == 2))
        {
            if (opt[0] == "build") build = opt[1];
            else if (opt[0] == "gen0") psi.Environment["DOTNET_GCgen0size"] = opt[1];
            else if (opt[0] == "env") { var nv = opt[1].Split('=', 2); psi.Environment[nv[0]] = nv.Length > 1 ? nv[1] : ""; }
        }
        psi.ArgumentList.Add(build is null ? typeof(ProducerBenchmarks).Assembly.Location
            : Path.Combine(build, Path.GetFileName(typeof(ProducerBenchmarks).Assembly.Location)));
        psi.ArgumentList.Add("internal-producer-child");
        psi.Environment["PIBENCH_CHILD_BOOTSTRAP"] = c.BootstrapServers;
        psi.Environment["PIBENCH_CHILD_TOPIC"] = topic;
        psi.Environment["PIBENCH_CHILD_WARM_TOPIC"] = warmTopic;
        psi.Environment["PIBENCH_CHILD_FILE"] = file;
        psi.Environment["PIBENCH_CHILD_N"] = n.ToString(CultureInfo.InvariantCulture);
        psi.Environment["PIBENCH_CHILD_VARIANT"] = variant;
        using var p = Process.Start(psi) ?? throw new InvalidOperationException("the PiBench child did not start");
        var err = p.StandardError.ReadToEndAsync();
        string? line;
        while ((line = p.StandardOutput.ReadLine()) is not null && line != "READY") { }
        if (line is null) throw new InvalidOperationException("the PiBench child ended before it was ready: " + err.Result);
        var mock0 = ProcessCpuNs();
        p.StandardInput.WriteLine("go");
        p.StandardInput.Flush();
        string? result = null;
        while ((line = p.StandardOutput.ReadLine()) is not null) if (line.StartsWith(ChildPrefix, StringComparison.Ordinal)) { result = line; break; }
        var mock = ProcessCpuNs() - mock0;
        p.StandardOutput.ReadToEnd();
        if (!p.WaitForExit(TimeSpan.FromMinutes(5))) { p.Kill(); throw new TimeoutException("the PiBench child did not finish"); }
        if (result is null || p.ExitCode != 0) throw new InvalidOperationException($"the PiBench child failed ({p.ExitCode}): {err.Result}");
        var kv = result[ChildPrefix.Length..].Split(' ').Select(x => x.Split('=', 2)).ToDictionary(x => x[0], x => x[1]);
        double D(string k) => double.Parse(kv[k], CultureInfo.InvariantCulture);
        if (D("acked") != n || D("sent") != D("acked") + D("failed")) throw new InvalidOperationException("PiBench run incomplete: " + result);
        var marks = KafkaTopicAdmin.QueryWatermarks(c.BootstrapServers, topic, 9, TimeSpan.FromSeconds(10));
        if (marks.Sum(m => m.High) != n) throw new InvalidOperationException($"PiBench delivered {marks.Sum(m => m.High)} of {n} (watermarks)");
        return new Side(variant, n / D("wall"), D("cpu") * 1e9 / n, D("hwm") / 1024.0, mock / (double)n,
            $"{kv["client"]}, sender thread {D("sendercpu") * 1e9 / n:F0} ns/msg, partition block {kv["block"]}, s: setup {kv["setup"]} (of it waiting for the producer id {kv["ready"]}) send {kv["send"]} flush {kv["flush"]} close {kv["close"]}; {kv["warmups"]} warm-up runs, {kv["jit"]} methods compiled during the run")
        { SenderNsPerEvent = D("sendercpu") * 1e9 / n };
    }

    /// <summary>Parses "live", "replay", "live:block=64", "live:pipelined", "replay:confluent" into run options and a source.</summary>
    private static (ProducerRunOptions Options, INexmarkPayloadSourceFactory Source) ChildVariant(string variant, long n, string file)
    {
        var parts = variant.Split(':');
        var o = new ProducerRunOptions { EventsPerSecond = 0, TotalEvents = n };
        foreach (var opt in parts.Skip(1))
        {
            var kv = opt.Split('=', 2);
            switch (kv[0])
            {
                case "block": o.PartitionBlock = int.Parse(kv[1], CultureInfo.InvariantCulture); break;
                case "pipelined": o.PipelineGeneration = true; break;
                case "confluent": o.NativeClient = false; break;
                case "build": break; // read by the parent: which build's child runs
                case "gen0": case "env": break; // read by the parent: the child's environment
                default: throw new ArgumentException("unknown variant option " + opt);
            }
        }
        INexmarkPayloadSourceFactory src = parts[0] switch
        {
            "replay" => Replay.Load(file, n),
            "live" => Nexmark(n),
            _ => throw new ArgumentException("unknown variant " + variant),
        };
        return (o, src);
    }

    private static async Task Child(string[] args)
    {
        string E(string k) => Environment.GetEnvironmentVariable(k) ?? throw new InvalidOperationException(k + " is not set");
        var n = long.Parse(E("PIBENCH_CHILD_N"), CultureInfo.InvariantCulture);
        var bootstrap = E("PIBENCH_CHILD_BOOTSTRAP");
        // warm-up on throwaway topics (JIT tiers, the Kafka client, the source): runs of 100,000 events until one run
        // makes the JIT compile almost nothing (tiering promotes a method only after call counting has started, so one
        // run followed by a pause is not enough), at most 6 runs
        var warmN = Math.Min(n, 100_000);
        var warmRuns = 0;
        for (var w = 0; w < 6; w++)
        {
            var jit0 = System.Runtime.JitInfo.GetCompiledMethodCount();
            var (wo, ws) = ChildVariant(E("PIBENCH_CHILD_VARIANT"), warmN, E("PIBENCH_CHILD_FILE"));
            wo.BootstrapServers = bootstrap; wo.Topic = E("PIBENCH_CHILD_WARM_TOPIC");
            var warm = await NexmarkGeneratorRun.StartAsync(wo, ws, null, CancellationToken.None);
            await warm.WaitAsync(CancellationToken.None);
            if (warm.GetError() is { } we) throw we;
            Thread.Sleep(500); // background compiles finish
            var compiled = System.Runtime.JitInfo.GetCompiledMethodCount() - jit0;
            warmRuns = w + 1;
            if (w >= 1 && compiled < 10) break;
        }
        var (o, src) = ChildVariant(E("PIBENCH_CHILD_VARIANT"), n, E("PIBENCH_CHILD_FILE"));
        o.BootstrapServers = bootstrap; o.Topic = E("PIBENCH_CHILD_TOPIC");
        GC.Collect(); GC.WaitForPendingFinalizers();
        Console.WriteLine("READY");
        Console.In.ReadLine();
        try { File.WriteAllText("/proc/self/clear_refs", "5"); } catch (IOException) { } catch (UnauthorizedAccessException) { } // reset VmHWM
        var cpu0 = ProcessCpuNs();
        var jitBefore = System.Runtime.JitInfo.GetCompiledMethodCount();
        var t0 = Stopwatch.GetTimestamp();
        var sw = Stopwatch.StartNew();
        var run = await NexmarkGeneratorRun.StartAsync(o, src, null, CancellationToken.None);
        await run.WaitAsync(CancellationToken.None);
        sw.Stop();
        var t1 = Stopwatch.GetTimestamp();
        double F(long ticks) => ticks / (double)Stopwatch.Frequency;
        var cpu = ProcessCpuNs() - cpu0;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{ChildPrefix}wall={sw.Elapsed.TotalSeconds:R} cpu={cpu / 1e9:R} sendercpu={run.SenderCpuNs / 1e9:R} hwm={ProcStatusKb("VmHWM")} sent={run.Sent} acked={run.Acknowledged} failed={run.Failed} client={run.Client} state={run.State} block={run.PartitionBlock} setup={F(run.StartTicks - t0):F3} ready={run.ReadySeconds:F3} send={F(run.LastSendTicks - run.StartTicks):F3} flush={F(run.FlushedTicks - run.LastSendTicks):F3} close={F(t1 - run.FlushedTicks):F3} warmups={warmRuns} jit={System.Runtime.JitInfo.GetCompiledMethodCount() - jitBefore}"));
    }

    private static async Task VsKcat(string[] args)
    {
        var n = Arg(args, "PIBENCH_EVENTS", 2_000_000);
        var reps = (int)Arg(args, "PIBENCH_REPS", 5);
        var variants = (Environment.GetEnvironmentVariable("PIBENCH_VARIANTS") is { Length: > 0 } v ? v : "replay,live").Split(',', StringSplitOptions.TrimEntries);
        Console.WriteLine($"{n:N0} Nexmark Flink-profile Kafka-JSON messages, 9 partitions, 1 mock broker (librdkafka {Confluent.Kafka.Library.VersionString}, in this process); both producers are separate processes");
        Console.WriteLine($"producer settings on both sides: {string.Join(" ", KcatSettings)}; kcat -P -l (keyless: librdkafka's sticky partitioner), PiBench: its own partition assignment");
        Console.WriteLine($"kcat: {FirstLine("kcat", "-V")}; host: {Environment.ProcessorCount} cores, load {File.ReadAllText("/proc/loadavg").Trim()}");
        var file = Path.Combine(Path.GetTempPath(), $"pibench-kcat-{Environment.ProcessId}.jsonl");
        var buf = new ArrayBufferWriter<byte>();
        var src = Nexmark(n).Create();
        await using (var fs = File.Create(file))
        {
            for (long i = 0; i < n; i++)
            {
                buf.ResetWrittenCount();
                if (!src.TryNext(buf, out _)) break;
                if (buf.WrittenSpan.Contains((byte)'\n')) throw new InvalidOperationException("a message contains a newline");
                fs.Write(buf.WrittenSpan);
                fs.WriteByte((byte)'\n');
            }
        }
        try
        {
            var rows = new List<Dictionary<string, Side>>();
            using (var c = EmbeddedKafkaCluster.Start(1))
            {
                c.CreateTopic("warm-kcat", 9, 1);
                RunKcat(c, "warm-kcat", file, n); // page cache, mock
            }
            for (var rep = 1; rep <= reps; rep++)
            {
                using var c = EmbeddedKafkaCluster.Start(1);
                var order = new[] { "kcat" }.Concat(variants).ToList();
                if (rep % 2 == 0) order.Reverse();
                var row = new Dictionary<string, Side>();
                foreach (var side in order)
                {
                    var topic = $"t{rep}-{row.Count}";
                    c.CreateTopic(topic, 9, 1);
                    if (side == "kcat") row[side] = RunKcat(c, topic, file, n);
                    else if (side == KcatSameLibrary) row[side] = RunKcat(c, topic, file, n, side, SameLibraryFolder());
                    else { c.CreateTopic(topic + "-warm", 9, 1); row[side] = RunPiBenchChild(c, topic, topic + "-warm", file, n, side); }
                }
                rows.Add(row);
                var k = row["kcat"];
                Console.WriteLine($"rep {rep} (order {string.Join(", ", order)}):");
                foreach (var side in new[] { "kcat" }.Concat(variants))
                {
                    var s = row[side];
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"  {side,-22} {s.Rate,9:N0} msg/s = {s.Rate / k.Rate,5:F2}x  CPU {s.CpuNsPerEvent,6:F0} ns/msg = {s.CpuNsPerEvent / k.CpuNsPerEvent,5:F2}x  peak RSS {s.PeakRssMb,6:F0} MB  mock CPU {s.MockNsPerEvent,5:F0} ns/msg  ({s.Note})"));
                }
            }
            Console.WriteLine($"median of {reps} (min-max of the per-repetition ratios), each ratio against kcat in the same repetition:");
            var kr = Median(rows.Select(r => r["kcat"].Rate));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  kcat                   {kr,9:N0} msg/s  CPU {Median(rows.Select(r => r["kcat"].CpuNsPerEvent)),6:F0} ns/msg  peak RSS {Median(rows.Select(r => r["kcat"].PeakRssMb)),6:F0} MB"));
            double[] RateRatios(string side) => rows.Select(r => r[side].Rate / r["kcat"].Rate).ToArray(); // per repetition
            foreach (var side in variants)
            {
                var rr = RateRatios(side);
                var cr = rows.Select(r => r[side].CpuNsPerEvent / r["kcat"].CpuNsPerEvent).ToArray();
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"  PiBench {side,-14} rate {Median(rr):F2}x ({rr.Min():F2}-{rr.Max():F2})  CPU/msg {Median(cr):F2}x ({cr.Min():F2}-{cr.Max():F2}) = {Median(rows.Select(r => r[side].CpuNsPerEvent)):F0} ns (sender thread {Median(rows.Select(r => r[side].SenderNsPerEvent)):F0} ns)  peak RSS {Median(rows.Select(r => r[side].PeakRssMb)):F0} MB"));
            }
            Console.WriteLine($"goal: live >= 0.90x, replay >= 1.00x of kcat's rate; load {File.ReadAllText("/proc/loadavg").Trim()}");
            foreach (var (side, goal) in new[] { ("live", 0.90), ("replay", 1.00) })
            {
                if (!variants.Contains(side)) continue;
                var rr = RateRatios(side);
                var median = Median(rr);
                var met = rr.Count(x => x >= goal);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"  {side}: {(median >= goal ? "met" : "NOT met")} by the median ({median:F2}x against {goal:F2}x); {met} of {rows.Count} repetitions reached it"));
            }
        }
        finally
        {
            File.Delete(file);
        }
    }

    private static string FirstLine(string exe, string arg)
    {
        try
        {
            var psi = new ProcessStartInfo(exe, arg) { RedirectStandardOutput = true, RedirectStandardError = true };
            using var p = Process.Start(psi)!;
            var all = p.StandardOutput.ReadToEnd() + p.StandardError.ReadToEnd();
            p.WaitForExit();
            return all.Split('\n').FirstOrDefault(l => l.Contains("librdkafka", StringComparison.Ordinal))?.Trim() ?? all.Split('\n')[0].Trim();
        }
        catch (System.ComponentModel.Win32Exception) { return "not installed"; }
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
