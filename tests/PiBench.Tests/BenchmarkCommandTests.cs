using PiBench.StandIns;
using PiBench.Tests.Harness;

namespace PiBench.Tests;

/// <summary>Invoke-Benchmark through PowerShell on loopback (embedded Kafka from the module, an HTTP engine stand-in).</summary>
[Collection("module")]
public sealed class BenchmarkCommandTests(ModuleFixture fx)
{
    [Fact]
    public void WhatIf_RunsNothing_AndWritesNoFiles()
    {
        var dir = Path.Combine(Path.GetTempPath(), $"pibench-whatif-{Guid.NewGuid():N}");
        var r = fx.Run("Invoke-Benchmark -System Arroyo -Query q1,q5 -Repetitions 2 -BootstrapServers 127.0.0.1:1 -EngineUri http://127.0.0.1:1/ -NoMetrics -OutputDirectory $dir -WhatIf",
            new Dictionary<string, object?> { ["dir"] = dir }).AssertNoErrors();
        Assert.Empty(r.Output);
        Assert.False(Directory.Exists(dir));
    }

    [Fact]
    public void TheDefaultQueries_LeaveOutWhatTheEngineCannotRun_WithAWarning()
    {
        var dir = Path.Combine(Path.GetTempPath(), $"pibench-whatif-{Guid.NewGuid():N}");
        var r = fx.Run("Invoke-Benchmark -System Arroyo -BootstrapServers 127.0.0.1:1 -EngineUri http://127.0.0.1:1/ -NoMetrics -OutputDirectory $dir -WhatIf",
            new Dictionary<string, object?> { ["dir"] = dir }).AssertNoErrors();
        Assert.Contains(r.Warnings, w => w.StartsWith("q4 is left out: ", StringComparison.Ordinal));
        Assert.False(Directory.Exists(dir));
    }

    [Fact]
    public void QueryNames_TabComplete_ToWhatTheEngineCanRun()
    {
        var r = fx.Run("$s = 'Invoke-Benchmark -System Arroyo -Query q'; (TabExpansion2 -inputScript $s -cursorColumn $s.Length).CompletionMatches.CompletionText").AssertNoErrors();
        var names = r.Output.Select(o => o.ToString()).ToList();
        Assert.Contains("q5", names);
        Assert.DoesNotContain("q4", names); // Arroyo 0.11 cannot run it
        var f = fx.Run("$s = 'Invoke-Benchmark -System Flink -Query q'; (TabExpansion2 -inputScript $s -cursorColumn $s.Length).CompletionMatches.CompletionText").AssertNoErrors();
        Assert.Contains("q4", f.Output.Select(o => o.ToString()));
    }

    [Fact]
    public void UnsupportedQuery_FailsBeforeAnythingRuns()
    {
        var r = fx.Run("Invoke-Benchmark -System Arroyo -Query q4 -BootstrapServers 127.0.0.1:1 -EngineUri http://127.0.0.1:1/ -NoMetrics");
        Assert.Empty(r.Output);
        Assert.True(r.Terminating is not null || r.Errors.Count > 0);
    }

    [Fact]
    public void EngineThatDoesNotConsume_GivesACompletedButInvalidResult_WithTheReason_AndFiles()
    {
        using var engine = new ArroyoStandIn();
        var dir = Path.Combine(Path.GetTempPath(), $"pibench-bench-{Guid.NewGuid():N}");
        try
        {
            var r = fx.Run("""
                $k = Start-EmbeddedKafka
                try {
                  Invoke-Benchmark -System Arroyo -Query q0 -Repetitions 1 -EventsPerSecond 300 -TotalEvents 100000 -Parallelism 2 -Partitions 2 `
                    -WarmupSeconds 1 -FixedWarmup -CheckpointIntervalSeconds 1 -MeasureSeconds 4 -BootstrapServers $k.BootstrapServers -EngineUri $api -AuxiliaryUri $admin `
                    -NoMetrics -OutputDirectory $dir
                } finally { $k | Stop-EmbeddedKafka }
                """, new Dictionary<string, object?> { ["api"] = engine.ApiUri, ["admin"] = engine.AdminUri, ["dir"] = dir }, TimeSpan.FromSeconds(120));
            Assert.Null(r.Terminating);
            var o = Assert.Single(r.Output);
            Assert.Equal("PiBench.Core.Benchmarking.BenchmarkResult", o.TypeNames[0]);
            Assert.Equal("Completed", o.Properties["Status"].Value);
            Assert.Equal(false, o.Properties["Valid"].Value);
            Assert.Contains("consumer lag unbounded", (string)o.Properties["InvalidReason"].Value);
            Assert.Equal(0L, o.Properties["EventsIn"].Value);
            // The stand-in's metrics claim 1000 + i records/s per source subtask while Kafka saw nothing consumed: reported
            // beside the figure (a smoothed engine rate is a cross-check, never the window's input rate).
            Assert.Equal(2001.0, o.Properties["EngineInputRate"].Value);
            Assert.Equal(0.0, o.Properties["InputRate"].Value);
            Assert.Equal(0.0, o.Properties["KafkaInputRate"].Value);
            Assert.StartsWith("mismatch: input engine 2001/s vs Kafka 0/s", (string)o.Properties["RateCheck"].Value);
            Assert.Contains(r.Warnings, w => w.Contains("engine and Kafka disagree"));
            Assert.Single(Directory.GetFiles(dir, "benchmark_results_*.txt"));
            Assert.Single(Directory.GetFiles(dir, "benchmark_results_*.json"));
            Assert.Contains("ARROYO BENCHMARK RESULTS", File.ReadAllText(Directory.GetFiles(dir, "*.txt")[0]));
            var json = File.ReadAllText(Directory.GetFiles(dir, "*.json")[0]);
            Assert.Contains("\"arroyo\": \"ghcr.io/arroyosystems/arroyo:0.11.0\"", json); // image provenance
            Assert.Contains("\"kafka\": \"apache/kafka:", json);
            Assert.All(engine.Pipelines, p => Assert.NotEqual("none", p.Stop));
        }
        finally { if (Directory.Exists(dir)) Directory.Delete(dir, true); }
    }

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

    [Fact]
    public void Sustainable_BadSearchSettings_FailBeforeAnythingRuns_WithAStableErrorId()
    {
        var dir = Path.Combine(Path.GetTempPath(), $"pibench-sust-bad-{Guid.NewGuid():N}");
        var r = fx.Run("Invoke-Benchmark -System Arroyo -Query q1 -Mode Sustainable -EventsPerSecond 1000 -MaxEventsPerSecond 500 -BootstrapServers 127.0.0.1:1 -EngineUri http://127.0.0.1:1/ -NoMetrics -OutputDirectory $dir",
            new Dictionary<string, object?> { ["dir"] = dir });
        Assert.Empty(r.Output);
        var e = r.Errors.FirstOrDefault() ?? (r.Terminating as System.Management.Automation.RuntimeException)?.ErrorRecord;
        Assert.NotNull(e);
        Assert.StartsWith("InvalidSustainableSearch,", e!.FullyQualifiedErrorId);
        Assert.Equal(System.Management.Automation.ErrorCategory.InvalidArgument, e.CategoryInfo.Category);
        Assert.Contains("-MaxEventsPerSecond", e.ErrorDetails?.RecommendedAction);
        Assert.False(Directory.Exists(dir));
    }

    [Fact]
    public void Sustainable_EmitsOneSearchResult_AndKeepsEveryStepInTheFiles()
    {
        // The HTTP stand-in runs pipelines but consumes nothing: every step's backlog grows, so the search steps down
        // from 300 events/s and reports no sustainable rate within its two-step budget (LimitedBy Steps: not found).
        using var engine = new ArroyoStandIn();
        var dir = Path.Combine(Path.GetTempPath(), $"pibench-sust-{Guid.NewGuid():N}");
        try
        {
            var r = fx.Run("""
                $k = Start-EmbeddedKafka
                try {
                  Invoke-Benchmark -System Arroyo -Mode Sustainable -Query q0 -Repetitions 1 -EventsPerSecond 300 -MaxSteps 2 -Parallelism 2 -Partitions 2 `
                    -WarmupSeconds 1 -FixedWarmup -CheckpointIntervalSeconds 1 -MeasureSeconds 4 -BootstrapServers $k.BootstrapServers -EngineUri $api -AuxiliaryUri $admin `
                    -NoMetrics -OutputDirectory $dir
                } finally { $k | Stop-EmbeddedKafka }
                """, new Dictionary<string, object?> { ["api"] = engine.ApiUri, ["admin"] = engine.AdminUri, ["dir"] = dir }, TimeSpan.FromSeconds(120));
            Assert.Null(r.Terminating);
            var o = Assert.Single(r.Output);
            Assert.Equal("PiBench.Core.Benchmarking.SustainableThroughputResult", o.TypeNames[0]);
            Assert.True("300:fail 150:fail" == (string)o.Properties["StepRates"].Value, $"{o.Properties["StepRates"].Value} {o.Properties["LimitedBy"].Value}: {o.Properties["Reason"].Value}");
            Assert.True(double.IsNaN((double)o.Properties["SustainableRate"].Value));
            Assert.Equal(150.0, o.Properties["FailingRate"].Value);
            // The budget ran out with no step passing: the limit was not found (the engine failing is the last failure).
            Assert.Equal("Steps", o.Properties["LimitedBy"].Value);
            Assert.Contains("last failure (Engine): consumer lag unbounded", (string)o.Properties["Reason"].Value);
            Assert.Equal("Completed", o.Properties["Status"].Value);
            Assert.Equal(2, engine.Pipelines.Count); // one fresh job per step
            Assert.All(engine.Pipelines, p => Assert.NotEqual("none", p.Stop));
            var json = File.ReadAllText(Directory.GetFiles(dir, "benchmark_results_*.json").Single());
            Assert.Contains("\"Mode\": \"Sustainable\"", json);
            Assert.Contains("\"Step\": 2", json);
            Assert.Contains("Sustainable throughput", File.ReadAllText(Directory.GetFiles(dir, "benchmark_results_*.txt").Single()));
        }
        finally { if (Directory.Exists(dir)) Directory.Delete(dir, true); }
    }
}

/// <summary>Invoke-Benchmark with node metrics from the sshd lab (pi3's fake vcgencmd reports throttling).</summary>
[Collection("module")]
public sealed class BenchmarkLabTests(ModuleFixture fx, PiBench.Tests.Lab.SshLabFixture lab) : IClassFixture<PiBench.Tests.Lab.SshLabFixture>
{
    [Fact]
    public void ThrottledNode_MakesTheRunInvalid_AndResourceFiguresComeFromEveryNode()
    {
        using var engine = new ArroyoStandIn();
        var dir = Path.Combine(Path.GetTempPath(), $"pibench-bench-{Guid.NewGuid():N}");
        try
        {
            var r = fx.Run("""
                $k = Start-EmbeddedKafka
                try {
                  Invoke-Benchmark -System Arroyo -Topology $topo -Query q0 -Repetitions 1 -EventsPerSecond 200 -TotalEvents 100000 `
                    -WarmupSeconds 1 -FixedWarmup -CheckpointIntervalSeconds 1 -MeasureSeconds 4 -BootstrapServers $k.BootstrapServers -EngineUri $api -AuxiliaryUri $admin `
                    -OutputDirectory $dir
                } finally { $k | Stop-EmbeddedKafka }
                """, new Dictionary<string, object?> { ["topo"] = lab.Lab.TopologyPath, ["api"] = engine.ApiUri, ["admin"] = engine.AdminUri, ["dir"] = dir },
                TimeSpan.FromSeconds(120));
            Assert.Null(r.Terminating);
            var o = Assert.Single(r.Output);
            Assert.Equal(false, o.Properties["Valid"].Value);
            Assert.Contains("node throttled: pi3", (string)o.Properties["InvalidReason"].Value);
            Assert.Equal(2, o.Properties["Parallelism"].Value); // one per lab worker, from the topology
            Assert.True((double)o.Properties["CpuCoreSeconds"].Value > 0);
            Assert.InRange((double)o.Properties["CpuPercentPerNode"].Value, 0, 100);
            Assert.True((double)o.Properties["MemoryPeakMB"].Value > 0);
            // The sshd lab has no Docker daemon: one warning for the run, no engine containers, so no engine figures.
            Assert.Single(r.Warnings, w => w.StartsWith("Docker API not reachable on ", StringComparison.Ordinal));
            Assert.True(double.IsNaN((double)o.Properties["EngineCpuCoreSeconds"].Value));
            Assert.True(double.IsNaN((double)o.Properties["EngineMemoryPeakMB"].Value));
            var json = File.ReadAllText(Directory.GetFiles(dir, "*.json")[0]);
            Assert.Contains("\"Containers\": [", json);
            Assert.Contains("\"Node\": \"pi3\"", json);
            Assert.Contains("\"ThrottledFlags\": \"0x50005\"", json); // node facts probed at the start of the run
            Assert.Contains("\"Kernel\": \"" + Environment.OSVersion.Version.Major, json);
        }
        finally { if (Directory.Exists(dir)) Directory.Delete(dir, true); }
    }
}
