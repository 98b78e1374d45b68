using System.Globalization;
using PiBench.Core.Kafka;

namespace PiBench.Core.Benchmarking;

/// <summary>
/// The generator's own verdict on a cell, read at the window's end before the runner stops it (a stop by us is not its
/// failure): its final state when it ended, else its live schedule lag and rate against its bounds; and how many events
/// it sent when it completed its input within the window (-1 otherwise).
/// </summary>
internal readonly record struct GeneratorVerdict(bool? Ok, string Reason, long InputEndedAfterEvents)
{
    public static GeneratorVerdict Of(NexmarkGeneratorRun g, double maxLagP99Ms = 100, double minFraction = 0.995)
    {
        var (ok, reason) = Judge(g, maxLagP99Ms, minFraction);
        return new GeneratorVerdict(ok, reason, g.IsFinished && g.State == "Completed" ? g.Sent : -1);
    }

    private static (bool? Ok, string Reason) Judge(NexmarkGeneratorRun g, double maxLagP99Ms, double minFraction)
    {
        if (g.IsFinished) return g.State == "Completed" ? (true, "") : (false, g.InvalidReason);
        if (g.ScheduleLagP99Ms > maxLagP99Ms)
            return (false, string.Create(CultureInfo.InvariantCulture, $"p99 schedule lag {g.ScheduleLagP99Ms:0.#} ms > {maxLagP99Ms:0.#} ms"));
        if (g.TargetRate > 0 && g.AchievedRate < minFraction * g.TargetRate)
            return (false, string.Create(CultureInfo.InvariantCulture, $"achieved {g.AchievedRate:0.#} of {g.TargetRate:0.#} events/s"));
        return (true, "");
    }
}
