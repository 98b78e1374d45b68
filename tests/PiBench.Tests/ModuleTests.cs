using System.Management.Automation;
using PiBench.Tests.Harness;

namespace PiBench.Tests;

/// <summary>The staged module imports like a first-class binary module.</summary>
[Collection("module")]
public sealed class ModuleTests(ModuleFixture fx)
{
    [Fact]
    public void Manifest_IsValid_AndExportsOnlyImplementedCmdlets()
    {
        var r = fx.Run($"Test-ModuleManifest -Path '{StagedModule.Psd1Path}'").AssertNoErrors();
        var manifest = (PSModuleInfo)r.Output[0].BaseObject;
        Assert.Equal("Core", Assert.Single(manifest.CompatiblePSEditions));
        Assert.Equal(new Version(7, 4), manifest.PowerShellVersion);

        var exported = fx.Run("(Get-Module PiBench).ExportedCmdlets.Keys").AssertNoErrors().Output.Select(o => o.ToString()).ToHashSet();
        var listed = manifest.ExportedCmdlets.Keys.ToHashSet();
        Assert.NotEmpty(exported);
        Assert.Empty(listed.Except(exported)); // every listed cmdlet exists
        Assert.Empty(exported.Except(listed)); // nothing exported that the manifest does not list
    }

    [Fact]
    public void FormatFiles_AreLoaded()
    {
        var r = fx.Run("(Get-Module PiBench).ExportedFormatFiles").AssertNoErrors();
        // Every staged format file (one per capability) is loaded; the count follows the manifest, not a constant.
        Assert.Equal(Directory.GetFiles(Path.Combine(StagedModule.Directory, "format"), "*.ps1xml").Length, r.Output.Count);
        Assert.Contains(r.Output, o => o.ToString()!.EndsWith("PiBench.Report.format.ps1xml", StringComparison.Ordinal));
    }

    [Fact]
    public void EveryCmdlet_HasHelpWithExamples_AndApprovedVerb()
    {
        var approved = new[] { typeof(VerbsCommon), typeof(VerbsCommunications), typeof(VerbsData), typeof(VerbsDiagnostic),
                typeof(VerbsLifecycle), typeof(VerbsOther), typeof(VerbsSecurity) }
            .SelectMany(t => t.GetFields()).Select(f => (string)f.GetValue(null)!).ToHashSet(StringComparer.OrdinalIgnoreCase);
        var names = fx.Run("(Get-Module PiBench).ExportedCmdlets.Keys").AssertNoErrors().Output.Select(o => o.ToString()).ToList();
        foreach (var name in names)
        {
            var help = fx.Run($"Get-Help {name} -Examples").AssertNoErrors();
            var obj = Assert.Single(help.Output);
            var examples = obj.Properties["examples"]?.Value as PSObject;
            Assert.True(examples is not null, $"{name}: Get-Help -Examples returned no examples");
            var synopsis = obj.Properties["Synopsis"]?.Value?.ToString();
            Assert.False(string.IsNullOrWhiteSpace(synopsis), $"{name}: no synopsis");
            var verb = name.Split('-')[0];
            Assert.True(approved.Contains(verb), $"{name}: '{verb}' is not an approved verb");
        }
    }

    [Fact]
    public void Dependencies_LoadInThePrivateContext()
    {
        var r = fx.Run("[System.Runtime.Loader.AssemblyLoadContext]::All.Where({ $_.Name -eq 'PiBench.Core' }).Count").AssertNoErrors();
        // The context exists once the module is imported.
        Assert.Equal(1, Convert.ToInt32(r.Output[0].BaseObject));
    }
}
