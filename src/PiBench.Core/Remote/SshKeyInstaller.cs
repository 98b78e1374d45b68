using System.Text;
using Org.BouncyCastle.Crypto.Generators;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Crypto.Utilities;
using Org.BouncyCastle.Security;
using PiBench.Core.Topology;

namespace PiBench.Core.Remote;

/// <summary>Result of installing the operator's public key on one node.</summary>
public sealed class PiSshKeyResult
{
    public string Node { get; init; } = "";
    public string Address { get; init; } = "";
    public string User { get; init; } = "";
    public string KeyPath { get; init; } = "";
    public string KeyFingerprint { get; init; } = "";
    /// <summary>True when this run appended the key; false when it was already authorized.</summary>
    public bool KeyAdded { get; init; }
    /// <summary>Number of lines in authorized_keys that hold this key afterwards (1 when correct).</summary>
    public int KeyLines { get; init; }
    /// <summary>A key login succeeded after installation.</summary>
    public bool KeyLoginVerified { get; init; }
}

/// <summary>Creates the operator's key pair if needed and installs its public half on nodes.</summary>
public static class SshKeyInstaller
{
    /// <summary>Creates an ed25519 key pair (OpenSSH format, no passphrase) at <paramref name="privateKeyPath"/> unless it exists.
    /// Returns true when a key was created.</summary>
    public static bool EnsureKeyPair(string privateKeyPath, string comment)
    {
        var path = PathUtil.ExpandHome(privateKeyPath);
        if (File.Exists(path)) 
        {
            if (!File.Exists(path + ".pub"))
                throw new PiBenchException("SshPublicKeyMissing", PiBenchErrorCategory.ObjectNotFound,
                    $"Private key '{path}' exists but its public key '{path}.pub' does not.", path,
                    $"Recreate it with 'ssh-keygen -y -f {path} > {path}.pub'.");
            return false;
        }
        var dir = Path.GetDirectoryName(Path.GetFullPath(path))!;
        if (!Directory.Exists(dir))
        {
            Directory.CreateDirectory(dir);
            if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        var gen = new Ed25519KeyPairGenerator();
        gen.Init(new Ed25519KeyGenerationParameters(new SecureRandom()));
        var pair = gen.GenerateKeyPair();
        var priv = OpenSshPrivateKeyUtilities.EncodePrivateKey(pair.Private);
        var pub = OpenSshPublicKeyUtilities.EncodePublicKey(pair.Public);
        var b64 = Convert.ToBase64String(priv);
        var pem = new StringBuilder("-----BEGIN OPENSSH PRIVATE KEY-----\n");
        for (var i = 0; i < b64.Length; i += 70) pem.Append(b64, i, Math.Min(70, b64.Length - i)).Append('\n');
        pem.Append("-----END OPENSSH PRIVATE KEY-----\n");
        File.WriteAllText(path, pem.ToString());
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.WriteAllText(path + ".pub", $"ssh-ed25519 {Convert.ToBase64String(pub)} {comment}\n");
        return true;
    }

    /// <summary>Reads "type base64 [comment]" from the .pub file next to the private key.</summary>
    public static (string Type, string Base64) ReadPublicKey(string privateKeyPath)
    {
        var pubPath = PathUtil.ExpandHome(privateKeyPath) + ".pub";
        if (!File.Exists(pubPath))
            throw new PiBenchException("SshPublicKeyMissing", PiBenchErrorCategory.ObjectNotFound,
                $"Public key '{pubPath}' does not exist.", pubPath, "Create the pair with ssh-keygen, or let Install-PiSshKey create one at a new -KeyFile path.");
        var parts = File.ReadAllText(pubPath).Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length < 2)
            throw new PiBenchException("SshPublicKeyUnreadable", PiBenchErrorCategory.InvalidData,
                $"Public key '{pubPath}' is not in OpenSSH 'type base64 comment' form.", pubPath, null);
        return (parts[0], parts[1]);
    }

    /// <summary>
    /// Logs in with the password, appends the public key to ~/.ssh/authorized_keys unless it is there (matched on
    /// type and key, not comment), fixes permissions (700/600), then proves a key login works.
    /// </summary>
    public static async Task<PiSshKeyResult> InstallAsync(SshConnectionPool pool, PiNode node, string privateKeyPath, string password,
        bool trustOnFirstUse, string? knownHostsFile, CancellationToken ct)
    {
        var (type, b64) = ReadPublicKey(privateKeyPath);
        var keyLine = $"{type} {b64} pibench@{Environment.MachineName}";
        var pwOptions = new SshOptions { Password = password, TrustOnFirstUse = trustOnFirstUse, KnownHostsFile = knownHostsFile };
        var match = $"{type} {b64}";
        var script =
            "set -e; umask 077; mkdir -p \"$HOME/.ssh\"; chmod 700 \"$HOME/.ssh\"; " +
            "f=\"$HOME/.ssh/authorized_keys\"; touch \"$f\"; chmod 600 \"$f\"; " +
            $"if grep -qF {SshConnectionPool.ShellQuote(match)} \"$f\"; then echo PRESENT; else " +
            "if [ -s \"$f\" ] && [ \"$(tail -c1 \"$f\" | od -An -c | tr -d ' ')\" != '\\n' ]; then echo >> \"$f\"; fi; " +
            $"printf '%s\\n' {SshConnectionPool.ShellQuote(keyLine)} >> \"$f\"; echo ADDED; fi; " +
            $"echo LINES=$(grep -cF {SshConnectionPool.ShellQuote(match)} \"$f\")";
        var r = await pool.RunAsync(node, script, new RemoteCommandOptions { Timeout = TimeSpan.FromSeconds(30) }, pwOptions, ct).ConfigureAwait(false);
        pool.Evict(node, pwOptions);
        if (r.ExitCode != 0)
            throw new PiBenchException("SshKeyInstallFailed", PiBenchErrorCategory.WriteError,
                $"{node.Name}: could not update ~/.ssh/authorized_keys (exit {r.ExitCode}): {r.StdErr.Trim()}", node,
                "Check the home directory's ownership and free disk space on the node.");
        var added = r.StdOut.Contains("ADDED", StringComparison.Ordinal);
        var lines = 0;
        foreach (var l in r.StdOut.Split('\n'))
            if (l.StartsWith("LINES=", StringComparison.Ordinal)) int.TryParse(l[6..], out lines);

        // Prove the key works (a fresh connection, not the pooled password one).
        var keyOptions = new SshOptions { KeyFile = privateKeyPath, KnownHostsFile = knownHostsFile };
        using (var client = await pool.OpenDedicatedAsync(node, keyOptions, ct).ConfigureAwait(false))
        {
            client.Disconnect();
        }
        return new PiSshKeyResult
        {
            Node = node.Name, Address = node.Address, User = node.User, KeyPath = PathUtil.ExpandHome(privateKeyPath),
            KeyFingerprint = KnownHostsFile.Fingerprint(Convert.FromBase64String(b64)),
            KeyAdded = added, KeyLines = lines, KeyLoginVerified = true,
        };
    }
}
