namespace PiBench.Core.Benchmarking;

/// <summary>
/// Writes one cell's latency interval log (.hlog, from the window's start) beside the run's result files and names it
/// on the result; a file that cannot be written is a warning, and the result names none.
/// </summary>
internal static class LatencyLogFile
{
    /// <summary>
    /// The log is named after the run's files (the resumed file's name, else the stamp of <paramref name="runStartedAt"/>,
    /// when the run's document was started), the cell's query, repetition and step.
    /// </summary>
    public static void Write(BenchmarkResult result, LatencyRecorder recorder, DateTimeOffset windowStart, BenchmarkPlan plan, DateTimeOffset runStartedAt,
        ILogSink? log)
    {
        var (q, rep, step) = (result.Query, result.Repetition, result.Step);
        var hlog = Path.Combine(plan.ResumePath is { } rp ? Path.GetDirectoryName(Path.GetFullPath(rp))! : plan.OutputDirectory,
            $"{(plan.ResumePath is { } rp2 ? Path.GetFileNameWithoutExtension(rp2) : ResultsFiles.BaseName(runStartedAt))}_{q}_r{rep}{(step > 0 ? $"_s{step}" : "")}.hlog");
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(hlog)!);
            recorder.WriteIntervalLog(hlog, windowStart);
            result.HistogramFile = Path.GetFileName(hlog);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException) { log?.Warning($"{q} repetition {rep}: the latency log {hlog} could not be written: {ex.Message}"); }
    }
}
