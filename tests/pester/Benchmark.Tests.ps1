#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0' }
# User-level behaviour of Invoke-Benchmark and Get-ClusterMetric on loopback: the module's embedded Kafka, the
# in-process Arroyo stand-in (tests/StandIns/*.cs, compiled with Add-Type) and, for node metrics, the SSH lab
# (sshd per simulated Pi, started through tests/pester/TestLab.ps1; needs root). Run after `dotnet build PiBench.sln`:
#   Invoke-Pester tests/pester/Benchmark.Tests.ps1

BeforeAll {
    $repo = Resolve-Path (Join-Path $PSScriptRoot '..' '..')
    Import-Module (Join-Path $repo 'out' 'PiBench' 'PiBench.psd1') -Force
    . (Join-Path $PSScriptRoot 'TestLab.ps1')
    Import-StandIns
}

Describe 'Invoke-Benchmark' {
    It 'prints the plan with -WhatIf and runs nothing' {
        $dir = Join-Path ([IO.Path]::GetTempPath()) ("pibench-" + [guid]::NewGuid())
        $out = Invoke-Benchmark -System Arroyo -Query q1,q5 -Repetitions 2 -BootstrapServers 127.0.0.1:1 -EngineUri http://127.0.0.1:1/ -NoMetrics -OutputDirectory $dir -WhatIf
        $out | Should -BeNullOrEmpty
        Test-Path $dir | Should -BeFalse
    }
    It 'leaves out, with a warning, a default query the engine cannot run' {
        $dir = Join-Path ([IO.Path]::GetTempPath()) ("pibench-" + [guid]::NewGuid())
        Invoke-Benchmark -System Arroyo -BootstrapServers 127.0.0.1:1 -EngineUri http://127.0.0.1:1/ -NoMetrics -OutputDirectory $dir -WhatIf -WarningVariable warn 3>$null |
            Should -BeNullOrEmpty
        $warn | Where-Object { "$_".StartsWith('q4 is left out: ') } | Should -Not -BeNullOrEmpty
        Test-Path $dir | Should -BeFalse
    }
    It 'completes query names to what the engine can run' {
        $s = 'Invoke-Benchmark -System Arroyo -Query q'
        $names = (TabExpansion2 -inputScript $s -cursorColumn $s.Length).CompletionMatches.CompletionText
        $names | Should -Contain 'q5'
        $names | Should -Not -Contain 'q4'   # Arroyo 0.11 cannot run it
        $s = 'Invoke-Benchmark -System Flink -Query q'
        (TabExpansion2 -inputScript $s -cursorColumn $s.Length).CompletionMatches.CompletionText | Should -Contain 'q4'
    }
    It 'rejects a query the engine cannot run before starting anything' {
        { Invoke-Benchmark -System Arroyo -Query q4 -BootstrapServers 127.0.0.1:1 -EngineUri http://127.0.0.1:1/ -NoMetrics -ErrorAction Stop } | Should -Throw
    }
    It 'keeps an invalid run with its reason and writes both result files' {
        $engine = [PiBench.StandIns.ArroyoStandIn]::new()
        $kafka = Start-EmbeddedKafka
        $dir = Join-Path ([IO.Path]::GetTempPath()) ("pibench-" + [guid]::NewGuid())
        try {
            $r = Invoke-Benchmark -System Arroyo -Query q0 -Repetitions 1 -EventsPerSecond 300 -TotalEvents 100000 -Parallelism 2 -Partitions 2 `
                -WarmupSeconds 1 -FixedWarmup -CheckpointIntervalSeconds 1 -MeasureSeconds 4 -BootstrapServers $kafka.BootstrapServers -EngineUri $engine.ApiUri `
                -AuxiliaryUri $engine.AdminUri -NoMetrics -OutputDirectory $dir -WarningVariable benchWarnings 3>$null
            @($r).Count | Should -Be 1
            $r.PSObject.TypeNames[0] | Should -Be 'PiBench.Core.Benchmarking.BenchmarkResult'
            $r.Status | Should -Be 'Completed'
            $r.Valid | Should -BeFalse
            $r.InvalidReason | Should -Match 'consumer lag unbounded'
            $r.EventsIn | Should -Be 0
            # The stand-in's metrics claim 1000 + i records/s per source subtask while Kafka saw nothing consumed: reported.
            # A smoothed engine rate is a cross-check beside the figure, never the window's input rate (issue 12).
            $r.EngineInputRate | Should -BeGreaterThan 0   # the stand-in's EWMA of its claimed 2001/s (0.11's first answers are empty)
            $r.InputRate | Should -Be 0
            $r.KafkaInputRate | Should -Be 0
            $r.RateCheck | Should -BeLike 'mismatch: input engine *vs Kafka 0/s*'
            ($benchWarnings -join "`n") | Should -Match 'engine and Kafka disagree'
            ($r | ConvertTo-Csv | Select-Object -First 1) | Should -Match '"LatencyP99Ms"'
            $txt = Get-ChildItem $dir -Filter 'benchmark_results_*.txt'
            @($txt).Count | Should -Be 1
            Get-Content $txt.FullName -Raw | Should -Match 'ARROYO BENCHMARK RESULTS'
            $raw = Get-ChildItem $dir -Filter 'benchmark_results_*.json' | Get-Content -Raw
            $raw | Should -Match ([regex]::Escape('"arroyo": "ghcr.io/arroyosystems/arroyo:0.11.0"'))   # image provenance
            $raw | Should -Match ([regex]::Escape('"kafka": "apache/kafka:'))
            $json = $raw | ConvertFrom-Json
            $json.Results.Count | Should -Be 1
            $engine.Pipelines | ForEach-Object { $_.Stop | Should -Not -Be 'none' }
            # Resume with the run's own settings (-Resume refuses a file of another run): nothing is left to run.
            $again = Invoke-Benchmark -System Arroyo -Query q0 -Repetitions 1 -EventsPerSecond 300 -TotalEvents 100000 -Parallelism 2 -Partitions 2 `
                -WarmupSeconds 1 -FixedWarmup -CheckpointIntervalSeconds 1 -MeasureSeconds 4 -BootstrapServers $kafka.BootstrapServers -EngineUri $engine.ApiUri `
                -AuxiliaryUri $engine.AdminUri -NoMetrics -Resume (Get-ChildItem $dir -Filter '*.json').FullName
            $again | Should -BeNullOrEmpty
        }
        finally {
            $kafka | Stop-EmbeddedKafka
            $engine.Dispose()
            Remove-Item $dir -Recurse -Force -ErrorAction SilentlyContinue
        }
    }
    It 'stops on Ctrl+C in the second repetition: keeps the first, marks the rest Stopped and NotRun, stops every query' {
        # Ctrl+C = PowerShell.Stop() on a second runspace that runs the benchmark (as the C# BenchmarkCtrlCTests does).
        $engine = [PiBench.StandIns.ArroyoStandIn]::new()
        $dir = Join-Path ([IO.Path]::GetTempPath()) ("pibench-" + [guid]::NewGuid())
        $iss = [initialsessionstate]::CreateDefault2()
        $iss.ImportPSModule([string[]]@(Join-Path $repo 'out' 'PiBench' 'PiBench.psd1'))
        $ps = [powershell]::Create($iss)
        try {
            $ps.Runspace.SessionStateProxy.SetVariable('api', $engine.ApiUri)
            $ps.Runspace.SessionStateProxy.SetVariable('admin', $engine.AdminUri)
            $ps.Runspace.SessionStateProxy.SetVariable('dir', $dir)
            $null = $ps.AddScript(@'
$k = Start-EmbeddedKafka
try {
  Invoke-Benchmark -System Arroyo -Query q0 -Repetitions 3 -EventsPerSecond 200 -TotalEvents 100000 -Parallelism 2 -Partitions 2 `
    -WarmupSeconds 1 -FixedWarmup -CheckpointIntervalSeconds 1 -MeasureSeconds 4 -BootstrapServers $k.BootstrapServers -EngineUri $api -AuxiliaryUri $admin `
    -NoMetrics -OutputDirectory $dir
} finally { $k | Stop-EmbeddedKafka }
'@)
            $in = [System.Management.Automation.PSDataCollection[psobject]]::new()
            $in.Complete()
            $output = [System.Management.Automation.PSDataCollection[psobject]]::new()
            $async = $ps.BeginInvoke($in, $output)

            # Wait for repetition 1's result, then for repetition 2's query to run on the engine. Only .Count:
            # enumerating the collection while the benchmark runs would block until it ends.
            $deadline = [datetime]::UtcNow.AddSeconds(90)
            while ($output.Count -eq 0 -and -not $async.IsCompleted -and [datetime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 50 }
            $output.Count | Should -Be 1
            while (-not @($engine.Pipelines | Where-Object { $_.Stop -eq 'none' -and $_.State -eq 'Running' }) -and
                   -not $async.IsCompleted -and [datetime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 20 }
            $async.IsCompleted | Should -BeFalse

            $ps.Stop()
            $async.AsyncWaitHandle.WaitOne([timespan]::FromSeconds(30)) | Should -BeTrue
            $ps.InvocationStateInfo.State | Should -Be 'Stopped'

            $output.Count | Should -Be 1
            $output[0].Repetition | Should -Be 1
            $output[0].Status | Should -Be 'Completed'
            (Get-ChildItem $dir -Filter 'benchmark_results_*.txt').Count | Should -Be 1
            $json = Get-ChildItem $dir -Filter 'benchmark_results_*.json' | Get-Content -Raw | ConvertFrom-Json
            $json.State | Should -Be 'Stopped'
            $json.EndedAt | Should -Not -BeNullOrEmpty
            ($json.Results | Sort-Object Repetition | ForEach-Object Status) -join ',' | Should -Be 'Completed,Stopped,NotRun'
            $engine.Pipelines.Count | Should -Be 2
            $engine.Pipelines | ForEach-Object { $_.Stop | Should -Not -Be 'none' }
            # The script's finally ran on the stop: its embedded cluster is gone.
            $k = $ps.Runspace.SessionStateProxy.GetVariable('k')
            @(Get-EmbeddedKafka) -contains $k | Should -BeFalse
        }
        finally {
            if ($ps.InvocationStateInfo.State -eq 'Running') { $ps.Stop() }
            $k = $ps.Runspace.SessionStateProxy.GetVariable('k')
            if ($k) { $k | Stop-EmbeddedKafka }
            $ps.Dispose()
            $engine.Dispose()
            Remove-Item $dir -Recurse -Force -ErrorAction SilentlyContinue
        }
    }
    It 'refuses sustainable-search settings that cannot work, before anything runs' {
        $dir = Join-Path ([IO.Path]::GetTempPath()) ("pibench-" + [guid]::NewGuid())
        { Invoke-Benchmark -System Arroyo -Query q1 -Mode Sustainable -EventsPerSecond 1000 -MaxEventsPerSecond 500 -BootstrapServers 127.0.0.1:1 `
            -EngineUri http://127.0.0.1:1/ -NoMetrics -OutputDirectory $dir -ErrorAction Stop } | Should -Throw -ErrorId 'InvalidSustainableSearch,*'
        $out = $null; $record = $null
        try {
            $out = Invoke-Benchmark -System Arroyo -Query q1 -Mode Sustainable -EventsPerSecond 1000 -MaxEventsPerSecond 500 -BootstrapServers 127.0.0.1:1 `
                -EngineUri http://127.0.0.1:1/ -NoMetrics -OutputDirectory $dir -ErrorAction Stop
        }
        catch { $record = $_ }
        $out | Should -BeNullOrEmpty
        $record.CategoryInfo.Category | Should -Be 'InvalidArgument'
        $record.ErrorDetails.RecommendedAction | Should -Match '-MaxEventsPerSecond'
        Test-Path $dir | Should -BeFalse
    }
    It 'searches the sustainable rate: one result per search, every step in the files' {
        # The stand-in consumes nothing, so every step's backlog grows: the search steps down and finds no sustainable rate.
        $engine = [PiBench.StandIns.ArroyoStandIn]::new()
        $kafka = Start-EmbeddedKafka
        $dir = Join-Path ([IO.Path]::GetTempPath()) ("pibench-" + [guid]::NewGuid())
        try {
            $s = Invoke-Benchmark -System Arroyo -Mode Sustainable -Query q0 -Repetitions 1 -EventsPerSecond 300 -MaxSteps 2 -Parallelism 2 -Partitions 2 `
                -WarmupSeconds 1 -FixedWarmup -CheckpointIntervalSeconds 1 -MeasureSeconds 4 -BootstrapServers $kafka.BootstrapServers -EngineUri $engine.ApiUri `
                -AuxiliaryUri $engine.AdminUri -NoMetrics -OutputDirectory $dir
            $s.PSObject.TypeNames[0] | Should -Be 'PiBench.Core.Benchmarking.SustainableThroughputResult'
            $s.StepRates | Should -Be '300:fail 150:fail'
            @($s).Count | Should -Be 1
            $s.LimitedBy | Should -Be 'Steps'  # the budget ran out before any step passed: not found (last failure: Engine)
            $s.Status | Should -Be 'Completed'
            [double]::IsNaN($s.SustainableRate) | Should -BeTrue
            $s.FailingRate | Should -Be 150
            $engine.Pipelines.Count | Should -Be 2   # one fresh job per step
            $engine.Pipelines | ForEach-Object { $_.Stop | Should -Not -Be 'none' }
            $json = Get-ChildItem $dir -Filter 'benchmark_results_*.json' | Get-Content -Raw | ConvertFrom-Json
            $json.Mode | Should -Be 'Sustainable'
            $json.Results.Step | Should -Be @(1, 2)
            Get-ChildItem $dir -Filter 'benchmark_results_*.txt' | Get-Content -Raw | Should -Match 'Sustainable throughput'
        }
        finally {
            $kafka | Stop-EmbeddedKafka
            $engine.Dispose()
            Remove-Item $dir -Recurse -Force -ErrorAction SilentlyContinue
        }
    }
}

Describe 'Node metrics from the SSH lab' {
    BeforeAll {
        $lab = Start-TestLab -Ssh -ThrottledNode pi3
        $topo = $lab.Ssh.TopologyPath
    }
    AfterAll { Stop-TestLab $lab }

    It 'Invoke-Benchmark: a throttled node makes the run invalid, and resource figures come from every node' {
        # pi3's fake vcgencmd reports throttling; the lab has no Docker daemon.
        $engine = [PiBench.StandIns.ArroyoStandIn]::new()
        $kafka = Start-EmbeddedKafka
        $dir = Join-Path ([IO.Path]::GetTempPath()) ("pibench-" + [guid]::NewGuid())
        try {
            $r = Invoke-Benchmark -System Arroyo -Topology $topo -Query q0 -Repetitions 1 -EventsPerSecond 200 -TotalEvents 100000 `
                -WarmupSeconds 1 -FixedWarmup -CheckpointIntervalSeconds 1 -MeasureSeconds 4 -BootstrapServers $kafka.BootstrapServers -EngineUri $engine.ApiUri `
                -AuxiliaryUri $engine.AdminUri -OutputDirectory $dir -WarningVariable warn 3>$null
            @($r).Count | Should -Be 1
            $r.Valid | Should -BeFalse
            $r.InvalidReason | Should -Match 'node throttled: pi3'
            $r.Parallelism | Should -Be 2   # one per lab worker, from the topology
            $r.CpuCoreSeconds | Should -BeGreaterThan 0
            $r.CpuPercentPerNode | Should -BeGreaterOrEqual 0
            $r.CpuPercentPerNode | Should -BeLessOrEqual 100
            $r.MemoryPeakMB | Should -BeGreaterThan 0
            # No Docker daemon: one warning for the run, no engine containers, so no engine figures.
            @($warn | Where-Object { "$_".StartsWith('Docker API not reachable on ') }).Count | Should -Be 1
            [double]::IsNaN($r.EngineCpuCoreSeconds) | Should -BeTrue
            [double]::IsNaN($r.EngineMemoryPeakMB) | Should -BeTrue
            $raw = Get-ChildItem $dir -Filter '*.json' | Select-Object -First 1 | Get-Content -Raw
            $raw | Should -Match ([regex]::Escape('"Containers": ['))
            $raw | Should -Match ([regex]::Escape('"Node": "pi3"'))
            $raw | Should -Match ([regex]::Escape('"ThrottledFlags": "0x50005"'))   # node facts probed at the start of the run
            $raw | Should -Match ([regex]::Escape('"Kernel": "' + [Environment]::OSVersion.Version.Major))
        }
        finally {
            $kafka | Stop-EmbeddedKafka
            $engine.Dispose()
            Remove-Item $dir -Recurse -Force -ErrorAction SilentlyContinue
        }
    }

    It 'Get-ClusterMetric -Once: one sample per node, throttling from vcgencmd' {
        $s = Get-ClusterMetric -Topology $topo -Once -IntervalSeconds 0.5
        $s.Count | Should -Be 3
        $s[0].PSObject.TypeNames[0] | Should -Be 'PiBench.Core.Benchmarking.ClusterMetricSample'
        ($s.Node | Sort-Object) -join ',' | Should -Be 'pi1,pi2,pi3'
        foreach ($o in $s) {
            $o.IntervalSeconds | Should -BeGreaterOrEqual 0.3
            $o.IntervalSeconds | Should -BeLessOrEqual 5
            $o.CpuPercent | Should -BeGreaterOrEqual 0
            $o.CpuPercent | Should -BeLessOrEqual 100
            $o.CpuCores | Should -Be ([Environment]::ProcessorCount)
            $o.CpuPercentPerCore.Split(';').Count | Should -Be ([Environment]::ProcessorCount)
            $o.MemoryUsedMB | Should -BeGreaterThan 0
        }
        $pi3 = $s | Where-Object Node -eq 'pi3'
        $pi3.Throttled | Should -BeTrue
        $pi3.ThrottledSinceBoot | Should -BeTrue
        $pi3.ThrottledFlags | Should -Be '0x50005'
        $pi3.TemperatureC | Should -Be 71.5
        $pi2 = $s | Where-Object Node -eq 'pi2'
        $pi2.Throttled | Should -BeNullOrEmpty
        $pi2.ThrottledFlags | Should -Be ''
    }
    It 'Get-ClusterMetric -Count streams samples and appends them to -Path' {
        $path = Join-Path ([IO.Path]::GetTempPath()) ("metrics-" + [guid]::NewGuid() + ".jsonl")
        try {
            $s = Get-ClusterMetric -Topology $topo -NodeName pi2 -Count 3 -IntervalSeconds 0.3 -Path $path
            $s.Count | Should -Be 3
            $s | ForEach-Object { $_.Node | Should -Be 'pi2' }
            $s.Sequence | Should -Be @(1, 2, 3)
            $lines = @(Get-Content $path | Where-Object { $_ })
            $lines.Count | Should -Be 3
            $lines | ForEach-Object { $_ | Should -Match '"Node":"pi2"' }
        }
        finally { Remove-Item $path -ErrorAction SilentlyContinue }
    }
    It 'Get-ClusterMetric -Continuous stops on Ctrl+C, keeping what arrived' {
        $path = Join-Path ([IO.Path]::GetTempPath()) ("metrics-" + [guid]::NewGuid() + ".jsonl")
        $ps = [powershell]::Create()
        try {
            $null = $ps.AddScript("Import-Module '$(Join-Path $repo 'out' 'PiBench' 'PiBench.psd1')'; Get-ClusterMetric -Topology '$topo' -NodeName pi1 -Continuous -IntervalSeconds 0.2 -Path '$path'")
            $output = [System.Management.Automation.PSDataCollection[psobject]]::new()
            $async = $ps.BeginInvoke([System.Management.Automation.PSDataCollection[psobject]]::new(), $output)
            $deadline = [datetime]::UtcNow.AddSeconds(30)
            while ($output.Count -lt 3 -and [datetime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 50 }
            $output.Count | Should -BeGreaterOrEqual 3
            $ps.Stop()
            $async.AsyncWaitHandle.WaitOne([timespan]::FromSeconds(15)) | Should -BeTrue
            @(Get-Content $path | Where-Object { $_ }).Count | Should -BeGreaterOrEqual 3
        }
        finally { $ps.Dispose(); Remove-Item $path -ErrorAction SilentlyContinue }
    }
    It 'Get-ClusterMetric -Container without a Docker daemon warns once and still samples' {
        # The SSH lab has a docker CLI but no daemon: the Docker API cannot be asked on any node. Whatever containers
        # this machine runs now (other labs share its kernel) are reported by id, without labels.
        $c = Get-ClusterMetric -Topology $topo -NodeName pi1, pi2 -Container -Count 2 -IntervalSeconds 0.3 -WarningVariable warn 3>$null
        @($warn).Count | Should -Be 1
        "$($warn[0])" | Should -BeLike 'Docker API not reachable on pi1 (*'
        "$($warn[0])" | Should -BeLike '*, pi2 (*'
        foreach ($o in @($c)) {
            $o.PSObject.TypeNames[0] | Should -Be 'PiBench.Core.Benchmarking.ContainerMetricSample'
            $o.Container | Should -Be $o.ContainerId
            $o.Service | Should -Be ''
        }
    }
    It 'Get-ClusterMetric: an unknown node is an error, and -Once with -Continuous is refused' {
        Get-ClusterMetric -Topology $topo -NodeName nope -Once -ErrorVariable err -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $err.FullyQualifiedErrorId | Where-Object { $_ -like 'NodeNotFound*' } | Should -Not -BeNullOrEmpty
        { Get-ClusterMetric -Topology $topo -Once -Continuous -ErrorAction Stop } | Should -Throw   # MetricModeConflict, or no parameter set
    }
}
