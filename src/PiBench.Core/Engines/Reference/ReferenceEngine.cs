using System.Buffers;
using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Confluent.Kafka;
using PiBench.Core.Kafka;
using PiBench.Core.Nexmark.Reference;

namespace PiBench.Core.Engines.Reference;

/// <summary>
/// The Reference system: PiBench's reference implementation of the Nexmark queries (<see cref="StreamingReference"/>)
/// run as a job inside the PiBench process. It consumes the input topic like an engine (one consumer over every
/// partition, a watermark per partition 4 s behind its newest event time, the job's watermark the lowest of them, as
/// Flink's Kafka source keeps it), writes its rows to the output topic as Flink's json format does, and commits the
/// consumed offsets at every checkpoint (producer flushed first). Counters are exact: records out of the source,
/// records into the sink.
/// <para>It exists to check answers and to try PiBench on one machine (embedded broker, generator, query, latency,
/// results files): it is not a stream processor to compare engines against. Its jobs live in this process, so every
/// engine object sees them (like the embedded broker); they end with the process.</para>
/// </summary>
public sealed partial class ReferenceEngine : IStreamEngine
{
    private static readonly ConcurrentDictionary<string, ReferenceJob> s_jobs = new();
    private static int s_next;

    public ReferenceEngine(StreamEngineSettings settings) => Settings = settings;

    public StreamSystem System => StreamSystem.Reference;
    public StreamEngineSettings Settings { get; }

    /// <summary>The parts of a Reference script: source options, query name, sink options.</summary>
    internal sealed record Script(IReadOnlyDictionary<string, string> Source, string Query, IReadOnlyDictionary<string, string> Sink);

    internal static (Script? Script, List<SqlDiagnostic> Errors) Parse(string text)
    {
        var errors = new List<SqlDiagnostic>();
        Dictionary<string, string>? source = null, sink = null;
        string? query = null;
        foreach (var (statement, line) in Statements(text))
        {
            Match m;
            if ((m = StatementRegex().Match(statement)).Success)
            {
                var kind = m.Groups[1].Value.ToUpperInvariant();
                var options = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
                foreach (Match o in OptionRegex().Matches(m.Groups[2].Value)) options[o.Groups[1].Value] = o.Groups[2].Value.Replace("''", "'");
                if (kind == "SOURCE") source = options; else sink = options;
            }
            else if ((m = QueryRegex().Match(statement)).Success) query = m.Groups[1].Value;
            else errors.Add(new SqlDiagnostic($"Not a Reference statement: '{statement}'. Expected SOURCE WITH (...); QUERY qN; SINK WITH (...);", line, 1));
        }
        if (source is null) errors.Add(new SqlDiagnostic("The script has no SOURCE WITH (...) statement."));
        else
            foreach (var key in new[] { "bootstrap_servers", "topic", "group_id" })
                if (!source.ContainsKey(key)) errors.Add(new SqlDiagnostic($"The source needs {key} = '...'."));
        if (source is not null && source.TryGetValue("connector", out var sc) && sc != "kafka")
            errors.Add(new SqlDiagnostic($"Unknown source connector '{sc}': the Reference system reads Kafka."));
        if (query is null) errors.Add(new SqlDiagnostic("The script has no QUERY qN; statement."));
        else if (!NexmarkReference.Names.Contains(query)) errors.Add(new SqlDiagnostic($"The reference implementation has no query '{query}' (it has {string.Join(", ", NexmarkReference.Names)})."));
        if (sink is null) errors.Add(new SqlDiagnostic("The script has no SINK WITH (...) statement."));
        else if (sink.GetValueOrDefault("connector") is var k && k is not ("blackhole" or "kafka"))
            errors.Add(new SqlDiagnostic($"Unknown sink connector '{k}': use 'blackhole' or 'kafka'."));
        else if (k == "kafka" && (!sink.ContainsKey("topic") || !sink.ContainsKey("bootstrap_servers")))
            errors.Add(new SqlDiagnostic("A kafka sink needs topic = '...' and bootstrap_servers = '...'."));
        return (errors.Count == 0 ? new Script(source!, query!, sink!) : null, errors);
    }

    /// <summary>The script's statements (split on ';' outside quotes, "--" comments dropped, whitespace folded) with
    /// the 1-based line each starts on.</summary>
    private static IEnumerable<(string Statement, int Line)> Statements(string text)
    {
        var sb = new StringBuilder();
        var line = 1;
        var startLine = 1;
        var quoted = false;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (!quoted && c == '-' && i + 1 < text.Length && text[i + 1] == '-')
            {
                while (i < text.Length && text[i] != '\n') i++;
                i--;
                continue;
            }
            if (c == '\n') line++;
            if (c == '\'') quoted = !quoted;
            if (!quoted && c == ';')
            {
                var st = WhitespaceRegex().Replace(sb.ToString(), " ").Trim();
                if (st.Length > 0) yield return (st, startLine);
                sb.Clear();
                continue;
            }
            if (sb.Length == 0 && char.IsWhiteSpace(c)) { startLine = c == '\n' ? line : startLine; continue; }
            if (sb.Length == 0) startLine = line;
            sb.Append(c);
        }
        var last = WhitespaceRegex().Replace(sb.ToString(), " ").Trim();
        if (last.Length > 0) yield return (last, startLine);
    }

    public Task<SqlValidation> ValidateAsync(string sql, CancellationToken cancellationToken) =>
        Task.FromResult(new SqlValidation(Parse(sql).Errors));

    public async Task<StreamJobHandle> SubmitAsync(StreamJobRequest request, CancellationToken cancellationToken)
    {
        if (request.Parallelism < 1)
            throw new PiBenchException("ParallelismInvalid", PiBenchErrorCategory.InvalidArgument,
                $"Parallelism must be at least 1 (got {request.Parallelism}).", request.Parallelism, "Use 1 or more.");
        var (script, errors) = Parse(request.Sql);
        if (script is null)
            throw new PiBenchException(EngineErrorIds.SqlError, PiBenchErrorCategory.InvalidArgument,
                $"The Reference system rejected {request.Name}: {new SqlValidation(errors).Message}", request.Name,
                "Use the catalog's Reference script (Get-NexmarkQuery -System Reference shows it).");
        var bootstrap = script.Source["bootstrap_servers"];
        var topic = script.Source["topic"];
        KafkaTopicDescription? input;
        using (var admin = KafkaTopicAdmin.Open(bootstrap, Settings.RequestTimeout))
        {
            try { input = await admin.DescribeTopicAsync(topic, cancellationToken).ConfigureAwait(false); }
            catch (KafkaException ex) { throw KafkaTopicAdmin.Unreachable(bootstrap, topic, ex); }
        }
        if (input is null)
            throw new PiBenchException(EngineErrorIds.JobFailed, PiBenchErrorCategory.ObjectNotFound,
                $"The Reference job {request.Name} has no input: there is no topic '{topic}' on {bootstrap}.", topic,
                "Create it first (Initialize-NexmarkTopic).");
        var id = $"ref-{Interlocked.Increment(ref s_next):D4}-{Guid.NewGuid():N}"[..21];
        var handle = new StreamJobHandle(StreamSystem.Reference, id, request.Name) { PipelineId = id };
        var job = new ReferenceJob(handle, script, input.Partitions, request.CheckpointInterval ?? TimeSpan.FromSeconds(10));
        s_jobs[id] = job;
        job.Start();
        return handle;
    }

    private static ReferenceJob Job(StreamJobHandle job) =>
        s_jobs.TryGetValue(job.JobId, out var j) ? j
        : throw new PiBenchException(EngineErrorIds.JobNotFound, PiBenchErrorCategory.ObjectNotFound,
            $"There is no Reference job {job.JobId} in this process.", job.JobId,
            "Reference jobs run inside the PiBench process that submitted them and end with it.");

    public Task<StreamJobStatus> GetStatusAsync(StreamJobHandle job, CancellationToken cancellationToken) =>
        Task.FromResult(Job(job).Status());

    public Task<StreamJobMetrics> GetMetricsAsync(StreamJobHandle job, CancellationToken cancellationToken) =>
        Task.FromResult(Job(job).Metrics());

    public async Task StopAsync(StreamJobHandle job, StreamStopMode mode, CancellationToken cancellationToken) =>
        await Job(job).StopAsync(mode == StreamStopMode.Graceful, cancellationToken).ConfigureAwait(false);

    public Task RemoveAsync(StreamJobHandle job, CancellationToken cancellationToken)
    {
        if (s_jobs.TryGetValue(job.JobId, out var j))
        {
            if (!j.State.IsTerminal())
                throw new PiBenchException("EngineJobRunning", PiBenchErrorCategory.InvalidOperation,
                    $"Reference job {job.JobId} is still {j.State}.", job.JobId, "Stop it first (Stop-NexmarkQuery).");
            s_jobs.TryRemove(job.JobId, out _);
        }
        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<StreamJobHandle>> ListActiveJobsAsync(string namePrefix, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<StreamJobHandle>>(s_jobs.Values
            .Where(j => !j.State.IsTerminal() && j.Handle.Name.StartsWith(namePrefix, StringComparison.Ordinal))
            .Select(j => j.Handle).ToList());

    public Task<IReadOnlyList<StreamWorker>> GetWorkersAsync(CancellationToken cancellationToken)
    {
        var running = s_jobs.Values.Count(j => !j.State.IsTerminal());
        IReadOnlyList<StreamWorker> workers =
        [
            new StreamWorker
            {
                System = nameof(StreamSystem.Reference), Id = "in-process", Address = Environment.MachineName, Nodes = 1,
                Slots = Math.Max(1, running), FreeSlots = 0, CpuCores = Environment.ProcessorCount,
            },
        ];
        return Task.FromResult(workers);
    }

    public Task<IReadOnlyList<SubtaskPlacement>> GetPlacementAsync(StreamJobHandle job, CancellationToken cancellationToken)
    {
        var j = Job(job);
        IReadOnlyList<SubtaskPlacement> rows =
        [
            new SubtaskPlacement
            {
                System = nameof(StreamSystem.Reference), JobId = job.JobId, OperatorName = j.Script.Query, Subtask = 0,
                Host = Environment.MachineName, Worker = "in-process", Status = j.State.ToString(), Evidence = "InProcess",
            },
        ];
        return Task.FromResult(rows);
    }

    public void Dispose() { }

    [GeneratedRegex(@"^(SOURCE|SINK)\s+WITH\s*\((.*)\)\s*;?\s*$", RegexOptions.IgnoreCase)]
    private static partial Regex StatementRegex();

    [GeneratedRegex(@"([A-Za-z0-9_.]+)\s*=\s*'((?:[^']|'')*)'")]
    private static partial Regex OptionRegex();

    [GeneratedRegex(@"^QUERY\s+([A-Za-z0-9_]+)\s*;?\s*$", RegexOptions.IgnoreCase)]
    private static partial Regex QueryRegex();

    [GeneratedRegex(@"\s+")]
    private static partial Regex WhitespaceRegex();
}

/// <summary>One running Reference query: consume, watermark, operator, produce, checkpoint.</summary>
internal sealed class ReferenceJob
{
    private const long WatermarkDelayMs = NexmarkReference.DefaultWatermarkDelayMs;
    private readonly int _partitions;
    private readonly TimeSpan _checkpointInterval;
    private readonly CancellationTokenSource _stop = new();
    private readonly StreamingReference _operator;
    private Thread? _thread;
    private volatile bool _graceful;
    private volatile StreamJobState _state = StreamJobState.Starting;
    private string _failure = "";
    private long _recordsOut, _recordsIn, _unreadable;
    private DateTimeOffset? _startTime;

    public ReferenceJob(StreamJobHandle handle, ReferenceEngine.Script script, int partitions, TimeSpan checkpointInterval)
    {
        Handle = handle; Script = script; _partitions = partitions;
        _checkpointInterval = checkpointInterval > TimeSpan.Zero ? checkpointInterval : TimeSpan.FromSeconds(10);
        _operator = StreamingReference.Create(script.Query);
    }

    public StreamJobHandle Handle { get; }
    public ReferenceEngine.Script Script { get; }
    public StreamJobState State => _state;

    public void Start()
    {
        _thread = new Thread(Run) { IsBackground = true, Name = "pibench-reference-" + Handle.JobId };
        _thread.Start();
    }

    public StreamJobStatus Status() => new(Handle, _state, _state.ToString().ToUpperInvariant())
    {
        FailureMessage = _failure, Tasks = 1, StartTime = _startTime,
    };

    public StreamJobMetrics Metrics()
    {
        var now = DateTimeOffset.UtcNow;
        return new StreamJobMetrics(Handle,
        [
            new StreamOperatorMetric
            {
                JobId = Handle.JobId, OperatorId = "source", OperatorName = "Source: kafka " + Script.Source["topic"], IsSource = true,
                RecordsOut = Interlocked.Read(ref _recordsOut), RecordsIn = Interlocked.Read(ref _recordsOut), SampledAt = now,
            },
            new StreamOperatorMetric
            {
                JobId = Handle.JobId, OperatorId = "sink", OperatorName = $"{Script.Query} -> Sink: {Script.Sink["connector"]}", IsSink = true,
                RecordsIn = Interlocked.Read(ref _recordsIn), RecordsOut = Interlocked.Read(ref _recordsIn), SampledAt = now,
            },
        ]) { SampledAt = now };
    }

    public async Task StopAsync(bool graceful, CancellationToken cancellationToken)
    {
        if (_state.IsTerminal()) return;
        _graceful = graceful;
        _stop.Cancel();
        while (_thread is { IsAlive: true })
        {
            cancellationToken.ThrowIfCancellationRequested();
            await Task.Delay(50, cancellationToken).ConfigureAwait(false);
        }
    }

    private void Run()
    {
        var bootstrap = Script.Source["bootstrap_servers"];
        var topic = Script.Source["topic"];
        IProducer<Null, byte[]>? producer = null;
        try
        {
            var cfg = new ConsumerConfig
            {
                BootstrapServers = bootstrap, GroupId = Script.Source["group_id"], EnableAutoCommit = false,
                EnableAutoOffsetStore = false, FetchWaitMaxMs = 50,
            };
            using var consumer = new ConsumerBuilder<Ignore, byte[]>(cfg).SetLogHandler((_, _) => { }).Build();
            // the start is resolved to concrete offsets before the job reports Running: a logical 'beginning' resolved at
            // the first fetch would silently mean "whatever the broker still holds then" (the embedded broker drops the
            // oldest batches beyond 5 MiB per partition, and an unpaced generator gets there in a fraction of a second)
            var latest = Script.Source.GetValueOrDefault("offset") == "latest";
            var positions = new Dictionary<int, long>();
            for (var p = 0; p < _partitions; p++)
            {
                var w = consumer.QueryWatermarkOffsets(new TopicPartition(topic, p), TimeSpan.FromSeconds(10));
                positions[p] = latest ? w.High.Value : w.Low.Value;
            }
            consumer.Assign(positions.Select(kv => new TopicPartitionOffset(topic, kv.Key, kv.Value)));
            var sinkTopic = Script.Sink.GetValueOrDefault("connector") == "kafka" ? Script.Sink["topic"] : null;
            if (sinkTopic is not null)
                producer = new ProducerBuilder<Null, byte[]>(new ProducerConfig
                {
                    BootstrapServers = Script.Sink["bootstrap_servers"], LingerMs = 5, EnableIdempotence = false, Acks = Acks.All,
                }).SetLogHandler((_, _) => { }).Build();
            Error? produceError = null;
            var maxTs = Enumerable.Repeat(long.MinValue, _partitions).ToArray();
            var writer = new RowWriter(Script.Query);
            StreamingReference.Emit emit = (row, update) =>
            {
                Interlocked.Increment(ref _recordsIn);
                if (producer is null) return;
                producer.Produce(sinkTopic, new Message<Null, byte[]> { Value = writer.Write(row, update) }, r =>
                {
                    if (r.Error.IsError) produceError ??= r.Error;
                });
            };
            _startTime = DateTimeOffset.UtcNow;
            _state = StreamJobState.Running;
            var lastWatermark = DateTime.UtcNow;
            var lastCheckpoint = DateTime.UtcNow;
            var lastLossCheck = DateTime.UtcNow;
            while (!_stop.IsCancellationRequested)
            {
                var r = consumer.Consume(TimeSpan.FromMilliseconds(100));
                if (r?.Message is { } m)
                {
                    // the generator's producer is not transactional, so a partition's offsets have no gaps: a jump (from
                    // the start offset too) means the broker dropped records before this job read them (the consumer then
                    // resets to the end)
                    if (positions.TryGetValue(r.Partition.Value, out var expected) && r.Offset.Value > expected)
                        throw new RecordsLostException(r.Partition.Value, expected, r.Offset.Value);
                    Interlocked.Increment(ref _recordsOut);
                    positions[r.Partition.Value] = r.Offset.Value + 1;
                    if (ReferenceEventReader.TryRead(m.Value, out var ev, out var ts))
                    {
                        var p = r.Partition.Value;
                        if (p >= 0 && p < maxTs.Length && ts > maxTs[p]) maxTs[p] = ts;
                        _operator.OnEvent(ev!, emit);
                    }
                    else Interlocked.Increment(ref _unreadable);
                }
                var now = DateTime.UtcNow;
                if (now - lastLossCheck >= TimeSpan.FromSeconds(1))
                {
                    lastLossCheck = now;
                    CheckNothingLost(consumer, topic, positions);
                }
                if (now - lastWatermark >= TimeSpan.FromMilliseconds(200))
                {
                    // Flink's Kafka source: a watermark per partition, the operator's the lowest; none until every partition had data.
                    lastWatermark = now;
                    if (maxTs.All(t => t > long.MinValue)) _operator.OnWatermark(maxTs.Min() - WatermarkDelayMs, emit);
                }
                if (produceError is { } pe) throw new KafkaException(pe);
                if (now - lastCheckpoint >= _checkpointInterval)
                {
                    lastCheckpoint = now;
                    Checkpoint(consumer, producer, topic, positions);
                }
            }
            if (_graceful) Checkpoint(consumer, producer, topic, positions);
            consumer.Close();
            _state = StreamJobState.Stopped;
        }
        catch (RecordsLostException lost)
        {
            _failure = lost.Message;
            _state = StreamJobState.Failed;
        }
        catch (Exception ex)
        {
            _failure = ex is KafkaException k ? $"Kafka: {k.Error.Reason}" : ex.Message;
            _state = StreamJobState.Failed;
        }
        finally
        {
            producer?.Dispose();
        }
    }

    /// <summary>
    /// Once a second: a partition whose log now starts after this job's position lost records before the job read them
    /// (the consumer's default reset would jump to the end and say nothing). Uses the log start the last fetch response
    /// carried (no request, never blocks the job); the offset-gap check in the loop catches a jump as well.
    /// </summary>
    private static void CheckNothingLost(IConsumer<Ignore, byte[]> consumer, string topic, Dictionary<int, long> positions)
    {
        foreach (var (p, position) in positions)
        {
            var w = consumer.GetWatermarkOffsets(new TopicPartition(topic, p));
            if (w.Low != Offset.Unset && w.Low.Value > position) throw new RecordsLostException(p, position, w.Low.Value);
        }
    }

    private sealed class RecordsLostException(int partition, long expected, long got) : Exception(
        $"Partition {partition}: offsets {expected} to {got - 1} never reached this job ({got - expected} records; the broker dropped them " +
        "before the job read them, PiBench's generator writes no transaction markers that could leave such a gap), so its answers would be " +
        "wrong. The embedded broker (librdkafka's mock) keeps at most 5 MiB per partition: produce more slowly (-EventsPerSecond) or into " +
        "more partitions.");

    /// <summary>A checkpoint: every row produced so far is acknowledged, then the consumed offsets are committed.</summary>
    private static void Checkpoint(IConsumer<Ignore, byte[]> consumer, IProducer<Null, byte[]>? producer, string topic, Dictionary<int, long> positions)
    {
        producer?.Flush(TimeSpan.FromSeconds(30));
        if (positions.Count > 0)
            consumer.Commit(positions.Select(kv => new TopicPartitionOffset(topic, kv.Key, kv.Value)));
    }
}

/// <summary>Reads the generator's Kafka JSON (nexmark-generator.md 9.3) into reference events.</summary>
internal static class ReferenceEventReader
{
    public static bool TryRead(byte[]? value, out object? ev, out long eventTime)
    {
        ev = null; eventTime = 0;
        if (value is null || value.Length == 0) return false;
        try
        {
            using var doc = JsonDocument.Parse(value);
            var root = doc.RootElement;
            switch (root.GetProperty("event_type").GetInt32())
            {
                case 0:
                    var p = root.GetProperty("person");
                    eventTime = Time(p);
                    ev = new ReferencePerson(p.GetProperty("id").GetInt64(), p.GetProperty("name").GetString()!, p.GetProperty("city").GetString()!,
                        p.GetProperty("state").GetString()!, eventTime);
                    return true;
                case 1:
                    var a = root.GetProperty("auction");
                    eventTime = Time(a);
                    ev = new ReferenceAuction(a.GetProperty("id").GetInt64(), a.GetProperty("seller").GetInt64(), a.GetProperty("category").GetInt64(),
                        eventTime, Time(a, "expires"));
                    return true;
                case 2:
                    var b = root.GetProperty("bid");
                    eventTime = Time(b);
                    ev = new ReferenceBid(b.GetProperty("auction").GetInt64(), b.GetProperty("bidder").GetInt64(), b.GetProperty("price").GetInt64(),
                        eventTime, b.GetProperty("extra").GetString() ?? "");
                    return true;
                default:
                    return false;
            }
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            return false;
        }
    }

    private static long Time(JsonElement o, string name = "dateTime")
    {
        var v = o.GetProperty(name);
        if (!ResultComparer.TryTime(v, out var ms)) throw new FormatException($"{name} is not a time");
        return ms;
    }
}

/// <summary>Writes a reference row as Flink's json format would: the sink's column names, TIMESTAMP(3) as
/// "yyyy-MM-dd HH:mm:ss.SSS", numbers as JSON numbers; q4 (updating) as debezium-json with op c (new key) or u.</summary>
internal sealed class RowWriter(string query)
{
    private readonly ReferenceQuery _query = NexmarkReference.Query(query);
    private readonly ArrayBufferWriter<byte> _buffer = new(256);

    public byte[] Write(ReferenceRow row, bool update)
    {
        _buffer.Clear();
        using (var w = new Utf8JsonWriter(_buffer))
        {
            w.WriteStartObject();
            if (_query.Changelog)
            {
                w.WriteNull("before");
                w.WritePropertyName("after");
                w.WriteStartObject();
            }
            for (var i = 0; i < _query.Columns.Count; i++)
            {
                var c = _query.Columns[i];
                switch (row.Values[i])
                {
                    case null: w.WriteNull(c.Name); break;
                    case long l when c.Kind == ReferenceColumnKind.Time:
                        w.WriteString(c.Name, DateTimeOffset.FromUnixTimeMilliseconds(l).UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss.fff", CultureInfo.InvariantCulture));
                        break;
                    case long l: w.WriteNumber(c.Name, l); break;
                    case decimal d: w.WriteNumber(c.Name, d); break;
                    case string s: w.WriteString(c.Name, s); break;
                    default: w.WriteString(c.Name, Convert.ToString(row.Values[i], CultureInfo.InvariantCulture)); break;
                }
            }
            if (_query.Changelog)
            {
                w.WriteEndObject();
                w.WriteString("op", update ? "u" : "c");
            }
            w.WriteEndObject();
        }
        return _buffer.WrittenSpan.ToArray();
    }
}
