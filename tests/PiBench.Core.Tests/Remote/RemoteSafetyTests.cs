using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using PiBench.Core.Remote;
using PiBench.Core.Topology;
using PiBench.Tests.Lab;
using Xunit;

namespace PiBench.Core.Tests.Remote;

/// <summary>
/// Faults against a real sshd on 127.0.0.70 that offers an ed25519 and an RSA host key: host-key downgrade and
/// preference, stopping a remote command for real, the topology's ssh.* keys, and the clock offset.
/// Needs root and openssh-server (the loopback lab); run under the global lab lock.
/// </summary>
public sealed class RemoteSafetyTests : IClassFixture<RemoteSafetyTests.LabFixture>
{
    /// <summary>One node (pi1) whose sshd has an RSA host key besides the lab's ed25519 one.</summary>
    public sealed class LabFixture : IDisposable
    {
        public SshLab Lab { get; } = new(new SshLabOptions
        {
            WorkerCount = 0,
            PrepareNode = (_, dir) =>
            {
                SshLab.Run("ssh-keygen", $"-q -t rsa -b 2048 -N \"\" -C lab-host-rsa -f {Path.Combine(dir, "host_rsa")}");
                // The docker CLI of a node whose dockerd is down: its exact message, exit 1.
                var bin = Path.Combine(dir, "bin");
                Directory.CreateDirectory(bin);
                File.WriteAllText(Path.Combine(bin, "docker"), "#!/bin/sh\necho 'Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?' >&2\nexit 1\n");
                SshLab.Run("chmod", $"755 {bin} {Path.Combine(bin, "docker")}");
            },
            ExtraConfig = (_, dir) => new[] { $"HostKey {Path.Combine(dir, "host_rsa")}", $"SetEnv PATH={Path.Combine(dir, "bin")}:/usr/local/bin:/usr/bin:/bin" },
        });
        public string RsaHostKeyPub => Path.Combine(Lab.Root, "nodes", "pi1", "host_rsa.pub");
        public void Dispose() => Lab.Dispose();
    }

    private readonly LabFixture _fx;
    private SshLab Lab => _fx.Lab;

    public RemoteSafetyTests(LabFixture fx) => _fx = fx;

    private PiNode Node(string? knownHosts = null, int connectTimeout = 10, int maxSessions = 8) => new()
    {
        Name = "pi1", Address = Lab.Nodes[0].Address, Port = Lab.Port, User = Lab.User, Role = NodeRole.Controller,
        KeyPath = Lab.KeyFile, KnownHostsPath = knownHosts ?? Lab.KnownHostsFile, ConnectTimeoutSeconds = connectTimeout, MaxSessions = maxSessions,
    };

    private string TempKnownHosts(string content)
    {
        var path = Path.Combine(Lab.Root, "kh-" + Guid.NewGuid().ToString("N")[..8]);
        File.WriteAllText(path, content);
        return path;
    }

    private string Pattern => $"[{Lab.Nodes[0].Address}]:{Lab.Port}";

    [Fact]
    public async Task HostKnownOnlyUnderAnotherKeyType_IsAMismatch_EvenWithTrustOnFirstUse_AndKnownHostsIsUntouched()
    {
        // pi1 is on record with an ecdsa key; it presents ed25519 (or RSA): a changed key, never a first contact.
        var ecdsa = Path.Combine(Lab.Root, "other-ecdsa-" + Guid.NewGuid().ToString("N")[..6]);
        SshLab.Run("ssh-keygen", $"-q -t ecdsa -N \"\" -f {ecdsa}");
        var pub = File.ReadAllText(ecdsa + ".pub").Trim().Split(' ');
        var kh = TempKnownHosts($"{Pattern} {pub[0]} {pub[1]}\n");
        var before = File.ReadAllBytes(kh);
        using var pool = new SshConnectionPool();
        var ex = await Assert.ThrowsAsync<PiBenchException>(() =>
            pool.GetClientAsync(Node(kh), new SshOptions { Password = Lab.Password, TrustOnFirstUse = true }, CancellationToken.None));
        Assert.Equal("HostKeyMismatch", ex.ErrorId);
        Assert.Contains("ecdsa-sha2-nistp256 SHA256:", ex.Message); // names the key on record
        Assert.Equal(before, File.ReadAllBytes(kh));
    }

    [Fact]
    public async Task KnownKeyTypeIsPreferred_SoAHostOnRecordWithItsRsaKeyIsTrusted()
    {
        // Only the RSA host key is on record. SSH.NET's own order asks for ed25519 first, which would now be a
        // mismatch; offering the known type first (as OpenSSH does) gets the RSA key, which matches.
        var pub = File.ReadAllText(_fx.RsaHostKeyPub).Trim().Split(' ');
        var kh = TempKnownHosts($"{Pattern} {pub[0]} {pub[1]}\n");
        using var pool = new SshConnectionPool();
        var client = await pool.GetClientAsync(Node(kh), null, CancellationToken.None);
        Assert.True(client.IsConnected);
        var r = await pool.RunAsync(Node(kh), "echo ok", null, null, CancellationToken.None);
        Assert.Equal("ok\n", r.StdOut);
    }

    private static string Marker() => "3" + Random.Shared.Next(100_000, 999_999).ToString(System.Globalization.CultureInfo.InvariantCulture) + "7";

    private static string Survivors(string marker) => SshLab.Run("pgrep", $"-f \"sleep {marker}\"", check: false).Trim();

    [Fact]
    public async Task Timeout_StopsEveryProcessTheCommandStarted_NotOnlyItsShell()
    {
        var marker = Marker();
        using var pool = new SshConnectionPool();
        // A background child and a foreground one that ignore SIGTERM (as a busy JVM or a shutdown hook may): the
        // SSH "signal" request alone leaves them running, reparented to init. Both must be gone.
        var ex = await Assert.ThrowsAsync<PiBenchException>(() => pool.RunAsync(Node(), $"trap '' TERM; sleep {marker} & sleep {marker}; echo never",
            new RemoteCommandOptions { Timeout = TimeSpan.FromSeconds(2) }, null, CancellationToken.None));
        Assert.Equal("RemoteCommandTimeout", ex.ErrorId);
        Assert.Contains("every process it started were killed", ex.Message);
        Assert.Equal("", Survivors(marker));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Cancellation_StopsEveryProcessTheCommandStarted(bool streaming)
    {
        var marker = Marker();
        using var pool = new SshConnectionPool();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => pool.RunAsync(Node(), $"trap '' TERM; echo started; sleep {marker} & sleep {marker}; echo never",
            new RemoteCommandOptions { OnOutputLine = streaming ? _ => { } : null }, null, cts.Token));
        Assert.Equal("", Survivors(marker));
    }

    [Fact]
    public async Task TheWrapper_KeepsExitCodes_Output_AndStderr()
    {
        using var pool = new SshConnectionPool();
        var r = await pool.RunAsync(Node(), "echo 'a b'; echo \"$0\" >/dev/null; echo err >&2; exit 7", null, null, CancellationToken.None);
        Assert.Equal(7, r.ExitCode);
        Assert.Equal("a b\n", r.StdOut);
        Assert.Equal("err\n", r.StdErr);
    }

    [Fact]
    public void TopologySshKeys_ReachTheConnection()
    {
        var yaml = "ssh: { user: u, connect_timeout_seconds: 2, max_sessions: 3 }\nnodes:\n  - { name: pi1, address: 127.0.0.70, role: controller }\n  - { name: pi2, address: 127.0.0.71, role: worker }\n";
        var t = ClusterTopology.Parse(yaml, "t.yaml");
        Assert.All(t.Nodes, n => { Assert.Equal(2, n.ConnectTimeoutSeconds); Assert.Equal(3, n.MaxSessions); });
        var info = SshConnectionPool.BuildConnectionInfo(t.Nodes[0], SshOptions.Default, new Renci.SshNet.AuthenticationMethod[] { new Renci.SshNet.NoneAuthenticationMethod("u") }, Array.Empty<string>());
        Assert.Equal(TimeSpan.FromSeconds(2), info.Timeout);
        Assert.Equal(3, info.MaxSessions);
        // An explicit option (e.g. -ConnectTimeoutSeconds) still wins.
        var over = SshConnectionPool.BuildConnectionInfo(t.Nodes[0], new SshOptions { ConnectTimeout = TimeSpan.FromSeconds(7), MaxSessions = 5 },
            new Renci.SshNet.AuthenticationMethod[] { new Renci.SshNet.NoneAuthenticationMethod("u") }, Array.Empty<string>());
        Assert.Equal(TimeSpan.FromSeconds(7), over.Timeout);
        Assert.Equal(5, over.MaxSessions);
    }

    [Fact]
    public async Task ConnectTimeoutOfTheTopology_BoundsTheWaitForASilentServer()
    {
        // A TCP server that accepts and never says a word (no SSH banner).
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var accepted = new List<TcpClient>();
        _ = Task.Run(async () => { try { while (true) accepted.Add(await listener.AcceptTcpClientAsync()); } catch (Exception) { } });
        try
        {
            var node = new PiNode
            {
                Name = "silent", Address = "127.0.0.1", Port = ((IPEndPoint)listener.LocalEndpoint).Port, User = "u", KeyPath = Lab.KeyFile,
                KnownHostsPath = Lab.KnownHostsFile, ConnectTimeoutSeconds = 2,
            };
            using var pool = new SshConnectionPool();
            var sw = Stopwatch.StartNew();
            var ex = await Assert.ThrowsAsync<PiBenchException>(() => pool.GetClientAsync(node, null, CancellationToken.None));
            Assert.Equal("NodeUnreachable", ex.ErrorId);
            Assert.Contains("connect timeout 2 s", ex.Message);
            Assert.True(sw.Elapsed < TimeSpan.FromSeconds(9), $"waited {sw.Elapsed.TotalSeconds:0.0} s with a 2-s connect timeout (the old fixed 10 s)");
        }
        finally
        {
            listener.Stop();
            foreach (var c in accepted) c.Dispose();
        }
    }

    [Fact]
    public async Task MaxSessionsOfTheTopology_IsTheCommandConnectionsChannelLimit()
    {
        using var pool = new SshConnectionPool();
        var client = await pool.GetClientAsync(Node(maxSessions: 3), null, CancellationToken.None);
        Assert.Equal(3, client.ConnectionInfo.MaxSessions);
    }

    [Fact]
    public async Task DockerDaemonDown_TheErrorSaysWhy_NotOnlyThatARequestFailed()
    {
        using var pool = new SshConnectionPool();
        using var factory = new DockerSshClientFactory((_, ct) => pool.OpenDedicatedAsync(Node(), null, ct));
        var ex = await Assert.ThrowsAnyAsync<Exception>(async () =>
        {
            var client = await factory.GetClientAsync("pi1", CancellationToken.None);
            await client.System.GetVersionAsync();
        });
        var text = ExceptionText.WithCauses(ex);
        Assert.Contains("Cannot connect to the Docker daemon", text);
        Assert.Contains("docker system dial-stdio", text);
    }

    [Fact]
    public async Task ClockOffset_OnOneClock_IsWithinItsStatedUncertainty()
    {
        using var pool = new SshConnectionPool();
        var health = await NodeProbe.ProbeAsync(pool, Node(), null, CancellationToken.None);
        Assert.True(health.Reachable, health.Error);
        Assert.NotNull(health.ClockOffsetMs);
        Assert.NotNull(health.ClockOffsetUncertaintyMs);
        // The node shares this machine's clock: the true offset is 0, so the estimate must lie within its own bound.
        Assert.True(Math.Abs(health.ClockOffsetMs!.Value) <= health.ClockOffsetUncertaintyMs!.Value + 0.5,
            $"offset {health.ClockOffsetMs} ms, uncertainty ±{health.ClockOffsetUncertaintyMs} ms");
    }
}

/// <summary>Key errors that need no server.</summary>
public sealed class SshKeyErrorTests
{
    [Theory]
    [InlineData("ed25519")]
    [InlineData("rsa")]
    public async Task AWrongPassphrase_SaysSo_NotRandomCheckBytes(string type)
    {
        var key = Path.Combine(Path.GetTempPath(), "pp-key-" + Guid.NewGuid().ToString("N")[..8]);
        SshLab.Run("ssh-keygen", $"-q -t {type} -N right-one -f {key}");
        try
        {
            var node = new PiNode { Name = "n", Address = "127.0.0.1", Port = 1, User = "u", KeyPath = key, KnownHostsPath = key + ".kh" };
            using var pool = new SshConnectionPool();
            var ex = await Assert.ThrowsAsync<PiBenchException>(() => pool.GetClientAsync(node, new SshOptions { Passphrase = "wrong-one" }, CancellationToken.None));
            Assert.Equal("SshKeyPassphraseWrong", ex.ErrorId);
            Assert.Contains("passphrase does not open", ex.Message);
            Assert.DoesNotContain("check bytes", ex.Message);
        }
        finally { File.Delete(key); File.Delete(key + ".pub"); }
    }
}
