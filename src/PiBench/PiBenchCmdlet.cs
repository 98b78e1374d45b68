using System.Management.Automation;
using PiBench.Core;

namespace PiBench;

/// <summary>
/// Base of every PiBench cmdlet. Bridges async Core work onto the pipeline thread (<see cref="AsyncPump"/>),
/// cancels it on Ctrl+C (<see cref="StopProcessing"/>), maps <see cref="PiBenchException"/> to an ErrorRecord
/// in one place, and turns Core progress and log callbacks into Write-Progress / Write-Verbose / Write-Warning
/// on the pipeline thread.
/// </summary>
public abstract class PiBenchCmdlet : PSCmdlet, IDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private AsyncPump? _pump;
    /// <summary>The PipelineStoppedException a posted Write* threw (Ctrl+C, or Select-Object -First downstream).</summary>
    private PipelineStoppedException? _pipelineStopped;
    private Task? _cancelling;
    private readonly Dictionary<string, int> _activityIds = new(StringComparer.Ordinal);
    private readonly HashSet<int> _openActivities = new();
    private int _nextActivityId;

    /// <summary>Cancelled when the user presses Ctrl+C or the pipeline is stopped.</summary>
    protected CancellationToken StopToken => _stop.Token;

    /// <summary>First activity id of this cmdlet; children get following ids.</summary>
    protected virtual int BaseActivityId => Math.Abs(GetType().Name.GetHashCode()) % 100000 * 100;

    protected virtual Task BeginProcessingAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    protected virtual Task ProcessRecordAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    protected virtual Task EndProcessingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    protected sealed override void BeginProcessing() => RunPumped(BeginProcessingAsync);
    protected sealed override void ProcessRecord() => RunPumped(ProcessRecordAsync);
    protected sealed override void EndProcessing()
    {
        try { RunPumped(EndProcessingAsync); }
        finally { CompleteAllProgress(); }
    }

    protected override void StopProcessing() => _stop.Cancel();

    private void RunPumped(Func<CancellationToken, Task> body)
    {
        try
        {
            AsyncPump.Run(pump =>
            {
                _pump = pump;
                return body(_stop.Token);
            });
        }
        catch (Exception) when (_pipelineStopped is not null)
        {
            // The pipeline is stopping: whatever the body ended with, it ends as the stop below.
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
            CompleteAllProgress();
            throw new PipelineStoppedException();
        }
        catch (PiBenchException ex)
        {
            // A PiBenchException escaping the body ends this record; per-item errors use WriteError(ex) instead.
            WriteError(ToErrorRecord(ex));
        }
        finally
        {
            _pump = null;
        }
        if (_pipelineStopped is { } stopped)
        {
            _cancelling?.Wait(TimeSpan.FromSeconds(5)); // its callbacks have run before Dispose disposes _stop
            CompleteAllProgress();
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(stopped);
        }
    }

    /// <summary>
    /// Hands an action to the pipeline thread (from a Core callback on any thread). Once the pipeline is stopping,
    /// Write* throws PipelineStoppedException: the first one cancels <see cref="StopToken"/> and later actions are
    /// dropped, but the pump keeps running until the Core work has wound down (stopped its jobs, written its files);
    /// only then does the command end with that exception. Letting it escape the pump at once would end the command
    /// while the Core work still ran in the background.
    /// </summary>
    protected void Post(Action action)
    {
        var pump = _pump;
        if (pump is null) return;
        pump.Post(_ =>
        {
            if (_pipelineStopped is not null) return;
            try { action(); }
            catch (PipelineStoppedException ex)
            {
                _pipelineStopped = ex;
                // Not inline: cancellation callbacks would run Core continuations on the pipeline thread.
                _cancelling = _stop.CancelAsync();
            }
        }, null);
    }

    /// <summary>Maps a Core exception to an ErrorRecord: stable id, real category, target, recommended action.</summary>
    protected ErrorRecord ToErrorRecord(PiBenchException ex) => ErrorMapping.ToErrorRecord(ex);

    /// <summary>Writes a non-terminating error for one item (node, query) and lets the others go on.</summary>
    protected void WriteError(PiBenchException ex) => WriteError(ToErrorRecord(ex));

    /// <summary>Ends the command: bad arguments or a broken whole-command state.</summary>
    protected void ThrowTerminatingError(PiBenchException ex) => ThrowTerminatingError(ToErrorRecord(ex));

    /// <summary>Terminating error for a bad parameter value.</summary>
    protected void ThrowArgumentError(string errorId, string message, object? value, string? recommendedAction = null) =>
        ThrowTerminatingError(new PiBenchException(errorId, PiBenchErrorCategory.InvalidArgument, message, value, recommendedAction));

    /// <summary>An <see cref="IProgressSink"/> that reaches Write-Progress through the pipeline thread.</summary>
    protected IProgressSink Progress => new PumpProgress(this);

    /// <summary>An <see cref="ILogSink"/> that reaches Write-Verbose / Write-Warning through the pipeline thread.</summary>
    protected ILogSink Log => new PumpLog(this);

    /// <summary>Writes progress now (pipeline thread only).</summary>
    protected void WriteProgressNow(string activity, string status, int percent = -1, string? child = null)
    {
        var parentId = ActivityId(activity, null);
        var id = child is null ? parentId : ActivityId(activity, child);
        var record = new ProgressRecord(id, child is null ? activity : $"{activity}: {child}", string.IsNullOrEmpty(status) ? " " : status)
        {
            PercentComplete = Math.Clamp(percent, -1, 100),
        };
        if (child is not null) record.ParentActivityId = parentId;
        _openActivities.Add(id);
        WriteProgress(record);
    }

    /// <summary>Marks an activity (and its children) completed.</summary>
    protected void CompleteProgress(string activity, string? child = null)
    {
        var id = ActivityId(activity, child);
        if (!_openActivities.Remove(id)) return;
        WriteProgress(new ProgressRecord(id, child is null ? activity : $"{activity}: {child}", "Done")
        {
            RecordType = ProgressRecordType.Completed,
        });
    }

    private void CompleteAllProgress()
    {
        foreach (var id in _openActivities.ToArray())
        {
            try
            {
                WriteProgress(new ProgressRecord(id, "PiBench", "Done") { RecordType = ProgressRecordType.Completed });
            }
            catch (Exception) when (_stop.IsCancellationRequested) { }
            catch (PipelineStoppedException) { }
        }
        _openActivities.Clear();
    }

    private int ActivityId(string activity, string? child)
    {
        var key = child is null ? activity : activity + "\u0001" + child;
        if (!_activityIds.TryGetValue(key, out var id))
        {
            id = BaseActivityId + _nextActivityId++;
            _activityIds[key] = id;
        }
        return id;
    }

    public void Dispose()
    {
        _stop.Dispose();
        GC.SuppressFinalize(this);
    }

    private sealed class PumpProgress(PiBenchCmdlet owner) : IProgressSink
    {
        public void Report(string activity, string status, int percent = -1, string? child = null) =>
            owner.Post(() => owner.WriteProgressNow(activity, status, percent, child));
    }

    private sealed class PumpLog(PiBenchCmdlet owner) : ILogSink
    {
        public void Verbose(string message) => owner.Post(() => owner.WriteVerbose(message));
        public void Warning(string message) => owner.Post(() => owner.WriteWarning(message));
    }
}

internal static class ErrorMapping
{
    public static ErrorRecord ToErrorRecord(PiBenchException ex)
    {
        var category = Enum.TryParse<ErrorCategory>(ex.Category.ToString(), out var c) ? c : ErrorCategory.InvalidOperation;
        var record = new ErrorRecord(ex, ex.ErrorId, category, ex.TargetObject);
        if (!string.IsNullOrEmpty(ex.RecommendedAction))
            record.ErrorDetails = new ErrorDetails(ex.Message) { RecommendedAction = ex.RecommendedAction };
        return record;
    }
}
