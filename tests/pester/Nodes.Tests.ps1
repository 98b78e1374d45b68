#requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0' }
# User-level behaviour of the topology and node cmdlets, for people with pwsh and Pester.
# The SSH part starts the xunit suite's SSH lab (sshd per simulated Pi on 127.0.0.70.., a throw-away user, pi3 with a
# fake vcgencmd reporting throttling) through tests/pester/TestLab.ps1: needs root and openssh-server.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../../out/PiBench/PiBench.psd1') -Force
    . (Join-Path $PSScriptRoot 'TestLab.ps1')
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
        # ForEach-Object, not (...).Address: on an array that name is Array.Address(int), not member enumeration.
        Get-PiNode -Topology $p -Role Worker | ForEach-Object Address | Should -Be @('127.0.0.71', '127.0.0.72', '127.0.0.73')
        Remove-Item $p
    }
    It 'exports flat node rows' {
        $csv = Get-PiNode -Topology (Join-Path $PSScriptRoot '../../config/cluster-topology.yaml') | ConvertTo-Csv
        $csv[0] | Should -Match '"Name","Address","Port","User","Role"'
        $csv.Count | Should -Be 11
    }
}

Describe 'Nodes over SSH' {
    BeforeAll {
        $lab = Start-TestLab -Ssh -ThrottledNode pi3
        $topo = $lab.Ssh.TopologyPath
    }
    AfterAll { Stop-TestLab $lab }

    It 'checks every node' {
        $h = Get-PiNode -Topology $topo | Test-PiNode
        $h.Count | Should -Be 3
        $h | ForEach-Object { $_.Reachable | Should -BeTrue }
        ($h | Where-Object Node -eq 'pi3').Throttled | Should -BeTrue
        ($h | Where-Object Node -eq 'pi2').Throttled | Should -Not -BeTrue
    }
    It 'runs a command on every node' {
        $r = Invoke-PiCommand -Topology $topo -Command 'echo hi'
        $r.Count | Should -Be 3
        $r.StdOut | ForEach-Object { $_ | Should -Be "hi`n" }
    }
}
