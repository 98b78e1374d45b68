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
    function New-LabTopology([string] $Path, [int] $KafkaPort, [int] $ArroyoApi = 1, [int] $ArroyoAdmin = 1, [int] $FlinkRest = 1, [int] $FlinkGateway = 1) {
        @"
name: wiring-lab
nodes:
  - { name: c1, address: 127.0.0.1, role: controller }
  - { name: w1, address: 127.0.0.11, role: worker }
  - { name: w2, address: 127.0.0.12, role: worker }
  - { name: w3, address: 127.0.0.13, role: worker }
kafka:
  port: $KafkaPort
  input_topic: wired-events
arroyo:
  api_port: $ArroyoApi
  admin_port: $ArroyoAdmin
flink:
  rest_port: $FlinkRest
  sql_gateway_port: $FlinkGateway
"@ | Set-Content -Path $Path
        $Path
    }
}

Describe 'Kafka cmdlets with -Topology' {
    BeforeEach {
        $k = Start-EmbeddedKafka
        $topology = New-LabTopology (Join-Path $TestDrive 'kafka.yaml') -KafkaPort ([int]$k.BootstrapServers.Split(':')[1])
    }
    AfterEach { $k | Stop-EmbeddedKafka }

    It 'creates the input topic with one partition per worker on the topology''s broker' {
        $t = Initialize-NexmarkTopic -Topology $topology
        $t.Topic | Should -Be 'wired-events'
        $t.Partitions | Should -Be 3
        $t.BootstrapServers | Should -Be $k.BootstrapServers
    }
    It 'produces to the topology''s broker and topic' {
        $null = Initialize-NexmarkTopic -Topology $topology
        $run = Start-NexmarkGenerator -Topology $topology -EventsPerSecond 0 -TotalEvents 3000 -Wait
        $run.Topic | Should -Be 'wired-events'
        $run.Acknowledged | Should -Be 3000
        $run.PartitionCounts | Should -Be '0:1000 1:1000 2:1000'
    }
    It 'lets explicit parameters win' {
        $t = Initialize-NexmarkTopic -Topology $topology -Topic explicit -Partitions 5
        $t.Topic | Should -Be 'explicit'
        $t.Partitions | Should -Be 5
    }
    It 'fails with TopologyNotFound for a missing file' {
        { Initialize-NexmarkTopic -Topology (Join-Path $TestDrive 'absent.yaml') -ErrorAction Stop } | Should -Throw -ErrorId 'TopologyNotFound,*'
    }
}

Describe 'Engine cmdlets with -Topology' {
    It 'submits to Arroyo at parallelism = workers and lists its nodes' {
        $arroyo = [PiBench.StandIns.ArroyoStandIn]::new()
        try {
            $topology = New-LabTopology (Join-Path $TestDrive 'arroyo.yaml') -KafkaPort 19094 -ArroyoApi $arroyo.ApiUri.Port -ArroyoAdmin $arroyo.AdminUri.Port
            $run = Invoke-NexmarkQuery q5 Arroyo -Topology $topology -PollIntervalMilliseconds 20
            $run.Parallelism | Should -Be 3
            $arroyo.Pipelines[0].Query | Should -Match "bootstrap_servers = '127.0.0.1:19094'"
            (Get-StreamWorker Arroyo -Topology $topology).Nodes | Should -Be 9
            $run | Stop-NexmarkQuery -PollIntervalMilliseconds 20
        }
        finally { $arroyo.Dispose() }
    }
    It 'submits to Flink at parallelism = workers' {
        $flink = [PiBench.StandIns.FlinkStandIn]::new()
        try {
            $topology = New-LabTopology (Join-Path $TestDrive 'flink.yaml') -KafkaPort 19094 -FlinkRest $flink.RestUri.Port -FlinkGateway $flink.GatewayUri.Port
            $run = Invoke-NexmarkQuery q1 Flink -Topology $topology -PollIntervalMilliseconds 20
            $flink.Sessions[0].Properties['parallelism.default'] | Should -Be '3'
            $run | Stop-NexmarkQuery -PollIntervalMilliseconds 20
        }
        finally { $flink.Dispose() }
    }
}
