using Xunit;
using PiBench.Core.Reporting;

namespace PiBench.Core.Tests.Reporting;

public sealed class ComparisonTests
{
    [Fact]
    public void ClearDifference_IsSignificant_ByWelchsTTest()
    {
        // Means 100 and 110, sd 1 on both sides, n = 3: t = 10 / sqrt(1/3 + 1/3) = 12.247, df = 4, t crit = 2.776.
        var c = BenchmarkComparer.Judge("q1", "InputRate", "events/s", new[] { 99.0, 100, 101 }, new[] { 109.0, 110, 111 });
        Assert.True(c.Significant);
        Assert.Equal(">", c.SideIndicator);
        Assert.Equal(12.247, c.TStatistic, 3);
        Assert.Equal(4, c.DegreesOfFreedom, 6);
        Assert.Equal(1.1, c.Ratio, 9);
        Assert.Contains("2.776", c.Test);
    }

    [Fact]
    public void DifferenceWithinTheSpread_IsNotSignificant()
    {
        var c = BenchmarkComparer.Judge("q1", "LatencyP99Ms", "ms", new[] { 100.0, 105, 95 }, new[] { 101.0, 96, 106 });
        Assert.False(c.Significant);
        Assert.Equal("==", c.SideIndicator);
    }

    [Fact]
    public void OneRepetition_IsNotDecided_AndSaysWhy()
    {
        var c = BenchmarkComparer.Judge("q1", "InputRate", "events/s", new[] { 100.0 }, new[] { 200.0, 210 });
        Assert.Null(c.Significant);
        Assert.Equal("?", c.SideIndicator);
        Assert.Contains("at least 2", c.Test);
        Assert.Equal(2.05, c.Ratio, 9);
        var only = BenchmarkComparer.Judge("q4", "InputRate", "events/s", Array.Empty<double>(), new[] { 200.0, 210 });
        Assert.Equal("=>", only.SideIndicator);
        Assert.True(double.IsNaN(only.Ratio));
    }

    [Fact]
    public void Files_AreComparedOverValidRepetitions_WithLatencyFromTheirHistograms()
    {
        var dir = Path.Combine(Path.GetTempPath(), $"pibench-compare-{Guid.NewGuid():N}");
        try
        {
            var t0 = new DateTimeOffset(2026, 11, 30, 22, 0, 0, TimeSpan.Zero);
            var a = ReportFixtures.WriteFixedRun(Path.Combine(dir, "a"), "Arroyo", t0, 3, 1.0, 1, invalidRep: 2);
            var f = ReportFixtures.WriteFixedRun(Path.Combine(dir, "f"), "Flink", t0.AddHours(1), 3, 1.1, 2);
            var list = BenchmarkComparer.Compare(new[] { ResultsReader.Read(a.JsonPath) }, new[] { ResultsReader.Read(f.JsonPath) });
            var input = list.Single(c => c.Query == "q1" && c.Figure == "InputRate");
            Assert.Equal(2, input.ReferenceCount); // repetition 2 was invalid
            Assert.Equal(3, input.DifferenceCount);
            var aValid = a.Document.Results.Where(r => r.Query == "q1" && r.Valid).Select(r => r.InputRate).Average();
            var fValid = f.Document.Results.Where(r => r.Query == "q1" && r.Valid).Select(r => r.InputRate).Average();
            Assert.Equal(aValid, input.ReferenceValue, 9);
            Assert.Equal(fValid / aValid, input.Ratio, 9);
            Assert.True(input.Significant); // 10 % apart with 2 % spread
            Assert.Equal(">", input.SideIndicator);
            var p99 = list.Single(c => c.Query == "q1" && c.Figure == "LatencyP99Ms");
            Assert.True(p99.Significant); // Arroyo's fixture latencies are 1.6 x Flink's
            Assert.Equal("<", p99.SideIndicator);
            Assert.Equal("Arroyo", p99.ReferenceSystem);
            Assert.Equal("Flink", p99.DifferenceSystem);
            Assert.DoesNotContain(list, c => c.Figure == "SustainableRate"); // neither side searched
            // Same property set on every object (Export-Csv).
            Assert.Equal(9 * 0 + list.Count, list.Select(c => c.GetType()).Count());
        }
        finally { if (Directory.Exists(dir)) Directory.Delete(dir, true); }
    }
}
