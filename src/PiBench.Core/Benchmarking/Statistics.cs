namespace PiBench.Core.Benchmarking;

/// <summary>Mean and Student-t confidence interval of repeated measurements.</summary>
public readonly record struct SummaryStatistics(int Count, double Mean, double StdDev, double CiLow, double CiHigh)
{
    /// <summary>Half width of the confidence interval (NaN for fewer than two values).</summary>
    public double HalfWidth => (CiHigh - CiLow) / 2;
}

public static class Statistics
{
    // Two-sided 95 % critical values of Student's t for 1..30 degrees of freedom.
    private static readonly double[] T95 =
    {
        12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
        2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
        2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
    };

    /// <summary>Two-sided 95 % critical value of Student's t for <paramref name="df"/> degrees of freedom.</summary>
    public static double TCritical95(int df)
    {
        if (df < 1) return double.NaN;
        if (df <= 30) return T95[df - 1];
        if (df <= 40) return Lerp(30, 2.042, 40, 2.021, df);
        if (df <= 60) return Lerp(40, 2.021, 60, 2.000, df);
        if (df <= 120) return Lerp(60, 2.000, 120, 1.980, df);
        return 1.960;
    }

    private static double Lerp(int x0, double y0, int x1, double y1, int x) => y0 + (y1 - y0) * (x - x0) / (x1 - x0);

    /// <summary>Mean, sample standard deviation and 95 % t interval; NaN values are ignored.</summary>
    public static SummaryStatistics Summarize(IEnumerable<double> values)
    {
        var v = values.Where(double.IsFinite).ToArray();
        if (v.Length == 0) return new SummaryStatistics(0, double.NaN, double.NaN, double.NaN, double.NaN);
        var mean = v.Average();
        if (v.Length == 1) return new SummaryStatistics(1, mean, double.NaN, double.NaN, double.NaN);
        var sd = Math.Sqrt(v.Sum(x => (x - mean) * (x - mean)) / (v.Length - 1));
        var half = TCritical95(v.Length - 1) * sd / Math.Sqrt(v.Length);
        return new SummaryStatistics(v.Length, mean, sd, mean - half, mean + half);
    }

    /// <summary>Least-squares slope of y over x (per unit of x); NaN for fewer than two points or no spread in x.</summary>
    public static double Slope(IReadOnlyList<(double X, double Y)> points)
    {
        if (points.Count < 2) return double.NaN;
        var mx = points.Average(p => p.X);
        var my = points.Average(p => p.Y);
        var sxx = points.Sum(p => (p.X - mx) * (p.X - mx));
        if (sxx == 0) return double.NaN;
        return points.Sum(p => (p.X - mx) * (p.Y - my)) / sxx;
    }
}
