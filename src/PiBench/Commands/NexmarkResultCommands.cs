using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;
using PiBench.Core;
using PiBench.Core.Benchmarking;
using PiBench.Core.Nexmark;
using PiBench.Core.Nexmark.Reference;

namespace PiBench.Commands;

/// <summary>Completes the query names the reference implementation knows (q0–q5, q7, q8).</summary>
public sealed class ReferenceQueryNameCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        var pattern = WildcardPattern.Get((wordToComplete ?? "").Trim('\'', '"') + "*", WildcardOptions.IgnoreCase);
        foreach (var name in NexmarkReference.Names.Order(StringComparer.Ordinal))
            if (pattern.IsMatch(name))
                yield return new CompletionResult(name, name, CompletionResultType.ParameterValue, NexmarkReference.Query(name).Semantics);
    }
}

/// <summary>Checks a query's answers: compares the rows an engine wrote to its output topic with PiBench's reference
/// results for the events the generator produced.</summary>
/// <remarks>
/// <para>PiBench's generator is seeded and bit-exact, so the exact result of a query over a run's events can be known.
/// The reference implementation (q0–q5, q7, q8) follows the catalog's Flink SQL as Flink 1.18 runs it: epoch-aligned
/// event-time windows, the DDL's 4-s watermark, regular joins that keep both sides. The rows read from the output topic
/// (JSON, or debezium-json for q4) are matched with the expected rows as a multiset: Missing rows never arrived, Extra
/// rows were not expected, Mismatched rows have the key of an expected row (for example auction and window) but other
/// values. Windows that end within a few seconds of the last event time may not have fired when the run ended (the
/// watermark stops 4 s behind the last event): their rows are counted as Pending, never as errors. q4 is an updating
/// result whose order is lost across the topic's partitions: its check is that every category's final average was
/// emitted.</para>
/// <para>Give the generator settings of the run that produced the events: -EventCount, -EventsPerSecond, -BaseTime and,
/// where not the defaults, -Seed/-UrlSeed/-ExtraSeed/-Profile/-GeneratorCount (a results .json records them). The
/// reference holds its rows in memory (about 100-200 bytes per expected row). -Path reads captured rows from a JSON-lines
/// file instead of Kafka.</para>
/// </remarks>
/// <example>
/// <code>Test-NexmarkQueryResult -Name q5 -ResultTopic q5-results -BootstrapServers 127.0.0.1:9092 -EventCount 100000 -EventsPerSecond 10000 -BaseTime 1700000000000</code>
/// <para>Reads every message of q5-results and compares it with the exact q5 result over those 100,000 events.</para>
/// </example>
/// <example>
/// <code>Test-NexmarkQueryResult -Name q2 -Path q2-rows.jsonl -EventCount 20000 -EventsPerSecond 1000 -BaseTime 1700000000000 | Format-List</code>
/// <para>Checks rows saved one JSON object per line; Format-List shows the example rows of each kind of difference.</para>
/// </example>
[Cmdlet(VerbsDiagnostic.Test, "NexmarkQueryResult", DefaultParameterSetName = KafkaSet)]
[OutputType(typeof(QueryResultReport))]
public sealed class TestNexmarkQueryResultCommand : TopologyCmdlet
{
    private const string KafkaSet = "Kafka", FileSet = "File";

    /// <summary>The query: q0, q1, q2, q3, q4, q5, q7 or q8.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("Query")]
    [ArgumentCompleter(typeof(ReferenceQueryNameCompleter))]
    [ValidateNotNullOrEmpty]
    public string Name { get; set; } = "";

    /// <summary>The Kafka topic the query wrote its results to.</summary>
    [Parameter(Mandatory = true, ParameterSetName = KafkaSet, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string ResultTopic { get; set; } = "";

    /// <summary>Kafka bootstrap servers, host:port. Default: the topology's controller and kafka.port (-Topology, else the default topology).</summary>
    [Parameter(ParameterSetName = KafkaSet, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string? BootstrapServers { get; set; }

    /// <summary>A file of captured rows, one JSON object per line, instead of a Kafka topic.</summary>
    [Parameter(Mandatory = true, ParameterSetName = FileSet)]
    [ValidateNotNullOrEmpty]
    public string Path { get; set; } = "";

    /// <summary>How many events the generator produced.</summary>
    [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true)]
    [ValidateRange(1, long.MaxValue)]
    [Alias("Events", "TotalEvents")]
    public long EventCount { get; set; }

    /// <summary>The generator's event rate (it sets the event timestamps). Default 10,000.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateRange(1, int.MaxValue)]
    [Alias("Rate")]
    public int EventsPerSecond { get; set; } = NexmarkDefaults.FirstEventRate;

    /// <summary>The generator's base time (epoch ms of event number 0).</summary>
    [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true)]
    public long BaseTime { get; set; }

    /// <summary>Flink or Beam. Default Flink.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateSet("Flink", "Beam", IgnoreCase = true)]
    public string Profile { get; set; } = "Flink";

    /// <summary>Generator seed (Flink profile). Default 3.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    public long Seed { get; set; } = NexmarkDefaults.GeneratorSeed;

    /// <summary>URL table seed (Flink profile). Default 2.</summary>
    [Parameter]
    public long UrlSeed { get; set; } = NexmarkDefaults.UrlSeed;

    /// <summary>Extra-text pool seed (Flink profile). Default 1.</summary>
    [Parameter]
    public long ExtraSeed { get; set; } = NexmarkDefaults.ExtraSeed;

    /// <summary>Generator splits the run used (the set of events does not depend on it, only the ids' spread). Default 1.</summary>
    [Parameter]
    [ValidateRange(1, 1024)]
    public int GeneratorCount { get; set; } = 1;

    /// <summary>Whose text of the query produced the rows: Flink or Reference (the suite's SQL, the default) or Arroyo (its q7 differs: distinct auction, price, bidder per window, see Get-NexmarkQuery q7 -System Arroyo).</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateSet("Flink", "Arroyo", "Reference", IgnoreCase = true)]
    public string System { get; set; } = "Flink";

    /// <summary>Example rows kept per kind of difference. Default 3.</summary>
    [Parameter]
    [ValidateRange(0, 1000)]
    public int ExampleCount { get; set; } = 3;

    /// <summary>Time allowed to read the topic. Default 60 s.</summary>
    [Parameter]
    [ValidateRange(1, 86400)]
    public int TimeoutSeconds { get; set; } = 60;

    protected override async Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        try
        {
            NexmarkReference.Query(Name); // unknown query: refused before anything is read
            var config = new NexmarkConfiguration
            {
                Profile = Enum.Parse<NexmarkProfile>(Profile, ignoreCase: true), NumEvents = EventCount, BaseTime = BaseTime,
                FirstEventRate = EventsPerSecond, GeneratorSeed = Seed, UrlSeed = UrlSeed, ExtraSeed = ExtraSeed, GeneratorCount = GeneratorCount,
            };
            config.Validate();
            const string activity = "Test-NexmarkQueryResult";
            CapturedTopic captured;
            if (ParameterSetName == FileSet)
            {
                var file = GetUnresolvedProviderPathFromPSPath(Path);
                if (!File.Exists(file))
                    throw new PiBenchException("CapturedRowsFileNotFound", PiBenchErrorCategory.ObjectNotFound,
                        $"There is no file '{file}'.", Path, "Give a file of captured rows, one JSON object per line.");
                var lines = await File.ReadAllLinesAsync(file, cancellationToken).ConfigureAwait(false);
                captured = new CapturedTopic
                {
                    Topic = file,
                    Values = lines.Where(l => l.Trim().Length > 0).Select(l => (ReadOnlyMemory<byte>)global::System.Text.Encoding.UTF8.GetBytes(l)).ToList(),
                };
            }
            else
            {
                var bootstrap = BootstrapServers ?? LoadTopology().KafkaBootstrap;
                Post(() => WriteProgressNow(activity, $"Reading {ResultTopic} from {bootstrap}"));
                captured = await QueryResultCheck.ReadTopicAsync(bootstrap, ResultTopic, TimeSpan.FromSeconds(TimeoutSeconds), cancellationToken).ConfigureAwait(false);
            }
            Post(() => WriteProgressNow(activity, $"Computing the reference {Name} over {EventCount:N0} events; comparing {captured.Values.Count:N0} rows"));
            var system = System.Equals("Arroyo", StringComparison.OrdinalIgnoreCase) ? "Arroyo" : "Flink";
            var report = await Task.Run(() => QueryResultCheck.Check(Name, config, captured, ExampleCount, cancellationToken, system), cancellationToken).ConfigureAwait(false);
            Post(() =>
            {
                CompleteProgress(activity);
                WriteObject(report);
            });
        }
        catch (PiBenchException ex)
        {
            Post(() => WriteError(ex));
        }
    }
}
