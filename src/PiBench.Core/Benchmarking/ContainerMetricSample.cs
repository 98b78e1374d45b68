using System.Globalization;
using System.Text;

namespace PiBench.Core.Benchmarking;

/// <summary>Cumulative counters of one Docker container's cgroup in one snapshot.</summary>
/// <param name="Id">The full container id (the cgroup directory name without <c>docker-</c> / <c>.scope</c>).</param>
/// <param name="CpuNanoseconds">CPU time used since the container started, ns (v1 cpuacct.usage; v2 cpu.stat usage_usec × 1000).</param>
/// <param name="MemoryBytes">Charged memory now (v1 memory.usage_in_bytes, v2 memory.current), page cache included.</param>
/// <param name="InactiveFileBytes">Inactive file cache (v1 total_inactive_file, v2 inactive_file of memory.stat).</param>
public readonly record struct ContainerCounters(string Id, long? CpuNanoseconds, long? MemoryBytes, long? InactiveFileBytes)
{
    /// <summary>Memory in use as <c>docker stats</c> shows it: charged memory minus the inactive file cache.</summary>
    public long? WorkingSetBytes => MemoryBytes is { } m ? Math.Max(0, m - (InactiveFileBytes ?? 0)) : null;
}

/// <summary>
/// The container part of the snapshot loop: a shell function that prints one line per Docker container cgroup
/// (<c>id cpu memory inactive_file</c>, "-" for a missing reading) under <c>@@cgroup2</c> or <c>@@cgroup1</c>, and its
/// parser. Only shell builtins run per snapshot: a <c>for</c> over globs and <c>read</c> of the cgroup files.
/// </summary>
/// <remarks>
/// Layouts read (the driver decides the directory, the hierarchy the files):
/// cgroup v2 (Raspberry Pi OS Bookworm; detected by <c>cgroup.controllers</c> at the root):
/// systemd driver <c>system.slice/docker-ID.scope/</c>, cgroupfs driver <c>docker/ID/</c>; files <c>cpu.stat</c>
/// (first line <c>usage_usec N</c>), <c>memory.current</c>, <c>memory.stat</c> (<c>inactive_file</c>).
/// cgroup v1 (and hybrid): <c>cpuacct/docker/ID/</c> or <c>cpuacct/system.slice/docker-ID.scope/</c> with
/// <c>cpuacct.usage</c> (ns), and the same path below <c>memory/</c> with <c>memory.usage_in_bytes</c> and
/// <c>memory.stat</c> (<c>total_inactive_file</c>). A kernel shows the cgroups of every daemon on it; which belong to
/// the node's own daemon is decided by <see cref="ContainerDirectory"/>.
/// </remarks>
public static class ContainerCgroups
{
    public const string DefaultRoot = "/sys/fs/cgroup";
    public const string V1Section = "cgroup1";
    public const string V2Section = "cgroup2";

    /// <summary>Calls the function once per snapshot (errors of vanishing cgroups are dropped).</summary>
    public const string ShellCall = "pbcg 2>/dev/null;";

    /// <summary>Defines <c>pbcg</c> and detects the cgroup version once, before the loop.</summary>
    public static string ShellFunction(string root = DefaultRoot)
    {
        if (root.Contains('\'', StringComparison.Ordinal) || root.Length == 0)
            throw new ArgumentException("The cgroup root must be a non-empty path without single quotes.", nameof(root));
        const string emit = "i=${d##*/}; i=${i#docker-}; echo \"${i%.scope} ${u:--} ${m:--} ${f:--}\"; ";
        var sb = new StringBuilder();
        sb.Append($"CGR='{root.TrimEnd('/')}'; CG=1; [ -f \"$CGR/cgroup.controllers\" ] && CG=2; ");
        sb.Append("pbcg() { if [ $CG = 2 ]; then echo @@").Append(V2Section).Append("; ");
        sb.Append("for d in \"$CGR\"/system.slice/docker-*.scope \"$CGR\"/docker/*; do [ -r \"$d/cpu.stat\" ] || continue; u=; m=; f=; ");
        sb.Append("read -r k u < \"$d/cpu.stat\"; [ -r \"$d/memory.current\" ] && read -r m < \"$d/memory.current\"; ");
        sb.Append("[ -r \"$d/memory.stat\" ] && while read -r k v; do [ \"$k\" = inactive_file ] && { f=$v; break; }; done < \"$d/memory.stat\"; ");
        sb.Append(emit).Append("done; ");
        sb.Append("else echo @@").Append(V1Section).Append("; ");
        sb.Append("for d in \"$CGR\"/cpuacct/docker/* \"$CGR\"/cpuacct/system.slice/docker-*.scope; do [ -r \"$d/cpuacct.usage\" ] || continue; u=; m=; f=; ");
        sb.Append("e=\"$CGR/memory/${d#\"$CGR\"/cpuacct/}\"; read -r u < \"$d/cpuacct.usage\"; ");
        sb.Append("[ -r \"$e/memory.usage_in_bytes\" ] && read -r m < \"$e/memory.usage_in_bytes\"; ");
        sb.Append("[ -r \"$e/memory.stat\" ] && while read -r k v; do [ \"$k\" = total_inactive_file ] && { f=$v; break; }; done < \"$e/memory.stat\"; ");
        sb.Append(emit).Append("done; fi; }; ");
        return sb.ToString();
    }

    /// <summary>
    /// Parses the lines of a <c>@@cgroup1</c> (<paramref name="version"/> 1: CPU in ns) or <c>@@cgroup2</c> (2: CPU in
    /// µs) section. Lines whose first field is not a container id (at least 12 hex digits) are skipped.
    /// </summary>
    public static IReadOnlyList<ContainerCounters> Parse(string text, int version)
    {
        var list = new List<ContainerCounters>();
        foreach (var raw in text.Split('\n'))
        {
            var f = raw.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (f.Length < 2 || !IsContainerId(f[0])) continue;
            long? N(int i) => i < f.Length && long.TryParse(f[i], NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : null;
            var cpu = N(1);
            if (version == 2 && cpu is { } us) cpu = us > long.MaxValue / 1000 ? null : us * 1000;
            list.Add(new ContainerCounters(f[0].ToLowerInvariant(), cpu, N(2), N(3)));
        }
        return list;
    }

    /// <summary>A Docker container id: 12 to 64 hex digits.</summary>
    public static bool IsContainerId(string s) => s.Length is >= 12 and <= 64 && s.All(char.IsAsciiHexDigit);
}

/// <summary>What the node's Docker daemon says about one of its containers.</summary>
/// <param name="Id">The full container id.</param>
/// <param name="Name">The container name without the leading '/'.</param>
/// <param name="Service">The <c>pibench.service</c> label ("" without it).</param>
/// <param name="System">The <c>pibench.system</c> label: arroyo, flink or shared ("" without it).</param>
public sealed record ContainerIdentity(string Id, string Name, string Service, string System)
{
    /// <summary>A container known only by its cgroup: named by its short id, no labels.</summary>
    public static ContainerIdentity Anonymous(string id) => new(id, ShortId(id), "", "");

    public static string ShortId(string id) => id.Length > 12 ? id[..12] : id;
}

/// <summary>
/// One container's resource use over one sampling interval, from two consecutive snapshots of its node. Flat scalars,
/// the same properties on every instance (Export-Csv). Network is not per container: with host networking every
/// container shares the node's interfaces, so it is only in the node's <see cref="ClusterMetricSample"/>.
/// </summary>
public sealed class ContainerMetricSample
{
    public string Node { get; init; } = "";
    /// <summary>Container name from the node's Docker daemon (its short id when the daemon could not be asked).</summary>
    public string Container { get; init; } = "";
    /// <summary>The first 12 characters of the container id.</summary>
    public string ContainerId { get; init; } = "";
    /// <summary>The <c>pibench.service</c> label, e.g. flink-taskmanager ("" for containers PiBench did not start).</summary>
    public string Service { get; init; } = "";
    /// <summary>The <c>pibench.system</c> label: arroyo, flink or shared (Kafka, MinIO); "" without it.</summary>
    public string System { get; init; } = "";
    /// <summary>End of the interval (local receive time of the node's second snapshot, UTC), as in the node sample.</summary>
    public DateTimeOffset Timestamp { get; init; }
    /// <summary>Length of the interval on the node's own clock (/proc/uptime), seconds.</summary>
    public double IntervalSeconds { get; init; }
    /// <summary>CPU time of the container over the interval per second, percent of ONE core (200 = two cores busy).</summary>
    public double? CpuPercent { get; init; }
    /// <summary>CPU time the container used in the interval, core-seconds (from its cgroup's cumulative CPU time).</summary>
    public double? CpuCoreSeconds { get; init; }
    /// <summary>Memory in use at the end of the interval, MB (2^20 bytes): charged memory minus inactive file cache, as docker stats shows it.</summary>
    public double? MemoryMB { get; init; }
    /// <summary>Sequence number of the node's second snapshot (the node sample of the same interval has the same).</summary>
    public long Sequence { get; init; }
}

/// <summary>Per-container arithmetic between two snapshots of the same node.</summary>
public static class ContainerMetricMath
{
    /// <summary>
    /// One sample per container present in both snapshots that <paramref name="resolve"/> (node, full id) accepts;
    /// a container it returns null for (another daemon's, or not yet known) is left out.
    /// </summary>
    public static IReadOnlyList<ContainerMetricSample> Samples(NodeSnapshot before, NodeSnapshot after, Func<string, string, ContainerIdentity?> resolve)
    {
        if (after.Containers.Count == 0 || before.Containers.Count == 0) return Array.Empty<ContainerMetricSample>();
        var dt = MetricMath.IntervalSeconds(before, after);
        var previous = new Dictionary<string, ContainerCounters>(StringComparer.Ordinal);
        foreach (var c in before.Containers) previous[c.Id] = c;
        var list = new List<ContainerMetricSample>(after.Containers.Count);
        foreach (var c in after.Containers)
        {
            if (!previous.TryGetValue(c.Id, out var p)) continue; // started in this interval: needs two readings
            if (resolve(after.Node, c.Id) is not { } who) continue;
            double? cores = c.CpuNanoseconds is { } a && p.CpuNanoseconds is { } b && a >= b ? (a - b) / 1e9 : null;
            list.Add(new ContainerMetricSample
            {
                Node = after.Node,
                Container = who.Name.Length > 0 ? who.Name : ContainerIdentity.ShortId(c.Id),
                ContainerId = ContainerIdentity.ShortId(c.Id),
                Service = who.Service,
                System = who.System,
                Timestamp = after.ReceivedAt,
                IntervalSeconds = Math.Round(dt, 3),
                CpuPercent = cores is { } x && dt > 0 ? Math.Round(x / dt * 100, 2) : null,
                CpuCoreSeconds = cores is { } y ? Math.Round(y, 4) : null,
                MemoryMB = c.WorkingSetBytes is { } m ? Math.Round(m / 1048576.0, 1) : null,
                Sequence = after.Sequence,
            });
        }
        return list;
    }
}
