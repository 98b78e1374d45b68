using System.Diagnostics;
using PiBench.Core.Engines;
using PiBench.Core.Kafka;
using PiBench.Core.Nexmark;
using PiBench.Core.Nexmark.Reference;

namespace PiBench.Core.Benchmarking;

/// <summary>
/// Checks one benchmark cell's answers after its measured window: the generator is already stopped, so the input topic
/// no longer grows; the engine is given time to consume all of it and to write what follows from it; then both topics
/// are read whole and the result topic is compared with <see cref="NexmarkReference"/> over exactly the events the
/// input topic holds. One job: drain, read, compare — the runner decides what to
/// do with the verdict.
/// </summary>
public static class CellResultCheck
{
    /// <summary>Fills the result's ResultCheck fields. Never throws for a check that cannot be made: the reason is
    /// written into <see cref="BenchmarkResult.ResultCheckReason"/> and the verdict is NotChecked.</summary>
    public static async Task RunAsync(BenchmarkResult result, string query, IStreamEngine engine, StreamJobHandle job,
        string bootstrapServers, string inputTopic, string resultTopic, string groupId,
        int partitions, TimeSpan? checkpointInterval, ILogSink? log, CancellationToken ct)
    {
        try
        {
            await CheckAsync(result, query, engine, job, bootstrapServers, inputTopic, resultTopic, groupId, partitions, checkpointInterval, log, ct)
                .ConfigureAwait(false);
        }
        catch (Confluent.Kafka.KafkaException ex)
        {
            // The broker failed while the topics were read (offsets, metadata): the cell keeps its figures, unchecked.
            result.ResultCheck = "NotChecked";
            result.ResultCheckReason = $"Kafka: {ex.Error.Reason}";
        }
    }

    private static async Task CheckAsync(BenchmarkResult result, string query, IStreamEngine engine, StreamJobHandle job,
        string bootstrapServers, string inputTopic, string resultTopic, string groupId,
        int partitions, TimeSpan? checkpointInterval, ILogSink? log, CancellationToken ct)
    {
        void NotChecked(string why) { result.ResultCheck = "NotChecked"; result.ResultCheckReason = why; }
        if (!NexmarkReference.Names.Contains(query)) { NotChecked($"the reference implementation has no {query}"); return; }
        // What the engine got: the input topic's messages (events that failed at the stop, or in flight when it came, are
        // not all absent or all present, so the topic itself is the truth, read whole below).
        long events;
        using (var offsets = new OffsetReader(bootstrapServers, groupId)) events = offsets.End(inputTopic, partitions);
        var c = checkpointInterval ?? TimeSpan.FromSeconds(30);
        var bound = TimeSpan.FromSeconds(Math.Max(30, 3 * c.TotalSeconds + 10));
        var sw = Stopwatch.StartNew();

        // 1. The engine consumed every event: its own source counter where it keeps one, else its committed offsets
        //    (which move only at checkpoints).
        using (var offsets = new OffsetReader(bootstrapServers, groupId))
        {
            long consumed = -1, before = -1;
            var progress = Stopwatch.StartNew();
            var patience = TimeSpan.FromSeconds(Math.Max(5, 2 * c.TotalSeconds + 5)); // commits move at checkpoints
            while (sw.Elapsed < bound && progress.Elapsed < patience)
            {
                ct.ThrowIfCancellationRequested();
                try
                {
                    var m = await engine.GetMetricsAsync(job, ct).ConfigureAwait(false);
                    consumed = m.SourceRecordsOut;
                }
                catch (PiBenchException) { consumed = -1; }
                if (consumed < 0) consumed = offsets.Consumed(inputTopic, partitions);
                if (consumed >= events) break;
                if (consumed > before) { before = consumed; progress.Restart(); }
                await Task.Delay(500, ct).ConfigureAwait(false);
            }
            if (consumed < events)
            {
                NotChecked(progress.Elapsed >= patience
                    ? $"the engine had consumed {Math.Max(0, consumed)} of the {events} events and consumed nothing more for {patience.TotalSeconds:0} s"
                    : $"the engine had consumed {Math.Max(0, consumed)} of the {events} events {bound.TotalSeconds:0} s after the generator stopped");
                return;
            }

            // 2. What follows from them is written: the result topic has not grown for 3 s (sinks send as they go; the
            //    last windows fired when the last events raised the watermark).
            var end = offsets.End(resultTopic, partitions);
            var still = Stopwatch.StartNew();
            var quiet = TimeSpan.FromSeconds(3);
            while (still.Elapsed < quiet && sw.Elapsed < bound + quiet)
            {
                await Task.Delay(500, ct).ConfigureAwait(false);
                var now = offsets.End(resultTopic, partitions);
                if (now != end) { end = now; still.Restart(); }
            }
        }

        // 3. Read and compare.
        try
        {
            var sent = await QueryResultCheck.ReadTopicAsync(bootstrapServers, inputTopic, TimeSpan.FromSeconds(300), ct).ConfigureAwait(false);
            var input = new ReferenceInput();
            long unreadable = 0;
            foreach (var v in sent.Values)
                if (Engines.Reference.ReferenceEventReader.TryRead(v.ToArray(), out var ev, out _)) input.AddEvent(ev!); else unreadable++;
            if (sent.Dropped > 0 || unreadable > 0)
            {
                NotChecked(sent.Dropped > 0 ? $"the input topic no longer holds its first {sent.Dropped} events" : $"{unreadable} input messages are not Nexmark events");
                return;
            }
            var captured = await QueryResultCheck.ReadTopicAsync(bootstrapServers, resultTopic, TimeSpan.FromSeconds(120), ct).ConfigureAwait(false);
            var report = await Task.Run(() => QueryResultCheck.Check(query, input, captured, system: engine.System.ToString()), ct).ConfigureAwait(false);
            result.ResultCheck = report.Verdict;
            result.ResultCheckReason = report.Reason;
            result.ExpectedRows = report.Expected;
            result.ReceivedRows = report.Received;
            result.MissingRows = report.Missing;
            result.ExtraRows = report.Extra;
            result.MismatchedRows = report.Mismatched;
            result.PendingRows = report.PendingExpected;
            if (report.Verdict == "Incorrect")
                log?.Warning($"{query} repetition {result.Repetition}: wrong answers: {report.Reason} Examples: missing {report.MissingExamples}; extra {report.ExtraExamples}; mismatched {report.MismatchedExamples}");
        }
        catch (PiBenchException ex)
        {
            NotChecked($"{ex.ErrorId}: {ex.Message}");
        }
    }
}
