# PiBench quickstart: no cluster needed.
# Starts an embedded Kafka broker (the librdkafka mock cluster, in this process, on 127.0.0.1),
# creates the Nexmark topic, produces three seconds of Nexmark events at 10,000 events/s with the paced
# open-loop generator, prints the run, then measures what this host can generate, serialise and produce.
#
#   dotnet run --project src/PiBench.Shell -- -File examples/quickstart.ps1
#   pwsh -c 'Import-Module ./out/PiBench/PiBench.psd1; ./examples/quickstart.ps1'
param(
    [double] $EventsPerSecond = 10000,
    [long] $TotalEvents = 30000
)
$ErrorActionPreference = 'Stop'

$kafka = Start-EmbeddedKafka
try {
    "Embedded Kafka on $($kafka.BootstrapServers)"
    $kafka | Initialize-NexmarkTopic -Topic nexmark -Partitions 9

    $run = Start-NexmarkGenerator -Topic nexmark -BootstrapServers $kafka.BootstrapServers `
        -EventsPerSecond $EventsPerSecond -TotalEvents $TotalEvents
    $run = $run | Wait-NexmarkGenerator -Timeout 120
    $run
    "Source:           $($run.Source)"
    "Per partition:    $($run.PartitionCounts)"
    "Achieved rate:    $([math]::Round($run.AchievedRate, 1)) of $($run.TargetRate) events/s (valid: $($run.Valid) $($run.InvalidReason))"
    "Schedule lag:     p99 $([math]::Round($run.ScheduleLagP99Ms, 2)) ms, max $([math]::Round($run.MaxScheduleLagMs, 2)) ms"
    "Accounted for:    sent $($run.Sent) = acknowledged $($run.Acknowledged) + failed $($run.Failed)"

    "Measuring this host's capacity (generation, serialisation, produce into a fresh embedded broker)..."
    $capacity = Measure-NexmarkGenerator -Count 200000
    $capacity
    "Sustainable:      about $($capacity.SustainableRate) events/s on one producer thread; bottleneck: $($capacity.Bottleneck)"
}
finally {
    $kafka | Stop-EmbeddedKafka
}
