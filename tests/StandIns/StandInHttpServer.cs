using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;

namespace PiBench.StandIns;

/// <summary>One HTTP request a stand-in received (method, path, decoded query, body, content type).</summary>
public sealed record RecordedRequest(string Method, string Path, IReadOnlyDictionary<string, string> Query, string RawQuery, string Body,
    string? ContentType, DateTimeOffset At)
{
    public JsonNode? Json => string.IsNullOrWhiteSpace(Body) ? null : JsonNode.Parse(Body);
    public string RequestLine => $"{Method} {Path}{RawQuery}";
    public override string ToString() => RequestLine;
}

/// <summary>What a stand-in answers.</summary>
public sealed record StandInResponse(int Status, string Body, string ContentType = "application/json")
{
    public static StandInResponse Json(JsonNode? node, int status = 200) => new(status, node?.ToJsonString() ?? "null");
    public static StandInResponse Text(string text, int status = 200) => new(status, text, "text/plain; version=0.0.4");
}

/// <summary>
/// A tiny in-process HTTP server on 127.0.0.1 and a free port (HttpListener), for tests only: it records every request
/// and answers through a handler. <see cref="ResponseDelay"/> holds every answer back (timeout tests). Stand-ins never
/// listen on anything but the loopback address.
/// </summary>
public sealed class StandInHttpServer : IDisposable
{
    private readonly HttpListener _listener;
    private readonly Func<RecordedRequest, StandInResponse> _handler;
    private readonly ConcurrentQueue<RecordedRequest> _requests = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    public StandInHttpServer(string name, Func<RecordedRequest, StandInResponse> handler)
    {
        Name = name;
        _handler = handler;
        Exception? last = null;
        for (var attempt = 0; attempt < 10; attempt++)
        {
            var port = FreePort();
            var listener = new HttpListener();
            listener.Prefixes.Add($"http://127.0.0.1:{port}/");
            try
            {
                listener.Start();
                _listener = listener;
                BaseUri = new Uri($"http://127.0.0.1:{port}/");
                _loop = Task.Run(LoopAsync);
                return;
            }
            catch (HttpListenerException ex) { last = ex; listener.Close(); }
        }
        throw new InvalidOperationException($"{name}: could not listen on a free loopback port", last);
    }

    public string Name { get; }
    public Uri BaseUri { get; } = null!;
    public TimeSpan ResponseDelay { get; set; }
    public IReadOnlyList<RecordedRequest> Requests => _requests.ToArray();

    public void ClearRequests() { while (_requests.TryDequeue(out _)) { } }

    private static int FreePort()
    {
        var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        var port = ((IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        return port;
    }

    private async Task LoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            HttpListenerContext ctx;
            try { ctx = await _listener.GetContextAsync().ConfigureAwait(false); }
            catch (Exception) when (_stop.IsCancellationRequested || !_listener.IsListening) { return; }
            catch (HttpListenerException) { continue; }
            _ = Task.Run(() => ServeAsync(ctx));
        }
    }

    private async Task ServeAsync(HttpListenerContext ctx)
    {
        try
        {
            string body;
            using (var reader = new StreamReader(ctx.Request.InputStream, Encoding.UTF8)) body = await reader.ReadToEndAsync().ConfigureAwait(false);
            var raw = ctx.Request.Url!.Query;
            var query = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var pair in raw.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
            {
                var eq = pair.IndexOf('=');
                var k = Uri.UnescapeDataString(eq < 0 ? pair : pair[..eq]);
                // values stay escaped where commas separate escaped items (Flink's get=a,b)
                query[k] = eq < 0 ? "" : pair[(eq + 1)..];
            }
            var request = new RecordedRequest(ctx.Request.HttpMethod, ctx.Request.Url.AbsolutePath, query, raw, body,
                ctx.Request.ContentType, DateTimeOffset.UtcNow);
            _requests.Enqueue(request);
            StandInResponse response;
            try { response = _handler(request); }
            catch (Exception ex) { response = StandInResponse.Json(new JsonObject { ["error"] = $"stand-in failure: {ex.Message}" }, 500); }
            if (ResponseDelay > TimeSpan.Zero)
            {
                try { await Task.Delay(ResponseDelay, _stop.Token).ConfigureAwait(false); } catch (OperationCanceledException) { }
            }
            var bytes = Encoding.UTF8.GetBytes(response.Body);
            ctx.Response.StatusCode = response.Status;
            ctx.Response.ContentType = response.ContentType;
            ctx.Response.ContentLength64 = bytes.Length;
            await ctx.Response.OutputStream.WriteAsync(bytes).ConfigureAwait(false);
            ctx.Response.Close();
        }
        catch (Exception)
        {
            try { ctx.Response.Abort(); } catch (Exception) { }
        }
    }

    private int _disposed;

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1) return;
        _stop.Cancel();
        try { _listener.Stop(); _listener.Close(); } catch (Exception) { }
        try { _loop.Wait(TimeSpan.FromSeconds(2)); } catch (Exception) { }
    }
}
