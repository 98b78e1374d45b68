using System.Management.Automation;
using System.Net;
using System.Net.Sockets;
using PiBench.StandIns;
using PiBench.Tests.Harness;
using Xunit;

namespace PiBench.Tests;

/// <summary>
/// -Topology on the Kafka/generator and engine cmdlets: the values not given as parameters come from a topology file.
/// Every topology written here has its controller on 127.0.0.1 and its ports on the embedded Kafka broker and the
/// in-process engine stand-ins; the default topology (192.168.x) is never used.
/// </summary>
[Collection("module")]
public sealed class TopologyWiringTests(ModuleFixture fx) : IDisposable
{
    private static readonly TimeSpan HangBound = TimeSpan.FromSeconds(90); // against hangs, not a speed claim
    private readonly string _dir = Directory.CreateTempSubdirectory("pibench-wiring-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    /// <summary>A 1 + 3 node topology on loopback; KAFKA_PORT may be left for the script to fill in.</summary>
    private static string Yaml(string kafkaPort = "KAFKA_PORT", int arroyoApi = 1, int arroyoAdmin = 1, int flinkRest = 1, int flinkGateway = 1,
        string topic = "wired-events", string? partitions = null) => $$"""
        name: wiring-lab
        nodes:
          - { name: c1, address: 127.0.0.1, role: controller }
          - { name: w1, address: 127.0.0.11, role: worker }
          - { name: w2, address: 127.0.0.12, role: worker }
          - { name: w3, address: 127.0.0.13, role: worker }
        kafka:
          port: {{kafkaPort}}
          replication_factor: 1
          input_topic: {{topic}}
        {{(partitions is null ? "" : "  partitions: " + partitions)}}
        arroyo:
          api_port: {{arroyoApi}}
          admin_port: {{arroyoAdmin}}
        flink:
          rest_port: {{flinkRest}}
          sql_gateway_port: {{flinkGateway}}
        """;

    private string Write(string name, string yaml)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, yaml);
        return path;
    }

    /// <summary>A loopback port nothing listens on (bound, then released).</summary>
    private static int ClosedPort()
    {
        var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        var port = ((IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        return port;
    }

    private static string S(PSObject o, string p) => o.Properties[p]?.Value?.ToString() ?? "";
    private static long L(PSObject o, string p) => Convert.ToInt64(o.Properties[p].Value);

    [Fact]
    public void InitializeAndStartGenerator_TakeBootstrapTopicAndPartitions_FromTheTopology()
    {
        var path = Path.Combine(_dir, "kafka.yaml");
        var r = fx.Run("""
            $k = Start-EmbeddedKafka
            [IO.File]::WriteAllText($path, $yaml.Replace('KAFKA_PORT', $k.BootstrapServers.Split(':')[1]))
            Initialize-NexmarkTopic -Topology $path
            Initialize-NexmarkTopic -Topology $path
            Start-NexmarkGenerator -Topology $path -Wait
            $k.BootstrapServers
            $k | Stop-EmbeddedKafka
            """, new Dictionary<string, object?> { ["path"] = path, ["yaml"] = Yaml() + "\nbenchmark:\n  events_per_second: 3000\n  total_events: 3000\n" }, HangBound).AssertNoErrors();

        Assert.Equal(4, r.Output.Count);
        var bootstrap = r.Output[3].ToString();
        Assert.Matches(@"^127\.0\.0\.1:\d+$", bootstrap);

        var created = r.Output[0];
        Assert.Equal("PiBench.Core.Kafka.NexmarkTopic", created.TypeNames[0]);
        Assert.Equal("Created", S(created, "Action"));
        Assert.Equal("wired-events", S(created, "Topic"));           // kafka.input_topic
        Assert.Equal(3L, L(created, "Partitions"));                  // one per worker
        Assert.Equal(bootstrap, S(created, "BootstrapServers"));     // controller address : kafka.port
        Assert.True((bool)created.Properties["Embedded"].Value);
        Assert.Equal("Exists", S(r.Output[1], "Action"));

        var run = r.Output[2];
        Assert.Equal("PiBench.Core.Kafka.NexmarkGeneratorRun", run.TypeNames[0]);
        Assert.Equal("Completed", S(run, "State"));
        Assert.Equal("wired-events", S(run, "Topic"));
        Assert.Equal(bootstrap, S(run, "BootstrapServers"));
        Assert.Equal((3000L, 3000L), (L(run, "Sent"), L(run, "Acknowledged"))); // benchmark.total_events
        Assert.Equal(3000.0, Convert.ToDouble(run.Properties["TargetRate"].Value)); // benchmark.events_per_second
        Assert.Equal("0:1000 1:1000 2:1000", S(run, "PartitionCounts")); // the three partitions the topology made
    }

    [Fact]
    public void KafkaParameters_OverrideTheTopology_AndWorkWithoutOne()
    {
        // The file's broker is a closed loopback port: only an explicit -BootstrapServers can reach the embedded broker.
        var path = Write("elsewhere.yaml", Yaml(kafkaPort: ClosedPort().ToString(), topic: "from-file", partitions: "2"));
        var r = fx.Run("""
            $k = Start-EmbeddedKafka
            Initialize-NexmarkTopic -Topology $path -BootstrapServers $k.BootstrapServers
            Initialize-NexmarkTopic -Topology $path -BootstrapServers $k.BootstrapServers -Topic explicit -Partitions 5
            Initialize-NexmarkTopic -BootstrapServers $k.BootstrapServers
            Start-NexmarkGenerator -Topology $path -BootstrapServers $k.BootstrapServers -Topic explicit -EventsPerSecond 0 -TotalEvents 10 -Synthetic -Wait
            (Measure-NexmarkGenerator -Topology $path -Count 1000 -Synthetic).Partitions
            (Measure-NexmarkGenerator -Topology $path -Count 1000 -Synthetic -Partitions 4).Partitions
            $k | Stop-EmbeddedKafka
            """, new Dictionary<string, object?> { ["path"] = path }, HangBound).AssertNoErrors();

        Assert.Equal(6, r.Output.Count);
        // -Topology with -BootstrapServers: the broker is the parameter's, topic and partitions the file's (kafka.partitions wins over workers)
        Assert.Equal(("from-file", 2L, "Created"), (S(r.Output[0], "Topic"), L(r.Output[0], "Partitions"), S(r.Output[0], "Action")));
        // every explicit parameter wins over the file
        Assert.Equal(("explicit", 5L), (S(r.Output[1], "Topic"), L(r.Output[1], "Partitions")));
        // no -Topology and a broker given: the built-in defaults, no topology read
        Assert.Equal(("nexmark", 9L), (S(r.Output[2], "Topic"), L(r.Output[2], "Partitions")));
        var run = r.Output[3];
        Assert.Equal(("Completed", "explicit", 10L), (S(run, "State"), S(run, "Topic"), L(run, "Acknowledged")));
        Assert.Equal("0:2 1:2 2:2 3:2 4:2", S(run, "PartitionCounts"));
        Assert.Equal(2, Convert.ToInt32(r.Output[4].BaseObject)); // Measure: the topology's partitions
        Assert.Equal(4, Convert.ToInt32(r.Output[5].BaseObject)); // Measure: -Partitions wins
    }

    [Fact]
    public void Arroyo_InvokeWaitStopAndWorkers_ReachTheStandIn_ThroughTheTopology()
    {
        using var arroyo = new ArroyoStandIn();
        arroyo.AddNodes(3); // three registrations in the controller's slot gauges
        var path = Write("arroyo.yaml", Yaml(kafkaPort: "19094", arroyoApi: arroyo.ApiUri.Port, arroyoAdmin: arroyo.AdminUri.Port));
        var r = fx.Run("""
            $run = Invoke-NexmarkQuery -Name q5 -System Arroyo -Topology $path
            $run.Parallelism
            $run | Wait-NexmarkQueryRun -TimeoutSeconds 20 -PollIntervalMilliseconds 20
            Get-StreamWorker -System Arroyo -Topology $path
            Stop-NexmarkQuery -System Arroyo -JobId $run.JobId -PipelineId $run.PipelineId -Name q5 -Topology $path -PassThru -PollIntervalMilliseconds 20
            """, new Dictionary<string, object?> { ["path"] = path }, HangBound).AssertNoErrors();

        Assert.Equal(4, r.Output.Count);
        Assert.Equal(3, Convert.ToInt32(r.Output[0].BaseObject));
        var p = Assert.Single(arroyo.Pipelines);
        Assert.Equal(3, p.Parallelism);                                   // parallelism = workers
        Assert.Equal("nexmark-q5-p3", p.Name);
        Assert.Contains("bootstrap_servers = '127.0.0.1:19094'", p.Query); // controller : kafka.port
        Assert.Contains("topic = 'wired-events'", p.Query);               // kafka.input_topic
        Assert.Equal("Running", S(r.Output[1], "State"));
        var worker = r.Output[2];
        Assert.Equal("PiBench.Core.Engines.StreamWorker", worker.TypeNames[0]);
        // registrations come from the controller's admin port named in the topology; the topology's workers
        // (127.0.0.11-13, no node daemon listening) do not answer /status, so no node is live
        Assert.Equal(3, Convert.ToInt32(worker.Properties["Registrations"].Value));
        Assert.Equal(0, Convert.ToInt32(worker.Properties["Nodes"].Value));
        Assert.Equal("Stopped", S(r.Output[3], "State"));
        Assert.Equal("immediate", arroyo.Pipelines[0].Stop);
        Assert.True(arroyo.Pipelines[0].Deleted);
    }

    [Fact]
    public void Flink_TopologyEndpointsAndParallelism_AndExplicitParametersWin()
    {
        using var flink = new FlinkStandIn { TaskManagers = 3 };
        using var other = new FlinkStandIn();
        var path = Write("flink.yaml", Yaml(kafkaPort: "19094", flinkRest: flink.RestUri.Port, flinkGateway: flink.GatewayUri.Port));
        var r = fx.Run("""
            $run = Invoke-NexmarkQuery q1 Flink -Topology $path -PollIntervalMilliseconds 20
            $run.Parallelism
            (Get-StreamWorker Flink -Topology $path).Count
            $run | Stop-NexmarkQuery -PollIntervalMilliseconds 20
            $o = Invoke-NexmarkQuery q0 Flink -Topology $path -EngineUri $rest -AuxiliaryUri $gw -Parallelism 2 -Topic explicit -BootstrapServers 127.0.0.1:9 -PollIntervalMilliseconds 20
            $o.Parallelism
            $o | Stop-NexmarkQuery -PollIntervalMilliseconds 20
            """, new Dictionary<string, object?> { ["path"] = path, ["rest"] = other.RestUri.ToString(), ["gw"] = other.GatewayUri.ToString() }, HangBound)
            .AssertNoErrors();

        Assert.Equal(3, r.Output.Count);
        Assert.Equal(3, Convert.ToInt32(r.Output[0].BaseObject));
        Assert.Equal(3, Convert.ToInt32(r.Output[1].BaseObject)); // TaskManagers of the topology's JobManager
        Assert.Equal(2, Convert.ToInt32(r.Output[2].BaseObject));

        var s = Assert.Single(flink.Sessions);
        Assert.Equal("3", s.Properties["parallelism.default"]);
        Assert.Contains(s.Statements, st => st.Contains("'properties.bootstrap.servers' = '127.0.0.1:19094'"));
        Assert.Contains(s.Statements, st => st.Contains("'topic' = 'wired-events'"));
        Assert.Single(flink.Jobs);

        // explicit -EngineUri/-AuxiliaryUri, -Parallelism, -Topic and -BootstrapServers beat the topology
        var o = Assert.Single(other.Sessions);
        Assert.Equal("2", o.Properties["parallelism.default"]);
        Assert.Contains(o.Statements, st => st.Contains("'properties.bootstrap.servers' = '127.0.0.1:9'"));
        Assert.Contains(o.Statements, st => st.Contains("'topic' = 'explicit'"));
    }

    [Fact]
    public void MissingOrInvalidTopology_StopsBeforeAnythingIsContacted()
    {
        using var flink = new FlinkStandIn();
        var missing = Path.Combine(_dir, "absent.yaml");
        var vars = new Dictionary<string, object?> { ["missing"] = missing };

        var q = fx.Run("Invoke-NexmarkQuery q1 Flink -Topology $missing", vars);
        var e = Assert.Single(q.Errors);
        Assert.Equal("TopologyNotFound,PiBench.Commands.InvokeNexmarkQueryCommand", e.FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.ObjectNotFound, e.CategoryInfo.Category);
        Assert.Empty(q.Output);

        var t = fx.Run("Initialize-NexmarkTopic -Topology $missing", vars);
        Assert.Equal("TopologyNotFound,PiBench.Commands.InitializeNexmarkTopicCommand", Assert.Single(t.Errors).FullyQualifiedErrorId);

        var bad = Write("bad.yaml", Yaml(kafkaPort: "19094", flinkRest: flink.RestUri.Port, flinkGateway: flink.GatewayUri.Port) + "\nkafak: {}\n");
        var w = fx.Run("Get-StreamWorker Flink -Topology $bad", new Dictionary<string, object?> { ["bad"] = bad });
        var we = Assert.Single(w.Errors);
        Assert.StartsWith("Topology", we.FullyQualifiedErrorId);
        Assert.Contains("kafak", we.Exception.Message);
        Assert.Empty(flink.RestRequests);
        Assert.Empty(flink.GatewayRequests);
    }
}
