using System.Diagnostics;
using System.Formats.Tar;
using System.Reflection;
using System.Runtime.Loader;

namespace PiBench.Tests.Lab;

/// <summary>
/// One private dockerd per simulated Pi (own data root, exec root, pid file and socket; no bridge, no iptables),
/// plus tiny stand-in images made by <c>docker import</c> of a busybox-static root file system, tagged with the
/// exact image references the product pins (read from the staged PiBench.Core.dll), each serving just enough HTTP
/// for the readiness checks (scripts in Lab/standin). Every daemon is stopped by its PID on dispose.
/// Needs root, dockerd 20.10+, a docker CLI and busybox-static.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class DockerLab : IDisposable
{
    private readonly List<Process> _daemons = new();
    private readonly List<string> _sockets = new();
    private string? _standInTar;

    /// <summary>Extra files (path in the stand-in image → content) added when the stand-in tar is built.</summary>
    public Dictionary<string, string> ExtraStandInFiles { get; } = new(StringComparer.Ordinal);

    public DockerLab(string root, int nodes, string socketGroup)
    {
        Root = root;
        Directory.CreateDirectory(root);
        for (var i = 0; i < nodes; i++)
        {
            var dir = Path.Combine(root, $"docker{i + 1}");
            Directory.CreateDirectory(dir);
            _sockets.Add(Path.Combine(dir, "docker.sock"));
        }
        SocketGroup = socketGroup;
    }

    public string Root { get; }
    public string SocketGroup { get; }
    public int Count => _sockets.Count;
    public string SocketOf(int index) => _sockets[index];
    public IReadOnlyList<int> DaemonPids => _daemons.Select(p => p.Id).ToList();

    /// <summary>The sshd_config line that makes node <paramref name="index"/>'s <c>docker</c> reach its own daemon.</summary>
    public string SshdConfigLine(int index) => $"SetEnv DOCKER_HOST=unix://{SocketOf(index)}";

    public static string DockerCli => File.Exists("/usr/local/bin/docker") ? "/usr/local/bin/docker" : "docker";

    /// <summary>Starts every daemon in parallel and waits (bounded) until each answers.</summary>
    public void Start()
    {
        for (var i = 0; i < _sockets.Count; i++)
        {
            var dir = Path.GetDirectoryName(_sockets[i])!;
            var args = $"--host unix://{_sockets[i]} --data-root {dir}/data --exec-root {dir}/exec --pidfile {dir}/dockerd.pid " +
                       $"--group {SocketGroup} --bridge none --iptables=false --ip-masq=false --log-level warn" +
                       (Environment.GetEnvironmentVariable("PIBENCH_LAB_STORAGE_DRIVER") is { Length: > 0 } sd ? $" --storage-driver {sd}" : "");
            // exec: the Process id is dockerd's own PID, so teardown kills exactly this daemon.
            var psi = new ProcessStartInfo("/bin/sh", new[] { "-c", $"exec dockerd {args} > {dir}/dockerd.log 2>&1" }) { UseShellExecute = false };
            _daemons.Add(Process.Start(psi) ?? throw new InvalidOperationException("dockerd did not start"));
        }
        var deadline = DateTime.UtcNow.AddSeconds(60);
        for (var i = 0; i < _sockets.Count; i++)
        {
            while (true)
            {
                if (_daemons[i].HasExited)
                    throw new InvalidOperationException($"dockerd {i + 1} exited: {File.ReadAllText(Path.Combine(Path.GetDirectoryName(_sockets[i])!, "dockerd.log"))}");
                if (File.Exists(_sockets[i]) && TryDocker(i, "version --format {{.Server.Version}}", out _)) break;
                if (DateTime.UtcNow > deadline) throw new TimeoutException($"dockerd {i + 1} did not answer within 60 s");
                Thread.Sleep(200);
            }
        }
    }

    /// <summary>Runs the docker CLI against node <paramref name="index"/>; throws with stderr on failure.</summary>
    public string Docker(int index, string args, string? stdinFile = null)
    {
        if (!TryDocker(index, args, out var output, stdinFile)) throw new InvalidOperationException($"docker {args} on node {index + 1}: {output}");
        return output;
    }

    public bool TryDocker(int index, string args, out string output, string? stdinFile = null) =>
        Run("/bin/sh", new[] { "-c", $"{DockerCli} -H unix://{_sockets[index]} {args}" + (stdinFile is null ? "" : $" < '{stdinFile}'") }, out output);

    private static bool Run(string file, string[] args, out string output)
    {
        var psi = new ProcessStartInfo(file, args) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(120_000))
        {
            p.Kill(entireProcessTree: true);
            output = "timed out";
            return false;
        }
        output = stdout.Result.Trim() + (p.ExitCode != 0 ? "\n" + stderr.Result.Trim() : "");
        return p.ExitCode == 0;
    }

    // ------------------------------------------------------------------ stand-in images

    /// <summary>The image references PiBench pins, read from the staged engine assembly (so tests use the product's names).</summary>
    public static PinnedNames ReadPinnedImages(string coreDll)
    {
        var alc = new AssemblyLoadContext("pinned-images-probe", isCollectible: true);
        try
        {
            var asm = alc.LoadFromAssemblyPath(coreDll);
            var type = asm.GetType("PiBench.Core.Deployment.PinnedImages", throwOnError: true)!;
            var def = type.GetProperty("Default", BindingFlags.Public | BindingFlags.Static)!.GetValue(null)!;
            string P(string name) => (string)type.GetProperty(name)!.GetValue(def)!;
            return new PinnedNames(P("Kafka"), P("Minio"), P("Arroyo"), P("Flink"));
        }
        finally
        {
            alc.Unload();
        }
    }

    public sealed record PinnedNames(string Kafka, string Minio, string Arroyo, string Flink)
    {
        public IEnumerable<(string Image, string Role)> WithRoles => new[] { (Kafka, "kafka"), (Minio, "minio"), (Arroyo, "arroyo"), (Flink, "flink") };
    }

    /// <summary>Builds the busybox root file system with the stand-in scripts and returns it as a tar file.</summary>
    public string StandInTar()
    {
        if (_standInTar is not null) return _standInTar;
        var rootfs = Path.Combine(Root, "standin-rootfs");
        foreach (var d in new[] { "bin", "tmp", "standin", "opt/kafka/bin", "usr/bin", "data", "var/lib/kafka/data" })
            Directory.CreateDirectory(Path.Combine(rootfs, d));
        var busybox = new[] { "/bin/busybox", "/usr/bin/busybox" }.First(File.Exists);
        File.Copy(busybox, Path.Combine(rootfs, "bin", "busybox"), overwrite: true);
        File.SetUnixFileMode(Path.Combine(rootfs, "bin", "busybox"), (UnixFileMode)0b111_101_101);
        Run(busybox, new[] { "--list" }, out var applets);
        foreach (var applet in applets.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            if (applet != "busybox" && !File.Exists(Path.Combine(rootfs, "bin", applet)))
                File.CreateSymbolicLink(Path.Combine(rootfs, "bin", applet), "busybox");
        var scripts = Path.Combine(AppContext.BaseDirectory, "Lab", "standin");
        foreach (var f in Directory.GetFiles(scripts))
        {
            var dest = Path.Combine(rootfs, "standin", Path.GetFileName(f));
            File.Copy(f, dest, overwrite: true);
            File.SetUnixFileMode(dest, (UnixFileMode)0b111_101_101);
        }
        File.CreateSymbolicLink(Path.Combine(rootfs, "opt/kafka/bin/kafka-topics.sh"), "/standin/kafka-topics.sh");
        File.CreateSymbolicLink(Path.Combine(rootfs, "usr/bin/mc"), "/standin/mc");
        // The 1.18.1 image's optional jars in $FLINK_HOME/opt (ENABLE_BUILT_IN_PLUGINS links them into plugins/).
        Directory.CreateDirectory(Path.Combine(rootfs, "opt/flink/opt"));
        File.WriteAllText(Path.Combine(rootfs, "opt/flink/opt/flink-s3-fs-presto-1.18.1.jar"), "");
        File.WriteAllText(Path.Combine(rootfs, "opt/flink/opt/flink-s3-fs-hadoop-1.18.1.jar"), "");
        foreach (var (path, content) in ExtraStandInFiles)
        {
            var dest = Path.Combine(rootfs, path.TrimStart('/'));
            Directory.CreateDirectory(Path.GetDirectoryName(dest)!);
            File.WriteAllText(dest, content);
        }
        File.SetUnixFileMode(Path.Combine(rootfs, "tmp"), (UnixFileMode)0b1_111_111_111);
        var tar = Path.Combine(Root, "standin-rootfs.tar");
        TarFile.CreateFromDirectory(rootfs, tar, includeBaseDirectory: false);
        return _standInTar = tar;
    }

    /// <summary>Imports every stand-in, tagged with the pinned names, into node <paramref name="index"/>.</summary>
    public void ImportStandIns(int index, PinnedNames names)
    {
        var tar = StandInTar();
        foreach (var (image, role) in names.WithRoles)
            Docker(index, $"import --change 'ENV PATH=/usr/bin:/bin' --change 'ENTRYPOINT [\"/standin/{role}\"]' " +
                          // apache/kafka 3.7.1 declares these volumes (docker/docker_official_images/3.7.1/jvm/Dockerfile)
                          (role == "kafka" ? "--change 'VOLUME [\"/etc/kafka/secrets\", \"/var/lib/kafka/data\", \"/mnt/shared/config\"]' " : "") +
                          $"--change 'LABEL pibench.test=standin' - {image}", tar);
    }

    /// <summary>Copies an image from one node to another with save/load (same image id, like PiBench's distribution).</summary>
    public void CopyImage(int from, int to, string image)
    {
        var file = Path.Combine(Root, $"copy-{Guid.NewGuid():N}.tar");
        try
        {
            Docker(from, $"save -o '{file}' {image}");
            Docker(to, "load -q", file);
        }
        finally
        {
            File.Delete(file);
        }
    }

    public string? ImageId(int index, string image) =>
        TryDocker(index, $"image inspect --format '{{{{.Id}}}}' {image}", out var id) ? id : null;

    /// <summary>Removes every container and PiBench volume on a node, and optionally every image.</summary>
    public void Reset(int index, bool images)
    {
        if (TryDocker(index, "ps -aq", out var ids) && ids.Length > 0) TryDocker(index, "rm -f " + string.Join(' ', ids.Split('\n')), out _);
        if (TryDocker(index, "volume ls -q", out var vols) && vols.Length > 0) TryDocker(index, "volume rm -f " + string.Join(' ', vols.Split('\n')), out _);
        if (images && TryDocker(index, "images -q", out var imgs) && imgs.Length > 0)
            TryDocker(index, "rmi -f " + string.Join(' ', imgs.Split('\n').Distinct()), out _);
    }

    public void Dispose()
    {
        for (var i = 0; i < _daemons.Count; i++)
        {
            var p = _daemons[i];
            if (!p.HasExited)
            {
                TryDocker(i, "ps -aq", out var ids);
                if (ids.Length > 0 && !ids.Contains("Cannot connect")) TryDocker(i, "rm -f " + string.Join(' ', ids.Split('\n')), out _);
            }
        }
        foreach (var p in _daemons)
        {
            try
            {
                if (!p.HasExited)
                {
                    Process.Start("kill", new[] { "-TERM", p.Id.ToString() })?.WaitForExit(5000);
                    if (!p.WaitForExit(15_000)) p.Kill();
                }
                p.WaitForExit(5000);
            }
            catch (InvalidOperationException) { }
            p.Dispose();
        }
        _daemons.Clear();
        // dockerd leaves its exec-root/netns/default (nsfs) mounted; without this the directory cannot be deleted.
        try
        {
            foreach (var mount in File.ReadAllLines("/proc/mounts").Select(l => l.Split(' ')[1]).Where(m => m.StartsWith(Root + "/", StringComparison.Ordinal)).Reverse())
                Run("umount", new[] { "-l", mount }, out _);
        }
        catch (IOException) { }
        try { Directory.Delete(Root, recursive: true); } catch (Exception) { /* leftovers in a temp dir */ }
    }
}
