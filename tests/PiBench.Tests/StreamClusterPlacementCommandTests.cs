using System.Management.Automation;
using PiBench.Tests.Harness;

namespace PiBench.Tests;

/// <summary>Test-StreamCluster's job parameters (SubtaskPlacement). The check itself runs against the engine
/// stand-ins in PiBench.Core.Tests (PlacementTests); the full cmdlet needs the deployment lab (DeploymentTests).</summary>
[Collection("module")]
public sealed class StreamClusterPlacementCommandTests(ModuleFixture fx)
{
    [Theory]
    [InlineData("Test-StreamCluster -JobId 0123", "SystemRequired")]
    [InlineData("Test-StreamCluster -System Arroyo -JobId job_1", "PipelineIdMissing")]
    [InlineData("[pscustomobject]@{ System = 'Arroyo'; JobId = 'job_1'; PipelineId = ''; Parallelism = 9 } | Test-StreamCluster", "PipelineIdMissing")]
    public void JobWithoutWhatTheEngineNeeds_IsATerminatingArgumentError(string script, string errorId)
    {
        var r = fx.Run(script);
        Assert.Empty(r.Output);
        var record = Assert.Single(r.Errors);
        Assert.StartsWith(errorId + ",", record.FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.InvalidArgument, record.CategoryInfo.Category);
    }

    [Fact]
    public void JobParameters_BindFromANexmarkQueryRun()
    {
        var r = fx.Run("(Get-Command Test-StreamCluster).Parameters['JobId','PipelineId','Parallelism','System'].ForEach({ $_.Name + '=' + $_.ParameterSets['__AllParameterSets'].ValueFromPipelineByPropertyName })").AssertNoErrors();
        Assert.Equal(["JobId=True", "PipelineId=True", "Parallelism=True", "System=True"], r.Output.Select(o => o.ToString()));
    }
}
