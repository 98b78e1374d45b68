using PiBench.Tests.Harness;

namespace PiBench.Tests;

/// <summary>The Reference system end to end on one machine: embedded broker, generator, the in-process reference query,
/// results captured to Kafka, checked by Test-NexmarkQueryResult, and a whole Invoke-Benchmark run.</summary>
[Collection("module")]
public sealed class ReferenceSystemTests(ModuleFixture fx)
{
    [Fact]
    public void InvokeNexmarkQuery_Reference_ItsOutputIsTheReferenceResult()
    {
        // 200,000 events unpaced: timestamps 0.1 ms apart (the default 10,000 events/s), about 20 s of event time.
        // Nine input partitions: the embedded broker (librdkafka's mock) keeps at most 5 MiB per partition and drops the
        // oldest batches beyond that (rdkafka_mock.c), and an unpaced producer outruns the query; 22,000 events per
        // partition stay under it, so no record can vanish before the query reads it (the job would fail: records lost).
        var r = fx.Run("""
            $k = Start-EmbeddedKafka
            $null = $k | Initialize-NexmarkTopic -Topic ref-in -Partitions 9
            $null = $k | Initialize-NexmarkTopic -Topic ref-out -Partitions 3
            $run = Invoke-NexmarkQuery -Name q5 -System Reference -BootstrapServers $k.BootstrapServers -Topic ref-in -ResultTopic ref-out
            $null = $run | Wait-NexmarkQueryRun -State Running -TimeoutSeconds 30
            $g = Start-NexmarkGenerator -Topic ref-in -BootstrapServers $k.BootstrapServers -EventsPerSecond 0 -TotalEvents 200000 -Wait
            $base = [long]([regex]::Match($g.Source, 'BaseTime=(\d+)').Groups[1].Value)
            $deadline = [DateTime]::UtcNow.AddSeconds(60)
            while (($run | Get-NexmarkQueryRun).SourceRecordsOut -lt 200000 -and [DateTime]::UtcNow -lt $deadline) { [Threading.Thread]::Sleep(200) }
            [Threading.Thread]::Sleep(800)
            $run | Stop-NexmarkQuery -Mode Graceful -Confirm:$false | Out-Null
            $g.Acknowledged
            Test-NexmarkQueryResult -Name q5 -ResultTopic ref-out -BootstrapServers $k.BootstrapServers -EventCount 200000 -EventsPerSecond 10000 -BaseTime $base
            Get-NexmarkQuery -Name q5 -System Reference
            $k | Stop-EmbeddedKafka
            """, timeout: TimeSpan.FromMinutes(3)).AssertNoErrors();
        Assert.Equal(200000L, Convert.ToInt64(r.Output[0].BaseObject));
        Assert.Equal("Correct", r.Prop(1, "Verdict")?.ToString());
        Assert.True(Convert.ToInt64(r.Prop(1, "Expected")) >= 5, $"expected rows: {r.Prop(1, "Expected")}");
        Assert.Equal(0L, Convert.ToInt64(r.Prop(1, "Missing")));
        Assert.Equal(true, r.Prop(2, "Supported"));
        Assert.Contains("not an engine to compare against", r.Prop(2, "Notes")?.ToString());
    }

    [Fact]
    public void InvokeBenchmark_Reference_OnOneMachine_ChecksItsAnswers()
    {
        var dir = Directory.CreateTempSubdirectory("pibench-refbench-").FullName;
        try
        {
            var r = fx.Run($"""
                $k = Start-EmbeddedKafka
                Invoke-Benchmark -System Reference -Query q2, q5 -BootstrapServers $k.BootstrapServers -EventsPerSecond 1000 -TotalEvents 100000 `
                    -Repetitions 1 -Partitions 3 -Parallelism 1 -WarmupSeconds 2 -FixedWarmup -MeasureSeconds 6 -NoMetrics -OutputDirectory '{dir}' -Confirm:$false
                $k | Stop-EmbeddedKafka
                """, timeout: TimeSpan.FromMinutes(4));
            Assert.Null(r.Terminating);
            Assert.Equal(2, r.Output.Count);
            foreach (var i in new[] { 0, 1 })
            {
                Assert.Equal("Reference", r.Prop(i, "System")?.ToString());
                Assert.Equal("Completed", r.Prop(i, "Status")?.ToString());
                Assert.True(r.Prop(i, "ResultCheck")?.ToString() == "Correct", $"{r.Prop(i, "Query")}: {r.Prop(i, "ResultCheck")} {r.Prop(i, "ResultCheckReason")}");
                Assert.Equal(0L, Convert.ToInt64(r.Prop(i, "MissingRows")));
            }
            Assert.True(Convert.ToInt64(r.Prop(1, "ExpectedRows")) > 0); // q5: at least one hop window closed
            Assert.Single(Directory.GetFiles(dir, "benchmark_results_*.json"));
            Assert.Contains("\"ResultCheck\": \"Correct\"", File.ReadAllText(Directory.GetFiles(dir, "benchmark_results_*.json")[0]));
        }
        finally { Directory.Delete(dir, true); }
    }
}
