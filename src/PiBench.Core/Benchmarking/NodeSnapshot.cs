using System.Globalization;
using System.Text;
using PiBench.Core.Remote;

namespace PiBench.Core.Benchmarking;

/// <summary>One reading of a node's counters, taken by the remote snapshot loop.</summary>
public sealed class NodeSnapshot
{
    public string Node { get; init; } = "";
    /// <summary>Local receive time of the snapshot (UTC).</summary>
    public DateTimeOffset ReceivedAt { get; init; }
    /// <summary>Remote seconds since boot (/proc/uptime): the interval clock, immune to SSH buffering.</summary>
    public double? UptimeSeconds { get; init; }
    /// <summary>Remote wall clock in Unix seconds (date +%s), for the record.</summary>
    public long? RemoteUnixSeconds { get; init; }
    public ProcStat? Stat { get; init; }
    public MemInfo? Memory { get; init; }
    public IReadOnlyList<NetDevCounters> Network { get; init; } = Array.Empty<NetDevCounters>();
    public IReadOnlyList<DiskCounters> Disks { get; init; } = Array.Empty<DiskCounters>();
    public LoadAverage? Load { get; init; }
    /// <summary>Thermal zone 0, °C.</summary>
    public double? ThermalC { get; init; }
    /// <summary>vcgencmd measure_temp, °C (null without vcgencmd).</summary>
    public double? VcTempC { get; init; }
    /// <summary>vcgencmd get_throttled (null without vcgencmd).</summary>
    public ThrottleState? Throttle { get; init; }
    /// <summary>Sequence number printed by the remote loop (0-based).</summary>
    public long Sequence { get; init; }
    /// <summary>
    /// Cumulative counters of every Docker container cgroup found on the node (cgroup v1 or v2), whichever daemon
    /// started it; empty when the node has none or the loop predates container lines.
    /// </summary>
    public IReadOnlyList<ContainerCounters> Containers { get; init; } = Array.Empty<ContainerCounters>();
}

/// <summary>
/// The remote side of the sampler: one POSIX sh loop per node, started once over SSH, printing a delimited snapshot
/// of /proc and vcgencmd every interval. Nothing is started per sample except cat/sleep inside the loop; the container
/// section (one line per Docker container cgroup) uses shell builtins only (<c>for</c> over a glob, <c>read</c>).
/// </summary>
public static class SnapshotProtocol
{
    public const string Begin = "@@PIBENCH-SNAPSHOT";
    public const string End = "@@END";
    private const string SectionPrefix = "@@";

    /// <summary>
    /// The shell loop. <paramref name="snapshots"/> = number of snapshots (0 = until the channel closes: a write to a
    /// closed channel ends the loop with SIGPIPE, and the command is also cancelled explicitly). <paramref name="cgroupRoot"/>
    /// is where the cgroup file systems are mounted (only tests point it elsewhere).
    /// </summary>
    public static string BuildCommand(double intervalSeconds, long snapshots, bool sleepFirst = false, string cgroupRoot = ContainerCgroups.DefaultRoot)
    {
        if (intervalSeconds <= 0 || double.IsNaN(intervalSeconds))
            throw new PiBenchException("MetricIntervalInvalid", PiBenchErrorCategory.InvalidArgument,
                $"The sampling interval must be positive, not {intervalSeconds}.", intervalSeconds, "Use -IntervalSeconds 1 or more.");
        var sleep = intervalSeconds.ToString("0.###", CultureInfo.InvariantCulture);
        var sb = new StringBuilder();
        sb.Append("n=0; VC=$(command -v vcgencmd 2>/dev/null); ");
        sb.Append(ContainerCgroups.ShellFunction(cgroupRoot));
        if (sleepFirst) sb.Append($"sleep {sleep}; ");
        sb.Append("while :; do ");
        sb.Append($"echo \"{Begin} $n $(date +%s)\" || exit 0; ");
        sb.Append("echo @@uptime; cat /proc/uptime; ");
        sb.Append("echo @@stat; grep '^cpu' /proc/stat; ");
        sb.Append("echo @@meminfo; grep -E '^(MemTotal|MemFree|MemAvailable|Buffers|Cached|SReclaimable):' /proc/meminfo; ");
        sb.Append("echo @@netdev; cat /proc/net/dev; ");
        sb.Append("echo @@diskstats; grep -E ' (mmcblk[0-9]+|sd[a-z]+|vd[a-z]+|nvme[0-9]+n[0-9]+) ' /proc/diskstats 2>/dev/null; ");
        sb.Append("echo @@loadavg; cat /proc/loadavg; ");
        sb.Append("echo @@thermal; cat /sys/class/thermal/thermal_zone0/temp 2>/dev/null; ");
        sb.Append("if [ -n \"$VC\" ]; then echo @@throttled; \"$VC\" get_throttled 2>/dev/null; echo @@measure_temp; \"$VC\" measure_temp 2>/dev/null; fi; ");
        sb.Append($"{ContainerCgroups.ShellCall} ");
        sb.Append($"echo {End} || exit 0; ");
        sb.Append("n=$((n+1)); ");
        sb.Append(snapshots <= 0 ? "" : $"[ $n -ge {snapshots} ] && break; ");
        sb.Append($"sleep {sleep}; done");
        return sb.ToString();
    }

    /// <summary>Turns one snapshot's lines (between Begin and End) into a <see cref="NodeSnapshot"/>.</summary>
    public static NodeSnapshot Parse(string node, string beginLine, IReadOnlyList<string> lines, DateTimeOffset receivedAt)
    {
        var sections = new Dictionary<string, StringBuilder>(StringComparer.Ordinal);
        StringBuilder? current = null;
        foreach (var line in lines)
        {
            if (line.StartsWith(SectionPrefix, StringComparison.Ordinal))
            {
                current = new StringBuilder();
                sections[line[SectionPrefix.Length..].Trim()] = current;
                continue;
            }
            current?.Append(line).Append('\n');
        }
        string S(string name) => sections.TryGetValue(name, out var b) ? b.ToString() : "";

        long seq = 0; long? unix = null;
        var head = beginLine.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (head.Length >= 2) long.TryParse(head[1], NumberStyles.None, CultureInfo.InvariantCulture, out seq);
        if (head.Length >= 3 && long.TryParse(head[2], NumberStyles.None, CultureInfo.InvariantCulture, out var u)) unix = u;

        return new NodeSnapshot
        {
            Node = node,
            ReceivedAt = receivedAt,
            Sequence = seq,
            RemoteUnixSeconds = unix,
            UptimeSeconds = ProcParsers.ParseUptime(S("uptime")),
            Stat = ProcParsers.ParseStat(S("stat")),
            Memory = ProcParsers.ParseMemInfo(S("meminfo")),
            Network = ProcParsers.ParseNetDev(S("netdev")),
            Disks = ProcParsers.ParseDiskStats(S("diskstats")),
            Load = ProcParsers.ParseLoadAvg(S("loadavg")),
            ThermalC = ProcParsers.ParseThermalZone(S("thermal")),
            Throttle = sections.ContainsKey("throttled") ? ProcParsers.ParseThrottled(S("throttled")) : null,
            VcTempC = sections.ContainsKey("measure_temp") ? ProcParsers.ParseMeasureTemp(S("measure_temp")) : null,
            Containers = sections.ContainsKey(ContainerCgroups.V2Section) ? ContainerCgroups.Parse(S(ContainerCgroups.V2Section), 2)
                : sections.ContainsKey(ContainerCgroups.V1Section) ? ContainerCgroups.Parse(S(ContainerCgroups.V1Section), 1)
                : Array.Empty<ContainerCounters>(),
        };
    }
}

/// <summary>
/// Reassembles snapshots from a node's output lines (fed one by one from the SSH stream) and turns each consecutive
/// pair into a <see cref="ClusterMetricSample"/>. Not thread-safe: one instance per node, fed by one reader.
/// </summary>
public sealed class NodeSnapshotStream
{
    private readonly string _node;
    private readonly Func<DateTimeOffset> _clock;
    private List<string>? _lines;
    private string _begin = "";
    private NodeSnapshot? _previous;

    public NodeSnapshotStream(string node, Func<DateTimeOffset>? clock = null)
    {
        _node = node;
        _clock = clock ?? (() => DateTimeOffset.UtcNow);
    }

    /// <summary>Snapshots completed so far.</summary>
    public long Snapshots { get; private set; }

    /// <summary>The latest complete snapshot.</summary>
    public NodeSnapshot? Latest => _previous;

    /// <summary>
    /// Called with every pair of consecutive snapshots (before, after), on the feeding thread, before the node sample is
    /// returned; the container figures are computed from these pairs (<see cref="ContainerMetricMath"/>).
    /// </summary>
    public Action<NodeSnapshot, NodeSnapshot>? OnPair { get; init; }

    /// <summary>Feeds one line; returns a sample when the line completed a snapshot that has a predecessor.</summary>
    public ClusterMetricSample? Feed(string line)
    {
        line = line.TrimEnd('\r');
        if (line.StartsWith(SnapshotProtocol.Begin, StringComparison.Ordinal))
        {
            _lines = new List<string>(96);
            _begin = line;
            return null;
        }
        if (_lines is null) return null; // noise before the first snapshot (motd, shell warnings)
        if (line != SnapshotProtocol.End)
        {
            if (_lines.Count < 4096) _lines.Add(line);
            return null;
        }
        var snap = SnapshotProtocol.Parse(_node, _begin, _lines, _clock());
        _lines = null;
        Snapshots++;
        var prev = _previous;
        _previous = snap;
        if (prev is null) return null;
        OnPair?.Invoke(prev, snap);
        return MetricMath.Sample(prev, snap);
    }
}
