#Requires -Modules Pester
# Pester 5: the generator and embedded Kafka cmdlets, as a user runs them (same behaviour as
# tests/PiBench.Tests/NexmarkGeneratorCommandTests.cs). Run: Invoke-Pester tests/pester/NexmarkGenerator.Tests.ps1

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../../out/PiBench/PiBench.psd1') -Force
}

Describe 'Embedded Kafka' {
    It 'starts on loopback, is listed, and stops' {
        $k = Start-EmbeddedKafka -BrokerCount 2
        $k.BootstrapServers | Should -Match '^127\.0\.0\.1:\d+,127\.0\.0\.1:\d+$'
        (Get-EmbeddedKafka).BootstrapServers | Should -Contain $k.BootstrapServers
        $k | Stop-EmbeddedKafka
        (Get-EmbeddedKafka).BootstrapServers | Should -Not -Contain $k.BootstrapServers
    }
}

Describe 'Initialize-NexmarkTopic' {
    BeforeAll { $k = Start-EmbeddedKafka }
    AfterAll { $k | Stop-EmbeddedKafka }

    It 'creates, then keeps, a topic' {
        ($k | Initialize-NexmarkTopic -Topic t1 -Partitions 4).Action | Should -Be 'Created'
        ($k | Initialize-NexmarkTopic -Topic t1 -Partitions 4).Action | Should -Be 'Exists'
    }
    It 'rejects another partition count without -Force' {
        { $k | Initialize-NexmarkTopic -Topic t1 -Partitions 6 -ErrorAction Stop } |
            Should -Throw -ErrorId 'KafkaTopicPartitionMismatch,PiBench.Commands.InitializeNexmarkTopicCommand'
    }
    It 'recreates it with -Force' {
        $t = $k | Initialize-NexmarkTopic -Topic t1 -Partitions 6 -Force -Confirm:$false
        $t.Action | Should -Be 'Recreated'
        $t.Partitions | Should -Be 6
    }
}

Describe 'Start-NexmarkGenerator' {
    BeforeAll {
        $k = Start-EmbeddedKafka
        $null = $k | Initialize-NexmarkTopic -Topic nexmark -Partitions 3
    }
    AfterAll { $k | Stop-EmbeddedKafka }

    It 'returns a handle at once and accounts for every event' {
        $run = Start-NexmarkGenerator -BootstrapServers $k.BootstrapServers -EventsPerSecond 0 -TotalEvents 9001
        $run.IsFinished | Should -BeFalse
        $run = $run | Wait-NexmarkGenerator -Timeout 60
        $run.State | Should -Be 'Completed'
        $run.Sent | Should -Be 9001
        $run.Acknowledged | Should -Be 9001
        $run.Failed | Should -Be 0
        $run.PartitionCounts | Should -Be '0:3001 1:3000 2:3000'
    }
    It 'never runs ahead of the schedule' {
        $run = Start-NexmarkGenerator -BootstrapServers $k.BootstrapServers -EventsPerSecond 5000 -TotalEvents 5000 -Wait
        $run.AchievedRate | Should -BeLessOrEqual (5000 * 1.001)
        $run.Valid | Should -Be ($run.State -eq 'Completed')
    }
    It 'stops promptly with counts that add up' {
        $run = Start-NexmarkGenerator -BootstrapServers $k.BootstrapServers -EventsPerSecond 10000 -TotalEvents 100000000
        Start-Sleep -Milliseconds 500
        $run = $run | Stop-NexmarkGenerator
        $run.State | Should -Be 'Stopped'
        $run.Sent | Should -Be ($run.Acknowledged + $run.Failed)
    }
    It 'fails with KafkaTopicMissing for an absent topic' {
        { Start-NexmarkGenerator -Topic absent -BootstrapServers $k.BootstrapServers -ErrorAction Stop } |
            Should -Throw -ErrorId 'KafkaTopicMissing,PiBench.Commands.StartNexmarkGeneratorCommand'
    }
}

Describe 'A broker that goes away' {
    It 'ends the run with an error and truthful counts' {
        $k = Start-EmbeddedKafka
        $null = $k | Initialize-NexmarkTopic -Topic fault -Partitions 3
        $run = Start-NexmarkGenerator -Topic fault -BootstrapServers $k.BootstrapServers -EventsPerSecond 20000 -TotalEvents 100000000
        while ($run.Acknowledged -lt 5000) { Start-Sleep -Milliseconds 20 }
        $k | Stop-EmbeddedKafka
        $run = $run | Wait-NexmarkGenerator -Timeout 80 -ErrorVariable err -ErrorAction SilentlyContinue
        $run.State | Should -Be 'Failed'
        $err.Count | Should -Be 1
        $run.Sent | Should -Be ($run.Acknowledged + $run.Failed)
    }
}

Describe 'Measure-NexmarkGenerator' {
    It 'names a bottleneck' {
        $m = Measure-NexmarkGenerator -Count 20000 -Partitions 3
        $m.Bottleneck | Should -BeIn 'Generation', 'Serialization', 'Produce'
        $m.ProduceRate | Should -BeGreaterThan 0
    }
}
