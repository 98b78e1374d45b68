using PiBench.Core.Engines;
using EngineSystem = PiBench.Core.Engines.StreamSystem;

namespace PiBench.Core.Deployment;

/// <summary>
/// What every deployment job shares about one cluster: its service catalog (nodes, settings, controller), how to
/// reach a node (Docker and shell over SSH) and the installed engine's API, and where progress and log lines go.
/// It holds no logic of its own beyond finding a node and building the engine adapter.
/// </summary>
public sealed class ClusterContext
{
    public ClusterContext(IReadOnlyList<DeploymentNode> nodes, DeploymentSettings settings, INodeAccess access,
        IProgressSink? progress = null, ILogSink? log = null)
    {
        Catalog = new ServiceCatalog(nodes, settings);
        _ = Catalog.Controller; // validates
        Access = access;
        Progress = progress ?? NullProgress.Instance;
        Log = log ?? NullLog.Instance;
    }

    public ServiceCatalog Catalog { get; }
    public DeploymentSettings Settings => Catalog.Settings;
    public IReadOnlyList<DeploymentNode> Nodes => Catalog.Nodes;
    public DeploymentNode Controller => Catalog.Controller;

    internal INodeAccess Access { get; }
    internal IProgressSink Progress { get; }
    internal ILogSink Log { get; }

    internal DeploymentNode NodeByName(string name) => Nodes.First(n => n.Name.Equals(name, StringComparison.OrdinalIgnoreCase));

    /// <summary>Creates engine adapters; tests may point it elsewhere (default <see cref="StreamEngine.Create"/>).</summary>
    public Func<StreamEngineSettings, IStreamEngine>? EngineFactory { get; init; }

    /// <summary>An engine adapter for <paramref name="system"/> on this topology.</summary>
    internal IStreamEngine CreateEngine(StreamSystem system)
    {
        var settings = EngineSettings(system);
        return EngineFactory is { } f ? f(settings) : StreamEngine.Create(settings, log: Log);
    }

    /// <summary>The adapter settings for the installed engine on this topology (controller address, ports, node admin URIs).</summary>
    internal StreamEngineSettings EngineSettings(StreamSystem system) => new()
    {
        System = system == StreamSystem.Arroyo ? EngineSystem.Arroyo : EngineSystem.Flink,
        ControllerAddress = Controller.Address,
        ArroyoApiPort = Settings.ArroyoApiPort,
        ArroyoAdminPort = Settings.ArroyoAdminPort,
        FlinkRestPort = Settings.FlinkRestPort,
        FlinkGatewayPort = Settings.FlinkSqlGatewayPort,
        RequestTimeout = TimeSpan.FromSeconds(Math.Clamp(Settings.ReadyTimeoutSeconds, 5, 30)),
        ArroyoSlotsPerNode = Math.Max(1, Settings.ArroyoTaskSlots),
        NodeAdminUris = system == StreamSystem.Arroyo
            ? Catalog.Workers.Select(w => new Uri($"http://{(w.Address.Contains(':') ? $"[{w.Address}]" : w.Address)}:{Settings.ArroyoAdminPort}/")).ToList()
            : [],
    };
}
