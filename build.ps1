#requires -Version 7.4
<#
.SYNOPSIS
    Builds, tests or packages PiBench (a thin wrapper over dotnet for pwsh users).
.EXAMPLE
    ./build.ps1              # build; the importable module is out/PiBench
.EXAMPLE
    ./build.ps1 -Task Test   # build and run the xunit suites (needs root, sshd and docker.io; see README)
.EXAMPLE
    ./build.ps1 -Task Package -Configuration Release   # zip out/PiBench into out/PiBench-<version>.zip
#>
[CmdletBinding()]
param(
    [ValidateSet('Build', 'Test', 'Package', 'Clean')]
    [string] $Task = 'Build',
    [ValidateSet('Debug', 'Release')]
    [string] $Configuration = 'Release'
)
$ErrorActionPreference = 'Stop'
Set-Location $PSScriptRoot
switch ($Task) {
    'Clean' { Remove-Item -Recurse -Force out, src/*/bin, src/*/obj, tests/*/bin, tests/*/obj -ErrorAction SilentlyContinue }
    'Build' { dotnet build PiBench.sln -c $Configuration; if ($LASTEXITCODE) { throw "build failed" } }
    'Test' {
        dotnet build PiBench.sln -c $Configuration; if ($LASTEXITCODE) { throw "build failed" }
        dotnet test PiBench.sln --no-build -c $Configuration; if ($LASTEXITCODE) { throw "tests failed" }
        if (Get-Module -ListAvailable Pester) { Invoke-Pester ./tests/pester -CI }
    }
    'Package' {
        dotnet build PiBench.sln -c $Configuration; if ($LASTEXITCODE) { throw "build failed" }
        $version = (Import-PowerShellDataFile out/PiBench/PiBench.psd1).ModuleVersion
        Compress-Archive -Path out/PiBench -DestinationPath "out/PiBench-$version.zip" -Force
        Test-ModuleManifest out/PiBench/PiBench.psd1 | Out-Null
        "out/PiBench-$version.zip"
    }
}
