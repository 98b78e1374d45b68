using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Sockets;
using PiBench.Core.Topology;
using Renci.SshNet;
using Renci.SshNet.Common;

namespace PiBench.Core.Remote;

/// <summary>How to authenticate and verify one SSH connection.</summary>
public sealed class SshOptions
{
    /// <summary>Private key file; null = the node's KeyPath.</summary>
    public string? KeyFile { get; init; }
    /// <summary>Passphrase of the private key, if it has one.</summary>
    public string? Passphrase { get; init; }
    /// <summary>Password login instead of a key (Install-PiSshKey's first contact).</summary>
    public string? Password { get; init; }
    /// <summary>known_hosts file; null = the node's KnownHostsPath.</summary>
    public string? KnownHostsFile { get; init; }
    /// <summary>Record the key of a host that known_hosts does not know yet. A changed key is refused regardless.</summary>
    public bool TrustOnFirstUse { get; init; }
    /// <summary>Limit for the TCP connect and each handshake step; null = the node's (topology ssh.connect_timeout_seconds).</summary>
    public TimeSpan? ConnectTimeout { get; init; }
    /// <summary>Channels opened at once on one connection; null = the node's (topology ssh.max_sessions). Stay below the server's MaxSessions, 10 by default.</summary>
    public int? MaxSessions { get; init; }

    public static SshOptions Default { get; } = new();
}

/// <summary>The result of one remote command, one per node.</summary>
public sealed class RemoteCommandResult
{
    public string Node { get; init; } = "";
    public string Address { get; init; } = "";
    public int ExitCode { get; init; }
    /// <summary>The command's stdout; "" when it was streamed with <see cref="RemoteCommandOptions.KeepOutput"/> = false.</summary>
    public string StdOut { get; init; } = "";
    public string StdErr { get; init; } = "";
    public long DurationMs { get; init; }
    public bool Succeeded => ExitCode == 0;
}

/// <summary>Options for <see cref="SshConnectionPool.RunAsync"/>.</summary>
public sealed class RemoteCommandOptions
{
    /// <summary>Run through <c>sudo -n</c> (passwordless sudo, as on Raspberry Pi OS).</summary>
    public bool Sudo { get; init; }
    /// <summary>Limit for the command; null = none (cancellation still applies).</summary>
    public TimeSpan? Timeout { get; init; }
    /// <summary>Called for each stdout line as it arrives (on a pool thread).</summary>
    public Action<string>? OnOutputLine { get; init; }
    /// <summary>
    /// Also collect the streamed stdout into <see cref="RemoteCommandResult.StdOut"/>. Default true. With false (and
    /// <see cref="OnOutputLine"/> set) each line is only passed to the callback and <see cref="RemoteCommandResult.StdOut"/>
    /// is "", so a long-running command that streams (e.g. the metric sampler) holds no output in memory.
    /// Without <see cref="OnOutputLine"/> this setting is ignored and StdOut is always collected.
    /// </summary>
    public bool KeepOutput { get; init; } = true;
}

/// <summary>
/// One pooled SSH connection per node (user@address:port + key), reused by every cmdlet in the session.
/// Host keys are always verified against known_hosts (<see cref="KnownHostsFile"/>): an unknown host is refused
/// with its fingerprint unless trust-on-first-use is asked for; a changed key is always refused.
/// </summary>
public sealed class SshConnectionPool : IDisposable
{
    private readonly ConcurrentDictionary<string, Lazy<SemaphoreSlim>> _locks = new();
    private readonly ConcurrentDictionary<string, SshClient> _clients = new();
    private static readonly ConcurrentDictionary<string, KnownHostsFile> KnownHostsFiles = new();

    /// <summary>The process-wide pool that the cmdlets share.</summary>
    public static SshConnectionPool Shared { get; } = new();

    /// <summary>The pooled connection to a node, opened (and verified) on first use or after it dropped.</summary>
    public async Task<SshClient> GetClientAsync(PiNode node, SshOptions? options, CancellationToken ct)
    {
        options ??= SshOptions.Default;
        var key = PoolKey(node, options);
        var gate = _locks.GetOrAdd(key, _ => new Lazy<SemaphoreSlim>(() => new SemaphoreSlim(1, 1))).Value;
        await gate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            if (_clients.TryGetValue(key, out var existing))
            {
                if (existing.IsConnected) return existing;
                _clients.TryRemove(key, out _);
                existing.Dispose();
            }
            var client = await ConnectAsync(node, options, ct).ConfigureAwait(false);
            _clients[key] = client;
            return client;
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>A new verified connection that the caller owns and disposes (e.g. the Docker tunnel).</summary>
    public Task<SshClient> OpenDedicatedAsync(PiNode node, SshOptions? options, CancellationToken ct) =>
        ConnectAsync(node, options ?? SshOptions.Default, ct);

    /// <summary>Drops the pooled connection of a node (e.g. after its host key changed or it rebooted).</summary>
    public void Evict(PiNode node, SshOptions? options = null)
    {
        if (_clients.TryRemove(PoolKey(node, options ?? SshOptions.Default), out var c)) c.Dispose();
    }

    /// <summary>Runs a command on a node; returns exit code, output and duration. Never throws for a non-zero exit.</summary>
    public async Task<RemoteCommandResult> RunAsync(PiNode node, string command, RemoteCommandOptions? run, SshOptions? options, CancellationToken ct)
    {
        run ??= new RemoteCommandOptions();
        var client = await GetClientAsync(node, options, ct).ConfigureAwait(false);
        var inner = run.Sudo ? "sudo -n sh -c " + ShellQuote(command) : command;
        var pgFile = $"/tmp/.pibench-{Guid.NewGuid():N}.pgid";
        var text = GroupWrapped(inner, pgFile);
        using var timeout = run.Timeout is { } t ? new CancellationTokenSource(t) : null;
        using var linked = timeout is null ? null : CancellationTokenSource.CreateLinkedTokenSource(ct, timeout.Token);
        var token = linked?.Token ?? ct;
        var sw = Stopwatch.StartNew();
        using var cmd = client.CreateCommand(text);
        try
        {
            if (run.OnOutputLine is null)
            {
                // ExecuteAsync blocks until a channel is free (SSH.NET): keep it off the caller's thread.
                await Task.Run(() => cmd.ExecuteAsync(token), CancellationToken.None).ConfigureAwait(false);
                return Result(node, cmd.ExitStatus ?? -1, cmd.Result, cmd.Error, sw);
            }

            var stdout = run.KeepOutput ? new System.Text.StringBuilder() : null;
            var execute = Task.Run(() => cmd.ExecuteAsync(token), CancellationToken.None);
            var reader = Task.Run(() =>
            {
                using var r = new StreamReader(cmd.OutputStream);
                string? line;
                while ((line = r.ReadLine()) is not null)
                {
                    stdout?.Append(line).Append('\n');
                    run.OnOutputLine(line);
                }
            }, CancellationToken.None);
            await execute.ConfigureAwait(false);
            // The output pipe ends when the channel closes; give the reader a moment to drain it.
            if (await Task.WhenAny(reader, Task.Delay(2000, CancellationToken.None)).ConfigureAwait(false) != reader)
                cmd.OutputStream.Dispose();
            return Result(node, cmd.ExitStatus ?? -1, stdout?.ToString() ?? "", cmd.Error, sw);
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            // Ctrl+C or the time limit: end the command's whole process group on the node, not only its shell.
            var killed = await KillGroupAsync(client, pgFile, run.Sudo).ConfigureAwait(false);
            if (timeout?.IsCancellationRequested == true && !ct.IsCancellationRequested)
                throw new PiBenchException("RemoteCommandTimeout", PiBenchErrorCategory.OperationTimeout,
                    $"{node.Name}: the command did not finish within {run.Timeout!.Value.TotalSeconds:0.#} s; {killed}.", node,
                    "Raise -TimeoutSeconds, or check what the command waits for.");
            throw;
        }
        catch (SshConnectionException ex)
        {
            Evict(node, options);
            throw Unreachable(node, ex);
        }
    }

    /// <summary>
    /// The command as the node runs it: a POSIX sh that records its process id (sshd made it a session and process
    /// group leader) in <paramref name="pgFile"/>, runs the command with the login shell (so everything the command
    /// starts stays in that group), passes its exit code on and removes the file.
    /// </summary>
    internal static string GroupWrapped(string command, string pgFile) =>
        "exec sh -c " + ShellQuote("{ echo $$ > \"$0\"; } 2>/dev/null; \"${SHELL:-/bin/sh}\" -c \"$1\"; rc=$?; rm -f \"$0\"; exit $rc")
        + " " + ShellQuote(pgFile) + " " + ShellQuote(command);

    /// <summary>
    /// Ends a stopped command's process group on the node: SIGTERM, up to 2 s for it to go, then SIGKILL and up to 2 s
    /// more until the group is gone (a signal is only queued: the processes exit when next scheduled, which on a loaded
    /// node takes a moment); removes the group file. Runs on a fresh channel of the same connection; returns what
    /// happened, for the message.
    /// </summary>
    private static async Task<string> KillGroupAsync(SshClient client, string pgFile, bool sudo)
    {
        var script =
            $"f={ShellQuote(pgFile)}; i=0; while [ ! -s \"$f\" ] && [ $i -lt 10 ]; do sleep 0.1; i=$((i+1)); done; " +
            "pg=$(cat \"$f\" 2>/dev/null); case \"$pg\" in ''|*[!0-9]*) echo none; exit 0;; esac; " +
            "kill -TERM -$pg 2>/dev/null; i=0; while kill -0 -$pg 2>/dev/null && [ $i -lt 20 ]; do sleep 0.1; i=$((i+1)); done; " +
            "if kill -0 -$pg 2>/dev/null; then kill -KILL -$pg 2>/dev/null; " +
            // SIGKILL is only queued: wait (up to 2 s) until the group is gone before saying so.
            "i=0; while kill -0 -$pg 2>/dev/null && [ $i -lt 40 ]; do sleep 0.05; i=$((i+1)); done; " +
            "if kill -0 -$pg 2>/dev/null; then echo exiting; else echo killed; fi; else echo terminated; fi; rm -f \"$f\"";
        try
        {
            using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            using var kill = client.CreateCommand(sudo ? "sudo -n sh -c " + ShellQuote(script) : "sh -c " + ShellQuote(script));
            await Task.Run(() => kill.ExecuteAsync(limit.Token), CancellationToken.None).ConfigureAwait(false);
            return kill.Result.Trim() switch
            {
                "terminated" => "it and every process it started were stopped (SIGTERM)",
                "killed" => "it and every process it started were killed (SIGKILL after 2 s)",
                "exiting" => "it and every process it started were sent SIGKILL after 2 s, and some had not exited 2 s later; check the node",
                _ => "it was stopped (it had not started its processes yet)",
            };
        }
        catch (Exception ex) when (ex is SshException or OperationCanceledException or InvalidOperationException or ObjectDisposedException)
        {
            return $"it could not be stopped on the node ({ex.Message}); processes it started may still run there";
        }
    }

    private static RemoteCommandResult Result(PiNode node, int exit, string stdout, string stderr, Stopwatch sw) => new()
    {
        Node = node.Name, Address = node.Address, ExitCode = exit, StdOut = stdout, StdErr = stderr, DurationMs = sw.ElapsedMilliseconds,
    };

    private static string PoolKey(PiNode node, SshOptions o) =>
        $"{node.User}@{node.Address}:{node.Port}|{o.KeyFile ?? node.KeyPath}|{(o.Password is null ? "" : "pw")}|{o.KnownHostsFile ?? node.KnownHostsPath}";

    /// <summary>Single-quotes a string for a POSIX shell.</summary>
    public static string ShellQuote(string s) => "'" + s.Replace("'", "'\"'\"'") + "'";

    private static async Task<SshClient> ConnectAsync(PiNode node, SshOptions o, CancellationToken ct)
    {
        var methods = new List<AuthenticationMethod>();
        if (o.Password is not null)
        {
            methods.Add(new PasswordAuthenticationMethod(node.User, o.Password));
            var kbd = new KeyboardInteractiveAuthenticationMethod(node.User);
            kbd.AuthenticationPrompt += (_, e) => { foreach (var p in e.Prompts) p.Response = o.Password; };
            methods.Add(kbd);
        }
        else
        {
            var keyPath = PathUtil.ExpandHome(o.KeyFile ?? node.KeyPath);
            if (string.IsNullOrEmpty(keyPath) || !File.Exists(keyPath))
                throw new PiBenchException("SshKeyNotFound", PiBenchErrorCategory.ObjectNotFound,
                    $"{node.Name}: private key '{keyPath}' does not exist.", node,
                    "Run Install-PiSshKey -Credential (Get-Credential) to create and install a key, or pass -KeyFile.");
            PrivateKeyFile key;
            try { key = o.Passphrase is null ? new PrivateKeyFile(keyPath) : new PrivateKeyFile(keyPath, o.Passphrase); }
            catch (Exception ex) when (o.Passphrase is not null && ex is SshException or InvalidOperationException or ArgumentException or System.Security.Cryptography.CryptographicException
                                       && (ex.Message.Contains("check bytes", StringComparison.OrdinalIgnoreCase) || ex.Message.Contains("passphrase", StringComparison.OrdinalIgnoreCase)
                                           || ex.Message.Contains("padding", StringComparison.OrdinalIgnoreCase) || ex is System.Security.Cryptography.CryptographicException))
            {
                // SSH.NET says e.g. "random check bytes" or "padding": with a passphrase given, that means it does not open the key.
                throw new PiBenchException("SshKeyPassphraseWrong", PiBenchErrorCategory.AuthenticationError,
                    $"{node.Name}: the passphrase does not open the private key '{keyPath}'.", keyPath,
                    "Pass the key's passphrase as the password of -Credential (the user name is ignored), or check -KeyFile.", ex);
            }
            catch (Exception ex) when (ex is SshException or SshPassPhraseNullOrEmptyException or InvalidOperationException or NotSupportedException or ArgumentException)
            {
                throw new PiBenchException("SshKeyUnreadable", PiBenchErrorCategory.InvalidData,
                    $"{node.Name}: cannot read private key '{keyPath}': {ex.Message}", keyPath,
                    "Check the key file; for a key with a passphrase pass -Credential with the passphrase as password.");
            }
            methods.Add(new PrivateKeyAuthenticationMethod(node.User, key));
        }

        var knownHostsPath = PathUtil.ExpandHome(o.KnownHostsFile ?? node.KnownHostsPath);
        if (string.IsNullOrEmpty(knownHostsPath))
            knownHostsPath = PathUtil.ExpandHome("~/.ssh/known_hosts");
        var known = KnownHostsFiles.GetOrAdd(Path.GetFullPath(knownHostsPath), p => new KnownHostsFile(p));
        var info = BuildConnectionInfo(node, o, methods.ToArray(), known.KnownKeyTypes(node.Address, node.Port));
        var timeoutText = $"{info.Timeout.TotalSeconds:0.#} s";
        var client = new SshClient(info);
        PiBenchException? verdict = null;
        client.HostKeyReceived += (_, e) =>
        {
            var status = known.Check(node.Address, node.Port, e.HostKeyName, e.HostKey);
            var fp = "SHA256:" + e.FingerPrintSHA256;
            switch (status)
            {
                case HostKeyStatus.Trusted:
                    e.CanTrust = true;
                    break;
                case HostKeyStatus.Unknown when o.TrustOnFirstUse:
                    known.Add(node.Address, node.Port, e.HostKeyName, e.HostKey);
                    e.CanTrust = true;
                    break;
                case HostKeyStatus.Unknown:
                    e.CanTrust = false;
                    verdict = new PiBenchException("HostKeyUnknown", PiBenchErrorCategory.SecurityError,
                        $"{node.Name}: the host key of {node.Address}:{node.Port} is not in {known.Path} ({e.HostKeyName} {fp}).", node,
                        $"Compare {fp} with 'ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub' on the node, then connect once with -TrustOnFirstUse.");
                    break;
                case HostKeyStatus.Revoked:
                    e.CanTrust = false;
                    verdict = new PiBenchException("HostKeyRevoked", PiBenchErrorCategory.SecurityError,
                        $"{node.Name}: the host key {fp} of {node.Address}:{node.Port} is marked @revoked in {known.Path}.", node,
                        "Do not connect; replace the node's host key.");
                    break;
                default:
                    e.CanTrust = false; // never trusted on first use, known_hosts untouched
                    var expected = string.Join(", ", known.KnownFingerprints(node.Address, node.Port));
                    verdict = new PiBenchException("HostKeyMismatch", PiBenchErrorCategory.SecurityError,
                        $"{node.Name}: the host key of {node.Address}:{node.Port} CHANGED: it presented {e.HostKeyName} {fp}, {known.Path} expects {expected}. Refusing to connect.", node,
                        $"If the node was reinstalled, remove its old line with 'ssh-keygen -R \"{KnownHostsFile.HostPattern(node.Address, node.Port)}\" -f {known.Path}' and connect again with -TrustOnFirstUse; otherwise treat it as an attack.");
                    break;
            }
        };
        try
        {
            await client.ConnectAsync(ct).ConfigureAwait(false);
            return client;
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            client.Dispose();
            if (verdict is not null) throw verdict;
            throw ex switch
            {
                SshAuthenticationException => new PiBenchException("SshAuthenticationFailed", PiBenchErrorCategory.AuthenticationError,
                    $"{node.Name}: {node.User}@{node.Address}:{node.Port} refused the login: {ex.Message}", node,
                    o.Password is null ? "Install the key with Install-PiSshKey -Credential, or check -KeyFile and the node's user." : "Check the user name and password."),
                PiBenchException p => p,
                _ => Unreachable(node, ex, timeoutText),
            };
        }
    }

    /// <summary>
    /// The connection settings of one node: the node's connect timeout and channel limit (topology ssh.*) unless the
    /// options override them, and the host-key algorithms of the key types known_hosts holds for it offered first (as
    /// OpenSSH orders them), so a known host is asked for the key on record rather than another type.
    /// </summary>
    internal static ConnectionInfo BuildConnectionInfo(PiNode node, SshOptions o, AuthenticationMethod[] methods, IReadOnlyList<string> knownKeyTypes)
    {
        var info = new ConnectionInfo(node.Address, node.Port, node.User, methods)
        {
            Timeout = o.ConnectTimeout ?? TimeSpan.FromSeconds(Math.Max(1, node.ConnectTimeoutSeconds)),
            MaxSessions = Math.Max(1, o.MaxSessions ?? node.MaxSessions),
        };
        if (knownKeyTypes.Count > 0)
        {
            var all = info.HostKeyAlgorithms.ToList();
            var preferred = knownKeyTypes.SelectMany(t => all.Where(a => KnownHostsFile.AlgorithmServes(a.Key, t))).Distinct().ToList();
            info.HostKeyAlgorithms.Clear();
            foreach (var a in preferred.Concat(all.Except(preferred))) info.HostKeyAlgorithms.Add(a.Key, a.Value);
        }
        return info;
    }

    private static PiBenchException Unreachable(PiNode node, Exception ex, string? timeout = null)
    {
        var detail = ex is SocketException se ? $"{se.SocketErrorCode}: {se.Message}" : ex.Message;
        var timedOut = ex is SshOperationTimeoutException or TimeoutException or OperationCanceledException
                       || ex is SocketException { SocketErrorCode: SocketError.TimedOut };
        if (timedOut && timeout is not null) detail += $"; connect timeout {timeout}";
        return new PiBenchException("NodeUnreachable", timedOut ? PiBenchErrorCategory.OperationTimeout : PiBenchErrorCategory.ConnectionError,
            $"{node.Name}: cannot reach {node.Address}:{node.Port} over SSH ({detail}).", node,
            "Check that the node is powered, on the network, and that sshd listens on that port (Test-PiNode shows which nodes answer).", ex);
    }

    public void Dispose()
    {
        foreach (var c in _clients.Values) c.Dispose();
        _clients.Clear();
    }
}
