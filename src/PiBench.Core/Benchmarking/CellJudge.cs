using System.Globalization;

namespace PiBench.Core.Benchmarking;

/// <summary>What was read during one measured window (<see cref="WindowPhase"/>).</summary>
public sealed class WindowObservation
{
    public DateTimeOffset Start { get; init; }
    /// <summary>Measured length of the window, seconds (not the nominal one).</summary>
    public double Seconds { get; set; }
    /// <summary>Committed offsets of the engine's consumer group, and result-topic end offsets, at the window's two ends.</summary>
    public long Consumed0 { get; set; }
    public long Consumed1 { get; set; }
    public long Produced0 { get; set; }
    public long Produced1 { get; set; }
    public WindowSeries Series { get; } = new();
    public EngineRateSeries Engine { get; } = new();
    public int Restarts { get; set; }
    public string Failure { get; set; } = "";
}

/// <summary>
/// Turns a measured window into a result's figures and verdict: rates (with what each is and how exact), broker-side
/// input, latency counts, the output band, resources, and the validity gate. No I/O.
/// </summary>
public static class CellJudge
{
    public sealed class Context
    {
        public bool? GeneratorValid { get; init; }
        public string GeneratorReason { get; init; } = "";
        public long InputEndedAfterEvents { get; init; } = -1;
        public double TargetRate { get; init; }
        /// <summary>The job's checkpoint interval (engines commit offsets then); 0 = unknown (the engine's default).</summary>
        public double CommitIntervalSeconds { get; init; }
        public bool NodesSampled { get; init; }
        public ValidityThresholds Thresholds { get; init; } = new();
    }

    public static void Fill(BenchmarkResult result, WindowObservation w, LatencyRecorder recorder, ResourceSummary res, ContainerSummary engineUse, Context c)
    {
        var inv = CultureInfo.InvariantCulture;
        var elapsed = w.Seconds;
        result.StartedAt = w.Start;
        result.DurationS = Math.Round(elapsed, 3);
        result.EventsIn = w.Consumed1 - w.Consumed0;
        result.EventsOut = w.Produced1 - w.Produced0;
        result.KafkaInputRate = Math.Round(result.EventsIn / elapsed, 2);
        result.KafkaOutputRate = Math.Round(result.EventsOut / elapsed, 2);

        var (brokerRate, brokerEvents, brokerSeconds) = w.Series.BrokerInput();
        result.BrokerInputRate = Math.Round(brokerRate, 2);
        result.BrokerInputEvents = brokerEvents;
        result.ClientQueueGrowth = Math.Round(w.Series.ClientQueueGrowth(), 2);

        // Rates: exact or bounded figures first; the engine's smoothed or cached ones only as a cross-check.
        var engineIn = w.Engine.Input();
        var engineOut = w.Engine.Output();
        result.EngineInputRate = engineIn.Rate;
        result.EngineOutputRate = engineOut.Rate;
        string inMethod;
        if (engineIn.FromCounters)
        {
            result.InputRate = engineIn.Rate;
            result.InputRateError = engineIn.Error;
            inMethod = engineIn.Method;
        }
        else
        {
            result.InputRate = result.KafkaInputRate;
            result.InputRateError = c.CommitIntervalSeconds > 0 ? Math.Round(c.CommitIntervalSeconds / elapsed, 4) : double.NaN;
            inMethod = c.CommitIntervalSeconds > 0
                ? string.Create(inv, $"Kafka committed offsets of the engine's consumer group over {elapsed:0.#} s (±{c.CommitIntervalSeconds / elapsed:P1}: commits follow {c.CommitIntervalSeconds:0.#}-s checkpoints)")
                : string.Create(inv, $"Kafka committed offsets of the engine's consumer group over {elapsed:0.#} s (bound: one checkpoint interval of the engine's default at each end)");
        }
        result.OutputRate = result.KafkaOutputRate;
        result.RateSource = string.Create(inv,
            $"input: {inMethod}; output: result topic end offsets at the broker over {elapsed:0.#} s; engine cross-check: input {(engineIn.Method.Length > 0 ? engineIn.Method : "none")}, output {(engineOut.Method.Length > 0 ? engineOut.Method : "none")}");

        result.LatencyP50Ms = recorder.PercentileMs(50);
        result.LatencyP99Ms = recorder.PercentileMs(99);
        result.LatencyP999Ms = recorder.PercentileMs(99.9);
        result.LatencyMaxMs = recorder.MaxMs;
        result.LatencySamples = recorder.Count;
        result.NegativeLatencies = recorder.NegativeCount;
        result.ClampedLatencies = recorder.ClampedCount;

        var expectation = OutputExpectation.For(result.Query);
        var (outside, outputCheck) = expectation.Judge(result.EventsOut, brokerEvents, elapsed);
        result.ExpectedOutput = expectation.Description;
        result.OutputCheck = outputCheck;

        result.CpuCoreSeconds = res.CpuCoreSeconds;
        result.CpuPercentPerNode = res.CpuPercentPerNode;
        result.MemoryPeakMB = res.MemoryPeakMB;
        result.NetworkMBPerNode = res.NetworkMBPerNode;
        result.EngineCpuCoreSeconds = engineUse.EngineCpuCoreSeconds;
        result.EngineMemoryPeakMB = engineUse.EngineMemoryPeakMB;

        var gate = new ValidityInput
        {
            GeneratorValid = c.GeneratorValid, GeneratorReason = c.GeneratorReason,
            ThrottledNodes = res.ThrottledNodes, JobRestarts = w.Restarts, JobFailure = w.Failure, LagSeries = w.Series.Lag, TargetRate = c.TargetRate,
            EngineInputRate = engineIn.Rate, OffsetInputRate = result.KafkaInputRate, EngineOutputRate = engineOut.Rate, OffsetOutputRate = result.KafkaOutputRate,
            MissingSampleFraction = c.NodesSampled ? res.MissingSampleFraction : 0,
            InputEndedAfterEvents = c.InputEndedAfterEvents,
            CommitIntervalSeconds = c.CommitIntervalSeconds,
            BrokerInputRate = brokerRate, BrokerInputSeconds = brokerSeconds, ClientQueue = w.Series.ClientQueue,
            ClockOffsetMs = result.ClockOffsetMs, LatencyMeasured = recorder.Count > 0,
            LatencySamples = recorder.Count, BadLatencies = recorder.NegativeCount + recorder.ClampedCount,
            OutputOutsideBand = outside, OutputCheck = outputCheck,
        };
        var (valid, reason) = ValidityGate.Evaluate(gate, c.Thresholds);
        result.RateCheck = ValidityGate.RateCheck(gate, c.Thresholds);
        result.Valid = valid;
        result.InvalidReason = reason;
        result.Status = "Completed";
    }
}
