#requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0' }
# User-level behaviour of the topology and node cmdlets, for people with pwsh and Pester.
# The SSH part needs a reachable lab: set $env:PIBENCH_LAB_TOPOLOGY to a topology whose nodes answer
# (for example one written by New-PiTopology -Loopback on a machine with sshd on 127.0.0.x).
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../../out/PiBench/PiBench.psd1') -Force
}

Describe 'Topology' {
    It 'reads the seed cluster from the module' {
        $t = Get-PiTopology -Path (Join-Path $PSScriptRoot '../../config/cluster-topology.yaml')
        $t.WorkerCount | Should -Be 9
        $t.Parallelism | Should -Be 9
        $t.ControllerAddress | Should -Be '192.168.2.70'
    }
    It 'names file, line and key of an unknown key' {
        $f = New-TemporaryFile
        "nodes:`n  - { name: pi1, address: 10.0.0.1, role: controller }`n  - { name: pi2, address: 10.0.0.2, role: worker }`nkafka:`n  prt: 1`n" | Set-Content $f
        { Get-PiTopology -Path $f -ErrorAction Stop } | Should -Throw -ErrorId 'TopologyUnknownKey,PiBench.Commands.GetPiTopologyCommand'
        try { Get-PiTopology -Path $f -ErrorAction Stop } catch { $_.Exception.Message | Should -Match ':5:.*kafka\.prt' }
    }
    It 'writes a loopback lab that reads back' {
        $p = Join-Path ([IO.Path]::GetTempPath()) "lab-$([guid]::NewGuid()).yaml"
        $t = New-PiTopology -Path $p -Loopback -WorkerCount 3 -Port 2222
        (Get-PiNode -Topology $p).Count | Should -Be 4
        (Get-PiNode -Topology $p -Role Worker).Address | Should -Be @('127.0.0.71', '127.0.0.72', '127.0.0.73')
        Remove-Item $p
    }
    It 'exports flat node rows' {
        $csv = Get-PiNode -Topology (Join-Path $PSScriptRoot '../../config/cluster-topology.yaml') | ConvertTo-Csv
        $csv[0] | Should -Match '"Name","Address","Port","User","Role"'
        $csv.Count | Should -Be 11
    }
}

Describe 'Nodes over SSH' -Skip:(-not $env:PIBENCH_LAB_TOPOLOGY) {
    It 'checks every node' {
        $h = Get-PiNode -Topology $env:PIBENCH_LAB_TOPOLOGY | Test-PiNode
        $h | ForEach-Object { $_.Reachable | Should -BeTrue }
    }
    It 'runs a command on every node' {
        $r = Invoke-PiCommand -Topology $env:PIBENCH_LAB_TOPOLOGY -Command 'echo hi'
        $r.StdOut | ForEach-Object { $_ | Should -Be "hi`n" }
    }
}
