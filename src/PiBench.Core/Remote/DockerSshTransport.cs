using System.Collections.Concurrent;
using Docker.DotNet;
using Docker.DotNet.Handler.Abstractions;
using Docker.DotNet.NativeHttp;
using Renci.SshNet;

namespace PiBench.Core.Remote;

/// <summary>
/// One HTTP connection to a node's Docker Engine = one SSH exec channel running <c>docker system dial-stdio</c>,
/// exposed as a duplex stream (test-environment.md §4). Rules from the measured design:
/// never dispose the channel's stdin on teardown (EOF-after-CLOSE kills the whole SSH connection, §2.3 #4),
/// only dispose the <see cref="SshCommand"/>; EOF only through <see cref="CloseWrite"/> while the remote side runs;
/// a blocked read is released by disposing (SSH.NET's pipe ignores the token once blocked, §2.3 #3).
/// </summary>
public sealed class SshDialStream : WriteClosableStream
{
    private readonly SshCommand _cmd;
    private readonly Task _running;
    private readonly Stream _in;
    private readonly Stream _out;
    private int _closedWrite;
    private int _disposed;

    private SshDialStream(SshCommand cmd, Task running, Stream stdin)
    {
        _cmd = cmd;
        _running = running;
        _out = stdin;
        _in = cmd.OutputStream;
    }

    /// <summary>Opens an exec channel running <paramref name="command"/> and returns it as a stream.</summary>
    public static async Task<Stream> OpenAsync(SshClient ssh, string command, CancellationToken cancellationToken)
    {
        var cmd = ssh.CreateCommand(command);
        try
        {
            // ExecuteAsync blocks until the channel is open (session semaphore): keep it off the caller's thread.
            var (running, stdin) = await Task.Run(() =>
            {
                var r = cmd.ExecuteAsync(CancellationToken.None);
                return (r, cmd.CreateInputStream());
            }, cancellationToken).ConfigureAwait(false);
            _ = running.ContinueWith(static t => _ = t.Exception, TaskContinuationOptions.OnlyOnFaulted);
            return new SshDialStream(cmd, running, stdin);
        }
        catch
        {
            cmd.Dispose();
            throw;
        }
    }

    public override bool CanCloseWrite => true;
    public override bool CanRead => true;
    public override bool CanWrite => true;
    public override bool CanSeek => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var read = _in.ReadAsync(buffer).AsTask();
        if (read.IsCompleted || !cancellationToken.CanBeCanceled) return await Checked(read).ConfigureAwait(false);
        var cancelled = Task.Delay(Timeout.Infinite, cancellationToken);
        if (await Task.WhenAny(read, cancelled).ConfigureAwait(false) == read) return await Checked(read).ConfigureAwait(false);
        Dispose();
        _ = read.ContinueWith(static t => _ = t.Exception, TaskContinuationOptions.OnlyOnFaulted);
        throw new OperationCanceledException(cancellationToken);
    }

    private bool _gotData;

    /// <summary>
    /// End of stream before any byte: the dial command itself failed (e.g. dockerd is down: "Cannot connect to the
    /// Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?"). Say that, with its stderr,
    /// instead of letting the HTTP client report only "An error occurred while sending the request".
    /// </summary>
    private async Task<int> Checked(Task<int> read)
    {
        var n = await read.ConfigureAwait(false);
        if (n > 0) { _gotData = true; return n; }
        if (_gotData) return 0;
        await Task.WhenAny(_running, Task.Delay(2000)).ConfigureAwait(false);
        if (_running.IsCompleted && _cmd.ExitStatus is { } exit && exit != 0)
        {
            string stderr;
            try { stderr = _cmd.Error.Trim(); } catch (Exception ex) when (ex is InvalidOperationException or ObjectDisposedException or IOException) { stderr = ""; }
            throw new IOException($"'{_cmd.CommandText}' on the node exited with {exit}: {(stderr.Length > 0 ? stderr : "(no message)")}");
        }
        return 0;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => _in.Read(buffer, offset, count);

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) =>
        _out.WriteAsync(buffer, cancellationToken);

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        _out.WriteAsync(buffer, offset, count, cancellationToken);

    public override void Write(byte[] buffer, int offset, int count) => _out.Write(buffer, offset, count);
    public override void Flush() => _out.Flush();
    public override Task FlushAsync(CancellationToken cancellationToken) => _out.FlushAsync(cancellationToken);
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();

    /// <summary>Sends EOF on stdin, only while the remote command still runs (§2.3 #4).</summary>
    public override void CloseWrite()
    {
        if (!_running.IsCompleted && Interlocked.Exchange(ref _closedWrite, 1) == 0) _out.Dispose();
    }

    protected override void Dispose(bool disposing)
    {
        // Dispose only the command: it closes the channel under its lock, then its input stream sees IsOpen == false.
        if (disposing && Interlocked.Exchange(ref _disposed, 1) == 0) _cmd.Dispose();
        base.Dispose(disposing);
    }
}

/// <summary>
/// Docker Engine API clients for cluster nodes, one per node and reused, each on its own dedicated SSH connection
/// (the tunnel's channels must not compete with commands for the server's MaxSessions). Nothing listens on a TCP
/// Docker port; the SSH layer's host-key checks apply to every request.
/// </summary>
public sealed class DockerSshClientFactory : IAsyncDisposable, IDisposable
{
    /// <summary>What each node runs to reach its engine. On a Pi: the engine of the SSH user's session.</summary>
    public const string DialCommand = "docker system dial-stdio";

    private readonly Func<string, CancellationToken, Task<SshClient>> _openDedicated;
    private readonly int _maxConnectionsPerNode;
    private readonly ConcurrentDictionary<string, Lazy<Task<Entry>>> _clients = new(StringComparer.OrdinalIgnoreCase);
    private int _disposed;

    /// <param name="openDedicated">Opens a NEW SSH connection to the named node that the factory owns and disposes.</param>
    /// <param name="maxConnectionsPerNode">HTTP connections (= SSH channels) per node; keep below sshd MaxSessions (10 on a stock Pi).</param>
    public DockerSshClientFactory(Func<string, CancellationToken, Task<SshClient>> openDedicated, int maxConnectionsPerNode = 6)
    {
        _openDedicated = openDedicated;
        _maxConnectionsPerNode = maxConnectionsPerNode;
    }

    /// <summary>The node's Docker client; created on first use, then reused. A failed creation is retried on the next call.</summary>
    public async Task<IDockerClient> GetClientAsync(string node, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        var lazy = _clients.GetOrAdd(node, n => new Lazy<Task<Entry>>(() => CreateAsync(n)));
        Entry entry;
        try
        {
            entry = await lazy.Value.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception) when (!cancellationToken.IsCancellationRequested)
        {
            _clients.TryRemove(new KeyValuePair<string, Lazy<Task<Entry>>>(node, lazy));
            throw;
        }
        if (!entry.Ssh.IsConnected)
        {
            // The dedicated connection died (node rebooted, network): start over once.
            if (_clients.TryRemove(new KeyValuePair<string, Lazy<Task<Entry>>>(node, lazy))) entry.Dispose();
            return await GetClientAsync(node, cancellationToken).ConfigureAwait(false);
        }
        return entry.Client;
    }

    /// <summary>Drops a node's client (e.g. after a connection error) so the next call reconnects.</summary>
    public void Invalidate(string node)
    {
        if (_clients.TryRemove(node, out var lazy) && lazy.IsValueCreated && lazy.Value.IsCompletedSuccessfully)
            lazy.Value.Result.Dispose();
    }

    private async Task<Entry> CreateAsync(string node)
    {
        // Not bound to the first caller's token: the client outlives that call.
        using var connectTimeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var ssh = await _openDedicated(node, connectTimeout.Token).ConfigureAwait(false);
        try
        {
            var client = new DockerClientBuilder()
                .WithEndpoint(new Uri($"tcp://{Uri.EscapeDataString(node.ToLowerInvariant())}.docker.invalid:2375")) // a label: NativeHttp needs tcp://
                .WithTransportOptions(new NativeHttpTransportOptions
                {
                    ConfigureHandler = h =>
                    {
                        h.ConnectCallback = async (_, ct) => await SshDialStream.OpenAsync(ssh, DialCommand, ct).ConfigureAwait(false);
                        h.MaxConnectionsPerServer = _maxConnectionsPerNode;
                        h.PooledConnectionIdleTimeout = TimeSpan.FromSeconds(60);
                    },
                })
                .Build();
            return new Entry(ssh, client);
        }
        catch
        {
            ssh.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        foreach (var lazy in _clients.Values)
            if (lazy.IsValueCreated && lazy.Value.IsCompletedSuccessfully)
                lazy.Value.Result.Dispose();
        _clients.Clear();
    }

    public ValueTask DisposeAsync()
    {
        Dispose();
        return ValueTask.CompletedTask;
    }

    private sealed class Entry(SshClient ssh, IDockerClient client) : IDisposable
    {
        public SshClient Ssh { get; } = ssh;
        public IDockerClient Client { get; } = client;

        public void Dispose()
        {
            try { Client.Dispose(); } catch (Exception) { /* best effort */ }
            try { Ssh.Dispose(); } catch (Exception) { /* best effort */ }
        }
    }
}
