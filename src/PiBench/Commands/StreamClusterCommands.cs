using System.Management.Automation;
using PiBench.Core;
using PiBench.Core.Deployment;

namespace PiBench.Commands;

/// <summary>Shared parameters and helpers of the cluster deployment cmdlets.</summary>
public abstract class StreamClusterCmdletBase : PiBenchCmdlet
{
    /// <summary>The topology file (default: $env:PIBENCH_TOPOLOGY, ./config/cluster-topology.yaml, then the module's copy).</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [Alias("TopologyPath", "Path")]
    public string? Topology { get; set; }

    internal ClusterSession OpenSession(string? minioUser = null, string? minioPassword = null)
    {
        var path = Topology is { Length: > 0 } ? GetUnresolvedProviderPathFromPSPath(Topology) : null;
        return ClusterSession.Open(path, minioUser, minioPassword);
    }

    internal void WriteErrors(IEnumerable<PiBenchException> errors)
    {
        foreach (var e in errors) WriteError(e);
    }

    internal static StreamSystem ParseSystem(string value) =>
        Enum.TryParse<StreamSystem>(value, ignoreCase: true, out var s) ? s : throw new PiBenchException("UnknownSystem",
            PiBenchErrorCategory.InvalidArgument, $"'{value}' is not a stream system.", value, "Use Arroyo or Flink.");
}

/// <summary>Installs Docker on the cluster nodes that lack it and reports Docker on every node.</summary>
/// <remarks>
/// <para>Checks every node of the topology over SSH. Nodes without Docker get Debian's docker.io package
/// (Raspberry Pi OS), the SSH user is added to the docker group, and the node is checked again. Nodes that already
/// have a working Docker are only reported. Needs password-less sudo on nodes that must be changed.</para>
/// </remarks>
/// <example><code>Install-PiDocker</code><para>Checks every node and installs Docker where it is missing.</para></example>
/// <example><code>Install-PiDocker -Node pi2,pi3 -WhatIf</code><para>Shows which of the two nodes would be changed.</para></example>
[Cmdlet(VerbsLifecycle.Install, "PiDocker", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(PiDockerStatus))]
public sealed class InstallPiDockerCommand : StreamClusterCmdletBase
{
    /// <summary>Only these nodes (names from the topology); default all.</summary>
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("Name", "ComputerName")]
    public string[]? Node { get; set; }

    protected override async Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        await using var session = OpenSession();
        var nodes = session.Nodes.Where(n => Node is null || Node.Any(x => WildcardPattern.Get(x, WildcardOptions.IgnoreCase).IsMatch(n.Name))).ToList();
        if (nodes.Count == 0)
            ThrowArgumentError("NodeNotFound", $"No node in the topology matches '{string.Join(",", Node ?? Array.Empty<string>())}'.", Node, "Use names from Get-PiNode.");
        var installer = new DockerInstaller(session, Progress);
        var (status, errors) = await installer.CheckAsync(nodes, cancellationToken);
        WriteErrors(errors);
        foreach (var s in status)
        {
            if (s.Action == "None" || !ShouldProcess(s.Node, s.Action == "Install" ? "Install Docker (docker.io) and add the SSH user to the docker group" : "Add the SSH user to the docker group"))
            {
                WriteObject(s);
                continue;
            }
            try
            {
                WriteObject(await installer.ApplyAsync(nodes.First(n => n.Name == s.Node), s, cancellationToken));
            }
            catch (PiBenchException ex)
            {
                WriteError(ex);
            }
        }
    }
}

/// <summary>Deploys Kafka, MinIO and Apache Arroyo or Apache Flink on the cluster and waits until they are ready.</summary>
/// <remarks>
/// <para>Converges the cluster to the wanted state: pulls or builds the pinned images once on the controller, streams
/// them to the nodes that lack them in parallel, stops the other engine, starts Kafka and MinIO, creates the topics
/// and the checkpoint bucket, starts the engine's head (Arroyo controller with the node scheduler, or Flink
/// JobManager and SQL Gateway) and one worker per worker node, and waits for readiness. Running it again on a
/// healthy cluster changes nothing; after a partial failure it finishes the job. Every container, volume and image
/// it creates carries pibench.* labels; nothing else is touched. -WhatIf lists the exact actions.</para>
/// </remarks>
/// <example><code>Install-StreamCluster -System Arroyo</code><para>Deploys Arroyo 0.11.0 with Kafka and MinIO on the default topology.</para></example>
/// <example><code>Install-StreamCluster -System Flink -Topology ./lab.yaml -WhatIf</code><para>Lists what would change to run Flink 1.18.1.</para></example>
[Cmdlet(VerbsLifecycle.Install, "StreamCluster", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(StreamCluster))]
public sealed class InstallStreamClusterCommand : StreamClusterCmdletBase
{
    /// <summary>The engine to run: Arroyo or Flink.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true, HelpMessage = "Arroyo or Flink")]
    [ValidateSet("Arroyo", "Flink", IgnoreCase = true)]
    public string System { get; set; } = "";

    /// <summary>Recreate every container even when its configuration is unchanged.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    /// <summary>MinIO root user and password (overrides the topology; the minioadmin default only with a warning).</summary>
    [Parameter]
    [Credential]
    public PSCredential? MinioCredential { get; set; }

    protected override async Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        var system = ParseSystem(System);
        await using var session = OpenSession(MinioCredential?.UserName, MinioCredential?.GetNetworkCredential().Password);
        if (session.Settings.UsesDefaultMinioCredentials)
            WriteWarning("MinIO uses the default minioadmin credentials; pass -MinioCredential or set minio.access_key/secret_key in the topology.");
        var cluster = session.CreateContext(Progress, Log);
        var planner = new InstallPlanner(cluster);
        var applier = new InstallApplier(cluster);

        WriteProgressNow(InstallApplier.InstallActivity, "Reading the state of every node", 1);
        var plan = await planner.PlanAsync(system, Force, cancellationToken);
        WriteErrors(plan.NodeErrors);
        foreach (var (node, why) in await planner.NodesWithoutMemoryLimitsAsync(cancellationToken))
            WriteWarning($"{node}: {why}, so Docker ignores the memory limits PiBench sets (an engine can take the whole node and the figures no longer match the topology). {PiBench.Core.Remote.NodeProbe.MemoryCgroupFix}");
        foreach (var t in plan.Skipped)
            WriteVerbose($"{t.Node}: {t.Image} already present (same image id), skipped");

        var approved = new DeploymentPlan { System = system };
        approved.NodeErrors.AddRange(plan.NodeErrors);
        foreach (var a in plan.Actions)
            if (ShouldProcess(a.Node, a.Description)) approved.Actions.Add(a);
        if (plan.Actions.Count > 0 && approved.Actions.Count == 0) return; // -WhatIf or everything declined

        if (approved.Actions.Count == 0) WriteVerbose("Nothing to change: the cluster already matches the topology.");
        var outcome = approved.Actions.Count == 0 ? new DeploymentOutcome() : await applier.ApplyAsync(approved, cancellationToken);
        WriteErrors(outcome.Errors);
        foreach (var t in applier.Transfers.Where(t => t.Result == "Loaded"))
            WriteVerbose($"{t.Node}: loaded {t.Image} ({t.Bytes / 1e6:F1} MB in {t.Seconds:F1} s, {t.MegabytesPerSecond:F1} MB/s)");
        foreach (var t in applier.Transfers.Where(t => t.Result == "Skipped"))
            WriteVerbose($"{t.Node}: {t.Image} already present (same image id), skipped");
        CompleteProgress(InstallApplier.InstallActivity);
        WriteObject(await new ClusterStatus(cluster).DescribeAsync(system, outcome.Applied.Count, plan.NodeErrors.Count + outcome.Errors.Count, cancellationToken));
    }
}

/// <summary>Lists PiBench's services on every node: one object per service and node, read from the container labels.</summary>
/// <remarks>
/// <para>Reads every node's PiBench-labelled containers through Docker over SSH and returns Node, Service, Container,
/// Image, State, Health, StartedAt and Ports, plus the memory limit, network mode and restart policy. A node that
/// cannot be reached gives its own error; the others are still listed.</para>
/// </remarks>
/// <example><code>Get-StreamCluster</code><para>Shows every PiBench service on the cluster.</para></example>
/// <example><code>Get-StreamCluster | Where-Object State -ne running</code><para>Shows services that are not running.</para></example>
[Cmdlet(VerbsCommon.Get, "StreamCluster")]
[OutputType(typeof(StreamClusterService))]
public sealed class GetStreamClusterCommand : StreamClusterCmdletBase
{
    /// <summary>Only this service (kafka, minio, arroyo-controller, arroyo-node, flink-jobmanager, flink-sql-gateway, flink-taskmanager).</summary>
    [Parameter(Position = 0)]
    [ArgumentCompleter(typeof(ServiceNameCompleter))]
    public string? Service { get; set; }

    protected override async Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        await using var session = OpenSession();
        var (services, errors) = await new ClusterStatus(session.CreateContext(Progress, Log)).GetServicesAsync(cancellationToken);
        WriteErrors(errors);
        foreach (var s in services.Where(s => Service is null || WildcardPattern.Get(Service, WildcardOptions.IgnoreCase).IsMatch(s.Service)))
            WriteObject(s);
    }
}

/// <summary>Checks that the deployed cluster is ready: Kafka topics, MinIO, the engine's API, its registered workers and where a running query's subtasks run.</summary>
/// <remarks>
/// <para>Returns one object per check (Check, Node, Passed, Detail, Skipped): containers running on every node, the Kafka
/// listener and topics with the expected partitions, MinIO health and the checkpoint bucket, the engine API, and the
/// number of registered Arroyo nodes and slots (node scheduler) or Flink TaskManagers and slots, which must match the
/// topology's workers.</para>
/// <para>SubtaskPlacement proves the engine really runs distributed. Given a running job (-JobId, or a NexmarkQueryRun
/// piped from Invoke-NexmarkQuery), it gives one row per worker (Passed when the worker hosts work of the job, or when
/// the job needs fewer workers than there are and enough are busy) and a summary row for the controller (failed when
/// work runs on the controller or on too few workers). Flink reports every subtask's host (JobManager REST
/// /jobs/:jid/vertices/:vid). Arroyo 0.11 has no placement API: the evidence is arroyo_node_running_workers on each
/// node's admin /metrics, which counts workers of any running job. Without a job, or when the job is not running, the
/// check is reported with Skipped = true and Passed = true.</para>
/// </remarks>
/// <example><code>Test-StreamCluster</code><para>Runs every check for the installed engine; SubtaskPlacement is skipped.</para></example>
/// <example><code>Test-StreamCluster | Where-Object { -not $_.Passed }</code><para>Shows only the failing checks.</para></example>
/// <example><code>Invoke-NexmarkQuery -Name q5 -System Arroyo | Wait-NexmarkQueryRun | Test-StreamCluster</code><para>Also checks that the running query's subtasks are placed on the workers.</para></example>
[Cmdlet(VerbsDiagnostic.Test, "StreamCluster")]
[OutputType(typeof(StreamClusterCheck))]
public sealed class TestStreamClusterCommand : StreamClusterCmdletBase
{
    /// <summary>The engine to check (default: the one found on the controller).</summary>
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateSet("Arroyo", "Flink", IgnoreCase = true)]
    public string? System { get; set; }

    /// <summary>A running job whose subtask placement to check (Arroyo job id, Flink job id); a piped NexmarkQueryRun binds it.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    public string? JobId { get; set; }

    /// <summary>Arroyo pipeline id of the job (required by Arroyo's API); a piped NexmarkQueryRun binds it.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    public string? PipelineId { get; set; }

    /// <summary>The job's parallelism: how many workers must be busy (min(workers, ceil(parallelism / slots))). Default: Flink's subtask count, or every worker for Arroyo.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateRange(0, 100_000)]
    public int Parallelism { get; set; }

    protected override async Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        var system = System is null ? (StreamSystem?)null : ParseSystem(System);
        PiBench.Core.Engines.StreamJobHandle? job = null;
        if (JobId is { Length: > 0 })
        {
            if (system is null)
                ThrowArgumentError("SystemRequired", "-JobId needs -System (Arroyo or Flink), or pipe a NexmarkQueryRun.", JobId, "Add -System Arroyo or -System Flink.");
            var engineSystem = system == StreamSystem.Arroyo ? PiBench.Core.Engines.StreamSystem.Arroyo : PiBench.Core.Engines.StreamSystem.Flink;
            if (engineSystem == PiBench.Core.Engines.StreamSystem.Arroyo && PipelineId is not { Length: > 0 })
                ThrowArgumentError("PipelineIdMissing", $"The Arroyo job {JobId} needs -PipelineId.", JobId, "Pass -PipelineId, or pipe the NexmarkQueryRun from Invoke-NexmarkQuery.");
            job = new PiBench.Core.Engines.StreamJobHandle(engineSystem, JobId, JobId) { PipelineId = PipelineId ?? "" };
        }
        await using var session = OpenSession();
        var checks = await new ClusterChecks(session.CreateContext(Progress, Log)).TestAsync(system, cancellationToken, job, Parallelism);
        foreach (var c in checks) WriteObject(c);
    }
}

/// <summary>Gets the log of a PiBench service from one node or from every node that runs it.</summary>
/// <remarks>
/// <para>Reads the container log (stdout and stderr) through Docker over SSH. -Tail limits the lines per node;
/// -Follow keeps streaming new lines until Ctrl+C, like the original scripts' docker compose logs -f.</para>
/// </remarks>
/// <example><code>Get-StreamClusterLog -Service arroyo-controller -Tail 50</code><para>The last 50 lines of the Arroyo controller.</para></example>
/// <example><code>Get-StreamClusterLog -Service flink-taskmanager -Node pi3 -Follow</code><para>Follows one TaskManager's log until Ctrl+C.</para></example>
[Cmdlet(VerbsCommon.Get, "StreamClusterLog")]
[OutputType(typeof(StreamClusterLogLine))]
public sealed class GetStreamClusterLogCommand : StreamClusterCmdletBase
{
    /// <summary>The service whose log to read.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true, HelpMessage = "kafka, minio, arroyo-controller, arroyo-node, flink-jobmanager, flink-sql-gateway or flink-taskmanager")]
    [ArgumentCompleter(typeof(ServiceNameCompleter))]
    public string Service { get; set; } = "";

    /// <summary>Only this node (default: every node that runs the service).</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    public string? Node { get; set; }

    /// <summary>Only the last N lines per node.</summary>
    [Parameter]
    [ValidateRange(0, 1_000_000)]
    public int? Tail { get; set; }

    /// <summary>Keep streaming new lines until Ctrl+C.</summary>
    [Parameter]
    public SwitchParameter Follow { get; set; }

    protected override async Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        if (!ServiceCatalog.AllServices.Contains(Service, StringComparer.OrdinalIgnoreCase))
            ThrowArgumentError("UnknownService", $"'{Service}' is not a PiBench service.", Service, "Use one of: " + string.Join(", ", ServiceCatalog.AllServices));
        await using var session = OpenSession();
        var errors = await new ClusterLogs(session.CreateContext(Progress, Log)).StreamAsync(Service.ToLowerInvariant(), Node, Tail, Follow,
            line => Post(() => WriteObject(line)), cancellationToken);
        WriteErrors(errors);
    }
}

/// <summary>Removes PiBench's services from the cluster, keeping data unless -RemoveData is given.</summary>
/// <remarks>
/// <para>Removes every PiBench-labelled container on every node (workers first, then the engine's head, then Kafka
/// and MinIO). Volumes (Kafka topics, MinIO objects, Arroyo's database) and images are kept, so a later
/// Install-StreamCluster starts where it left off. -RemoveData also removes PiBench's volumes and its files on the
/// nodes. Nothing without PiBench's labels is touched.</para>
/// </remarks>
/// <example><code>Uninstall-StreamCluster</code><para>Stops and removes the services, keeping their data.</para></example>
/// <example><code>Uninstall-StreamCluster -RemoveData -Confirm:$false</code><para>Removes the services and all their data without asking.</para></example>
[Cmdlet(VerbsLifecycle.Uninstall, "StreamCluster", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
[OutputType(typeof(DeploymentAction))]
public sealed class UninstallStreamClusterCommand : StreamClusterCmdletBase
{
    /// <summary>Also remove PiBench's volumes (topics' data, MinIO objects, Arroyo database) and files on the nodes.</summary>
    [Parameter]
    public SwitchParameter RemoveData { get; set; }

    protected override async Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        await using var session = OpenSession();
        var cluster = session.CreateContext(Progress, Log);
        var plan = await new UninstallPlanner(cluster).PlanAsync(RemoveData, cancellationToken);
        WriteErrors(plan.NodeErrors);
        var approved = new DeploymentPlan();
        foreach (var a in plan.Actions)
            if (ShouldProcess(a.Node, a.Description)) approved.Actions.Add(a);
        if (approved.Actions.Count == 0)
        {
            if (plan.Actions.Count == 0) WriteVerbose("Nothing to remove.");
            return;
        }
        var outcome = await new ClusterTeardown(cluster).ApplyAsync(approved, cancellationToken);
        WriteErrors(outcome.Errors);
        foreach (var a in outcome.Applied) WriteObject(a);
    }
}

/// <summary>Completes PiBench service names.</summary>
public sealed class ServiceNameCompleter : IArgumentCompleter
{
    public IEnumerable<System.Management.Automation.CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        System.Management.Automation.Language.CommandAst commandAst, System.Collections.IDictionary fakeBoundParameters)
    {
        var pattern = WildcardPattern.Get((wordToComplete ?? "").Trim('\'', '"') + "*", WildcardOptions.IgnoreCase);
        foreach (var s in new[] { "kafka", "minio", "arroyo-controller", "arroyo-node", "flink-jobmanager", "flink-sql-gateway", "flink-taskmanager" })
            if (pattern.IsMatch(s)) yield return new System.Management.Automation.CompletionResult(s, s, CompletionResultType.ParameterValue, s);
    }
}
