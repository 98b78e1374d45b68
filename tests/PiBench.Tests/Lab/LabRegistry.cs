using System.IO.Compression;
using System.Net;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;

namespace PiBench.Tests.Lab;

/// <summary>
/// A read-only Docker registry on 127.0.0.1 serving one single-layer image by digest, so the lab's daemons can really
/// pull <c>127.0.0.1:&lt;port&gt;/&lt;name&gt;@sha256:…</c> (daemons treat 127.0.0.0/8 registries as insecure: plain
/// HTTP). Follows the registry HTTP API V2 (distribution docs/spec/api.md): <c>GET /v2/</c>, manifests by digest with
/// <c>Docker-Content-Digest</c>, blobs by digest; image manifest V2 schema 2 (docs/spec/manifest-v2-2.md) with a gzip
/// layer and an image config whose rootfs.diff_ids is the uncompressed layer's digest (image-spec config.md).
/// </summary>
public sealed class LabRegistry : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly Dictionary<string, (string Type, byte[] Body)> _blobs = new(StringComparer.Ordinal);
    private readonly string _name;
    private readonly byte[] _manifest;
    private readonly CancellationTokenSource _stop = new();

    /// <param name="layerTar">The root file system as an uncompressed tar.</param>
    public LabRegistry(string name, string layerTar, string entrypoint)
    {
        _name = name;
        var tar = File.ReadAllBytes(layerTar);
        byte[] gz;
        using (var ms = new MemoryStream())
        {
            using (var z = new GZipStream(ms, CompressionLevel.Fastest, leaveOpen: true)) z.Write(tar);
            gz = ms.ToArray();
        }
        var arch = RuntimeInformation.OSArchitecture switch { Architecture.Arm64 => "arm64", Architecture.Arm => "arm", _ => "amd64" };
        var config = Encoding.UTF8.GetBytes(
            "{\"architecture\":\"" + arch + "\",\"os\":\"linux\",\"config\":{\"Env\":[\"PATH=/usr/bin:/bin\"],\"Entrypoint\":[\"" + entrypoint +
            "\"],\"Labels\":{\"pibench.test\":\"standin-by-digest\"}},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"" + Digest(tar) +
            "\"]},\"history\":[{\"created_by\":\"PiBench lab registry\"}]}");
        _blobs[Digest(config)] = ("application/vnd.docker.container.image.v1+json", config);
        _blobs[Digest(gz)] = ("application/vnd.docker.image.rootfs.diff.tar.gzip", gz);
        _manifest = Encoding.UTF8.GetBytes(
            "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.docker.distribution.manifest.v2+json\",\"config\":{\"mediaType\":\"application/vnd.docker.container.image.v1+json\",\"size\":" +
            config.Length + ",\"digest\":\"" + Digest(config) + "\"},\"layers\":[{\"mediaType\":\"application/vnd.docker.image.rootfs.diff.tar.gzip\",\"size\":" +
            gz.Length + ",\"digest\":\"" + Digest(gz) + "\"}]}");
        ManifestDigest = Digest(_manifest);

        Exception? last = null;
        for (var attempt = 0; attempt < 20; attempt++)
        {
            var port = Random.Shared.Next(20000, 60000);
            try
            {
                _listener.Prefixes.Clear();
                _listener.Prefixes.Add($"http://127.0.0.1:{port}/");
                _listener.Start();
                Port = port;
                last = null;
                break;
            }
            catch (HttpListenerException ex) { last = ex; }
        }
        if (last is not null) throw last;
        _ = Task.Run(ServeAsync);
    }

    public int Port { get; }
    public string ManifestDigest { get; }
    /// <summary>The digest-pinned reference to pull.</summary>
    public string Reference => $"127.0.0.1:{Port}/{_name}@{ManifestDigest}";
    /// <summary>Requests served, e.g. "GET /v2/pibench/arroyo/manifests/sha256:…".</summary>
    public List<string> Requests { get; } = new();

    private static string Digest(byte[] data) => "sha256:" + Convert.ToHexString(SHA256.HashData(data)).ToLowerInvariant();

    private async Task ServeAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            HttpListenerContext ctx;
            try { ctx = await _listener.GetContextAsync(); }
            catch (Exception) { return; }
            try
            {
                var path = ctx.Request.Url!.AbsolutePath;
                lock (Requests) Requests.Add($"{ctx.Request.HttpMethod} {path}");
                ctx.Response.Headers["Docker-Distribution-API-Version"] = "registry/2.0";
                byte[]? body = null;
                string type = "application/json";
                if (path == "/v2/") body = "{}"u8.ToArray();
                else if (path == $"/v2/{_name}/manifests/{ManifestDigest}")
                {
                    body = _manifest;
                    type = "application/vnd.docker.distribution.manifest.v2+json";
                    ctx.Response.Headers["Docker-Content-Digest"] = ManifestDigest;
                }
                else if (path.StartsWith($"/v2/{_name}/blobs/", StringComparison.Ordinal) && _blobs.TryGetValue(path[(path.LastIndexOf('/') + 1)..], out var blob))
                {
                    body = blob.Body;
                    type = "application/octet-stream";
                    ctx.Response.Headers["Docker-Content-Digest"] = path[(path.LastIndexOf('/') + 1)..];
                }
                if (body is null)
                {
                    ctx.Response.StatusCode = 404;
                    body = """{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}"""u8.ToArray();
                }
                ctx.Response.ContentType = type;
                ctx.Response.ContentLength64 = body.Length;
                if (ctx.Request.HttpMethod != "HEAD") await ctx.Response.OutputStream.WriteAsync(body);
                ctx.Response.Close();
            }
            catch (Exception)
            {
                try { ctx.Response.Abort(); } catch (Exception) { }
            }
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        try { _listener.Stop(); _listener.Close(); } catch (ObjectDisposedException) { }
    }
}
