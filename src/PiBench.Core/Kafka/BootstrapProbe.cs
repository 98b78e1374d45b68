using System.Net;
using System.Net.Sockets;

namespace PiBench.Core.Kafka;

/// <summary>
/// A quick look at the bootstrap servers before a run: can each name be resolved, and does anything accept a TCP
/// connection there? librdkafka would only say "Local: Timed out" after 10-15 s; this names the address and the cause.
/// </summary>
public static class BootstrapProbe
{
    /// <summary>Throws KafkaUnreachable (ConnectionError) when no bootstrap server accepts a connection, naming each one's cause.</summary>
    public static async Task CheckAsync(string bootstrapServers, TimeSpan timeout, CancellationToken ct)
    {
        var problems = new List<string>();
        foreach (var server in bootstrapServers.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var problem = await ProbeAsync(server, timeout, ct).ConfigureAwait(false);
            if (problem is null) return; // one broker that answers is enough: it tells the client about the others
            problems.Add($"{server}: {problem}");
        }
        throw new PiBenchException("KafkaUnreachable", PiBenchErrorCategory.ConnectionError,
            $"No Kafka bootstrap server answers ({string.Join("; ", problems)}). Nothing was run.", bootstrapServers,
            "Check -BootstrapServers (host:port of a broker) or the topology's controller address and kafka.port, and that Kafka runs (Get-StreamCluster).");
    }

    /// <summary>Null when a TCP connection to host:port succeeds, else why not (DNS, refused, silent).</summary>
    public static async Task<string?> ProbeAsync(string server, TimeSpan timeout, CancellationToken ct)
    {
        var (host, port) = Split(server);
        if (port is null) return "no port (write host:port, e.g. 192.168.2.70:9094)";
        IPAddress[] addresses;
        if (IPAddress.TryParse(host, out var literal)) addresses = new[] { literal };
        else
        {
            try { addresses = await Dns.GetHostAddressesAsync(host, ct).ConfigureAwait(false); }
            catch (SocketException ex) { return $"the name '{host}' cannot be resolved (DNS: {ex.SocketErrorCode})"; }
            if (addresses.Length == 0) return $"the name '{host}' has no address (DNS)";
        }
        string? last = null;
        foreach (var address in addresses)
        {
            using var client = new TcpClient(address.AddressFamily);
            using var limit = CancellationTokenSource.CreateLinkedTokenSource(ct);
            limit.CancelAfter(timeout);
            try
            {
                await client.ConnectAsync(address, port.Value, limit.Token).ConfigureAwait(false);
                return null;
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                last = $"no answer from {address} within {timeout.TotalSeconds:0.#} s (silent: a firewall, a wrong address or a host that is down)";
            }
            catch (SocketException ex) when (ex.SocketErrorCode == SocketError.ConnectionRefused)
            {
                last = $"connection refused by {address} (the host is up but nothing listens on port {port})";
            }
            catch (SocketException ex)
            {
                last = $"{address}: {ex.SocketErrorCode} ({ex.Message})";
            }
        }
        return last;
    }

    private static (string Host, int? Port) Split(string server)
    {
        if (server.StartsWith('[') && server.IndexOf(']') is > 0 and var end)
            return (server[1..end], server.Length > end + 2 && server[end + 1] == ':' && int.TryParse(server[(end + 2)..], out var p6) ? p6 : null);
        var colon = server.LastIndexOf(':');
        if (colon <= 0 || server.IndexOf(':') != colon) return (server, null);
        return (server[..colon], int.TryParse(server[(colon + 1)..], out var p) && p is > 0 and < 65536 ? p : null);
    }
}
