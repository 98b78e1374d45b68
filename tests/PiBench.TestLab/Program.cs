using System.Runtime.InteropServices;
using System.Text.Json;
using PiBench.Core.Tests.Benchmarking;
using PiBench.Tests.Lab;

[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]

// Starts the requested loopback labs and stand-ins, prints one line "PIBENCH-TESTLAB {json}" describing them, and
// keeps them up until standard input closes (or SIGTERM/SIGINT); then stops every daemon by its PID and removes the
// lab's user and folders. Used by tests/pester/TestLab.ps1. Everything listens on 127.0.0.0/8 only.
//
//   --ssh [--workers N] [--throttled NODE]   an SshLab (sshd per node on 127.0.0.70..; NODE gets a fake vcgencmd
//                                            reporting throttling, as in the xunit SshLabFixture)
//   --deploy [--nodes N]                     a DeployLab (sshd + private dockerd per node on 127.0.7.10..; stand-in
//                                            images tagged with the staged module's pinned names on the controller)
//   --consuming-arroyo BOOTSTRAP [--delay-ms N]  the Arroyo stand-in that consumes its input topic and writes results
//   --module DIR                             the staged module (default: out/PiBench above this program)

var opts = Args.Parse(args);
var disposables = new List<IDisposable>();
var info = new Dictionary<string, object>();
var stopped = new ManualResetEventSlim();
void StopAll()
{
    lock (disposables)
    {
        for (var i = disposables.Count - 1; i >= 0; i--)
        {
            try { disposables[i].Dispose(); } catch (Exception ex) { Console.Error.WriteLine($"teardown: {ex.Message}"); }
        }
        disposables.Clear();
    }
}
using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stopped.Set(); });
using var intr = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stopped.Set(); });
try
{
    if (opts.Ssh)
    {
        var throttled = opts.Throttled;
        var lab = new SshLab(new SshLabOptions
        {
            WorkerCount = opts.Workers,
            PrepareNode = (name, dir) =>
            {
                if (name != throttled) return;
                var bin = Path.Combine(dir, "bin");
                Directory.CreateDirectory(bin);
                var fake = Path.Combine(bin, "vcgencmd");
                File.WriteAllText(fake, "#!/bin/sh\n# stand-in for the Raspberry Pi firmware tool\ncase \"$1\" in\n  get_throttled) echo throttled=0x50005 ;;\n  measure_temp) echo temp=71.5\\'C ;;\n  *) exit 1 ;;\nesac\n");
                SshLab.Run("chmod", $"755 {bin} {fake}");
            },
            ExtraConfig = (name, dir) => name == throttled
                ? new[] { $"SetEnv PATH={Path.Combine(dir, "bin")}:/usr/local/bin:/usr/bin:/bin" }
                : Array.Empty<string>(),
        });
        disposables.Add(lab);
        info["Ssh"] = new
        {
            lab.TopologyPath, lab.KnownHostsFile, lab.KeyFile, lab.RsaKeyFile, lab.HostKeyFile, lab.User, lab.Password, lab.Port, lab.Root,
            Nodes = lab.Nodes.Select(n => new { n.Name, n.Address, n.Role }).ToList(),
        };
    }
    if (opts.Deploy)
    {
        var core = Path.Combine(opts.ModuleDir, "dependencies", "PiBench.Core.dll");
        if (!File.Exists(core)) throw new FileNotFoundException($"{core} is missing: build the solution first (dotnet build PiBench.sln).");
        var lab = new DeployLab(opts.Nodes, DockerLab.ReadPinnedImages(core));
        disposables.Add(lab);
        info["Deploy"] = new
        {
            lab.TopologyPath, lab.KeyPath, lab.KnownHostsPath, lab.User, lab.Root, Nodes = lab.Nodes.Select(n => new { n.Name, n.Address }).ToList(),
            DockerSockets = Enumerable.Range(0, lab.NodeCount).Select(lab.Docker.SocketOf).ToList(),
        };
    }
    if (opts.ConsumingArroyo is { } bootstrap)
    {
        var engine = new ConsumingEngineStandIn(bootstrap) { AddedDelayMs = opts.DelayMs };
        disposables.Add(engine);
        info["Arroyo"] = new { ApiUri = engine.Engine.ApiUri.ToString(), AdminUri = engine.Engine.AdminUri.ToString(), Port = engine.Engine.ApiUri.Port, AdminPort = engine.Engine.AdminUri.Port };
    }
}
catch (Exception ex)
{
    Console.Error.WriteLine($"PIBENCH-TESTLAB-ERROR {ex}");
    StopAll();
    return 1;
}

Console.Out.WriteLine("PIBENCH-TESTLAB " + JsonSerializer.Serialize(info));
Console.Out.Flush();
// Up until stdin closes (the test session ended or died) or a signal arrives.
var stdin = new Thread(() => { try { Console.In.ReadToEnd(); } catch (IOException) { } stopped.Set(); }) { IsBackground = true };
stdin.Start();
stopped.Wait();
StopAll();
return 0;

internal sealed record Args(bool Ssh, int Workers, string? Throttled, bool Deploy, int Nodes, string? ConsumingArroyo, int DelayMs, string ModuleDir)
{
    public static Args Parse(string[] a)
    {
        bool ssh = false, deploy = false;
        int workers = 2, nodes = 3, delay = 0;
        string? throttled = null, arroyo = null, module = null;
        for (var i = 0; i < a.Length; i++)
        {
            string Next() => i + 1 < a.Length ? a[++i] : throw new ArgumentException($"{a[i]} needs a value");
            switch (a[i])
            {
                case "--ssh": ssh = true; break;
                case "--workers": workers = int.Parse(Next()); break;
                case "--throttled": throttled = Next(); break;
                case "--deploy": deploy = true; break;
                case "--nodes": nodes = int.Parse(Next()); break;
                case "--consuming-arroyo": arroyo = Next(); break;
                case "--delay-ms": delay = int.Parse(Next()); break;
                case "--module": module = Next(); break;
                default: throw new ArgumentException($"unknown argument {a[i]}");
            }
        }
        return new Args(ssh, workers, throttled, deploy, nodes, arroyo, delay, module ?? FindModule());
    }

    private static string FindModule()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "out", "PiBench");
            if (File.Exists(Path.Combine(candidate, "PiBench.psd1"))) return candidate;
        }
        return Path.Combine(AppContext.BaseDirectory, "out", "PiBench");
    }
}
