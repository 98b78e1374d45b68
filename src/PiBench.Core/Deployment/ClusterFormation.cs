using Confluent.Kafka;
using PiBench.Core.Engines;

namespace PiBench.Core.Deployment;

/// <summary>One cluster-formation check: its name (what Test-StreamCluster and a ServiceNotReady error call it),
/// the node it is reported on, whether it passed, and what was seen.</summary>
public sealed record FormationResult(string Check, string Node, bool Passed, string Detail);

/// <summary>
/// Readiness that means "the cluster formed", not "the processes are up" (issue 17 item 12): Kafka answers a
/// metadata request over the advertised listener; every Flink TaskManager is registered with the JobManager and no
/// dead entry is left; every Arroyo node is registered with the controller. The engine's view is read through the
/// engine adapter (<see cref="IStreamEngine.GetWorkersAsync"/>), never re-implemented here.
/// </summary>
public static class ClusterFormation
{
    public const string KafkaMetadata = "KafkaMetadata";
    public const string FlinkTaskManagers = "FlinkTaskManagers";
    public const string ArroyoRegisteredSlots = "ArroyoRegisteredSlots";

    /// <summary>
    /// A Kafka Metadata request to the advertised bootstrap (librdkafka: ApiVersions then Metadata), as every client
    /// of the benchmark will send it. Passes when at least one broker is listed.
    /// </summary>
    public static async Task<FormationResult> KafkaAsync(string node, string bootstrap, TimeSpan timeout, CancellationToken ct)
    {
        return await Task.Run(() =>
        {
            try
            {
                var config = new AdminClientConfig
                {
                    BootstrapServers = bootstrap,
                    SocketTimeoutMs = (int)Math.Max(1000, timeout.TotalMilliseconds),
                    // One attempt per call: the caller polls.
                    ReconnectBackoffMaxMs = 1000,
                };
                using var admin = new AdminClientBuilder(config).SetLogHandler((_, _) => { }).Build();
                var md = admin.GetMetadata(timeout);
                if (md.Brokers.Count == 0)
                    return new FormationResult(KafkaMetadata, node, false, $"{bootstrap} answered metadata without brokers");
                return new FormationResult(KafkaMetadata, node, true,
                    $"{bootstrap} answered metadata: {md.Brokers.Count} broker(s) ({string.Join(", ", md.Brokers.Select(b => $"{b.BrokerId}@{b.Host}:{b.Port}"))}), {md.Topics.Count} topic(s)");
            }
            catch (Exception ex) when (ex is KafkaException or DllNotFoundException or InvalidOperationException)
            {
                return new FormationResult(KafkaMetadata, node, false, $"{bootstrap}: no metadata answer ({ex.Message})");
            }
        }, ct).ConfigureAwait(false);
    }

    /// <summary>
    /// Flink: the JobManager's <c>/taskmanagers</c> (through the adapter) lists exactly one TaskManager per worker
    /// address, with the topology's slots each; an extra entry (a TaskManager that died and is not yet timed out) or a
    /// missing worker fails the check.
    /// </summary>
    public static async Task<FormationResult> FlinkAsync(IStreamEngine engine, string controller, IReadOnlyList<DeploymentNode> workers,
        int slotsPerWorker, CancellationToken ct)
    {
        IReadOnlyList<StreamWorker> tms;
        try { tms = await engine.GetWorkersAsync(ct).ConfigureAwait(false); }
        catch (PiBenchException ex) { return new FormationResult(FlinkTaskManagers, controller, false, ex.Message); }
        var missing = workers.Where(w => !tms.Any(t => SameHost(t.Address, w.Address))).Select(w => w.Name).ToList();
        var extra = tms.Where(t => !workers.Any(w => SameHost(t.Address, w.Address))).Select(t => t.Address).ToList();
        var doubled = workers.Where(w => tms.Count(t => SameHost(t.Address, w.Address)) > 1).Select(w => w.Name).ToList();
        var badSlots = tms.Where(t => t.Slots != slotsPerWorker).Select(t => $"{t.Address} has {t.Slots}").ToList();
        var ok = missing.Count == 0 && extra.Count == 0 && doubled.Count == 0 && badSlots.Count == 0 && tms.Count == workers.Count;
        var detail = $"{tms.Count} TaskManager(s) registered (expected {workers.Count}, one per worker, {slotsPerWorker} slot(s) each)";
        if (missing.Count > 0) detail += $"; not registered: {string.Join(", ", missing)}";
        if (doubled.Count > 0) detail += $"; registered twice (a dead entry not yet removed): {string.Join(", ", doubled)}";
        if (extra.Count > 0) detail += $"; unknown entries: {string.Join(", ", extra)}";
        if (badSlots.Count > 0) detail += $"; wrong slot count: {string.Join(", ", badSlots)}";
        return new FormationResult(FlinkTaskManagers, controller, ok, detail);
    }

    /// <summary>
    /// Arroyo 0.11: what the controller really exposes through the adapter. 0.11 never exports a node count
    /// (arroyo_controller_registered_nodes is declared but unused in crates/arroyo-controller/src/schedulers/mod.rs
    /// @v0.11.0); its slot gauges appear with the first registration and only grow (a node that restarts registers
    /// again under a new random id). So: the registered slots must reach workers × slots; each node's own admin
    /// /status is a separate check (ArroyoNodeAdmin).
    /// </summary>
    public static async Task<FormationResult> ArroyoAsync(IStreamEngine engine, string controller, int workers, int slotsPerWorker, CancellationToken ct)
    {
        var expected = workers * slotsPerWorker;
        IReadOnlyList<StreamWorker> rows;
        try { rows = await engine.GetWorkersAsync(ct).ConfigureAwait(false); }
        catch (PiBenchException ex) { return new FormationResult(ArroyoRegisteredSlots, controller, false, $"no node registered yet ({ex.Message})"); }
        var slots = rows.Sum(r => Math.Max(0, r.Slots));
        return new FormationResult(ArroyoRegisteredSlots, controller, slots >= expected,
            $"{slots} slot(s) registered with the controller (expected at least {expected}: {workers} node(s) × {slotsPerWorker}; 0.11's gauge never shrinks)");
    }

    private static bool SameHost(string address, string host)
    {
        var a = address;
        if (a.StartsWith('[')) a = a[1..a.IndexOf(']')];
        else if (a.Count(c => c == ':') == 1) a = a[..a.IndexOf(':')];
        return string.Equals(a, host, StringComparison.OrdinalIgnoreCase);
    }
}
