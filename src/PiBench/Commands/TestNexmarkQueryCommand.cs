using System.Collections;
using System.Management.Automation;
using PiBench.Core;
using PiBench.Core.Engines;

namespace PiBench.Commands;

/// <summary>Checks Nexmark queries on the running engine without starting a job, and says where the engine objects.</summary>
/// <remarks>
/// <para>Each query is rendered exactly as Invoke-NexmarkQuery would submit it (source DDL reading the generator's Kafka topic, the
/// query, a discarding sink or, with -ResultTopic, a Kafka sink) and handed to the engine for checking only. Flink: the SQL Gateway
/// opens a session, runs the DDL, plans the INSERT with EXPLAIN (parse, validation, optimization; no job) and the session is
/// closed. Arroyo: POST /api/v1/pipelines/validate_query. One object per query: Valid, the engine's Message, and Line/Column in the
/// rendered script where the engine gives a position (Flink's parser and validator do: "at line X, column Y", "From line X,
/// column Y to …").</para>
/// <para>Without -Name every query the engine can run is checked. A query the engine cannot run (Get-NexmarkQuery shows Supported)
/// or an unknown name is an error for that name; an engine that does not answer stops the command. Invoke-Benchmark runs the same
/// check before its first cell and refuses queries the engine rejects.</para>
/// <para>Endpoints and defaults as for Invoke-NexmarkQuery: explicit parameters win; a topology (-Topology, or the default one when
/// neither -ControllerAddress nor -EngineUri is given) supplies the controller, the engine ports, the Kafka bootstrap servers, the
/// topic and the parallelism.</para>
/// </remarks>
/// <example><code>Test-NexmarkQuery -System Flink</code><para>Checks every query Flink can run on the default topology's cluster.</para></example>
/// <example><code>Test-NexmarkQuery -System Arroyo -Name q1,q5 -Topology ./lab.yaml</code><para>Checks q1 and q5 on the lab cluster's Arroyo.</para></example>
/// <example><code>Test-NexmarkQuery -System Flink -Name q1,q5,q8 -ResultTopic check-out | Where-Object { -not $_.Valid } | Format-List Name, Line, Column, Message</code><para>Checks the scripts with a Kafka result sink, as Invoke-Benchmark submits them, and lists where Flink objects (only queries that write to a discarding sink can be captured).</para></example>
/// <example><code>Get-NexmarkQuery -System Flink -Supported | Test-NexmarkQuery -ControllerAddress 192.168.2.70</code><para>Checks the queries from the pipeline.</para></example>
[Cmdlet(VerbsDiagnostic.Test, "NexmarkQuery")]
[OutputType("PiBench.Core.Engines.NexmarkQueryValidation")]
public sealed class TestNexmarkQueryCommand : NexmarkScriptCmdlet
{
    /// <summary>Query names (q0 … q22); wildcards allowed. Default: every query the engine can run.</summary>
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(NexmarkQueryNameCompleter))]
    [SupportsWildcards]
    public string[]? Name { get; set; }

    /// <summary>The engine: Arroyo or Flink.</summary>
    [Parameter(Mandatory = true, Position = 1, ValueFromPipelineByPropertyName = true, HelpMessage = "Arroyo or Flink")]
    [ValidateSet("Arroyo", "Flink")]
    public string System { get; set; } = "";

    /// <summary>Check the script with a Kafka result sink writing to this topic (and the latency variant, as Invoke-Benchmark submits it).</summary>
    [Parameter]
    public string? ResultTopic { get; set; }

    private readonly List<(string Name, string System)> _requested = [];

    protected override Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        foreach (var n in Name is { Length: > 0 } ? Name : ["*"])
            foreach (var part in n.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                _requested.Add((part, System));
        return Task.CompletedTask;
    }

    protected override async Task EndProcessingAsync(CancellationToken cancellationToken)
    {
        try
        {
            var queries = new List<NexmarkQuery>();
            foreach (var (name, system) in _requested)
            {
                IReadOnlyList<NexmarkQuery> found;
                try { found = NexmarkQueryCatalog.Default.Find([name], ParseSystem(system)); }
                catch (PiBenchException ex) { WriteError(ex); continue; }
                var wildcard = name.Contains('*') || name.Contains('?');
                foreach (var q in found)
                {
                    if (!q.Supported)
                    {
                        if (!wildcard) WriteError(NexmarkQueryCatalog.Unsupported(q));
                        continue;
                    }
                    if (!queries.Any(x => x.Name == q.Name && x.System == q.System)) queries.Add(q);
                }
            }
            if (queries.Count == 0) return;
            var topology = EndpointTopology();
            var index = 0;
            foreach (var q in queries)
            {
                var engine = Engine(Enum.Parse<StreamSystem>(q.System));
                var options = RenderOptions(engine, topology, ResultTopic, latencyVariant: !string.IsNullOrEmpty(ResultTopic));
                WriteProgressNow("Test Nexmark queries", $"{q.Name} on {q.System} ({engine.Settings.ApiUri})", index++ * 100 / queries.Count);
                try { WriteObject(await NexmarkQueryValidation.CheckAsync(engine, q, options, cancellationToken)); }
                catch (PiBenchException ex) when (ex.ErrorId is "QueryParameterMissing" or "BootstrapServersMissing" or "QueryResultCaptureUnsupported") { WriteError(ex); }
                catch (PiBenchException ex) { ThrowTerminatingError(ex); } // the engine did not answer: the other queries would not fare better
            }
            CompleteProgress("Test Nexmark queries");
        }
        finally
        {
            await base.EndProcessingAsync(cancellationToken);
        }
    }
}
