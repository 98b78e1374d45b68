using PiBench.Core.Benchmarking;
using Xunit;

namespace PiBench.Core.Tests.Benchmarking;

public sealed class StatisticsTests
{
    [Fact]
    public void Summarize_MeanAndStudentT95_KnownValues()
    {
        // 10, 12, 14: mean 12, sd 2, t(2) = 4.303 -> half width 4.303 * 2 / sqrt(3) = 4.9687
        var s = Statistics.Summarize(new[] { 10.0, 12, 14 });
        Assert.Equal(3, s.Count);
        Assert.Equal(12, s.Mean, 9);
        Assert.Equal(2, s.StdDev, 9);
        Assert.Equal(4.303 * 2 / Math.Sqrt(3), s.HalfWidth, 6);
        Assert.Equal(12 - s.HalfWidth, s.CiLow, 9);
    }

    [Fact]
    public void Summarize_IgnoresNaN_AndSingleValueHasNoInterval()
    {
        var s = Statistics.Summarize(new[] { 5.0, double.NaN });
        Assert.Equal(1, s.Count);
        Assert.Equal(5, s.Mean);
        Assert.True(double.IsNaN(s.CiLow));
        Assert.True(double.IsNaN(Statistics.Summarize(Array.Empty<double>()).Mean));
    }

    [Theory]
    [InlineData(1, 12.706)]
    [InlineData(4, 2.776)]
    [InlineData(30, 2.042)]
    [InlineData(1000, 1.960)]
    public void TCritical_Table(int df, double t) => Assert.Equal(t, Statistics.TCritical95(df), 3);

    [Fact]
    public void Slope_OfALine()
    {
        var pts = Enumerable.Range(0, 10).Select(i => ((double)i, 3.0 * i + 7)).ToList();
        Assert.Equal(3, Statistics.Slope(pts), 9);
        Assert.True(double.IsNaN(Statistics.Slope(new[] { (1.0, 2.0) })));
    }
}

public sealed class SteadyStateTests
{
    [Fact]
    public void Detects_TheEndOfARamp()
    {
        // 15 s ramp from 0 to ~10,000/s, then steady with +-2 % noise.
        var rng = new Random(7);
        var series = Enumerable.Range(0, 15).Select(i => i * 700.0)
            .Concat(Enumerable.Range(0, 45).Select(_ => 10_000 * (1 + (rng.NextDouble() - 0.5) * 0.04))).ToList();
        var r = SteadyState.Detect(series, fixedWarmupSamples: 30);
        Assert.True(r.Detected);
        Assert.Equal("Detected", r.Method);
        Assert.InRange(r.StartIndex, 13, 16);
    }

    [Fact]
    public void FallsBack_ToFixedWarmup_WhenNeverSteady_OrWhenForced()
    {
        var rng = new Random(3);
        var noisy = Enumerable.Range(0, 60).Select(_ => rng.NextDouble() * 10_000).ToList();
        var r = SteadyState.Detect(noisy, fixedWarmupSamples: 30);
        Assert.False(r.Detected);
        Assert.Equal(30, r.StartIndex);
        var flat = Enumerable.Repeat(100.0, 60).ToList();
        var forced = SteadyState.Detect(flat, fixedWarmupSamples: 20, forceFixed: true);
        Assert.Equal(("FixedWarmup", 20), (forced.Method, forced.StartIndex));
        Assert.Equal(0, SteadyState.Detect(flat, 20).StartIndex);
    }
}

public sealed class ValidityGateTests
{
    [Fact]
    public void CleanRun_IsValid()
    {
        var lag = Enumerable.Range(0, 60).Select(i => ((double)i, 500.0 + (i % 3) * 10)).ToList();
        var (valid, reason) = ValidityGate.Evaluate(new ValidityInput { GeneratorValid = true, LagSeries = lag, TargetRate = 10_000, EngineInputRate = 9990, OffsetInputRate = 10_000 });
        Assert.True(valid, reason);
        Assert.Equal("", reason);
    }

    /// <summary>Lag when offsets are committed every <paramref name="commit"/> s at 10,000 events/s, plus a backlog growing by <paramref name="growth"/>/s.</summary>
    private static List<(double, double)> SawTooth(int seconds, int commit, double growth, int phase = 7) =>
        Enumerable.Range(1, seconds).Select(t => ((double)t, 10_000.0 * ((t + phase) % commit) + growth * t)).ToList();

    [Theory]
    [InlineData(0)]
    [InlineData(13)]
    [InlineData(29)]
    public void CheckpointedCommits_SawTooth_IsNotABacklog_InAnyPhase(int phase)
    {
        // 120 s at 10,000/s, offsets committed every 30 s: a raw fit sees up to a third of the load as lag growth.
        var lag = SawTooth(120, 30, 0, phase);
        Assert.True(ValidityGate.Evaluate(new ValidityInput { LagSeries = lag, TargetRate = 10_000, CommitIntervalSeconds = 30 }).Valid);
        // ... but a real backlog under the saw-tooth is still seen.
        var growing = ValidityGate.Evaluate(new ValidityInput { LagSeries = SawTooth(120, 30, 500, phase), TargetRate = 10_000, CommitIntervalSeconds = 30 });
        Assert.False(growing.Valid);
        Assert.Contains("consumer lag unbounded (+", growing.Reason);
    }

    [Fact]
    public void AWindowShorterThanTwoCommitIntervals_CannotBeJudged_AndSaysSo()
    {
        var r = ValidityGate.Evaluate(new ValidityInput { LagSeries = SawTooth(20, 30, 0), TargetRate = 10_000, CommitIntervalSeconds = 30 });
        Assert.False(r.Valid);
        Assert.Contains("consumer lag not judged", r.Reason);
    }

    [Fact]
    public void TheInputRateCrossCheck_AllowsForCheckpointedCommits()
    {
        // 30-s commits over a 120-s window: the Kafka side may be off by a quarter.
        var input = new ValidityInput
        {
            EngineInputRate = 10_000, OffsetInputRate = 8_000, CommitIntervalSeconds = 30,
            LagSeries = Enumerable.Range(0, 121).Select(t => ((double)t, 0.0)).ToList(),
        };
        Assert.StartsWith("ok: input engine 10000/s vs Kafka 8000/s (25.0 %, tolerance 25 % for checkpointed commits)", ValidityGate.RateCheck(input));
        Assert.StartsWith("mismatch: ", ValidityGate.RateCheck(new ValidityInput { EngineInputRate = 10_000, OffsetInputRate = 8_000, LagSeries = input.LagSeries }));
    }

    [Fact]
    public void EachCondition_InvalidatesWithItsReason()
    {
        Assert.Contains("generator fell behind (achieved 80 %)", ValidityGate.Evaluate(new ValidityInput { GeneratorValid = false, GeneratorReason = "achieved 80 %" }).Reason);
        Assert.Contains("node throttled: pi3,pi5", ValidityGate.Evaluate(new ValidityInput { ThrottledNodes = new[] { "pi5", "pi3", "pi5" } }).Reason);
        Assert.Contains("job restarted 2 time(s)", ValidityGate.Evaluate(new ValidityInput { JobRestarts = 2 }).Reason);
        Assert.Contains("job FAILED", ValidityGate.Evaluate(new ValidityInput { JobFailure = "FAILED" }).Reason);
        // Lag growing by 500 events/s at a 10,000/s load: 5 % > 1 % bound.
        var growing = Enumerable.Range(0, 30).Select(i => ((double)i, 500.0 * i)).ToList();
        var lag = ValidityGate.Evaluate(new ValidityInput { LagSeries = growing, TargetRate = 10_000 });
        Assert.False(lag.Valid);
        Assert.Contains("consumer lag unbounded", lag.Reason);
        // Noise from commit granularity over a short window (+20 events/s for 4 s at 400/s) is not a backlog.
        var jitter = new[] { (0.0, 100.0), (1.0, 180), (2.0, 120), (3.0, 190) };
        Assert.True(ValidityGate.Evaluate(new ValidityInput { LagSeries = jitter, TargetRate = 400 }).Valid);
        // The rate cross-check is reported, not a validity condition.
        var mismatch = new ValidityInput { EngineInputRate = 8000, OffsetInputRate = 10_000 };
        Assert.True(ValidityGate.Evaluate(mismatch).Valid);
        Assert.Equal("mismatch: input engine 8000/s vs Kafka 10000/s (20.0 %), tolerance 5 %", ValidityGate.RateCheck(mismatch));
        Assert.StartsWith("ok: ", ValidityGate.RateCheck(new ValidityInput { EngineInputRate = 9990, OffsetInputRate = 10_000 }));
        // Output is checked too: engine sink records against the result topic's growth.
        Assert.Equal("mismatch: input engine 9990/s vs Kafka 10000/s (0.1 %); output engine 500/s vs Kafka 1000/s (50.0 %), tolerance 5 %",
            ValidityGate.RateCheck(new ValidityInput { EngineInputRate = 9990, OffsetInputRate = 10_000, EngineOutputRate = 500, OffsetOutputRate = 1000 }));
        Assert.StartsWith("mismatch: input engine 2001/s vs Kafka 0/s (n/a)", ValidityGate.RateCheck(new ValidityInput { EngineInputRate = 2001, OffsetInputRate = 0 }));
        Assert.Equal("n/a", ValidityGate.RateCheck(new ValidityInput()));
        Assert.Contains("metric samples missing", ValidityGate.Evaluate(new ValidityInput { MissingSampleFraction = 0.5 }).Reason);
        Assert.Contains("input ended inside the window after 5000 events", ValidityGate.Evaluate(new ValidityInput { InputEndedAfterEvents = 5000 }).Reason);
        Assert.True(ValidityGate.Evaluate(new ValidityInput { InputEndedAfterEvents = -1 }).Valid);
        var two = ValidityGate.Evaluate(new ValidityInput { JobRestarts = 1, ThrottledNodes = new[] { "pi2" } });
        Assert.Equal(2, two.Reason.Split("; ").Length);
    }
}

public sealed class ResourceSummaryTests
{
    private static ClusterMetricSample S(string node, DateTimeOffset t, double cpu, double mem, double rx, double tx, bool? thr = false) => new()
    {
        Node = node, Timestamp = t, IntervalSeconds = 1, CpuPercent = cpu, CpuCores = 4, CpuCoreSeconds = cpu / 100 * 4,
        MemoryUsedMB = mem, NetworkRxBytesPerSec = rx, NetworkTxBytesPerSec = tx, Throttled = thr,
    };

    [Fact]
    public void SumsCoreSeconds_OverTheWindowOnly()
    {
        var t0 = DateTimeOffset.Parse("2026-11-30T12:00:00Z");
        var samples = new List<ClusterMetricSample>();
        for (var i = 1; i <= 10; i++)
        {
            samples.Add(S("pi1", t0.AddSeconds(i), 50, 1000 + i, 1_000_000, 500_000));
            samples.Add(S("pi2", t0.AddSeconds(i), 25, 800, 2_000_000, 0, thr: i == 7));
        }
        samples.Add(S("pi1", t0.AddSeconds(30), 100, 9999, 0, 0, thr: true)); // outside the window
        var r = ResourceSummary.FromSamples(samples, t0, t0.AddSeconds(10), new[] { "pi1", "pi2" }, 1);
        Assert.Equal(10 * (2.0 + 1.0), r.CpuCoreSeconds, 6);
        Assert.Equal(37.5, r.CpuPercentPerNode, 6);
        Assert.Equal(1010, r.MemoryPeakMB);
        Assert.Equal((15.0 + 20.0) / 2, r.NetworkMBPerNode, 6);
        Assert.Equal(new[] { "pi2" }, r.ThrottledNodes);
        Assert.Equal(0, r.MissingSampleFraction, 6);
    }

    [Fact]
    public void MissingSamples_AreCounted_NotZeroFilled()
    {
        var t0 = DateTimeOffset.Parse("2026-11-30T12:00:00Z");
        var samples = Enumerable.Range(1, 5).Select(i => S("pi1", t0.AddSeconds(i), 50, 100, 0, 0)).ToList();
        var r = ResourceSummary.FromSamples(samples, t0, t0.AddSeconds(10), new[] { "pi1", "pi2" }, 1);
        Assert.Equal(0.75, r.MissingSampleFraction, 6);
        var none = ResourceSummary.FromSamples(Array.Empty<ClusterMetricSample>(), t0, t0.AddSeconds(10), new[] { "pi1" }, 1);
        Assert.True(double.IsNaN(none.CpuCoreSeconds));
        Assert.Equal(1, none.MissingSampleFraction);
    }
}

public sealed class LatencyRecorderTests
{
    [Fact]
    public void Percentiles_FromAppendMinusEventTime_AndNegativesCounted()
    {
        var rec = new LatencyRecorder();
        const long t0 = 1_764_504_000_000;
        for (var i = 1; i <= 1000; i++) rec.Record(t0 + i * 10, t0 + i * 10 - i); // latencies 1..1000 ms
        rec.Record(t0, t0 + 5); // broker time before event time: counted, not recorded
        Assert.Equal(1000, rec.Count);
        Assert.Equal(1, rec.NegativeCount);
        Assert.InRange(rec.PercentileMs(50), 499, 501.5);
        Assert.InRange(rec.PercentileMs(99), 989, 991.5);
        Assert.InRange(rec.MaxMs, 999, 1001);
        Assert.Equal(11, rec.IntervalCounts().Count); // append times t0+10 ms .. t0+10,000 ms touch 11 one-second intervals
        Assert.True(double.IsNaN(new LatencyRecorder().PercentileMs(50)));
    }

    [Fact]
    public void IntervalLog_IsReadableByHdrHistogram()
    {
        var rec = new LatencyRecorder();
        const long t0 = 1_764_504_000_000;
        for (var i = 0; i < 300; i++) rec.Record(t0 + i * 10, t0 + i * 10 - 20);
        var path = Path.Combine(Path.GetTempPath(), $"pibench-{Guid.NewGuid():N}.hlog");
        try
        {
            rec.WriteIntervalLog(path, DateTimeOffset.FromUnixTimeMilliseconds(t0));
            using var fs = File.OpenRead(path);
            using var reader = new HdrHistogram.HistogramLogReader(fs);
            var hs = reader.ReadHistograms().ToList();
            Assert.Equal(3, hs.Count);
            Assert.Equal(300, hs.Sum(h => h.TotalCount));
        }
        finally { File.Delete(path); }
    }
}

public sealed class ResultsFilesTests
{
    private static BenchmarkResult R(string q, int rep, double inRate, bool valid = true, string status = "Completed") => new()
    {
        System = "Arroyo", Query = q, Repetition = rep, Parallelism = 9, TargetRate = 10_000, InputRate = inRate, OutputRate = inRate / 2,
        EventsIn = (long)inRate * 120, EventsOut = (long)inRate * 60, LatencyP50Ms = 12.5, LatencyP99Ms = 40, LatencyP999Ms = 80, LatencyMaxMs = 120,
        CpuCoreSeconds = 21.456, CpuPercentPerNode = 30, MemoryPeakMB = 900, NetworkMBPerNode = 12, Valid = valid,
        InvalidReason = valid ? "" : "node throttled: pi3", Status = status, Seed = 42, EngineVersion = "0.11.0",
        StartedAt = DateTimeOffset.Parse("2025-10-04T18:00:00+00:00"), DurationS = 120,
    };

    private static BenchmarkRunDocument Doc() => new()
    {
        System = "Arroyo", EngineVersion = "0.11.0", TargetRate = 10_000, TotalEvents = 10_000_000, Parallelism = 9, Seed = 42,
        StartedAt = DateTimeOffset.Parse("2025-10-04T18:00:00+00:00"), Queries = new() { "q1", "q5" },
        Results = new() { R("q1", 1, 2150.10), R("q1", 2, 2150.30), R("q5", 1, 2152.40), R("q5", 2, 0, status: "NotRun") },
    };

    [Fact]
    public void Text_KeepsTheSeedLayout()
    {
        var lines = ResultsFiles.FormatText(Doc()).Split('\n');
        Assert.Equal(new[]
        {
            "==========================================",
            "ARROYO BENCHMARK RESULTS",
            "==========================================",
            "",
            "Benchmark Configuration:",
            "  System:               arroyo",
            "  Timestamp:            2025-10-04T18:00:00+00:00",
            "  Target Events/sec:    10000",
            "  Total Events:         10000000",
            "  Parallelism:          9",
            "",
            "==========================================",
            "Query Results",
            "==========================================",
            "",
            "Query      Input Rate           Output Throughput    Core×Time     ",
            "---------- -------------------- -------------------- ---------------",
            "q1         2150.20 events/sec   1075.10 events/sec   21.46 core-sec ",
            "q5         2152.40 events/sec   1076.20 events/sec   21.46 core-sec ",
            "",
        }, lines.Take(20));
        // The seed padded by bytes: the header's last cell is 15 bytes in UTF-8.
        Assert.Equal(15, System.Text.Encoding.UTF8.GetByteCount(lines[15][(10 + 1 + 20 + 1 + 20 + 1)..]));
    }

    [Fact]
    public void Json_RoundTrips_ResumeKeysSkipNotRun_AndWriteIsAtomic()
    {
        var dir = Path.Combine(Path.GetTempPath(), $"pibench-results-{Guid.NewGuid():N}");
        try
        {
            var doc = Doc();
            var name = ResultsFiles.BaseName(doc.StartedAt);
            Assert.Equal("benchmark_results_20251004_180000", name);
            var (txt, json) = ResultsFiles.Write(dir, name, doc);
            Assert.True(File.Exists(txt));
            Assert.Empty(Directory.GetFiles(dir, "*.tmp-*"));
            var back = ResultsFiles.Read(json);
            Assert.Equal(4, back.Results.Count);
            Assert.Equal(new[] { "arroyo|q1|1", "arroyo|q1|2", "arroyo|q5|1" }, back.CompletedKeys().Order());
            Assert.Equal(2150.10, back.Results[0].InputRate);
            Assert.True(double.IsNaN(new BenchmarkResult().LatencyP50Ms));
            var q1 = back.Summaries.Single(s => s.Query == "q1" && s.Figure == "InputRate");
            Assert.Equal(2, q1.Count);
            Assert.Equal(2150.2, q1.Mean, 6);
            Assert.True(q1.CiLow < q1.Mean && q1.Mean < q1.CiHigh);
            Assert.Contains("ci95=[", File.ReadAllText(txt));
        }
        finally { if (Directory.Exists(dir)) Directory.Delete(dir, true); }
    }

    private static BenchmarkRunDocument SustainableDoc()
    {
        var doc = Doc();
        doc.Mode = "Sustainable";
        doc.Repetitions = 1;
        doc.Results = new()
        {
            Step(R("q1", 1, 10_000), 1, 10_000), Step(R("q1", 1, 15_000, valid: false), 2, 20_000),   // q1: a completed search
            Step(R("q5", 1, 10_000), 1, 10_000), Step(R("q5", 1, 0, valid: false, status: "Stopped"), 2, 20_000), // q5: Ctrl+C in step 2
        };
        doc.Searches = new()
        {
            new SustainableThroughputResult { System = "Arroyo", Query = "q1", Repetition = 1, SustainableRate = 10_000, SustainableTargetRate = 10_000, FailingRate = 20_000, LimitedBy = "Engine", Steps = 2, Status = "Completed" },
            new SustainableThroughputResult { System = "Arroyo", Query = "q5", Repetition = 1, SustainableRate = 10_000, Steps = 2, Status = "Stopped" },
        };
        return doc;

        static BenchmarkResult Step(BenchmarkResult r, int step, double target) { r.Step = step; r.TargetRate = target; return r; }
    }

    [Fact]
    public void Sustainable_TextShowsTheSearches_AndTheSummaryHasTheRate()
    {
        var doc = SustainableDoc();
        var text = ResultsFiles.FormatText(doc);
        Assert.Contains("Sustainable throughput (broker-side input rate of the highest valid step", text);
        Assert.Contains("q1           1 Completed 10000.00       10000.00     20000.00       Engine           2", text);
        Assert.Contains("Steps", text);
        var sum = ResultsFiles.Summarize(doc.Results, doc.Searches);
        Assert.Equal(10_000, sum.Single(f => f.Figure == "SustainableRate").Mean); // the Stopped q5 search is not summarised
        Assert.DoesNotContain(sum, f => f.Figure == "InputRate"); // steps are not fixed-rate repetitions
        Assert.Empty(doc.CompletedKeys());
    }

    [Fact]
    public async Task Resume_OfASustainableRun_KeepsCompletedSearches_AndRedoesTheRest_InTheSameMode()
    {
        var dir = Path.Combine(Path.GetTempPath(), $"pibench-resume-{Guid.NewGuid():N}");
        try
        {
            var (_, json) = ResultsFiles.Write(dir, "benchmark_results_20251004_180000", SustainableDoc());
            // Fixed mode on a sustainable file: refused before anything runs.
            var wrong = new BenchmarkRunner(new BenchmarkPlan { Queries = new[] { "q1" }, Repetitions = 1, BootstrapServers = "127.0.0.1:1", ResumePath = json },
                engineFactory: _ => throw new InvalidOperationException("no engine needed"));
            var ex = await Assert.ThrowsAsync<PiBenchException>(() => wrong.RunAsync(null, CancellationToken.None));
            Assert.Equal("ResumeModeMismatch", ex.ErrorId);
            Assert.Contains("-Mode Sustainable", ex.RecommendedAction);

            // The same run (issue 11: -Resume refuses another query set, rate, parallelism ...): q1's search is complete,
            // so only q5 is left to run; the plan of the resume says so. q5's unfinished search and steps are redone.
            var doc = ResultsFiles.Read(json);
            var plan = new BenchmarkPlan
            {
                Queries = doc.Queries, Repetitions = doc.Repetitions, BootstrapServers = "127.0.0.1:1", ResumePath = json, Mode = "Sustainable",
                EventsPerSecond = doc.TargetRate, TotalEvents = doc.TotalEvents, Parallelism = doc.Parallelism, Seed = doc.Seed,
                WarmupSeconds = doc.WarmupSeconds, MeasureSeconds = doc.MeasureSeconds, TopologyName = doc.TopologyName, Search = doc.Search ?? new SustainableSearchOptions(),
                Engine = new PiBench.Core.Engines.StreamEngineSettings { EngineUri = new Uri("http://127.0.0.1:1/"), AuxiliaryUri = new Uri("http://127.0.0.1:1/") },
            };
            Assert.Equal(new[] { ("q5", 1) }, ResumeCheck.RemainingCells(ResumeCheck.Load(json, plan), plan));
            // A subset of the queries is another run: refused, file unchanged.
            var before = File.ReadAllBytes(json);
            var subset = new BenchmarkRunner(plan.WithQueries(new[] { "q1" }), engineFactory: _ => throw new InvalidOperationException("no engine needed"));
            var mismatch = await Assert.ThrowsAsync<PiBenchException>(() => subset.RunAsync(null, CancellationToken.None));
            Assert.Equal("ResumeMismatch", mismatch.ErrorId);
            Assert.Equal(before, File.ReadAllBytes(json));
        }
        finally { if (Directory.Exists(dir)) Directory.Delete(dir, true); }
    }

    [Fact]
    public void Read_RejectsAForeignFile()
    {
        var path = Path.GetTempFileName();
        try
        {
            File.WriteAllText(path, "not json");
            Assert.Equal("ResultsFileInvalid", Assert.Throws<PiBenchException>(() => ResultsFiles.Read(path)).ErrorId);
        }
        finally { File.Delete(path); }
    }
}
