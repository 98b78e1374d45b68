using System.Net;
using Docker.DotNet;
using Docker.DotNet.Models;

namespace PiBench.Core.Deployment;

/// <summary>Small helpers over the Docker Engine API shared by deployment code.</summary>
internal static class DockerOps
{
    public static Dictionary<string, IDictionary<string, bool>> LabelFilter(params string[] labels)
    {
        var d = new Dictionary<string, bool>();
        foreach (var l in labels) d[l] = true;
        return new Dictionary<string, IDictionary<string, bool>> { ["label"] = d };
    }

    /// <summary>The image id for a reference on a node, or null when the node does not hold it.</summary>
    public static async Task<string?> ImageIdAsync(IDockerClient docker, string image, CancellationToken ct)
    {
        try
        {
            var info = await docker.Images.InspectImageAsync(image, ct).ConfigureAwait(false);
            return info.ID;
        }
        catch (DockerApiException ex) when (ex.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    public static async Task<IList<ContainerListResponse>> PiBenchContainersAsync(IDockerClient docker, CancellationToken ct) =>
        await docker.Containers.ListContainersAsync(new ContainersListParameters
        {
            All = true,
            Filters = LabelFilter(PiBenchLabels.Managed + "=true"),
        }, ct).ConfigureAwait(false);

    public static async Task<IList<VolumeResponse>> PiBenchVolumesAsync(IDockerClient docker, CancellationToken ct)
    {
        var r = await docker.Volumes.ListAsync(new VolumesListParameters { Filters = LabelFilter(PiBenchLabels.Managed + "=true") }, ct)
            .ConfigureAwait(false);
        return r.Volumes ?? new List<VolumeResponse>();
    }

    /// <summary>Runs a command inside a container (no stdin); returns exit code, stdout and stderr.</summary>
    public static async Task<(long ExitCode, string Stdout, string Stderr)> ExecAsync(IDockerClient docker, string container,
        IList<string> command, CancellationToken ct, IList<string>? env = null)
    {
        var created = await docker.Exec.CreateContainerExecAsync(container, new ContainerExecCreateParameters
        {
            AttachStdout = true,
            AttachStderr = true,
            Cmd = command,
            Env = env!, // added to (and overriding) the container's environment for this process only (Engine API ≥ 1.25)
        }, ct).ConfigureAwait(false);
        string stdout, stderr;
        using (var stream = await docker.Exec.StartContainerExecAsync(created.ID, new ContainerExecStartParameters(), ct).ConfigureAwait(false))
        {
            (stdout, stderr) = await stream.ReadOutputToEndAsync(ct).ConfigureAwait(false);
        }
        for (var i = 0; i < 50; i++)
        {
            var inspect = await docker.Exec.InspectContainerExecAsync(created.ID, ct).ConfigureAwait(false);
            if (!inspect.Running) return (inspect.ExitCode ?? -1, stdout, stderr);
            await Task.Delay(100, ct).ConfigureAwait(false);
        }
        return (-1, stdout, stderr);
    }

    /// <summary>Splits "repo/name:tag" into repository and tag (a registry port is not a tag).</summary>
    public static (string Repository, string Tag) SplitReference(string image)
    {
        // repo@sha256:<hex>: the Engine API pulls by digest when tag= holds a digest (moby
        // api/server/router/image/image_routes.go postImagesCreate: "The 'tag' could actually be a digest").
        var at = image.IndexOf('@');
        if (at > 0) return (image[..at], image[(at + 1)..]);
        var slash = image.LastIndexOf('/');
        var colon = image.LastIndexOf(':');
        return colon > slash ? (image[..colon], image[(colon + 1)..]) : (image, "latest");
    }

    /// <summary>True for a digest-pinned reference (<c>repository@sha256:…</c>).</summary>
    public static bool IsDigest(string image) => image.IndexOf('@') > 0;

    /// <summary>
    /// The name an image has on every node. A tag names itself. A digest does not survive distribution: docker save
    /// writes only tags into the archive's manifest (RepoTags) and docker load restores no RepoDigests, so a loaded
    /// image would have no name at all. A digest-pinned image is therefore tagged on the controller right after the
    /// pull as <c>repository:sha256-&lt;hex&gt;</c> (a tag that names the digest; tags allow [A-Za-z0-9_.-]{1,128}), and
    /// that tag is what is distributed and what the containers run. Its image id is checked against the controller's.
    /// </summary>
    public static string LocalReference(string image)
    {
        if (!IsDigest(image)) return image;
        var (repo, digest) = SplitReference(image);
        return $"{repo}:{digest.Replace(':', '-')}";
    }

    /// <summary>A label's value, or a default when the label (or the whole map) is missing.</summary>
    public static string Label(this IDictionary<string, string>? labels, string key, string fallback = "") =>
        labels is not null && labels.TryGetValue(key, out var v) ? v : fallback;

    /// <summary>A listed container's name (without the leading slash), or its short id when it has none.</summary>
    public static string ContainerName(ContainerListResponse c) => c.Names?.FirstOrDefault()?.TrimStart('/') ?? ShortId(c.ID);

    /// <summary>Stops (20 s grace) and removes a container; one that is already gone or stopped is fine.</summary>
    public static async Task RemoveContainerAsync(IDockerClient docker, string name, CancellationToken ct)
    {
        try
        {
            await docker.Containers.StopContainerAsync(name, new ContainerStopParameters { WaitBeforeKillSeconds = 20 }, ct).ConfigureAwait(false);
        }
        catch (DockerApiException ex) when (ex.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.NotModified) { }
        try
        {
            // RemoveVolumes (docker rm -v) removes the container's anonymous volumes only; named volumes (our data) stay.
            // apache/kafka 3.7.1 declares VOLUME /etc/kafka/secrets, /var/lib/kafka/data, /mnt/shared/config
            // (docker/docker_official_images/3.7.1/jvm/Dockerfile): each recreation left two anonymous volumes behind.
            await docker.Containers.RemoveContainerAsync(name, new ContainerRemoveParameters { Force = true, RemoveVolumes = true }, ct).ConfigureAwait(false);
        }
        catch (DockerApiException ex) when (ex.StatusCode == HttpStatusCode.NotFound) { }
    }

    public static string ShortId(string? id) =>
        string.IsNullOrEmpty(id) ? "" : (id.StartsWith("sha256:", StringComparison.Ordinal) ? id[7..] : id)[..Math.Min(12, id.Length - (id.StartsWith("sha256:", StringComparison.Ordinal) ? 7 : 0))];
}
