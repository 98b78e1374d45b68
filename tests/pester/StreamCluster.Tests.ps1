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
    # Three simulated Pis; each test starts from a clean cluster (images only on the controller), as the xunit
    # DeploymentTests do with the same lab.
    BeforeAll {
        $lab = Start-TestLab -Deploy
        $script:Topo = $lab.Deploy.TopologyPath
        $nodes = $lab.Deploy.Nodes.Count
    }
    AfterAll { Stop-TestLab $lab }
    BeforeEach { Reset-DeployLab $lab }

    It '-WhatIf changes nothing' {
        Install-StreamCluster -System Arroyo -Topology $script:Topo -WhatIf | Should -BeNullOrEmpty
        for ($i = 0; $i -lt $nodes; $i++) {
            Invoke-LabDocker $lab $i ps -aq | Should -BeNullOrEmpty
            Invoke-LabDocker $lab $i volume ls -q | Should -BeNullOrEmpty
        }
        Invoke-LabDocker $lab 1 images -q | Should -BeNullOrEmpty
        Get-StreamCluster -Topology $script:Topo | Should -BeNullOrEmpty

        $null = Install-StreamCluster -System Arroyo -Topology $script:Topo
        Uninstall-StreamCluster -RemoveData -Topology $script:Topo -WhatIf | Should -BeNullOrEmpty
        @(Get-StreamCluster -Topology $script:Topo).Count | Should -Be ($nodes + 2)
        Install-StreamCluster -System Flink -Topology $script:Topo -WhatIf | Should -BeNullOrEmpty
        Invoke-LabDocker $lab 0 inspect --format '{{.State.Status}}' pibench-arroyo-controller | Should -Be 'running'
    }
    It 'installs Arroyo, passes every readiness check, and a second run changes nothing' {
        $first = Install-StreamCluster -System Arroyo -Topology $script:Topo
        @($first).Count | Should -Be 1
        $first.PSObject.TypeNames[0] | Should -Be 'PiBench.Core.Deployment.StreamCluster'
        $first.Ready | Should -BeTrue
        $first.Services | Should -Be ($nodes + 2)   # kafka, minio, controller, one node per worker
        $first.Changed | Should -BeGreaterThan 0
        $first.EngineImage | Should -Match 'arroyo'
        $first.KafkaImage | Should -Match 'kafka'

        $checks = Test-StreamCluster -Topology $script:Topo
        $checks.Where({ -not $_.Passed }) | ForEach-Object { "$($_.Check): $($_.Detail)" } | Should -BeNullOrEmpty
        $checks.Where({ $_.Check -eq 'ArroyoRegisteredSlots' -and $_.Detail.StartsWith("$($nodes - 1) slot") }).Count | Should -Be 1
        $checks.Where({ $_.Check -eq 'KafkaMetadata' -and $_.Detail.Contains('1 broker(s)') }).Count | Should -Be 1
        # Without a job the placement check is skipped, not failed.
        $placement = $checks.Where({ $_.Check -eq 'SubtaskPlacement' })
        $placement.Count | Should -Be 1
        $placement[0].Skipped | Should -BeTrue
        $placement[0].Passed | Should -BeTrue

        $ids = 0..($nodes - 1) | ForEach-Object { Invoke-LabDocker $lab $_ ps -aq --no-trunc }
        $second = Install-StreamCluster -System Arroyo -Topology $script:Topo
        $second.Changed | Should -Be 0
        $second.Summary | Should -Be 'no changes'
        (0..($nodes - 1) | ForEach-Object { Invoke-LabDocker $lab $_ ps -aq --no-trunc }) | Should -Be $ids   # the same containers

        $svc = Get-StreamCluster -Topology $script:Topo
        $svc.Where({ $_.Service -eq 'arroyo-node' }).Count | Should -Be ($nodes - 1)
        $svc.NetworkMode | Sort-Object -Unique | Should -Be 'host'
    }
    It 'returns logs, names missing and unknown services, and -Follow stops cleanly on Ctrl+C' {
        $null = Install-StreamCluster -System Arroyo -Topology $script:Topo
        $logs = Get-StreamClusterLog -Service arroyo-node -Tail 20 -Topology $script:Topo
        $logs.Where({ $_.Node -eq 'pi2' -and $_.Line -match 'registered' }).Count | Should -BeGreaterThan 0
        $logs.Where({ $_.Node -eq 'pi3' -and $_.Line -match 'registered' }).Count | Should -BeGreaterThan 0
        (Get-StreamClusterLog -Service arroyo-controller -Node pi1 -Topology $script:Topo).Where({ $_.Line -match 'scheduler=node' }).Count | Should -BeGreaterThan 0
        Get-StreamClusterLog -Service flink-jobmanager -Topology $script:Topo -ErrorVariable err -ErrorAction SilentlyContinue | Out-Null
        $err[0].FullyQualifiedErrorId | Should -Be 'ServiceNotFound,PiBench.Commands.GetStreamClusterLogCommand'
        { Get-StreamClusterLog -Service nope -Topology $script:Topo -ErrorAction Stop } | Should -Throw -ErrorId 'UnknownService,PiBench.Commands.GetStreamClusterLogCommand'

        $ps = [powershell]::Create()
        try {
            $null = $ps.AddScript("Import-Module '$module'; Get-StreamClusterLog -Service arroyo-node -Node pi2 -Follow -Topology '$($script:Topo)'")
            $output = [System.Management.Automation.PSDataCollection[psobject]]::new()
            $async = $ps.BeginInvoke([System.Management.Automation.PSDataCollection[psobject]]::new(), $output)
            $deadline = [datetime]::UtcNow.AddSeconds(30)
            while ($output.Count -eq 0 -and -not $async.IsCompleted -and [datetime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 100 }
            $output.Count | Should -BeGreaterThan 0
            $ps.Stop()
            $async.AsyncWaitHandle.WaitOne([timespan]::FromSeconds(10)) | Should -BeTrue
            $ps.InvocationStateInfo.State | Should -Be 'Stopped'
        }
        finally { $ps.Dispose() }
    }
    It 'switches to Flink, stopping Arroyo first' {
        $null = Install-StreamCluster -System Arroyo -Topology $script:Topo
        (Install-StreamCluster -System Flink -Topology $script:Topo).Ready | Should -BeTrue
        $svc = Get-StreamCluster -Topology $script:Topo
        $svc.Where({ $_.System -eq 'arroyo' }) | Should -BeNullOrEmpty
        $svc.Where({ $_.Service -eq 'flink-taskmanager' }).Count | Should -Be ($nodes - 1)
        $props = Invoke-LabDocker $lab 2 inspect --format '{{range .Config.Env}}{{println .}}{{end}}' pibench-flink-taskmanager
        $props | Should -Match ([regex]::Escape("jobmanager.rpc.address: $($lab.Deploy.Nodes[0].Address)"))
        $props | Should -Match ([regex]::Escape("taskmanager.host: $($lab.Deploy.Nodes[2].Address)"))
        $props | Should -Match ([regex]::Escape('taskmanager.memory.process.size: 1024m'))
        $checks = Test-StreamCluster -Topology $script:Topo
        $checks.Where({ $_.Check -eq 'FlinkTaskManagers' }).Passed | Should -BeTrue
        $checks.Where({ -not $_.Passed }) | ForEach-Object { "$($_.Check): $($_.Detail)" } | Should -BeNullOrEmpty
    }
    It 'keeps data on uninstall unless -RemoveData' {
        $null = Install-StreamCluster -System Arroyo -Topology $script:Topo
        $kafkaImage = (Get-StreamCluster -Topology $script:Topo).Where({ $_.Service -eq 'kafka' })[0].Image
        $testTopic = { $null = Invoke-LabDocker $lab 0 run --rm --network none --entrypoint /bin/sh --volume pibench-kafka-data:/d $kafkaImage -c 'test -f /d/topics/nexmark-events' }
        & $testTopic
        $removed = Uninstall-StreamCluster -Topology $script:Topo -Confirm:$false
        $removed.Where({ $_.Kind -eq 'RemoveContainer' }).Count | Should -Be ($nodes + 2)
        $removed.Kind | Should -Not -Contain 'RemoveVolume'
        Get-StreamCluster -Topology $script:Topo | Should -BeNullOrEmpty
        Invoke-LabDocker $lab 0 volume ls -q | Should -Match 'pibench-kafka-data'
        Invoke-LabDocker $lab 1 images -q | Should -Not -BeNullOrEmpty   # images kept
        # The topics' data survived in the kept volume; a re-install brings the same cluster back.
        & $testTopic
        (Install-StreamCluster -System Arroyo -Topology $script:Topo).Ready | Should -BeTrue
        $wiped = Uninstall-StreamCluster -Topology $script:Topo -RemoveData -Confirm:$false
        $wiped.Where({ $_.Kind -eq 'RemoveVolume' -and $_.Target -eq 'pibench-kafka-data' }).Count | Should -Be 1
        Invoke-LabDocker $lab 0 volume ls -q --filter label=pibench.managed=true | Should -BeNullOrEmpty
    }
    It 'reports Docker on every node' {
        $d = Install-PiDocker -Topology $script:Topo
        $d.Count | Should -Be $nodes
        $d | ForEach-Object { $_.Installed | Should -BeTrue; $_.Action | Should -Be 'None'; $_.Version | Should -BeLike '20.*' }
    }
}

Describe 'Test-StreamCluster SubtaskPlacement (offline)' {
    It 'needs -System and, for Arroyo, -PipelineId with -JobId' {
        { Test-StreamCluster -JobId 0123 -ErrorAction Stop } | Should -Throw -ErrorId 'SystemRequired,*'
        { Test-StreamCluster -System Arroyo -JobId job_1 -ErrorAction Stop } | Should -Throw -ErrorId 'PipelineIdMissing,*'
    }
}
