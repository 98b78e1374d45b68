namespace PiBench.Core.Benchmarking;

/// <summary>
/// One cell's progress lines: the cell's own line under Invoke-Benchmark (its label and the run's percent) and, beneath
/// it, the phase the cell is in.
/// </summary>
internal sealed class CellProgress
{
    private readonly IProgressSink? _sink;
    private readonly string _label;
    private readonly int _percent;

    public CellProgress(IProgressSink? sink, string label, int percent)
    {
        _sink = sink;
        _label = label;
        _percent = percent;
    }

    /// <summary>The cell's line, then its phase line (<paramref name="phasePercent"/> -1 when unknown).</summary>
    public void Report(string phase, int phasePercent = -1)
    {
        _sink?.Report("Invoke-Benchmark", _label, _percent);
        _sink?.Report("Invoke-Benchmark", phase, phasePercent, child: "Phase");
    }
}
