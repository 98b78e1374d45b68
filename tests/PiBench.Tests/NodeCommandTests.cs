using System.Management.Automation;
using PiBench.Tests.Harness;
using PiBench.Tests.Lab;

namespace PiBench.Tests;

/// <summary>
/// SSH and node cmdlets against real sshd instances on 127.0.0.70-72, for what tests/pester/Nodes.Tests.ps1 (real pwsh)
/// does not cover: Get-PiNode | Test-PiNode and Invoke-PiCommand results and errors are tested there only.
/// </summary>
[Collection("module")]
public sealed class NodeCommandTests(ModuleFixture fx, SshLabFixture lab) : IClassFixture<SshLabFixture>
{
    private SshLab Lab => lab.Lab;

    private static PSCredential Credential(string user, string password)
    {
        var secure = new System.Security.SecureString();
        foreach (var c in password) secure.AppendChar(c);
        return new PSCredential(user, secure);
    }

    private Dictionary<string, object?> Vars(params (string, object?)[] extra)
    {
        var d = new Dictionary<string, object?> { ["topo"] = Lab.TopologyPath, ["lab"] = Lab.Root };
        foreach (var (k, v) in extra) d[k] = v;
        return d;
    }

    [Fact]
    public void InvokePiCommand_StreamsLinesToInformation_AndHonoursNodeFilter()
    {
        using var ps = PowerShell.Create(fx.State);
        ps.AddScript("Invoke-PiCommand -Topology $args[0] -NodeName pi2 -Command 'echo one; echo two'").AddArgument(Lab.TopologyPath);
        var output = ps.Invoke();
        Assert.False(ps.HadErrors);
        var result = Assert.Single(output);
        Assert.Equal("pi2", result.Properties["Node"].Value);
        var lines = ps.Streams.Information.Where(i => i.Tags.Contains("pi2")).Select(i => i.MessageData.ToString()).ToList();
        Assert.Equal(new[] { "one", "two" }, lines);
    }

    [Fact]
    public void InvokePiCommand_BindsByPropertyName_FromCsvLikeObjects_AndRsaKeys()
    {
        var r = fx.Run("""
            $rows = @(
              [pscustomobject]@{ Name = 'a'; Address = '127.0.0.71'; Port = $port; User = $user },
              [pscustomobject]@{ Name = 'b'; Address = '127.0.0.72'; Port = $port; User = $user })
            $rows | Invoke-PiCommand -Command 'id -un' -KeyFile $rsa -KnownHostsFile $kh
            """, Vars(("port", Lab.Port), ("user", Lab.User), ("rsa", Lab.RsaKeyFile), ("kh", Lab.KnownHostsFile))).AssertNoErrors();
        Assert.Equal(new[] { "a", "b" }, r.Output.Select(o => (string)o.Properties["Node"].Value).OrderBy(x => x));
        Assert.All(r.Output, o => Assert.Equal(Lab.User + "\n", o.Properties["StdOut"].Value));
    }

    [Fact]
    public void StoppedNode_FailsAlone_OthersSucceed()
    {
        using var own = new SshLab(new SshLabOptions { WorkerCount = 2 });
        own.StopNode("pi2");
        var r = fx.Run("Test-PiNode -Topology $t", new Dictionary<string, object?> { ["t"] = own.TopologyPath });
        Assert.Equal(3, r.Output.Count);
        var down = r.Output.Single(o => (string)o.Properties["Node"].Value == "pi2");
        Assert.False((bool)down.Properties["Reachable"].Value);
        Assert.All(r.Output.Where(o => o != down), o => Assert.True((bool)o.Properties["Reachable"].Value));
        var err = Assert.Single(r.Errors);
        Assert.Equal("NodeUnreachable,PiBench.Commands.TestPiNodeCommand", err.FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.ConnectionError, err.CategoryInfo.Category);
        Assert.Contains("127.0.0.71", err.Exception.Message);

        // Invoke-PiCommand: the down node gives its own error, the others their results.
        var inv = fx.Run("Invoke-PiCommand -Topology $t -Command 'echo ok'", new Dictionary<string, object?> { ["t"] = own.TopologyPath });
        Assert.Equal(2, inv.Output.Count);
        Assert.Equal("NodeUnreachable,PiBench.Commands.InvokePiCommandCommand", Assert.Single(inv.Errors).FullyQualifiedErrorId);
    }

    [Fact]
    public void ChangedHostKey_IsRefused_WithHostKeyMismatch()
    {
        // known_hosts claims another ed25519 key for pi2.
        var other = Path.Combine(Lab.Root, "other_" + Guid.NewGuid().ToString("N")[..6]);
        SshLab.Run("ssh-keygen", $"-q -t ed25519 -N \"\" -f {other}");
        var pub = File.ReadAllText(other + ".pub").Trim().Split(' ');
        var kh = Path.Combine(Lab.Root, "kh_mismatch_" + Guid.NewGuid().ToString("N")[..6]);
        var lines = File.ReadAllLines(Lab.KnownHostsFile).Where(l => !l.StartsWith("[127.0.0.71]")).ToList();
        lines.Add($"[127.0.0.71]:{Lab.Port} {pub[0]} {pub[1]}");
        File.WriteAllLines(kh, lines);
        var topo = Path.Combine(Lab.Root, "topo_mismatch.yaml");
        Lab.WriteTopology(topo, kh);

        var r = fx.Run("Invoke-PiCommand -Topology $t -Command 'echo ok' -TrustOnFirstUse", new Dictionary<string, object?> { ["t"] = topo });
        Assert.Equal(2, r.Output.Count); // pi1 and pi3 still run
        var err = Assert.Single(r.Errors);
        Assert.Equal("HostKeyMismatch,PiBench.Commands.InvokePiCommandCommand", err.FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.SecurityError, err.CategoryInfo.Category);
        Assert.Contains("CHANGED", err.Exception.Message);
        Assert.Contains("ssh-keygen -R", err.ErrorDetails.RecommendedAction);
        Assert.Equal(lines.Count, File.ReadAllLines(kh).Length); // nothing recorded
    }

    [Fact]
    public void UnknownHost_IsRefusedWithFingerprint_UnlessTrustOnFirstUse_ThenKnown()
    {
        var kh = Path.Combine(Lab.Root, "kh_empty_" + Guid.NewGuid().ToString("N")[..6]);
        var topo = Path.Combine(Lab.Root, "topo_tofu.yaml");
        Lab.WriteTopology(topo, kh);
        var fingerprint = SshLab.Run("ssh-keygen", $"-lf {Lab.HostKeyFile}.pub").Split(' ')[1];

        var refused = fx.Run("Test-PiNode -Topology $t -NodeName pi1", new Dictionary<string, object?> { ["t"] = topo });
        var err = Assert.Single(refused.Errors);
        Assert.Equal("HostKeyUnknown,PiBench.Commands.TestPiNodeCommand", err.FullyQualifiedErrorId);
        Assert.Contains(fingerprint, err.Exception.Message);
        Assert.False(File.Exists(kh));

        fx.Run("Test-PiNode -Topology $t -NodeName pi1 -TrustOnFirstUse", new Dictionary<string, object?> { ["t"] = topo }).AssertNoErrors();
        Assert.Single(File.ReadAllLines(kh));
        var again = fx.Run("Test-PiNode -Topology $t -NodeName pi1", new Dictionary<string, object?> { ["t"] = topo }).AssertNoErrors();
        Assert.True((bool)again.Output[0].Properties["Reachable"].Value);
    }

    [Fact]
    public void InstallPiSshKey_PasswordThenKey_Twice_LeavesOneKeyLine()
    {
        var key = Path.Combine(Lab.Root, "operator_" + Guid.NewGuid().ToString("N")[..6], "id_ed25519");
        var kh = Path.Combine(Lab.Root, "kh_install_" + Guid.NewGuid().ToString("N")[..6]);
        var topo = Path.Combine(Lab.Root, "topo_install.yaml");
        Lab.WriteTopology(topo, kh, key);
        var v = new Dictionary<string, object?> { ["t"] = topo, ["cred"] = Credential(Lab.User, Lab.Password) };
        const string install = """
            Install-PiSshKey -Topology $t -NodeName pi2 -Credential $cred -TrustOnFirstUse
            """;

        // The key does not work before installation.
        var before = fx.Run("Invoke-PiCommand -Topology $t -NodeName pi2 -Command true -TrustOnFirstUse", v);
        Assert.Contains(before.Errors, e => e.FullyQualifiedErrorId.StartsWith("SshKeyNotFound", StringComparison.Ordinal));

        // -WhatIf changes nothing.
        fx.Run(install + " -WhatIf", v).AssertNoErrors();
        Assert.False(File.Exists(key));

        var first = fx.Run(install, v).AssertNoErrors();
        var r1 = Assert.Single(first.Output);
        Assert.True(File.Exists(key));
        Assert.True((bool)r1.Properties["KeyAdded"].Value);
        Assert.True((bool)r1.Properties["KeyLoginVerified"].Value);
        Assert.Equal(1, (int)r1.Properties["KeyLines"].Value);

        var second = fx.Run(install, v).AssertNoErrors();
        var r2 = Assert.Single(second.Output);
        Assert.False((bool)r2.Properties["KeyAdded"].Value);
        Assert.Equal(1, (int)r2.Properties["KeyLines"].Value);

        var pub = File.ReadAllText(key + ".pub").Split(' ')[1];
        var authorized = File.ReadAllLines(Path.Combine(Lab.Home, ".ssh", "authorized_keys"));
        Assert.Single(authorized, l => l.Contains(pub, StringComparison.Ordinal));
        var mode = File.GetUnixFileMode(Path.Combine(Lab.Home, ".ssh", "authorized_keys"));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, mode);

        // Now a key login works without a password.
        var after = fx.Run("Invoke-PiCommand -Topology $t -NodeName pi2 -Command 'echo key-ok'", v).AssertNoErrors();
        Assert.Equal("key-ok\n", after.Output[0].Properties["StdOut"].Value);
    }

    [Fact]
    public void WrongPassword_GivesAuthenticationError()
    {
        var key = Path.Combine(Lab.Root, "op_bad_" + Guid.NewGuid().ToString("N")[..6], "id_ed25519");
        var r = fx.Run("""
            Install-PiSshKey -Topology $t -NodeName pi1 -Credential $cred -KeyFile $k -KnownHostsFile $kh
            """, new Dictionary<string, object?> { ["t"] = Lab.TopologyPath, ["cred"] = Credential(Lab.User, "wrong"), ["k"] = key, ["kh"] = Lab.KnownHostsFile });
        var err = Assert.Single(r.Errors);
        Assert.Equal("SshAuthenticationFailed,PiBench.Commands.InstallPiSshKeyCommand", err.FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.AuthenticationError, err.CategoryInfo.Category);
    }

    [Fact]
    public void ConnectionsArePooled_AcrossCommands()
    {
        // Two commands in a row reuse the pooled connection: sshd logs one accepted login for the second run at most.
        var log = Path.Combine(Lab.Root, "run", "sshd-pi1.log");
        fx.Run("Invoke-PiCommand -Topology $topo -NodeName pi1 -Command true", Vars()).AssertNoErrors();
        var count = File.ReadAllText(log).Split('\n').Count(l => l.Contains("Accepted publickey", StringComparison.Ordinal));
        fx.Run("Invoke-PiCommand -Topology $topo -NodeName pi1 -Command true; Invoke-PiCommand -Topology $topo -NodeName pi1 -Command true", Vars()).AssertNoErrors();
        var after = File.ReadAllText(log).Split('\n').Count(l => l.Contains("Accepted publickey", StringComparison.Ordinal));
        Assert.Equal(count, after);
    }

    [Fact]
    public async Task CtrlC_StopsLongCommandsOnAllNodes_Promptly()
    {
        using var ps = PowerShell.Create(fx.State);
        ps.AddScript("Invoke-PiCommand -Topology $args[0] -Command 'sleep 60; echo never'").AddArgument(Lab.TopologyPath);
        var invocation = ps.InvokeAsync();
        await Task.Delay(1500);
        var sw = System.Diagnostics.Stopwatch.StartNew();
        await ps.StopAsync(null, null);
        await Assert.ThrowsAnyAsync<Exception>(async () => await invocation);
        Assert.Equal(PSInvocationState.Stopped, ps.InvocationStateInfo.State);
        // The remote sleeps are gone: no 'sleep 60' of the lab user survives the stop.
        await Task.Delay(500);
        var left = SshLab.Run("pgrep", $"-u {Lab.User} -f \"sleep 60\"", check: false).Trim();
        Assert.True(left.Length == 0, $"remote processes left after stop: {left}");
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(30), "stop did not end the command long before the 60 s sleep");
    }
}
