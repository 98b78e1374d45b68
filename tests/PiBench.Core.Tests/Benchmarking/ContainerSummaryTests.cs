using Xunit;
using PiBench.Core.Benchmarking;

namespace PiBench.Core.Tests.Benchmarking;

public sealed class ContainerSummaryTests
{
    private static ContainerMetricSample S(string node, string id, string system, DateTimeOffset t, double cores, double mem) => new()
    {
        Node = node, Container = "c-" + id, ContainerId = id, Service = "svc-" + id, System = system, Timestamp = t, IntervalSeconds = 1,
        CpuCoreSeconds = cores, CpuPercent = cores * 100, MemoryMB = mem,
    };

    [Fact]
    public void EngineFigures_OverTheWindowOnly_SharedServicesExcluded()
    {
        var t0 = DateTimeOffset.Parse("2026-11-30T12:00:00Z");
        var samples = new List<ContainerMetricSample>();
        for (var i = 1; i <= 10; i++)
        {
            samples.Add(S("pi2", "aaaaaaaaaaaa", "flink", t0.AddSeconds(i), 0.5, 100 + i));
            // pi3 samples 400 ms later than pi2: its readings still count with pi2's at pi2's times.
            samples.Add(S("pi3", "bbbbbbbbbbbb", "flink", t0.AddSeconds(i + 0.4), 0.25, 50));
            samples.Add(S("pi1", "cccccccccccc", "shared", t0.AddSeconds(i), 1.0, 900));
        }
        samples.Add(S("pi2", "aaaaaaaaaaaa", "flink", t0.AddSeconds(30), 4, 9999)); // outside the window
        var r = ContainerSummary.FromSamples(samples, t0, t0.AddSeconds(10.5), "Flink");
        Assert.Equal(10 * 0.5 + 10 * 0.25, r.EngineCpuCoreSeconds, 6);
        Assert.Equal(110 + 50, r.EngineMemoryPeakMB);
        Assert.Equal(3, r.Containers.Count);
        var kafka = r.Containers.Single(c => c.System == "shared");
        Assert.Equal(10, kafka.CpuCoreSeconds, 6);
        Assert.Equal(100, kafka.CpuPercent, 6);
        Assert.Equal(900, kafka.MemoryPeakMB);
        Assert.Equal(10, kafka.Samples);
        Assert.Equal("c-cccccccccccc", kafka.Container);
    }

    [Fact]
    public void WithoutEngineContainers_TheEngineFiguresAreNaN()
    {
        var t0 = DateTimeOffset.Parse("2026-11-30T12:00:00Z");
        Assert.True(double.IsNaN(ContainerSummary.FromSamples(Array.Empty<ContainerMetricSample>(), t0, t0.AddSeconds(10), "Arroyo").EngineCpuCoreSeconds));
        var anon = new[] { S("pi1", "dddddddddddd", "", t0.AddSeconds(1), 1, 10) }; // Docker API unreachable: no labels
        var r = ContainerSummary.FromSamples(anon, t0, t0.AddSeconds(10), "Arroyo");
        Assert.True(double.IsNaN(r.EngineCpuCoreSeconds));
        Assert.True(double.IsNaN(r.EngineMemoryPeakMB));
        Assert.Single(r.Containers);
    }

    [Fact]
    public void Resume_DropsContainerRowsOfCellsMeasuredAgain()
    {
        var doc = new BenchmarkRunDocument();
        doc.Results.Add(new BenchmarkResult { Query = "q1", Repetition = 1, Status = "Completed" });
        doc.Containers.Add(new ContainerUsage { Query = "q1", Repetition = 1 });
        doc.Containers.Add(new ContainerUsage { Query = "q1", Repetition = 2 }); // its result was Failed and removed
        doc.PruneContainers();
        Assert.Equal(1, Assert.Single(doc.Containers).Repetition);
    }
}
