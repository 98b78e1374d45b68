using System.Management.Automation;
using PiBench.Core.Kafka;

namespace PiBench.Commands;

/// <summary>Starts an embedded, in-process Kafka cluster (the librdkafka mock cluster) on 127.0.0.1.</summary>
/// <remarks>
/// <para>The cluster's brokers are real TCP listeners on 127.0.0.1 with random ports; pass the BootstrapServers
/// property of the result to Initialize-NexmarkTopic, Start-NexmarkGenerator or any Kafka client (kcat works too).
/// It lives in this PowerShell process until Stop-EmbeddedKafka or the process ends.</para>
/// <para>Use it to try PiBench without a cluster, for tests, and for Measure-NexmarkGenerator. It is a test broker:
/// it keeps at most 5 MiB or 100,000 message sets per partition (older batches vanish), it does not implement
/// the Kafka admin API (PiBench creates topics on it natively), and it shares this host's cores.</para>
/// </remarks>
/// <example><code>$kafka = Start-EmbeddedKafka; $kafka.BootstrapServers</code><para>Starts a one-broker cluster and prints its address.</para></example>
/// <example><code>Start-EmbeddedKafka -BrokerCount 3 | Initialize-NexmarkTopic -Topic nexmark -Partitions 9</code><para>Starts three brokers and creates a nine-partition topic on them.</para></example>
[Cmdlet(VerbsLifecycle.Start, "EmbeddedKafka", SupportsShouldProcess = true)]
[OutputType(typeof(EmbeddedKafkaCluster))]
public sealed class StartEmbeddedKafkaCommand : PiBenchCmdlet
{
    /// <summary>Number of mock brokers (1-32). Default 1.</summary>
    [Parameter(Position = 0)]
    [ValidateRange(1, 32)]
    public int BrokerCount { get; set; } = 1;

    /// <summary>Simulated round-trip time of every broker, in milliseconds. Default 0.</summary>
    [Parameter]
    [ValidateRange(0, 10_000)]
    public int BrokerRttMs { get; set; }

    protected override Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        if (!ShouldProcess("127.0.0.1", $"Start an embedded Kafka cluster with {BrokerCount} broker(s)")) return Task.CompletedTask;
        WriteObject(EmbeddedKafkaCluster.Start(BrokerCount, BrokerRttMs, Log));
        return Task.CompletedTask;
    }
}

/// <summary>Lists the embedded Kafka clusters running in this PowerShell process.</summary>
/// <remarks><para>Returns the objects that Start-EmbeddedKafka returned and that have not been stopped.</para></remarks>
/// <example><code>Get-EmbeddedKafka</code><para>Shows the running embedded clusters and their bootstrap servers.</para></example>
[Cmdlet(VerbsCommon.Get, "EmbeddedKafka")]
[OutputType(typeof(EmbeddedKafkaCluster))]
public sealed class GetEmbeddedKafkaCommand : PiBenchCmdlet
{
    protected override Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        foreach (var c in EmbeddedKafkaCluster.Running) WriteObject(c);
        return Task.CompletedTask;
    }
}

/// <summary>Stops an embedded Kafka cluster started with Start-EmbeddedKafka.</summary>
/// <remarks><para>Every broker of the cluster closes; its topics and messages are gone. Producers still connected
/// to it fail their run with an error. Stopping a cluster twice is harmless.</para></remarks>
/// <example><code>$kafka | Stop-EmbeddedKafka</code><para>Stops the cluster held in $kafka.</para></example>
/// <example><code>Get-EmbeddedKafka | Stop-EmbeddedKafka</code><para>Stops every embedded cluster in this process.</para></example>
[Cmdlet(VerbsLifecycle.Stop, "EmbeddedKafka", SupportsShouldProcess = true, DefaultParameterSetName = "InputObject")]
[OutputType(typeof(EmbeddedKafkaCluster))]
public sealed class StopEmbeddedKafkaCommand : PiBenchCmdlet
{
    /// <summary>The cluster, as returned by Start-EmbeddedKafka or Get-EmbeddedKafka.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ParameterSetName = "InputObject", HelpMessage = "The embedded cluster to stop.")]
    public EmbeddedKafkaCluster? InputObject { get; set; }

    /// <summary>Bootstrap servers of the cluster to stop (any one of its brokers).</summary>
    [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true, ParameterSetName = "Bootstrap", HelpMessage = "host:port of the embedded cluster.")]
    public string? BootstrapServers { get; set; }

    /// <summary>Return the stopped cluster object.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        var c = InputObject ?? EmbeddedKafkaCluster.Find(BootstrapServers);
        if (c is null)
        {
            WriteError(new Core.PiBenchException("EmbeddedKafkaNotFound", Core.PiBenchErrorCategory.ObjectNotFound,
                $"No embedded Kafka cluster listens on '{BootstrapServers}'.", BootstrapServers, "List them with Get-EmbeddedKafka."));
            return Task.CompletedTask;
        }
        if (!ShouldProcess(c.BootstrapServers, "Stop the embedded Kafka cluster")) return Task.CompletedTask;
        c.Dispose();
        if (PassThru) WriteObject(c);
        return Task.CompletedTask;
    }
}
