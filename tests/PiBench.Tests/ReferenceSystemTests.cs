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
        var r = fx.Run("""
            $k = Start-EmbeddedKafka
            $null = $k | Initialize-NexmarkTopic -Topic ref-in -Partitions 3
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
}
