using Xunit;
using System.Buffers;
using System.Text;
using PiBench.Core.Nexmark;

namespace PiBench.Core.Tests.Nexmark;

/// <summary>
/// Finds the Nexmark reference vectors: $PIBENCH_VECTORS_DIR, else tests/vectors/nexmark in the repository (the folder
/// holding PiBench.sln), so a clone passes on its own. A missing folder or file fails the test; it never skips.
/// </summary>
internal static class NexmarkVectors
{
    public const string FlinkSeeded = "flink-head-seeded_1gen_first2000.jsonl";
    public const string FlinkKafka = "flink-head-seeded_1gen_first100_kafka-json-shape.jsonl";
    public const string Beam = "beam-equivalent_1gen_first2000.jsonl";
    public const string FlinkUnmodified = "flink-head-unmodified-sample_1gen_first2000.jsonl";

    public static string Directory => s_dir.Value;

    private static readonly Lazy<string> s_dir = new(Find);

    private static string Find()
    {
        if (Environment.GetEnvironmentVariable("PIBENCH_VECTORS_DIR") is { Length: > 0 } env)
        {
            if (!System.IO.Directory.Exists(env)) throw new DirectoryNotFoundException($"PIBENCH_VECTORS_DIR={env} does not exist.");
            return Path.GetFullPath(env);
        }
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (!File.Exists(Path.Combine(dir.FullName, "PiBench.sln"))) continue;
            var inRepo = Path.Combine(dir.FullName, "tests", "vectors", "nexmark");
            if (System.IO.Directory.Exists(inRepo)) return inRepo;
            throw new DirectoryNotFoundException($"Nexmark reference vectors not found: {inRepo} is missing; set PIBENCH_VECTORS_DIR.");
        }
        throw new DirectoryNotFoundException($"PiBench.sln not found above {AppContext.BaseDirectory}; set PIBENCH_VECTORS_DIR.");
    }

    public static string PathOf(string file)
    {
        var path = Path.Combine(Directory, file);
        if (!File.Exists(path)) throw new FileNotFoundException($"Reference vector {path} is missing.", path);
        return path;
    }

    public static byte[] Bytes(string file) => File.ReadAllBytes(PathOf(file));

    public static string[] Lines(string file)
    {
        var text = File.ReadAllText(PathOf(file), new UTF8Encoding(false));
        Assert.EndsWith("\n", text);
        return text[..^1].Split('\n');
    }

    /// <summary>The configuration common to all vector files (README "Exact configuration").</summary>
    public static NexmarkConfiguration Config(NexmarkProfile profile) => new()
    {
        Profile = profile,
        BaseTime = NexmarkDefaults.BeamBaseTime,
        FirstEventId = profile == NexmarkProfile.Flink ? 1 : 0,
        FirstEventNumber = profile == NexmarkProfile.Flink ? 1 : 0,
        GeneratorSeed = 3, UrlSeed = 2, ExtraSeed = 1,
    };

    /// <summary>The first <paramref name="count"/> events in <paramref name="shape"/>, each line ending in '\n', as bytes.</summary>
    public static byte[] Generate(NexmarkConfiguration config, int count, NexmarkJsonShape shape)
    {
        var gen = new NexmarkGenerator(config);
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(1 << 20);
        for (int i = 0; i < count; i++)
        {
            Assert.True(gen.TryNext(out var ev));
            NexmarkJson.Write(ev, shape, buffer);
            buffer.Write("\n"u8);
        }
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Asserts byte equality and, on a difference, names the first differing line with both texts.</summary>
    public static void AssertSameBytes(byte[] expected, byte[] actual, string file)
    {
        if (expected.AsSpan().SequenceEqual(actual)) return;
        var e = Encoding.UTF8.GetString(expected).Split('\n');
        var a = Encoding.UTF8.GetString(actual).Split('\n');
        for (int i = 0; i < Math.Min(e.Length, a.Length); i++)
            if (e[i] != a[i])
                Assert.Fail($"{file}: line {i + 1} differs\nexpected: {e[i]}\nactual:   {a[i]}");
        Assert.Fail($"{file}: {e.Length} lines expected, {a.Length} generated ({expected.Length} vs {actual.Length} bytes)");
    }
}
