#Requires -Modules Pester
# User-level behaviour of the cluster deployment cmdlets (issue 7), for people with pwsh + Pester 5.
# The lab parts start the xunit DeploymentTests' lab through tests/pester/TestLab.ps1: sshd per node whose `docker`
# reaches a private dockerd, stand-in images tagged with the pinned names on the controller (needs root, docker.io,
# openssh-server, busybox-static).

BeforeAll {
    $module = Join-Path $PSScriptRoot '../../out/PiBench/PiBench.psd1'
    Import-Module $module -Force
    . (Join-Path $PSScriptRoot 'TestLab.ps1')
    $env:PIBENCH_READY_TIMEOUT = '30'
}

Describe 'Cluster deployment cmdlets (offline)' {
    It 'exports the six cmdlets' {
        $names = (Get-Module PiBench).ExportedCmdlets.Keys
        foreach ($n in 'Install-PiDocker', 'Install-StreamCluster', 'Get-StreamCluster', 'Test-StreamCluster', 'Get-StreamClusterLog', 'Uninstall-StreamCluster') {
            $names | Should -Contain $n
        }
    }
    It 'Uninstall-StreamCluster is ConfirmImpact High' {
        $meta = [System.Management.Automation.CommandMetadata]::new((Get-Command Uninstall-StreamCluster))
        $meta.ConfirmImpact | Should -Be 'High'
    }
    It 'rejects an unknown service with a stable error id' {
        { Get-StreamClusterLog -Service nope -Topology (Join-Path $PSScriptRoot '../../config/cluster-topology.yaml') -ErrorAction Stop } |
            Should -Throw -ErrorId 'UnknownService,PiBench.Commands.GetStreamClusterLogCommand'
    }
    It 'completes service names' {
        $s = 'Get-StreamClusterLog -Service arr'
        $r = TabExpansion2 -inputScript $s -cursorColumn $s.Length
        $r.CompletionMatches.CompletionText | Should -Contain 'arroyo-node'
    }
}

Describe 'Cluster deployment on the loopback lab' {
    BeforeAll {
        $lab = Start-TestLab -Deploy
        $script:Topo = $lab.Deploy.TopologyPath
    }
    AfterAll { Stop-TestLab $lab }

    It '-WhatIf changes nothing' {
        Install-StreamCluster -System Arroyo -Topology $script:Topo -WhatIf | Should -BeNullOrEmpty
        Get-StreamCluster -Topology $script:Topo | Should -BeNullOrEmpty
    }
    It 'installs Arroyo and a second run changes nothing' {
        $first = Install-StreamCluster -System Arroyo -Topology $script:Topo
        $first.Ready | Should -BeTrue
        $first.Changed | Should -BeGreaterThan 0
        $second = Install-StreamCluster -System Arroyo -Topology $script:Topo
        $second.Changed | Should -Be 0
    }
    It 'passes every readiness check, workers registered with the node scheduler' {
        $checks = Test-StreamCluster -Topology $script:Topo
        $checks.Where({ -not $_.Passed }) | Should -BeNullOrEmpty
        $checks.Check | Should -Contain 'ArroyoRegisteredNodes'
    }
    It 'reports the placement check as skipped, not failed, without a job' {
        $c = (Test-StreamCluster -Topology $script:Topo).Where({ $_.Check -eq 'SubtaskPlacement' })
        $c.Count | Should -Be 1
        $c[0].Skipped | Should -BeTrue
        $c[0].Passed | Should -BeTrue
    }
    It 'lists one object per service and node with host networking' {
        $svc = Get-StreamCluster -Topology $script:Topo
        $svc.Where({ $_.Service -eq 'arroyo-node' }).Count | Should -BeGreaterThan 0
        $svc.NetworkMode | Sort-Object -Unique | Should -Be 'host'
    }
    It 'returns logs' {
        Get-StreamClusterLog -Service arroyo-node -Tail 5 -Topology $script:Topo | Should -Not -BeNullOrEmpty
    }
    It 'switches to Flink, stopping Arroyo first' {
        (Install-StreamCluster -System Flink -Topology $script:Topo).Ready | Should -BeTrue
        (Get-StreamCluster -Topology $script:Topo).Where({ $_.System -eq 'arroyo' }) | Should -BeNullOrEmpty
        (Test-StreamCluster -Topology $script:Topo).Where({ $_.Check -eq 'FlinkTaskManagers' }).Passed | Should -BeTrue
    }
    It 'keeps data on uninstall unless -RemoveData' {
        $removed = Uninstall-StreamCluster -Topology $script:Topo -Confirm:$false
        $removed.Kind | Should -Not -Contain 'RemoveVolume'
        Get-StreamCluster -Topology $script:Topo | Should -BeNullOrEmpty
        $wiped = Uninstall-StreamCluster -Topology $script:Topo -RemoveData -Confirm:$false
        $wiped.Kind | Should -Contain 'RemoveVolume'
    }
    It 'reports Docker on every node' {
        $d = Install-PiDocker -Topology $script:Topo
        $d.Where({ -not $_.Installed }) | Should -BeNullOrEmpty
    }
}

Describe 'Test-StreamCluster SubtaskPlacement (offline)' {
    It 'needs -System and, for Arroyo, -PipelineId with -JobId' {
        { Test-StreamCluster -JobId 0123 -ErrorAction Stop } | Should -Throw -ErrorId 'SystemRequired,*'
        { Test-StreamCluster -System Arroyo -JobId job_1 -ErrorAction Stop } | Should -Throw -ErrorId 'PipelineIdMissing,*'
    }
}
