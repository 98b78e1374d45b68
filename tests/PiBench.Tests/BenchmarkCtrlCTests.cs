using System.Diagnostics;
using System.Management.Automation;
using System.Text.Json;
using PiBench.StandIns;
using PiBench.Tests.Harness;
using Xunit.Abstractions;

namespace PiBench.Tests;

/// <summary>Ctrl+C (PowerShell.Stop) during Invoke-Benchmark: embedded Kafka from the module, the Arroyo HTTP stand-in.</summary>
[Collection("module")]
public sealed class BenchmarkCtrlCTests(ModuleFixture fx, ITestOutputHelper log)
{
    [Fact]
    public void CtrlC_DuringTheSecondRepetition_KeepsTheFirst_MarksTheRestStoppedAndNotRun_AndStopsEveryPipeline()
    {
        using var engine = new ArroyoStandIn();
        var dir = Path.Combine(Path.GetTempPath(), $"pibench-ctrlc-{Guid.NewGuid():N}");
        using var ps = PowerShell.Create(fx.State);
        try
        {
            ps.Runspace.SessionStateProxy.SetVariable("api", engine.ApiUri);
            ps.Runspace.SessionStateProxy.SetVariable("admin", engine.AdminUri);
            ps.Runspace.SessionStateProxy.SetVariable("dir", dir);
            ps.AddScript("""
                $k = Start-EmbeddedKafka
                try {
                  Invoke-Benchmark -System Arroyo -Query q0 -Repetitions 3 -EventsPerSecond 200 -TotalEvents 100000 -Parallelism 2 -Partitions 2 `
                    -WarmupSeconds 1 -FixedWarmup -CheckpointIntervalSeconds 1 -MeasureSeconds 4 -BootstrapServers $k.BootstrapServers -EngineUri $api -AuxiliaryUri $admin `
                    -NoMetrics -OutputDirectory $dir
                } finally { $k | Stop-EmbeddedKafka }
                """);
            var output = new PSDataCollection<PSObject>();
            var async = ps.BeginInvoke<PSObject, PSObject>(null, output);

            // Wait for repetition 1's result ($k is assigned, not written: only results reach the output), then stop
            // once repetition 2's query runs on the engine (its warm-up or window), like Ctrl+C in the middle of a cell.
            var deadline = DateTime.UtcNow.AddSeconds(90);
            while (output.Count == 0 && !async.IsCompleted && DateTime.UtcNow < deadline) Thread.Sleep(50);
            if (output.Count == 0) // (enumerating an open PSDataCollection blocks until it closes: only read the streams on failure)
                Assert.Fail($"no result within 90 s (state {ps.InvocationStateInfo.State}, {ps.InvocationStateInfo.Reason?.Message}, errors: {string.Join("; ", ps.Streams.Error.ReadAll())})");
            while (!engine.Pipelines.Any(p => p.Stop == "none" && p.State == "Running") && !async.IsCompleted && DateTime.UtcNow < deadline) Thread.Sleep(20);
            Assert.False(async.IsCompleted, "the run ended before it could be stopped");
            Assert.Equal(2, engine.Pipelines.Count);
            Assert.Equal(1, output.Count); // Count, not Assert.Single: enumerating the open collection would block

            var sw = Stopwatch.StartNew();
            ps.Stop();
            Assert.True(async.AsyncWaitHandle.WaitOne(TimeSpan.FromSeconds(30)), "Invoke-Benchmark did not stop within 30 s");
            log.WriteLine($"stopped after {sw.ElapsedMilliseconds} ms in state {ps.InvocationStateInfo.State}");
            Assert.True(sw.Elapsed < TimeSpan.FromSeconds(30), $"Stop took {sw.Elapsed}");
            Assert.Equal(PSInvocationState.Stopped, ps.InvocationStateInfo.State);

            // Exactly one result was written: repetition 1.
            var result = Assert.Single(output);
            Assert.Equal("PiBench.Core.Benchmarking.BenchmarkResult", result.TypeNames[0]);
            Assert.Equal(1, result.Properties["Repetition"].Value);
            Assert.Equal("Completed", result.Properties["Status"].Value);

            // The results files: the run Stopped, repetition 1 Completed, 2 Stopped, 3 NotRun.
            var json = Assert.Single(Directory.GetFiles(dir, "benchmark_results_*.json"));
            Assert.Single(Directory.GetFiles(dir, "benchmark_results_*.txt"));
            using (var doc = JsonDocument.Parse(File.ReadAllText(json)))
            {
                var root = doc.RootElement;
                Assert.Equal("Stopped", root.GetProperty("State").GetString());
                Assert.NotEqual(JsonValueKind.Null, root.GetProperty("EndedAt").ValueKind);
                var statuses = root.GetProperty("Results").EnumerateArray()
                    .Select(r => (Rep: r.GetProperty("Repetition").GetInt32(), Status: r.GetProperty("Status").GetString()))
                    .OrderBy(r => r.Rep).ToList();
                Assert.Equal(new[] { (1, "Completed"), (2, "Stopped"), (3, "NotRun") }, statuses.Select(s => (s.Rep, s.Status!)));
            }

            // Every pipeline the engine saw (repetitions 1 and 2) was told to stop.
            Assert.Equal(2, engine.Pipelines.Count);
            Assert.All(engine.Pipelines, p => Assert.NotEqual("none", p.Stop));

            // PowerShell runs the script's finally on Stop: Stop-EmbeddedKafka ran, after Invoke-Benchmark had wound down.
            using var check = PowerShell.Create();
            check.Runspace = ps.Runspace;
            var running = check.AddScript("$null -ne $k -and @(Get-EmbeddedKafka) -contains $k").Invoke();
            Assert.Equal(false, Assert.Single(running).BaseObject);
        }
        finally
        {
            // Whatever failed above, leave no embedded cluster behind: $k is still set in the runspace, and the
            // clusters live in this process.
            if (ps.InvocationStateInfo.State == PSInvocationState.Running) ps.Stop();
            using var cleanup = PowerShell.Create();
            cleanup.Runspace = ps.Runspace;
            cleanup.AddScript("if ($k) { $k | Stop-EmbeddedKafka }").Invoke();
            if (Directory.Exists(dir)) Directory.Delete(dir, true);
        }
    }
}
