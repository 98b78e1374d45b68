# Test helper for the Pester suite (dot-source it in BeforeAll): starts the same loopback labs as the xunit suite
# (tests/PiBench.Tests/Lab: sshd per simulated Pi, private dockerd per node, stand-in images) and the engine stand-ins,
# hosted by tests/PiBench.TestLab in a child process that stays up until its standard input is closed. Needs root, the
# packages .ci/run installs, and a built solution (dotnet build PiBench.sln). Everything listens on 127.0.0.0/8 only.
#
#   $lab = Start-TestLab -Ssh -ThrottledNode pi3      # $lab.Ssh.TopologyPath, .User, .Password, .KnownHostsFile, ...
#   $lab = Start-TestLab -Deploy                      # $lab.Deploy.TopologyPath (3 nodes, stand-in images on pi1)
#   $lab = Start-TestLab -ConsumingArroyo $k.BootstrapServers   # $lab.Arroyo.ApiUri, .AdminUri
#   Stop-TestLab $lab

function Get-TestLabProgram {
    $repo = (Resolve-Path (Join-Path $PSScriptRoot '..' '..')).Path
    $dll = Get-ChildItem (Join-Path $repo 'tests' 'PiBench.TestLab' 'bin') -Recurse -Filter 'PiBench.TestLab.dll' -ErrorAction SilentlyContinue |
        Where-Object { $_.Directory.Name -like 'net*' } | Sort-Object LastWriteTimeUtc -Descending | Select-Object -First 1
    if (-not $dll) { throw "tests/PiBench.TestLab is not built: run 'dotnet build PiBench.sln' first." }
    $dll.FullName
}

function Start-TestLab {
    [CmdletBinding()]
    param(
        [switch] $Ssh,
        [int] $Workers = 2,
        [string] $ThrottledNode,
        [switch] $Deploy,
        [int] $Nodes = 3,
        [string] $ConsumingArroyo,
        [int] $DelayMs = 0,
        [int] $TimeoutSeconds = 180
    )
    $arguments = [Collections.Generic.List[string]]::new()
    $arguments.Add((Get-TestLabProgram))
    if ($Ssh) { $arguments.AddRange([string[]]@('--ssh', '--workers', "$Workers")); if ($ThrottledNode) { $arguments.AddRange([string[]]@('--throttled', $ThrottledNode)) } }
    if ($Deploy) { $arguments.AddRange([string[]]@('--deploy', '--nodes', "$Nodes")) }
    if ($ConsumingArroyo) { $arguments.AddRange([string[]]@('--consuming-arroyo', $ConsumingArroyo, '--delay-ms', "$DelayMs")) }
    if ($arguments.Count -eq 1) { throw 'Start-TestLab: name at least one of -Ssh, -Deploy, -ConsumingArroyo.' }

    $psi = [Diagnostics.ProcessStartInfo]::new('dotnet')
    foreach ($a in $arguments) { $psi.ArgumentList.Add($a) }
    $psi.UseShellExecute = $false
    $psi.RedirectStandardInput = $true
    $psi.RedirectStandardOutput = $true
    $process = [Diagnostics.Process]::Start($psi)
    $deadline = [datetime]::UtcNow.AddSeconds($TimeoutSeconds)
    while ($true) {
        $read = $process.StandardOutput.ReadLineAsync()
        $left = [int][Math]::Max(0, ($deadline - [datetime]::UtcNow).TotalMilliseconds)
        if (-not $read.Wait($left)) {
            $process.Kill($true)
            throw "the test lab ($($arguments -join ' ')) did not come up within $TimeoutSeconds s"
        }
        $line = $read.Result
        if ($null -eq $line) {
            $process.WaitForExit(10000) | Out-Null
            throw "the test lab ($($arguments -join ' ')) ended with exit code $($process.ExitCode) before it was up (its error is above)"
        }
        if ($line.StartsWith('PIBENCH-TESTLAB ')) { break }
    }
    $lab = $line.Substring('PIBENCH-TESTLAB '.Length) | ConvertFrom-Json
    $lab | Add-Member -NotePropertyName Process -NotePropertyValue $process -PassThru
}

function Stop-TestLab {
    [CmdletBinding()]
    param([Parameter(ValueFromPipeline)] $Lab)
    process {
        if (-not $Lab -or -not $Lab.Process) { return }
        $p = $Lab.Process
        if (-not $p.HasExited) {
            # EOF on its standard input: the lab stops every daemon by PID and removes its user and folders.
            try { $p.StandardInput.Close() } catch { }
            if (-not $p.WaitForExit(90000)) { $p.Kill($true); $p.WaitForExit(10000) | Out-Null }
        }
        $p.Dispose()
    }
}

function Import-StandIns {
    # The in-process Arroyo and Flink stand-ins (tests/StandIns/*.cs), compiled once per session with Add-Type. They
    # are written for the test projects (ImplicitUsings, nullable annotations): give Add-Type the same global usings.
    if ('PiBench.StandIns.FlinkStandIn' -as [type]) { return }
    $repo = (Resolve-Path (Join-Path $PSScriptRoot '..' '..')).Path
    $usings = Join-Path ([IO.Path]::GetTempPath()) "pibench-standins-usings-$PID.cs"
    Set-Content $usings ('System', 'System.Collections.Generic', 'System.IO', 'System.Linq', 'System.Net.Http', 'System.Threading',
        'System.Threading.Tasks' | ForEach-Object { "global using $_;" })
    try { Add-Type -Path (@($usings) + (Get-ChildItem (Join-Path $repo 'tests' 'StandIns') -Filter *.cs).FullName) -IgnoreWarnings }
    finally { Remove-Item $usings -ErrorAction SilentlyContinue }
}

function Invoke-LabDocker {
    # The docker CLI against one simulated node's private dockerd (0 = pi1), as the lab itself sees it.
    # (An advanced function: write docker options that a common parameter would take in full, e.g. --volume, not -v.)
    param([Parameter(Mandatory)] $Lab, [Parameter(Mandatory)] [int] $Node, [Parameter(Mandatory, ValueFromRemainingArguments)] [object[]] $Arguments)
    $flat = @($Arguments | ForEach-Object { $_ })   # an array argument is several docker arguments
    $out = & docker -H "unix://$($Lab.Deploy.DockerSockets[$Node])" @flat 2>&1
    if ($LASTEXITCODE) { throw "docker $($flat -join ' ') on node $($Node + 1): $out" }
    ($out | Out-String).Trim()
}

function Reset-DeployLab {
    # Back to a clean cluster, like DeployLab.Reset(): no containers or volumes anywhere, images only on the controller.
    param([Parameter(Mandatory)] $Lab)
    for ($i = 0; $i -lt $Lab.Deploy.DockerSockets.Count; $i++) {
        $ids = Invoke-LabDocker $Lab $i ps -aq
        if ($ids) { $null = Invoke-LabDocker $Lab $i rm -f @($ids -split "`n") }
        $vols = Invoke-LabDocker $Lab $i volume ls -q
        if ($vols) { $null = Invoke-LabDocker $Lab $i volume rm -f @($vols -split "`n") }
        if ($i -gt 0) {
            $images = Invoke-LabDocker $Lab $i images -q
            if ($images) { $null = Invoke-LabDocker $Lab $i rmi -f @($images -split "`n" | Sort-Object -Unique) }
        }
    }
}
