#
# PiBench module manifest. The build stages this file into out/PiBench/ with {{ModuleVersion}} filled in
# from Directory.Build.props. Keep CmdletsToExport explicit: one block per capability, in the order of the
# architecture (topology and nodes, generator and Kafka, engines and queries, cluster deployment, benchmark).
#
@{
    RootModule           = 'PiBench.dll'
    ModuleVersion        = '{{ModuleVersion}}'
    CompatiblePSEditions = @('Core')
    PowerShellVersion    = '7.4'
    GUID                 = '5b0f9c1e-7d2a-4c83-9a51-3f6e2d1b8a47'
    Author               = 'PiBench contributors'
    CompanyName          = 'PiBench'
    Copyright            = '(c) PiBench contributors. Apache-2.0.'
    Description          = 'Turns a rack of Raspberry Pis into a reproducible stream-processing benchmark lab: SSH and Docker on every node, Kafka and MinIO, Apache Arroyo or Apache Flink, the Nexmark generator and queries, and measured, honest results.'

    FormatsToProcess     = @(
        'format/PiBench.Nodes.format.ps1xml'
        'format/PiBench.Nexmark.format.ps1xml'
        'format/PiBench.Engines.format.ps1xml'
        'format/PiBench.Cluster.format.ps1xml'
        'format/PiBench.Benchmark.format.ps1xml'
        'format/PiBench.Report.format.ps1xml'
    )

    CmdletsToExport      = @(
        # Topology and nodes
        'Get-PiTopology'
        'New-PiTopology'
        'Get-PiNode'
        'Invoke-PiCommand'
        'Test-PiNode'
        'Install-PiSshKey'

        # Nexmark generator and Kafka
        'Get-NexmarkEvent'
        'ConvertTo-NexmarkJson'
        'Start-EmbeddedKafka'
        'Get-EmbeddedKafka'
        'Stop-EmbeddedKafka'
        'Initialize-NexmarkTopic'
        'Start-NexmarkGenerator'
        'Get-NexmarkGenerator'
        'Wait-NexmarkGenerator'
        'Stop-NexmarkGenerator'
        'Measure-NexmarkGenerator'

        # Engines and queries
        'Get-NexmarkQuery'
        'Invoke-NexmarkQuery'
        'Test-NexmarkQuery'
        'Get-NexmarkQueryRun'
        'Wait-NexmarkQueryRun'
        'Stop-NexmarkQuery'
        'Get-StreamWorker'
        'Test-NexmarkQueryResult'

        # Cluster deployment
        'Install-PiDocker'
        'Install-StreamCluster'
        'Get-StreamCluster'
        'Test-StreamCluster'
        'Get-StreamClusterLog'
        'Uninstall-StreamCluster'

        # Benchmark and metrics
        'Invoke-Benchmark'
        'Get-ClusterMetric'

        # Reports
        'Export-BenchmarkReport'
        'Compare-BenchmarkResult'

    )
    FunctionsToExport    = @()
    VariablesToExport    = @()
    AliasesToExport      = @()

    PrivateData          = @{
        PSData = @{
            Tags         = @('PSEdition_Core', 'Linux', 'RaspberryPi', 'Benchmark', 'Kafka', 'Flink', 'Arroyo', 'Nexmark', 'StreamProcessing')
            ReleaseNotes = 'See README.md.'
        }
    }
}
