using System.Management.Automation;
using PiBench.Tests.Harness;

namespace PiBench.Tests;

/// <summary>
/// Get-PiTopology, New-PiTopology and Get-PiNode: validation with file, line and key in every error. The seed cluster,
/// an unknown key, the loopback lab round trip and flat export are tested in tests/pester/Nodes.Tests.ps1 (real pwsh).
/// </summary>
[Collection("module")]
public sealed class TopologyCommandTests(ModuleFixture fx) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("pibench-topo-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private const string Good = """
        name: t
        ssh:
          user: pi
          port: 2222
        nodes:
          - { name: pi1, address: 10.0.0.1, role: controller }
          - { name: pi2, address: 10.0.0.2, role: worker }
          - { name: pi3, address: 10.0.0.3, role: worker }

        """;

    private ErrorRecord Bad(string yaml)
    {
        var path = Path.Combine(_dir, Guid.NewGuid().ToString("N") + ".yaml");
        File.WriteAllText(path, yaml);
        var r = fx.Run("Get-PiTopology -Path $p", new Dictionary<string, object?> { ["p"] = path });
        Assert.Empty(r.Output);
        var e = Assert.Single(r.Errors);
        Assert.Equal(ErrorCategory.InvalidData, e.CategoryInfo.Category);
        Assert.Contains(path, e.Exception.Message);
        return e;
    }

    [Fact]
    public void GetPiNode_FiltersByWildcard_AndReportsUnknownNames()
    {
        var path = Path.Combine(_dir, "good.yaml");
        File.WriteAllText(path, Good);
        var r = fx.Run("Get-PiNode -Topology $p -Name 'pi[23]', nope", new Dictionary<string, object?> { ["p"] = path });
        Assert.Equal(new[] { "pi2", "pi3" }, r.Output.Select(o => (string)o.Properties["Name"].Value));
        Assert.Equal(2222, r.Output[0].Properties["Port"].Value);
        Assert.Equal("NodeNotFound,PiBench.Commands.GetPiNodeCommand", Assert.Single(r.Errors).FullyQualifiedErrorId);
    }

    [Fact]
    public void DuplicateNodeName_NamesSecondLine()
    {
        var e = Bad(Good + "  - { name: pi2, address: 10.0.0.9, role: worker }\n");
        Assert.Equal("TopologyDuplicateNode,PiBench.Commands.GetPiTopologyCommand", e.FullyQualifiedErrorId);
        Assert.Contains(":9:", e.Exception.Message);
        Assert.Contains("first at line 7", e.Exception.Message);
    }

    [Fact]
    public void DuplicateAddress_IsAnError()
    {
        var e = Bad(Good + "  - { name: pi4, address: 10.0.0.3, role: worker }\n");
        Assert.Equal("TopologyDuplicateAddress,PiBench.Commands.GetPiTopologyCommand", e.FullyQualifiedErrorId);
        Assert.Contains(":9:", e.Exception.Message);
    }

    [Fact]
    public void NoController_IsAnError()
    {
        var e = Bad(Good.Replace("role: controller", "role: worker"));
        Assert.Equal("TopologyNoController,PiBench.Commands.GetPiTopologyCommand", e.FullyQualifiedErrorId);
    }

    [Fact]
    public void ParallelismNotMatchingWorkers_IsAnError()
    {
        var e = Bad(Good + "benchmark:\n  parallelism: 9\n");
        Assert.Equal("TopologyParallelismMismatch,PiBench.Commands.GetPiTopologyCommand", e.FullyQualifiedErrorId);
        Assert.Contains(":10:", e.Exception.Message);
        Assert.Contains("2 worker", e.Exception.Message);
    }

    [Fact]
    public void MalformedAddress_NamesLine()
    {
        var e = Bad(Good.Replace("10.0.0.2", "10.0.0.256"));
        Assert.Equal("TopologyInvalidAddress,PiBench.Commands.GetPiTopologyCommand", e.FullyQualifiedErrorId);
        Assert.Contains(":7:", e.Exception.Message);
        Assert.Contains("10.0.0.256", e.Exception.Message);
    }

    [Fact]
    public void BadYaml_And_MissingFile_HaveTheirOwnIds()
    {
        Assert.Equal("TopologyParseError,PiBench.Commands.GetPiTopologyCommand", Bad("nodes: [ {name: a\n").FullyQualifiedErrorId);
        var r = fx.Run("Get-PiTopology -Path $p", new Dictionary<string, object?> { ["p"] = Path.Combine(_dir, "missing.yaml") });
        var e = Assert.Single(r.Errors);
        Assert.Equal("TopologyNotFound,PiBench.Commands.GetPiTopologyCommand", e.FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.ObjectNotFound, e.CategoryInfo.Category);
    }

    [Fact]
    public void NodeNames_TabComplete_FromTheTopology()
    {
        var path = Path.Combine(_dir, "complete.yaml");
        File.WriteAllText(path, Good);
        using var ps = PowerShell.Create(fx.State);
        var input = $"Get-PiNode -Topology '{path}' -Name pi";
        var completion = CommandCompletion.CompleteInput(input, input.Length, null, ps);
        Assert.Equal(new[] { "pi1", "pi2", "pi3" }, completion.CompletionMatches.Select(m => m.CompletionText));
    }
}
