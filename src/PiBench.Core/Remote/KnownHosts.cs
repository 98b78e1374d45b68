using System.Security.Cryptography;
using System.Text;

namespace PiBench.Core.Remote;

/// <summary>Outcome of checking a presented host key against known_hosts.</summary>
public enum HostKeyStatus
{
    /// <summary>A matching entry exists.</summary>
    Trusted,
    /// <summary>No entry for this host at all (under any key type).</summary>
    Unknown,
    /// <summary>
    /// The host is known (under any key type) and the presented key matches none of its keys: refuse, always. This
    /// includes a host known by an ed25519 key that now presents only an RSA key (a key-type downgrade).
    /// </summary>
    Mismatch,
    /// <summary>The key is marked @revoked.</summary>
    Revoked,
}

/// <summary>
/// An OpenSSH known_hosts file: plain host patterns (comma lists, <c>[host]:port</c>, <c>*</c>/<c>?</c> wildcards,
/// <c>!</c> negation) and hashed entries (<c>|1|salt|HMAC-SHA1(host)</c>); <c>@revoked</c> lines refuse a key;
/// <c>@cert-authority</c> lines are ignored (certificates are not used). New entries are appended in
/// OpenSSH's plain form. Thread-safe; the file is re-read when it changes.
/// </summary>
public sealed class KnownHostsFile
{
    private readonly object _gate = new();
    private List<Entry> _entries = new();
    private DateTime _stamp = DateTime.MinValue;
    private long _length = -1;

    public KnownHostsFile(string path) => Path = path;

    public string Path { get; }

    /// <summary>The OpenSSH host pattern for an address and port: <c>host</c> on 22, else <c>[host]:port</c>.</summary>
    public static string HostPattern(string host, int port) => port == 22 ? host : $"[{host}]:{port}";

    /// <summary>OpenSSH-style fingerprint of a key blob: <c>SHA256:</c> + unpadded base64 of its SHA-256.</summary>
    public static string Fingerprint(byte[] keyBlob) => "SHA256:" + Convert.ToBase64String(SHA256.HashData(keyBlob)).TrimEnd('=');

    public HostKeyStatus Check(string host, int port, string keyType, byte[] keyBlob)
    {
        var pattern = HostPattern(host, port);
        var key = Convert.ToBase64String(keyBlob);
        var status = HostKeyStatus.Unknown;
        var entries = Snapshot();
        // A revoked key is refused whatever else the file says.
        if (entries.Any(e => e.Marker == "@revoked" && e.Key == key && e.Matches(pattern))) return HostKeyStatus.Revoked;
        foreach (var e in entries)
        {
            if (e.Marker is not null || !e.Matches(pattern)) continue;
            if (SameFamily(e.KeyType, keyType) && e.Key == key) return HostKeyStatus.Trusted;
            // Known under this or any other key type, and this key is not one of its keys: changed or downgraded.
            status = HostKeyStatus.Mismatch;
        }
        return status;
    }

    /// <summary>The keys known for a host (every type), as "type SHA256:fingerprint", for error messages.</summary>
    public IReadOnlyList<string> KnownFingerprints(string host, int port, string? keyType = null)
    {
        var pattern = HostPattern(host, port);
        return Snapshot().Where(e => e.Marker is null && e.Matches(pattern))
            .Select(e => { try { return e.KeyType + " " + Fingerprint(Convert.FromBase64String(e.Key)); } catch (FormatException) { return e.KeyType + " (unreadable)"; } })
            .ToList();
    }

    /// <summary>
    /// The key types known for a host, in file order (ssh-rsa stands for rsa-sha2-256/512 too). The connection offers
    /// these host-key algorithms first, as OpenSSH does, so a known host is asked for the key type that is on record.
    /// </summary>
    public IReadOnlyList<string> KnownKeyTypes(string host, int port)
    {
        var pattern = HostPattern(host, port);
        return Snapshot().Where(e => e.Marker is null && e.Matches(pattern)).Select(e => Normalize(e.KeyType)).Distinct(StringComparer.Ordinal).ToList();
    }

    /// <summary>True when <paramref name="algorithm"/> (a host-key algorithm name) verifies keys of <paramref name="keyType"/>.</summary>
    public static bool AlgorithmServes(string algorithm, string keyType) => SameFamily(algorithm, keyType);

    /// <summary>Appends <c>pattern keytype base64</c> (trust on first use). Creates the file and its folder (0700/0600).</summary>
    public void Add(string host, int port, string keyType, byte[] keyBlob)
    {
        lock (_gate)
        {
            var dir = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(Path));
            if (!string.IsNullOrEmpty(dir) && !Directory.Exists(dir))
            {
                Directory.CreateDirectory(dir);
                if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            }
            var line = $"{HostPattern(host, port)} {keyType} {Convert.ToBase64String(keyBlob)}";
            var needsNewline = File.Exists(Path) && new FileInfo(Path).Length > 0 && !File.ReadAllText(Path).EndsWith('\n');
            File.AppendAllText(Path, (needsNewline ? "\n" : "") + line + "\n");
            if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(Path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            _stamp = DateTime.MinValue; // re-read
        }
    }

    private List<Entry> Snapshot()
    {
        lock (_gate)
        {
            var info = new FileInfo(Path);
            if (!info.Exists) return _entries = new List<Entry>();
            if (info.LastWriteTimeUtc == _stamp && info.Length == _length) return _entries;
            _entries = File.ReadAllLines(Path).Select(Entry.Parse).Where(e => e is not null).Select(e => e!).ToList();
            _stamp = info.LastWriteTimeUtc;
            _length = info.Length;
            return _entries;
        }
    }

    // rsa-sha2-256/512 signatures use ssh-rsa keys.
    private static bool SameFamily(string a, string b) => Normalize(a) == Normalize(b);
    private static string Normalize(string t) => t is "rsa-sha2-256" or "rsa-sha2-512" ? "ssh-rsa" : t;

    private sealed record Entry(string? Marker, string[] Patterns, string KeyType, string Key)
    {
        public static Entry? Parse(string line)
        {
            var t = line.Trim();
            if (t.Length == 0 || t.StartsWith('#')) return null;
            var parts = t.Split(new[] { ' ', '\t' }, StringSplitOptions.RemoveEmptyEntries);
            string? marker = null;
            var i = 0;
            if (parts[0].StartsWith('@')) { marker = parts[0]; i = 1; }
            if (parts.Length < i + 3) return null;
            return new Entry(marker, parts[i].Split(','), parts[i + 1], parts[i + 2]);
        }

        public bool Matches(string hostPattern)
        {
            var matched = false;
            foreach (var p in Patterns)
            {
                if (p.StartsWith("|1|", StringComparison.Ordinal))
                {
                    if (HashedMatches(p, hostPattern)) matched = true;
                    continue;
                }
                var negate = p.StartsWith('!');
                var pat = negate ? p[1..] : p;
                if (Wildcard(pat, hostPattern))
                {
                    if (negate) return false;
                    matched = true;
                }
            }
            return matched;
        }

        private static bool HashedMatches(string entry, string host)
        {
            var f = entry.Split('|'); // "", "1", salt, hash
            if (f.Length != 4) return false;
            try
            {
                var salt = Convert.FromBase64String(f[2]);
                var expected = Convert.FromBase64String(f[3]);
                using var hmac = new HMACSHA1(salt);
                return CryptographicOperations.FixedTimeEquals(hmac.ComputeHash(Encoding.ASCII.GetBytes(host)), expected);
            }
            catch (FormatException) { return false; }
        }

        private static bool Wildcard(string pattern, string text)
        {
            if (!pattern.Contains('*') && !pattern.Contains('?')) return string.Equals(pattern, text, StringComparison.OrdinalIgnoreCase);
            var rx = "^" + System.Text.RegularExpressions.Regex.Escape(pattern).Replace("\\*", ".*").Replace("\\?", ".") + "$";
            return System.Text.RegularExpressions.Regex.IsMatch(text, rx, System.Text.RegularExpressions.RegexOptions.IgnoreCase);
        }
    }
}
