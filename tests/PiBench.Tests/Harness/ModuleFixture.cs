using System.Management.Automation;
using System.Management.Automation.Runspaces;

namespace PiBench.Tests.Harness;

/// <summary>Where the staged module is: out/PiBench/PiBench.psd1 above the test bin folder (or PIBENCH_MODULE_DIR).</summary>
public static class StagedModule
{
    public static string Directory { get; } = Find();
    public static string Psd1Path => Path.Combine(Directory, "PiBench.psd1");
    public static string RepoRoot => Path.GetFullPath(Path.Combine(Directory, "..", ".."));

    private static string Find()
    {
        if (Environment.GetEnvironmentVariable("PIBENCH_MODULE_DIR") is { Length: > 0 } env) return Path.GetFullPath(env);
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "out", "PiBench");
            if (File.Exists(Path.Combine(candidate, "PiBench.psd1"))) return candidate;
        }
        throw new InvalidOperationException("out/PiBench/PiBench.psd1 not found: build the solution first (dotnet build PiBench.sln).");
    }
}

/// <summary>
/// One initial session state that imports the staged module, shared by every test (the module's load context
/// and native libraries are loaded once per process). Each test creates its own runspace from it.
/// </summary>
public sealed class ModuleFixture
{
    public InitialSessionState State { get; }

    public ModuleFixture()
    {
        Environment.SetEnvironmentVariable("POWERSHELL_TELEMETRY_OPTOUT", "1");
        Environment.SetEnvironmentVariable("POWERSHELL_UPDATECHECK", "Off");
        State = InitialSessionState.CreateDefault2();
        State.ImportPSModule(new[] { StagedModule.Psd1Path });
        State.ThrowOnRunspaceOpenError = true;
        if (OperatingSystem.IsWindows()) State.ExecutionPolicy = Microsoft.PowerShell.ExecutionPolicy.Bypass;
    }

    /// <summary>Runs a script in a fresh runspace; returns output and the streams for assertions.</summary>
    public PsResult Run(string script, IDictionary<string, object?>? variables = null, TimeSpan? timeout = null)
    {
        using var ps = PowerShell.Create(State);
        if (variables is not null)
            foreach (var (k, v) in variables)
                ps.Runspace.SessionStateProxy.SetVariable(k, v);
        ps.AddScript(script);
        var output = new PSDataCollection<PSObject>();
        Exception? terminating = null;
        var async = ps.BeginInvoke<PSObject, PSObject>(null, output);
        if (!async.AsyncWaitHandle.WaitOne(timeout ?? TimeSpan.FromMinutes(3)))
        {
            ps.Stop();
            throw new TimeoutException($"script did not finish within {timeout ?? TimeSpan.FromMinutes(3)}: {script}");
        }
        try { ps.EndInvoke(async); }
        catch (RuntimeException ex) { terminating = ex; }
        return new PsResult(output.ToList(), ps.Streams.Error.ToList(), ps.Streams.Warning.Select(w => w.Message).ToList(),
            ps.Streams.Verbose.Select(v => v.Message).ToList(), ps.Streams.Progress.ToList(), terminating);
    }
}

public sealed record PsResult(
    List<PSObject> Output,
    List<ErrorRecord> Errors,
    List<string> Warnings,
    List<string> Verbose,
    List<ProgressRecord> Progress,
    Exception? Terminating)
{
    /// <summary>Fails with the error text when the script wrote any error or threw.</summary>
    public PsResult AssertNoErrors()
    {
        if (Terminating is not null) throw new Xunit.Sdk.XunitException($"terminating error: {Terminating}");
        if (Errors.Count > 0)
            throw new Xunit.Sdk.XunitException("errors: " + string.Join("\n", Errors.Select(e => $"{e.FullyQualifiedErrorId}: {e}")));
        return this;
    }

    public object? Prop(int index, string name) => Output[index].Properties[name]?.Value;
}

[CollectionDefinition("module")]
public sealed class ModuleCollection : ICollectionFixture<ModuleFixture> { }
