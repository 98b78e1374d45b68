#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0' }
# -Topology on the Kafka/generator and engine cmdlets: values not given as parameters come from a topology file.
# Every topology here has its controller on 127.0.0.1 and its ports on the embedded Kafka broker and the in-process
# engine stand-ins (tests/StandIns/*.cs, compiled with Add-Type); the default topology is never used.
# Run after `dotnet build PiBench.sln`:
#   Invoke-Pester tests/pester/TopologyWiring.Tests.ps1

BeforeAll {
    $repo = Resolve-Path (Join-Path $PSScriptRoot '..' '..')
    Import-Module (Join-Path $repo 'out' 'PiBench' 'PiBench.psd1') -Force
    . (Join-Path $PSScriptRoot 'TestLab.ps1')
    Import-StandIns
    # A 1 + 3 node topology on loopback.
    function New-LabTopology([string] $Path, $KafkaPort, [int] $ArroyoApi = 1, [int] $ArroyoAdmin = 1, [int] $FlinkRest = 1, [int] $FlinkGateway = 1,
        [string] $Topic = 'wired-events', [string] $Partitions, [string] $Extra = '') {
        @"
name: wiring-lab
nodes:
  - { name: c1, address: 127.0.0.1, role: controller }
  - { name: w1, address: 127.0.0.11, role: worker }
  - { name: w2, address: 127.0.0.12, role: worker }
  - { name: w3, address: 127.0.0.13, role: worker }
kafka:
  port: $KafkaPort
  replication_factor: 1
  input_topic: $Topic
$(if ($Partitions) { "  partitions: $Partitions" })
arroyo:
  api_port: $ArroyoApi
  admin_port: $ArroyoAdmin
flink:
  rest_port: $FlinkRest
  sql_gateway_port: $FlinkGateway
$Extra
"@ | Set-Content -Path $Path
        $Path
    }
    # A loopback port nothing listens on (bound, then released).
    function Get-ClosedPort {
        $l = [Net.Sockets.TcpListener]::new([Net.IPAddress]::Loopback, 0)
        $l.Start(); $port = $l.LocalEndpoint.Port; $l.Stop()
        $port
    }
}

Describe 'Kafka cmdlets with -Topology' {
    BeforeEach { $k = Start-EmbeddedKafka }
    AfterEach { $k | Stop-EmbeddedKafka }

    It 'takes broker, topic, partitions, rate and count from the topology' {
        $topology = New-LabTopology (Join-Path $TestDrive 'kafka.yaml') -KafkaPort ([int]$k.BootstrapServers.Split(':')[1]) `
            -Extra "benchmark:`n  events_per_second: 3000`n  total_events: 3000"
        $t = Initialize-NexmarkTopic -Topology $topology
        $t.PSObject.TypeNames[0] | Should -Be 'PiBench.Core.Kafka.NexmarkTopic'
        $t.Action | Should -Be 'Created'
        $t.Topic | Should -Be 'wired-events'                 # kafka.input_topic
        $t.Partitions | Should -Be 3                         # one per worker
        $t.BootstrapServers | Should -Be $k.BootstrapServers # controller address : kafka.port
        $t.Embedded | Should -BeTrue
        (Initialize-NexmarkTopic -Topology $topology).Action | Should -Be 'Exists'
        $run = Start-NexmarkGenerator -Topology $topology -Wait
        $run.PSObject.TypeNames[0] | Should -Be 'PiBench.Core.Kafka.NexmarkGeneratorRun'
        $run.State | Should -BeIn 'Completed', 'FellBehind'   # pacing on a loaded 2-core machine is not what this tests
        $run.Topic | Should -Be 'wired-events'
        $run.BootstrapServers | Should -Be $k.BootstrapServers
        $run.Sent, $run.Acknowledged | Should -Be 3000, 3000     # benchmark.total_events
        $run.TargetRate | Should -Be 3000                         # benchmark.events_per_second
        $run.PartitionCounts | Should -Be '0:1000 1:1000 2:1000'  # the three partitions the topology made
    }
    It 'lets explicit parameters win, and works without a topology' {
        # The file's broker is a closed loopback port: only an explicit -BootstrapServers reaches the embedded broker.
        $topology = New-LabTopology (Join-Path $TestDrive 'elsewhere.yaml') -KafkaPort (Get-ClosedPort) -Topic from-file -Partitions 2
        $fromFile = Initialize-NexmarkTopic -Topology $topology -BootstrapServers $k.BootstrapServers
        $fromFile.Topic, $fromFile.Partitions, $fromFile.Action | Should -Be 'from-file', 2, 'Created'   # kafka.partitions wins over workers
        $explicit = Initialize-NexmarkTopic -Topology $topology -BootstrapServers $k.BootstrapServers -Topic explicit -Partitions 5
        $explicit.Topic, $explicit.Partitions | Should -Be 'explicit', 5
        $defaults = Initialize-NexmarkTopic -BootstrapServers $k.BootstrapServers   # no -Topology: the built-in defaults
        $defaults.Topic, $defaults.Partitions | Should -Be 'nexmark', 9
        $run = Start-NexmarkGenerator -Topology $topology -BootstrapServers $k.BootstrapServers -Topic explicit -EventsPerSecond 0 -TotalEvents 10 -Synthetic -Wait
        $run.State, $run.Topic, $run.Acknowledged | Should -Be 'Completed', 'explicit', 10
        $run.PartitionCounts | Should -Be '0:2 1:2 2:2 3:2 4:2'
        (Measure-NexmarkGenerator -Topology $topology -Count 1000 -Synthetic).Partitions | Should -Be 2
        (Measure-NexmarkGenerator -Topology $topology -Count 1000 -Synthetic -Partitions 4).Partitions | Should -Be 4
    }
}

Describe 'Engine cmdlets with -Topology' {
    It 'submits to Arroyo at parallelism = workers, waits, lists its nodes and stops by id' {
        $arroyo = [PiBench.StandIns.ArroyoStandIn]::new()
        try {
            $null = $arroyo.AddNodes(3)   # three registrations in the controller's slot gauges (0.11 exports no node gauge)
            $topology = New-LabTopology (Join-Path $TestDrive 'arroyo.yaml') -KafkaPort 19094 -ArroyoApi $arroyo.ApiUri.Port -ArroyoAdmin $arroyo.AdminUri.Port
            $run = Invoke-NexmarkQuery -Name q5 -System Arroyo -Topology $topology
            $run.Parallelism | Should -Be 3
            ($run | Wait-NexmarkQueryRun -TimeoutSeconds 20 -PollIntervalMilliseconds 20).State | Should -Be 'Running'
            $w = Get-StreamWorker -System Arroyo -Topology $topology
            $w.PSObject.TypeNames[0] | Should -Be 'PiBench.Core.Engines.StreamWorker'
            $w.Registrations | Should -Be 3   # from the controller's admin port named in the topology
            $w.Nodes | Should -Be 0           # the topology's workers (127.0.0.11-13) run no node daemon: none answers /status
            $stopped = Stop-NexmarkQuery -System Arroyo -JobId $run.JobId -PipelineId $run.PipelineId -Name q5 -Topology $topology -PassThru -PollIntervalMilliseconds 20
            $stopped.State | Should -Be 'Stopped'
            $arroyo.Pipelines.Count | Should -Be 1
            $p = $arroyo.Pipelines[0]
            $p.Parallelism | Should -Be 3                # parallelism = workers
            $p.Name | Should -Be 'nexmark-q5-p3'
            $p.Query | Should -Match ([regex]::Escape("bootstrap_servers = '127.0.0.1:19094'"))   # controller : kafka.port
            $p.Query | Should -Match ([regex]::Escape("topic = 'wired-events'"))                  # kafka.input_topic
            $p.Stop | Should -Be 'immediate'
            $p.Deleted | Should -BeTrue
        }
        finally { $arroyo.Dispose() }
    }
    It 'submits to Flink at parallelism = workers, and explicit parameters beat the topology' {
        $flink = [PiBench.StandIns.FlinkStandIn]::new()
        $other = [PiBench.StandIns.FlinkStandIn]::new()
        try {
            $flink.TaskManagers = 3
            $topology = New-LabTopology (Join-Path $TestDrive 'flink.yaml') -KafkaPort 19094 -FlinkRest $flink.RestUri.Port -FlinkGateway $flink.GatewayUri.Port
            $run = Invoke-NexmarkQuery q1 Flink -Topology $topology -PollIntervalMilliseconds 20
            $run.Parallelism | Should -Be 3
            (Get-StreamWorker Flink -Topology $topology).Count | Should -Be 3   # TaskManagers of the topology's JobManager
            $run | Stop-NexmarkQuery -PollIntervalMilliseconds 20
            $o = Invoke-NexmarkQuery q0 Flink -Topology $topology -EngineUri $other.RestUri -AuxiliaryUri $other.GatewayUri -Parallelism 2 -Topic explicit `
                -BootstrapServers 127.0.0.1:9 -PollIntervalMilliseconds 20
            $o.Parallelism | Should -Be 2
            $o | Stop-NexmarkQuery -PollIntervalMilliseconds 20

            $flink.Sessions.Count | Should -Be 1
            $flink.Sessions[0].Properties['parallelism.default'] | Should -Be '3'
            $statements = $flink.Sessions[0].Statements -join "`n"
            $statements | Should -Match ([regex]::Escape("'properties.bootstrap.servers' = '127.0.0.1:19094'"))
            $statements | Should -Match ([regex]::Escape("'topic' = 'wired-events'"))
            $flink.Jobs.Count | Should -Be 1
            # explicit -EngineUri/-AuxiliaryUri, -Parallelism, -Topic and -BootstrapServers beat the topology
            $other.Sessions.Count | Should -Be 1
            $other.Sessions[0].Properties['parallelism.default'] | Should -Be '2'
            $statements = $other.Sessions[0].Statements -join "`n"
            $statements | Should -Match ([regex]::Escape("'properties.bootstrap.servers' = '127.0.0.1:9'"))
            $statements | Should -Match ([regex]::Escape("'topic' = 'explicit'"))
        }
        finally { $flink.Dispose(); $other.Dispose() }
    }
    It 'stops before anything is contacted when the topology is missing or invalid' {
        $flink = [PiBench.StandIns.FlinkStandIn]::new()
        try {
            $missing = Join-Path $TestDrive 'absent.yaml'
            $out = $null; $record = $null
            try { $out = Invoke-NexmarkQuery q1 Flink -Topology $missing } catch { $record = $_ }
            $out | Should -BeNullOrEmpty
            $record.FullyQualifiedErrorId | Should -Be 'TopologyNotFound,PiBench.Commands.InvokeNexmarkQueryCommand'
            $record.CategoryInfo.Category | Should -Be 'ObjectNotFound'
            { Initialize-NexmarkTopic -Topology $missing -ErrorAction Stop } | Should -Throw -ErrorId 'TopologyNotFound,PiBench.Commands.InitializeNexmarkTopicCommand'

            $bad = New-LabTopology (Join-Path $TestDrive 'bad.yaml') -KafkaPort 19094 -FlinkRest $flink.RestUri.Port -FlinkGateway $flink.GatewayUri.Port -Extra 'kafak: {}'
            $record = $null
            try { $null = Get-StreamWorker Flink -Topology $bad -ErrorAction Stop } catch { $record = $_ }
            $record.FullyQualifiedErrorId | Should -BeLike 'Topology*'
            $record.Exception.Message | Should -Match 'kafak'
            $flink.RestRequests.Count | Should -Be 0
            $flink.GatewayRequests.Count | Should -Be 0
        }
        finally { $flink.Dispose() }
    }
}
