using System.Globalization;

namespace PiBench.Core.Remote;

/// <summary>The firmware's throttle mask (raspberrypi.com documentation, <c>get_throttled</c>).</summary>
public readonly record struct ThrottleState(long Mask)
{
    /// <summary>Parses <c>vcgencmd get_throttled</c> output (<c>throttled=0x50005</c>); null for anything else.
    /// The one parser of this output: Test-PiNode and the metric sampler both use it.</summary>
    public static ThrottleState? Parse(string? text)
    {
        if (text is null) return null;
        var v = text.Trim();
        if (!v.StartsWith("throttled=", StringComparison.Ordinal)) return null;
        v = v["throttled=".Length..];
        if (v.StartsWith("0x", StringComparison.OrdinalIgnoreCase)) v = v[2..];
        if (v.Length == 0 || !long.TryParse(v, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var mask)) return null;
        return new ThrottleState(mask);
    }

    public bool UnderVoltageNow => (Mask & 0x1) != 0;
    public bool FrequencyCappedNow => (Mask & 0x2) != 0;
    public bool ThrottledNow => (Mask & 0x4) != 0;
    public bool SoftTempLimitNow => (Mask & 0x8) != 0;
    /// <summary>Any of bits 0-3: a condition that distorts measurements is active now.</summary>
    public bool AnyNow => (Mask & 0xF) != 0;
    /// <summary>Any of bits 16-19: a condition occurred since boot (sticky).</summary>
    public bool AnySinceBoot => (Mask & 0xF0000) != 0;
    public string Flags => "0x" + Mask.ToString("x", CultureInfo.InvariantCulture);

    /// <summary>Readable names of the active "now" bits, comma separated ("" when none).</summary>
    public string Describe()
    {
        var parts = new List<string>();
        if (UnderVoltageNow) parts.Add("under-voltage");
        if (FrequencyCappedNow) parts.Add("arm-frequency-capped");
        if (ThrottledNow) parts.Add("throttled");
        if (SoftTempLimitNow) parts.Add("soft-temperature-limit");
        return string.Join(",", parts);
    }
}
