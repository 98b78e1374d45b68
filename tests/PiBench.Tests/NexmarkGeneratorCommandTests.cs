using System.Diagnostics;
using System.Management.Automation;
using PiBench.Tests.Harness;

namespace PiBench.Tests;

/// <summary>The generator and Kafka cmdlets against the embedded broker (librdkafka mock cluster) in the hosted runspace.</summary>
[Collection("module")]
public sealed class NexmarkGeneratorCommandTests(ModuleFixture fx)
{
    private static readonly TimeSpan HangBound = TimeSpan.FromSeconds(90); // against hangs, not a speed claim

    private static long L(PsResult r, int i, string p) => Convert.ToInt64(r.Prop(i, p));
    private static string S(PsResult r, int i, string p) => r.Prop(i, p)?.ToString() ?? "";

    [Fact]
    public void EmbeddedKafka_StartsListsAndStops()
    {
        var r = fx.Run("""
            $k = Start-EmbeddedKafka -BrokerCount 2
            $k
            (Get-EmbeddedKafka).Where({ $_.BootstrapServers -eq $k.BootstrapServers }).Count
            $k | Stop-EmbeddedKafka -PassThru
            (Get-EmbeddedKafka).Where({ $_.BootstrapServers -eq $k.BootstrapServers }).Count
            Start-EmbeddedKafka -WhatIf
            """).AssertNoErrors();
        Assert.Equal(4, r.Output.Count);
        Assert.Equal("PiBench.Core.Kafka.EmbeddedKafkaCluster", r.Output[0].TypeNames[0]);
        Assert.Equal(2, Convert.ToInt32(r.Prop(0, "BrokerCount")));
        Assert.Matches(@"^127\.0\.0\.1:\d+,127\.0\.0\.1:\d+$", S(r, 0, "BootstrapServers"));
        Assert.Equal(1, Convert.ToInt32(r.Output[1].BaseObject));
        Assert.Equal("Stopped", S(r, 2, "State"));
        Assert.Equal(0, Convert.ToInt32(r.Output[3].BaseObject));
    }

    [Fact]
    public void Librdkafka_LoadsThroughTheModulesPrivateContext()
    {
        var r = fx.Run("""
            $k = Start-EmbeddedKafka
            $null = $k | Initialize-NexmarkTopic -Topic maps -Partitions 1
            $run = Start-NexmarkGenerator -Topic maps -BootstrapServers $k.BootstrapServers -EventsPerSecond 0 -TotalEvents 10 -Synthetic -Wait
            $run.Acknowledged
            $alc = [System.Runtime.Loader.AssemblyLoadContext]::All.Where({ $_.Name -eq 'PiBench.Core' })[0]
            $alc.Assemblies.Where({ $_.GetName().Name -eq 'Confluent.Kafka' }).Count
            [System.Runtime.Loader.AssemblyLoadContext]::Default.Assemblies.Where({ $_.GetName().Name -eq 'Confluent.Kafka' }).Count
            $k | Stop-EmbeddedKafka
            """).AssertNoErrors();
        Assert.Equal(10L, Convert.ToInt64(r.Output[0].BaseObject));
        Assert.Equal(1, Convert.ToInt32(r.Output[1].BaseObject));
        Assert.Equal(0, Convert.ToInt32(r.Output[2].BaseObject));

        var deps = Path.Combine(StagedModule.Directory, "dependencies") + Path.DirectorySeparatorChar;
        var mapped = File.ReadAllLines("/proc/self/maps").Select(l => l.IndexOf('/') is var i and >= 0 ? l[i..].Trim() : "")
            .Where(p => Path.GetFileName(p).Contains("rdkafka", StringComparison.Ordinal)).Distinct().ToList();
        Assert.NotEmpty(mapped);
        Assert.All(mapped, p => Assert.StartsWith(deps, p));
    }

    [Fact]
    public void InitializeNexmarkTopic_IsIdempotent_RejectsMismatch_AndForceRecreates()
    {
        var r = fx.Run("""
            $k = Start-EmbeddedKafka
            $k | Initialize-NexmarkTopic -Topic t1 -Partitions 4
            $k | Initialize-NexmarkTopic -Topic t1 -Partitions 4
            Initialize-NexmarkTopic -Topic t2 -BootstrapServers $k.BootstrapServers -WhatIf
            $k | Initialize-NexmarkTopic -Topic t1 -Partitions 6
            $k | Initialize-NexmarkTopic -Topic t1 -Partitions 6 -Force -Confirm:$false
            $k | Initialize-NexmarkTopic -Topic t1 -Partitions 6
            $k | Initialize-NexmarkTopic -Topic t2 -Partitions 1 -TimestampType CreateTime
            $k | Stop-EmbeddedKafka
            """);
        Assert.Null(r.Terminating);
        Assert.Equal(new[] { "Created", "Exists", "Recreated", "Exists", "Created" }, r.Output.Select(o => o.Properties["Action"].Value.ToString()));
        // New topics are asked for broker stamps unless told otherwise; a kept topic is left as it was.
        Assert.Equal(new[] { "LogAppendTime", "", "LogAppendTime", "", "CreateTime" }, r.Output.Select(o => o.Properties["TimestampType"].Value.ToString()));
        Assert.Equal(new[] { 4, 4, 6, 6, 1 }, r.Output.Select(o => Convert.ToInt32(o.Properties["Partitions"].Value)));
        Assert.Equal("PiBench.Core.Kafka.NexmarkTopic", r.Output[0].TypeNames[0]);
        var e = Assert.Single(r.Errors);
        Assert.Equal("KafkaTopicPartitionMismatch,PiBench.Commands.InitializeNexmarkTopicCommand", e.FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.ResourceExists, e.CategoryInfo.Category);
        Assert.Equal("t1", e.TargetObject);
        Assert.Contains("-Force", e.ErrorDetails?.RecommendedAction);
    }

    [Fact]
    public void StartNexmarkGenerator_ReturnsAtOnce_AndWaitGivesExactCounts()
    {
        var r = fx.Run("""
            $k = Start-EmbeddedKafka
            $null = $k | Initialize-NexmarkTopic -Topic exact -Partitions 3
            $run = Start-NexmarkGenerator -Topic exact -BootstrapServers $k.BootstrapServers -EventsPerSecond 0 -TotalEvents 9001 -PartitionBlock 1
            $run.IsFinished
            $run | Wait-NexmarkGenerator -Timeout 60
            $k | Stop-EmbeddedKafka
            """, timeout: HangBound).AssertNoErrors();
        Assert.Equal(2, r.Output.Count);
        var run = 1;
        Assert.Equal("PiBench.Core.Kafka.NexmarkGeneratorRun", r.Output[run].TypeNames[0]);
        Assert.Equal("Completed", S(r, run, "State"));
        Assert.Equal((9001L, 9001L, 0L), (L(r, run, "Sent"), L(r, run, "Acknowledged"), L(r, run, "Failed")));
        Assert.Equal("0:3001 1:3000 2:3000", S(r, run, "PartitionCounts"));
        Assert.Contains("Nexmark Flink Seed=3", S(r, run, "Source"));
        Assert.Equal("librdkafka", S(r, run, "Client"));
        Assert.True(Convert.ToDouble(r.Prop(run, "AchievedRate")) > 0);
        // the CSV contract: scalar properties only
        foreach (var p in r.Output[run].Properties)
            Assert.True(p.Value is null or string or int or long or double or bool or DateTimeOffset, $"{p.Name} is {p.Value?.GetType()}");
        foreach (var name in new[] { "Sent", "Acknowledged", "Failed", "TargetRate", "AchievedRate", "ScheduleLagP99Ms", "MaxScheduleLagMs", "PartitionCounts", "State", "Error", "Valid", "InvalidReason" })
            Assert.NotNull(r.Output[run].Properties[name]);
    }

    [Fact]
    public void PacedRun_ReportsTargetLagAndValidity()
    {
        var r = fx.Run("""
            $k = Start-EmbeddedKafka
            $null = $k | Initialize-NexmarkTopic -Topic paced -Partitions 2
            Start-NexmarkGenerator -Topic paced -BootstrapServers $k.BootstrapServers -EventsPerSecond 5000 -TotalEvents 5000 -Wait
            $k | Stop-EmbeddedKafka
            """, timeout: HangBound).AssertNoErrors();
        Assert.Equal(5000.0, Convert.ToDouble(r.Prop(0, "TargetRate")));
        Assert.True(Convert.ToDouble(r.Prop(0, "AchievedRate")) <= 5000 * 1.001);
        Assert.True(Convert.ToDouble(r.Prop(0, "ScheduleLagP99Ms")) > 0);
        var state = S(r, 0, "State");
        Assert.Contains(state, new[] { "Completed", "FellBehind" });
        Assert.Equal(state == "Completed", (bool)r.Prop(0, "Valid")!);
        Assert.Equal(L(r, 0, "Sent"), L(r, 0, "Acknowledged") + L(r, 0, "Failed"));
    }

    [Fact]
    public void StopNexmarkGenerator_EndsARunPromptly()
    {
        var r = fx.Run("""
            $k = Start-EmbeddedKafka
            $null = $k | Initialize-NexmarkTopic -Topic stop -Partitions 3
            $run = Start-NexmarkGenerator -Topic stop -BootstrapServers $k.BootstrapServers -EventsPerSecond 10000 -TotalEvents 100000000
            [System.Threading.Thread]::Sleep(500)
            $sw = [System.Diagnostics.Stopwatch]::StartNew()
            $run | Stop-NexmarkGenerator
            $sw.Elapsed.TotalSeconds
            $k | Stop-EmbeddedKafka
            """, timeout: HangBound).AssertNoErrors();
        Assert.Equal("Stopped", S(r, 0, "State"));
        Assert.False((bool)r.Prop(0, "Valid")!);
        Assert.True(L(r, 0, "Sent") is > 0 and < 100_000_000);
        Assert.Equal(L(r, 0, "Sent"), L(r, 0, "Acknowledged") + L(r, 0, "Failed"));
        Assert.True(Convert.ToDouble(r.Output[1].BaseObject) < 10, $"stop took {r.Output[1]} s");
    }

    [Fact]
    public async Task CtrlC_OnAForegroundRun_StopsTheRun()
    {
        var setup = fx.Run("""
            $k = Start-EmbeddedKafka
            $null = $k | Initialize-NexmarkTopic -Topic ctrlc -Partitions 3
            $k.BootstrapServers
            """).AssertNoErrors();
        var bootstrap = setup.Output[0].ToString();
        using var ps = PowerShell.Create(fx.State);
        ps.AddScript($"Start-NexmarkGenerator -Topic ctrlc -BootstrapServers '{bootstrap}' -EventsPerSecond 10000 -TotalEvents 100000000 -Wait");
        var invoke = ps.InvokeAsync();
        var until = Stopwatch.StartNew();
        string? id = null;
        while (id is null && until.Elapsed < HangBound)
        {
            await Task.Delay(100);
            var runs = fx.Run($"(Get-NexmarkGenerator).Where({{ $_.Topic -eq 'ctrlc' -and $_.BootstrapServers -eq '{bootstrap}' -and $_.Sent -gt 1000 }}).Id").Output;
            if (runs.Count > 0 && runs[0] is not null) id = runs[0].ToString();
        }
        Assert.NotNull(id);
        var sw = Stopwatch.StartNew();
        await ps.StopAsync(null, null);
        await Assert.ThrowsAnyAsync<Exception>(() => invoke.WaitAsync(HangBound)); // PipelineStoppedException
        sw.Stop();
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(10), $"Ctrl+C took {sw.Elapsed}");
        var after = fx.Run($"Get-NexmarkGenerator -Id {id}; Get-EmbeddedKafka | Where-Object BootstrapServers -eq '{bootstrap}' | Stop-EmbeddedKafka").AssertNoErrors();
        Assert.Equal("Stopped", S(after, 0, "State"));
        Assert.Equal(L(after, 0, "Sent"), L(after, 0, "Acknowledged") + L(after, 0, "Failed"));
    }

    [Fact]
    public void BrokerGoingAway_EndsTheRunWithAnError_AndTruthfulCounts()
    {
        var r = fx.Run("""
            $k = Start-EmbeddedKafka
            $null = $k | Initialize-NexmarkTopic -Topic fault -Partitions 3
            $run = Start-NexmarkGenerator -Topic fault -BootstrapServers $k.BootstrapServers -EventsPerSecond 20000 -TotalEvents 100000000
            $sw = [System.Diagnostics.Stopwatch]::StartNew()
            while ($run.Acknowledged -lt 5000 -and $sw.Elapsed.TotalSeconds -lt 60) { [System.Threading.Thread]::Sleep(20) }
            $k | Stop-EmbeddedKafka
            $run | Wait-NexmarkGenerator -Timeout 80
            """, timeout: HangBound);
        Assert.Null(r.Terminating);
        var run = Assert.Single(r.Output);
        Assert.Equal("Failed", run.Properties["State"].Value);
        var e = Assert.Single(r.Errors);
        Assert.Matches("^Kafka(BrokerUnavailable|AcknowledgementTimeout|DeliveryTimeout|DeliveryFailed),PiBench.Commands.WaitNexmarkGeneratorCommand$", e.FullyQualifiedErrorId);
        Assert.NotEqual("", run.Properties["Error"].Value);
        long sent = (long)run.Properties["Sent"].Value, acked = (long)run.Properties["Acknowledged"].Value, failed = (long)run.Properties["Failed"].Value;
        Assert.True(acked >= 5000);
        Assert.Equal(sent, acked + failed);
        Assert.Contains($"failed {failed}", e.Exception.Message);
    }

    [Fact]
    public void MissingTopic_IsKafkaTopicMissing()
    {
        var r = fx.Run("""
            $k = Start-EmbeddedKafka
            Start-NexmarkGenerator -Topic absent -BootstrapServers $k.BootstrapServers -TotalEvents 10
            $k | Stop-EmbeddedKafka
            """);
        Assert.Empty(r.Output);
        var e = Assert.Single(r.Errors);
        Assert.Equal("KafkaTopicMissing,PiBench.Commands.StartNexmarkGeneratorCommand", e.FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.ObjectNotFound, e.CategoryInfo.Category);
        Assert.Contains("Initialize-NexmarkTopic", e.ErrorDetails?.RecommendedAction);
    }

    [Fact]
    public void MeasureNexmarkGenerator_NamesTheBottleneck()
    {
        var r = fx.Run("Measure-NexmarkGenerator -Count 20000 -Partitions 3", timeout: HangBound).AssertNoErrors();
        var m = Assert.Single(r.Output);
        Assert.Equal("PiBench.Core.Kafka.NexmarkGeneratorCapacity", m.TypeNames[0]);
        Assert.Contains(m.Properties["Bottleneck"].Value?.ToString(), new[] { "Generation", "Serialization", "Produce" });
        foreach (var p in new[] { "GenerationRate", "SerializationRate", "ProduceRate" })
            Assert.True(Convert.ToDouble(m.Properties[p].Value) > 0, p);
        Assert.Equal(20000L, Convert.ToInt64(m.Properties["Events"].Value));
    }
}
