using System.Management.Automation;
using PiBench.Tests.Harness;

namespace PiBench.Tests;

/// <summary>Get-NexmarkEvent and ConvertTo-NexmarkJson through the staged module, against the shared reference vectors.</summary>
[Collection("module")]
public sealed class NexmarkEventCommandTests(ModuleFixture fx)
{
    /// <summary>$PIBENCH_VECTORS_DIR, else shared/vectors/nexmark in the nearest ancestor of the repository root. Missing = fail.</summary>
    private static string VectorsDir()
    {
        if (Environment.GetEnvironmentVariable("PIBENCH_VECTORS_DIR") is { Length: > 0 } env)
            return Directory.Exists(env) ? env : throw new DirectoryNotFoundException($"PIBENCH_VECTORS_DIR={env} does not exist.");
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (!File.Exists(Path.Combine(dir.FullName, "PiBench.sln"))) continue;
            for (var up = dir.Parent; up is not null; up = up.Parent)
            {
                var candidate = Path.Combine(up.FullName, "shared", "vectors", "nexmark");
                if (Directory.Exists(candidate)) return candidate;
            }
            throw new DirectoryNotFoundException($"shared/vectors/nexmark not found next to {dir.FullName}; set PIBENCH_VECTORS_DIR.");
        }
        throw new DirectoryNotFoundException("PiBench.sln not found above the test folder; set PIBENCH_VECTORS_DIR.");
    }

    private static string Vector(string file)
    {
        var path = Path.Combine(VectorsDir(), file);
        Assert.True(File.Exists(path), $"reference vector missing: {path}");
        return File.ReadAllText(path);
    }

    private void AssertScriptReproduces(string script, string file)
    {
        var expected = Vector(file);
        var r = fx.Run(script).AssertNoErrors();
        var actual = Assert.IsType<string>(Assert.Single(r.Output).BaseObject);
        if (actual == expected) return;
        var e = expected.Split('\n'); var a = actual.Split('\n');
        for (int i = 0; i < Math.Min(e.Length, a.Length); i++)
            Assert.True(e[i] == a[i], $"{file}: line {i + 1} differs\nexpected: {e[i]}\nactual:   {a[i]}");
        Assert.Fail($"{file}: {e.Length} lines expected, {a.Length} produced");
    }

    [Fact]
    public void FlinkSeeded_Vector_ByteForByte()
    {
        // Default profile and seeds; only the base time is fixed as in the vectors.
        AssertScriptReproduces(
            "(@(Get-NexmarkEvent -Count 2000 -BaseTime 1436918400000 | ConvertTo-NexmarkJson -Shape Vector) -join \"`n\") + \"`n\"",
            "flink-head-seeded_1gen_first2000.jsonl");
    }

    [Fact]
    public void FlinkSeeded_KafkaShape_ByteForByte()
    {
        AssertScriptReproduces(
            "(@(Get-NexmarkEvent -Count 100 -Profile Flink -Seed 3 -UrlSeed 2 -ExtraSeed 1 -BaseTime 1436918400000 -FirstEventId 1 -FirstEventNumber 1 | ConvertTo-NexmarkJson) -join \"`n\") + \"`n\"",
            "flink-head-seeded_1gen_first100_kafka-json-shape.jsonl");
    }

    [Fact]
    public void Beam_Vector_ByteForByte()
    {
        AssertScriptReproduces(
            "(@(Get-NexmarkEvent -Count 2000 -Profile Beam | ConvertTo-NexmarkJson -Shape Vector) -join \"`n\") + \"`n\"",
            "beam-equivalent_1gen_first2000.jsonl");
    }

    [Fact]
    public void UnmodifiedSample_RandomIndependentFields_Match()
    {
        // Other seeds than the vectors: the RNG-independent fields must still equal the real (unseeded) sample.
        var sample = Vector("flink-head-unmodified-sample_1gen_first2000.jsonl").TrimEnd('\n').Split('\n');
        var r = fx.Run("Get-NexmarkEvent -Count 2000 -BaseTime 1436918400000 -Seed 11 -UrlSeed 12 -ExtraSeed 13 | ConvertTo-NexmarkJson -Shape Vector").AssertNoErrors();
        Assert.Equal(2000, r.Output.Count);
        for (int i = 0; i < sample.Length; i++)
        {
            using var s = System.Text.Json.JsonDocument.Parse(sample[i]);
            using var o = System.Text.Json.JsonDocument.Parse((string)r.Output[i].BaseObject);
            foreach (var key in new[] { "index", "eventNumber", "adjustedEventNumber", "eventId", "type", "eventType", "eventTimestamp", "watermark" })
                Assert.Equal(s.RootElement.GetProperty(key).GetRawText(), o.RootElement.GetProperty(key).GetRawText());
            var entity = s.RootElement.EnumerateObject().Last();
            var ours = o.RootElement.GetProperty(entity.Name);
            Assert.Equal(entity.Value.EnumerateObject().Select(p => p.Name), ours.EnumerateObject().Select(p => p.Name));
            Assert.Equal(entity.Value.GetProperty("dateTime").GetInt64(), ours.GetProperty("dateTime").GetInt64());
            if (entity.Name != "bid") Assert.Equal(entity.Value.GetProperty("id").GetInt64(), ours.GetProperty("id").GetInt64());
        }
    }

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
    public void Verbose_PrintsTheSeedsAndBaseTime()
    {
        var r = fx.Run("Get-NexmarkEvent -Count 1 -Seed 77 -BaseTime 1234 -Verbose").AssertNoErrors();
        Assert.Single(r.Output);
        var line = string.Concat(r.Verbose);
        Assert.Contains("Seed=77", line);
        Assert.Contains("UrlSeed=2", line);
        Assert.Contains("ExtraSeed=1", line);
        Assert.Contains("BaseTime=1234", line);
    }

    [Theory]
    [InlineData("Get-NexmarkEvent -Count 1 -GeneratorCount 3 -GeneratorIndex 3", "InvalidGeneratorIndex")]
    [InlineData("Get-NexmarkEvent -Count 1 -GeneratorIndex -1", "InvalidGeneratorIndex")]
    [InlineData("Get-NexmarkEvent -Count 1 -GeneratorCount 0", "InvalidGeneratorCount")]
    [InlineData("Get-NexmarkEvent -Count -5", "InvalidCount")]
    [InlineData("Get-NexmarkEvent -Count 1 -Skip -1", "InvalidSkip")]
    [InlineData("Get-NexmarkEvent -Count 1 -FirstEventRate 0", "InvalidFirstEventRate")]
    [InlineData("Get-NexmarkEvent -Count 1 -HotBiddersRatio 0", "InvalidHotRatio")]
    [InlineData("Get-NexmarkEvent -Count 1 -BidProportion -2", "InvalidProportion")]
    [InlineData("Get-NexmarkEvent -Count 1 -OutOfOrderGroupSize 0", "InvalidOutOfOrderGroupSize")]
    [InlineData("Get-NexmarkEvent -Count 1 -BaseTime -1", "InvalidBaseTime")]
    public void BadArguments_AreTerminatingErrors_WithStableIds(string script, string errorId)
    {
        // ThrowTerminatingError ends the command; inside a script it is statement-terminating, so the record lands in
        // the error stream (or ends the script under $ErrorActionPreference = Stop, checked below).
        var r = fx.Run(script);
        Assert.Empty(r.Output);
        var record = Assert.Single(r.Errors);
        Assert.StartsWith(errorId + ",", record.FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.InvalidArgument, record.CategoryInfo.Category);
        Assert.NotNull(record.TargetObject);

        var stop = fx.Run("$ErrorActionPreference = 'Stop'; " + script + "; 'not reached'");
        Assert.Empty(stop.Output);
        var ex = Assert.IsAssignableFrom<IContainsErrorRecord>(stop.Terminating);
        Assert.StartsWith(errorId + ",", ex.ErrorRecord.FullyQualifiedErrorId);
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
