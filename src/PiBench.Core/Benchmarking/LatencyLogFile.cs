namespace PiBench.Core.Benchmarking;

/// <summary>
/// Writes one cell's latency interval log (.hlog, from the window's start) beside the run's result files and names it
/// on the result; a file that cannot be written is a warning, and the result names none.
/// </summary>
internal static class LatencyLogFile
{
    /// <summary>
    /// The log is named after the run's files (<paramref name="baseName"/> in <paramref name="directory"/>: the resumed
    /// file's name, or the fresh run's, with the suffix that keeps it apart from a run started in the same second), the
    /// cell's query, repetition and step.
    /// </summary>
    public static void Write(BenchmarkResult result, LatencyRecorder recorder, DateTimeOffset windowStart, string directory, string baseName,
        ILogSink? log)
    {
        var (q, rep, step) = (result.Query, result.Repetition, result.Step);
        var hlog = Path.Combine(directory, $"{baseName}_{q}_r{rep}{(step > 0 ? $"_s{step}" : "")}.hlog");
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(hlog)!);
            recorder.WriteIntervalLog(hlog, windowStart);
            result.HistogramFile = Path.GetFileName(hlog);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException) { log?.Warning($"{q} repetition {rep}: the latency log {hlog} could not be written: {ex.Message}"); }
    }
}
