namespace PiBench.Benchmarks;

/// <summary>
/// Entry point: each benchmark measures PiBench against a reference in the same run and prints the ratio.
/// Usage: dotnet run -c Release --project tests/PiBench.Benchmarks -- [benchmark-name ...]
/// Names starting with "internal-" are helpers other benchmarks start as child processes; they are not run by default.
/// </summary>
public static class Program
{
    private static readonly Dictionary<string, Func<string[], Task>> Benchmarks = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Benchmarks register themselves here (one static class per area).</summary>
    public static void Register(string name, Func<string[], Task> run) => Benchmarks[name] = run;

    public static async Task<int> Main(string[] args)
    {
        foreach (var t in typeof(Program).Assembly.GetTypes())
            if (t.GetMethod("RegisterAll", System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Static) is { } m && t != typeof(Program))
                m.Invoke(null, null);
        var names = args.Length == 0 ? Benchmarks.Keys.Where(k => !k.StartsWith("internal-", StringComparison.Ordinal)).OrderBy(k => k).ToArray() : args;
        if (Benchmarks.Count == 0) { Console.WriteLine("no benchmarks registered"); return 0; }
        foreach (var name in names)
        {
            if (!Benchmarks.TryGetValue(name, out var run)) { Console.Error.WriteLine($"unknown benchmark '{name}'; known: {string.Join(", ", Benchmarks.Keys)}"); return 2; }
            Console.WriteLine($"== {name} ==");
            await run(args);
        }
        return 0;
    }
}
