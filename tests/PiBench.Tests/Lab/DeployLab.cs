using System.Diagnostics;
using System.Text;

namespace PiBench.Tests.Lab;

/// <summary>
/// The deployment lab: N simulated Pis on loopback, each an sshd (own address, port 2222) whose <c>docker</c> reaches
/// its own private dockerd (sshd_config <c>SetEnv DOCKER_HOST=unix://…</c>), a dedicated test user in the
/// <c>docker</c> group, host keys pinned in a known_hosts file, and a topology file for them. The controller's
/// daemon holds the stand-in images tagged with the product's pinned names; the others start empty.
/// Addresses 127.0.7.10+ (override: PIBENCH_DEPLOY_LAB_NET=127.0.7) keep clear of other labs' 127.0.0.70+.
/// Start-up is a few seconds; every sshd and dockerd is stopped by its PID on dispose, and the user removed.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public class DeployLab : IDisposable
{
    public const int SshPort = 2222;
    private readonly List<Process> _sshd = new();
    private readonly string _user = "pbdeploy" + Environment.ProcessId % 10000;
    private bool _userCreated;

    /// <param name="nodeCount">Simulated Pis (the first is the controller).</param>
    /// <param name="pinned">Stand-in tags to import on the controller (null: none).</param>
    /// <param name="net">First three octets of the node addresses (127.x.y).</param>
    public DeployLab(int nodeCount, DockerLab.PinnedNames? pinned, string? net = null)
    {
        NodeCount = nodeCount;
        Root = Path.Combine(Path.GetTempPath(), $"pibench-deploylab-{Guid.NewGuid():N}"[..30]);
        Directory.CreateDirectory(Root);
        File.SetUnixFileMode(Root, (UnixFileMode)0b111_101_101); // the test user must traverse it
        net ??= Environment.GetEnvironmentVariable("PIBENCH_DEPLOY_LAB_NET") is { Length: > 0 } n ? n : "127.0.7";
        Nodes = Enumerable.Range(0, NodeCount).Select(i => (Name: $"pi{i + 1}", Address: $"{net}.{10 + i}")).ToList();
        try
        {
            Docker = new DockerLab(Path.Combine(Root, "docker"), NodeCount, "docker");
            Docker.Start();
            KafkaUpstream = StartKafkaMock();
            Docker.ExtraStandInFiles["/standin/kafka-upstream"] = KafkaUpstream;
            Pinned = pinned!;
            if (pinned is not null) Docker.ImportStandIns(0, pinned);
            CreateUserAndKeys();
            StartSshd();
            TopologyPath = WriteTopology(Path.Combine(Root, "topology.yaml"), null);
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>Nodes whose sshd (and so every command PiBench runs there) sees the memory cgroup as off, like a stock
    /// Raspberry Pi OS kernel: /proc/cgroups is replaced in a private mount namespace. Docker itself is not affected.</summary>
    public static readonly string[] MemoryCgroupOff = { "pi3" };

    /// <summary>host:port of the librdkafka mock cluster (a kcat process) the Kafka stand-in relays to.</summary>
    public string KafkaUpstream { get; private set; } = "";
    private Process? _kafkaMock;

    /// <summary>One kcat consumer hosting a one-broker librdkafka mock cluster; its bootstrap comes from the MOCK log line.</summary>
    private string StartKafkaMock()
    {
        var psi = new ProcessStartInfo("kcat", new[] { "-X", "test.mock.num.brokers=1", "-b", "mock.invalid:9", "-C", "-t", "pibench-deploylab", "-q" })
        { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        _kafkaMock = Process.Start(psi)!;
        _kafkaMock.StandardOutput.ReadToEndAsync();
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (DateTime.UtcNow < deadline)
        {
            var line = _kafkaMock.StandardError.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(15)).GetAwaiter().GetResult();
            if (line is null) break;
            var m = System.Text.RegularExpressions.Regex.Match(line, @"replaced with (127\.0\.0\.1:\d+)");
            if (m.Success)
            {
                _kafkaMock.StandardError.ReadToEndAsync();
                return m.Groups[1].Value;
            }
        }
        throw new InvalidOperationException("kcat did not report its mock cluster's bootstrap");
    }

    public int NodeCount { get; }
    public string Root { get; }
    public DockerLab Docker { get; }
    public DockerLab.PinnedNames Pinned { get; } = null!;
    public IReadOnlyList<(string Name, string Address)> Nodes { get; }
    public string TopologyPath { get; } = "";
    public string KeyPath => Path.Combine(Root, "keys", "id_ed25519");
    public string KnownHostsPath => Path.Combine(Root, "keys", "known_hosts");
    public string User => _user;

    /// <summary>A topology for the lab; <paramref name="portOverride"/> (node name → port) simulates a node that is down.</summary>
    public string WriteTopology(string path, IReadOnlyDictionary<string, int>? portOverride, int arroyoSlots = 1, int nodeMemoryMb = 512,
        string arroyoExtra = "", string flinkExtra = "", string minioExtra = "")
    {
        var sb = new StringBuilder();
        sb.AppendLine("name: deploylab");
        sb.AppendLine("ssh:");
        sb.AppendLine($"  user: {_user}");
        sb.AppendLine($"  port: {SshPort}");
        sb.AppendLine($"  key_path: {KeyPath}");
        sb.AppendLine($"  known_hosts: {KnownHostsPath}");
        sb.AppendLine("  connect_timeout_seconds: 5");
        sb.AppendLine("  max_sessions: 8");
        sb.AppendLine("nodes:");
        foreach (var (name, address) in Nodes)
        {
            var port = portOverride is not null && portOverride.TryGetValue(name, out var p) ? $", port: {p}" : "";
            sb.AppendLine($"  - {{ name: {name}, address: {address}, role: {(name == "pi1" ? "controller" : "worker")}{port} }}");
        }
        sb.AppendLine("benchmark:");
        sb.AppendLine($"  parallelism: {NodeCount - 1}");
        sb.AppendLine("arroyo:");
        sb.AppendLine($"  task_slots: {arroyoSlots}");
        sb.AppendLine($"  node_memory_mb: {nodeMemoryMb}");
        if (arroyoExtra.Length > 0) sb.AppendLine(arroyoExtra);
        sb.AppendLine("flink:");
        sb.AppendLine("  taskmanager_memory_mb: 1024");
        sb.AppendLine("  jobmanager_memory_mb: 768");
        if (flinkExtra.Length > 0) sb.AppendLine(flinkExtra);
        if (minioExtra.Length > 0) { sb.AppendLine("minio:"); sb.AppendLine(minioExtra); }
        File.WriteAllText(path, sb.ToString());
        return path;
    }

    /// <summary>Back to a clean cluster: no containers or volumes anywhere, images only on the controller.</summary>
    public void Reset()
    {
        for (var i = 0; i < NodeCount; i++) Docker.Reset(i, images: i > 0);
    }

    private void CreateUserAndKeys()
    {
        var keys = Path.Combine(Root, "keys");
        Directory.CreateDirectory(keys);
        Sh($"ssh-keygen -q -t ed25519 -N '' -f {keys}/host_ed25519 && ssh-keygen -q -t ed25519 -N '' -f {keys}/id_ed25519");
        var home = Path.Combine(Root, "home");
        Directory.CreateDirectory(home);
        File.SetUnixFileMode(home, (UnixFileMode)0b111_101_101);
        Sh($"userdel -r {_user} >/dev/null 2>&1; useradd -m -d {home}/{_user} -s /bin/sh -G docker {_user} && usermod -p '*' {_user}");
        _userCreated = true;
        Sh($"install -d -m 700 -o {_user} -g {_user} {home}/{_user}/.ssh && install -m 600 -o {_user} -g {_user} {keys}/id_ed25519.pub {home}/{_user}/.ssh/authorized_keys");
        var hostKey = File.ReadAllText($"{keys}/host_ed25519.pub").Trim().Split(' ');
        File.WriteAllLines(KnownHostsPath, Nodes.Select(n => $"[{n.Address}]:{SshPort} {hostKey[0]} {hostKey[1]}"));
    }

    private void StartSshd()
    {
        Directory.CreateDirectory("/run/sshd");
        var run = Path.Combine(Root, "run");
        Directory.CreateDirectory(run);
        for (var i = 0; i < NodeCount; i++)
        {
            var conf = Path.Combine(run, $"sshd-pi{i + 1}.conf");
            File.WriteAllText(conf, $"""
                ListenAddress {Nodes[i].Address}:{SshPort}
                HostKey {Root}/keys/host_ed25519
                PidFile {run}/sshd-pi{i + 1}.pid
                AuthorizedKeysFile .ssh/authorized_keys
                PubkeyAuthentication yes
                PasswordAuthentication no
                KbdInteractiveAuthentication no
                UsePAM no
                PermitRootLogin no
                AllowUsers {_user}
                StrictModes yes
                AllowTcpForwarding yes
                MaxSessions 32
                LogLevel INFO
                Subsystem sftp internal-sftp
                {Docker.SshdConfigLine(i)}

                """);
            Sh($"/usr/sbin/sshd -t -f {conf}");
            var sshd = $"exec /usr/sbin/sshd -D -e -f {conf} > {run}/sshd-pi{i + 1}.log 2>&1";
            var psi = new ProcessStartInfo("/bin/sh", new[] { "-c", sshd }) { UseShellExecute = false };
            if (MemoryCgroupOff.Contains(Nodes[i].Name))
            {
                // cgroup v1: the enabled column 0 for memory; v2: no memory in the root's controllers.
                var v1 = Path.Combine(run, "cgroups-memory-off");
                File.WriteAllText(v1, "#subsys_name\thierarchy\tnum_cgroups\tenabled\ncpuset\t1\t1\t1\ncpu\t2\t1\t1\nmemory\t0\t1\t0\npids\t3\t1\t1\n");
                var v2 = Path.Combine(run, "cgroup.controllers-memory-off");
                File.WriteAllText(v2, "cpuset cpu io pids\n");
                var mounts = $"mount --bind {v1} /proc/cgroups && " +
                             $"{{ [ ! -e /sys/fs/cgroup/cgroup.controllers ] || mount --bind {v2} /sys/fs/cgroup/cgroup.controllers; }} && ";
                psi = new ProcessStartInfo("unshare", new[] { "--mount", "--propagation", "private", "/bin/sh", "-c", mounts + sshd }) { UseShellExecute = false };
            }
            _sshd.Add(Process.Start(psi)!);
        }
        var deadline = DateTime.UtcNow.AddSeconds(20);
        foreach (var (_, address) in Nodes)
        {
            while (true)
            {
                try
                {
                    using var tcp = new System.Net.Sockets.TcpClient();
                    tcp.Connect(address, SshPort);
                    break;
                }
                catch (System.Net.Sockets.SocketException) when (DateTime.UtcNow < deadline)
                {
                    Thread.Sleep(100);
                }
            }
        }
    }

    /// <summary>All processes below <paramref name="pid"/>, children before their parents' siblings (from /proc).</summary>
    private static List<int> Descendants(int pid)
    {
        var parents = new Dictionary<int, int>();
        foreach (var dir in Directory.GetDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var p)) continue;
            try
            {
                var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                parents[p] = int.Parse(fields[1]);
            }
            catch (Exception) { /* exited meanwhile */ }
        }
        var result = new List<int>();
        var queue = new Queue<int>(new[] { pid });
        while (queue.Count > 0)
        {
            var current = queue.Dequeue();
            foreach (var (child, parent) in parents)
                if (parent == current) { result.Add(child); queue.Enqueue(child); }
        }
        result.Reverse();
        return result;
    }

    private static void KillPid(int pid)
    {
        try { using var p = Process.GetProcessById(pid); p.Kill(); p.WaitForExit(2000); }
        catch (Exception) { /* already gone */ }
    }

    private static void Sh(string command)
    {
        var psi = new ProcessStartInfo("/bin/sh", new[] { "-c", command }) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEndAsync();
        p.StandardOutput.ReadToEnd();
        if (!p.WaitForExit(60_000)) { p.Kill(); throw new TimeoutException(command); }
        if (p.ExitCode != 0) throw new InvalidOperationException($"{command}: {err.Result}");
    }

    public void Dispose()
    {
        foreach (var p in _sshd)
        {
            try
            {
                // Per-connection sshd processes (clients may still be connected) are children of the listener:
                // stop them by PID first, so the test user owns no process when it is removed.
                foreach (var child in Descendants(p.Id)) KillPid(child);
                if (!p.HasExited) { p.Kill(); p.WaitForExit(5000); }
            }
            catch (InvalidOperationException) { }
            p.Dispose();
        }
        _sshd.Clear();
        if (_kafkaMock is { } mock)
        {
            try { if (!mock.HasExited) { mock.Kill(); mock.WaitForExit(5000); } } catch (InvalidOperationException) { }
            mock.Dispose();
        }
        Docker?.Dispose();
        if (_userCreated)
        {
            for (var attempt = 0; attempt < 10; attempt++)
            {
                try { Sh($"userdel -r {_user} >/dev/null 2>&1 || userdel {_user}"); break; }
                catch (Exception) { Thread.Sleep(200); }
            }
        }
        try { Directory.Delete(Root, recursive: true); } catch (Exception) { }
    }
}
