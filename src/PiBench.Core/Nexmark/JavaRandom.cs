namespace PiBench.Core.Nexmark;

// Bit-exact ports of the two JDK random number generators the Nexmark generator uses
// (spec: shared/reference/nexmark-generator.md, section 7). Every body is unchecked: Java arithmetic wraps.
//
// The generator itself works on the two structs below through a generic constraint (IJavaRng), so the JIT
// specialises the per-event code for each RNG and no call is virtual. The public classes JavaRandom and
// JavaSplittableRandom wrap the same structs for callers and tests.

/// <summary>The draw operations shared by both JDK generators (internal: lets the generator be generic).</summary>
internal interface IJavaRng
{
    int NextInt();
    int NextInt(int bound);
    long NextLong();
    double NextDouble();
}

/// <summary>State of <c>java.util.Random</c> (48-bit LCG), spec 7.1.</summary>
internal struct JavaLcg : IJavaRng
{
    private const long Mult = 0x5DEECE66DL, Add = 0xBL, Mask = (1L << 48) - 1;
    private long _seed;

    public JavaLcg(long seed) => _seed = (seed ^ Mult) & Mask;

    private int Next(int bits)
    {
        unchecked
        {
            _seed = (_seed * Mult + Add) & Mask;
            return (int)(_seed >>> (48 - bits));
        }
    }

    public int NextInt() => Next(32);

    public int NextInt(int bound)
    {
        unchecked
        {
            int r = Next(31);
            int m = bound - 1;
            if ((bound & m) == 0) return (int)((bound * (long)r) >> 31); // power of two: the HIGH bits
            for (int u = r; u - (r = u % bound) + m < 0; u = Next(31)) { }
            return r;
        }
    }

    public long NextLong() { unchecked { return ((long)Next(32) << 32) + Next(32); } }

    public double NextDouble() { unchecked { return (((long)Next(26) << 27) + Next(27)) * (1.0 / (1L << 53)); } }
}

/// <summary>State of a seeded <c>java.util.SplittableRandom</c> (SplitMix64, golden gamma), spec 7.2.</summary>
internal struct SplitMix : IJavaRng
{
    private const ulong Gamma = 0x9E3779B97F4A7C15UL;
    private ulong _seed;

    public SplitMix(long seed) => _seed = unchecked((ulong)seed);

    /// <summary>The whole state (the gamma is the fixed constant), for save and restore.</summary>
    public long State { readonly get => unchecked((long)_seed); set => _seed = unchecked((ulong)value); }

    private ulong NextSeed() { unchecked { return _seed += Gamma; } }

    private static long Mix64(ulong z)
    {
        unchecked
        {
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            return (long)(z ^ (z >> 31));
        }
    }

    private static int Mix32(ulong z)
    {
        unchecked
        {
            z = (z ^ (z >> 33)) * 0x62A9D9ED799705F5UL;
            return (int)(((z ^ (z >> 28)) * 0xCB24D0A5C88C35B3UL) >> 32);
        }
    }

    public int NextInt() => Mix32(NextSeed());

    public long NextLong() => Mix64(NextSeed());

    public double NextDouble() { unchecked { return ((ulong)NextLong() >> 11) * (1.0 / (1L << 53)); } }

    public int NextInt(int bound)
    {
        unchecked
        {
            int r = NextInt();
            int m = bound - 1;
            if ((bound & m) == 0) return r & m; // power of two: the LOW bits
            for (int u = r >>> 1; u + m - (r = u % bound) < 0; u = NextInt() >>> 1) { }
            return r;
        }
    }
}

/// <summary>
/// A bit-exact port of JDK 17 <c>java.util.Random</c> (the 48-bit linear congruential generator):
/// the same seed gives the same sequence of <c>nextInt</c>, <c>nextInt(bound)</c>, <c>nextLong</c> and
/// <c>nextDouble</c> values as Java. Not thread-safe.
/// </summary>
public sealed class JavaRandom
{
    private JavaLcg _state;

    /// <summary>Same as <c>new java.util.Random(seed)</c>.</summary>
    public JavaRandom(long seed) => _state = new JavaLcg(seed);

    /// <summary>Java <c>nextInt()</c>: a full signed 32-bit value.</summary>
    public int NextInt() => _state.NextInt();

    /// <summary>Java <c>nextInt(bound)</c>: 0 (inclusive) to <paramref name="bound"/> (exclusive).</summary>
    /// <exception cref="ArgumentOutOfRangeException">bound is not positive (Java throws IllegalArgumentException).</exception>
    public int NextInt(int bound)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(bound);
        return _state.NextInt(bound);
    }

    /// <summary>Java <c>nextLong()</c>.</summary>
    public long NextLong() => _state.NextLong();

    /// <summary>Java <c>nextDouble()</c>: 53 random bits in [0, 1).</summary>
    public double NextDouble() => _state.NextDouble();
}

/// <summary>
/// A bit-exact port of a seeded JDK 17 <c>java.util.SplittableRandom</c> (SplitMix64 with the golden gamma
/// <c>0x9E3779B97F4A7C15</c>). Only the seeded constructor is offered: PiBench never uses the unseeded one.
/// Not thread-safe.
/// </summary>
public sealed class JavaSplittableRandom
{
    private SplitMix _state;

    /// <summary>Same as <c>new java.util.SplittableRandom(seed)</c>.</summary>
    public JavaSplittableRandom(long seed) => _state = new SplitMix(seed);

    /// <summary>The 64-bit state; with the fixed gamma this is everything needed to resume the sequence.</summary>
    public long State { get => _state.State; set => _state.State = value; }

    /// <summary>Java <c>nextInt()</c>.</summary>
    public int NextInt() => _state.NextInt();

    /// <summary>Java <c>nextInt(bound)</c>: 0 (inclusive) to <paramref name="bound"/> (exclusive).</summary>
    /// <exception cref="ArgumentOutOfRangeException">bound is not positive (Java throws IllegalArgumentException).</exception>
    public int NextInt(int bound)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(bound);
        return _state.NextInt(bound);
    }

    /// <summary>Java <c>nextLong()</c>.</summary>
    public long NextLong() => _state.NextLong();

    /// <summary>Java <c>nextDouble()</c>: 53 random bits in [0, 1).</summary>
    public double NextDouble() => _state.NextDouble();
}
