using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Runspaces;

namespace PiBench.Shell;

/// <summary>
/// pibench-shell: runs PowerShell with the PiBench module on machines without pwsh.
///   PiBench.Shell [-Module path/to/PiBench.psd1] -Command "Get-PiNode | Test-PiNode"
///   PiBench.Shell [-Module ...] -File examples/quickstart.ps1 [args...]
///   PiBench.Shell --generate-help out/PiBench/
/// Output objects are printed readably (tables for types with a PiBench format view), errors go to stderr,
/// and the exit code is 1 when any error was written.
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        Environment.SetEnvironmentVariable("POWERSHELL_TELEMETRY_OPTOUT", "1");
        Environment.SetEnvironmentVariable("POWERSHELL_UPDATECHECK", "Off");
        try
        {
            if (args.Length >= 1 && args[0] == "--generate-help")
                return HelpGenerator.Run(args.Length > 1 ? args[1] : FindStagedModuleDir());
            return RunShell(args);
        }
        catch (Exception ex)
        {
            Console.Error.WriteLine($"pibench-shell: {ex.Message}");
            return 2;
        }
    }

    private static int RunShell(string[] args)
    {
        string? module = null, command = null, file = null;
        var fileArgs = new List<string>();
        for (var i = 0; i < args.Length; i++)
        {
            var a = args[i];
            if (file is not null) { fileArgs.Add(a); continue; }
            switch (a.ToLowerInvariant())
            {
                case "-module": case "--module": module = Next(args, ref i, a); break;
                case "-command": case "-c": case "--command": command = string.Join(' ', args.Skip(i + 1)); i = args.Length; break;
                case "-file": case "-f": case "--file": file = Next(args, ref i, a); break;
                case "-h": case "--help": case "-?":
                    Console.WriteLine("usage: PiBench.Shell [-Module <PiBench.psd1>] (-Command <script> | -File <script.ps1> [args])");
                    return 0;
                default:
                    if (command is null && file is null && a.EndsWith(".ps1", StringComparison.OrdinalIgnoreCase)) { file = a; }
                    else throw new ArgumentException($"unknown argument '{a}'. Use -Command or -File.");
                    break;
            }
        }
        if (command is null && file is null)
            throw new ArgumentException("nothing to run: give -Command <script> or -File <script.ps1>.");

        module ??= Path.Combine(FindStagedModuleDir(), "PiBench.psd1");
        if (!File.Exists(module))
            throw new FileNotFoundException($"module manifest not found: {module}. Run 'dotnet build PiBench.sln' first, or pass -Module.");

        var iss = InitialSessionState.CreateDefault2();
        iss.ImportPSModule(new[] { Path.GetFullPath(module) });
        iss.ThrowOnRunspaceOpenError = true;
        if (OperatingSystem.IsWindows()) iss.ExecutionPolicy = Microsoft.PowerShell.ExecutionPolicy.Bypass;

        var formats = FormatViews.Load(Path.GetDirectoryName(Path.GetFullPath(module))!);
        var printer = new ObjectPrinter(formats, Console.Out);
        var failed = false;

        using var runspace = RunspaceFactory.CreateRunspace(new ShellHost(), iss);
        runspace.Open();
        using var ps = PowerShell.Create();
        ps.Runspace = runspace;
        if (file is not null)
        {
            ps.AddCommand(Path.GetFullPath(file));
            foreach (var a in fileArgs) ps.AddArgument(a);
        }
        else
        {
            ps.AddScript(command!);
        }

        ps.Streams.Error.DataAdded += (s, e) =>
        {
            failed = true;
            var rec = ((PSDataCollection<ErrorRecord>)s!)[e.Index];
            printer.Flush();
            Console.Error.WriteLine($"ERROR: {rec} [{rec.FullyQualifiedErrorId}]");
            if (rec.ErrorDetails?.RecommendedAction is { Length: > 0 } action) Console.Error.WriteLine($"  -> {action}");
        };
        ps.Streams.Warning.DataAdded += (s, e) => Console.Error.WriteLine($"WARNING: {((PSDataCollection<WarningRecord>)s!)[e.Index].Message}");
        ps.Streams.Information.DataAdded += (s, e) => Console.Error.WriteLine(((PSDataCollection<InformationRecord>)s!)[e.Index].MessageData);
        if (Environment.GetEnvironmentVariable("PIBENCH_VERBOSE") == "1")
            ps.Streams.Verbose.DataAdded += (s, e) => Console.Error.WriteLine($"VERBOSE: {((PSDataCollection<VerboseRecord>)s!)[e.Index].Message}");

        var output = new PSDataCollection<PSObject>();
        output.DataAdded += (s, e) =>
        {
            var item = ((PSDataCollection<PSObject>)s!)[e.Index];
            try { printer.Write(item); }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                // Printing must never fail the command: fall back to the object's text.
                Console.Out.WriteLine(item?.ToString() ?? "");
            }
        };
        Console.CancelKeyPress += (_, e) => { e.Cancel = true; ps.BeginStop(null, null); };
        try
        {
            ps.Invoke(null, output);
        }
        catch (RuntimeException ex)
        {
            printer.Flush();
            Console.Error.WriteLine($"ERROR: {ex.Message} [{ex.ErrorRecord?.FullyQualifiedErrorId}]");
            return 1;
        }
        printer.Flush();
        return failed || ps.HadErrors ? 1 : 0;
    }

    private static string Next(string[] args, ref int i, string name) =>
        ++i < args.Length ? args[i] : throw new ArgumentException($"{name} needs a value.");

    /// <summary>Finds out/PiBench from the environment, the working directory or the tool's own folder.</summary>
    internal static string FindStagedModuleDir()
    {
        if (Environment.GetEnvironmentVariable("PIBENCH_MODULE_DIR") is { Length: > 0 } env) return env;
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, "out", "PiBench");
                if (File.Exists(Path.Combine(candidate, "PiBench.psd1"))) return candidate;
            }
        }
        return Path.Combine(Directory.GetCurrentDirectory(), "out", "PiBench");
    }
}
