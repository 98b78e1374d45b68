using System.Collections.Concurrent;

namespace PiBench;

/// <summary>
/// Runs async work on the pipeline thread: every continuation that was captured with the current
/// SynchronizationContext returns here, so Write* calls after <c>await</c> are legal.
/// Other threads hand work to the pipeline thread with <see cref="Post"/>.
/// </summary>
internal sealed class AsyncPump : SynchronizationContext
{
    private readonly BlockingCollection<(SendOrPostCallback Callback, object? State)> _queue = new();

    public static void Run(Func<AsyncPump, Task> body)
    {
        var saved = Current;
        var pump = new AsyncPump();
        SetSynchronizationContext(pump);
        try
        {
            Task task;
            try { task = body(pump); }
            catch (Exception ex) { task = Task.FromException(ex); }
            task.ContinueWith(_ => pump._queue.CompleteAdding(), CancellationToken.None,
                TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            foreach (var (cb, state) in pump._queue.GetConsumingEnumerable())
                cb(state);
            task.GetAwaiter().GetResult();
        }
        finally
        {
            SetSynchronizationContext(saved);
        }
    }

    public override void Post(SendOrPostCallback d, object? state)
    {
        try { _queue.Add((d, state)); }
        catch (InvalidOperationException) { /* completed: the command has ended, drop late messages */ }
    }

    public override void Send(SendOrPostCallback d, object? state) =>
        throw new NotSupportedException("Synchronous Send onto the pipeline thread would deadlock; use Post.");

    public override SynchronizationContext CreateCopy() => this;
}
