using System.Globalization;
using System.Net;
using PiBench.Core.Remote;
using PiBench.Core.Topology;

namespace PiBench.Core.Benchmarking;

/// <summary>
/// The offset between the broker host's clock and this host's, which latency rests on: results are stamped with the
/// broker's LogAppendTime, intended send times come from this host's clock. Zero by construction when the broker is
/// on this host (every bootstrap address is loopback); otherwise measured over SSH on the broker's topology node at
/// the start of each cell (<see cref="NodeProbe"/>: node clock minus local clock, corrected by half the round trip);
/// NaN when it cannot be measured, and the validity gate then refuses the latency.
/// </summary>
public static class BrokerClock
{
    /// <summary>True when every bootstrap server is a loopback address (127.0.0.0/8, ::1, localhost).</summary>
    public static bool IsLocal(string bootstrapServers)
    {
        var hosts = bootstrapServers.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(Host).ToList();
        return hosts.Count > 0 && hosts.All(h => h.Equals("localhost", StringComparison.OrdinalIgnoreCase) || (IPAddress.TryParse(h, out var ip) && IPAddress.IsLoopback(ip)));
    }

    private static string Host(string server)
    {
        var s = server.Trim();
        if (s.StartsWith('[')) return s[1..s.IndexOf(']')]; // [::1]:9092
        var colon = s.LastIndexOf(':');
        return colon > 0 && s.IndexOf(':') == colon ? s[..colon] : s;
    }

    /// <summary>The broker's topology node: <paramref name="candidate"/> when the bootstrap servers name its address, else null.</summary>
    public static PiNode? BrokerNodeOf(string bootstrapServers, PiNode? candidate) =>
        candidate is not null && bootstrapServers.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Any(s => string.Equals(Host(s), candidate.Address, StringComparison.OrdinalIgnoreCase)) ? candidate : null;

    /// <summary>Measures the offset (ms) and says how; NaN with the reason when it cannot.</summary>
    public static async Task<(double OffsetMs, string Check)> MeasureAsync(string bootstrapServers, PiNode? brokerNode, SshOptions? ssh, double limitMs, CancellationToken ct)
    {
        if (IsLocal(bootstrapServers)) return (0, "same host (loopback broker): one clock");
        var node = BrokerNodeOf(bootstrapServers, brokerNode);
        if (node is null)
            return (double.NaN, $"not measured: the broker ({bootstrapServers}) is not a node of the topology");
        PiNodeHealth health;
        try { health = await NodeProbe.ProbeAsync(SshConnectionPool.Shared, node, ssh, ct).ConfigureAwait(false); }
        catch (PiBenchException ex) { return (double.NaN, $"not measured: {node.Name}: {ex.Message}"); }
        if (health.ClockOffsetMs is not { } offset)
            return (double.NaN, $"not measured: {node.Name} did not answer ({health.Error})");
        return (offset, string.Create(CultureInfo.InvariantCulture, $"measured on {node.Name} over SSH: {offset:+0.#;-0.#;0} ms (limit {limitMs:0.#} ms)"));
    }
}
