using System.Management.Automation;
using PiBench.StandIns;
using PiBench.Tests.Harness;
using Xunit;

namespace PiBench.Tests;

/// <summary>The query cmdlets as users run them, against the in-process Arroyo and Flink stand-ins.</summary>
[Collection("module")]
public sealed class NexmarkQueryCommandTests(ModuleFixture fx)
{
    private static Dictionary<string, object?> Vars(FlinkStandIn f) => new()
    {
        ["rest"] = f.RestUri.ToString(),
        ["gw"] = f.GatewayUri.ToString(),
    };

    private static Dictionary<string, object?> Vars(ArroyoStandIn a) => new()
    {
        ["api"] = a.ApiUri.ToString(),
        ["admin"] = a.AdminUri.ToString(),
    };

    private const string Flink = "-EngineUri $rest -AuxiliaryUri $gw -PollIntervalMilliseconds 20";
    private const string Arroyo = "-EngineUri $api -AuxiliaryUri $admin -PollIntervalMilliseconds 20";

    [Fact]
    public void GetNexmarkQuery_ListsTheCatalog_AsFlatRows()
    {
        var all = fx.Run("Get-NexmarkQuery").AssertNoErrors().Output;
        Assert.Equal(46, all.Count);
        Assert.Equal("PiBench.Core.Engines.NexmarkQuery", all[0].TypeNames[0]);
        var names = all[0].Properties.Select(p => p.Name).ToList();
        Assert.All(all, o => Assert.Equal(names, o.Properties.Select(p => p.Name).ToList())); // Export-Csv contract
        Assert.Contains("Sql", names);

        var q6 = fx.Run("Get-NexmarkQuery -Name q6 -System Flink").AssertNoErrors().Output.Single();
        Assert.False((bool)q6.Properties["Supported"].Value);
        Assert.Contains("retraction", q6.Properties["Notes"].Value.ToString());

        var arroyo = fx.Run("Get-NexmarkQuery -System Arroyo -Supported").AssertNoErrors().Output;
        Assert.All(arroyo, o => Assert.Equal("Arroyo", o.Properties["System"].Value));
        Assert.Contains(arroyo, o => (string)o.Properties["Name"].Value == "q5");
        Assert.DoesNotContain(arroyo, o => (string)o.Properties["Name"].Value == "q4");

        var r = fx.Run("Get-NexmarkQuery -Name q99");
        Assert.Equal("QueryNotFound,PiBench.Commands.GetNexmarkQueryCommand", Assert.Single(r.Errors).FullyQualifiedErrorId);
    }

    [Fact]
    public void QueryNames_Complete()
    {
        var r = fx.Run("$s = 'Get-NexmarkQuery -Name q2'; (TabExpansion2 -inputScript $s -cursorColumn $s.Length).CompletionMatches.CompletionText").AssertNoErrors();
        Assert.Equal(["q2", "q20", "q21", "q22"], r.Output.Select(o => o.ToString()));
        var i = fx.Run("$s = 'Invoke-NexmarkQuery -Name q1'; (TabExpansion2 -inputScript $s -cursorColumn $s.Length).CompletionMatches.Count").AssertNoErrors();
        Assert.Equal(11, Convert.ToInt32(i.Output[0].BaseObject));
    }

    [Fact]
    public void Flink_InvokeWaitGetStop_EndToEnd()
    {
        // The JobManager serves metrics from its cache (MetricFetcherImpl): a request sees the previous fetch. A 1-ms
        // interval and operators registered from the first fetch let the second refresh see the counters.
        using var flink = new FlinkStandIn { MetricCacheInterval = TimeSpan.FromMilliseconds(1), PartialFetchesAfterRunning = 0 };
        var r = fx.Run($"""
            $runs = Invoke-NexmarkQuery -Name q1,q3 -System Flink -Parallelism 9 -BootstrapServers 127.0.0.1:9092 {Flink}
            $runs
            $runs | Wait-NexmarkQueryRun -TimeoutSeconds 20 -PollIntervalMilliseconds 20
            $null = $runs | Get-NexmarkQueryRun
            $runs | Get-NexmarkQueryRun
            $runs[0] | Get-NexmarkQueryRun -Operator
            $runs | Stop-NexmarkQuery -PassThru -PollIntervalMilliseconds 20
            """, Vars(flink)).AssertNoErrors();

        var submitted = r.Output.Take(2).ToList();
        Assert.All(submitted, o => Assert.Equal("PiBench.Core.Engines.NexmarkQueryRun", o.TypeNames[0]));
        Assert.Equal(["q1", "q3"], submitted.Select(o => o.Properties["Name"].Value));
        Assert.All(submitted, o => Assert.Equal("Starting", o.Properties["State"].Value)); // returned at once

        var waited = r.Output.Skip(2).Take(2).ToList();
        Assert.All(waited, o => Assert.Equal("Running", o.Properties["State"].Value));
        var refreshed = r.Output.Skip(4).Take(2).ToList();
        Assert.All(refreshed, o => Assert.True((long)o.Properties["SourceRecordsOut"].Value > 0)); // the source operators' counters
        Assert.All(refreshed, o => Assert.True((double)o.Properties["SourceRecordsPerSecond"].Value >= 0)); // a 60-s meter: still climbing
        Assert.All(refreshed, o => Assert.Equal(0.5, (double)o.Properties["MaxBackpressure"].Value, 6));
        var operators = r.Output.Skip(6).Take(9).ToList(); // q1 is one chained vertex: source -> calc -> sink, 9 subtasks
        Assert.All(operators, o => Assert.Equal("PiBench.Core.Engines.StreamOperatorMetric", o.TypeNames[0]));
        Assert.All(operators, o => Assert.True((bool)o.Properties["IsSink"].Value && (bool)o.Properties["IsSource"].Value));
        var stopped = r.Output.Skip(15).ToList();
        Assert.Equal(2, stopped.Count);
        Assert.All(stopped, o => Assert.Equal("Stopped", o.Properties["State"].Value));

        // what PiBench sent: parallelism, the rendered SQL, a cancel per job, and the sessions closed
        Assert.Equal(2, flink.Sessions.Count);
        Assert.All(flink.Sessions, s => Assert.Equal("9", s.Properties["parallelism.default"]));
        Assert.All(flink.Sessions, s => Assert.True(s.Closed));
        Assert.Contains(flink.Sessions, s => s.Statements.Any(st => st.StartsWith("INSERT INTO nexmark_q3", StringComparison.Ordinal)));
        Assert.All(flink.Sessions, s => Assert.Contains(s.Statements, st => st.Contains("'properties.bootstrap.servers' = '127.0.0.1:9092'")));
        Assert.Equal(2, flink.RestRequests.Count(q => q.Method == "PATCH" && q.Query["mode"] == "cancel"));
        Assert.All(flink.Jobs, j => Assert.Equal(["INITIALIZING", "CREATED", "RUNNING", "CANCELLING", "CANCELED"], j.StatesSeen));
    }

    [Fact]
    public void Arroyo_PipedFromGetNexmarkQuery_GracefulStop_DeletesThePipeline()
    {
        using var arroyo = new ArroyoStandIn();
        arroyo.AddNodes(9); // nine node registrations in the controller's slot gauge (0.11 exports no node gauge)
        var r = fx.Run($"""
            $run = Get-NexmarkQuery q5 -System Arroyo | Invoke-NexmarkQuery -Parallelism 3 -ControllerAddress 127.0.0.1 {Arroyo}
            $run | Wait-NexmarkQueryRun -TimeoutSeconds 20 -PollIntervalMilliseconds 20
            $run | Stop-NexmarkQuery -Mode Graceful -PassThru -PollIntervalMilliseconds 20
            Get-StreamWorker -System Arroyo {Arroyo}
            """, Vars(arroyo)).AssertNoErrors();

        var p = Assert.Single(arroyo.Pipelines);
        Assert.Equal(3, p.Parallelism);
        Assert.Equal("nexmark-q5-p3", p.Name);
        Assert.Contains("hop(interval '2 second', interval '10 second')", p.Query);
        Assert.Contains("CREATE TABLE nexmark_source", p.Query);
        Assert.Contains("bootstrap_servers = '127.0.0.1:9092'", p.Query); // default: controller address, port 9092
        Assert.Equal("graceful", p.Stop);
        Assert.True(p.Deleted);
        Assert.Equal(["Created", "Compiling", "Scheduling", "Running", "Stopping", "Stopped"], p.StatesSeen);
        Assert.Equal(3, r.Output.Count);
        Assert.Equal("Running", r.Output[0].Properties["State"].Value);
        Assert.Equal("Stopped", r.Output[1].Properties["State"].Value);
        var worker = r.Output[2];
        Assert.Equal("PiBench.Core.Engines.StreamWorker", worker.TypeNames[0]);
        Assert.Equal(9, worker.Properties["Nodes"].Value); // no node URIs without a topology: registrations / 1 slot
        Assert.Equal(9, worker.Properties["Registrations"].Value);
    }

    [Fact]
    public void UnsupportedPair_FailsBeforeAnythingIsSubmitted()
    {
        using var arroyo = new ArroyoStandIn();
        var r = fx.Run($"Invoke-NexmarkQuery -Name q1,q4 -System Arroyo {Arroyo}", Vars(arroyo));
        // a statement-terminating error (ThrowTerminatingError) lands in the error stream of the script
        var terminating = Assert.Single(r.Errors);
        Assert.Equal("QueryUnsupported,PiBench.Commands.InvokeNexmarkQueryCommand", terminating.FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.InvalidOperation, terminating.CategoryInfo.Category);
        Assert.Contains("q4", terminating.Exception.Message);
        Assert.Empty(arroyo.Requests);
        Assert.Empty(r.Output);

        var skipped = fx.Run($"Invoke-NexmarkQuery -Name q1,q4 -System Arroyo -SkipUnsupported {Arroyo}", Vars(arroyo)).AssertNoErrors();
        Assert.Single(skipped.Output);
        Assert.Contains(skipped.Warnings, w => w.Contains("q4"));
        Assert.Single(arroyo.Pipelines);
    }

    [Fact]
    public void WhatIf_SubmitsNothing()
    {
        using var flink = new FlinkStandIn();
        var r = fx.Run($"Invoke-NexmarkQuery q0 Flink -BootstrapServers 127.0.0.1:9092 -WhatIf {Flink}", Vars(flink)).AssertNoErrors();
        Assert.Empty(r.Output);
        Assert.Empty(flink.GatewayRequests);
    }

    [Fact]
    public void EngineErrors_AreErrorRecords_WithTheEngineMessage()
    {
        using var flink = new FlinkStandIn { RejectStatementContaining = "INSERT INTO nexmark_q2" };
        var r = fx.Run($"Invoke-NexmarkQuery q2,q0 Flink -BootstrapServers 127.0.0.1:9092 {Flink}", Vars(flink));
        var e = Assert.Single(r.Errors);
        Assert.Equal("EngineSqlError,PiBench.Commands.InvokeNexmarkQueryCommand", e.FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.InvalidArgument, e.CategoryInfo.Category);
        Assert.Contains("ValidationException", e.Exception.Message);
        Assert.Equal("q0", Assert.Single(r.Output).Properties["Name"].Value); // the other query still ran

        using var failing = new FlinkStandIn { FailWith = "java.lang.OutOfMemoryError: Java heap space" };
        var w = fx.Run($"Invoke-NexmarkQuery q0 Flink -BootstrapServers 127.0.0.1:9092 {Flink} | Wait-NexmarkQueryRun -TimeoutSeconds 20 -PollIntervalMilliseconds 20 | Wait-NexmarkQueryRun -TimeoutSeconds 20 -PollIntervalMilliseconds 20", Vars(failing));
        // the job ran (first wait), then failed (RUNNING → FAILING → FAILED) while the second wait polled
        var we = Assert.Single(w.Errors);
        Assert.Equal("EngineJobFailed,PiBench.Commands.WaitNexmarkQueryRunCommand", we.FullyQualifiedErrorId);
        Assert.Contains("Java heap space", we.Exception.Message);
    }

    [Fact]
    public void SlowAndMissingEngines_GiveTimeoutAndUnreachable()
    {
        using var flink = new FlinkStandIn();
        flink.Rest.ResponseDelay = TimeSpan.FromSeconds(5);
        var slow = fx.Run($"Get-StreamWorker Flink -RequestTimeoutSeconds 1 {Flink}", Vars(flink));
        Assert.Equal("EngineTimeout,PiBench.Commands.GetStreamWorkerCommand", Assert.Single(slow.Errors).FullyQualifiedErrorId);

        var port = flink.RestUri.Port;
        flink.Dispose();
        var gone = fx.Run($"Get-StreamWorker Flink -EngineUri http://127.0.0.1:{port}/");
        var e = Assert.Single(gone.Errors);
        Assert.Equal("EngineUnreachable,PiBench.Commands.GetStreamWorkerCommand", e.FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.ConnectionError, e.CategoryInfo.Category);

        // No endpoint: the endpoints come from a topology (never the default one here: its 192.168.x addresses are not contacted in tests).
        var none = fx.Run($"Get-StreamWorker Flink -Topology '{Path.Combine(Path.GetTempPath(), $"pibench-absent-{Guid.NewGuid():N}.yaml")}'");
        Assert.Equal("TopologyNotFound,PiBench.Commands.GetStreamWorkerCommand", Assert.Single(none.Errors).FullyQualifiedErrorId);
    }

    [Fact]
    public void FlinkWorkers_AreListed()
    {
        using var flink = new FlinkStandIn();
        var r = fx.Run($"Get-StreamWorker -System Flink {Flink}", Vars(flink)).AssertNoErrors();
        Assert.Equal(9, r.Output.Count);
        Assert.All(r.Output, o => Assert.Equal(1, o.Properties["Slots"].Value));
    }
}
