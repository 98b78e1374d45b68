namespace PiBench.Core.Benchmarking;

/// <summary>
/// Judges one finished cell: names the clock its latency rests on, fills its figures and validity through
/// <see cref="CellJudge"/>, marks it invalid when its answers were wrong, and warns about what makes its figures
/// doubtful (no readable event time, results not stamped by the broker, engine and Kafka disagreeing, output outside
/// the expected band).
/// </summary>
internal static class CellVerdict
{
    public static void Judge(BenchmarkResult result, WindowObservation window, CellResources cell, ResourceSummary res, ContainerSummary engineUse,
        GeneratorVerdict generator, BenchmarkPlan p, double rate, ILogSink? log)
    {
        var (q, rep) = (result.Query, result.Repetition);
        var collector = cell.Collector;
        result.LatencyClock = collector.TimestampType switch
        {
            "LogAppendTime" => "broker",
            "" => "none",
            var t when cell.Embedded => $"producer ({t}; the embedded mock cannot apply LogAppendTime)",
            var t => $"producer ({t})",
        };
        if (collector.Records > 0 && collector.Unparsed == collector.Records && !result.LatencyReference.StartsWith("none", StringComparison.Ordinal))
            log?.Warning($"{q} repetition {rep}: none of the {collector.Records} results carried a readable event time or window end; no latency figure.");
        if (!cell.Embedded && collector.TimestampType is "CreateTime" or "Mixed")
            log?.Warning($"{q} repetition {rep}: results on '{cell.Topics.Result}' carry {collector.TimestampType} stamps although the topic was created with message.timestamp.type=LogAppendTime; latency is measured against the producing node's clock (LatencyClock).");
        CellJudge.Fill(result, window, cell.Recorder, res, engineUse, new CellJudge.Context
        {
            GeneratorValid = generator.Ok, GeneratorReason = generator.Reason, InputEndedAfterEvents = generator.InputEndedAfterEvents, TargetRate = rate,
            CommitIntervalSeconds = p.CheckpointInterval?.TotalSeconds ?? 0, NodesSampled = p.MetricNodes.Count > 0, Thresholds = p.Thresholds,
        });
        if (result.ResultCheck == "Incorrect")
        {
            // Wrong answers: the figures describe an engine that did not compute the query.
            result.InvalidReason = string.Join("; ", new[] { result.InvalidReason, $"wrong answers ({result.ResultCheckReason})" }.Where(x => x.Length > 0));
            result.Valid = false;
        }
        if (result.RateCheck.StartsWith("mismatch", StringComparison.Ordinal)) log?.Warning($"{q} repetition {rep}: engine and Kafka disagree: {result.RateCheck}");
        if (result.OutputCheck.StartsWith("outside", StringComparison.Ordinal)) log?.Warning($"{q} repetition {rep}: {result.OutputCheck}");
    }
}
