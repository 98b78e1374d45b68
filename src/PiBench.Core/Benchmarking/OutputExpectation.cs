using System.Globalization;

namespace PiBench.Core.Benchmarking;

/// <summary>
/// The band a query's output count should fall in over a measured window, from the Nexmark event mix (person, auction,
/// bid = 1 : 3 : 46, so bids are 92 % of events; a bid goes to a hot auction with probability 1/2, hot auction ids are
/// multiples of 100) and the query's shape. Either records per input event (the broker's count of input events over
/// the window) or records per second of window. Bands are deliberately wide: they catch an engine that drops or
/// multiplies results, not a small deviation. Queries whose output depends on the data (joins, changelogs) have none.
/// </summary>
public sealed record OutputExpectation(string Query, string Basis, double Low, double High, string Description, double MinWindowSeconds = 0)
{
    private const double Bids = 46.0 / 50.0;

    /// <summary>Per input event or per second of window ("input" / "second"); "" when the query has no band.</summary>
    public bool HasBand => Basis.Length > 0;

    public static OutputExpectation For(string query) => query.ToLowerInvariant() switch
    {
        "q0" => new(query, "input", Bids * 0.9, Bids * 1.1, "every bid: 0.92 per input event (±10 %)"),
        "q1" => new(query, "input", Bids * 0.9, Bids * 1.1, "every bid: 0.92 per input event (±10 %)"),
        // Cold bids (half) go to recent auctions about evenly, 1 in 123 passes; hot bids all go to one block of 100 ids,
        // which passes in bursts, so only the cold share bounds it from below (halved) and all bids from above.
        "q2" => new(query, "input", Bids * 0.5 / 123 * 0.5, Bids * (0.5 + 0.5 / 123), "bids on every 123rd auction: 0.0019 to 0.46 per input event (cold bids 1/123, hot bids in bursts)"),
        // At least one auction per 2-s slide has the most bids; each bid is in 5 windows.
        "q5" => new(query, "second", 0.5 * 0.5, double.PositiveInfinity, "hot items: at least one row per 2-s slide (0.25/s with a 50 % margin)", 20),
        // At least one highest bid per 10-s window.
        "q7" => new(query, "second", 0.1 * 0.5, double.PositiveInfinity, "highest bid: at least one row per 10-s window (0.05/s with a 50 % margin)", 60),
        _ => new(query, "", double.NaN, double.NaN, "no band: the output depends on the data"),
    };

    /// <summary>Upper bound per input event for the windowed queries (each bid at most in every window it belongs to).</summary>
    private double HighPerInput => Query.ToLowerInvariant() switch { "q5" => Bids * 5, "q7" => Bids, _ => double.PositiveInfinity };

    /// <summary>
    /// "ok: ...", "outside: ..." (the cell is invalid) or "not judged: ..." for <paramref name="outputRecords"/> over a
    /// window of <paramref name="windowSeconds"/> with <paramref name="inputEvents"/> appended to the input topic. A
    /// per-input band is exceeded only beyond three Poisson standard deviations of its edge, so short windows are not
    /// flagged by chance; a per-second band (windows closing on a clock) already carries a 50 % margin.
    /// </summary>
    public (bool Outside, string Check) Judge(long outputRecords, long inputEvents, double windowSeconds)
    {
        if (!HasBand) return (false, "not judged: " + Description);
        if (Basis == "second" && windowSeconds < MinWindowSeconds)
            return (false, string.Create(CultureInfo.InvariantCulture, $"not judged: a window of {windowSeconds:0.#} s is shorter than {MinWindowSeconds:0} s ({Description})"));
        var scale = Basis == "input" ? inputEvents : windowSeconds;
        if (!(scale > 0)) return (false, "not judged: no input reached the broker");
        var lo = Low * scale;
        var hi = Math.Min(High * scale, HighPerInput * inputEvents);
        // Selectivity per input event is random (Poisson slack); windows close on a clock (the band's margin is the slack).
        var poisson = Basis == "input";
        var loEdge = poisson ? lo - 3 * Math.Sqrt(lo) : lo;
        var hiEdge = poisson ? hi + 3 * Math.Sqrt(hi) : hi;
        var expected = string.Create(CultureInfo.InvariantCulture,
            $"{outputRecords} output records, expected {Math.Round(lo)}..{(double.IsFinite(hi) ? Math.Round(hi).ToString(CultureInfo.InvariantCulture) : "any")} for {inputEvents} input events in {windowSeconds:0.#} s ({Description})");
        if (outputRecords < loEdge) return (true, "outside: " + expected);
        if (double.IsFinite(hiEdge) && outputRecords > hiEdge) return (true, "outside: " + expected);
        if (loEdge <= 0 && outputRecords == 0) return (false, "not judged: too little input for the band: " + expected);
        return (false, "ok: " + expected);
    }
}
