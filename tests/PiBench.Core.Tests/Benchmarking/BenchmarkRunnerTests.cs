using PiBench.Core.Benchmarking;
using PiBench.Core.Engines;
using PiBench.Core.Kafka;
using Xunit;

namespace PiBench.Core.Tests.Benchmarking;

/// <summary>The whole measurement path on loopback: embedded Kafka, the generator, an engine stand-in that really consumes and produces.</summary>
[Collection("kafka")]
public sealed class BenchmarkRunnerTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private const int DelayMs = 300;

    private static BenchmarkPlan Plan(ConsumingEngineStandIn standIn, string bootstrap, string dir, int reps, string? resume = null) => new()
    {
        Engine = new StreamEngineSettings
        {
            System = StreamSystem.Arroyo, EngineUri = standIn.Engine.ApiUri, AuxiliaryUri = standIn.Engine.AdminUri,
            PollInterval = TimeSpan.FromMilliseconds(100),
        },
        Queries = new[] { "q0" }, Repetitions = reps, EventsPerSecond = 400, TotalEvents = 1_000_000, Parallelism = 2, Partitions = 2,
        WarmupSeconds = 2, MeasureSeconds = 4, FixedWarmup = true, Seed = 42, BootstrapServers = bootstrap, OutputDirectory = dir, ResumePath = resume,
        EngineVersion = "stand-in",
    };

    [Fact]
    public async Task MeasuresAKnownDelay_WritesFiles_AndResumeSkipsCompletedCells()
    {
        var dir = Path.Combine(Path.GetTempPath(), $"pibench-bench-{Guid.NewGuid():N}");
        using var cluster = EmbeddedKafkaCluster.Start(1);
        using var standIn = new ConsumingEngineStandIn(cluster.BootstrapServers) { AddedDelayMs = DelayMs };
        try
        {
            var seen = new List<BenchmarkResult>();
            var runner = new BenchmarkRunner(Plan(standIn, cluster.BootstrapServers, dir, 2));
            await runner.RunAsync(seen.Add, CancellationToken.None);
            Assert.Equal(2, seen.Count);
            foreach (var r in seen)
            {
                output.WriteLine($"rep {r.Repetition}: rates {r.RateSource}; check {r.RateCheck}");
                output.WriteLine($"rep {r.Repetition}: broker in {r.BrokerInputRate}/s ({r.BrokerInputEvents}), client queue {r.ClientQueueGrowth}/s, engine in {r.EngineInputRate}/s, input error ±{r.InputRateError}; output {r.OutputCheck}; clock {r.ClockCheck}; negative {r.NegativeLatencies}");
                output.WriteLine($"rep {r.Repetition}: in {r.InputRate}/s out {r.OutputRate}/s p50 {r.LatencyP50Ms} p99 {r.LatencyP99Ms} p99.9 {r.LatencyP999Ms} max {r.LatencyMaxMs} ms, window {r.DurationS} s, valid {r.Valid} {r.InvalidReason}");
                Assert.Equal("Completed", r.Status);
                Assert.True(r.Valid, r.InvalidReason);
                Assert.InRange(r.LatencyP50Ms, DelayMs - 1, DelayMs + 250);
                Assert.InRange(r.LatencyP99Ms, r.LatencyP50Ms, DelayMs + 1000);
                Assert.InRange(r.EngineInputRate, 400 * 0.7, 400 * 1.3); // the engine's own (smoothed) figure, a cross-check ...
                Assert.InRange(r.KafkaInputRate, 400 * 0.7, 400 * 1.3);  // ... and Kafka's committed offsets, the figure
                Assert.Equal(r.KafkaInputRate, r.InputRate);
                Assert.StartsWith("input: Kafka committed offsets", r.RateSource); // Arroyo reports smoothed rates, no counters
                Assert.Contains("engine smoothed rate", r.RateSource);
                Assert.InRange(r.BrokerInputRate, 400 * 0.98, 400 * 1.02); // the broker took the load in (the gate, with its slack, judged it)
                Assert.Equal("same host (loopback broker): one clock", r.ClockCheck);
                Assert.Equal(0, r.ClockOffsetMs);
                Assert.StartsWith("ok: ", r.OutputCheck);
                Assert.Equal(0, r.NegativeLatencies);
                Assert.EndsWith(".hlog", r.HistogramFile);
                Assert.Equal("event time of the bid", r.LatencyReference);
                Assert.Contains("input engine ", r.RateCheck);
                Assert.True(r.EventsOut > 0);
                Assert.InRange(r.DurationS, 3.5, 10);
                // The stand-in computes q0 its own way (bid JSON in, {auction, bidder, price, datetime} out): every row matches the reference.
                Assert.True(r.ResultCheck == "Correct", $"{r.ResultCheck}: {r.ResultCheckReason}");
                Assert.True(r.ExpectedRows > 0 && r.ExpectedRows == r.ReceivedRows, $"{r.ExpectedRows} expected, {r.ReceivedRows} received");
            }
            Assert.True(File.Exists(runner.TextPath));
            Assert.Contains("q0 ", File.ReadAllText(runner.TextPath));
            Assert.Equal(2, Directory.GetFiles(dir, "*.hlog").Length);
            var doc = ResultsFiles.Read(runner.JsonPath);
            Assert.Equal("Completed", doc.State);
            Assert.Equal(2, doc.Results.Count);
            // The summary percentiles come from the two repetitions' merged .hlog histograms.
            var p50 = doc.Summaries.Single(f => f.Figure == "LatencyP50Ms");
            output.WriteLine($"merged p50 {p50.Value} [{p50.CiLow}, {p50.CiHigh}] {p50.Method}; headline p99 {doc.Headlines.Single().LatencyP99Ms}");
            Assert.Equal(2, p50.Count);
            Assert.InRange(p50.Value, DelayMs - 1, DelayMs + 250);
            Assert.Equal(2, doc.Headlines.Single().ValidRepetitions);

            // Resume with three repetitions: only the third one runs.
            var resumed = new List<BenchmarkResult>();
            var again = new BenchmarkRunner(Plan(standIn, cluster.BootstrapServers, dir, 3, resume: runner.JsonPath));
            await again.RunAsync(resumed.Add, CancellationToken.None);
            Assert.Equal(new[] { 3 }, resumed.Select(r => r.Repetition));
            Assert.Equal(runner.JsonPath, again.JsonPath);
            Assert.Equal(new[] { 1, 2, 3 }, ResultsFiles.Read(runner.JsonPath).Results.Select(r => r.Repetition).Order());
        }
        finally { if (Directory.Exists(dir)) Directory.Delete(dir, true); }
    }

    [Fact]
    public async Task AnEngineThatDropsResults_IsCaughtByTheAnswersCheck_AndTheCellIsInvalid()
    {
        var dir = Path.Combine(Path.GetTempPath(), $"pibench-bench-{Guid.NewGuid():N}");
        using var cluster = EmbeddedKafkaCluster.Start(1);
        using var standIn = new ConsumingEngineStandIn(cluster.BootstrapServers) { DropEveryNth = 50 };
        try
        {
            var seen = new List<BenchmarkResult>();
            var runner = new BenchmarkRunner(Plan(standIn, cluster.BootstrapServers, dir, 1));
            await runner.RunAsync(seen.Add, CancellationToken.None);
            var r = Assert.Single(seen);
            output.WriteLine($"{r.ResultCheck}: {r.ResultCheckReason}; valid {r.Valid} {r.InvalidReason}");
            Assert.Equal("Incorrect", r.ResultCheck);
            Assert.True(r.MissingRows > 0 && r.ExtraRows == 0 && r.MismatchedRows == 0, r.ResultCheckReason);
            Assert.InRange(r.MissingRows, r.ExpectedRows / 50 - 1, r.ExpectedRows / 50 + 1); // every 50th of the bids
            Assert.False(r.Valid);
            Assert.Contains("wrong answers", r.InvalidReason);
            var cell = ResultsFiles.Read(runner.JsonPath).Results.Single();
            Assert.Equal(("Incorrect", r.MissingRows), (cell.ResultCheck, cell.MissingRows));
        }
        finally { if (Directory.Exists(dir)) Directory.Delete(dir, true); }
    }

    [Fact]
    public async Task Cancellation_StopsTheQuery_KeepsWhatWasMeasured_AndMarksTheRestNotRun()
    {
        var dir = Path.Combine(Path.GetTempPath(), $"pibench-bench-{Guid.NewGuid():N}");
        using var cluster = EmbeddedKafkaCluster.Start(1);
        using var standIn = new ConsumingEngineStandIn(cluster.BootstrapServers) { AddedDelayMs = 50 };
        try
        {
            using var cts = new CancellationTokenSource();
            var seen = new List<BenchmarkResult>();
            var runner = new BenchmarkRunner(Plan(standIn, cluster.BootstrapServers, dir, 3));
            // Cancel while the second repetition runs.
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => runner.RunAsync(r => { seen.Add(r); cts.CancelAfter(3000); }, cts.Token));
            Assert.Single(seen);
            var doc = ResultsFiles.Read(runner.JsonPath);
            Assert.Equal("Stopped", doc.State);
            Assert.Equal(new[] { "Completed", "Stopped", "NotRun" }, doc.Results.OrderBy(r => r.Repetition).Select(r => r.Status));
            // The engine was told to stop every pipeline.
            Assert.All(standIn.Engine.Pipelines, p => Assert.NotEqual("none", p.Stop));
        }
        finally { if (Directory.Exists(dir)) Directory.Delete(dir, true); }
    }

    [Fact]
    public async Task SustainableMode_FindsTheCapacityOfAnEngine_OnBrokerStampedTopics_ThatAreDeletedAfterEachStep()
    {
        // The stand-in takes at most 250 events/s. Steps: 200 (pass), 400 (fail: the backlog grows by 150 events/s),
        // then 300: within a 4 s window its backlog grows by less than one second of load, too little for the gate, but
        // its input rate (~250/s) is below 90 % of the target, so it fails too and the search ends at the 40 % resolution.
        var dir = Path.Combine(Path.GetTempPath(), $"pibench-sust-{Guid.NewGuid():N}");
        using var cluster = EmbeddedKafkaCluster.Start(1);
        using var standIn = new ConsumingEngineStandIn(cluster.BootstrapServers) { AddedDelayMs = 20, MaxEventsPerSecond = 250 };
        try
        {
            var plan = Plan(standIn, cluster.BootstrapServers, dir, 1);
            var runner = new BenchmarkRunner(new BenchmarkPlan
            {
                Engine = plan.Engine, Queries = plan.Queries, Repetitions = 1, EventsPerSecond = 200, Parallelism = 2, Partitions = 2,
                // A 2-s warm-up: the stand-in's rate meter (like Arroyo's smoothed rates) then covers only loaded time at the window's start.
                WarmupSeconds = 2, MeasureSeconds = 4, FixedWarmup = true, Seed = 7, BootstrapServers = cluster.BootstrapServers, OutputDirectory = dir,
                Mode = "Sustainable", Search = new SustainableSearchOptions { StartRate = 200, MaxRate = 1600, Resolution = 0.4, MaxSteps = 4 },
            });
            var fixedResults = new List<BenchmarkResult>();
            var searches = new List<SustainableThroughputResult>();
            await runner.RunAsync(fixedResults.Add, CancellationToken.None, searches.Add);
            Assert.Empty(fixedResults); // the pipeline gets searches, not steps
            var s = Assert.Single(searches);
            var doc = ResultsFiles.Read(runner.JsonPath);
            foreach (var step in doc.Results)
                output.WriteLine($"step {step.Step} at {step.TargetRate}/s: in {step.InputRate}/s kafka {step.KafkaInputRate}/s check {step.RateCheck} valid {step.Valid} {step.InvalidReason} clock {step.LatencyClock}");
            output.WriteLine($"{s.StepRates} -> {s.SustainableRate} ({s.LimitedBy})");
            Assert.Equal("Completed", s.Status);
            Assert.Equal("Engine", s.LimitedBy);
            Assert.StartsWith("200:pass 400:fail", s.StepRates);
            Assert.Equal(200, s.SustainableTargetRate);
            // what the broker took in at that step: end-offset growth between reads about 1 s apart in the 4-s window, so one
            // 20-ms linger batch (4 events at 200/s) more or less at either read moves it by up to 8 events / 3 s = 2.7/s
            Assert.InRange(s.SustainableRate, 197, 203);
            Assert.StartsWith("broker input rate of step ", s.RateBasis);
            Assert.False(s.IsLowerBound);
            Assert.Equal(300, s.FailingRate);
            Assert.InRange(s.InputRate, 180, 220);
            Assert.Contains("is below 90 % of the target 300 events/s", s.Reason);
            Assert.Contains("consumer lag unbounded", doc.Results[1].InvalidReason);

            Assert.Equal("Sustainable", doc.Mode);
            Assert.Equal(s.Steps, doc.Results.Count);
            Assert.Equal(Enumerable.Range(1, s.Steps), doc.Results.Select(r => r.Step));
            Assert.Contains(doc.Summaries, f => f.Figure == "SustainableRate" && f.Query == "q0");
            var text = File.ReadAllText(runner.TextPath);
            Assert.Contains("Sustainable throughput", text);
            Assert.Equal(s.Steps, Directory.GetFiles(dir, "*_s*.hlog").Length);

            // Every step had its own topics, requested on the broker's clock, and dropped once measured.
            var topics = standIn.Engine.Pipelines.SelectMany(p => System.Text.RegularExpressions.Regex.Matches(p.Query, @"topic'?\s*=\s*'([^']+)'")
                .Select(m => m.Groups[1].Value)).Distinct().ToList();
            Assert.Equal(2 * s.Steps, topics.Count);
            using var admin = KafkaTopicAdmin.Open(cluster.BootstrapServers);
            foreach (var t in topics)
            {
                Assert.Equal("LogAppendTime", cluster.RequestedConfigs(t)["message.timestamp.type"]);
                Assert.Null(await admin.DescribeTopicAsync(t, CancellationToken.None));
            }
            // The mock keeps CreateTime stamps, and the results say so.
            Assert.All(doc.Results, r => Assert.StartsWith("producer (CreateTime; the embedded mock", r.LatencyClock));
        }
        finally { if (Directory.Exists(dir)) Directory.Delete(dir, true); }
    }

    [Fact]
    public async Task TheWindowOpens_WhenTheEnginesSourceRateIsSteady()
    {
        var dir = Path.Combine(Path.GetTempPath(), $"pibench-steady-{Guid.NewGuid():N}");
        using var cluster = EmbeddedKafkaCluster.Start(1);
        using var standIn = new ConsumingEngineStandIn(cluster.BootstrapServers) { AddedDelayMs = 20 };
        try
        {
            var plan = Plan(standIn, cluster.BootstrapServers, dir, 1);
            var seen = new List<BenchmarkResult>();
            await new BenchmarkRunner(new BenchmarkPlan
            {
                Engine = plan.Engine, Queries = plan.Queries, Repetitions = 1, EventsPerSecond = 400, TotalEvents = 100_000, Parallelism = 2, Partitions = 2,
                WarmupSeconds = 25, MeasureSeconds = 2, FixedWarmup = false, BootstrapServers = cluster.BootstrapServers, OutputDirectory = dir,
            }).RunAsync(seen.Add, CancellationToken.None);
            var r = Assert.Single(seen);
            output.WriteLine($"{r.SteadyState}; warm-up {r.WarmupS} s");
            // Five-sample windows need ten samples before the first verdict: at least 10 s.
            Assert.StartsWith("detected after ", r.SteadyState);
            Assert.EndsWith("(engine source rate)", r.SteadyState);
            Assert.InRange(r.WarmupS, 10, 24);
        }
        finally { if (Directory.Exists(dir)) Directory.Delete(dir, true); }
    }

    [Fact]
    public async Task AnEngineThatRejectsTheLatencyVariant_RunsThePlainQuery_AndSaysLatencyIsNotMeasured()
    {
        var dir = Path.Combine(Path.GetTempPath(), $"pibench-variant-{Guid.NewGuid():N}");
        using var cluster = EmbeddedKafkaCluster.Start(1);
        using var standIn = new ConsumingEngineStandIn(cluster.BootstrapServers) { AddedDelayMs = 20 };
        standIn.Engine.RejectQueryContaining = "latency_ts";
        try
        {
            var plan = Plan(standIn, cluster.BootstrapServers, dir, 1);
            var seen = new List<BenchmarkResult>();
            var log = new ListLog();
            await new BenchmarkRunner(new BenchmarkPlan
            {
                Engine = plan.Engine, Queries = new[] { "q2" }, Repetitions = 1, EventsPerSecond = 200, TotalEvents = 100_000, Parallelism = 2, Partitions = 2,
                WarmupSeconds = 1, MeasureSeconds = 2, FixedWarmup = true, BootstrapServers = cluster.BootstrapServers, OutputDirectory = dir,
            }, log: log).RunAsync(seen.Add, CancellationToken.None);
            var r = Assert.Single(seen);
            Assert.Equal("Completed", r.Status);
            Assert.Equal("none: the engine rejected the latency variant", r.LatencyReference);
            var p = Assert.Single(standIn.Engine.Pipelines); // validation refused the variant; only the plain query was created
            Assert.DoesNotContain("latency_ts", p.Query);
            Assert.Contains(log.Warnings, w => w.Contains("rejected the latency variant"));
        }
        finally { if (Directory.Exists(dir)) Directory.Delete(dir, true); }
    }

    [Fact]
    public async Task ABrokerThatIngestsBelowTheTarget_MakesTheCellInvalid_ThoughTheGeneratorHandsOffOnTime()
    {
        // The broker refuses every produce request for several seconds (retriable errors: the client retries with
        // back-off and keeps queueing), so it appends nothing during the window while the generator hands every event
        // to the client on schedule. The engine has nothing to read, so its lag stays flat: only the broker-side
        // input shows that the load never arrived.
        var dir = Path.Combine(Path.GetTempPath(), $"pibench-brokerslow-{Guid.NewGuid():N}");
        using var cluster = EmbeddedKafkaCluster.Start(1);
        using var standIn = new ConsumingEngineStandIn(cluster.BootstrapServers) { AddedDelayMs = 20 };
        try
        {
            var plan = Plan(standIn, cluster.BootstrapServers, dir, 1);
            cluster.PushRequestErrors(0, Enumerable.Repeat(Confluent.Kafka.ErrorCode.NotEnoughReplicas, 12).ToArray()); // ApiKey 0 = Produce
            var seen = new List<BenchmarkResult>();
            await new BenchmarkRunner(new BenchmarkPlan
            {
                Engine = plan.Engine, Queries = plan.Queries, Repetitions = 1, EventsPerSecond = 600, TotalEvents = 100_000, Parallelism = 1, Partitions = 1,
                WarmupSeconds = 1, MeasureSeconds = 4, FixedWarmup = true, BootstrapServers = cluster.BootstrapServers, OutputDirectory = dir,
            }).RunAsync(seen.Add, CancellationToken.None);
            var r = Assert.Single(seen);
            output.WriteLine($"broker {r.BrokerInputRate}/s ({r.BrokerInputEvents}), queue {r.ClientQueueGrowth}/s, valid {r.Valid}: {r.InvalidReason}");
            Assert.Equal("Completed", r.Status);
            Assert.False(r.Valid);
            Assert.Contains("broker ingested ", r.InvalidReason);
            Assert.Contains("below 99.5 % of the target 600 events/s", r.InvalidReason);
            Assert.Contains("generator's client queue grew by ", r.InvalidReason);
            Assert.DoesNotContain("generator fell behind", r.InvalidReason); // it judged itself at hand-off, and was on time
            Assert.True(r.ClientQueueGrowth > 300, $"client queue growth {r.ClientQueueGrowth}");
        }
        finally { if (Directory.Exists(dir)) Directory.Delete(dir, true); }
    }

    private sealed class ListLog : ILogSink
    {
        public List<string> Warnings { get; } = new();
        public void Verbose(string message) { }
        public void Warning(string message) { lock (Warnings) Warnings.Add(message); }
    }
}
