using System.Management.Automation;
using PiBench.Tests.Harness;

namespace PiBench.Tests;

/// <summary>Get-PiTopology, New-PiTopology and Get-PiNode: validation with file, line and key in every error.</summary>
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
    public void DefaultTopology_IsTheSeedCluster()
    {
        var r = fx.Run("Get-PiTopology -Path (Join-Path $root 'config/cluster-topology.yaml')".Replace("(Join-Path $root 'config/cluster-topology.yaml')", "$p"),
            new Dictionary<string, object?> { ["p"] = Path.Combine(StagedModule.Directory, "config", "cluster-topology.yaml") }).AssertNoErrors();
        var t = r.Output[0];
        Assert.Equal(9, t.Properties["WorkerCount"].Value);
        Assert.Equal(9, t.Properties["Parallelism"].Value);
        Assert.Equal(9, t.Properties["Partitions"].Value);
        Assert.Equal("192.168.2.70", t.Properties["ControllerAddress"].Value);
        var nodes = fx.Run("Get-PiNode -Topology $p -Role Worker", new Dictionary<string, object?> { ["p"] = Path.Combine(StagedModule.Directory, "config", "cluster-topology.yaml") }).AssertNoErrors().Output;
        Assert.Equal(Enumerable.Range(71, 9).Select(i => $"192.168.2.{i}"), nodes.Select(n => (string)n.Properties["Address"].Value));
        Assert.All(nodes, n => Assert.Equal("picocluster", n.Properties["User"].Value));
        Assert.Equal(Enumerable.Range(1, 9), nodes.Select(n => (int)n.Properties["Index"].Value));
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
    public void UnknownKey_NamesLineAndKey()
    {
        var e = Bad(Good + "kafka:\n  prt: 9094\n");
        Assert.Equal("TopologyUnknownKey,PiBench.Commands.GetPiTopologyCommand", e.FullyQualifiedErrorId);
        Assert.Contains(":10:", e.Exception.Message);
        Assert.Contains("kafka.prt", e.Exception.Message);
        Assert.Contains("port", e.ErrorDetails.RecommendedAction);
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
    public void NewPiTopology_Loopback_RoundTrips_AndRespectsWhatIfAndForce()
    {
        var path = Path.Combine(_dir, "lab.yaml");
        fx.Run("New-PiTopology -Path $p -Loopback -WorkerCount 4 -Port 2222 -User tester -WhatIf", new Dictionary<string, object?> { ["p"] = path }).AssertNoErrors();
        Assert.False(File.Exists(path));
        var r = fx.Run("New-PiTopology -Path $p -Loopback -WorkerCount 4 -Port 2222 -User tester", new Dictionary<string, object?> { ["p"] = path }).AssertNoErrors();
        Assert.Equal(4, r.Output[0].Properties["WorkerCount"].Value);
        Assert.Equal("127.0.0.70", r.Output[0].Properties["ControllerAddress"].Value);
        var nodes = fx.Run("Get-PiNode -Topology $p", new Dictionary<string, object?> { ["p"] = path }).AssertNoErrors().Output;
        Assert.Equal(5, nodes.Count);
        Assert.All(nodes, n => { Assert.Equal(2222, n.Properties["Port"].Value); Assert.Equal("tester", n.Properties["User"].Value); });
        var again = fx.Run("New-PiTopology -Path $p -Loopback -WorkerCount 2", new Dictionary<string, object?> { ["p"] = path });
        Assert.Equal("TopologyFileExists,PiBench.Commands.NewPiTopologyCommand", Assert.Single(again.Errors).FullyQualifiedErrorId);
        fx.Run("New-PiTopology -Path $p -Loopback -WorkerCount 2 -Force", new Dictionary<string, object?> { ["p"] = path }).AssertNoErrors();
    }

    [Fact]
    public void PiNode_ExportsAsFlatScalars()
    {
        var path = Path.Combine(_dir, "flat.yaml");
        File.WriteAllText(path, Good);
        var nodes = fx.Run("Get-PiNode -Topology $p", new Dictionary<string, object?> { ["p"] = path }).AssertNoErrors().Output;
        var names = nodes.Select(n => string.Join(",", n.Properties.Select(p => p.Name))).Distinct().ToList();
        Assert.Single(names); // same property set on every object: Export-Csv builds its header from the first
        Assert.All(nodes[0].Properties, p => Assert.True(p.Value is null or string or int or long or bool or Enum, $"{p.Name} is {p.Value?.GetType()}"));
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
