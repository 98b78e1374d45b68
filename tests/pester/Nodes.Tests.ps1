#requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0' }
# User-level behaviour of the topology and node cmdlets, for people with pwsh and Pester.
# The SSH part starts the xunit suite's SSH lab (sshd per simulated Pi on 127.0.0.70.., a throw-away user, pi3 with a
# fake vcgencmd reporting throttling) through tests/pester/TestLab.ps1: needs root and openssh-server.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../../out/PiBench/PiBench.psd1') -Force
    . (Join-Path $PSScriptRoot 'TestLab.ps1')
}

Describe 'Topology' {
    BeforeAll { $seed = Join-Path $PSScriptRoot '../../out/PiBench/config/cluster-topology.yaml' }

    It 'reads the seed cluster from the module' {
        $t = Get-PiTopology -Path $seed
        $t.WorkerCount | Should -Be 9
        $t.Parallelism | Should -Be 9
        $t.Partitions | Should -Be 9
        $t.ControllerAddress | Should -Be '192.168.2.70'
        $workers = Get-PiNode -Topology $seed -Role Worker
        $workers | ForEach-Object Address | Should -Be (71..79 | ForEach-Object { "192.168.2.$_" })
        $workers | ForEach-Object { $_.User | Should -Be 'picocluster' }
        $workers | ForEach-Object Index | Should -Be (1..9)
    }
    It 'names file, line and key of an unknown key' {
        $f = Join-Path $TestDrive 'unknown.yaml'
        "nodes:`n  - { name: pi1, address: 10.0.0.1, role: controller }`n  - { name: pi2, address: 10.0.0.2, role: worker }`nkafka:`n  prt: 1`n" | Set-Content $f
        { Get-PiTopology -Path $f -ErrorAction Stop } | Should -Throw -ErrorId 'TopologyUnknownKey,PiBench.Commands.GetPiTopologyCommand'
        Get-PiTopology -Path $f -ErrorVariable err -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $err[0].CategoryInfo.Category | Should -Be 'InvalidData'
        $err[0].Exception.Message | Should -Match ':5:.*kafka\.prt'
        $err[0].Exception.Message | Should -Match ([regex]::Escape($f))
        $err[0].ErrorDetails.RecommendedAction | Should -Match 'port'
    }
    It 'writes a loopback lab that reads back, honouring -WhatIf and -Force' {
        $p = Join-Path $TestDrive 'lab.yaml'
        New-PiTopology -Path $p -Loopback -WorkerCount 4 -Port 2222 -User tester -WhatIf | Out-Null
        Test-Path $p | Should -BeFalse
        $t = New-PiTopology -Path $p -Loopback -WorkerCount 4 -Port 2222 -User tester
        $t.WorkerCount | Should -Be 4
        $t.ControllerAddress | Should -Be '127.0.0.70'
        $nodes = Get-PiNode -Topology $p
        $nodes.Count | Should -Be 5
        $nodes | ForEach-Object { $_.Port | Should -Be 2222; $_.User | Should -Be 'tester' }
        # ForEach-Object, not (...).Address: on an array that name is Array.Address(int), not member enumeration.
        Get-PiNode -Topology $p -Role Worker | ForEach-Object Address | Should -Be @('127.0.0.71', '127.0.0.72', '127.0.0.73', '127.0.0.74')
        { New-PiTopology -Path $p -Loopback -WorkerCount 2 -ErrorAction Stop } | Should -Throw -ErrorId 'TopologyFileExists,PiBench.Commands.NewPiTopologyCommand'
        (New-PiTopology -Path $p -Loopback -WorkerCount 2 -Force).WorkerCount | Should -Be 2
    }
    It 'exports flat node rows with one header' {
        $nodes = Get-PiNode -Topology $seed
        ($nodes | ForEach-Object { $_.PSObject.Properties.Name -join ',' } | Sort-Object -Unique).Count | Should -Be 1
        foreach ($p in $nodes[0].PSObject.Properties) {
            ($null -eq $p.Value -or $p.Value -is [string] -or $p.Value -is [int] -or $p.Value -is [long] -or $p.Value -is [bool] -or $p.Value -is [enum]) |
                Should -BeTrue -Because "$($p.Name) is $($p.Value.GetType())"
        }
        $csv = $nodes | ConvertTo-Csv
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

    It 'checks every node: Get-PiNode | Test-PiNode' {
        $h = Get-PiNode -Topology $topo | Test-PiNode
        $h.Count | Should -Be 3
        $h[0].PSObject.TypeNames[0] | Should -Be 'PiBench.Core.Remote.PiNodeHealth'
        $arch = if ([Runtime.InteropServices.RuntimeInformation]::OSArchitecture -eq 'X64') { 'x86_64' } else { 'aarch64' }
        foreach ($o in $h) {
            $o.Reachable | Should -BeTrue -Because $o.Node
            $o.Architecture | Should -Be $arch
            $o.MemoryMB | Should -BeGreaterThan 0
            $o.Cores | Should -BeGreaterOrEqual 1
            $o.DiskFreeGB | Should -BeGreaterThan 0
            $o.LatencyMs | Should -BeGreaterThan 0
            # Same machine: the clock offset is only measurement error, far below a second.
            $o.ClockOffsetMs | Should -BeGreaterThan -1000
            $o.ClockOffsetMs | Should -BeLessThan 1000
        }
        # pi3 has a vcgencmd that reports under-voltage now and since boot (0x50005); the others have none.
        $pi3 = $h | Where-Object Node -eq 'pi3'
        $pi3.Throttled | Should -BeTrue
        $pi3.ThrottledSinceBoot | Should -BeTrue
        $pi3.ThrottledFlags | Should -Be '0x50005'
        ($h | Where-Object Node -eq 'pi2').Throttled | Should -BeNullOrEmpty
    }
    It 'runs a command on every node: one result each, with exit code and streams' {
        $r = Invoke-PiCommand -Topology $topo -Command 'echo out-$(hostname -I >/dev/null 2>&1; echo x); echo err >&2; exit 3' -ErrorVariable err -ErrorAction SilentlyContinue
        $r.Count | Should -Be 3
        foreach ($o in $r) {
            $o.ExitCode | Should -Be 3
            $o.StdOut | Should -Be "out-x`n"
            $o.StdErr | Should -Be "err`n"
        }
        $err.Count | Should -Be 3
        $err | ForEach-Object { $_.FullyQualifiedErrorId | Should -Be 'RemoteCommandFailed,PiBench.Commands.InvokePiCommandCommand' }
        (Invoke-PiCommand -Topology $topo -Command 'echo hi').StdOut | ForEach-Object { $_ | Should -Be "hi`n" }
    }
}
