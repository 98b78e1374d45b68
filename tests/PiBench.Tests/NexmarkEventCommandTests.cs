using System.Management.Automation;
using PiBench.Tests.Harness;

namespace PiBench.Tests;

/// <summary>
/// Get-NexmarkEvent and ConvertTo-NexmarkJson in a hosted runspace, for what tests/pester/Nexmark.Tests.ps1 (real pwsh)
/// does not cover: the reference vectors, verbose seeds and error ids are tested there only.
/// </summary>
[Collection("module")]
public sealed class NexmarkEventCommandTests(ModuleFixture fx)
{
    [Fact]
    public void Events_HaveFlatProperties_AndTheFormatView()
    {
        var r = fx.Run("Get-NexmarkEvent -Count 3 -Skip 47 -BaseTime 1436918400000").AssertNoErrors();
        Assert.Equal(3, r.Output.Count);
        Assert.Equal("PiBench.Core.Nexmark.NexmarkEvent", r.Output[0].TypeNames[0]);
        Assert.Equal(47L, r.Prop(0, "Index"));
        Assert.Equal("Bid", r.Prop(0, "EventType")!.ToString());
        Assert.Equal("Person", r.Prop(1, "EventType")!.ToString());
        var person = (PSObject)PSObject.AsPSObject(r.Prop(1, "Person"));
        Assert.Equal(1001L, person.Properties["Id"].Value);
        Assert.Null(r.Prop(1, "Bid"));
        Assert.Equal(1436918400004L, r.Prop(1, "EventTimestamp"));


        // The table view (the hosted runspace has no Format-*/Out-String): right type, 4-6 columns, and every column
        // either a real property or a script block that works on a real event.
        var xml = System.Xml.Linq.XDocument.Load(Path.Combine(StagedModule.Directory, "format", "PiBench.Nexmark.format.ps1xml"));
        // the file is the whole Nexmark area's: the generator/Kafka views live next to this one
        var view = Assert.Single(xml.Descendants("View"), v => v.Element("ViewSelectedBy")!.Element("TypeName")!.Value == "PiBench.Core.Nexmark.NexmarkEvent");
        Assert.Equal("PiBench.Core.Nexmark.NexmarkEvent", view.Element("ViewSelectedBy")!.Element("TypeName")!.Value);
        var items = view.Descendants("TableColumnItem").ToList();
        Assert.InRange(items.Count, 4, 6);
        Assert.Equal(items.Count, view.Descendants("TableColumnHeader").Count());
        foreach (var item in items)
        {
            var script = item.Element("PropertyName") is { } prop
                ? $"$_.PSObject.Properties['{prop.Value}'] -ne $null"
                : item.Element("ScriptBlock")!.Value;
            var cell = fx.Run($"Get-NexmarkEvent -Count 1 -BaseTime 1436918400000 | ForEach-Object {{ {script} }}").AssertNoErrors();
            var value = Assert.Single(cell.Output).ToString();
            Assert.False(string.IsNullOrEmpty(value) || value == "False", $"column {item} gave '{value}'");
            if (item.Element("ScriptBlock") is not null)
                Assert.True(value is "2015-07-15 00:00:00.000" || value.StartsWith("Auction 1001 'emki'", StringComparison.Ordinal), value);
        }
    }

    [Fact]
    public void SplitsAndSkip_ThroughTheCmdlet()
    {
        var r = fx.Run("""
            $all = Get-NexmarkEvent -Count 10 -Profile Beam -Skip 990
            $split = Get-NexmarkEvent -Count 5 -Profile Beam -GeneratorCount 3 -GeneratorIndex 2 -NumEvents 3000
            $limited = @(Get-NexmarkEvent -Count 100 -StopAtEvent 7 -BaseTime 0)
            $all[0].EventId, $split[0].EventId, $split[1].EventTimestamp, $limited.Count
            """).AssertNoErrors();
        Assert.Equal(990L, r.Output[0].BaseObject);
        Assert.Equal(2000L, r.Output[1].BaseObject);       // firstEventId 0 + 2 * (3000 / 3)
        Assert.Equal(1436918400000L, r.Output[2].BaseObject); // delay 300 us: event number 1 is still at +0 ms
        Assert.Equal(7, r.Output[3].BaseObject);
    }

    [Fact]
    public void BadProfileOrShape_AreRejectedByValidation()
    {
        var profile = fx.Run("Get-NexmarkEvent -Count 1 -Profile Spark");
        Assert.Empty(profile.Output);
        Assert.Contains(profile.Errors, e => e.FullyQualifiedErrorId.StartsWith("ParameterArgumentValidationError", StringComparison.Ordinal));
        var shape = fx.Run("Get-NexmarkEvent -Count 1 | ConvertTo-NexmarkJson -Shape Xml");
        Assert.Empty(shape.Output);
        Assert.Contains(shape.Errors, e => e.FullyQualifiedErrorId.StartsWith("ParameterArgumentValidationError", StringComparison.Ordinal));
    }

    [Fact]
    public void Stop_EndsALongStreamPromptly()
    {
        // An effectively unbounded stream stopped by the pipeline (the same path as Ctrl+C: StopProcessing).
        using var ps = PowerShell.Create(fx.State);
        ps.AddScript("Get-NexmarkEvent -Count 1000000000 -BaseTime 0 | ForEach-Object { if ($_.Index % 1000 -eq 0) { $_.Index } }");
        var output = new PSDataCollection<PSObject>();
        var async = ps.BeginInvoke<PSObject, PSObject>(null, output);
        var sw = System.Diagnostics.Stopwatch.StartNew();
        while (sw.Elapsed < TimeSpan.FromSeconds(20) && output.Count < 2) Thread.Sleep(20);
        Assert.True(output.Count >= 2, "the stream did not start");
        sw.Restart();
        ps.Stop();
        Assert.True(async.AsyncWaitHandle.WaitOne(TimeSpan.FromSeconds(10)), "the stream did not stop within 10 s");
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(10));
        Assert.Equal(PSInvocationState.Stopped, ps.InvocationStateInfo.State);
    }
}
