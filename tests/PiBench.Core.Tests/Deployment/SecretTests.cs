using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using PiBench.Core;
using PiBench.Core.Deployment;
using PiBench.Core.Topology;
using Xunit;

namespace PiBench.Core.Tests.Deployment;

/// <summary>The MinIO secret key never prints, and the config label does not give it away.</summary>
public sealed class SecretTests
{
    private const string Password = "s3cr3t-Pa55word";

    [Fact]
    public void TheTopologysSecretKey_IsRedacted_InToStringAndJson_ButReachesTheDeployment()
    {
        var t = ClusterTopology.Parse($"minio:\n  access_key: bench\n  secret_key: {Password}\nnodes:\n  - {{ name: pi1, address: 127.0.0.70, role: controller }}\n  - {{ name: pi2, address: 127.0.0.71, role: worker }}\n", "t.yaml");
        Assert.Equal("********", t.Minio.SecretKey.ToString());
        Assert.Equal("********", $"{t.Minio.SecretKey}");
        Assert.DoesNotContain(Password, JsonSerializer.Serialize(t.Minio));
        Assert.DoesNotContain(Password, JsonSerializer.Serialize(t));
        Assert.False(t.Minio.UsesDefaultCredentials);
        Assert.Equal(Password, ClusterSession.SettingsFrom(t).MinioPassword); // the deploy helper's accessor still gets it
        Assert.Empty(typeof(Secret).GetProperties()); // nothing for PowerShell's views or ConvertTo-Json to show
    }

    [Fact]
    public void TheConfigLabel_IsNotAShortPlainHashOverThePassword_ButStillChangesWithIt()
    {
        var nodes = new[] { new DeploymentNode("pi1", "127.0.0.70", true), new DeploymentNode("pi2", "127.0.0.71", false) };
        ServiceSpec Minio(string pw) => new ServiceCatalog(nodes, new DeploymentSettings { MinioPassword = pw }).For(StreamSystem.Arroyo)
            .Single(s => s.Environment.ContainsKey("MINIO_ROOT_PASSWORD"));
        var spec = Minio(Password);
        // The previous label: the first 16 hex digits of an unsalted SHA-256 over everything, the password included,
        // so anyone reading the label could test password guesses at full speed.
        var sb = new StringBuilder();
        sb.Append(spec.Image).Append('\n').Append(string.Join('\u0001', spec.Command)).Append('\n');
        foreach (var (k, v) in spec.Environment.OrderBy(e => e.Key, StringComparer.Ordinal)) sb.Append(k).Append('=').Append(v).Append('\n');
        sb.Append(spec.MemoryBytes).Append('\n').Append(spec.RestartPolicy).Append('\n').Append(ServiceSpec.NetworkMode).Append('\n');
        foreach (var v in spec.Volumes) sb.Append(v.Name).Append(':').Append(v.Path).Append('\n');
        var plain = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(sb.ToString())))[..16].ToLowerInvariant();
        Assert.NotEqual(plain, spec.ConfigHash);
        Assert.Equal(spec.ConfigHash, Minio(Password).ConfigHash);    // stable: the same deployment is recognised
        Assert.NotEqual(spec.ConfigHash, Minio("other").ConfigHash);  // a new password still redeploys
        Assert.True(ServiceSpec.IsSecretKey("MINIO_ROOT_PASSWORD") && ServiceSpec.IsSecretKey("AWS_SECRET_ACCESS_KEY") && !ServiceSpec.IsSecretKey("AWS_ACCESS_KEY_ID"));
    }
}
