#Requires -Version 7.4
# Pester 5 tests for the Nexmark generator cmdlets (not run by the build; run with: Invoke-Pester tests/pester/Nexmark.Tests.ps1).
# Needs the staged module (dotnet build PiBench.sln) and the shared reference vectors (shared/vectors/nexmark next to the
# checkout, or $env:PIBENCH_VECTORS_DIR).

BeforeAll {
    $repo = (Resolve-Path (Join-Path $PSScriptRoot '..' '..')).Path
    Import-Module (Join-Path $repo 'out' 'PiBench' 'PiBench.psd1') -Force

    $script:Vectors = $env:PIBENCH_VECTORS_DIR
    if (-not $script:Vectors) {
        $dir = Split-Path $repo -Parent
        while ($dir -and -not (Test-Path (Join-Path $dir 'shared' 'vectors' 'nexmark'))) { $dir = Split-Path $dir -Parent }
        if (-not $dir) { throw "shared/vectors/nexmark not found next to $repo; set PIBENCH_VECTORS_DIR." }
        $script:Vectors = Join-Path $dir 'shared' 'vectors' 'nexmark'
    }
    function Get-Vector([string] $Name) {
        $path = Join-Path $script:Vectors $Name
        if (-not (Test-Path $path)) { throw "reference vector missing: $path" }
        [IO.File]::ReadAllText($path)
    }
}

Describe 'Get-NexmarkEvent | ConvertTo-NexmarkJson reproduces the reference vectors' {
    It 'Flink profile, seeds 3/2/1, vector line shape' {
        $lines = Get-NexmarkEvent -Count 2000 -BaseTime 1436918400000 | ConvertTo-NexmarkJson -Shape Vector
        (($lines -join "`n") + "`n") | Should -BeExactly (Get-Vector 'flink-head-seeded_1gen_first2000.jsonl')
    }
    It 'Flink profile, Kafka wire shape' {
        $lines = Get-NexmarkEvent -Count 100 -Seed 3 -UrlSeed 2 -ExtraSeed 1 -BaseTime 1436918400000 | ConvertTo-NexmarkJson -Shape Kafka
        (($lines -join "`n") + "`n") | Should -BeExactly (Get-Vector 'flink-head-seeded_1gen_first100_kafka-json-shape.jsonl')
    }
    It 'Beam profile' {
        $lines = Get-NexmarkEvent -Count 2000 -Profile Beam | ConvertTo-NexmarkJson -Shape Vector
        (($lines -join "`n") + "`n") | Should -BeExactly (Get-Vector 'beam-equivalent_1gen_first2000.jsonl')
    }
    It 'matches the unseeded sample on its random-independent fields' {
        $sample = (Get-Vector 'flink-head-unmodified-sample_1gen_first2000.jsonl').TrimEnd("`n").Split("`n") | ConvertFrom-Json
        $ours = Get-NexmarkEvent -Count 2000 -BaseTime 1436918400000 -Seed 99
        for ($i = 0; $i -lt 2000; $i++) {
            $ours[$i].EventId | Should -Be $sample[$i].eventId
            $ours[$i].EventTimestamp | Should -Be $sample[$i].eventTimestamp
            $ours[$i].EventType.ToString().ToUpperInvariant() | Should -Be $sample[$i].type
        }
    }
}

Describe 'Get-NexmarkEvent' {
    It 'streams NexmarkEvent objects with flat properties' {
        $e = Get-NexmarkEvent -Count 50 -BaseTime 1436918400000
        $e.Count | Should -Be 50
        $e[0].PSObject.TypeNames[0] | Should -Be 'PiBench.Core.Nexmark.NexmarkEvent'
        $e[0].EventType | Should -Be 'Auction'
        $e[0].Auction.Id | Should -Be 1001
        $e[48].Person.Name | Should -Not -BeNullOrEmpty
        ($e | Where-Object EventType -eq 'Bid').Count | Should -Be 46
    }
    It 'splits the stream like parallel Flink readers' {
        $a = Get-NexmarkEvent -Count 3 -Profile Beam -GeneratorCount 3 -GeneratorIndex 1 -NumEvents 300
        $a[0].EventId | Should -Be 100
    }
    It 'stops early with Select-Object -First' {
        (Get-NexmarkEvent -Count 100000000 -Profile Beam | Select-Object -First 3).Count | Should -Be 3
    }
    It 'prints the resolved seeds on the verbose stream' {
        $v = Get-NexmarkEvent -Count 1 -Seed 5 -BaseTime 0 -Verbose 4>&1 | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] }
        $v.Message | Should -Match 'Seed=5'
    }
    It 'rejects <Arguments> with <ErrorId>' -ForEach @(
        @{ Arguments = @{ GeneratorCount = 2; GeneratorIndex = 2 }; ErrorId = 'InvalidGeneratorIndex' }
        @{ Arguments = @{ GeneratorCount = 0 }; ErrorId = 'InvalidGeneratorCount' }
        @{ Arguments = @{ FirstEventRate = 0 }; ErrorId = 'InvalidFirstEventRate' }
        @{ Arguments = @{ Skip = -1 }; ErrorId = 'InvalidSkip' }
        @{ Arguments = @{ HotAuctionRatio = 0 }; ErrorId = 'InvalidHotRatio' }
    ) {
        { Get-NexmarkEvent -Count 1 @Arguments -ErrorAction Stop } | Should -Throw -ErrorId $ErrorId
    }
}

Describe 'ConvertTo-NexmarkJson' {
    It 'writes the Kafka shape with all four top-level keys' {
        $json = Get-NexmarkEvent -Count 3 -BaseTime 1436918400000 | ConvertTo-NexmarkJson
        $json[2] | Should -BeLike '{"event_type":2,"person":null,"auction":null,"bid":{*'
        $json[0] | Should -BeLike '*"dateTime":"2015-07-15 00:00:00","expires":"2015-07-15 00:00:00.021"*'
    }
}
