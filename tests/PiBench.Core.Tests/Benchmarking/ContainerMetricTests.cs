using System.Diagnostics;
using Xunit;
using PiBench.Core.Benchmarking;
using PiBench.Core.Topology;

namespace PiBench.Core.Tests.Benchmarking;

/// <summary>
/// Container cgroup readings written from the documented file formats (kernel Documentation/admin-guide/cgroup-v2.rst:
/// cpu.stat, memory.current, memory.stat; cgroup-v1/cpuacct.rst and memory.rst: cpuacct.usage in ns,
/// memory.usage_in_bytes, memory.stat with total_* hierarchy fields) and the lines the snapshot loop prints for them.
/// </summary>
internal static class CgroupSamples
{
    public const string IdA = "3f4e1c2b9a8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f"; // 64 hex
    public const string IdB = "b0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0c1c2c3c4c5c6c7c8c9cacbcccdcecf";
    public const string IdC = "c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00";

    public const string V2CpuStat0 =
        "usage_usec 81234567\nuser_usec 70000000\nsystem_usec 11234567\nnr_periods 0\nnr_throttled 0\nthrottled_usec 0\nnr_bursts 0\nburst_usec 0\n";
    public const string V2MemoryStat =
        "anon 104857600\nfile 52428800\nkernel 3145728\nkernel_stack 327680\npagetables 1048576\nsec_pagetables 0\npercpu 1024\nsock 0\n" +
        "vmalloc 0\nshmem 0\nzswap 0\nzswapped 0\nfile_mapped 20971520\nfile_dirty 0\nfile_writeback 0\nswapcached 0\nanon_thp 0\nfile_thp 0\n" +
        "shmem_thp 0\ninactive_anon 104857600\nactive_anon 0\ninactive_file 41943040\nactive_file 10485760\nunevictable 0\n" +
        "slab_reclaimable 1048576\nslab_unreclaimable 524288\nslab 1572864\n";

    public const string V1MemoryStat =
        "cache 8388608\nrss 2097152\nrss_huge 0\nshmem 0\nmapped_file 0\ndirty 0\nwriteback 0\npgpgin 4000\npgpgout 1000\npgfault 9000\n" +
        "pgmajfault 0\ninactive_anon 0\nactive_anon 2097152\ninactive_file 1048576\nactive_file 7340032\nunevictable 0\n" +
        "hierarchical_memory_limit 9223372036854771712\ntotal_cache 8388608\ntotal_rss 2097152\ntotal_rss_huge 0\ntotal_shmem 0\n" +
        "total_mapped_file 0\ntotal_dirty 0\ntotal_writeback 0\ntotal_pgpgin 4000\ntotal_pgpgout 1000\ntotal_pgfault 9000\ntotal_pgmajfault 0\n" +
        "total_inactive_anon 0\ntotal_active_anon 2097152\ntotal_inactive_file 6291456\ntotal_active_file 2097152\ntotal_unevictable 0\n";

    /// <summary>A Pi 4 snapshot with a container section before @@END.</summary>
    public static IEnumerable<string> Snapshot(long seq, string section, params string[] containerLines)
    {
        var node = seq == 0
            ? Pi4Samples.Snapshot(0, Pi4Samples.Stat0, Pi4Samples.NetDev0, Pi4Samples.DiskStats0, Pi4Samples.Uptime0, null, null)
            : Pi4Samples.Snapshot(seq, Pi4Samples.Stat1, Pi4Samples.NetDev1, Pi4Samples.DiskStats1, Pi4Samples.Uptime1, null, null);
        foreach (var l in node)
        {
            if (l == "@@END")
            {
                yield return "@@" + section;
                foreach (var c in containerLines) yield return c;
            }
            yield return l;
        }
    }
}

public sealed class ContainerCgroupParserTests
{
    [Fact]
    public void V2_UsageMicroseconds_BecomeNanoseconds_AndMissingReadingsAreNull()
    {
        var list = ContainerCgroups.Parse(
            $"{CgroupSamples.IdA} 81234567 157286400 41943040\n{CgroupSamples.IdB} 5 - -\nbuildkit 1 2 3\ncgroup.procs - - -\n\n", 2);
        Assert.Equal(2, list.Count);
        Assert.Equal(new ContainerCounters(CgroupSamples.IdA, 81_234_567_000, 157_286_400, 41_943_040), list[0]);
        Assert.Equal(157_286_400 - 41_943_040, list[0].WorkingSetBytes);
        Assert.Equal(5000, list[1].CpuNanoseconds);
        Assert.Null(list[1].MemoryBytes);
        Assert.Null(list[1].WorkingSetBytes);
    }

    [Fact]
    public void V1_NanosecondsStay_AndWorkingSetSubtractsInactiveFile()
    {
        var list = ContainerCgroups.Parse($"{CgroupSamples.IdC.ToUpperInvariant()} 1889164388 10485760 6291456\n", 1);
        var c = Assert.Single(list);
        Assert.Equal(CgroupSamples.IdC, c.Id); // ids are compared lower-case, as the Docker API gives them
        Assert.Equal(1_889_164_388, c.CpuNanoseconds);
        Assert.Equal(10_485_760 - 6_291_456, c.WorkingSetBytes);
    }

    [Fact]
    public void Stream_GivesOneSamplePerContainerInBothSnapshots_OnTheNodeClock()
    {
        var pairs = new List<IReadOnlyList<ContainerMetricSample>>();
        ContainerIdentity? Resolve(string node, string id) => id == CgroupSamples.IdB ? null // another daemon's
            : new ContainerIdentity(id, id == CgroupSamples.IdA ? "pibench-flink-taskmanager" : "", "flink-taskmanager", "flink");
        var stream = new NodeSnapshotStream("pi2") { OnPair = (b, a) => pairs.Add(ContainerMetricMath.Samples(b, a, Resolve)) };
        foreach (var l in CgroupSamples.Snapshot(0, ContainerCgroups.V2Section,
                     $"{CgroupSamples.IdA} 81234567 157286400 41943040", $"{CgroupSamples.IdB} 100 200 0", $"{CgroupSamples.IdC} 1000 2097152 -"))
            stream.Feed(l);
        Assert.Empty(pairs);
        Assert.Equal(3, stream.Latest!.Containers.Count);
        ClusterMetricSample? node = null;
        // one second on the node's clock (uptime): A used 0.75 core-s, C 0.002; D appears and needs a second reading.
        foreach (var l in CgroupSamples.Snapshot(1, ContainerCgroups.V2Section,
                     $"{CgroupSamples.IdA} 81984567 167772160 41943040", $"{CgroupSamples.IdB} 900100 200 0", $"{CgroupSamples.IdC} 3000 2097152 -",
                     "d00d00d00d00d00d00d00d00d00d00d00d00d00d00d00d00d00d00d00d00d00d 5 5 5"))
            node ??= stream.Feed(l);
        Assert.NotNull(node);
        var samples = Assert.Single(pairs);
        Assert.Equal(2, samples.Count);
        var a = samples.Single(s => s.ContainerId == CgroupSamples.IdA[..12]);
        Assert.Equal("pi2", a.Node);
        Assert.Equal("pibench-flink-taskmanager", a.Container);
        Assert.Equal("flink-taskmanager", a.Service);
        Assert.Equal("flink", a.System);
        Assert.Equal(1.0, a.IntervalSeconds, 6);
        Assert.Equal(0.75, a.CpuCoreSeconds!.Value, 6);
        Assert.Equal(75, a.CpuPercent!.Value, 6);
        Assert.Equal(Math.Round((167772160 - 41943040) / 1048576.0, 1), a.MemoryMB);
        Assert.Equal(node!.Timestamp, a.Timestamp);
        Assert.Equal(node.Sequence, a.Sequence);
        var c = samples.Single(s => s.ContainerId == CgroupSamples.IdC[..12]);
        Assert.Equal(CgroupSamples.IdC[..12], c.Container); // no name: the short id
        Assert.Equal(0.2, c.CpuPercent!.Value, 6);
        Assert.Equal(2.0, c.MemoryMB); // no inactive_file reading: the charged memory
    }

    [Fact]
    public void OldLoopWithoutContainerSection_GivesNoContainers()
    {
        var stream = new NodeSnapshotStream("pi1");
        foreach (var l in Pi4Samples.Snapshot(0, Pi4Samples.Stat0, Pi4Samples.NetDev0, Pi4Samples.DiskStats0, Pi4Samples.Uptime0, null, null)) stream.Feed(l);
        Assert.Empty(stream.Latest!.Containers);
        Assert.NotNull(stream.Latest.Stat);
    }

    /// <summary>Runs the real loop once (one snapshot) against a cgroup tree in a temp directory with the given shell.</summary>
    private static NodeSnapshot RunLoop(string shell, string root)
    {
        var psi = new ProcessStartInfo(shell) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (Path.GetFileName(shell) == "busybox") psi.ArgumentList.Add("sh");
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add(SnapshotProtocol.BuildCommand(0.1, 1, cgroupRoot: root));
        using var p = Process.Start(psi)!;
        var stream = new NodeSnapshotStream("local");
        while (p.StandardOutput.ReadLine() is { } line) stream.Feed(line);
        Assert.True(p.WaitForExit(10_000));
        Assert.Equal("", p.StandardError.ReadToEnd());
        return stream.Latest ?? throw new Xunit.Sdk.XunitException("no snapshot");
    }

    private static void Write(string path, string text)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
    }

    public static TheoryData<string> Shells()
    {
        var d = new TheoryData<string>();
        // sshd runs the command with the login shell: bash for the Pi's default user, dash or busybox sh elsewhere.
        foreach (var s in new[] { "/bin/sh", "/bin/dash", "/bin/bash" }.Where(File.Exists)) d.Add(s);
        if (new[] { "/bin/busybox", "/usr/bin/busybox" }.FirstOrDefault(File.Exists) is { } busybox) d.Add(busybox);
        return d;
    }

    [Theory]
    [MemberData(nameof(Shells))]
    public void Loop_ReadsCgroupV2_BothDrivers(string shell)
    {
        var root = Path.Combine(Path.GetTempPath(), $"pibench-cg2-{Guid.NewGuid():N}");
        try
        {
            Write(Path.Combine(root, "cgroup.controllers"), "cpuset cpu io memory pids\n");
            Write(Path.Combine(root, "system.slice", "docker.service", "cpu.stat"), CgroupSamples.V2CpuStat0); // the daemon itself: not a container
            var systemd = Path.Combine(root, "system.slice", $"docker-{CgroupSamples.IdA}.scope");
            Write(Path.Combine(systemd, "cpu.stat"), CgroupSamples.V2CpuStat0);
            Write(Path.Combine(systemd, "memory.current"), "157286400\n");
            Write(Path.Combine(systemd, "memory.stat"), CgroupSamples.V2MemoryStat);
            var cgroupfs = Path.Combine(root, "docker", CgroupSamples.IdB);
            Write(Path.Combine(cgroupfs, "cpu.stat"), "usage_usec 42\nuser_usec 40\nsystem_usec 2\n"); // memory controller not enabled
            Write(Path.Combine(root, "docker", "cgroup.procs"), "");

            var snap = RunLoop(shell, root);
            Assert.Equal(2, snap.Containers.Count);
            Assert.Equal(new ContainerCounters(CgroupSamples.IdA, 81_234_567_000, 157_286_400, 41_943_040), snap.Containers.Single(c => c.Id == CgroupSamples.IdA));
            Assert.Equal(new ContainerCounters(CgroupSamples.IdB, 42_000, null, null), snap.Containers.Single(c => c.Id == CgroupSamples.IdB));
            Assert.NotNull(snap.Stat); // the node part is untouched
        }
        finally { Directory.Delete(root, true); }
    }

    [Theory]
    [MemberData(nameof(Shells))]
    public void Loop_ReadsCgroupV1_BothDrivers(string shell)
    {
        var root = Path.Combine(Path.GetTempPath(), $"pibench-cg1-{Guid.NewGuid():N}");
        try
        {
            Directory.CreateDirectory(Path.Combine(root, "unified", "docker", CgroupSamples.IdC)); // hybrid: no cgroup.controllers at the root
            var cgroupfs = Path.Combine(root, "cpuacct", "docker", CgroupSamples.IdC);
            Write(Path.Combine(cgroupfs, "cpuacct.usage"), "1889164388\n");
            Write(Path.Combine(root, "memory", "docker", CgroupSamples.IdC, "memory.usage_in_bytes"), "10485760\n");
            Write(Path.Combine(root, "memory", "docker", CgroupSamples.IdC, "memory.stat"), CgroupSamples.V1MemoryStat);
            Write(Path.Combine(root, "cpuacct", "docker", "cpuacct.usage"), "999\n"); // the parent itself
            var systemd = Path.Combine(root, "cpuacct", "system.slice", $"docker-{CgroupSamples.IdA}.scope");
            Write(Path.Combine(systemd, "cpuacct.usage"), "5\n");
            Write(Path.Combine(root, "memory", "system.slice", $"docker-{CgroupSamples.IdA}.scope", "memory.usage_in_bytes"), "4096\n");

            var snap = RunLoop(shell, root);
            Assert.Equal(2, snap.Containers.Count);
            Assert.Equal(new ContainerCounters(CgroupSamples.IdC, 1_889_164_388, 10_485_760, 6_291_456), snap.Containers.Single(c => c.Id == CgroupSamples.IdC));
            Assert.Equal(new ContainerCounters(CgroupSamples.IdA, 5, 4096, null), snap.Containers.Single(c => c.Id == CgroupSamples.IdA));
        }
        finally { Directory.Delete(root, true); }
    }

    [Fact]
    public void Loop_WithoutDocker_PrintsAnEmptySection()
    {
        var root = Path.Combine(Path.GetTempPath(), $"pibench-cg0-{Guid.NewGuid():N}");
        Directory.CreateDirectory(root);
        try { Assert.Empty(RunLoop("/bin/sh", root).Containers); }
        finally { Directory.Delete(root, true); }
    }
}

public sealed class ContainerDirectoryTests
{
    private static readonly PiNode Pi1 = new() { Name = "pi1", Address = "127.0.0.1" };
    private static readonly PiNode Pi2 = new() { Name = "pi2", Address = "127.0.0.2" };

    private sealed class Log : ILogSink
    {
        public List<string> Warnings { get; } = new();
        public void Verbose(string message) { }
        public void Warning(string message) { lock (Warnings) Warnings.Add(message); }
    }

    [Fact]
    public async Task OwnContainersAreNamed_OthersDaemonsAreLeftOut_AndANewOneIsFoundByARefresh()
    {
        var pi1 = new List<ContainerIdentity> { new(CgroupSamples.IdA, "pibench-arroyo-node", "arroyo-node", "arroyo") };
        var lists = 0;
        Task<IReadOnlyList<ContainerIdentity>> List(PiNode n, CancellationToken ct)
        {
            Interlocked.Increment(ref lists);
            lock (pi1) return Task.FromResult<IReadOnlyList<ContainerIdentity>>(n.Name == "pi1" ? pi1.ToList() : new List<ContainerIdentity>());
        }
        var log = new Log();
        using var dir = await ContainerDirectory.OpenAsync(new[] { Pi1, Pi2 }, List, log, CancellationToken.None, TimeSpan.Zero);
        Assert.Equal(2, lists);
        Assert.Empty(log.Warnings);
        Assert.Equal("pibench-arroyo-node", dir.Resolve("pi1", CgroupSamples.IdA)!.Name);
        Assert.Null(dir.Resolve("pi2", CgroupSamples.IdA)); // pi1's container, seen in pi2's cgroup tree (one kernel)

        lock (pi1) pi1.Add(new ContainerIdentity(CgroupSamples.IdB, "late", "", ""));
        Assert.Null(dir.Resolve("pi1", CgroupSamples.IdB)); // unknown: left out until the refresh it starts has answered
        var deadline = DateTime.UtcNow.AddSeconds(10);
        ContainerIdentity? late = null;
        while (late is null && DateTime.UtcNow < deadline) { await Task.Delay(20); late = dir.Resolve("pi1", CgroupSamples.IdB); }
        Assert.Equal("late", late?.Name);
        // Two lists at the start, one refresh each after an unknown id; then pi2 knows IdA is foreign: no list per sample.
        while (DateTime.UtcNow < deadline && Volatile.Read(ref lists) < 4) await Task.Delay(20);
        await Task.Delay(100);
        for (var i = 0; i < 50; i++) Assert.Null(dir.Resolve("pi2", CgroupSamples.IdA));
        await Task.Delay(100);
        Assert.Equal(4, Volatile.Read(ref lists));
    }

    [Fact]
    public async Task UnreachableDaemon_OneWarning_ContainersByIdWithoutLabels()
    {
        Task<IReadOnlyList<ContainerIdentity>> List(PiNode n, CancellationToken ct) => n.Name == "pi2"
            ? Task.FromException<IReadOnlyList<ContainerIdentity>>(new IOException("docker: command not found"))
            : Task.FromResult<IReadOnlyList<ContainerIdentity>>(Array.Empty<ContainerIdentity>());
        var log = new Log();
        using var dir = await ContainerDirectory.OpenAsync(new[] { Pi1, Pi2 }, List, log, CancellationToken.None);
        var w = Assert.Single(log.Warnings);
        Assert.Contains("pi2 (docker: command not found)", w);
        Assert.DoesNotContain("pi1", w);
        Assert.Equal(new[] { "pi2" }, dir.UnreachableNodes);
        for (var i = 0; i < 5; i++) Assert.Equal(ContainerIdentity.Anonymous(CgroupSamples.IdC), dir.Resolve("pi2", CgroupSamples.IdC));
        Assert.Equal(CgroupSamples.IdC[..12], dir.Resolve("pi2", CgroupSamples.IdC)!.Name);
        Assert.Single(log.Warnings); // not per sample
    }

    [Fact]
    public async Task AHangingDaemon_IsBoundedByTheListTimeout()
    {
        static async Task<IReadOnlyList<ContainerIdentity>> Hang(PiNode n, CancellationToken ct)
        {
            await Task.Delay(Timeout.Infinite, ct);
            return Array.Empty<ContainerIdentity>();
        }
        var log = new Log();
        using var dir = await ContainerDirectory.OpenAsync(new[] { Pi1 }, Hang, log, CancellationToken.None, listTimeout: TimeSpan.FromMilliseconds(200));
        Assert.Contains("pi1 (no container list within", Assert.Single(log.Warnings));
        Assert.Equal(new[] { "pi1" }, dir.UnreachableNodes);
    }
}
