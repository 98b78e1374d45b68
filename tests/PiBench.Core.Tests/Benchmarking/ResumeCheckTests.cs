using PiBench.Core.Benchmarking;
using PiBench.Core.Engines;
using PiBench.Core.Topology;
using Xunit;

namespace PiBench.Core.Tests.Benchmarking;

/// <summary>-Resume accepts only a PiBench results file of the same run and never writes over anything else; the output folder is proved writable first.</summary>
public sealed class ResumeCheckTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "pibench-resume-" + Guid.NewGuid().ToString("N")[..8]);

    public ResumeCheckTests() => Directory.CreateDirectory(_dir);
    public void Dispose() { try { Directory.Delete(_dir, true); } catch (IOException) { } }

    private static readonly PiNode[] Nodes =
    {
        new() { Name = "pi1", Address = "127.0.0.70", Role = NodeRole.Controller },
        new() { Name = "pi2", Address = "127.0.0.71", Role = NodeRole.Worker, Index = 1 },
    };

    private BenchmarkPlan Plan(StreamSystem system = StreamSystem.Arroyo, double rate = 1000, int parallelism = 2, long? seed = 42,
        string[]? queries = null, string? resume = null, string topology = "lab", IReadOnlyList<PiNode>? nodes = null) => new()
    {
        Engine = new StreamEngineSettings { System = system, EngineUri = new Uri("http://127.0.0.1:1/"), AuxiliaryUri = new Uri("http://127.0.0.1:1/") },
        Queries = queries ?? new[] { "q1", "q5" }, Repetitions = 2, EventsPerSecond = rate, TotalEvents = 100_000, Parallelism = parallelism, Partitions = 2,
        WarmupSeconds = 1, MeasureSeconds = 2, Seed = seed, BootstrapServers = "127.0.0.1:1", OutputDirectory = _dir, ResumePath = resume,
        TopologyName = topology, MetricNodes = nodes ?? Nodes,
    };

    /// <summary>A results file as an Arroyo run at 1000/s, parallelism 2, seed 42 writes it: q1 r1 completed.</summary>
    private string WritePiBenchFile(string name = "benchmark_results_20261201_100000")
    {
        var doc = new BenchmarkRunDocument
        {
            System = "Arroyo", Seed = 42, TargetRate = 1000, TotalEvents = 100_000, Parallelism = 2, Repetitions = 2, WarmupSeconds = 1, MeasureSeconds = 2,
            Queries = new() { "q1", "q5" }, TopologyName = "lab", StartedAt = DateTimeOffset.UtcNow, State = "Stopped",
            Nodes = Nodes.Select(n => new NodeFact { Node = n.Name, Address = n.Address, Role = n.Role.ToString() }).ToList(),
            Results = { new BenchmarkResult { System = "Arroyo", Query = "q1", Repetition = 1, Status = "Completed", Valid = true } },
        };
        return ResultsFiles.Write(_dir, name, doc).Json;
    }

    [Fact]
    public async Task AnotherToolsJson_IsRefused_AndLeftByteForByte_EvenThroughTheRunner()
    {
        var path = Path.Combine(_dir, "package.json");
        File.WriteAllText(path, "{\n  \"name\": \"my-app\",\n  \"version\": \"1.0.0\",\n  \"Results\": []\n}\n");
        var before = File.ReadAllBytes(path);
        var ex = Assert.Throws<PiBenchException>(() => ResumeCheck.Load(path, Plan(resume: path)));
        Assert.Equal("ResumeFileNotPiBench", ex.ErrorId);
        // The runner refuses it before anything runs or is written (it used to overwrite it with a PiBench document).
        var runEx = await Assert.ThrowsAsync<PiBenchException>(() => new BenchmarkRunner(Plan(resume: path)).RunAsync(null, CancellationToken.None));
        Assert.Equal("ResumeFileNotPiBench", runEx.ErrorId);
        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.Equal(new[] { "package.json" }, Directory.GetFiles(_dir).Select(Path.GetFileName));
    }

    [Theory]
    [InlineData("[1, 2, 3]")]
    [InlineData("not json at all")]
    [InlineData("{\"SchemaVersion\": 1}")]
    public void NonDocuments_AreRefused_WithAnErrorId(string content)
    {
        var path = Path.Combine(_dir, "x.json");
        File.WriteAllText(path, content);
        var ex = Assert.Throws<PiBenchException>(() => ResumeCheck.Load(path, Plan()));
        Assert.Equal("ResumeFileNotPiBench", ex.ErrorId);
        Assert.Equal(content, File.ReadAllText(path));
    }

    [Theory]
    [InlineData("\"Results\": [", "\"Results\": [null, ", "Results[0]")]
    [InlineData("\"Queries\": [", "\"Queries\": null, \"X\": [", "Queries")]
    [InlineData("\"System\": \"Arroyo\"", "\"System\": null", "System")]
    public void Nulls_GiveResultsFileInvalid_NamingTheField_NotANullReference(string find, string replace, string field)
    {
        var path = WritePiBenchFile();
        var text = File.ReadAllText(path);
        Assert.Contains(find, text);
        File.WriteAllText(path, ReplaceFirst(text, find, replace));
        var ex = Assert.Throws<PiBenchException>(() => ResumeCheck.Load(path, Plan()));
        Assert.Equal("ResultsFileInvalid", ex.ErrorId);
        Assert.Contains(field, ex.Message);
    }

    private static string ReplaceFirst(string s, string find, string replace)
    {
        var i = s.IndexOf(find, StringComparison.Ordinal);
        return s[..i] + replace + s[(i + find.Length)..];
    }

    [Fact]
    public void AFileOfAnotherRun_IsRefused_NamingEveryDifference()
    {
        var path = WritePiBenchFile();
        var before = File.ReadAllBytes(path);
        var ex = Assert.Throws<PiBenchException>(() => ResumeCheck.Load(path,
            Plan(system: StreamSystem.Flink, rate: 2000, parallelism: 4, seed: 7, queries: new[] { "q1", "q7" }, topology: "other",
                nodes: new[] { new PiNode { Name = "pi1", Address = "127.0.0.80", Role = NodeRole.Controller } })));
        Assert.Equal("ResumeMismatch", ex.ErrorId);
        foreach (var part in new[] { "system Arroyo in the file, Flink now", "queries q1,q5", "rate 1000", "parallelism 2 in the file, 4 now", "seed 42 in the file, 7 now", "topology 'lab'", "topology nodes" })
            Assert.Contains(part, ex.Message);
        Assert.Equal(before, File.ReadAllBytes(path));
    }

    [Fact]
    public void TheSameRun_IsAccepted_AndOnlyTheCellsLeftWouldRun()
    {
        var path = WritePiBenchFile();
        var plan = Plan(resume: path);
        var doc = ResumeCheck.Load(path, plan);
        Assert.Equal(new[] { ("q1", 2), ("q5", 1), ("q5", 2) }, ResumeCheck.RemainingCells(doc, plan));
        var lines = ResumeCheck.DescribeResume(path, doc, plan).ToList();
        Assert.Contains("1 of 4 cell(s) already completed and kept, 3 to run", lines[0]);
        Assert.Equal(4, lines.Count);
        Assert.DoesNotContain(lines, l => l.Contains("q1 repetition 1/", StringComparison.Ordinal));
    }

    [Fact]
    public void AForeignTextFileBesideTheJson_WouldBeRewritten_SoTheResumeIsRefused()
    {
        var path = WritePiBenchFile();
        var txt = Path.ChangeExtension(path, ".txt");
        File.WriteAllText(txt, "my own notes\n");
        var ex = Assert.Throws<PiBenchException>(() => ResumeCheck.Load(path, Plan()));
        Assert.Equal("ResumeTextFileNotPiBench", ex.ErrorId);
        Assert.Equal("my own notes\n", File.ReadAllText(txt));
    }

    [Fact]
    public async Task AnUnwritableOutputDirectory_IsFoundBeforeAnythingRuns()
    {
        var file = Path.Combine(_dir, "a-file");
        File.WriteAllText(file, "x");
        var under = Path.Combine(file, "results"); // cannot be created, even by root
        var ex = Assert.Throws<PiBenchException>(() => ResumeCheck.EnsureWritable(under));
        Assert.Equal("OutputDirectoryNotWritable", ex.ErrorId);
        // The runner checks before it contacts the engine (at 127.0.0.1:1, which would fail differently).
        var plan = Plan();
        var runEx = await Assert.ThrowsAsync<PiBenchException>(() => new BenchmarkRunner(new BenchmarkPlan
        {
            Engine = plan.Engine, Queries = plan.Queries, BootstrapServers = plan.BootstrapServers, OutputDirectory = under,
        }).RunAsync(null, CancellationToken.None));
        Assert.Equal("OutputDirectoryNotWritable", runEx.ErrorId);
        ResumeCheck.EnsureWritable(Path.Combine(_dir, "new", "deeper"));
        Assert.Empty(Directory.GetFiles(Path.Combine(_dir, "new", "deeper")));
    }

    [Fact]
    public void AFailedWrite_HasAnErrorId()
    {
        var file = Path.Combine(_dir, "a-file");
        File.WriteAllText(file, "x");
        var ex = Assert.Throws<PiBenchException>(() => ResultsFiles.Write(Path.Combine(file, "sub"), "b", new BenchmarkRunDocument { System = "Arroyo" }));
        Assert.Equal("ResultsWriteFailed", ex.ErrorId);
    }

    [Fact]
    public void AFreshRun_NeverReusesTheNameOfAnExistingFile()
    {
        var at = new DateTimeOffset(2026, 12, 1, 10, 0, 0, TimeSpan.Zero);
        Assert.Equal("benchmark_results_20261201_100000", ResumeCheck.FreshBaseName(_dir, at));
        WritePiBenchFile("benchmark_results_20261201_100000");
        Assert.Equal("benchmark_results_20261201_100000_2", ResumeCheck.FreshBaseName(_dir, at));
    }

    [Fact]
    public void ARunWhereEveryCellFailed_IsAnError()
    {
        var doc = new BenchmarkRunDocument
        {
            Results =
            {
                new BenchmarkResult { System = "Arroyo", Query = "q1", Repetition = 1, Status = "Failed", InvalidReason = "EngineUnreachable: x" },
                new BenchmarkResult { System = "Arroyo", Query = "q1", Repetition = 2, Status = "Failed", InvalidReason = "y" },
            },
        };
        var cells = new[] { ("q1", 1), ("q1", 2) };
        var ex = Assert.Throws<PiBenchException>(() => ResumeCheck.ThrowIfEveryCellFailed(doc, cells, "Arroyo"));
        Assert.Equal("BenchmarkAllCellsFailed", ex.ErrorId);
        Assert.Contains("EngineUnreachable: x", ex.Message);
        doc.Results[1].Status = "Completed";
        ResumeCheck.ThrowIfEveryCellFailed(doc, cells, "Arroyo");
    }
}
