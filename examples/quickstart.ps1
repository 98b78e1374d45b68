# PiBench quickstart: a whole benchmark run on this machine, no cluster needed.
# Starts an embedded Kafka broker (the librdkafka mock cluster, in this process, on 127.0.0.1), then runs
# Invoke-Benchmark on the Reference system (PiBench's reference implementation of the Nexmark queries, in this
# process) for q1, q2 and q5: fresh topics per query, the paced open-loop generator, warm-up, a measured window,
# input/output rates, latency from intended send times, every cell's answers checked against the reference result,
# the results .txt/.json/.hlog files and an HTML report of the run.
# The Reference system is a correctness reference and a way to try PiBench: it is NOT a stream processor to compare
# Arroyo or Flink against (it shares this machine's cores with the broker and the generator).
#
#   dotnet run --project src/PiBench.Shell -- -File examples/quickstart.ps1
#   pwsh -c 'Import-Module ./out/PiBench/PiBench.psd1; ./examples/quickstart.ps1'
param(
    [double] $EventsPerSecond = 2000,
    [string] $OutputDirectory = [IO.Path]::Combine([IO.Path]::GetTempPath(), 'pibench-quickstart')
)
$ErrorActionPreference = 'Stop'
$null = [IO.Directory]::CreateDirectory($OutputDirectory)   # .NET calls only: the dependency-free shell has the core cmdlets only

$kafka = Start-EmbeddedKafka
try {
    "Embedded Kafka on $($kafka.BootstrapServers); results in $OutputDirectory"
    $results = Invoke-Benchmark -System Reference -Query q1, q2, q5 -BootstrapServers $kafka.BootstrapServers `
        -EventsPerSecond $EventsPerSecond -TotalEvents 1000000 -Repetitions 1 -Partitions 3 -Parallelism 1 `
        -WarmupSeconds 8 -MeasureSeconds 12 -NoMetrics -OutputDirectory $OutputDirectory -Confirm:$false
    foreach ($r in $results) {
        "{0}: valid {1}; input {2:N0}/s, output {3:N1}/s; latency p50 {4:N1} ms, p99 {5:N1} ms ({6}); answers {7} ({8} of {9} rows, {10} missing, {11} extra) {12}" -f `
            $r.Query, $r.Valid, $r.InputRate, $r.OutputRate, $r.LatencyP50Ms, $r.LatencyP99Ms, $r.LatencyReference,
            $r.ResultCheck, $r.ReceivedRows, $r.ExpectedRows, $r.MissingRows, $r.ExtraRows, $r.InvalidReason
    }
    $json = [IO.Directory]::GetFiles($OutputDirectory, 'benchmark_results_*.json')
    [Array]::Sort($json)
    "Results: $($json[-1]) (provenance, every cell), the .txt beside it (seed layout) and one .hlog per cell (latency histograms)"

    # See the results: one self-contained HTML report of this run (tables, SVG charts, provenance; no script, no network)
    $report = Export-BenchmarkReport -Path "$OutputDirectory/report.html" -ResultsPath $json[-1]
    "Report: $($report.FullName) (open it in any browser, offline)"

}
finally {
    $kafka | Stop-EmbeddedKafka
}
