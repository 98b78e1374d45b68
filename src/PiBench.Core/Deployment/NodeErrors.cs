using System.Net.Http;
using System.Net.Sockets;
using Docker.DotNet;

namespace PiBench.Core.Deployment;

/// <summary>Turns a failure on one node into the per-node <see cref="PiBenchException"/> every deployment job reports
/// (stable ErrorId and category by cause, the node as target, what to do).</summary>
internal static class NodeErrors
{
    public static PiBenchException From(DeploymentNode node, Exception ex, string doing)
    {
        if (ex is PiBenchException pb)
            return pb.TargetObject is string t && t == node.Name ? pb
                : new PiBenchException(pb.ErrorId, pb.Category, pb.Message.Contains(node.Name, StringComparison.Ordinal) ? pb.Message : $"{node.Name}: {pb.Message}",
                    node.Name, pb.RecommendedAction, pb);
        var (id, cat, action) = ex switch
        {
            SocketException or Renci.SshNet.Common.SshConnectionException or TimeoutException or Renci.SshNet.Common.SshOperationTimeoutException
                => ("NodeUnreachable", PiBenchErrorCategory.ConnectionError, "Check that the node is up and reachable over SSH, then run the command again."),
            Renci.SshNet.Common.SshAuthenticationException
                => ("SshAuthenticationFailed", PiBenchErrorCategory.AuthenticationError, "Install the SSH key on the node (Install-PiSshKey)."),
            HttpRequestException or IOException or Renci.SshNet.Common.SshException
                => ("DockerUnreachable", PiBenchErrorCategory.ConnectionError, "Check that Docker runs on the node and the SSH user may use it (Install-PiDocker)."),
            DockerApiException
                => ("DockerRequestFailed", PiBenchErrorCategory.InvalidOperation, "Read the message; fix the node's Docker state and run the command again."),
            _ => ("NodeOperationFailed", PiBenchErrorCategory.InvalidOperation, "Read the message and run the command again."),
        };
        var inner = ex is AggregateException { InnerException: { } i } ? i : ex;
        return new PiBenchException(id, cat, $"{node.Name} ({node.Address}): {doing} failed: {Remote.ExceptionText.WithCauses(inner)}", node.Name, action, ex);
    }
}
