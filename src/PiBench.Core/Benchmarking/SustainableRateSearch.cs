using System.Globalization;
using System.Text;

namespace PiBench.Core.Benchmarking;

/// <summary>Settings of the sustainable-throughput search (<c>Invoke-Benchmark -Mode Sustainable</c>).</summary>
public sealed class SustainableSearchOptions
{
    /// <summary>First rate tried, events/s.</summary>
    public double StartRate { get; init; } = 10_000;
    /// <summary>Highest rate tried, events/s; a search that passes it reports LimitedBy = MaxRate.</summary>
    public double MaxRate { get; init; } = 160_000;
    /// <summary>Step-up factor while every step passes. Default 2.</summary>
    public double StepFactor { get; init; } = 2;
    /// <summary>Bisection stops when (failing - passing) / failing is at most this. Default 0.05 (5 %).</summary>
    public double Resolution { get; init; } = 0.05;
    /// <summary>Most steps of one search (each step is a full fresh-topics, fresh-job measurement). Default 12.</summary>
    public int MaxSteps { get; init; } = 12;
    /// <summary>A step whose p99 latency exceeds this fails (NaN = no latency objective).</summary>
    public double LatencySloMs { get; init; } = double.NaN;
    /// <summary>
    /// A step whose measured input rate is below this fraction of its target fails, even when its lag grew too little
    /// to trip the gate within the window. Default 0.9: the input rate comes from committed offsets, which engines move
    /// only at checkpoints, so it can read low by up to checkpoint interval / window; keep the window at least ten
    /// checkpoint intervals long or lower this. 0 turns the check off.
    /// </summary>
    public double MinInputFraction { get; init; } = 0.9;

    public void Validate()
    {
        static PiBenchException Bad(string what, object value, string fix) =>
            new("InvalidSustainableSearch", PiBenchErrorCategory.InvalidArgument, $"Sustainable search: {what}.", value, fix);
        if (!(StartRate > 0)) throw Bad($"the start rate must be positive, not {StartRate}", StartRate, "Pass -EventsPerSecond > 0.");
        if (!(MaxRate >= StartRate)) throw Bad($"the highest rate ({MaxRate}) is below the start rate ({StartRate})", MaxRate, "Pass -MaxEventsPerSecond at least -EventsPerSecond.");
        if (!(StepFactor > 1)) throw Bad($"the step factor must be above 1, not {StepFactor}", StepFactor, "Pass -StepFactor 2 (doubling) or another value above 1.");
        if (!(Resolution > 0 && Resolution < 1)) throw Bad($"the resolution must be between 0 and 1, not {Resolution}", Resolution, "Pass -Resolution 0.05 for 5 %.");
        if (MaxSteps < 1) throw Bad($"at least one step is needed, not {MaxSteps}", MaxSteps, "Pass -MaxSteps 1 or more.");
        if (!(MinInputFraction >= 0 && MinInputFraction <= 1)) throw Bad($"the least input fraction must be between 0 and 1, not {MinInputFraction}", MinInputFraction, "Pass -MinInputFraction 0.9, or 0 to turn the check off.");
    }
}

/// <summary>
/// The outcome of one sustainable-throughput search (one query, one repetition): the highest input rate whose step was
/// valid, and why the next rate up was not. Flat scalars, so <c>Invoke-Benchmark -Mode Sustainable | Export-Csv</c>
/// gives a clean table; the figures are those of the highest passing step. Every step is also kept in the results
/// files as a <see cref="BenchmarkResult"/> with its <see cref="BenchmarkResult.Step"/> number.
/// </summary>
public sealed class SustainableThroughputResult
{
    public string System { get; set; } = "";
    public string Query { get; set; } = "";
    public int Repetition { get; set; }
    public int Parallelism { get; set; }
    /// <summary>
    /// The broker-side input rate achieved by the highest step that passed (its <see cref="BenchmarkResult.BrokerInputRate"/>),
    /// events/s; its target is <see cref="SustainableTargetRate"/>. NaN when no step passed. A lower bound, not the
    /// engine's limit, when <see cref="IsLowerBound"/>.
    /// </summary>
    public double SustainableRate { get; set; } = double.NaN;
    /// <summary>Target rate of the highest step that passed, events/s (NaN when none passed).</summary>
    public double SustainableTargetRate { get; set; } = double.NaN;
    /// <summary>
    /// True when the search stopped without finding the engine's limit (LimitedBy Generator, Measurement, MaxRate,
    /// Steps, Throttling or Failed): SustainableRate is then a lower bound ("&gt;= x") and is kept out of the summaries.
    /// </summary>
    public bool IsLowerBound { get; set; }
    /// <summary>Where SustainableRate comes from: "broker input rate of step N" or "target of step N (broker rate not measured)".</summary>
    public string RateBasis { get; set; } = "";
    /// <summary>Lowest target rate whose step was not valid, events/s (NaN when none failed).</summary>
    public double FailingRate { get; set; } = double.NaN;
    /// <summary>
    /// What bounds the result: Engine (consumer lag grew, the job restarted or failed), LatencySlo (p99 above the
    /// objective), Throttling (a node throttled), Generator (the load driver could not keep the rate: the engine's limit
    /// is above it, not measured), MaxRate (every step up to the highest rate passed), Measurement (the step could not be
    /// judged, e.g. metric samples missing), Steps (step budget used up before the resolution was reached), Failed (a
    /// step errored). Only Engine and LatencySlo mean the engine's limit was found; the rest make the rate a lower bound.
    /// </summary>
    public string LimitedBy { get; set; } = "";
    /// <summary>Why the step at <see cref="FailingRate"/> failed (its InvalidReason, or the input or latency shortfall).</summary>
    public string Reason { get; set; } = "";
    public int Steps { get; set; }
    /// <summary>Every step in order: "rate:pass" or "rate:fail", separated by spaces.</summary>
    public string StepRates { get; set; } = "";
    /// <summary>Measured input rate at the sustainable step, events/s.</summary>
    public double InputRate { get; set; } = double.NaN;
    public double OutputRate { get; set; } = double.NaN;
    public double LatencyP50Ms { get; set; } = double.NaN;
    public double LatencyP99Ms { get; set; } = double.NaN;
    public double CpuCoreSeconds { get; set; } = double.NaN;
    public double CpuPercentPerNode { get; set; } = double.NaN;
    public double MemoryPeakMB { get; set; } = double.NaN;
    /// <summary>CPU time of the engine's own containers at the sustainable step, core-seconds (CpuCoreSeconds is the whole cluster's).</summary>
    public double EngineCpuCoreSeconds { get; set; } = double.NaN;
    public double EngineMemoryPeakMB { get; set; } = double.NaN;
    /// <summary>Completed (the search ended on its own terms), Stopped (Ctrl+C), Failed (a step errored) or NotRun.</summary>
    public string Status { get; set; } = "NotRun";
    public long Seed { get; set; }
    public string EngineVersion { get; set; } = "";
    public DateTimeOffset StartedAt { get; set; }
    /// <summary>Wall time of the whole search, seconds.</summary>
    public double DurationS { get; set; }

    /// <summary>Key used by -Resume: one search per (system, query, repetition).</summary>
    public string Key => $"{System.ToLowerInvariant()}|{Query.ToLowerInvariant()}|{Repetition}";
}

/// <summary>
/// Step search for the highest sustainable input rate (methodology §3.3): each step is an isolated measurement
/// (fresh topics, fresh job) at one rate. Step up by <see cref="SustainableSearchOptions.StepFactor"/> from the start
/// rate while steps pass; after the first failure bisect between the highest passing and the lowest failing rate until
/// they are within <see cref="SustainableSearchOptions.Resolution"/>. A start rate that already fails bisects downward
/// from it. No live adaptive controller: every figure comes from a complete, gated step.
/// </summary>
public static class SustainableRateSearch
{
    /// <summary>How a step is judged: Class null = passed, else the LimitedBy class of its failure and why.</summary>
    public static (string? Class, string Reason) Judge(BenchmarkResult step, SustainableSearchOptions options)
    {
        var r = step.InvalidReason;
        if (step.Status != "Completed") return ("Failed", r);
        if (!step.Valid)
        {
            // The load did not reach the broker at the target: nothing is known about the engine at this rate.
            if (r.Contains("generator fell behind", StringComparison.Ordinal) || r.Contains(ValidityGate.BrokerShortfall, StringComparison.Ordinal)
                || r.Contains(ValidityGate.ClientQueueGrew, StringComparison.Ordinal)) return ("Generator", r);
            if (r.Contains(ValidityGate.OutputOutside, StringComparison.Ordinal)) return ("Engine", r);
            if (r.Contains("consumer lag unbounded", StringComparison.Ordinal) || r.Contains("job ", StringComparison.Ordinal)) return ("Engine", r);
            if (r.Contains("node throttled", StringComparison.Ordinal)) return ("Throttling", r);
            return ("Measurement", r);
        }
        if (options.MinInputFraction > 0 && double.IsFinite(step.InputRate) && step.InputRate < options.MinInputFraction * step.TargetRate)
            return ("Engine", string.Create(CultureInfo.InvariantCulture,
                $"input {step.InputRate:0.##} events/s is below {options.MinInputFraction:P0} of the target {step.TargetRate:0.##} events/s"));
        if (double.IsFinite(options.LatencySloMs) && !(step.LatencyP99Ms <= options.LatencySloMs))
            return ("LatencySlo", string.Create(CultureInfo.InvariantCulture, $"p99 latency {step.LatencyP99Ms:0.#} ms above the objective {options.LatencySloMs:0.#} ms"));
        return (null, "");
    }

    /// <summary>
    /// Runs the search; <paramref name="measure"/> measures one step at the given rate (step numbers from 1). Each
    /// measured step is passed to <paramref name="onStep"/> at once. Cancellation (Status Stopped) and exceptions
    /// (Status Failed, Reason = the message) propagate after the summary was filled with what was found, so callers can keep it.
    /// </summary>
    public static async Task<SustainableThroughputResult> RunAsync(SustainableSearchOptions options, SustainableThroughputResult summary,
        Func<double, int, CancellationToken, Task<BenchmarkResult>> measure, Action<BenchmarkResult>? onStep, CancellationToken ct)
    {
        options.Validate();
        var started = DateTimeOffset.UtcNow;
        summary.StartedAt = started;
        var trail = new StringBuilder();
        BenchmarkResult? best = null;
        double lo = double.NaN, hi = double.NaN;
        string limitedBy = "", reason = "";
        var step = 0;
        void Finish(string status)
        {
            summary.Status = status;
            summary.Steps = step;
            summary.StepRates = trail.ToString().TrimEnd();
            summary.SustainableTargetRate = lo;
            summary.SustainableRate = lo;
            summary.RateBasis = "";
            if (best is not null)
            {
                // A passing step reports what the broker took in, not what it was asked for.
                var broker = double.IsFinite(best.BrokerInputRate);
                summary.SustainableRate = broker ? Math.Round(best.BrokerInputRate, 2) : lo;
                summary.RateBasis = broker ? $"broker input rate of step {best.Step}" : $"target of step {best.Step} (broker rate not measured)";
            }
            summary.FailingRate = hi;
            summary.LimitedBy = limitedBy;
            summary.IsLowerBound = best is not null && !(limitedBy is "Engine" or "LatencySlo");
            summary.Reason = reason;
            summary.DurationS = Math.Round((DateTimeOffset.UtcNow - started).TotalSeconds, 3);
            if (best is not null)
            {
                summary.InputRate = best.InputRate;
                summary.OutputRate = best.OutputRate;
                summary.LatencyP50Ms = best.LatencyP50Ms;
                summary.LatencyP99Ms = best.LatencyP99Ms;
                summary.CpuCoreSeconds = best.CpuCoreSeconds;
                summary.CpuPercentPerNode = best.CpuPercentPerNode;
                summary.MemoryPeakMB = best.MemoryPeakMB;
                summary.EngineCpuCoreSeconds = best.EngineCpuCoreSeconds;
                summary.EngineMemoryPeakMB = best.EngineMemoryPeakMB;
                summary.Seed = best.Seed;
            }
        }

        var rate = Round(options.StartRate);
        try
        {
            while (true)
            {
                if (step >= options.MaxSteps)
                {
                    // The budget ran out before the resolution was reached: the limit lies somewhere above what passed.
                    if (limitedBy != "") reason = $"step budget ({options.MaxSteps}) used up before the resolution was reached; last failure ({limitedBy}): {reason}";
                    limitedBy = "Steps";
                    break;
                }
                step++;
                var r = await measure(rate, step, ct).ConfigureAwait(false);
                onStep?.Invoke(r);
                var (verdict, why) = Judge(r, options);
                trail.Append(string.Create(CultureInfo.InvariantCulture, $"{rate:0.##}:{(verdict is null ? "pass" : "fail")} "));
                if (verdict is null)
                {
                    lo = rate;
                    best = r;
                }
                else
                {
                    hi = rate;
                    limitedBy = verdict;
                    reason = why;
                    // A step that errored, a load driver that could not keep the rate, or a measurement that could not
                    // be judged says nothing about the engine at this rate: stop, report what passed.
                    if (verdict is "Failed" or "Generator" or "Measurement") { Finish(verdict == "Failed" ? "Failed" : "Completed"); return summary; }
                }

                double next;
                if (double.IsNaN(hi))
                {
                    if (rate >= options.MaxRate) { limitedBy = "MaxRate"; break; }
                    next = Math.Min(options.MaxRate, Round(rate * options.StepFactor));
                }
                else
                {
                    var floor = double.IsNaN(lo) ? 0 : lo;
                    if ((hi - floor) / hi <= options.Resolution) break;
                    next = Round((floor + hi) / 2);
                    if (next <= floor || next >= hi) break; // rates are whole events/s: nothing left between them
                }
                rate = next;
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            Finish("Stopped");
            throw;
        }
        catch (Exception ex)
        {
            // A step that could not even be set up (e.g. the broker refused its topics): keep what was found, say why.
            reason = ex.Message;
            limitedBy = "Failed";
            Finish("Failed");
            throw;
        }
        Finish("Completed");
        return summary;
    }

    private static double Round(double rate) => Math.Max(1, Math.Round(rate));
}
