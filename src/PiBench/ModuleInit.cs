using System.Management.Automation;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Loader;

namespace PiBench;

/// <summary>
/// Loads PiBench.Core and all of its dependencies (SSH.NET, YamlDotNet, Confluent.Kafka, Docker.DotNet,
/// native librdkafka) from <c>dependencies/</c> into a private AssemblyLoadContext, so they never clash with
/// assemblies that pwsh or another module loaded. The default context is asked only for PiBench.Core.
/// </summary>
public sealed class PiBenchModuleInit : IModuleAssemblyInitializer
{
    private static readonly object s_gate = new();
    private static PiBenchLoadContext? s_alc;
    private static bool s_hooked;

    /// <summary>Runs as soon as PiBench.dll is loaded, before any cmdlet type is touched.</summary>
#pragma warning disable CA2255 // a module library must hook its load context before PowerShell reflects over cmdlets
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void Hook()
    {
        lock (s_gate)
        {
            if (s_hooked) return;
            var root = Path.GetDirectoryName(typeof(PiBenchModuleInit).Assembly.Location)!;
            var engine = Path.Combine(root, "dependencies", "PiBench.Core.dll");
            if (!File.Exists(engine)) return; // not the staged layout (e.g. a unit-test bin folder)
            s_alc = new PiBenchLoadContext(engine);
            AssemblyLoadContext.Default.Resolving += OnResolving;
            s_hooked = true;
        }
    }

    /// <inheritdoc />
    public void OnImport() => Hook();

    /// <summary>The private load context, for diagnostics and tests.</summary>
    public static AssemblyLoadContext? LoadContext => s_alc;

    private static Assembly? OnResolving(AssemblyLoadContext _, AssemblyName name) =>
        string.Equals(name.Name, "PiBench.Core", StringComparison.Ordinal) ? s_alc!.LoadFromAssemblyName(name) : null;
}

/// <summary>The private context: managed and native dependencies resolved from PiBench.Core.deps.json.</summary>
internal sealed class PiBenchLoadContext : AssemblyLoadContext
{
    private readonly AssemblyDependencyResolver _deps;
    private readonly string _dir;

    public PiBenchLoadContext(string engineDll) : base("PiBench.Core", isCollectible: false)
    {
        _deps = new AssemblyDependencyResolver(engineDll);
        _dir = Path.GetDirectoryName(engineDll)!;
    }

    protected override Assembly? Load(AssemblyName name) =>
        _deps.ResolveAssemblyToPath(name) is { } path ? LoadFromAssemblyPath(path) : null; // null: default context (runtime)

    protected override IntPtr LoadUnmanagedDll(string name)
    {
        if (_deps.ResolveUnmanagedDllToPath(name) is { } path && NativeLibrary.TryLoad(path, out var handle))
            return handle;
        // librdkafka.redist ships runtimes/<rid>/native/ files that the deps.json may name differently
        // (centos8-librdkafka on glibc without libsasl2.so.3). Probe the folder for this platform.
        foreach (var candidate in NativeCandidates(name))
            if (File.Exists(candidate) && NativeLibrary.TryLoad(candidate, out handle))
                return handle;
        return IntPtr.Zero; // let the caller fall back (Confluent tries its next name)
    }

    private IEnumerable<string> NativeCandidates(string name)
    {
        var os = OperatingSystem.IsWindows() ? "win" : OperatingSystem.IsMacOS() ? "osx" : "linux";
        var arch = RuntimeInformation.ProcessArchitecture.ToString().ToLowerInvariant();
        var ext = OperatingSystem.IsWindows() ? ".dll" : OperatingSystem.IsMacOS() ? ".dylib" : ".so";
        var file = name.EndsWith(ext, StringComparison.Ordinal) ? name : name + ext;
        var native = Path.Combine(_dir, "runtimes", $"{os}-{arch}", "native");
        yield return Path.Combine(native, file);
        if (!OperatingSystem.IsWindows() && !file.StartsWith("lib", StringComparison.Ordinal))
            yield return Path.Combine(native, "lib" + file);
    }
}
