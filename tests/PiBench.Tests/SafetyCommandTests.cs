using PiBench.Tests.Harness;

namespace PiBench.Tests;

/// <summary>Invoke-Benchmark refuses bad files and folders before anything runs, and contacts only what the user named.</summary>
[Collection("module")]
public sealed class SafetyCommandTests(ModuleFixture fx) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("pibench-safety-").FullName;

    public void Dispose() { try { Directory.Delete(_dir, true); } catch (IOException) { } }

    private const string Fast = "-System Arroyo -Query q1 -Repetitions 2 -EventsPerSecond 1000 -TotalEvents 100000 -WarmupSeconds 1 -MeasureSeconds 2 -BootstrapServers 127.0.0.1:1 -EngineUri http://127.0.0.1:1/ -NoMetrics";

    /// <summary>A results document as Invoke-Benchmark writes it for the run <see cref="Fast"/> describes, q1 r1 done.</summary>
    private string PiBenchFile(string system = "Arroyo")
    {
        var path = Path.Combine(_dir, "benchmark_results_20261201_100000.json");
        File.WriteAllText(path, $$"""
            { "SchemaVersion": 1, "PiBenchVersion": "0.1.0", "System": "{{system}}", "EngineVersion": "", "Images": {}, "TopologyName": "", "TopologyPath": "",
              "BootstrapServers": "127.0.0.1:1", "GeneratorProfile": "Flink", "Seed": 0, "TargetRate": 1000, "TotalEvents": 100000, "Parallelism": 1,
              "Repetitions": 2, "WarmupSeconds": 1, "MeasureSeconds": 2, "Queries": ["q1"], "Nodes": [], "StartedAt": "2026-12-01T10:00:00+00:00",
              "State": "Stopped", "Mode": "Fixed", "Results": [ { "System": "{{system}}", "Query": "q1", "Repetition": 1, "Status": "Completed", "Valid": true } ],
              "Searches": [], "Summaries": [], "Containers": [] }
            """);
        return path;
    }

    [Fact]
    public void Resume_OfAnotherToolsJson_IsRefused_WithAnErrorId_AndTheFileIsUntouched()
    {
        var path = Path.Combine(_dir, "tsconfig.json");
        File.WriteAllText(path, "{ \"compilerOptions\": { \"strict\": true }, \"Results\": [] }\n");
        var before = File.ReadAllBytes(path);
        var r = fx.Run($"Invoke-Benchmark {Fast} -Resume $f", new Dictionary<string, object?> { ["f"] = path });
        Assert.Empty(r.Output);
        var e = Assert.Single(r.Errors);
        Assert.Equal("ResumeFileNotPiBench,PiBench.Commands.InvokeBenchmarkCommand", e.FullyQualifiedErrorId);
        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.Equal(new[] { "tsconfig.json" }, Directory.GetFiles(_dir).Select(Path.GetFileName));
    }

    [Fact]
    public void WhatIfResume_ReadsTheFile_AndRefusesAnotherRunsFile()
    {
        // -WhatIf -Resume used to print the fresh plan whatever the file held; now it checks the file like the run would.
        var path = PiBenchFile(system: "Flink");
        var before = File.ReadAllBytes(path);
        var r = fx.Run($"Invoke-Benchmark {Fast} -Resume $f -WhatIf", new Dictionary<string, object?> { ["f"] = path });
        var e = Assert.Single(r.Errors);
        Assert.Equal("ResumeMismatch,PiBench.Commands.InvokeBenchmarkCommand", e.FullyQualifiedErrorId);
        Assert.Contains("system Flink in the file, Arroyo now", e.Exception.Message);
        Assert.Equal(before, File.ReadAllBytes(path));
        // The same run's file is accepted under -WhatIf and nothing is written.
        var ok = PiBenchFile();
        var okBefore = File.ReadAllBytes(ok);
        fx.Run($"Invoke-Benchmark {Fast} -Resume $f -WhatIf", new Dictionary<string, object?> { ["f"] = ok }).AssertNoErrors();
        Assert.Equal(okBefore, File.ReadAllBytes(ok));
    }

    [Fact]
    public void UnwritableOutputDirectory_FailsBeforeAnythingRuns_WithAnErrorId()
    {
        var file = Path.Combine(_dir, "a-file");
        File.WriteAllText(file, "x");
        var r = fx.Run($"Invoke-Benchmark {Fast} -OutputDirectory $o -Confirm:$false", new Dictionary<string, object?> { ["o"] = Path.Combine(file, "results") },
            TimeSpan.FromSeconds(60));
        Assert.Empty(r.Output);
        var e = Assert.Single(r.Errors);
        Assert.Equal("OutputDirectoryNotWritable,PiBench.Commands.InvokeBenchmarkCommand", e.FullyQualifiedErrorId);
    }

    [Fact]
    public void AWrongBootstrapServer_IsNamed_WithTheCause_BeforeAnythingRuns()
    {
        var l = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        l.Start();
        var port = ((System.Net.IPEndPoint)l.LocalEndpoint).Port;
        l.Stop(); // nothing listens there now
        var r = fx.Run($"Invoke-Benchmark -System Arroyo -Query q1 -Repetitions 1 -BootstrapServers 127.0.0.1:{port} -EngineUri http://127.0.0.1:1/ -NoMetrics -OutputDirectory $o -Confirm:$false",
            new Dictionary<string, object?> { ["o"] = _dir }, TimeSpan.FromSeconds(60));
        Assert.Empty(r.Output);
        var e = Assert.Single(r.Errors);
        Assert.Equal("KafkaUnreachable,PiBench.Commands.InvokeBenchmarkCommand", e.FullyQualifiedErrorId);
        Assert.Contains($"127.0.0.1:{port}", e.Exception.Message);
        Assert.Contains("connection refused", e.Exception.Message);
        Assert.DoesNotContain("Timed out", e.Exception.Message);
        Assert.Empty(Directory.GetFiles(_dir)); // no results file for a run that never started
    }

    [Fact]
    public void BootstrapServersWithoutTopology_ReadsNoTopology_AndThePlanSaysWhereItsNodesCameFrom()
    {
        // The shipped topology (pi1 = 192.168.2.70 and nine workers) must not be used: no node sampled, and the engine
        // is looked for on the named host. The run stops right after the plan (unwritable folder), so nothing is contacted.
        var file = Path.Combine(_dir, "a-file");
        File.WriteAllText(file, "x");
        var r = fx.Run("Invoke-Benchmark -System Arroyo -Query q1 -Repetitions 1 -BootstrapServers 127.0.0.1:1 -OutputDirectory $o -Verbose -Confirm:$false",
            new Dictionary<string, object?> { ["o"] = Path.Combine(file, "results") }, TimeSpan.FromSeconds(60));
        var plan = Assert.Single(r.Verbose, v => v.Contains("Run the benchmark", StringComparison.Ordinal));
        Assert.Contains("Nodes: no nodes: no -Topology given", plan);
        Assert.Contains("0 node(s) sampled", plan);
        Assert.DoesNotContain("192.168.", plan);
        Assert.Contains("parallelism 1", plan);
    }
}

/// <summary>Get-PiTopology never shows the MinIO secret key; it hands it out as a PSCredential.</summary>
[Collection("module")]
public sealed class TopologySecretCommandTests(ModuleFixture fx)
{
    [Fact]
    public void GetPiTopology_RedactsTheSecretKey_InEveryView_AndOffersAPSCredential()
    {
        const string secret = "Very-Secret-9431";
        var path = Path.Combine(Path.GetTempPath(), $"topo-{Guid.NewGuid():N}.yaml");
        File.WriteAllText(path, $"minio:\n  access_key: bench\n  secret_key: {secret}\nnodes:\n  - {{ name: pi1, address: 127.0.0.70, role: controller }}\n  - {{ name: pi2, address: 127.0.0.71, role: worker }}\n");
        try
        {
            // The hosted runspace has no ConvertTo-Json or Format-*: walk every property PowerShell sees (what they print), four levels deep.
            var r = fx.Run("""
                function Walk($o, $d) {
                  if ($d -gt 4 -or $null -eq $o -or $o -is [string] -or $o.GetType().IsPrimitive -or $o -is [enum]) { return }
                  foreach ($p in $o.PSObject.Properties) {
                    try { $v = $p.Value } catch { continue }
                    "$($p.Name)=$v"
                    if ($v -is [System.Collections.IEnumerable] -and $v -isnot [string]) { foreach ($i in $v) { Walk $i ($d + 1) } } else { Walk $v ($d + 1) }
                  }
                }
                $t = Get-PiTopology -Path $p
                Walk $t 0
                "$($t.Minio.SecretKey)"
                $t.MinioCredential.UserName
                $t.MinioCredential.GetNetworkCredential().Password
                """, new Dictionary<string, object?> { ["p"] = path }).AssertNoErrors();
            var texts = r.Output.Select(o => o.ToString()).ToList();
            Assert.All(texts.Take(texts.Count - 1), t => Assert.DoesNotContain(secret, t));
            Assert.Contains("SecretKey=********", texts);
            Assert.Contains("MinioCredential=System.Management.Automation.PSCredential", texts);
            Assert.Equal("bench", texts[^2]);
            Assert.Equal(secret, texts[^1]); // only through the credential, on purpose
        }
        finally { File.Delete(path); }
    }
}

/// <summary>Invoke-PiCommand -TimeoutSeconds and Ctrl+C leave no process on the node (real sshd on 127.0.0.70-72).</summary>
[Collection("module")]
public sealed class RemoteStopCommandTests(ModuleFixture fx, PiBench.Tests.Lab.SshLabFixture lab) : IClassFixture<PiBench.Tests.Lab.SshLabFixture>
{
    private static string Marker() => "4" + Random.Shared.Next(100_000, 999_999).ToString(System.Globalization.CultureInfo.InvariantCulture) + "1";

    private static string Survivors(string marker) => PiBench.Tests.Lab.SshLab.Run("pgrep", $"-f \"sleep {marker}\"", check: false).Trim();

    [Fact]
    public void TimeoutSeconds_StopsTheCommandAndEveryProcessItStarted()
    {
        var marker = Marker();
        var r = fx.Run($"Invoke-PiCommand -Topology $topo -NodeName pi2 -Command \"trap '' TERM; sleep {marker} & sleep {marker}\" -TimeoutSeconds 2 -Confirm:$false",
            new Dictionary<string, object?> { ["topo"] = lab.Lab.TopologyPath }, TimeSpan.FromSeconds(60));
        var e = Assert.Single(r.Errors);
        Assert.Equal("RemoteCommandTimeout,PiBench.Commands.InvokePiCommandCommand", e.FullyQualifiedErrorId);
        Assert.Contains("were killed", e.Exception.Message);
        Assert.Equal("", Survivors(marker));
    }

    [Fact]
    public void CtrlC_StopsTheCommandAndEveryProcessItStarted()
    {
        var marker = Marker();
        using var ps = System.Management.Automation.PowerShell.Create(fx.State);
        ps.AddScript($"Invoke-PiCommand -Topology $args[0] -Command \"trap '' TERM; sleep {marker} & sleep {marker}\" -Confirm:$false").AddArgument(lab.Lab.TopologyPath);
        var run = ps.BeginInvoke();
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (Survivors(marker).Split('\n', StringSplitOptions.RemoveEmptyEntries).Length < 6 && DateTime.UtcNow < deadline) Thread.Sleep(100); // 2 sleeps on each of 3 nodes
        ps.Stop(); // what Ctrl+C does
        try { ps.EndInvoke(run); } catch (System.Management.Automation.PipelineStoppedException) { }
        var survivors = Survivors(marker);
        Assert.True(survivors == "", $"still running: {survivors.Replace('\n', ' ')}; the command's errors: " +
            string.Join(" | ", ps.Streams.Error.Select(e => e.ToString())));
    }
}
