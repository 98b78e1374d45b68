#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0' }
# The staged module imports in pwsh like a first-class binary module. Run after `dotnet build PiBench.sln`:
#   Invoke-Pester tests/pester/Module.Tests.ps1

BeforeAll {
    $script:Psd1 = (Resolve-Path (Join-Path $PSScriptRoot '../../out/PiBench/PiBench.psd1')).Path
    Import-Module $script:Psd1 -Force
}

Describe 'The PiBench module' {
    It 'has a valid manifest and exports exactly the cmdlets it lists' {
        $manifest = Test-ModuleManifest -Path $script:Psd1
        $manifest.CompatiblePSEditions | Should -Be 'Core'
        $manifest.PowerShellVersion | Should -Be ([version]'7.4')
        $exported = @((Get-Module PiBench).ExportedCmdlets.Keys | Sort-Object)
        $listed = @($manifest.ExportedCmdlets.Keys | Sort-Object)
        $exported | Should -Not -BeNullOrEmpty
        $exported -join ',' | Should -Be ($listed -join ',')   # every listed cmdlet exists, nothing else is exported
    }
    It 'loads every format file the manifest names' {
        $data = Import-PowerShellDataFile $script:Psd1
        @((Get-Module PiBench).ExportedFormatFiles).Count | Should -Be @($data.FormatsToProcess).Count
        @($data.FormatsToProcess).Count | Should -BeGreaterThan 0
    }
    It 'uses approved verbs only' {
        $approved = (Get-Verb).Verb
        (Get-Module PiBench).ExportedCmdlets.Keys | ForEach-Object { $_.Split('-')[0] | Should -BeIn $approved -Because $_ }
    }
    It 'loads its dependencies in its own load context' {
        [System.Runtime.Loader.AssemblyLoadContext]::All.Where({ $_.Name -eq 'PiBench.Core' }).Count | Should -Be 1
    }
}
