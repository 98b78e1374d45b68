using System.Collections.Concurrent;
using System.Globalization;
using System.Text;

namespace PiBench.Core.Nexmark;

/// <summary>Fixed word lists of the generator (spec 5.1, 2.2).</summary>
internal static class NexmarkWords
{
    public static readonly string[] FirstNames = ["Peter", "Paul", "Luke", "John", "Saul", "Vicky", "Kate", "Julie", "Sarah", "Deiter", "Walter"];
    public static readonly string[] LastNames = ["Shultz", "Abrams", "Spencer", "White", "Bartels", "Walton", "Smith", "Jones", "Noris"];
    public static readonly string[] Cities = ["Phoenix", "Los Angeles", "San Francisco", "Boise", "Portland", "Bend", "Redmond", "Seattle", "Kent", "Cheyenne"];
    public static readonly string[] States = ["AZ", "CA", "ID", "OR", "WA", "WY"];
    public static readonly string[] HotChannels = ["Google", "Facebook", "Baidu", "Apple"];

    /// <summary>"First Last" for every pair, so a person's name costs no allocation: index first * 9 + last.</summary>
    public static readonly string[] FullNames = BuildFullNames();

    private static string[] BuildFullNames()
    {
        var names = new string[FirstNames.Length * LastNames.Length];
        for (int f = 0; f < FirstNames.Length; f++)
            for (int l = 0; l < LastNames.Length; l++)
                names[f * LastNames.Length + l] = FirstNames[f] + " " + LastNames[l];
        return names;
    }
}

/// <summary>Shared string procedures of spec 6 that several tables and the generator use.</summary>
internal static class NexmarkStrings
{
    /// <summary>
    /// Spec 6.1 <c>nextString(maxLength, special)</c> into <paramref name="buffer"/> (at least maxLength-1 long);
    /// returns the range left after Java's trim, which (for the ASCII produced here) removes only spaces.
    /// </summary>
    public static Range NextString<TR>(ref TR rng, int maxLength, char special, Span<char> buffer) where TR : struct, IJavaRng
    {
        int len = 3 + rng.NextInt(maxLength - 3);
        for (int i = 0; i < len; i++)
            buffer[i] = rng.NextInt(13) == 0 ? special : (char)('a' + rng.NextInt(26));
        if (special != ' ') return 0..len;
        int start = 0, end = len;
        while (start < end && buffer[start] == ' ') start++;
        while (end > start && buffer[end - 1] == ' ') end--;
        return start..end;
    }

    /// <summary>Spec 6.2 <c>exactStringLoop</c>: ceil(n/6) <c>nextInt()</c> draws, characters 'H' .. 'z'.</summary>
    public static void ExactStringLoop<TR>(ref TR rng, Span<char> dest) where TR : struct, IJavaRng
    {
        int rnd = 0, left = 0;
        for (int i = 0; i < dest.Length; i++)
        {
            if (left == 0) { rnd = rng.NextInt(); left = 6; }
            dest[i] = (char)('a' + rnd % 26); // % keeps the sign: -25 .. 25
            rnd /= 26;
            left--;
        }
    }

    /// <summary>Java <c>Math.abs(Integer.reverse(i))</c>, including abs(MIN_VALUE) = MIN_VALUE.</summary>
    public static int AbsReverse(int i)
    {
        uint v = unchecked((uint)i), r = 0;
        for (int b = 0; b < 32; b++) { r = (r << 1) | (v & 1); v >>= 1; }
        int rev = unchecked((int)r);
        return rev == int.MinValue ? int.MinValue : Math.Abs(rev);
    }
}

/// <summary>
/// Flink profile: the 1 MiB "extra" pool <c>exactStringLoop(SplittableRandom(extraSeed), 1048576)</c> (spec 6.3), as a
/// string and as its ASCII bytes. Built once per seed per process and cached.
/// </summary>
internal sealed class NexmarkExtraPool
{
    private static readonly ConcurrentDictionary<long, Lazy<NexmarkExtraPool>> Cache = new();

    public string Text { get; }
    public byte[] Utf8 { get; }
    public long Seed { get; }

    private NexmarkExtraPool(long seed)
    {
        Seed = seed;
        var chars = new char[NexmarkDefaults.ExtraPoolLength];
        var rng = new SplitMix(seed);
        NexmarkStrings.ExactStringLoop(ref rng, chars);
        Text = new string(chars);
        Utf8 = Encoding.ASCII.GetBytes(chars);
        PrintableAscii = chars.AsSpan().IndexOfAnyExceptInRange(' ', '~') < 0;
    }

    /// <summary>True when every character is printable ASCII (' '..'~'): the JSON writer can copy slices of <see cref="Utf8"/>.</summary>
    public bool PrintableAscii { get; }

    public static NexmarkExtraPool For(long seed) =>
        Cache.GetOrAdd(seed, s => new Lazy<NexmarkExtraPool>(() => new NexmarkExtraPool(s))).Value;
}

/// <summary>
/// Flink profile: <c>HOT_URLS[4]</c> then the 10,000 channel URLs, all from one <c>SplittableRandom(urlSeed)</c>
/// (spec 6.6), plus the channel names. Built once per seed per process and cached.
/// </summary>
internal sealed class NexmarkUrlTable
{
    private static readonly ConcurrentDictionary<long, Lazy<NexmarkUrlTable>> Cache = new();

    public string[] HotUrls { get; }
    public string[] ChannelUrls { get; }
    /// <summary>"channel-0" .. "channel-9999".</summary>
    public string[] ChannelNames { get; }
    public long Seed { get; }

    private NexmarkUrlTable(long seed)
    {
        Seed = seed;
        var rng = new SplitMix(seed);
        HotUrls = new string[NexmarkWords.HotChannels.Length];
        for (int i = 0; i < HotUrls.Length; i++) HotUrls[i] = BaseUrl(ref rng);
        ChannelUrls = new string[NexmarkDefaults.ChannelsNumber];
        ChannelNames = new string[NexmarkDefaults.ChannelsNumber];
        for (int i = 0; i < ChannelUrls.Length; i++)
        {
            var url = BaseUrl(ref rng);
            if (rng.NextInt(10) > 0) url = url + "&channel_id=" + NexmarkStrings.AbsReverse(i).ToString(CultureInfo.InvariantCulture);
            ChannelUrls[i] = url;
            ChannelNames[i] = "channel-" + i.ToString(CultureInfo.InvariantCulture);
        }
    }

    private ChannelJsonSlots? _channelJson;
    private bool _channelJsonBuilt;

    /// <summary>
    /// Per entry (the hot channels, then channel-0 ..) the Kafka JSON bytes <c>,"channel":"..","url":".."</c> with '"' and
    /// '\\' escaped, each in a slot of its own at a fixed stride (see <see cref="ChannelJsonSlots"/>); null when a name or
    /// URL is not printable ASCII (then the writer encodes the strings itself). Built once, on first use.
    /// </summary>
    public ChannelJsonSlots? ChannelJson
    {
        get
        {
            if (Volatile.Read(ref _channelJsonBuilt)) return _channelJson;
            lock (this)
            {
                if (_channelJsonBuilt) return _channelJson;
                var names = NexmarkWords.HotChannels.Concat(ChannelNames).ToArray();
                var urls = HotUrls.Concat(ChannelUrls).ToArray();
                var entries = new List<byte[]>(names.Length);
                var ok = true;
                for (var e = 0; e < names.Length && ok; e++)
                {
                    var bytes = new List<byte>(128);
                    bytes.AddRange(",\"channel\":"u8.ToArray());
                    ok &= Quote(names[e], bytes);
                    bytes.AddRange(",\"url\":"u8.ToArray());
                    ok &= Quote(urls[e], bytes);
                    entries.Add(bytes.ToArray());
                }
                _channelJson = ok ? new ChannelJsonSlots(entries) : null;
                Volatile.Write(ref _channelJsonBuilt, true);
                return _channelJson;
            }
        }
    }

    private static bool Quote(string s, List<byte> bytes)
    {
        bytes.Add((byte)'"');
        foreach (var ch in s)
        {
            if (ch is < ' ' or > '~') return false;
            if (ch is '"' or '\\') bytes.Add((byte)'\\');
            bytes.Add((byte)ch);
        }
        bytes.Add((byte)'"');
        return true;
    }

    private static string BaseUrl(ref SplitMix rng)
    {
        Span<char> buf = stackalloc char[8];
        var sb = new StringBuilder("https://www.nexmark.com/", 64);
        sb.Append(buf[NexmarkStrings.NextString(ref rng, 5, '_', buf)]).Append('/');
        sb.Append(buf[NexmarkStrings.NextString(ref rng, 5, '_', buf)]).Append('/');
        sb.Append(buf[NexmarkStrings.NextString(ref rng, 5, '_', buf)]).Append("/item.htm?query=1");
        return sb.ToString();
    }

    public static NexmarkUrlTable For(long seed) =>
        Cache.GetOrAdd(seed, s => new Lazy<NexmarkUrlTable>(() => new NexmarkUrlTable(s))).Value;
}

/// <summary>
/// The channel table's JSON entries, one per slot of <see cref="Stride"/> bytes: a 2-byte little-endian length, then the
/// bytes. A writer finds entry e at <c>e * Stride</c> with one memory access: a bid picks one of 10,000 channels at
/// random, so in a producer (whose message copies keep evicting the caches) an offsets array in front of the bytes costs a
/// second cache miss per bid.
/// </summary>
internal sealed class ChannelJsonSlots
{
    public ChannelJsonSlots(IReadOnlyList<byte[]> entries)
    {
        var longest = entries.Count == 0 ? 0 : entries.Max(e => e.Length);
        if (longest > ushort.MaxValue) throw new ArgumentException("A channel entry is longer than 65,535 bytes.", nameof(entries));
        Stride = (longest + 2 + 15) / 16 * 16;
        Bytes = new byte[Stride * entries.Count];
        for (var e = 0; e < entries.Count; e++)
        {
            System.Buffers.Binary.BinaryPrimitives.WriteUInt16LittleEndian(Bytes.AsSpan(e * Stride), (ushort)entries[e].Length);
            entries[e].CopyTo(Bytes, e * Stride + 2);
        }
    }

    public byte[] Bytes { get; }
    public int Stride { get; }

    /// <summary>The bytes of entry <paramref name="entry"/>.</summary>
    public ReadOnlySpan<byte> this[int entry]
    {
        get
        {
            var at = entry * Stride;
            return Bytes.AsSpan(at + 2, System.Buffers.Binary.BinaryPrimitives.ReadUInt16LittleEndian(Bytes.AsSpan(at)));
        }
    }
}

/// <summary>
/// Asks the CPU to start loading memory an event is about to be serialised from (a random slice of the 1 MiB extra pool,
/// a random channel entry), so that the cache misses overlap the rest of the event's generation instead of stalling the
/// copy (the payload source generates one event ahead of the one it serialises). x86 only (SSE prefetch hints, which
/// never fault); elsewhere, such as the Pi's arm64, this does nothing: .NET has no base Arm prefetch intrinsic (the
/// proposal dotnet/runtime#106860 is open; the SVE ones need SVE, which the Pi's Cortex-A72/A76 lack).
/// </summary>
internal static class CachePrefetch
{
    public static unsafe void Range(byte[] bytes, int offset, int length)
    {
        if (!System.Runtime.Intrinsics.X86.Sse.IsSupported || length <= 0 || (uint)offset >= (uint)bytes.Length) return;
        var end = Math.Min(bytes.Length, offset + length);
        fixed (byte* p = bytes)
        {
            for (var at = offset; at < end; at += 64) System.Runtime.Intrinsics.X86.Sse.Prefetch0(p + at);
            System.Runtime.Intrinsics.X86.Sse.Prefetch0(p + end - 1);
        }
    }
}
