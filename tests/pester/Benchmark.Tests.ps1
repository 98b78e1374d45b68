#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0' }
# User-level behaviour of Invoke-Benchmark and Get-ClusterMetric on loopback: the module's embedded Kafka, the
# in-process Arroyo stand-in (tests/StandIns/*.cs, compiled with Add-Type) and, for node metrics, this machine over
# SSH when $env:PIBENCH_TEST_TOPOLOGY names a loopback topology (e.g. the one the SSH lab writes). Run after
# `dotnet build PiBench.sln`:
#   Invoke-Pester tests/pester/Benchmark.Tests.ps1

BeforeAll {
    $repo = Resolve-Path (Join-Path $PSScriptRoot '..' '..')
    Import-Module (Join-Path $repo 'out' 'PiBench' 'PiBench.psd1') -Force
    if (-not ('PiBench.StandIns.ArroyoStandIn' -as [type])) {
        Add-Type -Path (Get-ChildItem (Join-Path $repo 'tests' 'StandIns') -Filter *.cs).FullName
    }
}

Describe 'Invoke-Benchmark' {
    It 'prints the plan with -WhatIf and runs nothing' {
        $dir = Join-Path ([IO.Path]::GetTempPath()) ("pibench-" + [guid]::NewGuid())
        $out = Invoke-Benchmark -System Arroyo -Query q1,q5 -Repetitions 2 -BootstrapServers 127.0.0.1:1 -EngineUri http://127.0.0.1:1/ -NoMetrics -OutputDirectory $dir -WhatIf
        $out | Should -BeNullOrEmpty
        Test-Path $dir | Should -BeFalse
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
                -WarmupSeconds 1 -FixedWarmup -MeasureSeconds 3 -BootstrapServers $kafka.BootstrapServers -EngineUri $engine.ApiUri `
                -AuxiliaryUri $engine.AdminUri -NoMetrics -OutputDirectory $dir
            $r.Status | Should -Be 'Completed'
            $r.Valid | Should -BeFalse
            $r.InvalidReason | Should -Match 'consumer lag unbounded'
            ($r | ConvertTo-Csv | Select-Object -First 1) | Should -Match '"LatencyP99Ms"'
            (Get-ChildItem $dir -Filter 'benchmark_results_*.txt').Count | Should -Be 1
            $json = Get-ChildItem $dir -Filter 'benchmark_results_*.json' | Get-Content -Raw | ConvertFrom-Json
            $json.Results.Count | Should -Be 1
            # Resume: nothing is left to run for the completed cell.
            $again = Invoke-Benchmark -System Arroyo -Query q0 -Repetitions 1 -BootstrapServers $kafka.BootstrapServers -EngineUri $engine.ApiUri `
                -AuxiliaryUri $engine.AdminUri -NoMetrics -Resume (Get-ChildItem $dir -Filter '*.json').FullName
            $again | Should -BeNullOrEmpty
        }
        finally {
            $kafka | Stop-EmbeddedKafka
            $engine.Dispose()
            Remove-Item $dir -Recurse -Force -ErrorAction SilentlyContinue
        }
    }
}

Describe 'Get-ClusterMetric' -Skip:(-not $env:PIBENCH_TEST_TOPOLOGY) {
    It 'gives one sample per node with -Once' {
        $nodes = Get-PiNode -Topology $env:PIBENCH_TEST_TOPOLOGY
        $s = Get-ClusterMetric -Topology $env:PIBENCH_TEST_TOPOLOGY -Once -IntervalSeconds 0.5
        $s.Count | Should -Be $nodes.Count
        $s | ForEach-Object { $_.CpuPercent | Should -BeGreaterOrEqual 0 }
    }
    It 'appends JSON lines as samples arrive' {
        $path = Join-Path ([IO.Path]::GetTempPath()) ("metrics-" + [guid]::NewGuid() + ".jsonl")
        $n = (Get-ClusterMetric -Topology $env:PIBENCH_TEST_TOPOLOGY -Count 2 -IntervalSeconds 0.3 -Path $path).Count
        (Get-Content $path).Count | Should -Be $n
        Remove-Item $path
    }
}
