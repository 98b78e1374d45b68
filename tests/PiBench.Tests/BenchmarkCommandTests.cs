using PiBench.StandIns;
using PiBench.Tests.Harness;

namespace PiBench.Tests;

/// <summary>Invoke-Benchmark through PowerShell on loopback (embedded Kafka from the module, an HTTP engine stand-in).</summary>
[Collection("module")]
public sealed class BenchmarkBrokerInputTests(ModuleFixture fx)
{
    [Fact]
    public void ABrokerIngestingBelowTheTarget_EndsTheCellInvalid_WithTheReason_ThoughTheGeneratorWasOnTime()
    {
        // The embedded broker refuses produce requests with a retriable error for several seconds: the generator hands
        // every event to its Kafka client on schedule (its own verdict: on time), the client queues and retries, and
        // nothing reaches the broker during the window. The stand-in engine reads nothing, so no lag grows either.
        using var engine = new ArroyoStandIn();
        var dir = Path.Combine(Path.GetTempPath(), $"pibench-bench-{Guid.NewGuid():N}");
        try
        {
            var r = fx.Run("""
                $k = Start-EmbeddedKafka
                try {
                  # Twelve NotEnoughReplicas (19) for ApiKey 0 (Produce), as a typed Confluent.Kafka.ErrorCode[].
                  $type = $k.GetType().GetMethod('PushRequestErrors').GetParameters()[1].ParameterType.GetElementType()
                  $errors = [Array]::CreateInstance($type, 12)
                  for ($i = 0; $i -lt 12; $i++) { $errors[$i] = 19 }
                  $k.PushRequestErrors([int16]0, $errors)
                  Invoke-Benchmark -System Arroyo -Query q0 -Repetitions 1 -EventsPerSecond 300 -TotalEvents 100000 -Parallelism 1 -Partitions 1 `
                    -WarmupSeconds 1 -FixedWarmup -CheckpointIntervalSeconds 1 -MeasureSeconds 4 -BootstrapServers $k.BootstrapServers -EngineUri $api -AuxiliaryUri $admin `
                    -NoMetrics -OutputDirectory $dir
                } finally { $k | Stop-EmbeddedKafka }
                """, new Dictionary<string, object?> { ["api"] = engine.ApiUri, ["admin"] = engine.AdminUri, ["dir"] = dir }, TimeSpan.FromSeconds(120));
            Assert.Null(r.Terminating);
            var o = Assert.Single(r.Output);
            Assert.Equal("Completed", o.Properties["Status"].Value);
            Assert.Equal(false, o.Properties["Valid"].Value);
            var reason = (string)o.Properties["InvalidReason"].Value;
            Assert.True(reason.Contains("broker ingested 0 events/s, below 99.5 % of the target 300 events/s", StringComparison.Ordinal), reason);
            Assert.DoesNotContain("generator fell behind", reason);
            Assert.DoesNotContain("consumer lag unbounded", reason);
            Assert.Equal(0.0, o.Properties["BrokerInputRate"].Value);
            var json = File.ReadAllText(Directory.GetFiles(dir, "benchmark_results_*.json").Single());
            Assert.Contains("\"BrokerInputRate\": 0", json);
            Assert.Contains("\"ClockCheck\": \"same host (loopback broker): one clock\"", json);
            // The headline table shows no number for q0, only why.
            var text = File.ReadAllText(Directory.GetFiles(dir, "benchmark_results_*.txt").Single());
            Assert.True(text.Contains("q0         no valid repetition: r1 (Completed, invalid): ", StringComparison.Ordinal), text);
        }
        finally { if (Directory.Exists(dir)) Directory.Delete(dir, true); }
    }
}
