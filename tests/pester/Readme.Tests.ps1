#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0' }
# What a user reads is what runs: the README's pipelines verbatim, every cmdlet's Get-Help -Examples, every example
# that can run on loopback, and every format view, in real pwsh against the staged module.
# The loopback world (started once for the file, everything on 127.0.0.0/8):
#   S  the SSH lab: sshd per simulated Pi (pi1..pi5 on 127.0.0.70..), a throw-away user with a password
#   D  the deployment lab: sshd + private dockerd per node (127.0.7.10..), stand-in images with the pinned names
#   E  a topology whose controller is 127.0.0.1, with the embedded Kafka's port and in-process Arroyo/Flink stand-ins
#   the module's embedded Kafka ($kafka) and the consuming Arroyo stand-in (reads its input topic, writes results)
# Run after `dotnet build PiBench.sln`, as root: Invoke-Pester tests/pester/Readme.Tests.ps1

BeforeDiscovery {
    $repo = (Resolve-Path (Join-Path $PSScriptRoot '..' '..')).Path
    Import-Module (Join-Path $repo 'out' 'PiBench' 'PiBench.psd1') -Force
    # Every exported cmdlet, so cmdlets added later are covered without touching this file.
    $cmdlets = (Get-Module PiBench).ExportedCmdlets.Keys | Sort-Object
    $examples = foreach ($c in $cmdlets) {
        $i = 0
        foreach ($e in (Get-Help $c -Examples).examples.example) {
            $i++
            $code = ($e.code | Out-String).Trim()
            @{ Cmdlet = $c; Number = $i; Key = "$c $i"; Code = $code }
        }
    }
    $views = foreach ($f in Get-ChildItem (Join-Path $repo 'out' 'PiBench' 'format') -Filter *.ps1xml) {
        foreach ($v in ([xml](Get-Content $f.FullName -Raw)).Configuration.ViewDefinitions.View) {
            @{ View = $v.Name; TypeName = $v.ViewSelectedBy.TypeName; File = $f.Name }
        }
    }
}

BeforeAll {
    $repo = (Resolve-Path (Join-Path $PSScriptRoot '..' '..')).Path
    Import-Module (Join-Path $repo 'out' 'PiBench' 'PiBench.psd1') -Force
    . (Join-Path $PSScriptRoot 'TestLab.ps1')
    Import-StandIns
    $env:PIBENCH_READY_TIMEOUT = '30'
    # Parse errors, and PiBench parameters that do not exist (a help example a user copies must bind).
    function Test-ExampleCode([string] $Code) {
        $tokens = $null; $parseErrors = $null
        $ast = [System.Management.Automation.Language.Parser]::ParseInput($Code, [ref]$tokens, [ref]$parseErrors)
        foreach ($e in $parseErrors) { "parse: $($e.Message)" }
        foreach ($call in $ast.FindAll({ $args[0] -is [System.Management.Automation.Language.CommandAst] }, $true)) {
            $name = $call.GetCommandName()
            $cmd = if ($name) { Get-Command $name -Module PiBench -ErrorAction SilentlyContinue }
            if (-not $cmd) { continue }
            $known = @($cmd.Parameters.Values | ForEach-Object { $_.Name; $_.Aliases })
            foreach ($p in $call.CommandElements | Where-Object { $_ -is [System.Management.Automation.Language.CommandParameterAst] }) {
                if (-not ($known | Where-Object { $_ -like "$($p.ParameterName)*" })) { "$name has no parameter -$($p.ParameterName)" }
            }
        }
    }
    $script:SavedTopology = $env:PIBENCH_TOPOLOGY
    $script:Seen = @{}   # one live object per type name, for the format views
    function Save-Seen([object[]] $Objects) {
        foreach ($o in $Objects) { if ($null -ne $o) { $t = ([psobject]$o).PSObject.TypeNames[0]; if (-not $script:Seen.ContainsKey($t)) { $script:Seen[$t] = $o } } }
    }

    $script:Kafka = Start-EmbeddedKafka
    $script:Lab = Start-TestLab -Ssh -Workers 4 -Deploy -ConsumingArroyo $script:Kafka.BootstrapServers -DelayMs 100
    $script:Arroyo = [PiBench.StandIns.ArroyoStandIn]::new()
    $script:Flink = [PiBench.StandIns.FlinkStandIn]::new()
    $script:Dir = Join-Path ([IO.Path]::GetTempPath()) ("pibench-readme-" + [guid]::NewGuid().ToString('N').Substring(0, 8))
    New-Item -ItemType Directory $script:Dir | Out-Null
    $script:E = Join-Path $script:Dir 'engine-lab.yaml'
    @"
name: engine-lab
nodes:
  - { name: c1, address: 127.0.0.1, role: controller }
  - { name: w1, address: 127.0.0.11, role: worker }
  - { name: w2, address: 127.0.0.12, role: worker }
  - { name: w3, address: 127.0.0.13, role: worker }
kafka:
  port: $($script:Kafka.BootstrapServers.Split(':')[1])
arroyo:
  api_port: $($script:Arroyo.ApiUri.Port)
  admin_port: $($script:Arroyo.AdminUri.Port)
flink:
  rest_port: $($script:Flink.RestUri.Port)
  sql_gateway_port: $($script:Flink.GatewayUri.Port)
"@ | Set-Content $script:E
    # R: the same engine lab with the benchmark settings of the README pipeline's run (2 workers, q0, one repetition),
    # for resuming that run's results file.
    $script:R = Join-Path $script:Dir 'resume-lab.yaml'
    ((Get-Content $script:E) -notmatch 'w3') + @('benchmark:', '  queries: [q0]', '  repetitions: 1') | Set-Content $script:R
    $script:Topologies = @{ S = $script:Lab.Ssh.TopologyPath; D = $script:Lab.Deploy.TopologyPath; E = $script:E; R = $script:R }
    $null = Install-StreamCluster -System Arroyo -Topology $script:Topologies.D
}

AfterAll {
    $env:PIBENCH_TOPOLOGY = $script:SavedTopology
    Get-NexmarkGenerator | Stop-NexmarkGenerator -ErrorAction SilentlyContinue | Out-Null
    if ($script:Lab) { Stop-TestLab $script:Lab }
    Get-EmbeddedKafka | Stop-EmbeddedKafka
    if ($script:Arroyo) { $script:Arroyo.Dispose() }
    if ($script:Flink) { $script:Flink.Dispose() }
    Set-Location $PSScriptRoot
    if ($script:Dir) { Remove-Item $script:Dir -Recurse -Force -ErrorAction SilentlyContinue }
}

Describe 'The README''s pipelines, verbatim' {
    BeforeEach {
        $env:PIBENCH_TOPOLOGY = $script:Topologies.S
        Set-Location $script:Dir
    }

    It 'Get-PiNode | Test-PiNode | Format-Table' {
        $health = Get-PiNode | Test-PiNode
        Save-Seen (Get-PiNode); Save-Seen $health; Save-Seen (Get-PiTopology)
        $health.Count | Should -Be 5
        $health | ForEach-Object { $_.Reachable | Should -BeTrue }
        $table = Get-PiNode | Test-PiNode | Format-Table | Out-String
        $lines = $table -split "`n" | Where-Object { $_ -match '^pi\d\s' }
        @($lines).Count | Should -Be 5
        $table | Should -Match 'Reachable'
    }
    It 'Get-ClusterMetric -Once | Export-Csv' {
        Get-ClusterMetric -Once | Export-Csv metrics.csv
        $rows = Import-Csv metrics.csv
        $rows.Count | Should -Be 5
        ($rows.Node | Sort-Object) -join ',' | Should -Be 'pi1,pi2,pi3,pi4,pi5'
        $rows | ForEach-Object { [double]$_.CpuPercent | Should -BeGreaterOrEqual 0 }
        Save-Seen (Get-ClusterMetric -Once -NodeName pi1)
    }
    It 'Invoke-Benchmark ... | Export-Csv against the loopback lab with the consuming stand-in' {
        # Node metrics over SSH from the lab (the default topology), Kafka and the engine given on the command line.
        Invoke-Benchmark -System Arroyo -Query q0 -Repetitions 1 -EventsPerSecond 400 -TotalEvents 100000 -Parallelism 2 -Partitions 2 `
            -WarmupSeconds 1 -FixedWarmup -CheckpointIntervalSeconds 1 -MeasureSeconds 10 -BootstrapServers $script:Kafka.BootstrapServers `
            -EngineUri $script:Lab.Arroyo.ApiUri -AuxiliaryUri $script:Lab.Arroyo.AdminUri -OutVariable bench | Export-Csv results.csv
        Save-Seen $bench
        $script:ResultsJson = (Get-ChildItem -Filter 'benchmark_results_*.json' | Select-Object -First 1).FullName
        $rows = @(Import-Csv results.csv)
        $rows.Count | Should -Be 1
        $r = $rows[0]
        $r.Status | Should -Be 'Completed'
        # Valid, or invalid with its reason (a loaded machine can make the generator fall behind): never a silent figure.
        if ($r.Valid -ne 'True') { $r.InvalidReason | Should -Not -BeNullOrEmpty }
        [long]$r.EventsIn | Should -BeGreaterThan 0
        [double]$r.InputRate | Should -BeGreaterThan 0
        [double]$r.OutputRate | Should -BeGreaterThan 0
        [double]$r.LatencyP50Ms | Should -BeGreaterOrEqual 100   # the stand-in holds each result 100 ms after the bid arrives
        [double]$r.CpuCoreSeconds | Should -BeGreaterThan 0      # node metrics over SSH from the lab
        (Get-ChildItem -Filter 'benchmark_results_*.txt').Count | Should -Be 1
        $script:ResultsJson | Should -Not -BeNullOrEmpty
    }
    It 'Invoke-Benchmark -Mode Sustainable ... | Format-Table' {
        $table = Invoke-Benchmark -System Arroyo -Mode Sustainable -Query q0 -Repetitions 1 -EventsPerSecond 200 -MaxSteps 1 -Parallelism 2 -Partitions 2 `
            -WarmupSeconds 1 -FixedWarmup -CheckpointIntervalSeconds 1 -MeasureSeconds 4 -BootstrapServers $script:Kafka.BootstrapServers `
            -EngineUri $script:Lab.Arroyo.ApiUri -AuxiliaryUri $script:Lab.Arroyo.AdminUri -NoMetrics -OutVariable search | Format-Table | Out-String
        Save-Seen $search
        $search.Count | Should -Be 1
        $search[0].StepRates | Should -Match '^200:(pass|fail)$'
        $table | Should -Match 'q0'
    }
    It 'Get-NexmarkQuery | Format-Table' {
        $table = Get-NexmarkQuery | Format-Table | Out-String
        foreach ($n in 0..22) { $table | Should -Match "(?m)^q$n\s" }
        $table | Should -Match 'Supported'
        Save-Seen (Get-NexmarkQuery q1 -System Flink)
    }
    It 'Get-ClusterMetric -Container -Once, Test-StreamCluster on the deployment lab' {
        $env:PIBENCH_TOPOLOGY = $script:Topologies.D
        $c = Get-ClusterMetric -Container -Once
        Save-Seen $c
        $c.Service | Should -Contain 'arroyo-controller'
        $checks = Test-StreamCluster
        $checks.Where({ -not $_.Passed }) | Should -BeNullOrEmpty
    }
}

Describe 'Get-Help <_> -Examples' -ForEach $cmdlets {
    It 'has a synopsis, a description and examples that parse and name real parameters' {
        $help = Get-Help $_ -Examples
        $help.Synopsis | Should -Not -BeNullOrEmpty
        $help.Synopsis | Should -Not -Match "^\s*$_ \[" -Because 'the generated syntax is not a synopsis'
        @($help.examples.example).Count | Should -BeGreaterThan 0
        $text = Get-Help $_ -Examples | Out-String
        $text | Should -Match 'Example 1'
        foreach ($e in $help.examples.example) {
            Test-ExampleCode (($e.code | Out-String).Trim()) | Should -BeNullOrEmpty
        }
    }
}

Describe 'Help example <Key>' -ForEach $examples {
    BeforeAll {
        # How each example runs on loopback. Topology: which lab the default topology and ./lab.yaml are; Setup: what a
        # user would have done before (variables the example uses); Replace: a shorter run of the same command;
        # StopAfter: seconds before Ctrl+C for an endless example; NotOnLoopback: why it cannot run here (it is still
        # parsed and its parameters checked). An example not listed runs as it is against E.
        $script:How = @{
            'Get-ClusterMetric 1'       = @{ Topology = 'S' }
            # Comparisons use valid repetitions only: the loopback run's cells are marked valid in the copies.
            'Compare-BenchmarkResult 1' = @{ Setup = { $j = Get-Content $script:ResultsJson -Raw | ConvertFrom-Json; $j.Results | ForEach-Object { $_.Valid = $true }
                                                       $j | ConvertTo-Json -Depth 32 | Set-Content ./arroyo.json; $j | ConvertTo-Json -Depth 32 | Set-Content ./flink.json } }
            'Compare-BenchmarkResult 2' = @{ Setup = { $j = Get-Content $script:ResultsJson -Raw | ConvertFrom-Json; $j.Results | ForEach-Object { $_.Valid = $true }
                                                       $j | ConvertTo-Json -Depth 32 | Set-Content ./arroyo.json; $j | ConvertTo-Json -Depth 32 | Set-Content ./flink.json } }
            'Export-BenchmarkReport 1'  = @{ Setup = { $null = New-Item -ItemType Directory ./arroyo, ./flink; Copy-Item $script:ResultsJson ./arroyo/; Copy-Item $script:ResultsJson ./flink/ }; Replace = @{ ' -MetricsPath metrics.jsonl' = '' } }
            'Export-BenchmarkReport 2'  = @{ NotOnLoopback = 'a full Flink benchmark run (10,000,000 events, 120-s windows) takes hours; ReportCommandTests builds reports from real short runs' }
            'Test-NexmarkQueryResult 1' = @{ Setup = { $null = Initialize-NexmarkTopic -BootstrapServers $script:Kafka.BootstrapServers -Topic q5-results -Partitions 3 }; Replace = @{ '127.0.0.1:9092' = '$($script:Kafka.BootstrapServers)' } }
            'Test-NexmarkQueryResult 2' = @{ Setup = { Set-Content ./q2-rows.jsonl '{"auction":123,"price":1,"latency_ts":1700000000000}' } }
            'Get-ClusterMetric 2'       = @{ Topology = 'S'; Replace = @{ '-IntervalSeconds 2 -Count 30' = '-IntervalSeconds 1 -Count 2' } }
            'Get-ClusterMetric 3'       = @{ Topology = 'S'; StopAfter = 3 }
            'Get-ClusterMetric 4'       = @{ Topology = 'D'; Replace = @{ '-Count 10' = '-Count 2' } }
            'Get-ClusterMetric 5'       = @{ Topology = 'D'; StopAfter = 3 }
            'Get-NexmarkGenerator 2'    = @{ Setup = { $null = Initialize-NexmarkTopic -BootstrapServers $script:Kafka.BootstrapServers -Topic nexmark -Partitions 3; $run = Start-NexmarkGenerator -BootstrapServers $script:Kafka.BootstrapServers -EventsPerSecond 0 -TotalEvents 1000 -Wait } }
            'Get-NexmarkQueryRun 1'     = @{ Setup = { $runs = Invoke-NexmarkQuery q1, q5 Arroyo -PollIntervalMilliseconds 20 } }
            'Get-NexmarkQueryRun 2'     = @{ Setup = { $run = Invoke-NexmarkQuery q5 Arroyo -PollIntervalMilliseconds 20 | Wait-NexmarkQueryRun -PollIntervalMilliseconds 20 } }
            'Get-NexmarkQueryRun 3'     = @{ Setup = { $jobId = (Invoke-NexmarkQuery q1 Flink -PollIntervalMilliseconds 20).JobId } }
            'Get-PiNode 1'              = @{ Topology = 'S' }
            'Get-PiNode 2'              = @{ Topology = 'S' }
            'Get-PiNode 3'              = @{ Topology = 'S' }
            'Get-PiTopology 1'          = @{ Topology = 'S' }
            'Get-PiTopology 2'          = @{ Topology = 'S' }
            'Get-StreamCluster 1'       = @{ Topology = 'D' }
            'Get-StreamCluster 2'       = @{ Topology = 'D' }
            'Get-StreamClusterLog 1'    = @{ Topology = 'D' }
            'Get-StreamClusterLog 2'    = @{ Topology = 'D'; StopAfter = 3; Setup = { $null = Install-StreamCluster -System Flink } }
            'Get-StreamWorker 2'        = @{ NotOnLoopback = 'names a Pi address (192.168.2.70)' }
            'Get-StreamWorker 3'        = @{ NotOnLoopback = 'names a Pi address (192.168.2.70)' }
            'Initialize-NexmarkTopic 3' = @{ NotOnLoopback = 'names a broker on the Pi network (192.168.1.101)' }
            'Initialize-NexmarkTopic 5' = @{ Setup = { $kafka = $script:Kafka } }
            'Install-PiDocker 1'        = @{ Topology = 'D' }
            'Install-PiDocker 2'        = @{ Topology = 'D' }
            # The password prompt is answered with the lab user's password.
            'Install-PiSshKey 1'        = @{ Topology = 'S'; Setup = { function Get-Credential { [pscredential]::new($script:Lab.Ssh.User, (ConvertTo-SecureString $script:Lab.Ssh.Password -AsPlainText -Force)) } } }
            'Install-PiSshKey 2'        = @{ Topology = 'S'; Setup = { $cred = [pscredential]::new($script:Lab.Ssh.User, (ConvertTo-SecureString $script:Lab.Ssh.Password -AsPlainText -Force)) } }
            'Install-StreamCluster 1'   = @{ Topology = 'D' }
            'Install-StreamCluster 2'   = @{ Topology = 'D' }
            'Invoke-Benchmark 1'        = @{ NotOnLoopback = 'the full default benchmark (7 queries x repetitions, 10,000,000 events, 120-s windows) takes hours; the README pipeline test runs Invoke-Benchmark | Export-Csv with short settings' }
            'Invoke-Benchmark 2'        = @{ Topology = 'D' }
            # -Resume refuses a file of another run: the example is run with the settings of the README pipeline's run.
            'Invoke-Benchmark 3'        = @{ Topology = 'R'; Setup = { Copy-Item $script:ResultsJson ./benchmark_results_20261130_220000.json }
                                             Replace = @{ '-System Arroyo -Resume' = '-System Arroyo -Query q0 -Repetitions 1 -EventsPerSecond 400 -TotalEvents 100000 -Parallelism 2 -Partitions 2 -WarmupSeconds 1 -FixedWarmup -CheckpointIntervalSeconds 1 -MeasureSeconds 10 -BootstrapServers $($script:Kafka.BootstrapServers) -EngineUri $($script:Lab.Arroyo.ApiUri) -AuxiliaryUri $($script:Lab.Arroyo.AdminUri) -Resume' } }
            'Invoke-Benchmark 4'        = @{ NotOnLoopback = 'a sustainable search at 20,000..320,000 events/s with default 120-s windows takes hours; Benchmark.Tests.ps1 runs a short search' }
            'Invoke-NexmarkQuery 2'     = @{ NotOnLoopback = 'names a Pi address (192.168.2.70)' }
            'Invoke-NexmarkQuery 3'     = @{ NotOnLoopback = 'names a Pi address (192.168.2.70)' }
            'Invoke-PiCommand 1'        = @{ Topology = 'S' }
            'Invoke-PiCommand 2'        = @{ NotOnLoopback = 'upgrades the packages of every node, and every lab node is this machine' }
            'Invoke-PiCommand 3'        = @{ Topology = 'S'; Setup = { Get-PiNode | Export-Csv nodes.csv } }
            'Measure-NexmarkGenerator 3' = @{ Replace = @{ '-Count 1000000' = '-Count 100000' } }
            'New-PiTopology 1'          = @{ Setup = { Remove-Item ./lab.yaml } }
            'Start-NexmarkGenerator 1'  = @{ Setup = { $null = Initialize-NexmarkTopic -Topology ./lab.yaml } }
            'Start-NexmarkGenerator 2'  = @{ NotOnLoopback = 'names a broker on the Pi network (192.168.1.101)' }
            'Start-NexmarkGenerator 3'  = @{ Setup = { $run = Start-NexmarkGenerator -BootstrapServers $script:Kafka.BootstrapServers -EventsPerSecond 2000 -TotalEvents 2000 } }
            'Start-NexmarkGenerator 4'  = @{ Setup = { $kafka = $script:Kafka; $null = $kafka | Initialize-NexmarkTopic -Topic nexmark -Partitions 3 -Force -Confirm:$false } }
            'Stop-EmbeddedKafka 1'      = @{ Setup = { $kafka = Start-EmbeddedKafka } }
            # Stops every embedded cluster of the session: run in a session of its own.
            'Stop-EmbeddedKafka 2'      = @{ OwnProcess = $true; Setup = { $null = Start-EmbeddedKafka; $null = Start-EmbeddedKafka } }
            'Stop-NexmarkGenerator 1'   = @{ Setup = { $run = Start-NexmarkGenerator -BootstrapServers $script:Kafka.BootstrapServers -EventsPerSecond 1000 -TotalEvents 1000000 } }
            'Stop-NexmarkGenerator 2'   = @{ Setup = { $null = Start-NexmarkGenerator -BootstrapServers $script:Kafka.BootstrapServers -EventsPerSecond 1000 -TotalEvents 1000000 } }
            'Stop-NexmarkQuery 1'       = @{ Setup = { $runs = Invoke-NexmarkQuery q1, q5 Arroyo -PollIntervalMilliseconds 20 } }
            'Stop-NexmarkQuery 2'       = @{ Setup = { $run = Invoke-NexmarkQuery q5 Arroyo -PollIntervalMilliseconds 20 } }
            'Test-PiNode 1'             = @{ Topology = 'S' }
            'Test-PiNode 2'             = @{ Topology = 'S' }
            'Test-StreamCluster 1'      = @{ Topology = 'D' }
            'Test-StreamCluster 2'      = @{ Topology = 'D' }
            'Test-StreamCluster 3'      = @{ NotOnLoopback = 'submits a query to the engine on the cluster; the deployment lab''s stand-in images answer readiness checks only' }
            'Uninstall-StreamCluster 1' = @{ Topology = 'D'; Confirm = 'Yes' }
            'Uninstall-StreamCluster 2' = @{ Topology = 'D' }
            'Wait-NexmarkGenerator 1'   = @{ Setup = { $run = Start-NexmarkGenerator -BootstrapServers $script:Kafka.BootstrapServers -EventsPerSecond 2000 -TotalEvents 2000 } }
            # Waits for every run of the session (earlier test files' failed runs too): run in a session of its own.
            'Wait-NexmarkGenerator 2'   = @{ OwnProcess = $true; Setup = { $k = Start-EmbeddedKafka; $null = $k | Initialize-NexmarkTopic -Topic nexmark -Partitions 3; $null = Start-NexmarkGenerator -BootstrapServers $k.BootstrapServers -EventsPerSecond 2000 -TotalEvents 2000 } }
            'Wait-NexmarkQueryRun 1'    = @{ NotOnLoopback = 'names a Pi address (192.168.2.70)' }
        }
        if (-not $script:Kafka.BootstrapServers) { throw 'the loopback world is not up' }
    }

    It 'runs on loopback, or says why it cannot' {
        $how = $script:How[$Key]
        if (-not $how) { $how = @{} }
        if (-not $how.NotOnLoopback -and $Code -match '\b(?!127\.)\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\b') {
            $how = @{ NotOnLoopback = "names an address outside 127.0.0.0/8: $($Matches[0])" }
        }
        if ($how.NotOnLoopback) {
            # Never sent anywhere: parsed, parameters checked, the reason recorded in the test name's output.
            Test-ExampleCode $Code | Should -BeNullOrEmpty
            Write-Host "    not on loopback: $($how.NotOnLoopback)"
            return
        }
        $topology = $script:Topologies[$(if ($how.Topology) { $how.Topology } else { 'E' })]
        $dir = Join-Path $script:Dir ($Key -replace '\W', '-')
        New-Item -ItemType Directory $dir -Force | Out-Null
        Set-Location $dir
        Copy-Item $topology ./lab.yaml
        $env:PIBENCH_TOPOLOGY = $topology
        $code = $Code
        if ($how.Replace) { foreach ($k in $how.Replace.Keys) { $code.Contains($k) | Should -BeTrue; $code = $code.Replace($k, $how.Replace[$k]) } }
        $kafkaBefore = @(Get-EmbeddedKafka)
        $generatorsBefore = @(Get-NexmarkGenerator)
        try {
            if ($how.OwnProcess) {
                $script = "`$ErrorActionPreference = 'Continue'; Import-Module '$(Join-Path $repo 'out' 'PiBench' 'PiBench.psd1')'`n" + $how.Setup.ToString() + "`n" + $code
                # This pwsh again (a .NET tool runs as `dotnet pwsh.dll`).
                $exe = [Diagnostics.Process]::GetCurrentProcess().MainModule.FileName
                $first = @(if ((Split-Path $exe -Leaf) -like 'dotnet*') { Join-Path $PSHOME 'pwsh.dll' })
                $output = & $exe @first -NoProfile -NonInteractive -Command $script 2>&1
                $LASTEXITCODE | Should -Be 0 -Because ($output | Out-String)
                @($output | Where-Object { $_ -is [System.Management.Automation.ErrorRecord] }) | Should -BeNullOrEmpty
                return
            }
            if ($how.Setup) { . $how.Setup }
            if ($how.StopAfter) {
                # An endless example: run it as a user would and press Ctrl+C after a few seconds.
                $ps = [powershell]::Create()
                # One script, not a batch of statements: a stopped batch's next statement runs on a thread-pool item that
                # reads the (by then closed) runspace and crashes pwsh (InvalidRunspaceStateException, seen at merge).
                $null = $ps.AddScript("Set-Location '$dir'; Import-Module '$(Join-Path $repo 'out' 'PiBench' 'PiBench.psd1')'`n" + $code)
                $out = [System.Management.Automation.PSDataCollection[psobject]]::new()
                $async = $ps.BeginInvoke([System.Management.Automation.PSDataCollection[psobject]]::new(), $out)
                Start-Sleep -Seconds $how.StopAfter
                $async.IsCompleted | Should -BeFalse -Because 'an endless example keeps running until stopped'
                $ps.Stop()
                $ps.InvocationStateInfo.State | Should -Be 'Stopped'
                # The host records the stop itself as an error (PipelineStopped); anything else is the example's.
                @($ps.Streams.Error | Where-Object { $_.CategoryInfo.Reason -ne 'PipelineStoppedException' -and $_.FullyQualifiedErrorId -ne 'PipelineStopped' }) | Should -BeNullOrEmpty
                Save-Seen @($out)
                $ps.Dispose()
                return
            }
            $ConfirmPreference = if ($how.Confirm -eq 'Yes') { 'None' } else { 'High' }   # a user answering Yes at the prompt
            $output = . ([scriptblock]::Create($code)) 2>&1 3>$null
            $errors = @($output | Where-Object { $_ -is [System.Management.Automation.ErrorRecord] })
            $errors | ForEach-Object { "$($_.FullyQualifiedErrorId): $_" } | Should -BeNullOrEmpty
            Save-Seen @($output | Where-Object { $_ -isnot [System.Management.Automation.ErrorRecord] })
        }
        finally {
            Get-NexmarkGenerator | Where-Object { $_ -notin $generatorsBefore -and -not $_.IsFinished } | Stop-NexmarkGenerator -ErrorAction SilentlyContinue | Out-Null
            Get-EmbeddedKafka | Where-Object { $_ -notin $kafkaBefore } | Stop-EmbeddedKafka
            Set-Location $script:Dir
        }
    }
}

Describe 'Format view <View>' -ForEach $views {
    It 'renders a live <TypeName> with the view''s columns' {
        $script:Seen.ContainsKey($TypeName) | Should -BeTrue -Because "a README pipeline or help example outputs $TypeName"
        $view = ([xml](Get-Content (Join-Path $repo 'out' 'PiBench' 'format' $File) -Raw)).Configuration.ViewDefinitions.View | Where-Object Name -eq $View
        $headers = @($view.TableControl.TableHeaders.TableColumnHeader | ForEach-Object { $_.Label })
        $items = @($view.TableControl.TableRowEntries.TableRowEntry.TableColumnItems.TableColumnItem)
        for ($i = 0; $i -lt $items.Count; $i++) { if (-not $headers[$i]) { $headers[$i] = $items[$i].PropertyName } }
        $text = $script:Seen[$TypeName] | Format-Table | Out-String -Width 400
        $text | Should -Not -Match 'format-default|FormatException|ScriptCallDepth'
        foreach ($h in $headers) { $text | Should -Match ([regex]::Escape($h.Substring(0, [Math]::Min(4, $h.Length)))) }
        # Every script-block column evaluates on the live object without an error.
        foreach ($sb in @($items | Where-Object { $_.ScriptBlock })) {
            $live = $script:Seen[$TypeName]
            { $null = $live | ForEach-Object ([scriptblock]::Create($sb.ScriptBlock)) } | Should -Not -Throw
        }
    }
}
