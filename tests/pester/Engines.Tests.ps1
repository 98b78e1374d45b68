#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0' }
# User-level behaviour of the engine and query cmdlets, against the in-process Arroyo and Flink stand-ins
# (tests/StandIns/*.cs, compiled with Add-Type). Run after `dotnet build PiBench.sln`:
#   Invoke-Pester tests/pester/Engines.Tests.ps1

BeforeAll {
    $repo = Resolve-Path (Join-Path $PSScriptRoot '..' '..')
    Import-Module (Join-Path $repo 'out' 'PiBench' 'PiBench.psd1') -Force
    if (-not ('PiBench.StandIns.FlinkStandIn' -as [type])) {
        Add-Type -Path (Get-ChildItem (Join-Path $repo 'tests' 'StandIns') -Filter *.cs).FullName
    }
    $poll = @{ PollIntervalMilliseconds = 20 }
}

Describe 'Get-NexmarkQuery' {
    It 'lists q0..q22 for both engines' {
        $all = Get-NexmarkQuery
        $all.Count | Should -Be 46
        ($all | Select-Object -ExpandProperty Name -Unique).Count | Should -Be 23
    }
    It 'says why an engine cannot run a query' {
        $q = Get-NexmarkQuery q4 -System Arroyo
        $q.Supported | Should -BeFalse
        $q.Notes | Should -Not -BeNullOrEmpty
    }
    It 'keeps the suite''s window sizes' {
        (Get-NexmarkQuery q5 -System Flink).Sql | Should -Match "INTERVAL '2' SECOND, INTERVAL '10' SECOND"
    }
    It 'exports to CSV with one header' {
        $csv = Get-NexmarkQuery | ConvertTo-Csv
        $csv.Count | Should -Be 47
    }
    It 'completes query names' {
        $s = 'Get-NexmarkQuery -Name q2'
        (TabExpansion2 -inputScript $s -cursorColumn $s.Length).CompletionMatches.CompletionText | Should -Be @('q2', 'q20', 'q21', 'q22')
    }
}

Describe 'Flink' {
    BeforeEach { $flink = [PiBench.StandIns.FlinkStandIn]::new() }
    AfterEach { $flink.Dispose() }

    It 'submits, waits, reads metrics and cancels' {
        # The JobManager answers metrics from its cache (a request sees the previous fetch): a 1-ms interval and operators
        # registered from the first fetch let the second refresh see the source counters.
        $flink.MetricCacheInterval = [TimeSpan]::FromMilliseconds(1)
        $flink.PartialFetchesAfterRunning = 0
        $ep = @{ EngineUri = $flink.RestUri; AuxiliaryUri = $flink.GatewayUri }
        $runs = Invoke-NexmarkQuery -Name q1, q3 -System Flink -Parallelism 9 -BootstrapServers 127.0.0.1:9092 @ep @poll
        $runs.State | Should -Be @('Starting', 'Starting')
        $running = $runs | Wait-NexmarkQueryRun -TimeoutSeconds 20 @poll
        $running.State | Should -Be @('Running', 'Running')
        $null = $runs[0] | Get-NexmarkQueryRun
        ($runs[0] | Get-NexmarkQueryRun).SourceRecordsOut | Should -BeGreaterThan 0
        $stopped = $runs | Stop-NexmarkQuery -PassThru @poll
        $stopped.State | Should -Be @('Stopped', 'Stopped')
        $flink.Sessions.Properties.'parallelism.default' | Should -Be @('9', '9')
    }
    It 'surfaces a SQL error with the engine''s message' {
        $flink.RejectStatementContaining = 'INSERT INTO nexmark_q2'
        Invoke-NexmarkQuery q2 Flink -EngineUri $flink.RestUri -AuxiliaryUri $flink.GatewayUri -BootstrapServers 127.0.0.1:9092 -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -BeLike 'EngineSqlError,*'
        $err[0].Exception.Message | Should -Match 'ValidationException'
    }
    It 'checks queries without starting a job' {
        $flink.RejectStatementContaining = 'INSERT INTO nexmark_q2'
        $checks = Test-NexmarkQuery q1, q2 Flink -EngineUri $flink.RestUri -AuxiliaryUri $flink.GatewayUri -BootstrapServers 127.0.0.1:9092
        $checks.Valid | Should -Be @($true, $false)
        $checks[1].Message | Should -Match 'ValidationException'
        $flink.Jobs.Count | Should -Be 0
    }
    It 'lists TaskManagers' {
        (Get-StreamWorker Flink -EngineUri $flink.RestUri).Count | Should -Be 9
    }
}

Describe 'Arroyo' {
    BeforeEach { $arroyo = [PiBench.StandIns.ArroyoStandIn]::new() }
    AfterEach { $arroyo.Dispose() }

    It 'creates a pipeline at the parallelism, stops it gracefully and deletes it' {
        $ep = @{ EngineUri = $arroyo.ApiUri; AuxiliaryUri = $arroyo.AdminUri; ControllerAddress = '127.0.0.1' }
        $run = Get-NexmarkQuery q5 -System Arroyo | Invoke-NexmarkQuery -Parallelism 3 @ep @poll
        $run | Wait-NexmarkQueryRun -TimeoutSeconds 20 @poll | Should -Not -BeNullOrEmpty
        $run | Stop-NexmarkQuery -Mode Graceful @poll
        $arroyo.Pipelines[0].Parallelism | Should -Be 3
        $arroyo.Pipelines[0].Stop | Should -Be 'graceful'
        $arroyo.Pipelines[0].Deleted | Should -BeTrue
    }
    It 'refuses an unsupported query before submitting anything' {
        { Invoke-NexmarkQuery q1, q4 Arroyo -EngineUri $arroyo.ApiUri -ErrorAction Stop } | Should -Throw -ErrorId 'QueryUnsupported,*'
        $arroyo.Requests.Count | Should -Be 0
    }
    It 'reports registered nodes' {
        (Get-StreamWorker Arroyo -EngineUri $arroyo.ApiUri -AuxiliaryUri $arroyo.AdminUri).Nodes | Should -Be 9
    }
}

Describe 'Unreachable engines' {
    It 'gives EngineUnreachable' {
        Get-StreamWorker Flink -EngineUri http://127.0.0.1:1/ -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -BeLike 'EngineUnreachable,*'
    }
}
