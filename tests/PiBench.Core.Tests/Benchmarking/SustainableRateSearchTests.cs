using PiBench.Core.Benchmarking;
using Xunit;

namespace PiBench.Core.Tests.Benchmarking;

/// <summary>The step search on its own: a model engine with a known capacity stands in for the measurements.</summary>
public sealed class SustainableRateSearchTests
{
    /// <summary>A step as the gate would judge it for an engine that keeps up to <paramref name="capacity"/> events/s.</summary>
    private static Func<double, int, CancellationToken, Task<BenchmarkResult>> Engine(double capacity, List<double>? rates = null,
        Func<double, BenchmarkResult, BenchmarkResult>? tweak = null) => (rate, step, _) =>
    {
        rates?.Add(rate);
        var r = new BenchmarkResult
        {
            Query = "q1", Step = step, TargetRate = rate, Status = "Completed", Valid = rate <= capacity,
            InvalidReason = rate <= capacity ? "" : "consumer lag unbounded (+123 events/s, limit 4)",
            InputRate = Math.Min(rate, capacity), LatencyP99Ms = rate / 100,
        };
        return Task.FromResult(tweak?.Invoke(rate, r) ?? r);
    };

    private static Task<SustainableThroughputResult> Search(SustainableSearchOptions o, Func<double, int, CancellationToken, Task<BenchmarkResult>> measure,
        List<BenchmarkResult>? steps = null, CancellationToken ct = default) =>
        SustainableRateSearch.RunAsync(o, new SustainableThroughputResult { Query = "q1" }, measure, s => steps?.Add(s), ct);

    [Fact]
    public async Task StepsUp_ThenBisects_ToTheResolution()
    {
        var rates = new List<double>();
        var steps = new List<BenchmarkResult>();
        var r = await Search(new SustainableSearchOptions { StartRate = 10_000, MaxRate = 160_000, Resolution = 0.05 }, Engine(25_000, rates), steps);
        Assert.Equal(new double[] { 10_000, 20_000, 40_000, 30_000, 25_000, 27_500, 26_250 }, rates);
        Assert.Equal("Completed", r.Status);
        Assert.Equal(25_000, r.SustainableRate);
        Assert.Equal(26_250, r.FailingRate);
        Assert.Equal("Engine", r.LimitedBy);
        Assert.Contains("consumer lag unbounded", r.Reason);
        Assert.Equal(7, r.Steps);
        Assert.Equal("10000:pass 20000:pass 40000:fail 30000:fail 25000:pass 27500:fail 26250:fail", r.StepRates);
        Assert.Equal(25_000, r.InputRate); // the figures are the sustainable step's
        Assert.Equal(new[] { 1, 2, 3, 4, 5, 6, 7 }, steps.Select(s => s.Step));
        Assert.True((r.FailingRate - r.SustainableRate) / r.FailingRate <= 0.05);
    }

    [Fact]
    public async Task AStartRateThatFails_BisectsDownward()
    {
        var r = await Search(new SustainableSearchOptions { StartRate = 10_000, MaxRate = 10_000, Resolution = 0.1 }, Engine(3_000));
        Assert.InRange(r.SustainableRate, 2_700, 3_000);
        Assert.InRange(r.FailingRate, 3_001, 3_334);
        Assert.StartsWith("10000:fail 5000:fail 2500:pass", r.StepRates);
    }

    [Fact]
    public async Task EveryStepPassing_StopsAtTheHighestRate()
    {
        var r = await Search(new SustainableSearchOptions { StartRate = 10_000, MaxRate = 100_000 }, Engine(1e9));
        Assert.Equal("10000:pass 20000:pass 40000:pass 80000:pass 100000:pass", r.StepRates);
        Assert.Equal(100_000, r.SustainableRate);
        Assert.True(double.IsNaN(r.FailingRate));
        Assert.Equal("MaxRate", r.LimitedBy);
    }

    [Fact]
    public async Task AGeneratorThatFallsBehind_EndsTheSearch_WithoutBlamingTheEngine()
    {
        var r = await Search(new SustainableSearchOptions { StartRate = 10_000, MaxRate = 160_000 }, Engine(1e9, tweak: (rate, s) =>
        {
            if (rate >= 40_000) { s.Valid = false; s.InvalidReason = "generator fell behind (p99 schedule lag 250 ms > 100 ms)"; }
            return s;
        }));
        Assert.Equal("10000:pass 20000:pass 40000:fail", r.StepRates);
        Assert.Equal(20_000, r.SustainableRate);
        Assert.Equal("Generator", r.LimitedBy);
        Assert.Equal("Completed", r.Status);
    }

    [Fact]
    public async Task AThrottledStep_CountsAsFailing_AndSaysSo()
    {
        var r = await Search(new SustainableSearchOptions { StartRate = 1_000, MaxRate = 8_000, Resolution = 0.3 }, Engine(1e9, tweak: (rate, s) =>
        {
            if (rate > 2_000) { s.Valid = false; s.InvalidReason = "node throttled: pi3"; }
            return s;
        }));
        Assert.Equal("Throttling", r.LimitedBy);
        Assert.Equal(2_000, r.SustainableRate);
        Assert.Equal("1000:pass 2000:pass 4000:fail 3000:fail 2500:fail", r.StepRates);
        Assert.Equal(2_500, r.FailingRate);
    }

    [Fact]
    public async Task AStepThatCouldNotBeJudged_EndsTheSearch_AsAMeasurementProblem()
    {
        var r = await Search(new SustainableSearchOptions { StartRate = 1_000, MaxRate = 8_000 }, Engine(1e9, tweak: (rate, s) =>
        {
            if (rate >= 2_000) { s.Valid = false; s.InvalidReason = "consumer lag not judged: with offsets committed every 30 s (checkpoints) the window needs at least 62 s; measure longer"; }
            return s;
        }));
        Assert.Equal("1000:pass 2000:fail", r.StepRates);
        Assert.Equal("Measurement", r.LimitedBy);
        Assert.Equal(1_000, r.SustainableRate);
    }

    [Fact]
    public async Task ALatencyObjective_FailsStepsAboveIt()
    {
        // p99 = rate / 100 ms in the model engine: 300 ms is reached at 30,000 events/s.
        var r = await Search(new SustainableSearchOptions { StartRate = 10_000, MaxRate = 160_000, LatencySloMs = 300, Resolution = 0.02 }, Engine(1e9));
        Assert.Equal("LatencySlo", r.LimitedBy);
        Assert.InRange(r.SustainableRate, 29_400, 30_000);
        Assert.True(r.LatencyP99Ms <= 300);
    }

    [Fact]
    public async Task AFailedStep_EndsTheSearchAsFailed()
    {
        var r = await Search(new SustainableSearchOptions { StartRate = 100, MaxRate = 1_000 }, Engine(1e9, tweak: (rate, s) =>
        {
            if (rate >= 200) { s.Status = "Failed"; s.Valid = false; s.InvalidReason = "EngineSqlError: bad SQL"; }
            return s;
        }));
        Assert.Equal("Failed", r.Status);
        Assert.Equal(100, r.SustainableRate);
        Assert.Equal("EngineSqlError: bad SQL", r.Reason);
    }

    [Fact]
    public async Task TheStepBudget_BoundsTheSearch()
    {
        var r = await Search(new SustainableSearchOptions { StartRate = 1, MaxRate = 1e6, MaxSteps = 3 }, Engine(1e9));
        Assert.Equal(3, r.Steps);
        Assert.Equal("Steps", r.LimitedBy);
        Assert.Equal(4, r.SustainableRate);
    }

    [Fact]
    public async Task Cancellation_KeepsWhatWasFound()
    {
        using var cts = new CancellationTokenSource();
        var summary = new SustainableThroughputResult { Query = "q1" };
        var measure = Engine(1e9);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => SustainableRateSearch.RunAsync(
            new SustainableSearchOptions { StartRate = 100, MaxRate = 10_000 }, summary, async (rate, step, ct) =>
            {
                if (step == 3) { cts.Cancel(); ct.ThrowIfCancellationRequested(); }
                return await measure(rate, step, ct);
            }, null, cts.Token));
        Assert.Equal("Stopped", summary.Status);
        Assert.Equal(200, summary.SustainableRate);
        Assert.Equal(3, summary.Steps); // the third step was begun, not finished
        Assert.Equal("100:pass 200:pass", summary.StepRates);
    }

    [Fact]
    public async Task AStepThatThrows_LeavesAFailedSummary_WithTheReason()
    {
        var summary = new SustainableThroughputResult { Query = "q1" };
        var measure = Engine(1e9);
        var ex = await Assert.ThrowsAsync<PiBenchException>(() => SustainableRateSearch.RunAsync(
            new SustainableSearchOptions { StartRate = 100, MaxRate = 10_000 }, summary, async (rate, step, ct) =>
            {
                if (step == 2) throw new PiBenchException("KafkaUnreachable", PiBenchErrorCategory.ConnectionError, "Kafka did not answer.", "t");
                return await measure(rate, step, ct);
            }, null, CancellationToken.None));
        Assert.Equal("Failed", summary.Status);
        Assert.Equal("Kafka did not answer.", summary.Reason);
        Assert.Equal(100, summary.SustainableRate);
    }

    [Theory]
    [InlineData(0, 10, 2, 0.05, 1)]
    [InlineData(100, 50, 2, 0.05, 1)]
    [InlineData(100, 200, 1, 0.05, 1)]
    [InlineData(100, 200, 2, 0, 1)]
    [InlineData(100, 200, 2, 0.05, 0)]
    public void BadSettings_AreRefusedWithAStableErrorId(double start, double max, double factor, double resolution, int steps)
    {
        var ex = Assert.Throws<PiBenchException>(() => new SustainableSearchOptions
        {
            StartRate = start, MaxRate = max, StepFactor = factor, Resolution = resolution, MaxSteps = steps,
        }.Validate());
        Assert.Equal("InvalidSustainableSearch", ex.ErrorId);
        Assert.Equal(PiBenchErrorCategory.InvalidArgument, ex.Category);
        Assert.NotNull(ex.RecommendedAction);
    }
}
