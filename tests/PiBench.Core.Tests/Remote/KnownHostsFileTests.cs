using System.Security.Cryptography;
using System.Text;
using PiBench.Core.Remote;
using PiBench.Core.Topology;
using Xunit;

namespace PiBench.Core.Tests.Remote;

public sealed class KnownHostsFileTests : IDisposable
{
    private readonly string _path = Path.Combine(Path.GetTempPath(), "kh-" + Guid.NewGuid().ToString("N"));
    private static readonly byte[] KeyA = Enumerable.Range(1, 51).Select(i => (byte)i).ToArray();
    private static readonly byte[] KeyB = Enumerable.Range(2, 51).Select(i => (byte)i).ToArray();

    public void Dispose() { if (File.Exists(_path)) File.Delete(_path); }

    private static string Hashed(string host)
    {
        var salt = RandomNumberGenerator.GetBytes(20);
        using var h = new HMACSHA1(salt);
        return $"|1|{Convert.ToBase64String(salt)}|{Convert.ToBase64String(h.ComputeHash(Encoding.ASCII.GetBytes(host)))}";
    }

    [Fact]
    public void PlainEntry_WithPort_IsTrusted_OtherKeyIsMismatch_OtherHostUnknown()
    {
        File.WriteAllText(_path, $"# comment\n[10.0.0.5]:2222,pi5 ssh-ed25519 {Convert.ToBase64String(KeyA)} c\n");
        var kh = new KnownHostsFile(_path);
        Assert.Equal(HostKeyStatus.Trusted, kh.Check("10.0.0.5", 2222, "ssh-ed25519", KeyA));
        Assert.Equal(HostKeyStatus.Mismatch, kh.Check("10.0.0.5", 2222, "ssh-ed25519", KeyB));
        Assert.Equal(HostKeyStatus.Unknown, kh.Check("10.0.0.5", 22, "ssh-ed25519", KeyA));
        // Known as ed25519, now presenting RSA: a downgrade is a mismatch, never "unknown" (which TOFU would accept).
        Assert.Equal(HostKeyStatus.Mismatch, kh.Check("10.0.0.5", 2222, "ssh-rsa", KeyB));
        Assert.Equal(HostKeyStatus.Mismatch, kh.Check("10.0.0.5", 2222, "rsa-sha2-512", KeyB));
    }

    [Fact]
    public void HostKnownUnderAnotherKeyType_IsAMismatch_AndItsKnownTypesComeFirst()
    {
        File.WriteAllText(_path,
            $"[127.0.0.71]:2222 ssh-ed25519 {Convert.ToBase64String(KeyA)}\n[127.0.0.72]:2222 ssh-rsa {Convert.ToBase64String(KeyB)}\n[127.0.0.72]:2222 ssh-ed25519 {Convert.ToBase64String(KeyA)}\n");
        var kh = new KnownHostsFile(_path);
        Assert.Equal(HostKeyStatus.Mismatch, kh.Check("127.0.0.71", 2222, "ssh-rsa", KeyB));
        Assert.Equal(HostKeyStatus.Mismatch, kh.Check("127.0.0.71", 2222, "ecdsa-sha2-nistp256", KeyA)); // even the same bytes under another type
        Assert.Equal(HostKeyStatus.Trusted, kh.Check("127.0.0.72", 2222, "rsa-sha2-256", KeyB));
        Assert.Equal(HostKeyStatus.Unknown, kh.Check("127.0.0.73", 2222, "ssh-rsa", KeyB));
        Assert.Equal(new[] { "ssh-ed25519" }, kh.KnownKeyTypes("127.0.0.71", 2222));
        Assert.Equal(new[] { "ssh-rsa", "ssh-ed25519" }, kh.KnownKeyTypes("127.0.0.72", 2222));
        Assert.Contains(kh.KnownFingerprints("127.0.0.71", 2222), f => f.StartsWith("ssh-ed25519 SHA256:", StringComparison.Ordinal));
        Assert.True(KnownHostsFile.AlgorithmServes("rsa-sha2-512", "ssh-rsa"));
        Assert.False(KnownHostsFile.AlgorithmServes("ssh-ed25519", "ssh-rsa"));
    }

    [Fact]
    public void HashedEntries_Match_OnPort22AndOtherPorts()
    {
        File.WriteAllText(_path,
            $"{Hashed("192.168.2.71")} ssh-ed25519 {Convert.ToBase64String(KeyA)}\n{Hashed("[192.168.2.72]:2200")} ssh-ed25519 {Convert.ToBase64String(KeyB)}\n");
        var kh = new KnownHostsFile(_path);
        Assert.Equal(HostKeyStatus.Trusted, kh.Check("192.168.2.71", 22, "ssh-ed25519", KeyA));
        Assert.Equal(HostKeyStatus.Mismatch, kh.Check("192.168.2.71", 22, "ssh-ed25519", KeyB));
        Assert.Equal(HostKeyStatus.Trusted, kh.Check("192.168.2.72", 2200, "ssh-ed25519", KeyB));
        Assert.Equal(HostKeyStatus.Unknown, kh.Check("192.168.2.73", 22, "ssh-ed25519", KeyA));
    }

    [Fact]
    public void Wildcards_Negation_Revoked_AndRsaSignatureNames()
    {
        File.WriteAllText(_path,
            $"192.168.2.*,!192.168.2.79 ssh-rsa {Convert.ToBase64String(KeyA)}\n@revoked * ssh-ed25519 {Convert.ToBase64String(KeyB)}\n");
        var kh = new KnownHostsFile(_path);
        Assert.Equal(HostKeyStatus.Trusted, kh.Check("192.168.2.70", 22, "rsa-sha2-512", KeyA));
        Assert.Equal(HostKeyStatus.Unknown, kh.Check("192.168.2.79", 22, "ssh-rsa", KeyA));
        Assert.Equal(HostKeyStatus.Revoked, kh.Check("anything", 22, "ssh-ed25519", KeyB));
    }

    [Fact]
    public void Add_AppendsOpenSshLine_AndIsReadBack()
    {
        var kh = new KnownHostsFile(_path);
        kh.Add("127.0.0.70", 2222, "ssh-ed25519", KeyA);
        Assert.Equal($"[127.0.0.70]:2222 ssh-ed25519 {Convert.ToBase64String(KeyA)}\n", File.ReadAllText(_path));
        Assert.Equal(HostKeyStatus.Trusted, kh.Check("127.0.0.70", 2222, "ssh-ed25519", KeyA));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(_path));
    }

    [Fact]
    public void Fingerprint_IsOpenSshStyle()
    {
        Assert.StartsWith("SHA256:", KnownHostsFile.Fingerprint(KeyA));
        Assert.DoesNotContain("=", KnownHostsFile.Fingerprint(KeyA));
    }

    [Theory]
    [InlineData("throttled=0x0", false, false, "0x0")]
    [InlineData("throttled=0x50005", true, true, "0x50005")]
    [InlineData("throttled=0x50000", false, true, "0x50000")]
    [InlineData("throttled=0x4", true, false, "0x4")]
    public void ThrottledFlags_AreDecoded(string text, bool now, bool sinceBoot, string flags)
    {
        var t = ThrottleState.Parse(text);
        Assert.NotNull(t);
        Assert.Equal((now, sinceBoot, flags), (t!.Value.AnyNow, t.Value.AnySinceBoot, t.Value.Flags));
        Assert.Null(ThrottleState.Parse(""));
    }

    [Fact]
    public void GeneratedKeyPair_IsReadableOpenSsh()
    {
        var dir = Directory.CreateTempSubdirectory("pibench-key-").FullName;
        try
        {
            var key = Path.Combine(dir, "sub", "id_ed25519");
            Assert.True(SshKeyInstaller.EnsureKeyPair(key, "test"));
            Assert.False(SshKeyInstaller.EnsureKeyPair(key, "test"));
            using var parsed = new Renci.SshNet.PrivateKeyFile(key);
            Assert.Equal("ssh-ed25519", SshKeyInstaller.ReadPublicKey(key).Type);
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(key));
        }
        finally { Directory.Delete(dir, true); }
    }
}
