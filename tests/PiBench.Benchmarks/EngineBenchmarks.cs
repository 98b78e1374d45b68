using System.Diagnostics;
using PiBench.Core.Engines;
using PiBench.StandIns;

namespace PiBench.Benchmarks;

/// <summary>
/// engine-metrics-sample: what one metrics sample costs against the loopback stand-ins, as a ratio to one plain
/// HTTP GET of the same server in the same run (so the figure says "a sample is N round trips", not "X ms").
/// </summary>
public static class EngineBenchmarks
{
    public static void RegisterAll() => Program.Register("engine-metrics-sample", async _ =>
    {
        const int rounds = 200;
        using var http = new HttpClient();

        using (var flink = new FlinkStandIn())
        using (var engine = StreamEngine.Create(new StreamEngineSettings { System = StreamSystem.Flink, EngineUri = flink.RestUri, AuxiliaryUri = flink.GatewayUri, PollInterval = TimeSpan.FromMilliseconds(5) }))
        {
            var job = await engine.SubmitAsync(new StreamJobRequest("bench", "CREATE TABLE t (a INT) WITH ('connector' = 'blackhole');\nINSERT INTO t SELECT 1", 9), CancellationToken.None);
            await engine.WaitAsync(job, s => s.State == StreamJobState.Running, TimeSpan.FromSeconds(10), CancellationToken.None);
            await Report("Flink, parallelism 9", rounds,
                () => engine.GetMetricsAsync(job, CancellationToken.None),
                () => http.GetStringAsync(new Uri(flink.RestUri, "overview")), flink.RestRequests.Count);
        }

        using (var arroyo = new ArroyoStandIn())
        using (var engine = StreamEngine.Create(new StreamEngineSettings { System = StreamSystem.Arroyo, EngineUri = arroyo.ApiUri, AuxiliaryUri = arroyo.AdminUri, PollInterval = TimeSpan.FromMilliseconds(5) }))
        {
            var job = await engine.SubmitAsync(new StreamJobRequest("bench", "CREATE TABLE t (a INT) WITH (connector = 'blackhole');\nINSERT INTO t SELECT 1", 9), CancellationToken.None);
            await engine.WaitAsync(job, s => s.State == StreamJobState.Running, TimeSpan.FromSeconds(10), CancellationToken.None);
            await Report("Arroyo, parallelism 9", rounds,
                () => engine.GetMetricsAsync(job, CancellationToken.None),
                () => http.GetStringAsync(new Uri(arroyo.ApiUri, "api/v1/ping")), arroyo.Requests.Count);
            await Report("Arroyo, the metric GET alone (no adapter)", rounds,
                () => http.GetStringAsync(new Uri(arroyo.ApiUri, $"api/v1/pipelines/{job.PipelineId}/jobs/{job.JobId}/operator_metric_groups")),
                () => http.GetStringAsync(new Uri(arroyo.ApiUri, "api/v1/ping")), 0);
        }
    });

    private static async Task Report(string label, int rounds, Func<Task> sample, Func<Task> reference, int _)
    {
        for (var i = 0; i < 20; i++) { await sample(); await reference(); } // warm-up
        var s = Stopwatch.StartNew();
        for (var i = 0; i < rounds; i++) await sample();
        var sampleMs = s.Elapsed.TotalMilliseconds / rounds;
        s.Restart();
        for (var i = 0; i < rounds; i++) await reference();
        var refMs = s.Elapsed.TotalMilliseconds / rounds;
        Console.WriteLine($"{label}: one metrics sample = {sampleMs / refMs:0.0} x one plain GET ({sampleMs:0.00} ms vs {refMs:0.00} ms on loopback, {rounds} rounds)");
    }
}
