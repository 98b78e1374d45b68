using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace PiBench.Tests.Lab;

/// <summary>Options for an <see cref="SshLab"/>.</summary>
public sealed class SshLabOptions
{
    /// <summary>Workers besides the controller (pi1).</summary>
    public int WorkerCount { get; init; } = 2;
    /// <summary>Extra sshd_config lines per node (name, node folder), e.g. "SetEnv DOCKER_HOST=unix:///...".</summary>
    public Func<string, string, IEnumerable<string>>? ExtraConfig { get; init; }
    /// <summary>Called per node before its sshd starts, with the node name and the node's own folder.</summary>
    public Action<string, string>? PrepareNode { get; init; }
    /// <summary>Groups the lab user joins (e.g. docker).</summary>
    public string[] Groups { get; init; } = Array.Empty<string>();
}

/// <summary>
/// A loopback lab of real OpenSSH daemons: pi1 (controller) on 127.0.0.70, workers on 127.0.0.71.., all on one
/// free port, each with its own config and pid, host keys made for the lab, a dedicated user (home inside the lab,
/// a password for first-contact tests, the lab's client keys authorized), a known_hosts file holding the host key
/// and a topology.yaml describing the nodes. Needs root and /usr/sbin/sshd (openssh-server); fails loudly otherwise.
/// Only 127.0.0.0/8 is used. Every sshd is stopped by its PID and the user and folder are removed on Dispose.
/// </summary>
public sealed class SshLab : IDisposable
{
    private readonly Dictionary<string, Process> _daemons = new();
    private readonly SshLabOptions _options;

    public string Root { get; }
    public string User { get; }
    public string Password { get; } = "lab-" + Guid.NewGuid().ToString("N")[..12];
    public int Port { get; }
    public string KeyFile => Path.Combine(Root, "keys", "id_ed25519");
    public string RsaKeyFile => Path.Combine(Root, "keys", "id_rsa");
    public string HostKeyFile => Path.Combine(Root, "keys", "host_ed25519");
    public string KnownHostsFile => Path.Combine(Root, "keys", "known_hosts");
    public string TopologyPath => Path.Combine(Root, "topology.yaml");
    public string Home => Path.Combine(Root, "home", User);
    public IReadOnlyList<(string Name, string Address, string Role)> Nodes { get; }

    public SshLab(SshLabOptions? options = null)
    {
        _options = options ?? new SshLabOptions();
        if (!File.Exists("/usr/sbin/sshd"))
            throw new InvalidOperationException("/usr/sbin/sshd is missing: install openssh-server (.ci/run does).");
        if (Environment.UserName != "root")
            throw new InvalidOperationException("the SSH lab must run as root (it starts sshd and creates a user).");
        Root = Path.Combine(Path.GetTempPath(), "pibench-lab-" + Guid.NewGuid().ToString("N")[..8]);
        User = "pib" + Guid.NewGuid().ToString("N")[..8];
        var nodes = new List<(string, string, string)> { ("pi1", "127.0.0.70", "controller") };
        for (var i = 1; i <= _options.WorkerCount; i++) nodes.Add(($"pi{i + 1}", $"127.0.0.{70 + i}", "worker"));
        Nodes = nodes;
        Port = FreePort(nodes.Select(n => n.Item2));
        try { Build(); }
        catch { Dispose(); throw; }
    }

    private void Build()
    {
        Directory.CreateDirectory(Path.Combine(Root, "keys"));
        Directory.CreateDirectory(Path.Combine(Root, "run"));
        Directory.CreateDirectory(Path.Combine(Root, "home"));
        Chmod(Root, "755");
        Chmod(Path.Combine(Root, "home"), "755");
        var keys = Path.Combine(Root, "keys");
        Run("ssh-keygen", $"-q -t ed25519 -N \"\" -f {HostKeyFile}");
        Run("ssh-keygen", $"-q -t ed25519 -N \"\" -C lab -f {KeyFile}");
        Run("ssh-keygen", $"-q -t rsa -b 3072 -N \"\" -C lab-rsa -f {RsaKeyFile}");
        Directory.CreateDirectory("/run/sshd");

        var groups = _options.Groups.Length > 0 ? $"-G {string.Join(',', _options.Groups)} " : "";
        Run("useradd", $"-m -d {Home} -s /bin/sh {groups}{User}");
        RunWithInput("chpasswd", "", $"{User}:{Password}\n");
        var ssh = Path.Combine(Home, ".ssh");
        Directory.CreateDirectory(ssh);
        File.WriteAllText(Path.Combine(ssh, "authorized_keys"),
            File.ReadAllText(KeyFile + ".pub") + File.ReadAllText(RsaKeyFile + ".pub"));
        Run("chown", $"-R {User}:{User} {ssh}");
        Chmod(ssh, "700");
        Chmod(Path.Combine(ssh, "authorized_keys"), "600");

        var hostPub = File.ReadAllText(HostKeyFile + ".pub").Trim().Split(' ');
        File.WriteAllLines(KnownHostsFile, Nodes.Select(n => $"[{n.Address}]:{Port} {hostPub[0]} {hostPub[1]}"));

        foreach (var n in Nodes)
        {
            var dir = Path.Combine(Root, "nodes", n.Name);
            Directory.CreateDirectory(dir);
            Chmod(Path.Combine(Root, "nodes"), "755");
            Chmod(dir, "755");
            _options.PrepareNode?.Invoke(n.Name, dir);
            StartNode(n.Name);
        }
        WriteTopology(TopologyPath, KnownHostsFile);
    }

    /// <summary>Writes a topology file for the lab (with a chosen known_hosts file).</summary>
    public void WriteTopology(string path, string knownHosts, string? keyFile = null)
    {
        var sb = new StringBuilder();
        sb.AppendLine("name: loopback-lab");
        sb.AppendLine("ssh:");
        sb.AppendLine($"  user: {User}");
        sb.AppendLine($"  port: {Port}");
        sb.AppendLine($"  key_path: {keyFile ?? KeyFile}");
        sb.AppendLine($"  known_hosts: {knownHosts}");
        sb.AppendLine("  connect_timeout_seconds: 5");
        sb.AppendLine("nodes:");
        foreach (var n in Nodes) sb.AppendLine($"  - {{ name: {n.Name}, address: {n.Address}, role: {n.Role} }}");
        File.WriteAllText(path, sb.ToString());
    }

    private string ConfigPath(string node) => Path.Combine(Root, "run", $"sshd-{node}.conf");

    /// <summary>Starts (or restarts) a node's sshd and waits until it accepts connections.</summary>
    public void StartNode(string name)
    {
        var n = Nodes.First(x => x.Name == name);
        var conf = new StringBuilder();
        conf.AppendLine($"ListenAddress {n.Address}:{Port}");
        conf.AppendLine($"HostKey {HostKeyFile}");
        conf.AppendLine($"PidFile {Path.Combine(Root, "run", $"sshd-{name}.pid")}");
        conf.AppendLine("AuthorizedKeysFile .ssh/authorized_keys");
        conf.AppendLine("PubkeyAuthentication yes");
        conf.AppendLine("PasswordAuthentication yes");
        conf.AppendLine("KbdInteractiveAuthentication no");
        conf.AppendLine("UsePAM no");
        conf.AppendLine("PermitRootLogin no");
        conf.AppendLine($"AllowUsers {User}");
        conf.AppendLine("StrictModes yes");
        conf.AppendLine("AllowTcpForwarding yes");
        conf.AppendLine("MaxSessions 32");
        conf.AppendLine("MaxStartups 100:30:200");
        conf.AppendLine("LogLevel VERBOSE");
        conf.AppendLine("Subsystem sftp internal-sftp");
        foreach (var line in _options.ExtraConfig?.Invoke(name, Path.Combine(Root, "nodes", name)) ?? Enumerable.Empty<string>()) conf.AppendLine(line);
        File.WriteAllText(ConfigPath(name), conf.ToString());
        Run("/usr/sbin/sshd", $"-t -f {ConfigPath(name)}");
        var psi = new ProcessStartInfo("/usr/sbin/sshd", $"-D -e -f {ConfigPath(name)}")
        {
            RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false,
        };
        var p = Process.Start(psi)!;
        var log = Path.Combine(Root, "run", $"sshd-{name}.log");
        p.ErrorDataReceived += (_, e) => { if (e.Data is not null) try { File.AppendAllText(log, e.Data + "\n"); } catch (IOException) { } };
        p.BeginErrorReadLine();
        p.BeginOutputReadLine();
        _daemons[name] = p;
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                using var c = new TcpClient();
                c.Connect(IPAddress.Parse(n.Address), Port);
                return;
            }
            catch (SocketException) { Thread.Sleep(50); }
            if (p.HasExited) break;
        }
        throw new InvalidOperationException($"sshd for {name} did not start: {(File.Exists(log) ? File.ReadAllText(log) : "no log")}");
    }

    /// <summary>Stops a node's sshd (the node is then "down").</summary>
    public void StopNode(string name)
    {
        if (!_daemons.Remove(name, out var p)) return;
        try { p.Kill(entireProcessTree: true); p.WaitForExit(5000); } catch (InvalidOperationException) { }
        p.Dispose();
    }

    public void Dispose()
    {
        foreach (var name in _daemons.Keys.ToList()) StopNode(name);
        try { Run("pkill", $"-u {User}", check: false); } catch (Exception) { }
        try { Run("userdel", $"-r -f {User}", check: false); } catch (Exception) { }
        try { if (Directory.Exists(Root)) Directory.Delete(Root, recursive: true); } catch (Exception) { }
    }

    private static int FreePort(IEnumerable<string> addresses)
    {
        var rng = new Random();
        for (var attempt = 0; attempt < 200; attempt++)
        {
            var port = rng.Next(20000, 60000);
            var ok = true;
            foreach (var a in addresses)
            {
                try
                {
                    var l = new TcpListener(IPAddress.Parse(a), port);
                    l.Start();
                    l.Stop();
                }
                catch (SocketException) { ok = false; break; }
            }
            if (ok) return port;
        }
        throw new InvalidOperationException("no free port on the lab addresses");
    }

    private static void Chmod(string path, string mode) => Run("chmod", $"{mode} {path}");

    public static string Run(string file, string args, bool check = true) => RunWithInput(file, args, null, check);

    private static string RunWithInput(string file, string args, string? input, bool check = true)
    {
        var psi = new ProcessStartInfo(file, args)
        {
            RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = input is not null, UseShellExecute = false,
        };
        using var p = Process.Start(psi)!;
        if (input is not null) { p.StandardInput.Write(input); p.StandardInput.Close(); }
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(60_000)) { p.Kill(true); throw new TimeoutException($"{file} {args} did not finish"); }
        if (check && p.ExitCode != 0) throw new InvalidOperationException($"{file} {args} failed ({p.ExitCode}): {stderr.Result}");
        return stdout.Result;
    }
}

/// <summary>One shared three-node lab (pi1 controller, pi2, pi3) for the node tests; pi3 has a fake vcgencmd reporting throttling.</summary>
public sealed class SshLabFixture : IDisposable
{
    public SshLab Lab { get; } = new(new SshLabOptions
    {
        WorkerCount = 2,
        PrepareNode = (name, dir) =>
        {
            if (name != "pi3") return;
            var bin = Path.Combine(dir, "bin");
            Directory.CreateDirectory(bin);
            var fake = Path.Combine(bin, "vcgencmd");
            File.WriteAllText(fake, "#!/bin/sh\n# stand-in for the Raspberry Pi firmware tool\ncase \"$1\" in\n  get_throttled) echo throttled=0x50005 ;;\n  measure_temp) echo temp=71.5\\'C ;;\n  *) exit 1 ;;\nesac\n");
            SshLab.Run("chmod", $"755 {bin} {fake}");
        },
        ExtraConfig = (name, dir) => name == "pi3"
            ? new[] { $"SetEnv PATH={Path.Combine(dir, "bin")}:/usr/local/bin:/usr/bin:/bin" }
            : Array.Empty<string>(),
    });

    public void Dispose() => Lab.Dispose();
}
