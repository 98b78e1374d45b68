using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using PiBench.Core.Benchmarking;
using PiBench.Core.Remote;
using PiBench.Core.Topology;
using Xunit;

namespace PiBench.Core.Tests.Benchmarking;

/// <summary>A counted sample (Get-ClusterMetric -Once) of a node that is down: one error, no "lost its connection" notices.</summary>
public sealed class SamplerDownNodeTests
{
    [Fact]
    public async Task ANodeThatNeverAnswered_GivesOneError_AndNoReconnectWarnings()
    {
        // A loopback port nobody listens on: the connection is refused at once.
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        var key = Path.Combine(Path.GetTempPath(), "down-key-" + Guid.NewGuid().ToString("N")[..8]);
        PiBench.Tests.Lab.SshLab.Run("ssh-keygen", $"-q -t ed25519 -N \"\" -f {key}"); // a real key: the connection itself is tried
        try
        {
            var node = new PiNode { Name = "down", Address = "127.0.0.1", Port = port, User = "u", KeyPath = key, KnownHostsPath = key + ".kh", ConnectTimeoutSeconds = 2 };
            var warnings = new ConcurrentQueue<string>();
            var errors = new ConcurrentQueue<PiBenchException>();
            using var pool = new SshConnectionPool();
            await ClusterMetricSampler.RunAsync(pool, new[] { node },
                new ClusterMetricSamplerOptions { IntervalSeconds = 0.2, Count = 1, MaxReconnectDelaySeconds = 1, OnWarning = warnings.Enqueue },
                _ => { }, errors.Enqueue, CancellationToken.None);
            Assert.Empty(warnings);
            var e = Assert.Single(errors);
            Assert.Equal("NodeUnreachable", e.ErrorId);
        }
        finally { File.Delete(key); File.Delete(key + ".pub"); }
    }
}
