#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0' }
# The generator and embedded Kafka cmdlets, as a user runs them in pwsh, against the embedded broker (librdkafka mock
# cluster). Run after `dotnet build PiBench.sln`: Invoke-Pester tests/pester/NexmarkGenerator.Tests.ps1

BeforeAll {
    $script:Psd1 = (Resolve-Path (Join-Path $PSScriptRoot '../../out/PiBench/PiBench.psd1')).Path
    Import-Module $script:Psd1 -Force
}

Describe 'Embedded Kafka' {
    It 'starts on loopback, is listed, stops, and changes nothing with -WhatIf' {
        $k = Start-EmbeddedKafka -BrokerCount 2
        $k.PSObject.TypeNames[0] | Should -Be 'PiBench.Core.Kafka.EmbeddedKafkaCluster'
        $k.BrokerCount | Should -Be 2
        $k.BootstrapServers | Should -Match '^127\.0\.0\.1:\d+,127\.0\.0\.1:\d+$'
        (Get-EmbeddedKafka).Where({ $_.BootstrapServers -eq $k.BootstrapServers }).Count | Should -Be 1
        ($k | Stop-EmbeddedKafka -PassThru).State | Should -Be 'Stopped'
        (Get-EmbeddedKafka).Where({ $_.BootstrapServers -eq $k.BootstrapServers }).Count | Should -Be 0
        Start-EmbeddedKafka -WhatIf | Should -BeNullOrEmpty
    }
    It 'loads librdkafka and Confluent.Kafka in the module''s own load context' {
        $k = Start-EmbeddedKafka
        try {
            $null = $k | Initialize-NexmarkTopic -Topic maps -Partitions 1
            (Start-NexmarkGenerator -Topic maps -BootstrapServers $k.BootstrapServers -EventsPerSecond 0 -TotalEvents 10 -Synthetic -Wait).Acknowledged | Should -Be 10
            $alc = [System.Runtime.Loader.AssemblyLoadContext]::All.Where({ $_.Name -eq 'PiBench.Core' })[0]
            $alc.Assemblies.Where({ $_.GetName().Name -eq 'Confluent.Kafka' }).Count | Should -Be 1
            [System.Runtime.Loader.AssemblyLoadContext]::Default.Assemblies.Where({ $_.GetName().Name -eq 'Confluent.Kafka' }).Count | Should -Be 0
            # The native library mapped into this pwsh is the module's own copy under dependencies/.
            $deps = Join-Path (Split-Path $script:Psd1) 'dependencies'
            $mapped = Get-Content /proc/self/maps | ForEach-Object { if ($_ -match '(/\S*rdkafka\S*)') { $Matches[1] } } | Sort-Object -Unique
            $mapped | Should -Not -BeNullOrEmpty
            $mapped | ForEach-Object { $_ | Should -BeLike "$deps/*" }
        }
        finally { $k | Stop-EmbeddedKafka }
    }
}

Describe 'Initialize-NexmarkTopic' {
    BeforeAll { $k = Start-EmbeddedKafka }
    AfterAll { $k | Stop-EmbeddedKafka }

    It 'creates, keeps, rejects another partition count, recreates with -Force, and honours -WhatIf' {
        $created = $k | Initialize-NexmarkTopic -Topic t1 -Partitions 4
        $created.PSObject.TypeNames[0] | Should -Be 'PiBench.Core.Kafka.NexmarkTopic'
        $created.Action, $created.Partitions, $created.TimestampType | Should -Be 'Created', 4, 'LogAppendTime'
        $kept = $k | Initialize-NexmarkTopic -Topic t1 -Partitions 4
        $kept.Action, $kept.Partitions, "$($kept.TimestampType)" | Should -Be 'Exists', 4, ''   # a kept topic is left as it was
        Initialize-NexmarkTopic -Topic t2 -BootstrapServers $k.BootstrapServers -WhatIf | Should -BeNullOrEmpty

        $k | Initialize-NexmarkTopic -Topic t1 -Partitions 6 -ErrorVariable err -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $err.Count | Should -Be 1
        $err[0].FullyQualifiedErrorId | Should -Be 'KafkaTopicPartitionMismatch,PiBench.Commands.InitializeNexmarkTopicCommand'
        $err[0].CategoryInfo.Category | Should -Be 'ResourceExists'
        $err[0].TargetObject | Should -Be 't1'
        $err[0].ErrorDetails.RecommendedAction | Should -Match '-Force'

        $re = $k | Initialize-NexmarkTopic -Topic t1 -Partitions 6 -Force -Confirm:$false
        $re.Action, $re.Partitions, $re.TimestampType | Should -Be 'Recreated', 6, 'LogAppendTime'
        ($k | Initialize-NexmarkTopic -Topic t1 -Partitions 6).Action | Should -Be 'Exists'
        $ct = $k | Initialize-NexmarkTopic -Topic t2 -Partitions 1 -TimestampType CreateTime
        $ct.Action, $ct.TimestampType | Should -Be 'Created', 'CreateTime'
    }
}

Describe 'Start-NexmarkGenerator' {
    BeforeAll {
        $k = Start-EmbeddedKafka
        $null = $k | Initialize-NexmarkTopic -Topic nexmark -Partitions 3
    }
    AfterAll { $k | Stop-EmbeddedKafka }

    It 'returns a handle at once and accounts for every event' {
        $run = Start-NexmarkGenerator -BootstrapServers $k.BootstrapServers -EventsPerSecond 0 -TotalEvents 9001 -PartitionBlock 1   # strict rotation (unpaced runs use partition blocks by default)
        $run.IsFinished | Should -BeFalse
        $run = $run | Wait-NexmarkGenerator -Timeout 60
        $run.PSObject.TypeNames[0] | Should -Be 'PiBench.Core.Kafka.NexmarkGeneratorRun'
        $run.State | Should -Be 'Completed'
        $run.Sent, $run.Acknowledged, $run.Failed | Should -Be 9001, 9001, 0
        $run.PartitionCounts | Should -Be '0:3001 1:3000 2:3000'
        $run.Source | Should -Match 'Nexmark Flink Seed=3'
        $run.Client | Should -Be 'librdkafka'
        $run.AchievedRate | Should -BeGreaterThan 0
        # The CSV contract: scalar properties only, and the documented columns.
        foreach ($p in $run.PSObject.Properties) {
            ($null -eq $p.Value -or $p.Value -is [string] -or $p.Value -is [int] -or $p.Value -is [long] -or $p.Value -is [double] -or
             $p.Value -is [bool] -or $p.Value -is [DateTimeOffset]) | Should -BeTrue -Because "$($p.Name) is $($p.Value.GetType())"
        }
        $header = ($run | ConvertTo-Csv)[0]
        foreach ($n in 'Sent', 'Acknowledged', 'Failed', 'TargetRate', 'AchievedRate', 'ScheduleLagP99Ms', 'MaxScheduleLagMs', 'PartitionCounts', 'State', 'Error', 'Valid', 'InvalidReason') {
            $header | Should -Match "`"$n`""
        }
    }
    It 'never runs ahead of the schedule and reports target, lag and validity' {
        $run = Start-NexmarkGenerator -BootstrapServers $k.BootstrapServers -EventsPerSecond 5000 -TotalEvents 5000 -Wait
        $run.TargetRate | Should -Be 5000
        $run.AchievedRate | Should -BeLessOrEqual (5000 * 1.001)
        $run.ScheduleLagP99Ms | Should -BeGreaterThan 0
        $run.State | Should -BeIn 'Completed', 'FellBehind'
        $run.Valid | Should -Be ($run.State -eq 'Completed')
        $run.Sent | Should -Be ($run.Acknowledged + $run.Failed)
    }
    It 'stops promptly with counts that add up' {
        $run = Start-NexmarkGenerator -BootstrapServers $k.BootstrapServers -EventsPerSecond 10000 -TotalEvents 100000000
        Start-Sleep -Milliseconds 500
        $sw = [Diagnostics.Stopwatch]::StartNew()
        $run = $run | Stop-NexmarkGenerator
        $sw.Elapsed.TotalSeconds | Should -BeLessThan 10   # against hangs, not a speed claim
        $run.State | Should -Be 'Stopped'
        $run.Valid | Should -BeFalse
        $run.Sent | Should -BeGreaterThan 0
        $run.Sent | Should -BeLessThan 100000000
        $run.Sent | Should -Be ($run.Acknowledged + $run.Failed)
    }
    It 'stops a foreground run on Ctrl+C, keeping truthful counts' {
        # Ctrl+C = PowerShell.Stop() on a second runspace running Start-NexmarkGenerator -Wait.
        $ps = [powershell]::Create()
        try {
            $null = $ps.AddScript("Import-Module '$script:Psd1'; Start-NexmarkGenerator -BootstrapServers '$($k.BootstrapServers)' -EventsPerSecond 10000 -TotalEvents 100000000 -Wait")
            $async = $ps.BeginInvoke()
            $deadline = [datetime]::UtcNow.AddSeconds(90)
            $run = $null
            while (-not $run -and [datetime]::UtcNow -lt $deadline) {
                Start-Sleep -Milliseconds 100
                $run = (Get-NexmarkGenerator).Where({ $_.BootstrapServers -eq $k.BootstrapServers -and -not $_.IsFinished -and $_.Sent -gt 1000 })[0]
            }
            $run | Should -Not -BeNullOrEmpty
            $sw = [Diagnostics.Stopwatch]::StartNew()
            $ps.Stop()
            $async.AsyncWaitHandle.WaitOne([timespan]::FromSeconds(90)) | Should -BeTrue
            $sw.Elapsed.TotalSeconds | Should -BeLessThan 10
            $ps.InvocationStateInfo.State | Should -Be 'Stopped'
            $after = Get-NexmarkGenerator -Id $run.Id
            $after.State | Should -Be 'Stopped'
            $after.Sent | Should -Be ($after.Acknowledged + $after.Failed)
        }
        finally { $ps.Dispose() }
    }
    It 'fails with KafkaTopicMissing for an absent topic' {
        Start-NexmarkGenerator -Topic absent -BootstrapServers $k.BootstrapServers -TotalEvents 10 -ErrorVariable err -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $err.Count | Should -Be 1
        $err[0].FullyQualifiedErrorId | Should -Be 'KafkaTopicMissing,PiBench.Commands.StartNexmarkGeneratorCommand'
        $err[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $err[0].ErrorDetails.RecommendedAction | Should -Match 'Initialize-NexmarkTopic'
    }
}

Describe 'A broker that goes away' {
    It 'ends the run with an error and truthful counts' {
        $k = Start-EmbeddedKafka
        $null = $k | Initialize-NexmarkTopic -Topic fault -Partitions 3
        $run = Start-NexmarkGenerator -Topic fault -BootstrapServers $k.BootstrapServers -EventsPerSecond 20000 -TotalEvents 100000000
        $sw = [Diagnostics.Stopwatch]::StartNew()
        while ($run.Acknowledged -lt 5000 -and $sw.Elapsed.TotalSeconds -lt 60) { Start-Sleep -Milliseconds 20 }
        $k | Stop-EmbeddedKafka
        $run = $run | Wait-NexmarkGenerator -Timeout 80 -ErrorVariable err -ErrorAction SilentlyContinue
        $run.State | Should -Be 'Failed'
        $run.Error | Should -Not -BeNullOrEmpty
        $err.Count | Should -Be 1
        $err[0].FullyQualifiedErrorId | Should -Match '^Kafka(BrokerUnavailable|AcknowledgementTimeout|DeliveryTimeout|DeliveryFailed),PiBench.Commands.WaitNexmarkGeneratorCommand$'
        $run.Acknowledged | Should -BeGreaterOrEqual 5000
        $run.Sent | Should -Be ($run.Acknowledged + $run.Failed)
        $err[0].Exception.Message | Should -Match "failed $($run.Failed)"
    }
}

Describe 'Measure-NexmarkGenerator' {
    It 'names a bottleneck and measures every stage' {
        $m = Measure-NexmarkGenerator -Count 20000 -Partitions 3
        $m.PSObject.TypeNames[0] | Should -Be 'PiBench.Core.Kafka.NexmarkGeneratorCapacity'
        $m.Bottleneck | Should -BeIn 'Generation', 'Serialization', 'Produce'
        $m.GenerationRate | Should -BeGreaterThan 0
        $m.SerializationRate | Should -BeGreaterThan 0
        $m.ProduceRate | Should -BeGreaterThan 0
        $m.Events | Should -Be 20000
    }
}
