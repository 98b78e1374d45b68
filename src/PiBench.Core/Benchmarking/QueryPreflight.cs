using PiBench.Core.Engines;

namespace PiBench.Core.Benchmarking;

/// <summary>
/// Invoke-Benchmark's check before its first cell: every query of the plan, rendered as the cells will submit it (a Kafka
/// result sink and, where the query has one, its latency variant), is checked on the engine without starting a job
/// (<see cref="IStreamEngine.ValidateAsync"/>). A query the engine rejects stops the run before anything is measured
/// (ErrorId <see cref="RejectedErrorId"/>); one whose latency variant alone is rejected runs without a latency figure, as the
/// runner does on submission (warning).
/// </summary>
public static class QueryPreflight
{
    /// <summary>The ErrorId of a benchmark refused because the engine rejects one of its queries.</summary>
    public const string RejectedErrorId = "BenchmarkQueryRejected";

    /// <summary>Checks the plan's queries that still have cells to run (-Resume: those of <paramref name="document"/> not completed).</summary>
    public static async Task<IReadOnlyList<NexmarkQueryValidation>> CheckAsync(IStreamEngine engine, BenchmarkPlan plan, BenchmarkRunDocument? document, ILogSink? log, CancellationToken cancellationToken)
    {
        var done = document is null ? [] : plan.Sustainable
            ? document.Searches.Where(s => s.Status == "Completed").Select(s => s.Key).ToHashSet(StringComparer.Ordinal)
            : document.CompletedKeys();
        var system = plan.Engine.System.ToString().ToLowerInvariant();
        var checks = new List<NexmarkQueryValidation>();
        foreach (var name in plan.Queries.Distinct(StringComparer.OrdinalIgnoreCase))
        {
            if (Enumerable.Range(1, plan.Repetitions).All(r => done.Contains($"{system}|{name.ToLowerInvariant()}|{r}"))) continue;
            var query = NexmarkQueryCatalog.Default.Get(name, plan.Engine.System);
            if (!query.Supported) continue; // refused earlier with QueryUnsupported
            var options = new NexmarkRenderOptions
            {
                BootstrapServers = plan.BootstrapServers, Topic = "pibench-preflight-in", GroupId = "pibench-preflight", Parallelism = plan.Parallelism,
                ResultTopic = "pibench-preflight-out", LatencyVariant = true,
            };
            var check = await NexmarkQueryValidation.CheckAsync(engine, query, options, cancellationToken).ConfigureAwait(false);
            if (!check.Valid && check.Variant == "latency")
            {
                var plain = await NexmarkQueryValidation.CheckAsync(engine, query, options with { LatencyVariant = false }, cancellationToken).ConfigureAwait(false);
                if (plain.Valid)
                    log?.Warning($"{query.Name}: {query.System} rejects the latency variant ({check.Message}); it runs without a latency figure.");
                check = plain;
            }
            checks.Add(check);
            log?.Verbose($"{query.Name} on {query.System}: {(check.Valid ? "valid" : "rejected: " + check.Message)} ({check.Method}).");
        }
        var rejected = checks.Where(c => !c.Valid).ToList();
        if (rejected.Count > 0)
            throw new PiBenchException(RejectedErrorId, PiBenchErrorCategory.InvalidArgument,
                $"{plan.Engine.System} rejects {string.Join("; ", rejected.Select(Describe))}. Nothing was run.",
                string.Join(",", rejected.Select(r => r.Name)),
                $"Test-NexmarkQuery -System {plan.Engine.System} -Name {string.Join(",", rejected.Select(r => r.Name))} shows the engine's verdict; fix the query (or the engine's connector jars) or leave it out with -Query.");
        return checks;
    }

    private static string Describe(NexmarkQueryValidation v) =>
        v.Line is { } line ? $"{v.Name} (line {line}, column {v.Column} of its script): {v.Message}" : $"{v.Name}: {v.Message}";
}
