using HdrHistogram;
using PiBench.Core.Benchmarking;

namespace PiBench.Core.Tests.Reporting;

/// <summary>
/// Results files written through the product's own writers: ResultsFiles.Write for the .json and .txt,
/// LatencyRecorder.WriteIntervalLog for each cell's .hlog, ClusterMetricFile for node samples. The latencies each
/// recorder got are kept, so tests can compute the expected merged percentiles independently of the report.
/// </summary>
internal sealed class WrittenRun
{
    public string JsonPath { get; init; } = "";
    public BenchmarkRunDocument Document { get; init; } = new();
    /// <summary>Per repetition: every latency recorded, microseconds.</summary>
    public Dictionary<(string Query, int Rep), List<long>> Latencies { get; } = new();
}

internal static class ReportFixtures
{
    public static WrittenRun WriteFixedRun(string dir, string system, DateTimeOffset startedAt, int reps, double rateScale, int seed,
        int invalidRep = 0, string[]? queries = null, Action<BenchmarkResult>? tweak = null)
    {
        queries ??= new[] { "q1", "q5" };
        var rng = new Random(seed);
        var doc = new BenchmarkRunDocument
        {
            System = system, EngineVersion = system == "Flink" ? "1.18.1" : "0.11.0", Seed = 42, TargetRate = 10_000, TotalEvents = 1_000_000,
            Parallelism = 3, Repetitions = reps, WarmupSeconds = 5, MeasureSeconds = 20, Queries = queries.ToList(), StartedAt = startedAt,
            Images = new() { [system.ToLowerInvariant()] = system == "Flink" ? "flink:1.18.1-scala_2.12-java11" : "ghcr.io/arroyosystems/arroyo:0.11.0", ["kafka"] = "apache/kafka:3.7.1" },
            TopologyName = "rack", Nodes = new()
            {
                new NodeFact { Node = "pi1", Address = "192.168.1.101", Role = "Controller", Model = "Raspberry Pi 4 Model B Rev 1.4", Kernel = "6.6.31", Architecture = "aarch64", TemperatureC = 48.2, ThrottledFlags = "0x0" },
                new NodeFact { Node = "pi2", Address = "192.168.1.102", Role = "Worker", Model = "Raspberry Pi 4 Model B Rev 1.4", Kernel = "6.6.31", Architecture = "aarch64", TemperatureC = 51.0, ThrottledFlags = "0x0" },
            },
            State = "Completed", EndedAt = startedAt.AddMinutes(10),
        };
        var run = new WrittenRun { JsonPath = "", Document = doc };
        var baseName = ResultsFiles.BaseName(startedAt);
        var t = startedAt.AddSeconds(10);
        foreach (var q in queries)
            for (var rep = 1; rep <= reps; rep++)
            {
                var valid = rep != invalidRep;
                var r = new BenchmarkResult
                {
                    System = system, Query = q, Repetition = rep, Parallelism = 3, TargetRate = 10_000,
                    InputRate = Math.Round(10_000 * rateScale * (0.97 + 0.02 * rng.NextDouble()), 2),
                    OutputRate = Math.Round((q == "q1" ? 10_000 : 40) * rateScale * (0.97 + 0.02 * rng.NextDouble()), 2),
                    EngineCpuCoreSeconds = Math.Round(20 / rateScale * (0.9 + 0.2 * rng.NextDouble()), 3),
                    CpuCoreSeconds = Math.Round(60 * (0.9 + 0.2 * rng.NextDouble()), 3),
                    EngineMemoryPeakMB = Math.Round(900 + 200 * rng.NextDouble(), 1), MemoryPeakMB = Math.Round(2400 + 300 * rng.NextDouble(), 1),
                    Valid = valid, InvalidReason = valid ? "" : "consumer lag unbounded: grew 812 events/s over the window",
                    Status = "Completed", Seed = 42, EngineVersion = doc.EngineVersion, StartedAt = t, DurationS = 20,
                    LatencyReference = "event time of the bid", LatencyClock = "broker", RateSource = "input: engine counters over 20 s; output: engine counters over 20 s",
                };
                var recorder = new LatencyRecorder();
                var values = new List<long>();
                var baseMs = t.ToUnixTimeMilliseconds();
                var scale = system == "Flink" ? 1.0 : 1.6;
                for (var i = 0; i < 4000; i++)
                {
                    var micros = (long)(scale * 1000 * (20 + 80 * -Math.Log(1 - rng.NextDouble())));
                    recorder.RecordMicros(baseMs + i * 5, micros);
                    values.Add(micros);
                }
                r.LatencyP50Ms = recorder.PercentileMs(50);
                r.LatencyP99Ms = recorder.PercentileMs(99);
                r.LatencyP999Ms = recorder.PercentileMs(99.9);
                r.LatencyMaxMs = recorder.MaxMs;
                tweak?.Invoke(r);
                Directory.CreateDirectory(dir);
                recorder.WriteIntervalLog(Path.Combine(dir, $"{baseName}_{q}_r{rep}.hlog"), t);
                run.Latencies[(q, rep)] = values;
                doc.Results.Add(r);
                t = t.AddSeconds(40);
            }
        var (_, json) = ResultsFiles.Write(dir, baseName, doc);
        var written = new WrittenRun { JsonPath = json, Document = doc };
        foreach (var kv in run.Latencies) written.Latencies[kv.Key] = kv.Value;
        return written;
    }

    /// <summary>A sustainable-mode results file: per query and repetition a search with bounds (one that found none).</summary>
    public static string WriteSustainableRun(string dir, string system, DateTimeOffset startedAt)
    {
        var doc = new BenchmarkRunDocument { System = system, Mode = "Sustainable", StartedAt = startedAt, TargetRate = 10_000, Repetitions = 2, Queries = new() { "q1" }, State = "Completed" };
        doc.Searches.Add(new SustainableThroughputResult { System = system, Query = "q1", Repetition = 1, SustainableRate = 40_000, FailingRate = 45_000, LimitedBy = "Engine", Status = "Completed", Steps = 6, StepRates = "10000:pass 20000:pass 40000:pass 80000:fail 60000:fail 45000:fail", Reason = "consumer lag unbounded" });
        doc.Searches.Add(new SustainableThroughputResult { System = system, Query = "q1", Repetition = 2, SustainableRate = 42_500, FailingRate = 45_000, LimitedBy = "Engine", Status = "Completed", Steps = 6, StepRates = "...", Reason = "consumer lag unbounded" });
        doc.Searches.Add(new SustainableThroughputResult { System = system, Query = "q5", Repetition = 1, SustainableRate = double.NaN, FailingRate = 10_000, LimitedBy = "Engine", Status = "Completed", Steps = 2, StepRates = "10000:fail 5000:fail", Reason = "job restarted" });
        doc.Results.Add(new BenchmarkResult { System = system, Query = "q1", Repetition = 1, Step = 1, TargetRate = 10_000, InputRate = 9_990, Valid = true, Status = "Completed", StartedAt = startedAt, DurationS = 20 });
        return ResultsFiles.Write(dir, ResultsFiles.BaseName(startedAt), doc).Json;
    }

    /// <summary>Node samples over the runs' windows through ClusterMetricFile (Get-ClusterMetric -Path's writer); pi2 throttles once.</summary>
    public static string WriteMetrics(string dir, DateTimeOffset from, int seconds)
    {
        var path = Path.Combine(dir, "metrics.jsonl");
        using var f = new ClusterMetricFile(path);
        foreach (var node in new[] { "pi1", "pi2", "pi3" })
            for (var s = 0; s < seconds; s += 2)
                f.Append(new ClusterMetricSample
                {
                    Node = node, Timestamp = from.AddSeconds(s), IntervalSeconds = 2, CpuPercent = 20 + (node == "pi2" ? 50 : 10) * Math.Abs(Math.Sin(s / 30.0)),
                    CpuCores = 4, MemoryUsedMB = 1500 + s, MemoryTotalMB = 8000, NetworkRxBytesPerSec = 2e6 + s * 1000, NetworkTxBytesPerSec = 1e6,
                    TemperatureC = 50 + s / 20.0, Throttled = node == "pi2" && s == 100, ThrottledFlags = node == "pi2" && s == 100 ? "0x50005" : "0x0", Sequence = s,
                });
        return path;
    }

    /// <summary>The merged histogram of raw latencies (what the report should show), built without any .hlog.</summary>
    public static LongHistogram Histogram(IEnumerable<long> micros)
    {
        var h = new LongHistogram(1, 3_600_000_000L, 3);
        foreach (var v in micros) h.RecordValue(Math.Max(1, v));
        return h;
    }
}
