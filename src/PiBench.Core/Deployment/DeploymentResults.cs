using Docker.DotNet;

namespace PiBench.Core.Deployment;

/// <summary>How deployment reaches a node: its Docker engine (over SSH) and a shell command runner (over SSH).</summary>
public interface INodeAccess
{
    Task<IDockerClient> GetDockerAsync(DeploymentNode node, CancellationToken cancellationToken);
    Task<NodeCommandResult> RunAsync(DeploymentNode node, string command, CancellationToken cancellationToken);
    /// <summary>Forget a node's connections after a failure, so the next call reconnects.</summary>
    void Invalidate(DeploymentNode node);
}

public sealed record NodeCommandResult(int ExitCode, string Output, string Error);

/// <summary>The cluster after Install-StreamCluster: what runs where, pinned images, what changed.</summary>
public sealed class StreamCluster
{
    public string System { get; init; } = "";
    public string Controller { get; init; } = "";
    public int Workers { get; init; }
    public int Services { get; init; }
    public int ServicesReady { get; init; }
    public bool Ready { get; init; }
    public int Changed { get; init; }
    public int Failed { get; init; }
    public string EngineImage { get; init; } = "";
    public string KafkaImage { get; init; } = "";
    public string MinioImage { get; init; } = "";
    public string KafkaBootstrap { get; init; } = "";
    public string EngineUrl { get; init; } = "";
    public string MinioUrl { get; init; } = "";
    public string Summary { get; init; } = "";
}

/// <summary>One PiBench service on one node, read back from the labels (Get-StreamCluster).</summary>
public sealed class StreamClusterService
{
    public string Node { get; init; } = "";
    public string Service { get; init; } = "";
    public string System { get; init; } = "";
    public string Container { get; init; } = "";
    public string Image { get; init; } = "";
    public string ImageId { get; init; } = "";
    public string State { get; init; } = "";
    public string Health { get; init; } = "";
    public DateTimeOffset? StartedAt { get; init; }
    public string Ports { get; init; } = "";
    public long MemoryLimitMB { get; init; }
    public string NetworkMode { get; init; } = "";
    public string RestartPolicy { get; init; } = "";
    public string ConfigHash { get; init; } = "";
}

/// <summary>One readiness check (Test-StreamCluster).</summary>
public sealed class StreamClusterCheck
{
    public string Check { get; init; } = "";
    public string Node { get; init; } = "";
    public bool Passed { get; init; }
    public string Detail { get; init; } = "";
    /// <summary>The check could not apply (e.g. SubtaskPlacement without a running job): Passed is true, nothing was proven.</summary>
    public bool Skipped { get; init; }
}

/// <summary>One line of a service's log (Get-StreamClusterLog).</summary>
public sealed class StreamClusterLogLine
{
    public string Node { get; init; } = "";
    public string Service { get; init; } = "";
    public string Stream { get; init; } = "";
    public string Line { get; init; } = "";
    public override string ToString() => Line;
}

/// <summary>Docker on one node (Install-PiDocker).</summary>
public sealed class PiDockerStatus
{
    public string Node { get; init; } = "";
    public bool Installed { get; init; }
    public string Version { get; init; } = "";
    public bool UserCanUseDocker { get; init; }
    public string Action { get; init; } = "";
    public string Detail { get; init; } = "";
}

/// <summary>Kinds of deployment actions (what -WhatIf lists).</summary>
public enum DeploymentActionKind
{
    PullImage,
    BuildImage,
    LoadImage,
    RemoveContainer,
    CreateVolume,
    CreateContainer,
    RecreateContainer,
    StartContainer,
    CreateTopics,
    CreateBucket,
    RemoveVolume,
    RemoveFiles,
    StopJob,
}

/// <summary>One exact action on one node.</summary>
public sealed class DeploymentAction
{
    public string Node { get; init; } = "";
    public string Service { get; init; } = "";
    public DeploymentActionKind Kind { get; init; }
    public string Target { get; init; } = "";
    public string Detail { get; init; } = "";
    internal int Phase { get; init; }
    internal ServiceSpec? Spec { get; init; }
    internal PiBench.Core.Engines.StreamJobHandle? Job { get; init; }

    /// <summary>The ShouldProcess text: "Create container pibench-kafka (apache/kafka:3.7.1)".</summary>
    public string Description => Kind switch
    {
        DeploymentActionKind.PullImage => $"Pull image {Target}{(Detail.Length > 0 ? " (" + Detail + ")" : "")}",
        DeploymentActionKind.BuildImage => $"Build image {Target}",
        DeploymentActionKind.LoadImage => $"Load image {Target} from {Detail}",
        DeploymentActionKind.RemoveContainer => $"Remove container {Target}{(Detail.Length > 0 ? " (" + Detail + ")" : "")}",
        DeploymentActionKind.CreateVolume => $"Create volume {Target}",
        DeploymentActionKind.CreateContainer => $"Create and start container {Target} ({Detail})",
        DeploymentActionKind.RecreateContainer => $"Recreate container {Target} ({Detail})",
        DeploymentActionKind.StartContainer => $"Start container {Target}",
        DeploymentActionKind.CreateTopics => $"Create Kafka topics {Target} ({Detail})",
        DeploymentActionKind.CreateBucket => $"Create MinIO bucket {Target}",
        DeploymentActionKind.RemoveVolume => $"Remove volume {Target}",
        DeploymentActionKind.RemoveFiles => $"Remove files {Target}",
        DeploymentActionKind.StopJob => $"Stop {Target}{(Detail.Length > 0 ? " (" + Detail + ")" : "")}",
        _ => Kind + " " + Target,
    };

    public override string ToString() => $"{Node}: {Description}";
}

/// <summary>The result of planning: actions in order, and nodes that could not be inspected.</summary>
public sealed class DeploymentPlan
{
    public StreamSystem? System { get; init; }
    public List<DeploymentAction> Actions { get; } = new();
    public List<PiBenchException> NodeErrors { get; } = new();
    /// <summary>Nodes that already hold an image with the controller's image id: nothing to transfer.</summary>
    public List<ImageTransfer> Skipped { get; } = new();
    public bool IsEmpty => Actions.Count == 0;
}

/// <summary>The result of applying a plan.</summary>
public sealed class DeploymentOutcome
{
    public List<DeploymentAction> Applied { get; } = new();
    public List<PiBenchException> Errors { get; } = new();
}
