using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Confluent.Kafka;
using PiBench.StandIns;

namespace PiBench.Core.Tests.Benchmarking;

/// <summary>
/// An Arroyo stand-in that really processes data: once a pipeline reaches Running, it consumes the pipeline's input
/// topic (read from the submitted SQL) as the pipeline's consumer group, committing offsets, and writes a q0-style
/// pass-through result per bid {auction, bidder, price, datetime} to the result topic — each one held back until
/// <see cref="AddedDelayMs"/> after the bid arrived. Stopping the pipeline stops the worker.
/// (Lives beside the Core tests, not in tests/StandIns, because it needs Confluent.Kafka, which PiBench.Tests does not reference.)
/// </summary>
public sealed partial class ConsumingEngineStandIn : IDisposable
{
    private readonly string _bootstrap;
    private readonly Dictionary<string, (Thread Thread, CancellationTokenSource Stop)> _workers = new();
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, RateMeter> _meters = new();

    /// <summary>Records/s consumed and produced by one pipeline over the last 2 s (or since it started), as an engine's smoothed rate.</summary>
    private sealed class RateMeter
    {
        private readonly System.Diagnostics.Stopwatch _clock = System.Diagnostics.Stopwatch.StartNew();
        private readonly Queue<(double T, long In, long Out)> _points = new();
        public long In;
        public long Out;

        public void Tick()
        {
            lock (_points)
            {
                var now = _clock.Elapsed.TotalSeconds;
                if (_points.Count > 0 && now - _points.Last().T < 0.25) return;
                _points.Enqueue((now, Interlocked.Read(ref In), Interlocked.Read(ref Out)));
                while (_points.Count > 2 && now - _points.Peek().T > 2) _points.Dequeue();
            }
        }

        public (double Source, double Sink) Rates()
        {
            Tick();
            lock (_points)
            {
                if (_points.Count < 2) return (0, 0);
                var (a, b) = (_points.Peek(), _points.Last());
                var span = b.T - a.T;
                return span <= 0 ? (0, 0) : ((b.In - a.In) / span, (b.Out - a.Out) / span);
            }
        }
    }
    private readonly CancellationTokenSource _dispose = new();
    private readonly Thread _watcher;

    public ConsumingEngineStandIn(string bootstrapServers)
    {
        _bootstrap = bootstrapServers;
        // The engine's metrics report what really flows, as an engine's would (over the last few seconds).
        Engine.LiveRates = id => _meters.TryGetValue(id, out var m) ? m.Rates() : (0, 0);
        _watcher = new Thread(Watch) { IsBackground = true, Name = "standin-watch" };
        _watcher.Start();
    }

    public ArroyoStandIn Engine { get; } = new();
    public int AddedDelayMs { get; set; }
    /// <summary>A faulty engine: drops every n-th result (0 = none), so the answers check must find the loss.</summary>
    public int DropEveryNth { get; set; }
    /// <summary>Capacity of a pipeline, input events per second (0 = as fast as it can): beyond it the input lag grows.</summary>
    public double MaxEventsPerSecond { get; set; }
    public long ResultsWritten => Interlocked.Read(ref _written);
    /// <summary>The topics named in the queries the engine was given, in order of first mention.</summary>
    public IReadOnlyList<string> Topics => Engine.Pipelines.SelectMany(p => TopicRegex().Matches(p.Query).Select(m => m.Groups[1].Value)).Distinct().ToList();
    private long _written;

    [GeneratedRegex(@"topic'?\s*=\s*'([^']+)'")] private static partial Regex TopicRegex();
    [GeneratedRegex(@"group_id'?\s*=\s*'([^']+)'")] private static partial Regex GroupRegex();

    private void Watch()
    {
        while (!_dispose.IsCancellationRequested)
        {
            foreach (var p in Engine.Pipelines)
            {
                lock (_workers)
                {
                    var running = _workers.ContainsKey(p.Id);
                    if (!running && p.State == "Running" && p.Stop == "none" && !p.Deleted)
                    {
                        var topics = TopicRegex().Matches(p.Query).Select(m => m.Groups[1].Value).Distinct().ToList();
                        var input = topics.First(t => !t.EndsWith("-out", StringComparison.Ordinal));
                        var output = topics.First(t => t.EndsWith("-out", StringComparison.Ordinal));
                        var group = GroupRegex().Match(p.Query) is { Success: true } g ? g.Groups[1].Value : "standin-" + p.Id;
                        var cts = new CancellationTokenSource();
                        var partitions = p.Parallelism;
                        var meter = _meters.GetOrAdd(p.Id, _ => new RateMeter());
                        var t = new Thread(() => Work(input, output, group, partitions, meter, cts.Token)) { IsBackground = true, Name = "standin-" + p.Id };
                        _workers[p.Id] = (t, cts);
                        t.Start();
                    }
                    else if (running && (p.Stop != "none" || p.Deleted || p.State is "Stopped" or "Failed" or "Finished"))
                    {
                        StopWorker(p.Id);
                    }
                }
            }
            Thread.Sleep(20);
        }
    }

    private void StopWorker(string id)
    {
        if (!_workers.Remove(id, out var w)) return;
        w.Stop.Cancel();
        w.Thread.Join(TimeSpan.FromSeconds(10));
    }

    private void Work(string input, string output, string group, int partitions, RateMeter meter, CancellationToken stop)
    {
        using var consumer = new ConsumerBuilder<Ignore, byte[]>(new ConsumerConfig
        {
            BootstrapServers = _bootstrap, GroupId = group, EnableAutoCommit = true, AutoCommitIntervalMs = 200,
            AutoOffsetReset = AutoOffsetReset.Earliest, FetchWaitMaxMs = 20, EnableAutoOffsetStore = false,
        }).SetLogHandler((_, _) => { }).Build();
        using var producer = new ProducerBuilder<Null, string>(new ProducerConfig { BootstrapServers = _bootstrap, LingerMs = 1 }).SetLogHandler((_, _) => { }).Build();
        // Assign instead of subscribe: no group join delay (the group still holds the committed offsets PiBench reads).
        // The benchmark creates input topics with one partition per subtask, so parallelism = partitions here.
        consumer.Assign(Enumerable.Range(0, partitions).Select(i => new TopicPartitionOffset(input, i, Offset.Beginning)));
        var clock = System.Diagnostics.Stopwatch.StartNew();
        long processed = 0;
        // Results wait here until AddedDelayMs after their bid arrived (as an engine's processing would take), in order.
        var pending = new Queue<(long DueMs, string? Json, ConsumeResult<Ignore, byte[]> From)>();
        long results = 0;
        void EmitDue()
        {
            var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            while (pending.Count > 0 && pending.Peek().DueMs <= now)
            {
                var (_, json, from) = pending.Dequeue();
                if (json is null) { consumer.StoreOffset(from); continue; }
                producer.Produce(output, new Message<Null, string> { Value = json }, _ => { Interlocked.Increment(ref _written); Interlocked.Increment(ref meter.Out); });
                consumer.StoreOffset(from);
            }
        }
        while (!stop.IsCancellationRequested)
        {
            EmitDue();
            if (MaxEventsPerSecond > 0)
            {
                // Pace to the capacity: event n is not taken before n / capacity seconds.
                var due = TimeSpan.FromSeconds(processed / MaxEventsPerSecond) - clock.Elapsed;
                if (due > TimeSpan.FromMilliseconds(20)) due = TimeSpan.FromMilliseconds(20); // keep emitting while paced
                if (due > TimeSpan.Zero) { if (stop.WaitHandle.WaitOne(due)) break; continue; }
            }
            var waitMs = pending.Count == 0 ? 50 : Math.Clamp(pending.Peek().DueMs - DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), 0, 50);
            ConsumeResult<Ignore, byte[]>? r;
            try { r = consumer.Consume(TimeSpan.FromMilliseconds(waitMs)); }
            catch (ConsumeException) { continue; }
            meter.Tick();
            if (r?.Message?.Value is null) continue;
            var receivedMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            processed++;
            Interlocked.Increment(ref meter.In);
            using var doc = JsonDocument.Parse(r.Message.Value);
            if (!doc.RootElement.TryGetProperty("bid", out var bid) || bid.ValueKind != JsonValueKind.Object)
            {
                pending.Enqueue((receivedMs + AddedDelayMs, null, r)); // no result, but consumed: its offset is committed in order
                continue;
            }
            var dateTime = bid.GetProperty("dateTime").GetString()!;
            var json = $"{{\"auction\":{bid.GetProperty("auction").GetInt64()},\"bidder\":{bid.GetProperty("bidder").GetInt64()},\"price\":{bid.GetProperty("price").GetInt64()},\"datetime\":\"{dateTime}\"}}";
            results++;
            pending.Enqueue((receivedMs + AddedDelayMs, DropEveryNth > 0 && results % DropEveryNth == 0 ? null : json, r));
        }
        producer.Flush(TimeSpan.FromSeconds(5));
        try { consumer.Commit(); } catch (KafkaException) { }
        consumer.Close();
    }

    public void Dispose()
    {
        _dispose.Cancel();
        _watcher.Join(TimeSpan.FromSeconds(5));
        lock (_workers) foreach (var id in _workers.Keys.ToList()) StopWorker(id);
        Engine.Dispose();
    }
}
