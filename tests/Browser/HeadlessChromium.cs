using System.Diagnostics;
using System.IO.Compression;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace PiBench.Browser;

/// <summary>What a headless Chromium saw of one local page.</summary>
public sealed record PageCapture(
    byte[] Png,
    int CssWidth,
    int CssHeight,
    IReadOnlyList<string> RequestUrls,
    IReadOnlyList<string> FailedOrBlocked,
    int ChartCount,
    IReadOnlyList<(double Width, double Height)> ChartBoxes,
    string ConsoleMessages);

/// <summary>
/// Debian's Chromium (/usr/bin/chromium) headless, driven over the DevTools protocol on a loopback port: opens a file://
/// page, records every network request the page makes (Network.requestWillBeSent), measures the document and its
/// charts and takes a full-page screenshot. Host names resolve to nothing (--host-resolver-rules), so even a page that
/// tried could not reach the network; the request is still recorded. Absent Chromium is a test failure, not a skip.
/// </summary>
public static class HeadlessChromium
{
    public const string DefaultPath = "/usr/bin/chromium";

    public static string RequirePath()
    {
        var path = Environment.GetEnvironmentVariable("PIBENCH_CHROMIUM") is { Length: > 0 } p ? p : DefaultPath;
        if (!File.Exists(path))
            throw new Xunit.Sdk.XunitException(
                $"Browser test cannot run: Chromium is not installed at {path}. Install Debian's chromium (apt-get install -y chromium; .ci/run does) or set PIBENCH_CHROMIUM. This is a failure, not a skip.");
        return path;
    }

    public static async Task<PageCapture> CaptureAsync(string htmlPath, int viewportWidth = 1280, int viewportHeight = 900, TimeSpan? timeout = null)
    {
        var chromium = RequirePath();
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(90));
        var ct = cts.Token;
        var profile = Path.Combine(Path.GetTempPath(), $"pibench-chromium-{Guid.NewGuid():N}");
        Directory.CreateDirectory(profile);
        var psi = new ProcessStartInfo(chromium)
        {
            RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false,
        };
        foreach (var a in new[]
                 {
                     "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                     "--disable-component-update", "--disable-sync", "--disable-extensions", "--disable-default-apps", "--no-default-browser-check",
                     "--host-resolver-rules=MAP * ~NOTFOUND", "--hide-scrollbars", "--force-device-scale-factor=1",
                     $"--user-data-dir={profile}", "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0",
                     $"--window-size={viewportWidth},{viewportHeight}", "about:blank",
                 })
            psi.ArgumentList.Add(a);
        using var proc = Process.Start(psi) ?? throw new InvalidOperationException("chromium did not start");
        var stderr = new StringBuilder();
        var endpoint = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        proc.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            lock (stderr) stderr.AppendLine(e.Data);
            var m = Regex.Match(e.Data, @"DevTools listening on (ws://\S+)");
            if (m.Success) endpoint.TrySetResult(m.Groups[1].Value);
        };
        proc.OutputDataReceived += (_, _) => { };
        proc.BeginErrorReadLine();
        proc.BeginOutputReadLine();
        try
        {
            using (ct.Register(() => endpoint.TrySetCanceled()))
            {
                var done = await Task.WhenAny(endpoint.Task, proc.WaitForExitAsync(ct)).ConfigureAwait(false);
                if (done != endpoint.Task) throw new InvalidOperationException($"chromium exited before DevTools was up: {stderr}");
            }
            var ws = new ClientWebSocket();
            await ws.ConnectAsync(new Uri(await endpoint.Task.ConfigureAwait(false)), ct).ConfigureAwait(false);
            var cdp = new Cdp(ws);
            _ = cdp.PumpAsync(ct);
            var target = await cdp.CallAsync("Target.createTarget", new JsonObject { ["url"] = "about:blank" }, null, ct).ConfigureAwait(false);
            var attach = await cdp.CallAsync("Target.attachToTarget", new JsonObject { ["targetId"] = target["targetId"]!.GetValue<string>(), ["flatten"] = true }, null, ct).ConfigureAwait(false);
            var session = attach["sessionId"]!.GetValue<string>();
            await cdp.CallAsync("Network.enable", new JsonObject(), session, ct).ConfigureAwait(false);
            await cdp.CallAsync("Page.enable", new JsonObject(), session, ct).ConfigureAwait(false);
            await cdp.CallAsync("Runtime.enable", new JsonObject(), session, ct).ConfigureAwait(false);
            await cdp.CallAsync("Emulation.setDeviceMetricsOverride", new JsonObject
            {
                ["width"] = viewportWidth, ["height"] = viewportHeight, ["deviceScaleFactor"] = 1, ["mobile"] = false,
            }, session, ct).ConfigureAwait(false);
            var loaded = cdp.WaitForEvent("Page.loadEventFired", session);
            var url = new Uri(Path.GetFullPath(htmlPath)).AbsoluteUri;
            await cdp.CallAsync("Page.navigate", new JsonObject { ["url"] = url }, session, ct).ConfigureAwait(false);
            await loaded.WaitAsync(ct).ConfigureAwait(false);
            await Task.Delay(500, ct).ConfigureAwait(false); // late subresource requests, if any, would show up here

            async Task<JsonNode?> Eval(string expr) =>
                (await cdp.CallAsync("Runtime.evaluate", new JsonObject { ["expression"] = expr, ["returnByValue"] = true }, session, ct).ConfigureAwait(false))["result"]?["value"];
            var width = (int)(await Eval("Math.ceil(document.documentElement.scrollWidth)").ConfigureAwait(false))!.GetValue<double>();
            var height = (int)(await Eval("Math.ceil(document.documentElement.scrollHeight)").ConfigureAwait(false))!.GetValue<double>();
            var boxesJson = (await Eval("JSON.stringify([...document.querySelectorAll('svg.chart')].map(s => { const r = s.getBoundingClientRect(); return [r.width, r.height]; }))").ConfigureAwait(false))!.GetValue<string>();
            var boxes = JsonSerializer.Deserialize<double[][]>(boxesJson)!.Select(b => (b[0], b[1])).ToList();
            var shot = await cdp.CallAsync("Page.captureScreenshot", new JsonObject
            {
                ["format"] = "png", ["captureBeyondViewport"] = true,
                ["clip"] = new JsonObject { ["x"] = 0, ["y"] = 0, ["width"] = width, ["height"] = height, ["scale"] = 1 },
            }, session, ct).ConfigureAwait(false);
            var png = Convert.FromBase64String(shot["data"]!.GetValue<string>());
            try { await ws.CloseAsync(WebSocketCloseStatus.NormalClosure, "", CancellationToken.None).ConfigureAwait(false); } catch (WebSocketException) { }
            return new PageCapture(png, width, height, cdp.Requests.ToList(), cdp.Failed.ToList(), boxes.Count, boxes, string.Join("\n", cdp.Console));
        }
        finally
        {
            try { if (!proc.HasExited) proc.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            proc.WaitForExit(10_000);
            try { Directory.Delete(profile, true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }

    /// <summary>A minimal DevTools protocol client: numbered calls, events by method and session.</summary>
    private sealed class Cdp(ClientWebSocket ws)
    {
        private int _id;
        private readonly Dictionary<int, TaskCompletionSource<JsonNode>> _calls = new();
        private readonly List<(string Method, string? Session, TaskCompletionSource<JsonNode> Tcs)> _waits = new();
        private readonly SemaphoreSlim _send = new(1, 1);
        public List<string> Requests { get; } = new();
        public List<string> Failed { get; } = new();
        public List<string> Console { get; } = new();

        public async Task<JsonNode> CallAsync(string method, JsonObject @params, string? session, CancellationToken ct)
        {
            var tcs = new TaskCompletionSource<JsonNode>(TaskCreationOptions.RunContinuationsAsynchronously);
            int id;
            lock (_calls) { id = ++_id; _calls[id] = tcs; }
            var msg = new JsonObject { ["id"] = id, ["method"] = method, ["params"] = @params };
            if (session is not null) msg["sessionId"] = session;
            await _send.WaitAsync(ct).ConfigureAwait(false);
            try { await ws.SendAsync(Encoding.UTF8.GetBytes(msg.ToJsonString()), WebSocketMessageType.Text, true, ct).ConfigureAwait(false); }
            finally { _send.Release(); }
            return await tcs.Task.WaitAsync(ct).ConfigureAwait(false);
        }

        public Task<JsonNode> WaitForEvent(string method, string? session)
        {
            var tcs = new TaskCompletionSource<JsonNode>(TaskCreationOptions.RunContinuationsAsynchronously);
            lock (_waits) _waits.Add((method, session, tcs));
            return tcs.Task;
        }

        public async Task PumpAsync(CancellationToken ct)
        {
            var buffer = new byte[1 << 20];
            var ms = new MemoryStream();
            try
            {
                while (ws.State == WebSocketState.Open && !ct.IsCancellationRequested)
                {
                    var r = await ws.ReceiveAsync(buffer, ct).ConfigureAwait(false);
                    if (r.MessageType == WebSocketMessageType.Close) break;
                    ms.Write(buffer, 0, r.Count);
                    if (!r.EndOfMessage) continue;
                    var node = JsonNode.Parse(ms.ToArray())!;
                    ms.SetLength(0);
                    if (node["id"] is { } idNode)
                    {
                        TaskCompletionSource<JsonNode>? tcs;
                        lock (_calls) _calls.Remove(idNode.GetValue<int>(), out tcs);
                        if (node["error"] is { } err) tcs?.TrySetException(new InvalidOperationException(err.ToJsonString()));
                        else tcs?.TrySetResult(node["result"] ?? new JsonObject());
                        continue;
                    }
                    var method = node["method"]?.GetValue<string>() ?? "";
                    var session = node["sessionId"]?.GetValue<string>();
                    var p = node["params"];
                    if (method == "Network.requestWillBeSent") lock (Requests) Requests.Add(p?["request"]?["url"]?.GetValue<string>() ?? "?");
                    if (method == "Network.loadingFailed") lock (Failed) Failed.Add(p?.ToJsonString() ?? "");
                    if (method is "Runtime.consoleAPICalled" or "Runtime.exceptionThrown" or "Log.entryAdded") lock (Console) Console.Add(p?.ToJsonString() ?? "");
                    lock (_waits)
                        foreach (var w in _waits.Where(w => w.Method == method && (w.Session is null || w.Session == session)).ToList())
                        {
                            w.Tcs.TrySetResult(p ?? new JsonObject());
                            _waits.Remove(w);
                        }
                }
            }
            catch (Exception ex) when (ex is OperationCanceledException or WebSocketException) { }
        }
    }
}

/// <summary>A small PNG reader (8-bit RGB/RGBA, non-interlaced, as Chromium writes screenshots) for checking pixels.</summary>
public sealed class PngImage
{
    public int Width { get; }
    public int Height { get; }
    /// <summary>RGBA, 4 bytes per pixel, row-major.</summary>
    public byte[] Rgba { get; }

    private PngImage(int w, int h, byte[] rgba) { Width = w; Height = h; Rgba = rgba; }

    public static PngImage Decode(byte[] png)
    {
        if (png.Length < 8 || png[0] != 0x89 || png[1] != (byte)'P') throw new InvalidDataException("not a PNG");
        int pos = 8, w = 0, h = 0, colorType = 0;
        var idat = new MemoryStream();
        while (pos + 8 <= png.Length)
        {
            var len = (png[pos] << 24) | (png[pos + 1] << 16) | (png[pos + 2] << 8) | png[pos + 3];
            var type = Encoding.ASCII.GetString(png, pos + 4, 4);
            var data = pos + 8;
            if (type == "IHDR")
            {
                w = (png[data] << 24) | (png[data + 1] << 16) | (png[data + 2] << 8) | png[data + 3];
                h = (png[data + 4] << 24) | (png[data + 5] << 16) | (png[data + 6] << 8) | png[data + 7];
                if (png[data + 8] != 8) throw new InvalidDataException($"bit depth {png[data + 8]} not supported");
                colorType = png[data + 9];
                if (colorType is not (2 or 6)) throw new InvalidDataException($"colour type {colorType} not supported");
                if (png[data + 12] != 0) throw new InvalidDataException("interlaced PNG not supported");
            }
            else if (type == "IDAT") idat.Write(png, data, len);
            else if (type == "IEND") break;
            pos = data + len + 4;
        }
        var bpp = colorType == 6 ? 4 : 3;
        var stride = w * bpp;
        var raw = new byte[(stride + 1) * h];
        idat.Position = 0;
        using (var z = new ZLibStream(idat, CompressionMode.Decompress)) z.ReadExactly(raw);
        var cur = new byte[stride];
        var prev = new byte[stride];
        var rgba = new byte[w * h * 4];
        for (var y = 0; y < h; y++)
        {
            var f = raw[y * (stride + 1)];
            Array.Copy(raw, y * (stride + 1) + 1, cur, 0, stride);
            for (var i = 0; i < stride; i++)
            {
                int a = i >= bpp ? cur[i - bpp] : 0, b = prev[i], c = i >= bpp ? prev[i - bpp] : 0;
                cur[i] = f switch
                {
                    0 => cur[i],
                    1 => (byte)(cur[i] + a),
                    2 => (byte)(cur[i] + b),
                    3 => (byte)(cur[i] + (a + b) / 2),
                    4 => (byte)(cur[i] + Paeth(a, b, c)),
                    _ => throw new InvalidDataException($"filter {f}"),
                };
            }
            for (var x = 0; x < w; x++)
            {
                var o = (y * w + x) * 4;
                rgba[o] = cur[x * bpp]; rgba[o + 1] = cur[x * bpp + 1]; rgba[o + 2] = cur[x * bpp + 2];
                rgba[o + 3] = bpp == 4 ? cur[x * bpp + 3] : (byte)255;
            }
            (prev, cur) = (cur, prev);
        }
        return new PngImage(w, h, rgba);
    }

    private static int Paeth(int a, int b, int c)
    {
        var p = a + b - c;
        int pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
        return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
    }

    /// <summary>Pixels within <paramref name="tolerance"/> per channel of the colour #RRGGBB.</summary>
    public int CountNear(string hex, int tolerance = 12)
    {
        var r = Convert.ToInt32(hex.Substring(1, 2), 16); var g = Convert.ToInt32(hex.Substring(3, 2), 16); var b = Convert.ToInt32(hex.Substring(5, 2), 16);
        var n = 0;
        for (var i = 0; i < Rgba.Length; i += 4)
            if (Math.Abs(Rgba[i] - r) <= tolerance && Math.Abs(Rgba[i + 1] - g) <= tolerance && Math.Abs(Rgba[i + 2] - b) <= tolerance) n++;
        return n;
    }

    /// <summary>Share of pixels that are not (near) white.</summary>
    public double NonWhiteFraction()
    {
        long n = 0;
        for (var i = 0; i < Rgba.Length; i += 4)
            if (Rgba[i] < 240 || Rgba[i + 1] < 240 || Rgba[i + 2] < 240) n++;
        return (double)n / (Width * (long)Height);
    }
}
