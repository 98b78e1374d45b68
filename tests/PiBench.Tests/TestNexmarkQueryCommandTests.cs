using System.Management.Automation;
using PiBench.StandIns;
using PiBench.Tests.Harness;
using Xunit;

namespace PiBench.Tests;

/// <summary>Test-NexmarkQuery and Invoke-Benchmark's pre-check, against the in-process Flink stand-in.</summary>
[Collection("module")]
public sealed class TestNexmarkQueryCommandTests(ModuleFixture fx)
{
    private static Dictionary<string, object?> Vars(FlinkStandIn f) => new()
    {
        ["rest"] = f.RestUri.ToString(),
        ["gw"] = f.GatewayUri.ToString(),
    };

    private const string Flink = "-EngineUri $rest -AuxiliaryUri $gw -PollIntervalMilliseconds 20 -BootstrapServers 127.0.0.1:9092";

    private static string? ErrorId(PsResult r) =>
        (r.Terminating as IContainsErrorRecord)?.ErrorRecord.FullyQualifiedErrorId ?? r.Errors.FirstOrDefault()?.FullyQualifiedErrorId;

    [Fact]
    public void EverySupportedQuery_IsCheckedOnTheEngine_AsOneFlatObject_WithoutStartingAJob()
    {
        using var flink = new FlinkStandIn();
        var r = fx.Run($"Test-NexmarkQuery -System Flink {Flink}", Vars(flink)).AssertNoErrors();
        var supported = fx.Run("Get-NexmarkQuery -System Flink -Supported").AssertNoErrors().Output.Count;
        Assert.Equal(supported, r.Output.Count);
        Assert.All(r.Output, o => Assert.Equal("PiBench.Core.Engines.NexmarkQueryValidation", o.TypeNames[0]));
        var names = r.Output[0].Properties.Select(p => p.Name).ToList();
        Assert.Equal(["Name", "System", "Valid", "Message", "Line", "Column"], names.Take(6));
        Assert.All(r.Output, o => Assert.True((bool)o.Properties["Valid"].Value, o.Properties["Name"].Value + ": " + o.Properties["Message"].Value));
        Assert.Empty(flink.Jobs);
        Assert.Equal(supported, flink.Sessions.Count);
        Assert.All(flink.Sessions, s => Assert.True(s.Closed));
        Assert.All(flink.Sessions, s => Assert.StartsWith("EXPLAIN INSERT INTO", s.Statements[^1]));
        Assert.Contains(r.Progress, p => p.Activity == "Test Nexmark queries");
    }

    private PsResult Rejecting(string position)
    {
        using var flink = new FlinkStandIn
        {
            RejectStatementContaining = "INSERT INTO nexmark_q1",
            StatementError = $"org.apache.flink.table.api.ValidationException: SQL validation failed. From {position} to line 2, column 9: Column 'nope' not found in any table",
        };
        return fx.Run($"Test-NexmarkQuery q1,q2 Flink {Flink}", Vars(flink)).AssertNoErrors();
    }

    private static PSObject Row(PsResult r, string name) => r.Output.Single(o => (string)o.Properties["Name"].Value == name);

    [Fact]
    public void ARejectedQuery_CarriesFlinksMessage_AndItsPositionInTheRenderedScript()
    {
        // Flink counts from the statement it planned ("EXPLAIN INSERT INTO nexmark_q1 …"); the row counts in the rendered script.
        var first = Rejecting("line 1, column 9"); // the INSERT keyword, right after "EXPLAIN "
        var second = Rejecting("line 2, column 5");
        Assert.Equal(2, first.Output.Count);
        var q1 = Row(first, "q1");
        Assert.False((bool)q1.Properties["Valid"].Value);
        Assert.Contains("Column 'nope' not found", (string)q1.Properties["Message"].Value);
        Assert.True((bool)Row(first, "q2").Properties["Valid"].Value);
        var insertLine = (int)q1.Properties["Line"].Value;
        Assert.Equal(1, (int)q1.Properties["Column"].Value);
        var sql = fx.Run("(Get-NexmarkQuery -Name q1 -System Flink).Sql").AssertNoErrors().Output[0].ToString()!;
        Assert.True(insertLine > sql.Split('\n').Length, "the source DDL comes first in the script"); // not the statement's own line 1
        Assert.Equal((insertLine + 1, 5), ((int)Row(second, "q1").Properties["Line"].Value, (int)Row(second, "q1").Properties["Column"].Value));

        // The table view (the hosted runspace has no Format-*/Out-String): its columns are the object's properties.
        var xml = System.Xml.Linq.XDocument.Load(Path.Combine(StagedModule.Directory, "format", "PiBench.Engines.format.ps1xml"));
        var view = Assert.Single(xml.Descendants("View"), v => v.Element("ViewSelectedBy")!.Element("TypeName")!.Value == "PiBench.Core.Engines.NexmarkQueryValidation");
        var columns = view.Descendants("TableColumnItem").Select(i => i.Element("PropertyName")!.Value).ToList();
        Assert.Equal(["Name", "System", "Valid", "Line", "Column", "Message"], columns);
        Assert.All(columns, c => Assert.NotNull(q1.Properties[c]));
    }

    [Fact]
    public void UnsupportedOrUnknownNames_AreErrors_AndAnUnreachableEngineStopsTheCommand()
    {
        var r = fx.Run("Test-NexmarkQuery q4 Arroyo -EngineUri http://127.0.0.1:1/");
        Assert.Empty(r.Output);
        Assert.StartsWith("QueryUnsupported,", ErrorId(r));
        var u = fx.Run("Test-NexmarkQuery q99 Flink -EngineUri http://127.0.0.1:1/");
        Assert.StartsWith("QueryNotFound,", ErrorId(u));
        var dead = fx.Run("Test-NexmarkQuery q1,q2 Flink -EngineUri http://127.0.0.1:1/ -AuxiliaryUri http://127.0.0.1:1/ -BootstrapServers 127.0.0.1:9092 -RequestTimeoutSeconds 2");
        Assert.Empty(dead.Output);
        Assert.True(dead.Terminating is not null || dead.Errors.Count == 1, "errors: " + string.Join("; ", dead.Errors.Select(e => e.FullyQualifiedErrorId))); // stopped at q1
        Assert.StartsWith("EngineUnreachable,", ErrorId(dead));
    }

    [Fact]
    public void QueryNames_TabComplete_ToWhatTheEngineCanRun()
    {
        var r = fx.Run("$s = 'Test-NexmarkQuery -System Arroyo -Name q'; (TabExpansion2 -inputScript $s -cursorColumn $s.Length).CompletionMatches.CompletionText").AssertNoErrors();
        var names = r.Output.Select(o => o.ToString()).ToList();
        Assert.Contains("q5", names);
        Assert.DoesNotContain("q4", names);
    }

    [Fact]
    public void InvokeBenchmark_RefusesARejectedQuery_BeforeAnythingIsMeasured()
    {
        using var flink = new FlinkStandIn { RejectStatementContaining = "INSERT INTO nexmark_q2" };
        var dir = Path.Combine(Path.GetTempPath(), $"pibench-preflight-{Guid.NewGuid():N}");
        var vars = Vars(flink);
        vars["dir"] = dir;
        // A broker that answers (Invoke-Benchmark checks the bootstrap servers before anything else runs).
        var r = fx.Run("$k = Start-EmbeddedKafka; try { Invoke-Benchmark -System Flink -Query q1,q2 -Repetitions 1 -BootstrapServers $k.BootstrapServers -EngineUri $rest -AuxiliaryUri $gw -NoMetrics -OutputDirectory $dir } finally { $k | Stop-EmbeddedKafka }", vars);
        Assert.Empty(r.Output);
        Assert.StartsWith("BenchmarkQueryRejected,", ErrorId(r));
        var record = (r.Terminating as IContainsErrorRecord)?.ErrorRecord ?? r.Errors[0];
        Assert.Contains("q2", record.Exception.Message);
        Assert.Equal(ErrorCategory.InvalidArgument, record.CategoryInfo.Category);
        Assert.Empty(flink.Jobs); // nothing submitted
        Assert.True(!Directory.Exists(dir) || Directory.GetFiles(dir).Length == 0); // no results files
        Assert.All(flink.Sessions, s => Assert.StartsWith("EXPLAIN INSERT INTO", s.Statements[^1]));

        var whatIf = new FlinkStandIn();
        using (whatIf)
        {
            fx.Run("Invoke-Benchmark -System Flink -Query q1 -BootstrapServers 127.0.0.1:1 -EngineUri $rest -AuxiliaryUri $gw -NoMetrics -OutputDirectory $dir -WhatIf", Vars(whatIf).Append(new("dir", dir)).ToDictionary()).AssertNoErrors();
            Assert.Empty(whatIf.GatewayRequests);
            Assert.Empty(whatIf.RestRequests);
        }
    }
}
