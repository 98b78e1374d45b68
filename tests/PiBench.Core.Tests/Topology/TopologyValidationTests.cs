using PiBench.Core.Topology;
using Xunit;

namespace PiBench.Core.Tests.Topology;

/// <summary>Topology validation of bad input: each error has its ErrorId, the line, and the offending value.</summary>
public sealed class TopologyValidationTests
{
    private const string Nodes = "nodes:\n  - { name: pi1, address: 127.0.0.70, role: controller }\n  - { name: pi2, address: 127.0.0.71, role: worker }\n";

    private static PiBenchException Fails(string yaml, string errorId)
    {
        var ex = Assert.Throws<PiBenchException>(() => ClusterTopology.Parse(yaml, "t.yaml"));
        Assert.True(ex.ErrorId == errorId, $"{ex.ErrorId}: {ex.Message}");
        return ex;
    }

    private static int Line(PiBenchException ex) => ((TopologyErrorLocation)ex.TargetObject!).Line;

    [Theory]
    [InlineData("127.0.0.071", "127.0.0.57")]
    [InlineData("010.0.0.1", "8.0.0.1")]
    public void ZeroPaddedOctets_AreRefused_WithTheLine_AndWhatTheyWouldReach(string address, string octal)
    {
        var ex = Fails($"name: x\nnodes:\n  - {{ name: pi1, address: 127.0.0.70, role: controller }}\n  - {{ name: pi2, address: {address}, role: worker }}\n", "TopologyInvalidAddress");
        Assert.Equal(4, Line(ex));
        Assert.Contains(address, ex.Message);
        Assert.Contains(octal, ex.Message);
    }

    [Theory]
    [InlineData("0x7f.0.0.1")]
    [InlineData("127.1")]
    [InlineData("2130706433")]
    public void NumericShortOrHexForms_AreRefused(string address)
    {
        Fails($"nodes:\n  - {{ name: pi1, address: {address}, role: controller }}\n  - {{ name: pi2, address: 127.0.0.71, role: worker }}\n", "TopologyInvalidAddress");
    }

    [Theory]
    [InlineData("127.0.0.70")]
    [InlineData("127.0.0.0")]
    [InlineData("pi1.local")]
    [InlineData("raspberry-7")]
    public void PlainAddresses_StillPass(string address)
    {
        var t = ClusterTopology.Parse($"nodes:\n  - {{ name: pi1, address: {address}, role: controller }}\n  - {{ name: pi2, address: 10.0.0.71, role: worker }}\n", "t.yaml");
        Assert.Equal(address, t.Controller.Address);
    }

    [Fact]
    public void ATabOnLine3_IsReportedOnLine3()
    {
        var ex = Fails("name: x\nssh:\n\tuser: pi\n" + Nodes, "TopologyParseError");
        Assert.Equal(3, Line(ex));
        Assert.Contains("t.yaml:3:", ex.Message);
    }

    [Fact]
    public void ASecondYamlDocument_IsRefused_NotIgnored()
    {
        var ex = Fails("name: x\n" + Nodes + "---\nname: y\n" + Nodes, "TopologyMultipleDocuments");
        Assert.Equal(6, Line(ex)); // the second document's first line
    }

    [Fact]
    public void TwoServicesOnOnePortOfTheController_AreRefused()
    {
        var ex = Fails(Nodes + "kafka:\n  port: 9000\nminio:\n  api_port: 9000\n", "TopologyPortConflict");
        Assert.Contains("kafka.port", ex.Message);
        Assert.Contains("minio.api_port", ex.Message);
        Assert.Contains("9000", ex.Message);
    }

    [Fact]
    public void EngineAndSharedServicePorts_MustDiffer_ButTheEnginesMayReuseEachOthers()
    {
        ClusterTopology.Parse(Nodes + "arroyo:\n  api_port: 8081\n", "t.yaml"); // Arroyo and Flink never run together
        var ex = Fails(Nodes + "kafka:\n  port: 8081\n", "TopologyPortConflict"); // = flink.rest_port
        Assert.Contains("flink.rest_port", ex.Message);
    }

    [Theory]
    [InlineData("input_topic", "bad topic")]
    [InlineData("output_topic", "..")]
    [InlineData("input_topic", "ü-topic")]
    public void InvalidKafkaTopicNames_AreRefused(string key, string name)
    {
        var ex = Fails(Nodes + $"kafka:\n  {key}: \"{name}\"\n", "TopologyInvalidValue");
        Assert.Contains("kafka." + key, ex.Message);
    }

    [Fact]
    public void TheSameTopicForInputAndOutput_IsRefused()
    {
        Fails(Nodes + "kafka:\n  input_topic: t\n  output_topic: t\n", "TopologyInvalidValue");
    }

    [Fact]
    public void AHugeTopologyFile_IsRefusedWithoutBeingParsed()
    {
        var path = Path.Combine(Path.GetTempPath(), $"huge-{Guid.NewGuid():N}.yaml");
        try
        {
            using (var f = File.Create(path)) f.SetLength(TopologyLoaderLimits.MaxBytes + 1);
            var ex = Assert.Throws<PiBenchException>(() => ClusterTopology.Load(path));
            Assert.Equal("TopologyTooLarge", ex.ErrorId);
        }
        finally { File.Delete(path); }
    }
}
