using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;
using PiBench.Core;
using PiBench.Core.Remote;
using PiBench.Core.Topology;

namespace PiBench.Commands;

/// <summary>Completes node names from the default (or bound -Topology) topology file; no network calls.</summary>
public sealed class PiNodeNameCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        var path = fakeBoundParameters["Topology"] as string ?? ClusterTopology.DefaultPath;
        IReadOnlyList<PiNode> nodes;
        try { nodes = ClusterTopology.Load(path).Nodes; } catch (PiBenchException) { yield break; }
        var pattern = WildcardPattern.Get((wordToComplete ?? "").Trim('\'', '"') + "*", WildcardOptions.IgnoreCase);
        foreach (var n in nodes)
            if (pattern.IsMatch(n.Name))
                yield return new CompletionResult(n.Name, n.Name, CompletionResultType.ParameterValue, $"{n.Name}: {n.Address} ({n.Role})");
    }
}

/// <summary>Reads and validates a topology file.</summary>
/// <remarks>
/// <para>Reads the cluster topology (YAML) and checks it: unknown keys, duplicate node names or addresses, a missing or
/// second controller, no workers, malformed addresses, and an explicit parallelism that does not match the workers.
/// Errors name the file, the line and the key. Without -Path the default is used: $env:PIBENCH_TOPOLOGY, then
/// ./config/cluster-topology.yaml, then the copy shipped with the module (the seed cluster, Pi1 = 192.168.2.70).</para>
/// </remarks>
/// <example><code>Get-PiTopology</code><para>Shows the default topology: controller, workers, parallelism and partitions.</para></example>
/// <example><code>Get-PiTopology -Path ./lab.yaml | ForEach-Object Nodes</code><para>Lists the nodes of another topology file.</para></example>
[Cmdlet(VerbsCommon.Get, "PiTopology")]
[OutputType("PiBench.Core.Topology.ClusterTopology")]
public sealed class GetPiTopologyCommand : PiBenchCmdlet
{
    /// <summary>Topology file (default: $env:PIBENCH_TOPOLOGY, ./config/cluster-topology.yaml, then the module's copy).</summary>
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("FullName", "PSPath", "Topology")]
    public string? Path { get; set; }

    protected override Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        var path = Path is null ? ClusterTopology.DefaultPath : GetUnresolvedProviderPathFromPSPath(Path);
        WriteObject(TopologyOutput.WithMinioCredential(ClusterTopology.Load(path)));
        return Task.CompletedTask;
    }
}

/// <summary>How a topology goes to the pipeline: the MinIO keys as a PSCredential (MinioCredential), never as plain text.</summary>
internal static class TopologyOutput
{
    /// <summary>
    /// Adds MinioCredential (access key as user name, secret key as SecureString). Minio.SecretKey itself shows
    /// ******** in every view and in ConvertTo-Json.
    /// </summary>
    public static PSObject WithMinioCredential(ClusterTopology topology)
    {
        var secure = new System.Security.SecureString();
        foreach (var c in topology.Minio.SecretKey.Reveal()) secure.AppendChar(c);
        secure.MakeReadOnly();
        var pso = PSObject.AsPSObject(topology);
        pso.Properties.Add(new PSNoteProperty("MinioCredential", new PSCredential(topology.Minio.AccessKey, secure)));
        return pso;
    }
}

/// <summary>Writes a new topology file: the seed cluster or a single-machine loopback lab.</summary>
/// <remarks>
/// <para>Without -Loopback it writes the seed layout: pi1 = 192.168.2.70 controller and -WorkerCount workers on
/// 192.168.2.71 onwards. With -Loopback it describes a lab on this machine: pi1 = 127.0.0.70 and workers on
/// 127.0.0.71 onwards, each reached over SSH on -Port, which the tests use and which lets you try PiBench on one machine.
/// The file is read back and validated, and the topology is returned.</para>
/// </remarks>
/// <example><code>New-PiTopology -Path ./lab.yaml -Loopback -WorkerCount 3 -Port 2222</code><para>A 1+3 node lab on 127.0.0.70-73, SSH port 2222.</para></example>
/// <example><code>New-PiTopology -Path ./cluster.yaml -WorkerCount 12 -User pi</code><para>A seed-style cluster with twelve workers and user pi.</para></example>
[Cmdlet(VerbsCommon.New, "PiTopology", SupportsShouldProcess = true)]
[OutputType("PiBench.Core.Topology.ClusterTopology")]
public sealed class NewPiTopologyCommand : PiBenchCmdlet
{
    /// <summary>Where to write the YAML file.</summary>
    [Parameter(Mandatory = true, Position = 0, HelpMessage = "Path of the topology file to write.")]
    public string Path { get; set; } = "";

    /// <summary>Describe a single-machine lab on 127.0.0.70 onwards instead of the seed cluster's 192.168.2.70 onwards.</summary>
    [Parameter] public SwitchParameter Loopback { get; set; }

    /// <summary>Number of worker nodes (the controller comes in addition).</summary>
    [Parameter][ValidateRange(1, 185)] public int WorkerCount { get; set; } = 9;

    /// <summary>SSH port of every node (22 by default).</summary>
    [Parameter][ValidateRange(1, 65535)] public int Port { get; set; } = 22;

    /// <summary>Login user on every node (default picocluster; for -Loopback the current user).</summary>
    [Parameter] public string? User { get; set; }

    /// <summary>Private key used to log in (default ~/.ssh/id_ed25519).</summary>
    [Parameter] public string KeyFile { get; set; } = "~/.ssh/id_ed25519";

    /// <summary>known_hosts file used to verify host keys (default ~/.ssh/known_hosts).</summary>
    [Parameter] public string KnownHostsFile { get; set; } = "~/.ssh/known_hosts";

    /// <summary>Overwrite an existing file.</summary>
    [Parameter] public SwitchParameter Force { get; set; }

    protected override Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        var path = GetUnresolvedProviderPathFromPSPath(Path);
        if (File.Exists(path) && !Force)
            ThrowTerminatingError(new PiBenchException("TopologyFileExists", PiBenchErrorCategory.ResourceExists,
                $"'{path}' already exists.", path, "Pass -Force to overwrite it, or choose another -Path."));
        var definition = Loopback
            ? TopologyDefinition.Loopback(WorkerCount, Port, User ?? Environment.UserName, KeyFile, KnownHostsFile)
            : new TopologyDefinition
            {
                User = User ?? "picocluster", Port = Port, KeyPath = KeyFile, KnownHosts = KnownHostsFile,
                Nodes = TopologyDefinition.Seed(WorkerCount).Nodes,
            };
        if (!ShouldProcess(path, $"Write topology with 1 controller and {WorkerCount} worker(s)")) return Task.CompletedTask;
        var yaml = TopologyWriter.ToYaml(definition);
        var dir = System.IO.Path.GetDirectoryName(path);
        if (!string.IsNullOrEmpty(dir)) Directory.CreateDirectory(dir);
        File.WriteAllText(path, yaml);
        WriteObject(TopologyOutput.WithMinioCredential(ClusterTopology.Load(path)));
        return Task.CompletedTask;
    }
}

/// <summary>Lists the nodes of a topology as flat PiNode objects.</summary>
/// <remarks>
/// <para>PiNode objects (Name, Address, Port, User, Role, Index, KeyPath, ...) bind from the pipeline into every node
/// cmdlet: Get-PiNode | Test-PiNode. -Name takes wildcards.</para>
/// </remarks>
/// <example><code>Get-PiNode</code><para>All nodes of the default topology.</para></example>
/// <example><code>Get-PiNode -Role Worker | Test-PiNode</code><para>Checks every worker.</para></example>
/// <example><code>Get-PiNode -Name pi1,pi2 -Topology ./lab.yaml</code><para>Two nodes of another topology.</para></example>
[Cmdlet(VerbsCommon.Get, "PiNode")]
[OutputType("PiBench.Core.Topology.PiNode")]
public sealed class GetPiNodeCommand : PiBenchCmdlet
{
    /// <summary>Node names; wildcards allowed.</summary>
    [Parameter(Position = 0)]
    [ArgumentCompleter(typeof(PiNodeNameCompleter))]
    [SupportsWildcards]
    public string[]? Name { get; set; }

    /// <summary>Only nodes with this role.</summary>
    [Parameter][ValidateSet("Controller", "Worker")] public string? Role { get; set; }

    /// <summary>Topology file (default: the default topology).</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [Alias("Path")]
    public string? Topology { get; set; }

    protected override Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        var topology = ClusterTopology.Load(Topology is null ? ClusterTopology.DefaultPath : GetUnresolvedProviderPathFromPSPath(Topology));
        foreach (var node in NodeSelection.Filter(topology.Nodes, Name, Role, this))
            WriteObject(node);
        return Task.CompletedTask;
    }
}

internal static class NodeSelection
{
    public static List<PiNode> Filter(IReadOnlyList<PiNode> nodes, string[]? names, string? role, PSCmdlet cmdlet)
    {
        var result = nodes.Where(n => role is null || string.Equals(n.Role.ToString(), role, StringComparison.OrdinalIgnoreCase)).ToList();
        if (names is null || names.Length == 0) return result;
        var selected = new List<PiNode>();
        foreach (var name in names)
        {
            var pattern = WildcardPattern.Get(name, WildcardOptions.IgnoreCase);
            var hits = result.Where(n => pattern.IsMatch(n.Name)).ToList();
            if (hits.Count == 0 && !WildcardPattern.ContainsWildcardCharacters(name))
                cmdlet.WriteError(ErrorMapping.ToErrorRecord(new PiBenchException("NodeNotFound", PiBenchErrorCategory.ObjectNotFound,
                    $"No node named '{name}' in the topology{(role is null ? "" : $" with role {role}")}.", name,
                    $"Known nodes: {string.Join(", ", nodes.Select(n => n.Name))}.")));
            foreach (var h in hits) if (!selected.Contains(h)) selected.Add(h);
        }
        return selected;
    }
}

/// <summary>
/// Base of the cmdlets that act on nodes: nodes come from the pipeline (PiNode objects, or any objects with
/// Address/Port/User properties such as Import-Csv rows) or from a topology file; the work runs in parallel
/// (-ThrottleLimit), one result or error per node, and Ctrl+C stops all nodes.
/// </summary>
public abstract class PiNodeCmdlet : PiBenchCmdlet
{
    protected const string TopologySet = "Topology";
    protected const string NodeSet = "Node";
    protected const string AddressSet = "Address";

    private readonly List<PiNode> _nodes = new();

    /// <summary>Nodes from Get-PiNode.</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = NodeSet)]
    public PiNode[]? InputObject { get; set; }

    /// <summary>Node addresses (IPv4 or host names), e.g. from Import-Csv rows with an Address column.</summary>
    [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true, ParameterSetName = AddressSet)]
    [Alias("Address", "HostName", "IPAddress")]
    public string[]? ComputerName { get; set; }

    /// <summary>With -ComputerName: the SSH port (default 22). With nodes or a topology it overrides nothing.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true, ParameterSetName = AddressSet)]
    [ValidateRange(1, 65535)]
    public int Port { get; set; } = 22;

    /// <summary>With -ComputerName: the login user (default picocluster).</summary>
    [Parameter(ValueFromPipelineByPropertyName = true, ParameterSetName = AddressSet)]
    [Alias("UserName")]
    public string User { get; set; } = "picocluster";

    /// <summary>Topology file whose nodes to use (default: the default topology).</summary>
    [Parameter(ParameterSetName = TopologySet)]
    public string? Topology { get; set; }

    /// <summary>With a topology: only these nodes (wildcards). With -ComputerName: the nodes' display names.</summary>
    [Parameter(ParameterSetName = TopologySet, Position = 0)]
    [Parameter(ParameterSetName = AddressSet, ValueFromPipelineByPropertyName = true)]
    [Alias("Name")]
    [ArgumentCompleter(typeof(PiNodeNameCompleter))]
    public string[]? NodeName { get; set; }

    /// <summary>With a topology: only nodes with this role.</summary>
    [Parameter(ParameterSetName = TopologySet)]
    [ValidateSet("Controller", "Worker")]
    public string? Role { get; set; }

    /// <summary>Private key file, overriding the topology's key_path.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [Alias("KeyPath", "IdentityFile")]
    public string? KeyFile { get; set; }

    /// <summary>For key login: the key's passphrase as the password (the user name is ignored).</summary>
    [Parameter]
    [Credential]
    public PSCredential? Credential { get; set; }

    /// <summary>known_hosts file, overriding the topology's.</summary>
    [Parameter]
    public string? KnownHostsFile { get; set; }

    /// <summary>Record the host key of a node that known_hosts does not know yet. A changed host key is always refused.</summary>
    [Parameter]
    public SwitchParameter TrustOnFirstUse { get; set; }

    /// <summary>Nodes worked on at once.</summary>
    [Parameter]
    [ValidateRange(1, 256)]
    public int ThrottleLimit { get; set; } = 10;

    /// <summary>Seconds allowed for the TCP connect and SSH handshake per node (default: the topology's ssh.connect_timeout_seconds, 10).</summary>
    [Parameter]
    [ValidateRange(1, 600)]
    public int ConnectTimeoutSeconds { get; set; }

    protected sealed override Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        switch (ParameterSetName)
        {
            case NodeSet:
                foreach (var n in InputObject ?? Array.Empty<PiNode>())
                    if (!_nodes.Any(x => x.Name == n.Name && x.Address == n.Address && x.Port == n.Port)) _nodes.Add(n);
                break;
            case AddressSet:
                var names = NodeName ?? Array.Empty<string>();
                var addresses = ComputerName ?? Array.Empty<string>();
                for (var i = 0; i < addresses.Length; i++)
                {
                    _nodes.Add(new PiNode
                    {
                        Name = i < names.Length ? names[i] : addresses[i],
                        Address = addresses[i], Port = Port, User = User, Role = NodeRole.Worker,
                        KeyPath = PathUtil.ExpandHome(KeyFile ?? "~/.ssh/id_ed25519"),
                        KnownHostsPath = PathUtil.ExpandHome("~/.ssh/known_hosts"),
                    });
                }
                break;
        }
        return Task.CompletedTask;
    }

    protected sealed override async Task EndProcessingAsync(CancellationToken cancellationToken)
    {
        if (ParameterSetName == TopologySet)
        {
            var path = Topology is null ? ClusterTopology.DefaultPath : GetUnresolvedProviderPathFromPSPath(Topology);
            var topology = ClusterTopology.Load(path);
            _nodes.AddRange(NodeSelection.Filter(topology.Nodes, NodeName, Role, this));
        }
        if (_nodes.Count == 0) return;
        await RunNodesAsync(_nodes, cancellationToken);
    }

    /// <summary>SSH options from the bound parameters.</summary>
    protected SshOptions Options(PiNode node) => new()
    {
        KeyFile = KeyFile is null ? null : GetUnresolvedProviderPathFromPSPath(KeyFile),
        Passphrase = Credential?.GetNetworkCredential().Password is { Length: > 0 } p ? p : null,
        KnownHostsFile = KnownHostsFile is null ? null : GetUnresolvedProviderPathFromPSPath(KnownHostsFile),
        TrustOnFirstUse = TrustOnFirstUse,
        ConnectTimeout = ConnectTimeoutSeconds > 0 ? TimeSpan.FromSeconds(ConnectTimeoutSeconds) : null,
    };

    /// <summary>Does the work for all collected nodes (pipeline thread).</summary>
    protected abstract Task RunNodesAsync(IReadOnlyList<PiNode> nodes, CancellationToken cancellationToken);

    /// <summary>
    /// Runs <paramref name="work"/> for every node in parallel (at most ThrottleLimit at once), and hands each result
    /// to <paramref name="onResult"/> on the pipeline thread as soon as it is there. A node's PiBenchException
    /// becomes its own error record; the other nodes go on.
    /// </summary>
    protected async Task ForEachNodeAsync<T>(IReadOnlyList<PiNode> nodes, string activity,
        Func<PiNode, CancellationToken, Task<T>> work, Action<PiNode, T> onResult, CancellationToken ct)
    {
        using var gate = new SemaphoreSlim(ThrottleLimit);
        async Task<T> RunOne(PiNode n)
        {
            await gate.WaitAsync(ct).ConfigureAwait(false);
            try { return await work(n, ct).ConfigureAwait(false); }
            finally { gate.Release(); }
        }
        var pending = nodes.Select(n => (Node: n, Task: Task.Run(() => RunOne(n), ct))).ToList();
        var done = 0;
        WriteProgressNow(activity, $"0 of {nodes.Count} node(s)", 0);
        while (pending.Count > 0)
        {
            var finished = await Task.WhenAny(pending.Select(p => p.Task));
            if (ct.IsCancellationRequested)
            {
                // Ctrl+C: let every node finish stopping its remote command (its process group, a few seconds at
                // most) before the command returns, so nothing is left running on the nodes.
                var all = Task.WhenAll(pending.Select(p => (Task)p.Task));
                await Task.WhenAny(all, Task.Delay(TimeSpan.FromSeconds(15), CancellationToken.None));
                _ = all.ContinueWith(static t => _ = t.Exception, TaskContinuationOptions.OnlyOnFaulted);
                throw new OperationCanceledException(ct);
            }
            var item = pending.First(p => p.Task == finished);
            pending.Remove(item);
            done++;
            WriteProgressNow(activity, $"{done} of {nodes.Count} node(s): {item.Node.Name} done", done * 100 / nodes.Count);
            try
            {
                onResult(item.Node, await finished);
            }
            catch (PiBenchException ex)
            {
                WriteError(ex);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                throw;
            }
            catch (Exception ex) when (ex is not PipelineStoppedException)
            {
                WriteError(new PiBenchException("NodeOperationFailed", PiBenchErrorCategory.InvalidOperation,
                    $"{item.Node.Name}: {ex.Message}", item.Node, null, ex));
            }
        }
        CompleteProgress(activity);
    }
}

/// <summary>Runs a shell command on nodes over SSH, in parallel, one result per node.</summary>
/// <remarks>
/// <para>Each node's stdout lines are streamed to the information stream as they arrive (tagged with the node name;
/// see them with -InformationAction Continue). One PiCommandResult per node: Node, ExitCode, StdOut, StdErr,
/// DurationMs. A node that cannot be reached, or whose command exits non-zero, gives its own error record
/// (NodeUnreachable, RemoteCommandFailed); the other nodes still finish. -Sudo runs the command with sudo -n.</para>
/// </remarks>
/// <example><code>Get-PiNode -Role Worker | Invoke-PiCommand -Command 'uptime'</code><para>Uptime of every worker.</para></example>
/// <example><code>Invoke-PiCommand -Command 'apt-get -y upgrade' -Sudo -ThrottleLimit 3</code><para>Upgrades three nodes at a time.</para></example>
/// <example><code>Import-Csv nodes.csv | Invoke-PiCommand -Command hostname</code><para>Nodes from a CSV file with Name, Address, Port and User columns.</para></example>
[Cmdlet(VerbsLifecycle.Invoke, "PiCommand", DefaultParameterSetName = TopologySet, SupportsShouldProcess = true)]
[OutputType("PiBench.Core.Remote.RemoteCommandResult")]
public sealed class InvokePiCommandCommand : PiNodeCmdlet
{
    /// <summary>The shell command (POSIX sh) to run on every node.</summary>
    [Parameter(Mandatory = true, HelpMessage = "The shell command to run on every node.")]
    [Alias("ScriptText")]
    public string Command { get; set; } = "";

    /// <summary>Run the command through passwordless sudo (sudo -n).</summary>
    [Parameter] public SwitchParameter Sudo { get; set; }

    /// <summary>Stop the command on a node after this many seconds (0 = no limit).</summary>
    [Parameter][ValidateRange(0, 86400)] public int TimeoutSeconds { get; set; }

    protected override Task RunNodesAsync(IReadOnlyList<PiNode> nodes, CancellationToken cancellationToken)
    {
        var targets = nodes.Where(n => ShouldProcess(n.Name, $"Run '{Command}'{(Sudo ? " with sudo" : "")}")).ToList();
        if (targets.Count == 0) return Task.CompletedTask;
        return ForEachNodeAsync(targets, "Invoke-PiCommand", (node, ct) =>
            SshConnectionPool.Shared.RunAsync(node, Command, new RemoteCommandOptions
            {
                Sudo = Sudo,
                Timeout = TimeoutSeconds > 0 ? TimeSpan.FromSeconds(TimeoutSeconds) : null,
                OnOutputLine = line => Post(() => WriteInformation(new InformationRecord(line, node.Name) { Tags = { node.Name, "stdout" } })),
            }, Options(node), ct),
            (node, result) =>
            {
                WriteObject(result);
                if (result.ExitCode != 0)
                    WriteError(new PiBenchException("RemoteCommandFailed", PiBenchErrorCategory.InvalidResult,
                        $"{node.Name}: the command exited with {result.ExitCode}: {FirstLine(result.StdErr)}", node,
                        "Look at the result's StdErr; the other nodes are unaffected."));
            }, cancellationToken);
    }

    private static string FirstLine(string s) => s.Split('\n').Select(l => l.Trim()).FirstOrDefault(l => l.Length > 0) ?? "(no stderr)";
}

/// <summary>Checks nodes: reachable, latency, architecture, memory, disk, Docker, temperature, throttling, clock.</summary>
/// <remarks>
/// <para>One PiNodeHealth per node: Reachable, LatencyMs (round trip of a no-op command over the open connection),
/// Architecture, OS, Kernel, Model, Cores, MemoryMB, DiskFreeGB (of /), DockerVersion (null when docker or its daemon is
/// missing), TemperatureC (thermal zone 0), Throttled and ThrottledSinceBoot (from vcgencmd get_throttled; null where
/// vcgencmd does not exist), and ClockOffsetMs (node clock minus this machine's: the node's time read in five short
/// exchanges of their own, each compared with its midpoint, the one with the shortest round trip kept) with
/// ClockOffsetUncertaintyMs (half that round trip: the true offset lies within ClockOffsetMs ± ClockOffsetUncertaintyMs).
/// MemoryCgroup is $false when the kernel's memory cgroup is off (stock Raspberry Pi OS): Docker then ignores container
/// memory limits, and a warning says how to turn it on (cmdline.txt).
/// An unreachable node gives Reachable = $false and an error record; authentication and host-key failures are errors.</para>
/// </remarks>
/// <example><code>Get-PiNode | Test-PiNode</code><para>Checks every node of the default topology.</para></example>
/// <example><code>Test-PiNode -Topology ./lab.yaml | Where-Object { -not $_.Reachable -or $_.Throttled }</code><para>Nodes that need attention.</para></example>
[Cmdlet(VerbsDiagnostic.Test, "PiNode", DefaultParameterSetName = TopologySet)]
[OutputType("PiBench.Core.Remote.PiNodeHealth")]
public sealed class TestPiNodeCommand : PiNodeCmdlet
{
    protected override Task RunNodesAsync(IReadOnlyList<PiNode> nodes, CancellationToken cancellationToken) =>
        ForEachNodeAsync(nodes, "Test-PiNode",
            (node, ct) => NodeProbe.ProbeAsync(SshConnectionPool.Shared, node, Options(node), ct),
            (node, health) =>
            {
                WriteObject(health);
                if (health.MemoryCgroup == false)
                    WriteWarning($"{node.Name}: the kernel's memory cgroup is off, so Docker ignores container memory limits. {NodeProbe.MemoryCgroupFix}");
                if (!health.Reachable)
                    WriteError(new PiBenchException("NodeUnreachable", PiBenchErrorCategory.ConnectionError,
                        health.Error ?? $"{node.Name} is not reachable.", node,
                        "Check power, network and sshd on the node; the other nodes were checked."));
            }, cancellationToken);
}

/// <summary>Creates the operator's SSH key if needed and installs it on nodes (password login once).</summary>
/// <remarks>
/// <para>Replaces the seed's setup-ssh-keys script. Creates an ed25519 key pair at -KeyFile (default: the topology's
/// key_path) when none exists, logs in once per node with -Credential's password, appends the public key to
/// ~/.ssh/authorized_keys unless it is already there (so running it again changes nothing), fixes permissions
/// (~/.ssh 700, authorized_keys 600), and proves a key login works. Host keys are verified against known_hosts: a
/// node that is not known yet is refused with its fingerprint unless -TrustOnFirstUse records it; a changed host key is
/// always refused. Include Pi1 itself: the benchmark connects from Pi1 to Pi1 too.</para>
/// </remarks>
/// <example><code>Install-PiSshKey -Credential (Get-Credential picocluster) -TrustOnFirstUse</code><para>First setup of every node in the default topology.</para></example>
/// <example><code>Get-PiNode -Name pi5 | Install-PiSshKey -Credential $cred -WhatIf</code><para>Shows what would change on pi5.</para></example>
[Cmdlet(VerbsLifecycle.Install, "PiSshKey", DefaultParameterSetName = TopologySet, SupportsShouldProcess = true)]
[OutputType("PiBench.Core.Remote.PiSshKeyResult")]
public sealed class InstallPiSshKeyCommand : PiNodeCmdlet
{
    protected override Task RunNodesAsync(IReadOnlyList<PiNode> nodes, CancellationToken cancellationToken)
    {
        if (Credential is null)
            ThrowTerminatingError(new PiBenchException("CredentialRequired", PiBenchErrorCategory.InvalidArgument,
                "Install-PiSshKey logs in once with a password: -Credential is required.", null,
                "Pass -Credential (Get-Credential <user>)."));
        var password = Credential!.GetNetworkCredential().Password;
        var keyPath = KeyFile is not null ? GetUnresolvedProviderPathFromPSPath(KeyFile) : PathUtil.ExpandHome(nodes[0].KeyPath);
        var knownHosts = KnownHostsFile is null ? null : GetUnresolvedProviderPathFromPSPath(KnownHostsFile);

        var targets = nodes.Where(n => ShouldProcess($"{n.Name} ({n.User}@{n.Address}:{n.Port})",
            $"Authorize public key {keyPath}.pub in ~/.ssh/authorized_keys")).ToList();
        if (targets.Count == 0) return Task.CompletedTask;
        if (!File.Exists(keyPath))
        {
            if (!ShouldProcess(keyPath, "Create an ed25519 key pair")) return Task.CompletedTask;
            SshKeyInstaller.EnsureKeyPair(keyPath, $"pibench@{Environment.MachineName}");
            WriteVerbose($"Created ed25519 key pair {keyPath}");
        }
        return ForEachNodeAsync(targets, "Install-PiSshKey",
            (node, ct) =>
            {
                var user = string.IsNullOrEmpty(Credential.UserName) ? node.User : Credential.UserName.TrimStart('\\');
                var target = user == node.User ? node : new PiNode
                {
                    Name = node.Name, Address = node.Address, Port = node.Port, User = user, Role = node.Role, Index = node.Index,
                    Hostname = node.Hostname, KeyPath = node.KeyPath, KnownHostsPath = node.KnownHostsPath, TopologyPath = node.TopologyPath,
                    ConnectTimeoutSeconds = node.ConnectTimeoutSeconds, MaxSessions = node.MaxSessions,
                };
                return SshKeyInstaller.InstallAsync(SshConnectionPool.Shared, target, keyPath, password, TrustOnFirstUse, knownHosts, ct);
            },
            (_, result) => WriteObject(result), cancellationToken);
    }
}
