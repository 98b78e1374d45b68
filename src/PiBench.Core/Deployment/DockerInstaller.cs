namespace PiBench.Core.Deployment;

/// <summary>
/// Checks Docker on every node and installs it where it is missing (Debian's <c>docker.io</c> on Raspberry Pi OS,
/// no <c>curl | sh</c>), adding the SSH user to the <c>docker</c> group.
/// </summary>
public sealed class DockerInstaller(ClusterSession session, IProgressSink? progress = null)
{
    private const string Probe = "command -v docker >/dev/null 2>&1 || { echo missing; exit 3; }; docker version --format '{{.Server.Version}}'";

    /// <summary>What each node needs: None, Install or AddToGroup. Unreachable nodes become errors.</summary>
    public async Task<(List<PiDockerStatus> Status, List<PiBenchException> Errors)> CheckAsync(IEnumerable<DeploymentNode> nodes, CancellationToken ct)
    {
        var results = await Task.WhenAll(nodes.Select(async n =>
        {
            try
            {
                var r = await session.RunAsync(n, Probe, ct).ConfigureAwait(false);
                var version = r.Output.Trim();
                if (r.ExitCode == 0 && version.Length > 0)
                    return (new PiDockerStatus { Node = n.Name, Installed = true, Version = version, UserCanUseDocker = true, Action = "None", Detail = $"Docker {version}" }, (PiBenchException?)null);
                if (r.ExitCode == 3)
                    return (new PiDockerStatus { Node = n.Name, Installed = false, Action = "Install", Detail = "docker is not installed" }, null);
                return (new PiDockerStatus { Node = n.Name, Installed = true, UserCanUseDocker = false, Action = "AddToGroup", Detail = r.Error.Trim() }, null);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
            {
                return ((PiDockerStatus?)null, NodeErrors.From(n, ex, "checking Docker"));
            }
        })).ConfigureAwait(false);
        return (results.Where(r => r.Item1 is not null).Select(r => r.Item1!).ToList(),
                results.Where(r => r.Item2 is not null).Select(r => r.Item2!).ToList());
    }

    /// <summary>Installs or fixes Docker on one node and re-checks it.</summary>
    public async Task<PiDockerStatus> ApplyAsync(DeploymentNode node, PiDockerStatus status, CancellationToken ct)
    {
        var user = session.PiNodeOf(node).User;
        var quotedUser = Remote.SshConnectionPool.ShellQuote(user);
        var script = status.Action == "Install"
            ? $"export DEBIAN_FRONTEND=noninteractive; apt-get update -qq && apt-get install -y -qq docker.io && systemctl enable --now docker && usermod -aG docker {quotedUser}"
            : $"usermod -aG docker {quotedUser}";
        progress?.Report("Install Docker", status.Action == "Install" ? "apt-get install docker.io" : "adding the user to the docker group", -1, node.Name);
        var r = await session.RunAsync(node, script, sudo: true, ct).ConfigureAwait(false);
        if (r.ExitCode != 0)
            throw new PiBenchException("DockerInstallFailed", PiBenchErrorCategory.InvalidResult,
                $"{node.Name}: installing Docker failed (exit {r.ExitCode}): {r.Error.Trim()}", node.Name,
                "The SSH user needs password-less sudo (or install docker.io by hand), then run Install-PiDocker again.");
        // Group membership applies to new logins: drop pooled connections so the re-check logs in again.
        session.Invalidate(node);
        var (after, errors) = await CheckAsync(new[] { node }, ct).ConfigureAwait(false);
        if (errors.Count > 0) throw errors[0];
        var s = after[0];
        return new PiDockerStatus { Node = s.Node, Installed = s.Installed, Version = s.Version, UserCanUseDocker = s.UserCanUseDocker,
            Action = status.Action, Detail = s.UserCanUseDocker ? $"Docker {s.Version}" : "installed; the docker group applies at the next login" };
    }
}
