using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;

namespace PiBench.Core.Engines;

/// <summary>A non-success HTTP answer with the engine's own message already extracted.</summary>
public sealed class EngineHttpFailure(HttpStatusCode status, string message, string body)
{
    public HttpStatusCode Status { get; } = status;
    public string Message { get; } = message;
    public string Body { get; } = body;
}

/// <summary>
/// The HTTP plumbing both adapters share: a per-request timeout, JSON bodies with Content-Type, and the mapping of
/// transport failures to EngineUnreachable / EngineTimeout. Status-code mapping is the adapter's (one place each).
/// </summary>
internal sealed class EngineHttp : IDisposable
{
    private readonly HttpClient _client;
    private readonly bool _ownsHandler;
    private readonly StreamSystem _system;
    private readonly TimeSpan _timeout;
    private readonly Func<string, string> _extractError;
    private readonly ILogSink _log;

    public EngineHttp(StreamSystem system, TimeSpan timeout, HttpMessageHandler? handler, Func<string, string> extractError, ILogSink? log)
    {
        _system = system;
        _timeout = timeout;
        _extractError = extractError;
        _log = log ?? NullLog.Instance;
        _ownsHandler = handler is null;
        _client = new HttpClient(handler ?? new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(2) }, _ownsHandler)
        {
            Timeout = Timeout.InfiniteTimeSpan, // per request below, so timeouts are told apart from Ctrl+C
        };
    }

    /// <summary>Sends and returns (status, body). Non-success statuses come back as the Failure part.</summary>
    public async Task<(string Body, EngineHttpFailure? Failure)> SendAsync(HttpMethod method, Uri uri, JsonNode? body,
        CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, uri);
        if (body is not null)
            request.Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");
        else if (method == HttpMethod.Post || method == HttpMethod.Patch)
            request.Content = new StringContent("{}", Encoding.UTF8, "application/json");
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));

        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(_timeout);
        _log.Verbose($"{_system}: {method} {uri}");
        try
        {
            using var response = await _client.SendAsync(request, cts.Token).ConfigureAwait(false);
            var text = await response.Content.ReadAsStringAsync(cts.Token).ConfigureAwait(false);
            if (response.IsSuccessStatusCode) return (text, null);
            var message = SafeExtract(text);
            if (string.IsNullOrWhiteSpace(message)) message = $"HTTP {(int)response.StatusCode} {response.ReasonPhrase}";
            return (text, new EngineHttpFailure(response.StatusCode, message, text));
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new PiBenchException(EngineErrorIds.Timeout, PiBenchErrorCategory.OperationTimeout,
                $"{_system} did not answer {method} {uri.AbsolutePath} within {_timeout.TotalSeconds:0.#} s.", uri.ToString(),
                "Check that the engine is up and not overloaded; raise the request timeout if it is slow.");
        }
        catch (HttpRequestException ex) when (IsConnectFailure(ex))
        {
            throw new PiBenchException(EngineErrorIds.Unreachable, PiBenchErrorCategory.ConnectionError,
                $"{_system} is unreachable at {uri.GetLeftPart(UriPartial.Authority)}: {ex.Message}", uri.GetLeftPart(UriPartial.Authority),
                "Check the controller address and port, that the engine's container runs, and the firewall.", ex);
        }
        catch (HttpRequestException ex)
        {
            throw new PiBenchException(EngineErrorIds.RequestFailed, PiBenchErrorCategory.ProtocolError,
                $"{_system} request {method} {uri.AbsolutePath} failed: {ex.Message}", uri.ToString(),
                "Check the engine's logs.", ex);
        }
    }

    /// <summary>Sends, throws the adapter-mapped error on failure, parses the JSON body.</summary>
    public async Task<JsonNode?> JsonAsync(HttpMethod method, Uri uri, JsonNode? body, Func<EngineHttpFailure, PiBenchException> onFailure,
        CancellationToken cancellationToken)
    {
        var (text, failure) = await SendAsync(method, uri, body, cancellationToken).ConfigureAwait(false);
        if (failure is not null) throw onFailure(failure);
        if (string.IsNullOrWhiteSpace(text)) return null;
        try { return JsonNode.Parse(text); }
        catch (System.Text.Json.JsonException ex)
        {
            throw BadResponse(uri, $"not JSON: {Truncate(text, 200)}", ex);
        }
    }

    public PiBenchException BadResponse(Uri uri, string detail, Exception? inner = null) =>
        new(EngineErrorIds.BadResponse, PiBenchErrorCategory.InvalidData,
            $"{_system} answered {uri.AbsolutePath} with an unexpected shape: {detail}", uri.ToString(),
            $"Check that the endpoint really is {_system} (version and port).", inner);

    private string SafeExtract(string body)
    {
        try { return _extractError(body); }
        catch (Exception) { return Truncate(body, 500); }
    }

    internal static string Truncate(string s, int max) => s.Length <= max ? s : s[..max] + "…";

    private static bool IsConnectFailure(HttpRequestException ex) =>
        ex.HttpRequestError is HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError
        || ex.InnerException is SocketException;

    public void Dispose() => _client.Dispose();
}

internal static class JsonExt
{
    public static string Str(this JsonNode? node, string name) =>
        node?[name] is JsonValue v && v.TryGetValue<string>(out var s) ? s : node?[name]?.ToString() ?? "";

    public static long Long(this JsonNode? node, string name, long fallback = -1)
    {
        var n = node?[name];
        if (n is JsonValue v)
        {
            if (v.TryGetValue<long>(out var l)) return l;
            if (v.TryGetValue<double>(out var d)) return (long)d;
            if (v.TryGetValue<string>(out var s) && long.TryParse(s, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out l)) return l;
        }
        return fallback;
    }

    /// <summary>Numbers or numeric strings (Flink sends metric values as strings); NaN otherwise.</summary>
    public static double Number(JsonNode? n)
    {
        if (n is JsonValue v)
        {
            if (v.TryGetValue<double>(out var d)) return d;
            if (v.TryGetValue<long>(out var l)) return l;
            if (v.TryGetValue<string>(out var s) && double.TryParse(s, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out d)) return d;
        }
        return double.NaN;
    }
}
