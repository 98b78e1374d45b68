#Requires -Version 7.4
<#
.SYNOPSIS
    Runs every tests/pester/*.Tests.ps1 file in this pwsh against the staged module (out/PiBench) and writes the counts.
.DESCRIPTION
    Used by tests/run-tests.sh with the pinned Pester from .tools/Modules (tests/tools/install.sh). Needs root and the
    packages .ci/run installs (the lab describes start sshd and dockerd through TestLab.ps1), and a built solution.
    The last line is "Pester: N passed, N failed, N skipped"; failed includes failed blocks and containers (a BeforeAll
    that throws), and a skipped or not-run test is a failure here (the suite runs everything on loopback).
.EXAMPLE
    pwsh -NoProfile -File tests/pester/Invoke-PesterSuite.ps1 -ResultPath /tmp/pester.xml
#>
param(
    [string] $ResultPath = (Join-Path ([IO.Path]::GetTempPath()) 'pibench-pester.xml'),
    [string] $PesterVersion = '5.7.1',
    [string[]] $Path = @($PSScriptRoot),
    [string[]] $FullName   # only tests whose full name matches one of these wildcards
)
$ErrorActionPreference = 'Stop'
$env:POWERSHELL_TELEMETRY_OPTOUT = '1'
$env:POWERSHELL_UPDATECHECK = 'Off'
Import-Module Pester -RequiredVersion $PesterVersion
$c = New-PesterConfiguration
$c.Run.Path = @($Path | ForEach-Object { $_ -split ',' })   # pwsh -File passes a comma list as one string
$c.Run.PassThru = $true
if ($FullName) { $c.Filter.FullName = $FullName }
$c.Output.Verbosity = 'Normal'
$c.TestResult.Enabled = $true
$c.TestResult.OutputFormat = 'JUnitXml'
$c.TestResult.OutputPath = $ResultPath
try { $r = Invoke-Pester -Configuration $c }
catch {
    Write-Host "Invoke-Pester failed: $_"
    'Pester: 0 passed, 1 failed, 0 skipped'
    return
}
$failed = $r.FailedCount + $r.FailedBlocksCount + $r.FailedContainersCount
$skipped = $r.SkippedCount + $r.NotRunCount
# One line per failure, "Pester failed: <path>: <first line of the error>"; tests/run-tests.sh repeats them at its end.
foreach ($f in @($r.Failed) + @($r.FailedBlocks) + @($r.FailedContainers)) {
    $where = if ($f.ExpandedPath) { $f.ExpandedPath } elseif ($f.Path) { $f.Path -join '.' } else { "$($f.Item)" }
    $why = @($f.ErrorRecord)[0]
    $first = if ($why) { ("$($why.Exception.Message)" -split '\r?\n')[0] } else { '' }
    Write-Host "Pester failed: ${where}: $($first.Substring(0, [Math]::Min(300, $first.Length)))"
}
if ($skipped -gt 0) {
    Write-Host "Pester: $skipped test(s) skipped or not run, counted as failed:"
    ($r.Skipped + $r.NotRun) | ForEach-Object { Write-Host "  $($_.ExpandedPath)" }
}
"Pester: $($r.PassedCount) passed, $($failed + $skipped) failed, $skipped skipped"
