using System.Globalization;
using System.Text;

namespace PiBench.Core.Topology;

/// <summary>A node to write with <see cref="TopologyWriter"/>.</summary>
public sealed record NodeDefinition(string Name, string Address, NodeRole Role, int? Port = null, string? Hostname = null);

/// <summary>Options for a new topology file.</summary>
public sealed class TopologyDefinition
{
    public string Name { get; init; } = "picocluster";
    public string User { get; init; } = "picocluster";
    public int Port { get; init; } = 22;
    public string KeyPath { get; init; } = "~/.ssh/id_ed25519";
    public string KnownHosts { get; init; } = "~/.ssh/known_hosts";
    public IReadOnlyList<NodeDefinition> Nodes { get; init; } = Array.Empty<NodeDefinition>();
    public int EventsPerSecond { get; init; } = 10_000;
    public long TotalEvents { get; init; } = 10_000_000;
    public IReadOnlyList<string> Queries { get; init; } = new[] { "q1", "q2", "q3", "q4", "q5", "q7", "q8" };

    /// <summary>The seed cluster: pi1 = 192.168.2.70 controller, pi2..pi(n+1) = .71.. workers.</summary>
    public static TopologyDefinition Seed(int workerCount = 9) => new()
    {
        Nodes = Enumerable.Range(0, workerCount + 1)
            .Select(i => new NodeDefinition($"pi{i + 1}", $"192.168.2.{70 + i}", i == 0 ? NodeRole.Controller : NodeRole.Worker,
                Hostname: $"b1pc{10 + i}"))
            .ToList(),
    };

    /// <summary>A single-machine lab: pi1 = 127.0.0.70 controller, workers on 127.0.0.71.. (all on this host).</summary>
    public static TopologyDefinition Loopback(int workerCount, int port, string user, string keyPath, string knownHosts) => new()
    {
        Name = "loopback-lab",
        User = user,
        Port = port,
        KeyPath = keyPath,
        KnownHosts = knownHosts,
        Nodes = Enumerable.Range(0, workerCount + 1)
            .Select(i => new NodeDefinition($"pi{i + 1}", $"127.0.0.{70 + i}", i == 0 ? NodeRole.Controller : NodeRole.Worker))
            .ToList(),
        EventsPerSecond = 1000,
        TotalEvents = 100_000,
    };
}

/// <summary>Writes a documented topology file that <see cref="ClusterTopology.Load"/> reads back.</summary>
public static class TopologyWriter
{
    public static string ToYaml(TopologyDefinition d)
    {
        static string Q(string s) => s.Length == 0 || s.IndexOfAny(new[] { ':', '#', '{', '}', '[', ']', ',', '&', '*', '!', '|', '>', '\'', '"', '%', '@', '`' }) >= 0 || s.StartsWith(' ') || s.StartsWith('~') && s.Length == 1
            ? "'" + s.Replace("'", "''") + "'" : s;
        var inv = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.AppendLine("# PiBench cluster topology, written by New-PiTopology. Every key is documented in");
        sb.AppendLine("# config/cluster-topology.yaml of the module. Check it with: Get-PiTopology -Path <this file>");
        sb.AppendLine($"name: {Q(d.Name)}");
        sb.AppendLine();
        sb.AppendLine("ssh:");
        sb.AppendLine($"  user: {Q(d.User)}");
        sb.AppendLine(string.Create(inv, $"  port: {d.Port}"));
        sb.AppendLine($"  key_path: {Q(d.KeyPath)}");
        sb.AppendLine($"  known_hosts: {Q(d.KnownHosts)}");
        sb.AppendLine();
        sb.AppendLine("nodes:");
        foreach (var n in d.Nodes)
        {
            sb.Append($"  - {{ name: {Q(n.Name)}, address: {Q(n.Address)}, role: {n.Role.ToString().ToLowerInvariant()}");
            if (n.Port is { } p) sb.Append(string.Create(inv, $", port: {p}"));
            if (n.Hostname is { } h) sb.Append($", hostname: {Q(h)}");
            sb.AppendLine(" }");
        }
        sb.AppendLine();
        sb.AppendLine("benchmark:");
        sb.AppendLine(string.Create(inv, $"  events_per_second: {d.EventsPerSecond}"));
        sb.AppendLine(string.Create(inv, $"  total_events: {d.TotalEvents}"));
        sb.AppendLine($"  queries: [{string.Join(", ", d.Queries)}]");
        return sb.ToString();
    }
}
