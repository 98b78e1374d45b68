using Xunit;
using PiBench.Core.Nexmark;

namespace PiBench.Core.Tests.Nexmark;

/// <summary>The JDK generators against the JDK test values of spec 7.4, and the seeded tables of spec 8.1.</summary>
public sealed class NexmarkRandomTests
{
    [Fact]
    public void JavaRandom_Seed0_MatchesJdk()
    {
        var r = new JavaRandom(0);
        Assert.Equal(-1155484576, r.NextInt());
        Assert.Equal(-723955400, r.NextInt());
        Assert.Equal(8, r.NextInt(11));
        Assert.Equal(9, r.NextInt(16));
        Assert.Equal(-6688467811848818630L, r.NextLong());
        Assert.Equal(0.5504370051176339, r.NextDouble());
    }

    [Fact]
    public void JavaRandom_OtherSeeds_MatchJdk()
    {
        var r = new JavaRandom(123456789);
        Assert.Equal(965, r.NextInt(10000));
        Assert.Equal(2, r.NextInt(26));
        Assert.Equal(0.45695178590520646, r.NextDouble());
        Assert.Equal(1156638822, new JavaRandom(-5).NextInt());
    }

    [Fact]
    public void SplittableRandom_Seed3_MatchesJdk()
    {
        var r = new JavaSplittableRandom(3);
        Assert.Equal(1004547034, r.NextInt());
        Assert.Equal(836989290, r.NextInt());
        Assert.Equal(-7139356981108613887L, r.NextLong());
        Assert.Equal(0.07286673677178535, r.NextDouble());
        Assert.Equal(1, r.NextInt(11));
        Assert.Equal(6, r.NextInt(16));
        Assert.Equal(981348, r.NextInt(1048476));
    }

    [Fact]
    public void SplittableRandom_Seed0_MatchesJdk_AndStateResumes()
    {
        var r = new JavaSplittableRandom(0);
        Assert.Equal(-2152535657050944081L, r.NextLong());
        var saved = r.State;
        Assert.Equal(1660418793, r.NextInt());
        var resumed = new JavaSplittableRandom(0) { State = saved };
        Assert.Equal(1660418793, resumed.NextInt());
    }

    [Fact]
    public void BoundOfOne_ConsumesADraw_AndBadBoundsThrow()
    {
        var a = new JavaSplittableRandom(5); var b = new JavaSplittableRandom(5);
        Assert.Equal(0, a.NextInt(1));
        b.NextInt();
        Assert.Equal(b.NextInt(), a.NextInt());
        Assert.Throws<ArgumentOutOfRangeException>(() => new JavaRandom(1).NextInt(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new JavaSplittableRandom(1).NextInt(-3));
    }

    [Fact]
    public void ExtraPool_Seed1_MatchesSpec()
    {
        var pool = NexmarkExtraPool.For(1);
        Assert.Equal(1048576, pool.Text.Length);
        Assert.Equal("druytuT`VMPaelakjbvjjgevxofadzmixkfcP`KL", pool.Text[..40]);
        Assert.Equal(pool.Text, System.Text.Encoding.ASCII.GetString(pool.Utf8));
        Assert.Same(pool, NexmarkExtraPool.For(1)); // cached per seed
    }

    [Fact]
    public void UrlTable_Seed2_MatchesSpec()
    {
        var t = NexmarkUrlTable.For(2);
        Assert.Equal(
        [
            "https://www.nexmark.com/mgi/ze_/moks/item.htm?query=1",
            "https://www.nexmark.com/vev/rzs/amc/item.htm?query=1",
            "https://www.nexmark.com/ulk_/csln/bux/item.htm?query=1",
            "https://www.nexmark.com/hycn/tfzr/mofv/item.htm?query=1",
        ], t.HotUrls);
        Assert.Equal("https://www.nexmark.com/quv/yxj/vpwz/item.htm?query=1", t.ChannelUrls[0]);
        Assert.Equal("https://www.nexmark.com/zqr/o_se/cve/item.htm?query=1", t.ChannelUrls[1]);
        Assert.Equal("https://www.nexmark.com/hirz/dmdx/ce_g/item.htm?query=1&channel_id=1073741824", t.ChannelUrls[2]);
        Assert.Equal("https://www.nexmark.com/hma/mums/h_b/item.htm?query=1&channel_id=1073741824", t.ChannelUrls[3]);
        Assert.Equal("https://www.nexmark.com/jxss/nlf/_so_/item.htm?query=1&channel_id=253493248", t.ChannelUrls[9999]);
        Assert.Equal("channel-9999", t.ChannelNames[9999]);
    }

    [Theory]
    [InlineData(0, 0)]
    [InlineData(1, int.MinValue)]
    [InlineData(2, 1073741824)]
    [InlineData(3, 1073741824)]
    [InlineData(4, 536870912)]
    [InlineData(5, 1610612736)]
    [InlineData(9999, 253493248)]
    public void AbsIntegerReverse_MatchesJava(int i, int expected) => Assert.Equal(expected, NexmarkStrings.AbsReverse(i));

    [Theory]
    [InlineData(1436918400000L, "2015-07-15 00:00:00")]
    [InlineData(1436918400100L, "2015-07-15 00:00:00.1")]
    [InlineData(1436918400120L, "2015-07-15 00:00:00.12")]
    [InlineData(1436918400021L, "2015-07-15 00:00:00.021")]
    [InlineData(0L, "1970-01-01 00:00:00")]
    [InlineData(951827696789L, "2000-02-29 12:34:56.789")]
    [InlineData(253402300799999L, "9999-12-31 23:59:59.999")]
    public void Timestamps_UseFlinkSqlFormat(long ms, string expected)
    {
        Span<byte> buf = stackalloc byte[23];
        int n = NexmarkJson.FormatTimestamp(ms, buf);
        Assert.Equal(expected, System.Text.Encoding.ASCII.GetString(buf[..n]));
        // Spec 9.3: the same as .NET's FFF custom format.
        Assert.Equal(DateTime.UnixEpoch.AddMilliseconds(ms).ToString("yyyy-MM-dd HH:mm:ss.FFF", System.Globalization.CultureInfo.InvariantCulture), expected);
    }
}
