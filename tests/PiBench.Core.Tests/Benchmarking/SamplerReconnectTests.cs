using System.Collections.Concurrent;
using PiBench.Core.Benchmarking;
using PiBench.Core.Remote;
using PiBench.Core.Topology;
using PiBench.Tests.Lab;
using Xunit;

namespace PiBench.Core.Tests.Benchmarking;

/// <summary>The metric sampler over a real sshd (127.0.0.70) whose daemon dies and comes back, as a rebooting Pi would.</summary>
public sealed class SamplerReconnectTests
{
    private static async Task Until(Func<bool> done, TimeSpan within, string what)
    {
        var deadline = DateTime.UtcNow + within;
        while (!done())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException(what);
            await Task.Delay(50);
        }
    }

    [Fact]
    public async Task ALostConnection_IsReArmed_WithAWarning_AndSamplingGoesOn()
    {
        using var lab = new SshLab(new SshLabOptions { WorkerCount = 0 });
        var (name, address, _) = lab.Nodes[0];
        var node = new PiNode
        {
            Name = name, Address = address, Port = lab.Port, User = lab.User, Role = NodeRole.Controller,
            KeyPath = lab.KeyFile, KnownHostsPath = lab.KnownHostsFile,
        };
        using var pool = new SshConnectionPool();
        var samples = new ConcurrentQueue<ClusterMetricSample>();
        var warnings = new ConcurrentQueue<string>();
        var errors = new ConcurrentQueue<PiBenchException>();
        using var cts = new CancellationTokenSource();
        var sampling = ClusterMetricSampler.RunAsync(pool, new[] { node },
            new ClusterMetricSamplerOptions { IntervalSeconds = 0.2, MaxReconnectDelaySeconds = 1, OnWarning = warnings.Enqueue },
            samples.Enqueue, errors.Enqueue, cts.Token);
        try
        {
            await Until(() => samples.Count >= 3, TimeSpan.FromSeconds(30), "first samples");
            lab.StopNode(name); // sshd and its sessions die: the connection drops mid-command
            await Until(() => !warnings.IsEmpty, TimeSpan.FromSeconds(30), "a reconnect warning");
            var before = samples.Count;
            lab.StartNode(name);
            await Until(() => samples.Count >= before + 3, TimeSpan.FromSeconds(60), "samples after the restart");
        }
        finally
        {
            cts.Cancel();
            await sampling;
        }
        Assert.Empty(errors);
        Assert.Contains("reconnecting in 1 s, samples of the gap are missing", warnings.First());
        Assert.All(samples, s => Assert.True(s.IntervalSeconds < 5, $"a sample spans {s.IntervalSeconds} s: the chain crossed the gap"));
    }
}
