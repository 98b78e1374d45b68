using PiBench.Core.Benchmarking;
using PiBench.Core.Engines;
using Xunit;

namespace PiBench.Core.Tests.Benchmarking;

/// <summary>Issue 12: every bad case fed on its own (mixed validity, stale counters, broker below target, missing samples ...).</summary>
public sealed class HonestFiguresTests
{
    private static BenchmarkResult Cell(string q, int rep, double inRate, bool valid = true, string reason = "", string status = "Completed") => new()
    {
        System = "Arroyo", Query = q, Repetition = rep, Parallelism = 9, TargetRate = 10_000, InputRate = inRate, OutputRate = inRate / 2,
        CpuCoreSeconds = 20, Valid = valid, InvalidReason = reason, Status = status, LatencyP50Ms = 10, LatencyP99Ms = 40,
        StartedAt = DateTimeOffset.Parse("2025-10-04T18:00:00+00:00"), DurationS = 120,
    };

    private static BenchmarkRunDocument Doc(params BenchmarkResult[] cells) => new()
    {
        System = "Arroyo", TargetRate = 10_000, TotalEvents = 10_000_000, Parallelism = 9, StartedAt = DateTimeOffset.Parse("2025-10-04T18:00:00+00:00"),
        Queries = cells.Select(c => c.Query).Distinct().ToList(), Results = cells.ToList(),
    };

    // ---- 1. Headlines from valid runs only ----

    [Fact]
    public void TheSeedTable_AveragesValidRepetitionsOnly_ListsTheOthersWithReasons_AndAQueryWithNoneShowsOnlyWhy()
    {
        var doc = Doc(
            Cell("q1", 1, 2000), Cell("q1", 2, 9000, valid: false, reason: "broker ingested 9000 events/s, below 99.5 %"), Cell("q1", 3, 2200),
            Cell("q5", 1, 5000, valid: false, reason: "node throttled: pi3"), Cell("q5", 2, 0, valid: false, reason: "not run: stopped", status: "NotRun"));
        var text = ResultsFiles.FormatText(doc);
        var lines = text.Split('\n');
        Assert.Contains("q1         2100.00 events/sec   1050.00 events/sec   20.00 core-sec ", lines); // (2000 + 2200) / 2, not with 9000
        var q5 = Assert.Single(lines, l => l.StartsWith("q5         ", StringComparison.Ordinal) && l.Contains("no valid repetition"));
        Assert.DoesNotContain("events/sec", q5); // no number, only why
        Assert.Contains("r1 (Completed, invalid): node throttled: pi3", q5);
        Assert.Contains("r2 (NotRun): not run: stopped", q5);
        Assert.Contains(lines, l => l.StartsWith("q1 ", StringComparison.Ordinal) && l.Contains("2 valid; left out: r2 (Completed, invalid): broker ingested 9000 events/s"));

        var h = ResultsFiles.Headlines(doc);
        Assert.Equal(2, h[0].ValidRepetitions);
        Assert.Equal(1, h[0].ExcludedRepetitions);
        Assert.Equal(2100, h[0].InputRate);
        Assert.True(double.IsNaN(h[1].InputRate));
        Assert.StartsWith("no valid repetition: ", h[1].NoFigureReason);
        Assert.DoesNotContain(ResultsFiles.Summarize(doc.Results), f => f.Query == "q5");
    }

    // ---- 2. Percentiles from merged histograms ----

    [Fact]
    public void SummaryPercentiles_ComeFromTheMergedHistograms_NotTheMeanOfPercentiles_WithABootstrapInterval()
    {
        var dir = Path.Combine(Path.GetTempPath(), $"pibench-merge-{Guid.NewGuid():N}");
        try
        {
            Directory.CreateDirectory(dir);
            const long t0 = 1_764_504_000_000;
            BenchmarkResult Rep(int rep, int slow)
            {
                // 1000 latencies: slow of them 500 ms, the rest 10 ms.
                var rec = new LatencyRecorder();
                for (var i = 0; i < 1000; i++) rec.Record(t0 + i, t0 + i - (i < slow ? 500 : 10));
                var file = $"run_q1_r{rep}.hlog";
                rec.WriteIntervalLog(Path.Combine(dir, file), DateTimeOffset.FromUnixTimeMilliseconds(t0));
                var r = Cell("q1", rep, 2000);
                r.LatencyP50Ms = rec.PercentileMs(50);
                r.LatencyP99Ms = rec.PercentileMs(99);
                r.HistogramFile = file;
                return r;
            }
            var a = Rep(1, 0);   // p99 10 ms
            var b = Rep(2, 30);  // p99 500 ms
            Assert.InRange(a.LatencyP99Ms, 9.9, 10.1);
            Assert.InRange(b.LatencyP99Ms, 499, 501);
            var doc = Doc(a, b, Cell("q1", 3, 2000, valid: false, reason: "node throttled: pi3"));
            ResultsFiles.Write(dir, "run", doc);
            var p99 = doc.Summaries.Single(f => f.Query == "q1" && f.Figure == "LatencyP99Ms");
            // Merged: 1970 values at 10 ms, 30 at 500 ms: the 1980th is 500 ms. The mean of the two p99s would be 255.
            Assert.InRange(p99.Value, 499, 501);
            Assert.True(double.IsNaN(p99.Mean));
            Assert.Equal(2, p99.Count);
            Assert.Contains("merged latency histograms of 2 valid repetition(s)", p99.Method);
            Assert.Contains("bootstrap over repetitions", p99.Method);
            Assert.InRange(p99.CiLow, 9.9, 10.1);   // resamples of only the fast repetition
            Assert.InRange(p99.CiHigh, 499, 501);   // ... of only the slow one
            var p50 = doc.Summaries.Single(f => f.Query == "q1" && f.Figure == "LatencyP50Ms");
            Assert.InRange(p50.Value, 9.9, 10.1);
            Assert.InRange(doc.Headlines.Single().LatencyP99Ms, 499, 501);
            Assert.Contains("LatencyP99Ms", File.ReadAllText(Path.Combine(dir, "run.txt")));
            var rate = doc.Summaries.Single(f => f.Query == "q1" && f.Figure == "InputRate");
            Assert.Equal(rate.Mean, rate.Value);
            Assert.Contains("Student t", rate.Method);
        }
        finally { if (Directory.Exists(dir)) Directory.Delete(dir, true); }
    }

    [Fact]
    public void AnOlderResultWithoutHistogramFile_FindsItsConventionallyNamedLog()
    {
        var dir = Path.Combine(Path.GetTempPath(), $"pibench-oldhlog-{Guid.NewGuid():N}");
        try
        {
            Directory.CreateDirectory(dir);
            var rec = new LatencyRecorder();
            const long t0 = 1_764_504_000_000;
            for (var i = 0; i < 100; i++) rec.Record(t0 + i, t0 + i - 42);
            rec.WriteIntervalLog(Path.Combine(dir, "benchmark_results_20251004_180000_q1_r1.hlog"), DateTimeOffset.FromUnixTimeMilliseconds(t0));
            var doc = Doc(Cell("q1", 1, 2000));
            ResultsFiles.Write(dir, "benchmark_results_20251004_180000", doc);
            Assert.Equal("benchmark_results_20251004_180000_q1_r1.hlog", doc.Results[0].HistogramFile);
            Assert.InRange(doc.Summaries.Single(f => f.Figure == "LatencyP50Ms").Value, 41.9, 42.1);
        }
        finally { if (Directory.Exists(dir)) Directory.Delete(dir, true); }
    }

    [Fact]
    public void MergedPercentiles_AgreeWithHdrHistogramsOwnMerge()
    {
        var h1 = new HdrHistogram.LongHistogram(1, 3_600_000_000L, 3);
        var h2 = new HdrHistogram.LongHistogram(1, 3_600_000_000L, 3);
        var rng = new Random(5);
        for (var i = 0; i < 5000; i++) { h1.RecordValue(1000 + rng.Next(50_000)); h2.RecordValue(20_000 + rng.Next(900_000)); }
        var sum = new HdrHistogram.LongHistogram(1, 3_600_000_000L, 3);
        sum.Add(h1);
        sum.Add(h2);
        var m = new MergedPercentiles(new HdrHistogram.HistogramBase[] { h1, h2 });
        foreach (var p in new[] { 50.0, 90, 99, 99.9 }) Assert.Equal(sum.GetValueAtPercentile(p), (long)m.ValueAt(p));
        Assert.Equal(10_000, m.TotalCount);
    }

    // ---- 3. Sustainable rate: bounds are not results ----

    private static Func<double, int, CancellationToken, Task<BenchmarkResult>> Steps(double capacity, Func<double, BenchmarkResult, BenchmarkResult>? tweak = null) => (rate, step, _) =>
    {
        var r = new BenchmarkResult
        {
            Query = "q1", Step = step, TargetRate = rate, Status = "Completed", Valid = rate <= capacity,
            InvalidReason = rate <= capacity ? "" : "consumer lag unbounded (+123 events/s, limit 4)",
            InputRate = Math.Min(rate, capacity), BrokerInputRate = rate * 0.998,
        };
        return Task.FromResult(tweak?.Invoke(rate, r) ?? r);
    };

    [Fact]
    public async Task APassingStep_ReportsTheBrokerSideRate_AndOnlyAnEngineLimitIsAResult()
    {
        var found = await SustainableRateSearch.RunAsync(new SustainableSearchOptions { StartRate = 10_000, MaxRate = 160_000, Resolution = 0.05 },
            new SustainableThroughputResult { Query = "q1", Repetition = 1 }, Steps(25_000), null, CancellationToken.None);
        Assert.Equal("Engine", found.LimitedBy);
        Assert.False(found.IsLowerBound);
        Assert.Equal(25_000, found.SustainableTargetRate);
        Assert.Equal(24_950, found.SustainableRate); // what the broker took in at the passing step, not its target
        Assert.Equal("broker input rate of step 5", found.RateBasis);

        var maxRate = await SustainableRateSearch.RunAsync(new SustainableSearchOptions { StartRate = 10_000, MaxRate = 40_000 },
            new SustainableThroughputResult { Query = "q1", Repetition = 2 }, Steps(1e9), null, CancellationToken.None);
        Assert.Equal("MaxRate", maxRate.LimitedBy);
        Assert.True(maxRate.IsLowerBound);

        var generator = await SustainableRateSearch.RunAsync(new SustainableSearchOptions { StartRate = 10_000, MaxRate = 160_000 },
            new SustainableThroughputResult { Query = "q1", Repetition = 3 }, Steps(1e9, (rate, s) =>
            {
                if (rate >= 40_000) { s.Valid = false; s.InvalidReason = "broker ingested 38000 events/s, below 99.5 % of the target 40000 events/s"; }
                return s;
            }), null, CancellationToken.None);
        Assert.Equal("Generator", generator.LimitedBy); // the broker did not get the load: says nothing about the engine
        Assert.True(generator.IsLowerBound);

        // The step budget ran out mid-bisection: bracketed, not found.
        var budget = await SustainableRateSearch.RunAsync(new SustainableSearchOptions { StartRate = 10_000, MaxRate = 160_000, MaxSteps = 4 },
            new SustainableThroughputResult { Query = "q1", Repetition = 4 }, Steps(25_000), null, CancellationToken.None);
        Assert.Equal("10000:pass 20000:pass 40000:fail 30000:fail", budget.StepRates);
        Assert.Equal("Steps", budget.LimitedBy);
        Assert.True(budget.IsLowerBound);
        Assert.Contains("last failure (Engine): consumer lag unbounded", budget.Reason);

        var doc = new BenchmarkRunDocument { System = "Arroyo", Mode = "Sustainable", Searches = { found, maxRate, generator, budget } };
        foreach (var x in doc.Searches) x.Status = "Completed";
        var rate = ResultsFiles.Summarize(doc.Results, doc.Searches).Single(f => f.Figure == "SustainableRate");
        Assert.Equal(1, rate.Count); // the lower bounds stay out of the mean and CI
        Assert.Equal(24_950, rate.Mean);
        var text = ResultsFiles.FormatText(doc);
        Assert.Contains(">= 39920.00", text); // MaxRate: the broker-side rate of its last passing step, as a bound
        Assert.Contains("q1           1 Completed 24950.00       25000.00", text);
    }

    // ---- 4. Input measured at the broker ----

    private static List<(double, double)> Line(double perSecond, int seconds = 10, double start = 0) =>
        Enumerable.Range(0, seconds + 1).Select(s => ((double)s, start + perSecond * s)).ToList();

    [Fact]
    public void ABrokerIngestingBelowTarget_OrAGrowingClientQueue_InvalidatesTheCell_ThoughTheGeneratorSaysValid()
    {
        var ok = new ValidityInput { GeneratorValid = true, TargetRate = 10_000, BrokerInputRate = 9_990, BrokerInputSeconds = 120, ClientQueue = Line(0, start: 300) };
        Assert.True(ValidityGate.Evaluate(ok).Valid, ValidityGate.Evaluate(ok).Reason);

        // 20 % below target at the broker, while the generator judged itself at hand-off and said valid.
        var slow = new ValidityInput { GeneratorValid = true, TargetRate = 10_000, BrokerInputRate = 8_000, BrokerInputSeconds = 120 };
        var (v1, r1) = ValidityGate.Evaluate(slow);
        Assert.False(v1);
        Assert.Contains("broker ingested 8000 events/s, below 99.5 % of the target 10000 events/s", r1);

        // Just below 99.5 %: still invalid (the slack is 100 ms of input, 0.08 % of a 120-s window).
        Assert.False(ValidityGate.Evaluate(new ValidityInput { TargetRate = 10_000, BrokerInputRate = 9_940, BrokerInputSeconds = 120 }).Valid);
        // Batching noise is not a growing queue: 0.4 s of load over the window.
        Assert.True(ValidityGate.Evaluate(new ValidityInput { TargetRate = 10_000, ClientQueue = Line(400) }).Valid);

        // The client's queue grows by 600 events/s: the broker is falling behind what the generator hands over.
        var queue = new ValidityInput { GeneratorValid = true, TargetRate = 10_000, BrokerInputRate = 10_000, BrokerInputSeconds = 10, ClientQueue = Line(600) };
        var (v2, r2) = ValidityGate.Evaluate(queue);
        Assert.False(v2);
        Assert.Contains("generator's client queue grew by 600 events/s (0 -> 6000 events not yet acknowledged by the broker)", r2);
    }

    [Fact]
    public void WindowSeries_MeasuresTheBrokerSideRate_BetweenItsFirstAndLastRead()
    {
        var w = new WindowSeries();
        w.AddInputEnd(0.01, 1_000);
        w.AddInputEnd(1.0, 1_900);
        w.AddInputEnd(2.01, 3_000);
        var (rate, events, seconds) = w.BrokerInput();
        Assert.Equal(2_000, events);
        Assert.Equal(2.0, seconds, 6);
        Assert.Equal(1_000, rate, 6);
        Assert.True(double.IsNaN(new WindowSeries().BrokerInput().Rate));
    }

    // ---- 5. Engine rates with their real age ----

    private static StreamJobMetrics Metrics(DateTimeOffset at, long sourceOut = -1, long sinkIn = -1, double sourceRate = double.NaN, double sinkRate = double.NaN,
        DateTimeOffset? takenAfter = null) =>
        new(new StreamJobHandle(StreamSystem.Flink, "job", "q1"), new[]
        {
            new StreamOperatorMetric { OperatorId = "src", IsSource = true, RecordsOut = sourceOut, RecordsOutPerSecond = sourceRate, SampledAt = at },
            new StreamOperatorMetric { OperatorId = "sink", IsSink = true, RecordsIn = sinkIn, RecordsInPerSecond = sinkRate, SampledAt = at },
        }) { SampledAt = at, ValuesTakenAfter = takenAfter ?? at };

    [Fact]
    public void StaleCachedCounters_GiveTheRateBetweenRefreshBoundaries_WithTheBoundStated()
    {
        // True rate 100/s; the JobManager's cache refreshes at 0.5, 5.5, 10.5 s (a 5-s update interval); samples every second from 1 to 12 s.
        var t0 = DateTimeOffset.Parse("2026-01-01T00:00:00Z");
        var series = new EngineRateSeries();
        for (var s = 1; s <= 12; s++)
        {
            var refreshed = s >= 11 ? 10.5 : s >= 6 ? 5.5 : 0.5;
            series.Add(Metrics(t0.AddSeconds(s), sourceOut: (long)(100 * refreshed), sinkIn: (long)(50 * refreshed)));
        }
        var input = series.Input();
        // First-to-last would say (1050 - 50) / 11 s = 90.9/s; between the refreshes seen at 6 s and 11 s it is exact.
        Assert.Equal(100, input.Rate);
        Assert.True(input.FromCounters);
        Assert.Equal(0.2, input.Error, 6); // each boundary known to 1 s, over 5 s
        Assert.Contains("refresh boundaries over 5 s (±20.0 %", input.Method);
        Assert.Equal(50, series.Output().Rate);
    }

    [Fact]
    public void ASlowSampleBeforeTheLastBoundary_WidensTheStatedBound_SoTheTrueRateStaysInsideIt()
    {
        // True rate 100/s. Flink's cache hands each sample the values fetched at the previous sample's request. Samples are
        // answered every 0.26 s, each request taking 0.01 s, except the fifth: asked at 2.04 s, answered at 2.54 s (a stall).
        // So the last sample (2.80 s) shows the values of 2.04 s, 0.76 s before it, not only the 0.26 s since the sample before.
        var t0 = DateTimeOffset.Parse("2026-01-01T00:00:00Z");
        int[] answeredMs = [1000, 1260, 1520, 1780, 2540, 2800], requestedMs = [990, 1250, 1510, 1770, 2040, 2790];
        var series = new EngineRateSeries();
        for (var k = 0; k < answeredMs.Length; k++)
        {
            var takenMs = k == 0 ? 500 : requestedMs[k - 1];
            series.Add(Metrics(t0.AddMilliseconds(answeredMs[k]), sourceOut: takenMs / 10,
                takenAfter: k == 0 ? null : t0.AddMilliseconds(requestedMs[k - 1])));
        }
        var input = series.Input();
        Assert.Equal(Math.Round(105 / 1.54, 2), input.Rate);      // (204 - 99) over the 1.54 s between the boundaries' answers
        Assert.Equal(Math.Round(0.76 / 1.54, 4), input.Error);    // the last boundary's values are known to 0.76 s, not 0.26 s
        Assert.InRange(100, input.Rate / (1 + input.Error), input.Rate / (1 - input.Error));
    }

    [Fact]
    public void SmoothedRates_AreACrossCheckOnly_NeverTheWindowsFigure()
    {
        var t0 = DateTimeOffset.UtcNow;
        var w = new WindowObservation { Start = t0, Seconds = 10, Consumed0 = 0, Consumed1 = 5_000, Produced0 = 0, Produced1 = 4_600 };
        for (var s = 0; s <= 10; s++)
        {
            w.Engine.Add(Metrics(t0.AddSeconds(s), sourceRate: 800, sinkRate: 700)); // an EWMA still climbing towards 500 ... or not: it is smoothed
            w.Series.AddInputEnd(s, 500L * s);
            w.Series.AddClientQueue(s, 10);
            w.Series.AddLag(s, 0);
        }
        var r = new BenchmarkResult { Query = "q0" };
        r.ClockOffsetMs = 0;
        CellJudge.Fill(r, w, new LatencyRecorder(), Empty, EmptyUse, new CellJudge.Context { TargetRate = 500, CommitIntervalSeconds = 1 });
        Assert.Equal(500, r.InputRate);        // committed offsets, not the EWMA
        Assert.Equal(0.1, r.InputRateError);   // one 1-s checkpoint over 10 s
        Assert.Equal(460, r.OutputRate);       // the result topic at the broker
        Assert.Equal(800, r.EngineInputRate);  // the engine's own figure, beside it
        Assert.Equal(700, r.EngineOutputRate);
        Assert.StartsWith("input: Kafka committed offsets of the engine's consumer group over 10 s (±10.0 %", r.RateSource);
        Assert.Contains("cross-check only", r.RateSource);
        Assert.Equal(500, r.BrokerInputRate);
        Assert.True(r.Valid, r.InvalidReason);
    }

    private static readonly ResourceSummary Empty = ResourceSummary.FromSamples(Array.Empty<ClusterMetricSample>(), DateTimeOffset.UtcNow, DateTimeOffset.UtcNow, Array.Empty<string>(), 1);
    private static readonly ContainerSummary EmptyUse = ContainerSummary.FromSamples(Array.Empty<ContainerMetricSample>(), DateTimeOffset.UtcNow, DateTimeOffset.UtcNow, "Arroyo");

    // ---- 6. One clock, checked ----

    [Fact]
    public void AClockOffsetBeyondTheLimit_OrAnUnknownOne_InvalidatesTheLatency()
    {
        var measured = new ValidityInput { LatencyMeasured = true, ClockOffsetMs = 3 };
        Assert.True(ValidityGate.Evaluate(measured).Valid);
        var (v1, r1) = ValidityGate.Evaluate(new ValidityInput { LatencyMeasured = true, ClockOffsetMs = -25 });
        Assert.False(v1);
        Assert.Contains("clock offset to the broker host -25 ms, beyond 10 ms", r1);
        var (v2, r2) = ValidityGate.Evaluate(new ValidityInput { LatencyMeasured = true, ClockOffsetMs = double.NaN });
        Assert.False(v2);
        Assert.Contains("clock offset to the broker host not measured", r2);
        Assert.True(ValidityGate.Evaluate(new ValidityInput { LatencyMeasured = false, ClockOffsetMs = double.NaN }).Valid); // no latency figure, nothing rests on it
    }

    [Theory]
    [InlineData("127.0.0.1:9092", true)]
    [InlineData("localhost:9092,127.0.0.2:9093", true)]
    [InlineData("[::1]:9092", true)]
    [InlineData("192.168.2.70:9092", false)]
    [InlineData("127.0.0.1:9092,192.168.2.70:9092", false)]
    public void ALoopbackBroker_SharesThisHostsClock(string bootstrap, bool local) => Assert.Equal(local, BrokerClock.IsLocal(bootstrap));

    [Fact]
    public void TheBrokerNode_IsTheTopologyNodeTheBootstrapServersName()
    {
        var pi1 = new PiBench.Core.Topology.PiNode { Name = "pi1", Address = "192.168.2.70" };
        Assert.Same(pi1, BrokerClock.BrokerNodeOf("192.168.2.70:9092", pi1));
        Assert.Null(BrokerClock.BrokerNodeOf("10.0.0.5:9092", pi1));
    }

    [Fact]
    public void NegativeOrClampedLatencies_AreCounted_AndAboveASmallFractionInvalidate()
    {
        var rec = new LatencyRecorder();
        const long t0 = 1_764_504_000_000;
        for (var i = 0; i < 995; i++) rec.Record(t0 + i, t0 + i - 20);
        for (var i = 0; i < 5; i++) rec.Record(t0 + i, t0 + i + 50); // stamped before they were due: a clock problem
        var t = DateTimeOffset.FromUnixTimeMilliseconds(t0);
        var w = new WindowObservation { Start = t, Seconds = 10 };
        var r = new BenchmarkResult { Query = "q3", ClockOffsetMs = 0 };
        CellJudge.Fill(r, w, rec, Empty, EmptyUse, new CellJudge.Context());
        Assert.Equal(995, r.LatencySamples);
        Assert.Equal(5, r.NegativeLatencies);
        Assert.False(r.Valid);
        Assert.Contains("negative or clamped latencies 5 of 1000 (0.50 %, limit 0.1 %)", r.InvalidReason);
        Assert.Contains("Neg lat", ResultsFiles.FormatText(new BenchmarkRunDocument { Results = { r } }));
    }

    // ---- 7. Outputs are counted ----

    [Fact]
    public void AnEngineThatDropsResults_CannotPostAGoodLatency()
    {
        var q0 = OutputExpectation.For("q0");
        Assert.StartsWith("ok: ", q0.Judge(9_200, 10_000, 10).Check);
        var (outside, check) = q0.Judge(4_600, 10_000, 10); // half the bids are missing
        Assert.True(outside);
        Assert.StartsWith("outside: 4600 output records, expected 8280..10120 for 10000 input events", check);
        Assert.True(q0.Judge(30_000, 10_000, 10).Outside); // or multiplied
        Assert.StartsWith("not judged", OutputExpectation.For("q7").Judge(0, 10_000, 10).Check); // a 10-s window need not close a 10-s window
        Assert.True(OutputExpectation.For("q7").Judge(0, 100_000, 120).Outside);
        Assert.StartsWith("not judged: no band", OutputExpectation.For("q3").Judge(0, 10_000, 120).Check);

        // The whole cell: good latency, but half the output missing.
        var rec = new LatencyRecorder();
        const long t0 = 1_764_504_000_000;
        for (var i = 0; i < 1000; i++) rec.Record(t0 + i, t0 + i - 20);
        var w = new WindowObservation { Start = DateTimeOffset.FromUnixTimeMilliseconds(t0), Seconds = 10, Produced1 = 4_600 };
        for (var s = 0; s <= 10; s++) w.Series.AddInputEnd(s, 1_000L * s);
        var r = new BenchmarkResult { Query = "q0", ClockOffsetMs = 0 };
        CellJudge.Fill(r, w, rec, Empty, EmptyUse, new CellJudge.Context { TargetRate = 1_000 });
        Assert.Equal(4_600, r.EventsOut);
        Assert.Equal("every bid: 0.92 per input event (±10 %)", r.ExpectedOutput);
        Assert.False(r.Valid);
        Assert.Contains("output outside the expected band: 4600 output records, expected 8280..10120", r.InvalidReason);
        Assert.InRange(r.LatencyP50Ms, 19, 21); // the latency itself looked fine
    }

    // ---- Issue 17 item 5: Arroyo's first answers are empty ----

    [Fact]
    public void OneEarlyEmptySample_DoesNotSwitchTheEnginesFiguresOff()
    {
        var t0 = DateTimeOffset.UtcNow;
        var empty = new StreamJobMetrics(new StreamJobHandle(StreamSystem.Arroyo, "pl", "q1"), Array.Empty<StreamOperatorMetric>()) { SampledAt = t0 };
        var series = new WarmupSeries();
        series.AddEngine(empty);      // the pipeline is still starting: no operators yet
        series.AddKafka(0);
        Assert.True(series.EngineUsable);
        for (var s = 1; s <= 3; s++) { series.AddEngine(Metrics(t0.AddSeconds(s), sourceRate: 400)); series.AddKafka(s == 3 ? 1200 : 0); }
        Assert.Equal("engine source rate", series.Name);
        Assert.Equal(new double[] { 400, 400, 400 }, series.Series);
        // Five unusable answers in a row do switch to Kafka; a usable one later switches back.
        for (var i = 0; i < WarmupSeries.GiveUpAfter; i++) series.EngineFailed();
        Assert.Equal("Kafka committed offsets", series.Name);
        series.AddEngine(Metrics(t0.AddSeconds(9), sourceRate: 400));
        Assert.True(series.EngineUsable);
    }

    [Fact]
    public void CachedCountersThatDidNotMove_AreNotAZeroRateSample()
    {
        var t0 = DateTimeOffset.UtcNow;
        var series = new WarmupSeries();
        series.AddEngine(Metrics(t0, sourceOut: 0));
        series.AddEngine(Metrics(t0.AddSeconds(1), sourceOut: 0));    // cache not refreshed yet
        series.AddEngine(Metrics(t0.AddSeconds(2), sourceOut: 800));  // refreshed: 800 over the 2 s since the last fresh value
        Assert.Equal(new double[] { 400 }, series.Series);
    }
}
