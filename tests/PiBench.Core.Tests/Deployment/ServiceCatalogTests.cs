using PiBench.Core;
using PiBench.Core.Deployment;
using Xunit;

namespace PiBench.Core.Tests.Deployment;

/// <summary>The service specs: one place per service, derived from the topology, pinned images, stable config hash.</summary>
public sealed class ServiceCatalogTests
{
    private static readonly DeploymentNode[] Nodes =
    {
        new("pi1", "192.168.2.70", true), new("pi2", "192.168.2.71", false), new("pi3", "192.168.2.72", false), new("pi4", "192.168.2.73", false),
    };

    private static ServiceCatalog Catalog(DeploymentSettings? s = null) => new(Nodes, s ?? new DeploymentSettings());

    [Fact]
    public void Arroyo_UsesTheNodeScheduler_AndEveryWorkerPointsAtTheController()
    {
        var specs = Catalog(new DeploymentSettings { ArroyoTaskSlots = 2, ArroyoNodeMemoryMb = 1500 }).For(StreamSystem.Arroyo);
        var controller = Assert.Single(specs, s => s.Service == ServiceCatalog.ArroyoController);
        Assert.Equal("node", controller.Environment["ARROYO__CONTROLLER__SCHEDULER"]);
        Assert.Equal("pi1", controller.Node.Name);
        Assert.Equal(new[] { "cluster" }, controller.Command);
        var workers = specs.Where(s => s.Service == ServiceCatalog.ArroyoNode).ToList();
        Assert.Equal(new[] { "pi2", "pi3", "pi4" }, workers.Select(w => w.Node.Name));
        Assert.All(workers, w =>
        {
            Assert.Equal("http://192.168.2.70:5116", w.Environment["ARROYO__CONTROLLER_ENDPOINT"]);
            Assert.Equal("2", w.Environment["ARROYO__NODE__TASK_SLOTS"]);
            Assert.False(w.Environment.ContainsKey("ARROYO__MEMORY_PER_SLOT_MB")); // not a 0.11 setting: the node would exit
            Assert.Equal("s3::http://192.168.2.70:9000/arroyo/checkpoints", w.Environment["ARROYO__CHECKPOINT_URL"]);
            Assert.Equal("us-east-1", w.Environment["AWS_DEFAULT_REGION"]);
            Assert.Equal(1500 * 1024L * 1024L, w.MemoryBytes); // the container limit is the memory per worker node
            Assert.Equal("always", w.RestartPolicy);
            Assert.Equal(2, w.Phase);
        });
    }

    [Fact]
    public void Flink_TaskManagersGetFlinkProperties()
    {
        var specs = Catalog(new DeploymentSettings { FlinkTaskSlots = 2, FlinkTaskManagerMemoryMb = 1536 }).For(StreamSystem.Flink);
        Assert.Contains(specs, s => s.Service == ServiceCatalog.FlinkJobManager && s.Node.IsController);
        var gateway = Assert.Single(specs, s => s.Service == ServiceCatalog.FlinkSqlGateway);
        Assert.Contains("rest.address: 192.168.2.70", gateway.Environment["FLINK_PROPERTIES"]); // the image rewrites it to 0.0.0.0 otherwise
        var tm = specs.Single(s => s.Service == ServiceCatalog.FlinkTaskManager && s.Node.Name == "pi3");
        var props = tm.Environment["FLINK_PROPERTIES"].Split('\n');
        Assert.Contains("jobmanager.rpc.address: 192.168.2.70", props);
        Assert.Contains("taskmanager.host: 192.168.2.72", props);
        Assert.Contains("taskmanager.numberOfTaskSlots: 2", props);
        Assert.Contains("taskmanager.memory.process.size: 1536m", props);
        Assert.Contains("parallelism.default: 6", props);
    }

    [Fact]
    public void Kafka_ListensOnTheControllerAddress_WithOnePartitionPerWorker()
    {
        var kafka = Catalog().KafkaSpec();
        Assert.Equal("PLAINTEXT://192.168.2.70:9094", kafka.Environment["KAFKA_ADVERTISED_LISTENERS"]);
        Assert.Equal("broker,controller", kafka.Environment["KAFKA_PROCESS_ROLES"]);
        Assert.Equal("3", kafka.Environment["KAFKA_NUM_PARTITIONS"]);
        Assert.Equal(3, Catalog().Partitions);
        Assert.Equal(9, Catalog(new DeploymentSettings { KafkaPartitions = 9 }).Partitions);
        Assert.Contains(kafka.Volumes, v => v.Name == ServiceCatalog.KafkaDataVolume);
    }

    [Fact]
    public void EveryImageIsPinned_NeverLatest_AndSharedServicesStayOnTheController()
    {
        foreach (var system in new[] { StreamSystem.Arroyo, StreamSystem.Flink })
            foreach (var spec in Catalog().For(system))
            {
                Assert.Contains(':', spec.Image[(spec.Image.LastIndexOf('/') + 1)..]);
                Assert.DoesNotContain(":latest", spec.Image);
                Assert.Equal(ServiceSpec.NetworkMode, "host");
                Assert.Equal("true", spec.Labels[PiBenchLabels.Managed]);
                Assert.Equal(spec.Service, spec.Labels[PiBenchLabels.Service]);
                Assert.Equal(spec.Node.Name, spec.Labels[PiBenchLabels.Node]);
                Assert.True(spec.MemoryBytes > 0, spec.Service);
                if (spec.System == PiBenchLabels.SharedSystem) Assert.True(spec.Node.IsController);
            }
        Assert.Equal("ghcr.io/arroyosystems/arroyo:0.11.0", PinnedImages.Default.Arroyo);
        Assert.StartsWith("flink:1.18.1", PinnedImages.Default.FlinkBase);
    }

    [Fact]
    public void ConfigHash_IsStable_AndChangesWithTheSettings()
    {
        var a = Catalog().ArroyoNodeSpec(Nodes[1]);
        Assert.Equal(a.ConfigHash, Catalog().ArroyoNodeSpec(Nodes[1]).ConfigHash);
        Assert.NotEqual(a.ConfigHash, Catalog(new DeploymentSettings { ArroyoTaskSlots = 3 }).ArroyoNodeSpec(Nodes[1]).ConfigHash);
        Assert.NotEqual(a.ConfigHash, Catalog().ArroyoNodeSpec(Nodes[2]).ConfigHash);
    }

    [Fact]
    public void ATopologyWithoutController_IsAnError()
    {
        var ex = Assert.Throws<PiBenchException>(() => new ServiceCatalog(new[] { new DeploymentNode("pi2", "10.0.0.2", false) }, new()).For(StreamSystem.Arroyo));
        Assert.Equal("TopologyHasNoController", ex.ErrorId);
        Assert.Equal(PiBenchErrorCategory.InvalidData, ex.Category);
    }

    private const string Topo = """
        nodes:
          - { name: pi1, address: 192.168.2.70, role: controller }
          - { name: pi2, address: 192.168.2.71, role: worker }
        """;

    [Fact]
    public void ImageKeys_InTheTopology_PinWhatIsDeployed_AndDefaultsFollowTheVersions()
    {
        var t = PiBench.Core.Topology.ClusterTopology.Parse(Topo + "\n" + """
            kafka:
              image: registry.lab:5000/kafka:3.8.0
            minio:
              image: minio/minio@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
            flink:
              version: 1.18.1
              base_image: flink:1.18.1-java17
            """, "t.yaml");
        var images = ClusterSession.SettingsFrom(t).Images;
        Assert.Equal("registry.lab:5000/kafka:3.8.0", images.Kafka);
        Assert.StartsWith("minio/minio@sha256:", images.Minio);
        Assert.Equal("flink:1.18.1-java17", images.FlinkBase);
        Assert.Equal("pibench/flink-kafka:1.18.1-3.1.0", images.Flink); // not given: derived from the version
        Assert.Equal("ghcr.io/arroyosystems/arroyo:0.11.0", images.Arroyo);
        var kafka = Assert.Single(Catalog(ClusterSession.SettingsFrom(t)).For(StreamSystem.Arroyo), x => x.Service == ServiceCatalog.Kafka);
        Assert.Equal("registry.lab:5000/kafka:3.8.0", kafka.Image);
    }

    [Theory]
    [InlineData("apache/kafka")]
    [InlineData("apache/kafka:latest")]
    [InlineData("registry.lab:5000/kafka")]
    public void AnImageWithoutAPinnedVersion_IsRefused_WithTheLine(string image)
    {
        var ex = Assert.Throws<PiBenchException>(() => PiBench.Core.Topology.ClusterTopology.Parse(Topo + $"\nkafka:\n  image: {image}\n", "t.yaml"));
        Assert.Equal("TopologyInvalidValue", ex.ErrorId);
        Assert.Contains("t.yaml:5:", ex.Message);
        Assert.Contains("kafka.image", ex.Message);
        Assert.Contains("digest", ex.RecommendedAction);
    }
}
