using PiBench.Core;
using PiBench.Core.Deployment;
using PiBench.Core.Topology;
using Xunit;

namespace PiBench.Core.Tests.Deployment;

/// <summary>
/// Every setting PiBench writes into a container is one the released image honours (issue 17 items 1, 8, 10, 11).
/// The key lists below are copied from the released sources, each cited.
/// </summary>
public sealed class ReleasedImageSettingsTests
{
    private static readonly DeploymentNode[] Nodes =
    {
        new("pi1", "192.168.2.70", true), new("pi2", "192.168.2.71", false), new("pi3", "192.168.2.72", false),
    };

    private static ServiceCatalog Catalog(DeploymentSettings? s = null) => new(Nodes, s ?? new DeploymentSettings());

    /// <summary>
    /// The config paths of Arroyo 0.11's <c>Config</c> (crates/arroyo-rpc/src/config.rs @v0.11.0, all structs
    /// <c>deny_unknown_fields</c>, kebab-case) that a deployment may set, with the env mapping of load_config:
    /// <c>Env::prefixed("ARROYO__").map(|p| p.replace("__", ".").replace("_", "-"))</c> (figment lower-cases keys).
    /// Leaves from crates/arroyo-rpc/default.toml @v0.11.0 plus the Option fields of Config.
    /// </summary>
    private static readonly HashSet<string> Arroyo011Keys = new(StringComparer.Ordinal)
    {
        "checkpoint-url", "default-checkpoint-interval", "controller-endpoint", "api-endpoint", "compiler-endpoint", "disable-telemetry",
        "pipeline.source-batch-size", "pipeline.source-batch-linger", "pipeline.update-aggregate-flush-interval", "pipeline.allowed-restarts",
        "pipeline.worker-heartbeat-timeout", "pipeline.healthy-duration", "pipeline.worker-startup-time", "pipeline.task-startup-time",
        "pipeline.default-sink", "pipeline.compaction.enabled", "pipeline.compaction.checkpoints-to-compact",
        "api.bind-address", "api.http-port", "api.run-http-port",
        "controller.bind-address", "controller.rpc-port", "controller.scheduler",
        "compiler.bind-address", "compiler.rpc-port", "compiler.install-clang", "compiler.install-rustc", "compiler.artifact-url", "compiler.build-dir",
        "worker.bind-address", "worker.rpc-port", "worker.data-port", "worker.task-slots", "worker.id", "worker.name", "worker.queue-size",
        "node.id", "node.bind-address", "node.rpc-port", "node.task-slots",
        "admin.bind-address", "admin.http-port",
        "process-scheduler.slots-per-process",
        "database.type", "database.sqlite.path", "database.postgres.database-name", "database.postgres.host", "database.postgres.port",
        "database.postgres.user", "database.postgres.password",
        "logging.format", "run.query", "run.state-dir",
    };

    private static string ArroyoPath(string env) => env["ARROYO__".Length..].ToLowerInvariant().Replace("__", ".").Replace("_", "-");

    [Fact]
    public void EveryArroyoVariable_IsAnArroyo011ConfigField()
    {
        var specs = Catalog().For(StreamSystem.Arroyo).Where(s => s.System == "arroyo").ToList();
        Assert.NotEmpty(specs);
        foreach (var spec in specs)
            foreach (var key in spec.Environment.Keys.Where(k => k.StartsWith("ARROYO__", StringComparison.Ordinal)))
                Assert.True(Arroyo011Keys.Contains(ArroyoPath(key)), $"{spec.Service}: {key} -> '{ArroyoPath(key)}' is not a field of Arroyo 0.11's Config: `arroyo {string.Join(' ', spec.Command)}` would print 'Configuration is invalid!' and exit");
        // Subcommands of crates/arroyo/src/main.rs @v0.11.0 (enum Commands): cluster, node.
        Assert.All(specs, s => Assert.Contains(s.Command.Single(), new[] { "cluster", "node" }));
    }

    [Fact]
    public void ArroyoNodeMemory_IsTheContainerLimit()
    {
        var node = Catalog(new DeploymentSettings { ArroyoNodeMemoryMb = 1800 }).ArroyoNodeSpec(Nodes[1]);
        Assert.Equal(1800L * 1024 * 1024, node.MemoryBytes);
        Assert.DoesNotContain(node.Environment.Keys, k => k.Contains("MEMORY", StringComparison.Ordinal));
    }

    [Fact]
    public void ATopologyWithMemoryPerSlot_IsRefusedWithItsLine_AndWhatToUseInstead()
    {
        const string yaml = "name: t\nnodes:\n  - { name: pi1, address: 10.0.0.1, role: controller }\n  - { name: pi2, address: 10.0.0.2, role: worker }\narroyo:\n  task_slots: 1\n  memory_per_slot_mb: 768\n";
        var ex = Assert.Throws<PiBenchException>(() => ClusterTopology.Parse(yaml, "old.yaml"));
        Assert.Equal("TopologyObsoleteKey", ex.ErrorId);
        Assert.Equal(PiBenchErrorCategory.InvalidData, ex.Category);
        var where = Assert.IsType<TopologyErrorLocation>(ex.TargetObject);
        Assert.Equal(7, where.Line);
        Assert.Equal("arroyo.memory_per_slot_mb", where.Key);
        Assert.Contains("old.yaml:7", ex.Message);
        Assert.Contains("ARROYO__MEMORY_PER_SLOT_MB", ex.Message);
        Assert.Contains("arroyo.node_memory_mb", ex.RecommendedAction);

        var ok = ClusterTopology.Parse(yaml.Replace("memory_per_slot_mb: 768", "node_memory_mb: 1500"), "new.yaml");
        Assert.Equal(1500, ok.Arroyo.NodeMemoryMb);
        Assert.Equal(1500, ClusterSession.SettingsFrom(ok).ArroyoNodeMemoryMb);
    }

    [Fact]
    public void TheShippedTopology_Loads()
    {
        var dir = AppContext.BaseDirectory;
        while (dir is not null && !File.Exists(Path.Combine(dir, "config", "cluster-topology.yaml"))) dir = Path.GetDirectoryName(dir);
        Assert.NotNull(dir);
        var t = ClusterTopology.Load(Path.Combine(dir!, "config", "cluster-topology.yaml"));
        Assert.True(t.Arroyo.NodeMemoryMb >= 256);
    }

    [Fact]
    public void FlinkJobManager_CheckpointsToMinio_WithTheS3Plugin_AndA1sMetricFetcher()
    {
        var settings = new DeploymentSettings { MinioUser = "bench", MinioPassword = "s3cr$t-Pa55", MinioBucket = "ckpt" };
        var catalog = Catalog(settings);
        var jm = catalog.FlinkJobManagerSpec();
        var props = jm.Environment["FLINK_PROPERTIES"].Split('\n');
        Assert.Contains("metrics.fetcher.update-interval: 1000", props);
        Assert.Contains("state.backend.type: hashmap", props);
        Assert.Contains("state.checkpoints.dir: s3://ckpt/flink/checkpoints", props);
        Assert.Contains("state.savepoints.dir: s3://ckpt/flink/savepoints", props);
        Assert.Contains("s3.endpoint: http://192.168.2.70:9000", props);
        Assert.Contains("s3.path.style.access: true", props);
        Assert.Contains("s3.access-key: bench", props);
        Assert.Contains("s3.secret-key: ${" + ServiceCatalog.FlinkS3SecretVariable + "}", props);
        Assert.Equal("flink-s3-fs-presto-1.18.1.jar", jm.Environment["ENABLE_BUILT_IN_PLUGINS"]);
        Assert.Equal("s3cr$t-Pa55", jm.Environment[ServiceCatalog.FlinkS3SecretVariable]);
        // The secret itself is never in FLINK_PROPERTIES (which -WhatIf and logs may show).
        foreach (var spec in catalog.For(StreamSystem.Flink).Where(s => s.System == "flink"))
        {
            Assert.DoesNotContain("s3cr$t-Pa55", spec.Environment["FLINK_PROPERTIES"]);
            Assert.Contains("state.checkpoints.dir: s3://ckpt/flink/checkpoints", spec.Environment["FLINK_PROPERTIES"]);
            Assert.Equal("flink-s3-fs-presto-1.18.1.jar", spec.Environment["ENABLE_BUILT_IN_PLUGINS"]);
        }
    }

    [Fact]
    public void FlinkTaskManager_GivesItsMemoryToTheTaskHeap()
    {
        var tm = Catalog().FlinkTaskManagerSpec(Nodes[1]);
        var fraction = tm.Environment["FLINK_PROPERTIES"].Split('\n').Single(l => l.StartsWith("taskmanager.memory.managed.fraction: ", StringComparison.Ordinal));
        Assert.True(double.Parse(fraction.Split(": ")[1], System.Globalization.CultureInfo.InvariantCulture) <= 0.05);
    }

    [Fact]
    public void FlinkPluginJar_FollowsTheBaseImageVersion()
    {
        var s = new DeploymentSettings { Images = PinnedImages.Default with { FlinkBase = "flink:1.18.0-java11" } };
        Assert.Equal("flink-s3-fs-presto-1.18.0.jar", Catalog(s).FlinkS3Plugin);
    }
}

/// <summary>Digest-pinned images (issue 17 item 13): pulled by digest, distributed under a tag that names the digest.</summary>
public sealed class DigestReferenceTests
{
    private const string Digest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    [Theory]
    [InlineData("apache/kafka:3.7.1", "apache/kafka", "3.7.1")]
    [InlineData("registry.local:5000/pibench/flink:1.18.1", "registry.local:5000/pibench/flink", "1.18.1")]
    [InlineData("registry.local:5000/pibench/flink", "registry.local:5000/pibench/flink", "latest")]
    [InlineData("ghcr.io/arroyosystems/arroyo@" + Digest, "ghcr.io/arroyosystems/arroyo", Digest)]
    [InlineData("registry.local:5000/arroyo@" + Digest, "registry.local:5000/arroyo", Digest)]
    public void SplitReference_KeepsTheDigestWhole(string image, string repo, string tag)
    {
        // Before: split at the last colon, so repo "…arroyo@sha256" and tag "<hex>": the pull asked for a tag that does not exist.
        Assert.Equal((repo, tag), DockerOps.SplitReference(image));
    }

    [Fact]
    public void ADigest_RunsAndTravelsUnderATagNamingIt()
    {
        var image = "ghcr.io/arroyosystems/arroyo@" + Digest;
        Assert.Equal("ghcr.io/arroyosystems/arroyo:sha256-" + Digest[7..], DockerOps.LocalReference(image));
        Assert.Equal("apache/kafka:3.7.1", DockerOps.LocalReference("apache/kafka:3.7.1"));
        var catalog = new ServiceCatalog(new DeploymentNode[] { new("pi1", "10.0.0.1", true), new("pi2", "10.0.0.2", false) },
            new DeploymentSettings { Images = PinnedImages.Default with { Arroyo = image } });
        Assert.All(catalog.For(StreamSystem.Arroyo).Where(s => s.System == "arroyo"), s => Assert.Equal(DockerOps.LocalReference(image), s.Image));
    }

    [Fact]
    public void ADigestForTheDerivedFlinkImage_IsRefusedWithTheReason()
    {
        var yaml = "name: t\nnodes:\n  - { name: pi1, address: 10.0.0.1, role: controller }\n  - { name: pi2, address: 10.0.0.2, role: worker }\nflink:\n  image: pibench/flink-kafka@" + Digest + "\n";
        var ex = Assert.Throws<PiBenchException>(() => ClusterTopology.Parse(yaml, "t.yaml"));
        Assert.Equal("TopologyInvalidValue", ex.ErrorId);
        Assert.Contains("built on the controller", ex.Message);
        Assert.Contains("t.yaml:6", ex.Message);
        Assert.Equal("flink@" + Digest, ClusterTopology.Parse(yaml.Replace("image: pibench/flink-kafka@", "base_image: flink@"), "t.yaml").Flink.BaseImage);
    }
}
