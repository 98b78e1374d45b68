using System.Diagnostics;
using System.Formats.Tar;
using System.Runtime.Versioning;
using PiBench.Core;
using PiBench.Core.Deployment;
using PiBench.Core.Topology;
using PiBench.Tests.Lab;

namespace PiBench.Benchmarks;

/// <summary>
/// Image fan-out: PiBench's distribution (save once on Pi1, load on every node in parallel, all over Docker-over-SSH)
/// to N nodes, against a single transfer to one node in the same run. Ratio ≈ 1 means the fan-out is as fast as one copy.
/// Runs a loopback lab (sshd + private dockerd per node, 127.0.8.x, needs root).
/// Usage: dotnet run -c Release --project tests/PiBench.Benchmarks -- image-fanout [--nodes 4] [--mb 64] [--rounds 3]
/// </summary>
[SupportedOSPlatform("linux")]
public static class DistributionBenchmarks
{
    public static void RegisterAll() => Program.Register("image-fanout", RunAsync);

    private static int Arg(string[] args, string name, int fallback)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length && int.TryParse(args[i + 1], out var v) ? v : fallback;
    }

    private static async Task RunAsync(string[] args)
    {
        var workers = Arg(args, "--nodes", 4);
        var mb = Arg(args, "--mb", 64);
        var rounds = Arg(args, "--rounds", 3);
        const string image = "pibench/bench-payload:1";
        using var lab = new DeployLab(workers + 1, pinned: null, net: "127.0.8");

        // A payload image: busybox plus <mb> MiB of random bytes, imported on Pi1.
        var rootfs = Path.Combine(lab.Root, "payload");
        Directory.CreateDirectory(Path.Combine(rootfs, "bin"));
        File.Copy(new[] { "/bin/busybox", "/usr/bin/busybox" }.First(File.Exists), Path.Combine(rootfs, "bin", "busybox"));
        var data = new byte[1 << 20];
        await using (var f = File.Create(Path.Combine(rootfs, "payload.bin")))
            for (var i = 0; i < mb; i++) { Random.Shared.NextBytes(data); f.Write(data); }
        var tar = Path.Combine(lab.Root, "payload.tar");
        TarFile.CreateFromDirectory(rootfs, tar, includeBaseDirectory: false);
        lab.Docker.Docker(0, $"import - {image}", tar);

        var topology = ClusterTopology.Load(lab.TopologyPath);
        await using var session = new ClusterSession(topology, ClusterSession.SettingsFrom(topology));
        var distributor = new ImageDistributor(session, NullProgress.Instance, NullLog.Instance);
        var pi1 = session.Nodes[0];
        var targets = session.Nodes.Skip(1).ToList();
        foreach (var n in session.Nodes) await session.GetDockerAsync(n, CancellationToken.None); // connect first: not part of the figures

        void Clean() { for (var i = 1; i <= workers; i++) lab.Docker.TryDocker(i, $"rmi -f {image}", out _); }
        async Task<(double Seconds, long Bytes)> Measure(IReadOnlyList<DeploymentNode> to)
        {
            Clean();
            var sw = Stopwatch.StartNew();
            var r = await distributor.DistributeAsync(pi1, image, to, CancellationToken.None);
            sw.Stop();
            if (r.Any(x => x.Result != "Loaded")) throw new InvalidOperationException(string.Join("; ", r.Select(x => $"{x.Node} {x.Result} {x.Error}")));
            return (sw.Elapsed.TotalSeconds, r.Sum(x => x.Bytes));
        }

        await Measure(targets.Take(1).ToList()); // warm-up
        var single = new List<double>();
        var fan = new List<double>();
        var seq = new List<double>();
        long bytes = 0, fanBytes = 0;
        for (var r = 0; r < rounds; r++)
        {
            var s = await Measure(targets.Take(1).ToList());
            single.Add(s.Seconds); bytes = s.Bytes;
            var f = await Measure(targets);
            fan.Add(f.Seconds); fanBytes = f.Bytes;
            Clean();
            var sw = Stopwatch.StartNew();
            foreach (var t in targets) await distributor.DistributeAsync(pi1, image, new[] { t }, CancellationToken.None); // the original: one node after another
            seq.Add(sw.Elapsed.TotalSeconds);
        }
        var skip = Stopwatch.StartNew();
        var again = await distributor.DistributeAsync(pi1, image, targets, CancellationToken.None); // every node holds it now
        skip.Stop();
        double Median(List<double> x) { x.Sort(); return x[x.Count / 2]; }
        var ms = Median(single); var mf = Median(fan); var mq = Median(seq);
        Console.WriteLine($"image {bytes / 1e6:F1} MB, {workers} target nodes, {rounds} rounds (median), Docker over SSH on loopback, {Environment.ProcessorCount} cores");
        Console.WriteLine($"single transfer (save + load on 1 node): {ms:F2} s = {bytes / 1e6 / ms:F1} MB/s");
        Console.WriteLine($"fan-out to {workers} nodes in parallel:      {mf:F2} s = {fanBytes / 1e6 / mf:F1} MB/s aggregate");
        Console.WriteLine($"one node after another ({workers} nodes):     {mq:F2} s");
        Console.WriteLine($"ratio fan-out / single: {mf / ms:F2} (ideal 1.0 when every node has its own CPU and link; {workers} = no gain)");
        Console.WriteLine($"ratio fan-out / one-after-another: {mf / mq:F2}");
        Console.WriteLine("note: in this lab every node shares the build machine's CPUs, so SSH decryption and docker load of all targets compete; on Pis each target loads on its own CPU.");
        Console.WriteLine($"re-run with every node up to date (id check only): {skip.Elapsed.TotalSeconds:F2} s, {again.Count(x => x.Result == "Skipped")}/{workers} skipped");
    }
}
