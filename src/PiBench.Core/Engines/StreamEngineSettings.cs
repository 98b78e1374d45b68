namespace PiBench.Core.Engines;

/// <summary>
/// Where an engine answers: the controller node's address and the engines' ports (defaults from arroyo.md §1
/// and flink.md §1/§3), with optional full-URI overrides (tests, tunnels). Nothing is contacted until a call is made.
/// </summary>
public sealed record StreamEngineSettings
{
    public StreamSystem System { get; init; }
    /// <summary>Controller node (Arroyo <c>cluster</c>, Flink JobManager and SQL Gateway).</summary>
    public string ControllerAddress { get; init; } = "127.0.0.1";
    public int ArroyoApiPort { get; init; } = 5115;
    public int ArroyoAdminPort { get; init; } = 5114;
    public int FlinkRestPort { get; init; } = 8081;
    public int FlinkGatewayPort { get; init; } = 8083;

    /// <summary>Overrides the engine's main endpoint: Arroyo API (<c>http://host:5115</c>) or Flink JobManager REST (<c>http://host:8081</c>).</summary>
    public Uri? EngineUri { get; init; }
    /// <summary>Overrides the second endpoint: Arroyo admin (<c>http://host:5114</c>) or Flink SQL Gateway (<c>http://host:8083</c>).</summary>
    public Uri? AuxiliaryUri { get; init; }

    /// <summary>Arroyo only: every node's admin endpoint (<c>http://pi2:5114/</c>); placement reads
    /// <c>arroyo_node_running_workers</c> there. Flink reports placement itself and ignores it.</summary>
    public IReadOnlyList<Uri> NodeAdminUris { get; init; } = [];

    /// <summary>Arroyo only: task slots each node registers (<c>ARROYO__NODE__TASK_SLOTS</c>; PiBench deploys 1). Turns
    /// the controller's slot gauges into node counts (0.11 exports no node gauge).</summary>
    public int ArroyoSlotsPerNode { get; init; } = 1;

    /// <summary>Per HTTP request.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(30);
    /// <summary>Between state polls.</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromSeconds(1);
    /// <summary>Whole submission (SQL Gateway operations, Arroyo planning).</summary>
    public TimeSpan SubmitTimeout { get; init; } = TimeSpan.FromMinutes(2);
    /// <summary>Flink graceful stop: savepoint directory reachable by every TaskManager (null = <c>state.savepoints.dir</c>).</summary>
    public string? FlinkSavepointDirectory { get; init; }

    public Uri ApiUri => EngineUri ?? new Uri($"http://{HostPart}:{(System == StreamSystem.Arroyo ? ArroyoApiPort : FlinkRestPort)}/");
    public Uri SecondaryUri => AuxiliaryUri ?? new Uri($"http://{HostPart}:{(System == StreamSystem.Arroyo ? ArroyoAdminPort : FlinkGatewayPort)}/");

    private string HostPart => ControllerAddress.Contains(':') && !ControllerAddress.StartsWith('[') ? $"[{ControllerAddress}]" : ControllerAddress;

    /// <summary>Checks the values a user typed; throws EngineSettingsInvalid.</summary>
    public StreamEngineSettings Validate()
    {
        if (string.IsNullOrWhiteSpace(ControllerAddress) && (EngineUri is null || AuxiliaryUri is null))
            throw Invalid("ControllerAddress is empty.", ControllerAddress);
        foreach (var p in new[] { ArroyoApiPort, ArroyoAdminPort, FlinkRestPort, FlinkGatewayPort })
            if (p is < 1 or > 65535) throw Invalid($"Port {p} is out of range 1..65535.", p);
        foreach (var u in new[] { EngineUri, AuxiliaryUri }.Concat(NodeAdminUris))
            if (u is not null && (!u.IsAbsoluteUri || (u.Scheme != Uri.UriSchemeHttp && u.Scheme != Uri.UriSchemeHttps)))
                throw Invalid($"'{u}' is not an absolute http(s) URI.", u);
        if (ArroyoSlotsPerNode < 1) throw Invalid($"ArroyoSlotsPerNode must be at least 1 (got {ArroyoSlotsPerNode}).", ArroyoSlotsPerNode);
        if (RequestTimeout <= TimeSpan.Zero || SubmitTimeout <= TimeSpan.Zero || PollInterval < TimeSpan.Zero)
            throw Invalid("Timeouts must be positive.", RequestTimeout);
        return this;
    }

    private static PiBenchException Invalid(string message, object? target) =>
        new("EngineSettingsInvalid", PiBenchErrorCategory.InvalidArgument, message, target,
            "Give the controller's address (or full engine URIs) and ports between 1 and 65535.");
}
