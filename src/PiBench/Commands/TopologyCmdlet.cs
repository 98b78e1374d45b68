using System.Management.Automation;
using PiBench.Core;
using PiBench.Core.Topology;

namespace PiBench.Commands;

/// <summary>
/// Base of the cmdlets that take their defaults (Kafka bootstrap, topic, partitions, parallelism, engine endpoints)
/// from a cluster topology file: adds -Topology and loads the file once per command.
/// </summary>
/// <remarks>
/// Precedence, the same in every derived cmdlet: a parameter the user gives always wins; a value not given comes from
/// the topology when one is in use (-Topology given, or the cmdlet's endpoint parameter omitted, in which case the
/// default topology is loaded); otherwise the cmdlet's built-in default applies. Loading a topology only reads the
/// file: nothing is contacted until the cmdlet itself connects.
/// </remarks>
public abstract class TopologyCmdlet : PiBenchCmdlet
{
    /// <summary>Cluster topology file that supplies the values not given as parameters (Kafka bootstrap = controller address and kafka.port, input topic, partitions and parallelism = number of workers, engine ports). Default when needed: $env:PIBENCH_TOPOLOGY, ./config/cluster-topology.yaml, then the module's copy.</summary>
    [Parameter]
    [Alias("TopologyPath")]
    [ValidateNotNullOrEmpty]
    public string? Topology { get; set; }

    // object, not ClusterTopology: Core types stay out of cmdlet field and parameter types (see EngineEndpointCmdlet).
    private object? _topology;
    private string? _topologyPath;

    /// <summary>True when the user passed -Topology.</summary>
    protected bool TopologyGiven => !string.IsNullOrWhiteSpace(Topology);

    /// <summary>The -Topology file, else the default topology; a file that is missing or invalid ends the command.</summary>
    protected ClusterTopology LoadTopology()
    {
        var path = TopologyGiven ? GetUnresolvedProviderPathFromPSPath(Topology) : ClusterTopology.DefaultPath;
        if (_topology is ClusterTopology cached && string.Equals(_topologyPath, path, StringComparison.Ordinal)) return cached;
        ClusterTopology topology;
        try
        {
            topology = ClusterTopology.Load(path);
        }
        catch (PiBenchException ex)
        {
            ThrowTerminatingError(ex);
            throw;
        }
        WriteVerbose($"Topology '{topology.Path}'{(TopologyGiven ? "" : " (default)")}: controller {topology.ControllerAddress}, " +
                     $"Kafka {topology.KafkaBootstrap} topic {topology.Kafka.InputTopic}, {topology.WorkerCount} worker(s), " +
                     $"{topology.Partitions} partition(s), parallelism {topology.Parallelism}.");
        _topology = topology;
        _topologyPath = path;
        return topology;
    }

    /// <summary>The topology when one is in use: -Topology was given, or <paramref name="endpointGiven"/> is false (then the default topology).</summary>
    protected ClusterTopology? TopologyInUse(bool endpointGiven) => TopologyGiven || !endpointGiven ? LoadTopology() : null;
}

/// <summary>
/// Base of the cmdlets that address one Kafka topic (Initialize-NexmarkTopic, Start-NexmarkGenerator): -Topic and
/// -BootstrapServers, resolved with the topology precedence of <see cref="TopologyCmdlet"/> in one place.
/// </summary>
public abstract class KafkaTopicCmdlet : TopologyCmdlet
{
    /// <summary>Kafka topic. Default: the topology's kafka.input_topic when a topology is in use, else nexmark (the Flink suite's name).</summary>
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string? Topic { get; set; }

    /// <summary>Kafka bootstrap servers, host:port[,host:port...]. Default: the topology's controller address and kafka.port (-Topology, else the default topology).</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string? BootstrapServers { get; set; }

    /// <summary>
    /// The broker and topic to use, and the topology when one is in use: a given -BootstrapServers wins, else the
    /// topology's controller and kafka.port; a given -Topic wins, else the topology's kafka.input_topic, else nexmark.
    /// </summary>
    protected (string Bootstrap, string Topic, ClusterTopology? Topology) ResolveKafka()
    {
        var given = !string.IsNullOrWhiteSpace(BootstrapServers);
        var topology = TopologyInUse(endpointGiven: given);
        var bootstrap = given ? BootstrapServers! : topology!.KafkaBootstrap;
        var topic = !string.IsNullOrEmpty(Topic) ? Topic! : topology?.Kafka.InputTopic ?? "nexmark";
        return (bootstrap, topic, topology);
    }
}
