using System.Reflection;

namespace PiBench.Core;

/// <summary>Facts about this build of PiBench, recorded with every result.</summary>
public static class ModuleInfo
{
    public static string Version { get; } =
        typeof(ModuleInfo).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion?.Split('+')[0]
        ?? typeof(ModuleInfo).Assembly.GetName().Version?.ToString() ?? "0.0.0";

    /// <summary>Folder holding PiBench.Core.dll (dependencies/ in the staged module).</summary>
    public static string AssemblyDirectory { get; } = Path.GetDirectoryName(typeof(ModuleInfo).Assembly.Location) ?? ".";

    /// <summary>The module root (parent of dependencies/), where config/ and examples/ are staged.</summary>
    public static string ModuleRoot
    {
        get
        {
            var dir = new DirectoryInfo(AssemblyDirectory);
            return dir.Name.Equals("dependencies", StringComparison.OrdinalIgnoreCase) && dir.Parent is not null
                ? dir.Parent.FullName : dir.FullName;
        }
    }
}
