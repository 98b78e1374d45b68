using PiBench.Core.Remote;
using PiBench.Core.Topology;
using PiBench.Tests.Lab;
using Xunit;

namespace PiBench.Core.Tests.Remote;

/// <summary>
/// <see cref="SshConnectionPool.RunAsync"/> streaming stdout line by line, against a real sshd on 127.0.0.70
/// (the loopback <see cref="SshLab"/> of the module tests; needs root and openssh-server).
/// </summary>
public sealed class SshConnectionPoolStreamingTests : IClassFixture<SshConnectionPoolStreamingTests.LabFixture>
{
    /// <summary>One single-node lab (pi1 only) for this class.</summary>
    public sealed class LabFixture : IDisposable
    {
        public SshLab Lab { get; } = new(new SshLabOptions { WorkerCount = 0 });
        public void Dispose() => Lab.Dispose();
    }

    private const int Lines = 20_000;
    private readonly SshLab _lab;
    private readonly PiNode _node;

    public SshConnectionPoolStreamingTests(LabFixture fixture)
    {
        _lab = fixture.Lab;
        var (name, address, _) = _lab.Nodes[0];
        _node = new PiNode
        {
            Name = name, Address = address, Port = _lab.Port, User = _lab.User, Role = NodeRole.Controller,
            KeyPath = _lab.KeyFile, KnownHostsPath = _lab.KnownHostsFile,
        };
    }

    // seq is coreutils, present wherever sshd is; one line per number, "1".."20000".
    private static string Command => $"seq 1 {Lines}";

    private static IEnumerable<string> Expected => Enumerable.Range(1, Lines).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture));

    [Fact]
    public async Task KeepOutputFalse_PassesEveryLineToTheCallback_AndStdOutIsEmpty()
    {
        using var pool = new SshConnectionPool();
        var seen = new List<string>();
        var result = await pool.RunAsync(_node, Command, new RemoteCommandOptions
        {
            KeepOutput = false,
            OnOutputLine = line => { lock (seen) seen.Add(line); },
            Timeout = TimeSpan.FromSeconds(60),
        }, null, CancellationToken.None);

        Assert.Equal(0, result.ExitCode);
        Assert.Equal("", result.StdOut);
        Assert.Equal(Expected, seen);
    }

    [Fact]
    public async Task KeepOutputDefault_PassesEveryLineToTheCallback_AndKeepsThemInStdOut()
    {
        Assert.True(new RemoteCommandOptions().KeepOutput);
        using var pool = new SshConnectionPool();
        var seen = new List<string>();
        var result = await pool.RunAsync(_node, Command, new RemoteCommandOptions
        {
            OnOutputLine = line => { lock (seen) seen.Add(line); },
            Timeout = TimeSpan.FromSeconds(60),
        }, null, CancellationToken.None);

        Assert.Equal(0, result.ExitCode);
        Assert.Equal(Expected, seen);
        Assert.Equal(string.Concat(Expected.Select(l => l + "\n")), result.StdOut);
    }

    [Fact]
    public async Task KeepOutputFalse_WithoutCallback_StillCollectsStdOut()
    {
        // KeepOutput only applies to streamed output: without OnOutputLine the result is the only place the output goes.
        using var pool = new SshConnectionPool();
        var result = await pool.RunAsync(_node, "printf 'a\\nb\\n'", new RemoteCommandOptions { KeepOutput = false }, null, CancellationToken.None);
        Assert.Equal(0, result.ExitCode);
        Assert.Equal("a\nb\n", result.StdOut);
    }
}
