#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0' }
# The engine and query cmdlets as users run them, against the in-process Arroyo and Flink stand-ins
# (tests/StandIns/*.cs, compiled with Add-Type). Run after `dotnet build PiBench.sln`:
#   Invoke-Pester tests/pester/Engines.Tests.ps1

BeforeAll {
    $repo = Resolve-Path (Join-Path $PSScriptRoot '..' '..')
    Import-Module (Join-Path $repo 'out' 'PiBench' 'PiBench.psd1') -Force
    . (Join-Path $PSScriptRoot 'TestLab.ps1')
    Import-StandIns
    $poll = @{ PollIntervalMilliseconds = 20 }
}

Describe 'Get-NexmarkQuery' {
    It 'lists q0..q22 for both engines as flat rows with one shape' {
        $all = Get-NexmarkQuery
        $all.Count | Should -Be 69   # Arroyo, Flink and the in-process Reference system
        $all[0].PSObject.TypeNames[0] | Should -Be 'PiBench.Core.Engines.NexmarkQuery'
        ($all | Select-Object -ExpandProperty Name -Unique).Count | Should -Be 23
        $names = $all[0].PSObject.Properties.Name -join ','
        $all | ForEach-Object { $_.PSObject.Properties.Name -join ',' | Should -Be $names }   # the Export-Csv contract
        $all[0].PSObject.Properties.Name | Should -Contain 'Sql'
    }
    It 'says why an engine cannot run a query' {
        $q = Get-NexmarkQuery q4 -System Arroyo
        $q.Supported | Should -BeFalse
        $q.Notes | Should -Not -BeNullOrEmpty
        $q6 = Get-NexmarkQuery -Name q6 -System Flink
        $q6.Supported | Should -BeFalse
        $q6.Notes | Should -Match 'retraction'
    }
    It 'filters by engine and support' {
        $arroyo = Get-NexmarkQuery -System Arroyo -Supported
        $arroyo | ForEach-Object { $_.System | Should -Be 'Arroyo' }
        $arroyo.Name | Should -Contain 'q5'
        $arroyo.Name | Should -Not -Contain 'q4'
    }
    It 'gives QueryNotFound for an unknown name' {
        Get-NexmarkQuery -Name q99 -ErrorVariable err -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $err[0].FullyQualifiedErrorId | Should -Be 'QueryNotFound,PiBench.Commands.GetNexmarkQueryCommand'
    }
    It 'keeps the suite''s window sizes' {
        (Get-NexmarkQuery q5 -System Flink).Sql | Should -Match "INTERVAL '2' SECOND, INTERVAL '10' SECOND"
    }
    It 'exports to CSV with one header' {
        $csv = Get-NexmarkQuery | ConvertTo-Csv
        $csv.Count | Should -Be 70
    }
    It 'completes query names' {
        $s = 'Get-NexmarkQuery -Name q2'
        (TabExpansion2 -inputScript $s -cursorColumn $s.Length).CompletionMatches.CompletionText | Should -Be @('q2', 'q20', 'q21', 'q22')
        $s = 'Invoke-NexmarkQuery -Name q1'
        (TabExpansion2 -inputScript $s -cursorColumn $s.Length).CompletionMatches.Count | Should -Be 11
    }
}

Describe 'Flink' {
    BeforeEach { $flink = [PiBench.StandIns.FlinkStandIn]::new() }
    AfterEach { $flink.Dispose() }

    It 'submits, waits, reads metrics and operators, and cancels' {
        # The JobManager answers metrics from its cache (a request sees the previous fetch): a 1-ms interval and operators
        # registered from the first fetch let the second refresh see the source counters.
        $flink.MetricCacheInterval = [TimeSpan]::FromMilliseconds(1)
        $flink.PartialFetchesAfterRunning = 0
        $ep = @{ EngineUri = $flink.RestUri; AuxiliaryUri = $flink.GatewayUri }
        $runs = Invoke-NexmarkQuery -Name q1, q3 -System Flink -Parallelism 9 -BootstrapServers 127.0.0.1:9092 @ep @poll
        $runs | ForEach-Object { $_.PSObject.TypeNames[0] | Should -Be 'PiBench.Core.Engines.NexmarkQueryRun' }
        $runs.Name | Should -Be @('q1', 'q3')
        $runs.State | Should -Be @('Starting', 'Starting')   # returned at once
        $running = $runs | Wait-NexmarkQueryRun -TimeoutSeconds 20 @poll
        $running.State | Should -Be @('Running', 'Running')
        $null = $runs[0] | Get-NexmarkQueryRun
        ($runs[0] | Get-NexmarkQueryRun).SourceRecordsOut | Should -BeGreaterThan 0
        $operators = @($runs[0] | Get-NexmarkQueryRun -Operator)
        $operators.Count | Should -BeGreaterThan 0
        $operators | ForEach-Object { $_.PSObject.TypeNames[0] | Should -Be 'PiBench.Core.Engines.StreamOperatorMetric' }
        $stopped = $runs | Stop-NexmarkQuery -PassThru @poll
        $stopped.State | Should -Be @('Stopped', 'Stopped')
        # What PiBench sent: parallelism, the rendered SQL, a cancel per job, and the sessions closed.
        $flink.Sessions.Count | Should -Be 2
        $flink.Sessions | ForEach-Object { $_.Properties['parallelism.default'] | Should -Be '9'; $_.Closed | Should -BeTrue }
        @($flink.Sessions | Where-Object { $_.Statements | Where-Object { $_.StartsWith('INSERT INTO nexmark_q3') } }).Count | Should -Be 1
        $flink.Sessions | ForEach-Object { ($_.Statements -join "`n") | Should -Match ([regex]::Escape("'properties.bootstrap.servers' = '127.0.0.1:9092'")) }
        @($flink.RestRequests | Where-Object { $_.Method -eq 'PATCH' -and $_.Query['mode'] -eq 'cancel' }).Count | Should -Be 2
        $flink.Jobs | ForEach-Object { $_.StatesSeen -join ',' | Should -Be 'INITIALIZING,CREATED,RUNNING,CANCELLING,CANCELED' }
    }
    It 'submits nothing with -WhatIf' {
        Invoke-NexmarkQuery q0 Flink -BootstrapServers 127.0.0.1:9092 -EngineUri $flink.RestUri -AuxiliaryUri $flink.GatewayUri -WhatIf @poll | Should -BeNullOrEmpty
        $flink.GatewayRequests.Count | Should -Be 0
    }
    It 'surfaces a SQL error with the engine''s message, and still runs the other query' {
        $flink.RejectStatementContaining = 'INSERT INTO nexmark_q2'
        $out = Invoke-NexmarkQuery q2, q0 Flink -EngineUri $flink.RestUri -AuxiliaryUri $flink.GatewayUri -BootstrapServers 127.0.0.1:9092 -ErrorVariable err -ErrorAction SilentlyContinue @poll
        $err.Count | Should -Be 1
        $err[0].FullyQualifiedErrorId | Should -Be 'EngineSqlError,PiBench.Commands.InvokeNexmarkQueryCommand'
        $err[0].CategoryInfo.Category | Should -Be 'InvalidArgument'
        $err[0].Exception.Message | Should -Match 'ValidationException'
        @($out).Count | Should -Be 1
        $out.Name | Should -Be 'q0'
    }
    It 'checks queries without starting a job' {
        $flink.RejectStatementContaining = 'INSERT INTO nexmark_q2'
        $checks = Test-NexmarkQuery q1, q2 Flink -EngineUri $flink.RestUri -AuxiliaryUri $flink.GatewayUri -BootstrapServers 127.0.0.1:9092
        $checks.Valid | Should -Be @($true, $false)
        $checks[1].Message | Should -Match 'ValidationException'
        $flink.Jobs.Count | Should -Be 0
    }
    It 'reports a job that fails after it ran as EngineJobFailed with the engine''s reason' {
        $failing = [PiBench.StandIns.FlinkStandIn]::new()
        try {
            $failing.FailWith = 'java.lang.OutOfMemoryError: Java heap space'
            # The job runs (first wait), then fails (RUNNING -> FAILING -> FAILED) while the second wait polls.
            Invoke-NexmarkQuery q0 Flink -BootstrapServers 127.0.0.1:9092 -EngineUri $failing.RestUri -AuxiliaryUri $failing.GatewayUri @poll |
                Wait-NexmarkQueryRun -TimeoutSeconds 20 @poll | Wait-NexmarkQueryRun -TimeoutSeconds 20 @poll -ErrorVariable err -ErrorAction SilentlyContinue | Out-Null
            $err.Count | Should -Be 1
            $err[0].FullyQualifiedErrorId | Should -Be 'EngineJobFailed,PiBench.Commands.WaitNexmarkQueryRunCommand'
            $err[0].Exception.Message | Should -Match 'Java heap space'
        }
        finally { $failing.Dispose() }
    }
    It 'lists TaskManagers with their slots' {
        $w = Get-StreamWorker -System Flink -EngineUri $flink.RestUri
        $w.Count | Should -Be 9
        $w | ForEach-Object { $_.Slots | Should -Be 1 }
    }
    It 'gives EngineTimeout for an engine slower than -RequestTimeoutSeconds' {
        $flink.Rest.ResponseDelay = [timespan]::FromSeconds(5)
        Get-StreamWorker Flink -RequestTimeoutSeconds 1 -EngineUri $flink.RestUri -ErrorVariable err -ErrorAction SilentlyContinue | Out-Null
        $err.Count | Should -Be 1
        $err[0].FullyQualifiedErrorId | Should -Be 'EngineTimeout,PiBench.Commands.GetStreamWorkerCommand'
    }
}

Describe 'Arroyo' {
    BeforeEach { $arroyo = [PiBench.StandIns.ArroyoStandIn]::new() }
    AfterEach { $arroyo.Dispose() }

    It 'creates a pipeline at the parallelism from Get-NexmarkQuery, stops it gracefully and deletes it' {
        $ep = @{ EngineUri = $arroyo.ApiUri; AuxiliaryUri = $arroyo.AdminUri; ControllerAddress = '127.0.0.1' }
        $run = Get-NexmarkQuery q5 -System Arroyo | Invoke-NexmarkQuery -Parallelism 3 @ep @poll
        ($run | Wait-NexmarkQueryRun -TimeoutSeconds 20 @poll).State | Should -Be 'Running'
        ($run | Stop-NexmarkQuery -Mode Graceful -PassThru @poll).State | Should -Be 'Stopped'
        $arroyo.Pipelines.Count | Should -Be 1
        $p = $arroyo.Pipelines[0]
        $p.Parallelism | Should -Be 3
        $p.Name | Should -Be 'nexmark-q5-p3'
        $p.Query | Should -Match ([regex]::Escape("hop(interval '2 second', interval '10 second')"))
        $p.Query | Should -Match 'CREATE TABLE nexmark_source'
        $p.Query | Should -Match ([regex]::Escape("bootstrap_servers = '127.0.0.1:9092'"))   # default: controller address, port 9092
        $p.Stop | Should -Be 'graceful'
        $p.Deleted | Should -BeTrue
        $p.StatesSeen -join ',' | Should -Be 'Created,Compiling,Scheduling,Running,Stopping,Stopped'
    }
    It 'refuses an unsupported query before submitting anything, or leaves it out with -SkipUnsupported' {
        $out = $null; $record = $null
        try { $out = Invoke-NexmarkQuery q1, q4 Arroyo -EngineUri $arroyo.ApiUri -AuxiliaryUri $arroyo.AdminUri @poll } catch { $record = $_ }
        $out | Should -BeNullOrEmpty
        $record.FullyQualifiedErrorId | Should -Be 'QueryUnsupported,PiBench.Commands.InvokeNexmarkQueryCommand'
        $record.CategoryInfo.Category | Should -Be 'InvalidOperation'
        $record.Exception.Message | Should -Match 'q4'
        $arroyo.Requests.Count | Should -Be 0
        { Invoke-NexmarkQuery q1, q4 Arroyo -EngineUri $arroyo.ApiUri -ErrorAction Stop } | Should -Throw -ErrorId 'QueryUnsupported,*'

        $skipped = Invoke-NexmarkQuery q1, q4 Arroyo -SkipUnsupported -EngineUri $arroyo.ApiUri -AuxiliaryUri $arroyo.AdminUri @poll -WarningVariable warn 3>$null
        @($skipped).Count | Should -Be 1
        ($warn -join "`n") | Should -Match 'q4'
        $arroyo.Pipelines.Count | Should -Be 1
    }
    It 'reports registered nodes' {
        $null = $arroyo.AddNodes(9)   # nine registrations in the controller's slot gauges (0.11 exports no node gauge)
        $w = Get-StreamWorker Arroyo -EngineUri $arroyo.ApiUri -AuxiliaryUri $arroyo.AdminUri
        $w.PSObject.TypeNames[0] | Should -Be 'PiBench.Core.Engines.StreamWorker'
        $w.Registrations | Should -Be 9
        $w.Nodes | Should -Be 9   # without node admin URIs, the registrations
    }
}

Describe 'Unreachable engines' {
    It 'gives EngineUnreachable for an engine that is gone' {
        $flink = [PiBench.StandIns.FlinkStandIn]::new()
        $port = $flink.RestUri.Port
        $flink.Dispose()
        Get-StreamWorker Flink -EngineUri "http://127.0.0.1:$port/" -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -Be 'EngineUnreachable,PiBench.Commands.GetStreamWorkerCommand'
        $err[0].CategoryInfo.Category | Should -Be 'ConnectionError'
    }
    It 'gives TopologyNotFound when the endpoints would come from a missing topology' {
        { Get-StreamWorker Flink -Topology (Join-Path ([IO.Path]::GetTempPath()) "pibench-absent-$([guid]::NewGuid()).yaml") -ErrorAction Stop } |
            Should -Throw -ErrorId 'TopologyNotFound,PiBench.Commands.GetStreamWorkerCommand'
    }
}
