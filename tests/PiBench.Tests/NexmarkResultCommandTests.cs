using PiBench.Tests.Harness;

namespace PiBench.Tests;

/// <summary>Test-NexmarkQueryResult as users run it: captured rows from a file, clear errors for bad input.</summary>
[Collection("module")]
public sealed class NexmarkResultCommandTests(ModuleFixture fx)
{
    private const long BaseTime = 1_700_000_000_000;

    /// <summary>q2 rows written the way an engine writes them, computed in pwsh from Get-NexmarkEvent (not from the reference).</summary>
    private const string WriteQ2Rows = """
        $rows = Get-NexmarkEvent -Count 20000 -BaseTime 1700000000000 -FirstEventRate 1000 |
            Where-Object { $_.Bid -and $_.Bid.Auction % 123 -eq 0 } |
            ForEach-Object { '{"auction":' + $_.Bid.Auction + ',"price":' + $_.Bid.Price + ',"latency_ts":' + $_.Bid.DateTime + '}' }
        """;

    [Fact]
    public void FileOfCapturedRows_CorrectThenDropped()
    {
        var dir = Directory.CreateTempSubdirectory("pibench-check-").FullName;
        try
        {
            var r = fx.Run(WriteQ2Rows + $"""

                [IO.File]::WriteAllLines('{dir}/ok.jsonl', [string[]]$rows)
                [IO.File]::WriteAllLines('{dir}/dropped.jsonl', [string[]]$rows[1..($rows.Count - 1)])
                Test-NexmarkQueryResult -Name q2 -Path '{dir}/ok.jsonl' -EventCount 20000 -EventsPerSecond 1000 -BaseTime {BaseTime}
                Test-NexmarkQueryResult q2 -Path '{dir}/dropped.jsonl' -EventCount 20000 -EventsPerSecond 1000 -BaseTime {BaseTime}
                """).AssertNoErrors();
            Assert.Equal(2, r.Output.Count);
            Assert.Equal("Correct", r.Prop(0, "Verdict")?.ToString());
            Assert.True(Convert.ToInt64(r.Prop(0, "Expected")) > 10);
            Assert.Equal(r.Prop(0, "Expected"), r.Prop(0, "Received"));
            Assert.Equal("Incorrect", r.Prop(1, "Verdict")?.ToString());
            Assert.Equal(1L, Convert.ToInt64(r.Prop(1, "Missing")));
            Assert.Equal(0L, Convert.ToInt64(r.Prop(1, "Extra")));
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void BadInput_ClearErrors()
    {
        var r = fx.Run($"""
            Test-NexmarkQueryResult -Name q6 -Path /nonexistent.jsonl -EventCount 10 -BaseTime {BaseTime}
            Test-NexmarkQueryResult -Name q2 -Path /nonexistent-pibench.jsonl -EventCount 10 -BaseTime {BaseTime}
            """);
        Assert.Empty(r.Output);
        Assert.Equal(2, r.Errors.Count);
        Assert.StartsWith("ReferenceQueryUnsupported", r.Errors[0].FullyQualifiedErrorId);
        Assert.Equal(System.Management.Automation.ErrorCategory.InvalidArgument, r.Errors[0].CategoryInfo.Category);
        Assert.StartsWith("CapturedRowsFileNotFound", r.Errors[1].FullyQualifiedErrorId);
        Assert.Contains("nonexistent-pibench.jsonl", r.Errors[1].Exception.Message);
    }
}
