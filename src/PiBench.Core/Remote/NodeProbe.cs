using System.Diagnostics;
using System.Globalization;
using PiBench.Core.Topology;

namespace PiBench.Core.Remote;

/// <summary>Health and facts of one node, as Test-PiNode reports them. Null means "not available on this node".</summary>
public sealed class PiNodeHealth
{
    public string Node { get; init; } = "";
    public string Address { get; init; } = "";
    public NodeRole Role { get; init; }
    public bool Reachable { get; init; }
    /// <summary>Round trip of a no-op command over the established connection.</summary>
    public double? LatencyMs { get; init; }
    public string? Architecture { get; init; }
    public string? OS { get; init; }
    public string? Kernel { get; init; }
    public string? Model { get; init; }
    public int? Cores { get; init; }
    public long? MemoryMB { get; init; }
    public double? DiskFreeGB { get; init; }
    /// <summary>Docker Engine version, or null when docker is missing or its daemon is not reachable.</summary>
    public string? DockerVersion { get; init; }
    public double? TemperatureC { get; init; }
    /// <summary>From <c>vcgencmd get_throttled</c>: true when under-voltage, capping or throttling is active now; null without vcgencmd.</summary>
    public bool? Throttled { get; init; }
    /// <summary>True when any throttling condition occurred since boot; null without vcgencmd.</summary>
    public bool? ThrottledSinceBoot { get; init; }
    /// <summary>The raw <c>get_throttled</c> bit mask, e.g. 0x50005; null without vcgencmd.</summary>
    public string? ThrottledFlags { get; init; }
    /// <summary>
    /// Node clock minus this machine's clock, ms: the node's time (<c>date +%s%N</c>) read in its own short exchange,
    /// compared with the midpoint of that exchange; the exchange with the shortest round trip of
    /// <see cref="NodeProbe.ClockSamples"/> is used. Null when the node's date cannot print nanoseconds.
    /// </summary>
    public double? ClockOffsetMs { get; init; }
    /// <summary>Bound of the error of <see cref="ClockOffsetMs"/>, ms: half the round trip of the exchange used (the true offset is within ± this).</summary>
    public double? ClockOffsetUncertaintyMs { get; init; }
    public string? Error { get; init; }
    /// <summary>False when the kernel's memory cgroup controller is off (stock Raspberry Pi OS): Docker then drops every
    /// container memory limit with only a warning. Null when it could not be read.</summary>
    public bool? MemoryCgroup { get; init; }
}

/// <summary>Collects <see cref="PiNodeHealth"/> with one remote script per node (no tool beyond POSIX sh is required).</summary>
public static class NodeProbe
{
    // Each fact on its own KEY=value line; missing tools leave the value empty.
    internal const string Script =
        "echo ARCH=$(uname -m 2>/dev/null); " +
        "echo KERNEL=$(uname -r 2>/dev/null); " +
        "if [ -r /etc/os-release ]; then . /etc/os-release; echo \"OS=$PRETTY_NAME\"; else echo OS=$(uname -s); fi; " +
        "echo CORES=$(getconf _NPROCESSORS_ONLN 2>/dev/null || nproc 2>/dev/null); " +
        "echo MEMKB=$(awk '/^MemTotal:/ {print $2}' /proc/meminfo 2>/dev/null); " +
        "echo DISKKB=$(df -Pk / 2>/dev/null | awk 'NR==2 {print $4}'); " +
        "echo MODEL=$(tr -d '\\0' < /proc/device-tree/model 2>/dev/null); " +
        "echo DOCKER=$(docker version --format '{{.Server.Version}}' 2>/dev/null); " +
        "echo MEMCG=$(" + MemoryCgroupCommand + "); " +
        "echo TEMP=$(cat /sys/class/thermal/thermal_zone0/temp 2>/dev/null); " +
        "echo THROTTLED=$(vcgencmd get_throttled 2>/dev/null)";

    /// <summary>Short exchanges made to measure the clock offset; the one with the shortest round trip counts.</summary>
    public const int ClockSamples = 5;

    /// <summary>
    /// Prints on/off for the memory cgroup controller: cgroup v2 lists it in /sys/fs/cgroup/cgroup.controllers, v1 has
    /// an enabled column in /proc/cgroups (0 when the kernel command line lacks cgroup_enable=memory on Pi kernels).
    /// Prints nothing when neither file is readable.
    /// </summary>
    public const string MemoryCgroupCommand =
        "if [ -r /sys/fs/cgroup/cgroup.controllers ]; then if grep -qw memory /sys/fs/cgroup/cgroup.controllers; then echo on; else echo off; fi; " +
        "elif [ -r /proc/cgroups ]; then awk '$1==\"memory\" {print ($4==1 ? \"on\" : \"off\"); f=1} END {if (!f) print \"off\"}' /proc/cgroups; fi";

    /// <summary>The output of <see cref="MemoryCgroupCommand"/> as a bool (null when unknown).</summary>
    public static bool? ParseMemoryCgroup(string? output) => output?.Trim() switch { "on" => true, "off" => false, _ => null };

    /// <summary>What to do when the memory cgroup is off (Raspberry Pi OS).</summary>
    public const string MemoryCgroupFix =
        "Append ' cgroup_enable=memory cgroup_memory=1' to the single line of /boot/firmware/cmdline.txt (before bookworm: /boot/cmdline.txt) and reboot the node.";

    public static async Task<PiNodeHealth> ProbeAsync(SshConnectionPool pool, PiNode node, SshOptions? options, CancellationToken ct)
    {
        try
        {
            await pool.GetClientAsync(node, options, ct).ConfigureAwait(false);
            var ping = Stopwatch.StartNew();
            await pool.RunAsync(node, "true", null, options, ct).ConfigureAwait(false);
            var latency = ping.Elapsed.TotalMilliseconds;

            var r = await pool.RunAsync(node, Script, new RemoteCommandOptions { Timeout = TimeSpan.FromSeconds(30) }, options, ct).ConfigureAwait(false);
            var facts = Parse(r.StdOut);
            var clock = await MeasureClockAsync(pool, node, options, ClockSamples, ct).ConfigureAwait(false);
            var throttle = ThrottleState.Parse(facts.GetValueOrDefault("THROTTLED"));
            return new PiNodeHealth
            {
                Node = node.Name, Address = node.Address, Role = node.Role, Reachable = true,
                LatencyMs = Math.Round(latency, 2),
                Architecture = Empty(facts.GetValueOrDefault("ARCH")),
                Kernel = Empty(facts.GetValueOrDefault("KERNEL")),
                OS = Empty(facts.GetValueOrDefault("OS")),
                Model = Empty(facts.GetValueOrDefault("MODEL")),
                Cores = Int(facts.GetValueOrDefault("CORES")),
                MemoryMB = Long(facts.GetValueOrDefault("MEMKB")) / 1024,
                DiskFreeGB = Long(facts.GetValueOrDefault("DISKKB")) is { } kb ? Math.Round(kb / 1024.0 / 1024.0, 2) : null,
                DockerVersion = Empty(facts.GetValueOrDefault("DOCKER")),
                TemperatureC = Long(facts.GetValueOrDefault("TEMP")) is { } milli ? Math.Round(milli / 1000.0, 1) : null,
                Throttled = throttle?.AnyNow,
                ThrottledSinceBoot = throttle?.AnySinceBoot,
                ThrottledFlags = throttle?.Flags,
                ClockOffsetMs = clock?.OffsetMs,
                ClockOffsetUncertaintyMs = clock?.UncertaintyMs,
                MemoryCgroup = ParseMemoryCgroup(facts.GetValueOrDefault("MEMCG")),
            };
        }
        catch (PiBenchException ex) when (ex.ErrorId is "NodeUnreachable")
        {
            return new PiNodeHealth { Node = node.Name, Address = node.Address, Role = node.Role, Reachable = false, Error = ex.Message };
        }
    }

    /// <summary>
    /// The node's clock minus this machine's: <paramref name="samples"/> exchanges that only read the node's time; each
    /// gives offset = remote time - midpoint of the exchange, exact to within half its round trip. The exchange with
    /// the shortest round trip is kept (least uncertain). Null when the node's date gives no nanoseconds.
    /// </summary>
    public static async Task<(double OffsetMs, double UncertaintyMs)?> MeasureClockAsync(SshConnectionPool pool, PiNode node, SshOptions? options,
        int samples, CancellationToken ct)
    {
        (double Offset, double Rtt)? best = null;
        for (var i = 0; i < samples; i++)
        {
            var start = DateTimeOffset.UtcNow;
            var sw = Stopwatch.StartNew();
            var r = await pool.RunAsync(node, "date +%s%N", new RemoteCommandOptions { Timeout = TimeSpan.FromSeconds(10) }, options, ct).ConfigureAwait(false);
            var rtt = sw.Elapsed.TotalMilliseconds;
            var text = r.StdOut.Trim();
            if (r.ExitCode != 0 || text.Length < 16 || !text.All(char.IsAsciiDigit) ||
                !long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var ns)) return null; // e.g. "%N" unsupported
            var localMidMs = (start.UtcTicks - DateTime.UnixEpoch.Ticks) / (double)TimeSpan.TicksPerMillisecond + rtt / 2;
            var offset = ns / 1_000_000.0 - localMidMs;
            if (best is null || rtt < best.Value.Rtt) best = (offset, rtt);
        }
        return best is { } b ? (Math.Round(b.Offset, 2), Math.Round(b.Rtt / 2, 2)) : null;
    }

    internal static Dictionary<string, string> Parse(string output)
    {
        var d = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in output.Split('\n'))
        {
            var i = line.IndexOf('=');
            if (i <= 0) continue;
            d[line[..i].Trim()] = line[(i + 1)..].Trim();
        }
        return d;
    }

    private static string? Empty(string? s) => string.IsNullOrWhiteSpace(s) ? null : s;
    private static int? Int(string? s) => int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v : null;
    private static long? Long(string? s) => long.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v : null;
}
