using System.Diagnostics;
using System.Formats.Tar;
using System.Text;
using Docker.DotNet;
using Docker.DotNet.Models;

namespace PiBench.Core.Deployment;

/// <summary>What happened to one image on one node.</summary>
public sealed class ImageTransfer
{
    public string Node { get; init; } = "";
    public string Image { get; init; } = "";
    public string ImageId { get; init; } = "";
    /// <summary><c>Skipped</c> (same id already there), <c>Loaded</c> or <c>Failed</c>.</summary>
    public string Result { get; init; } = "";
    public long Bytes { get; init; }
    public double Seconds { get; init; }
    public double MegabytesPerSecond => Seconds > 0 ? Bytes / 1e6 / Seconds : 0;
    public string Error { get; init; } = "";
}

/// <summary>
/// Gets images onto Pi1 once (pull, or build for derived images) and streams them to the other nodes in parallel:
/// <c>docker save</c> on Pi1 into one local spool file, then <c>docker load</c> on every node that does not already
/// hold the same image id, all at once. Progress reports bytes and rate per node.
/// </summary>
public sealed class ImageDistributor(INodeAccess access, IProgressSink progress, ILogSink log)
{
    public const string Activity = "Distribute images";

    /// <summary>Pulls an image on a node (used on Pi1 only).</summary>
    public async Task PullAsync(DeploymentNode node, string image, CancellationToken ct)
    {
        var docker = await access.GetDockerAsync(node, ct).ConfigureAwait(false);
        var (repo, tag) = DockerOps.SplitReference(image);
        log.Verbose($"{node.Name}: pulling {image}");
        string? error = null;
        await docker.Images.CreateImageAsync(new ImagesCreateParameters { FromImage = repo, Tag = tag }, null,
            new Progress<JSONMessage>(m =>
            {
                if (m.Error is { } e) error = e.Message;
                var bytes = m.Progress is { Total: > 0 } p ? $" {p.Current / 1e6:F1}/{p.Total / 1e6:F1} MB" : "";
                progress.Report("Pull " + image, $"{m.ID} {m.Status}{bytes}".Trim(), -1, node.Name);
            }), ct).ConfigureAwait(false);
        if (error is not null || await DockerOps.ImageIdAsync(docker, image, ct).ConfigureAwait(false) is null)
            throw new PiBenchException("ImagePullFailed", PiBenchErrorCategory.ResourceUnavailable,
                $"{node.Name}: pulling {image} failed: {error ?? "the image is not there afterwards"}.", image,
                "Check the node's internet access and the image reference.");
    }

    /// <summary>Tags <paramref name="image"/> (e.g. a digest reference) as <paramref name="local"/> (repository:tag) on a node.</summary>
    public async Task TagAsync(DeploymentNode node, string image, string local, CancellationToken ct)
    {
        var docker = await access.GetDockerAsync(node, ct).ConfigureAwait(false);
        var (repo, tag) = DockerOps.SplitReference(local);
        await docker.Images.TagImageAsync(image, new ImageTagParameters { RepositoryName = repo, Tag = tag }, ct).ConfigureAwait(false);
        log.Verbose($"{node.Name}: tagged {image} as {local}");
    }

    /// <summary>Builds a derived image on a node from a Dockerfile text (no other context files).</summary>
    public async Task BuildAsync(DeploymentNode node, string image, string dockerfile, CancellationToken ct)
    {
        var docker = await access.GetDockerAsync(node, ct).ConfigureAwait(false);
        using var context = new MemoryStream();
        using (var tar = new TarWriter(context, TarEntryFormat.Pax, leaveOpen: true))
        {
            var entry = new PaxTarEntry(TarEntryType.RegularFile, "Dockerfile")
            {
                DataStream = new MemoryStream(Encoding.UTF8.GetBytes(dockerfile)),
                Mode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead,
            };
            tar.WriteEntry(entry);
        }
        context.Position = 0;
        string? error = null;
        log.Verbose($"{node.Name}: building {image}");
        await docker.Images.BuildImageFromDockerfileAsync(new ImageBuildParameters
        {
            Tags = new List<string> { image },
            Labels = new Dictionary<string, string> { [PiBenchLabels.Managed] = "true", [PiBenchLabels.Version] = ModuleInfo.Version },
            Remove = true,
            ForceRemove = true,
            NetworkMode = "host",
        }, context, null, null, new Progress<JSONMessage>(m =>
        {
            if (m.Error is { } e) error = e.Message;
            if (!string.IsNullOrWhiteSpace(m.Stream)) progress.Report("Build " + image, m.Stream.Trim(), -1, node.Name);
        }), ct).ConfigureAwait(false);
        if (error is not null || await DockerOps.ImageIdAsync(docker, image, ct).ConfigureAwait(false) is null)
            throw new PiBenchException("ImageBuildFailed", PiBenchErrorCategory.InvalidResult,
                $"{node.Name}: building {image} failed: {error ?? "the image is not there afterwards"}.", image,
                "Read the build output with -Verbose; the node needs internet access for the connector jar.");
    }

    /// <summary>
    /// Copies <paramref name="image"/> from <paramref name="source"/> to every target that lacks the same image id,
    /// in parallel. Returns one entry per target; failures are per node (Result = Failed) and never stop the others.
    /// </summary>
    public async Task<IReadOnlyList<ImageTransfer>> DistributeAsync(DeploymentNode source, string image,
        IReadOnlyList<DeploymentNode> targets, CancellationToken ct)
    {
        var sourceDocker = await access.GetDockerAsync(source, ct).ConfigureAwait(false);
        var sourceId = await DockerOps.ImageIdAsync(sourceDocker, image, ct).ConfigureAwait(false)
            ?? throw new PiBenchException("ImageMissingOnSource", PiBenchErrorCategory.ObjectNotFound,
                $"{source.Name} does not hold {image}, so it cannot be distributed.", image, "Pull or build it on the controller first.");

        // 1. Which targets need it?
        var results = new List<ImageTransfer>();
        var needed = new List<DeploymentNode>();
        var checks = await Task.WhenAll(targets.Select(async t =>
        {
            try
            {
                var d = await access.GetDockerAsync(t, ct).ConfigureAwait(false);
                return (t, id: await DockerOps.ImageIdAsync(d, image, ct).ConfigureAwait(false), error: (Exception?)null);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                return (t, id: (string?)null, error: ex);
            }
        })).ConfigureAwait(false);
        foreach (var (t, id, error) in checks)
        {
            if (error is not null)
                results.Add(new ImageTransfer { Node = t.Name, Image = image, Result = "Failed", Error = error.Message });
            else if (id == sourceId)
                results.Add(new ImageTransfer { Node = t.Name, Image = image, ImageId = id, Result = "Skipped" });
            else
                needed.Add(t);
        }
        if (needed.Count == 0) return results;

        // 2. Save once from the source into a local spool file.
        var spool = Path.Combine(Path.GetTempPath(), $"pibench-image-{Guid.NewGuid():N}.tar");
        try
        {
            var sw = Stopwatch.StartNew();
            long total;
            await using (var save = await sourceDocker.Images.SaveImageAsync(image, ct).ConfigureAwait(false))
            await using (var file = new FileStream(spool, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true))
            {
                total = await CopyWithProgressAsync(save, file, -1, $"save {image} on {source.Name}", source.Name, sw, ct).ConfigureAwait(false);
            }
            log.Verbose($"{source.Name}: saved {image} ({total / 1e6:F1} MB) in {sw.Elapsed.TotalSeconds:F2} s");

            // 3. Load on every target in parallel.
            var loads = await Task.WhenAll(needed.Select(t => LoadOneAsync(t, image, sourceId, spool, total, ct))).ConfigureAwait(false);
            results.AddRange(loads);
        }
        finally
        {
            try { File.Delete(spool); } catch (IOException) { }
        }
        return results;
    }

    private async Task<ImageTransfer> LoadOneAsync(DeploymentNode target, string image, string sourceId, string spool, long total,
        CancellationToken ct)
    {
        var sw = Stopwatch.StartNew();
        try
        {
            var docker = await access.GetDockerAsync(target, ct).ConfigureAwait(false);
            string? error = null;
            await using (var file = new FileStream(spool, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, useAsync: true))
            await using (var counting = new ProgressReadStream(file, total, n => Report(target.Name, image, n, total, sw)))
            {
                await docker.Images.LoadImageAsync(new ImageLoadParameters { Quiet = true }, counting,
                    new Progress<JSONMessage>(m => { if (m.Error is { } e) error = e.Message; }), ct).ConfigureAwait(false);
            }
            var id = await DockerOps.ImageIdAsync(docker, image, ct).ConfigureAwait(false);
            if (error is not null || id != sourceId)
                throw new InvalidOperationException(error ?? $"after loading, the node holds {DockerOps.ShortId(id)} instead of {DockerOps.ShortId(sourceId)}");
            progress.Report(Activity, $"{image}: loaded {total / 1e6:F1} MB in {sw.Elapsed.TotalSeconds:F1} s", 100, target.Name);
            return new ImageTransfer { Node = target.Name, Image = image, ImageId = id, Result = "Loaded", Bytes = total, Seconds = sw.Elapsed.TotalSeconds };
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            access.Invalidate(target);
            return new ImageTransfer { Node = target.Name, Image = image, Result = "Failed", Seconds = sw.Elapsed.TotalSeconds, Error = ex.Message };
        }
    }

    private void Report(string node, string image, long done, long total, Stopwatch sw)
    {
        var rate = sw.Elapsed.TotalSeconds > 0 ? done / 1e6 / sw.Elapsed.TotalSeconds : 0;
        var pct = total > 0 ? (int)(done * 100 / total) : -1;
        progress.Report(Activity, $"{image}: {done / 1e6:F1}/{total / 1e6:F1} MB at {rate:F1} MB/s", pct, node);
    }

    private async Task<long> CopyWithProgressAsync(Stream from, Stream to, long total, string what, string node, Stopwatch sw,
        CancellationToken ct)
    {
        var buffer = new byte[1 << 16];
        long done = 0, lastReport = 0;
        int n;
        while ((n = await from.ReadAsync(buffer, ct).ConfigureAwait(false)) > 0)
        {
            await to.WriteAsync(buffer.AsMemory(0, n), ct).ConfigureAwait(false);
            done += n;
            if (done - lastReport >= 4 << 20)
            {
                lastReport = done;
                var rate = done / 1e6 / Math.Max(sw.Elapsed.TotalSeconds, 1e-3);
                progress.Report(Activity, $"{what}: {done / 1e6:F1} MB at {rate:F1} MB/s", total > 0 ? (int)(done * 100 / total) : -1, node);
            }
        }
        return done;
    }
}

/// <summary>A read-only stream wrapper that reports how many bytes were read (throttled to every 1 MiB).</summary>
internal sealed class ProgressReadStream(Stream inner, long total, Action<long> onProgress) : Stream
{
    private long _read;
    private long _lastReport;

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => total;
    public override long Position { get => _read; set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override int Read(byte[] buffer, int offset, int count) => Count(inner.Read(buffer, offset, count));

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        Count(await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false));

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    private int Count(int n)
    {
        _read += n;
        if (_read - _lastReport >= 1 << 20 || (n == 0 && _read != _lastReport))
        {
            _lastReport = _read;
            onProgress(_read);
        }
        return n;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) inner.Dispose();
        base.Dispose(disposing);
    }
}
