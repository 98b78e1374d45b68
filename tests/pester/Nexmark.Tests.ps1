#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0' }
# The Nexmark generator cmdlets against the reference vectors in tests/vectors/nexmark (in the repository;
# $env:PIBENCH_VECTORS_DIR overrides). Needs the staged module (dotnet build PiBench.sln); run:
#   Invoke-Pester tests/pester/Nexmark.Tests.ps1

BeforeAll {
    $repo = (Resolve-Path (Join-Path $PSScriptRoot '..' '..')).Path
    Import-Module (Join-Path $repo 'out' 'PiBench' 'PiBench.psd1') -Force

    $script:Vectors = if ($env:PIBENCH_VECTORS_DIR) { $env:PIBENCH_VECTORS_DIR } else { Join-Path $repo 'tests' 'vectors' 'nexmark' }
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
        # Other seeds than the vectors: the fields that do not depend on the RNG must still equal the real sample's.
        $sample = (Get-Vector 'flink-head-unmodified-sample_1gen_first2000.jsonl').TrimEnd("`n").Split("`n") | ConvertFrom-Json
        $ours = Get-NexmarkEvent -Count 2000 -BaseTime 1436918400000 -Seed 11 -UrlSeed 12 -ExtraSeed 13 | ConvertTo-NexmarkJson -Shape Vector | ConvertFrom-Json
        $ours.Count | Should -Be 2000
        $keys = 'index', 'eventNumber', 'adjustedEventNumber', 'eventId', 'type', 'eventType', 'eventTimestamp', 'watermark'
        # One assertion over all differences (a Should per field and line would take half a minute).
        $diff = [Collections.Generic.List[string]]::new()
        for ($i = 0; $i -lt 2000; $i++) {
            $s = $sample[$i]; $o = $ours[$i]
            foreach ($k in $keys) { if ($o.$k -ne $s.$k) { $diff.Add("line $($i + 1) ${k}: $($o.$k) vs $($s.$k)") } }
            $entity = @($s.PSObject.Properties)[-1].Name
            $ourKeys = @($o.$entity.PSObject.Properties.Name) -join ','; $theirKeys = @($s.$entity.PSObject.Properties.Name) -join ','
            if ($ourKeys -ne $theirKeys) { $diff.Add("line $($i + 1) $entity keys: $ourKeys vs $theirKeys") }
            if ($o.$entity.dateTime -ne $s.$entity.dateTime) { $diff.Add("line $($i + 1) dateTime") }
            if ($entity -ne 'bid' -and $o.$entity.id -ne $s.$entity.id) { $diff.Add("line $($i + 1) id") }
        }
        $diff | Select-Object -First 5 | Should -BeNullOrEmpty
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
    It 'prints the resolved seeds and base time on the verbose stream' {
        $v = Get-NexmarkEvent -Count 1 -Seed 77 -BaseTime 1234 -Verbose 4>&1 | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] }
        $line = -join $v.Message
        $line | Should -Match 'Seed=77'
        $line | Should -Match 'UrlSeed=2'
        $line | Should -Match 'ExtraSeed=1'
        $line | Should -Match 'BaseTime=1234'
    }
    It 'rejects <Line> with <ErrorId>' -ForEach @(
        @{ Line = '-Count 1 -GeneratorCount 3 -GeneratorIndex 3'; ErrorId = 'InvalidGeneratorIndex' }
        @{ Line = '-Count 1 -GeneratorIndex -1'; ErrorId = 'InvalidGeneratorIndex' }
        @{ Line = '-Count 1 -GeneratorCount 0'; ErrorId = 'InvalidGeneratorCount' }
        @{ Line = '-Count -5'; ErrorId = 'InvalidCount' }
        @{ Line = '-Count 1 -Skip -1'; ErrorId = 'InvalidSkip' }
        @{ Line = '-Count 1 -FirstEventRate 0'; ErrorId = 'InvalidFirstEventRate' }
        @{ Line = '-Count 1 -HotBiddersRatio 0'; ErrorId = 'InvalidHotRatio' }
        @{ Line = '-Count 1 -BidProportion -2'; ErrorId = 'InvalidProportion' }
        @{ Line = '-Count 1 -OutOfOrderGroupSize 0'; ErrorId = 'InvalidOutOfOrderGroupSize' }
        @{ Line = '-Count 1 -BaseTime -1'; ErrorId = 'InvalidBaseTime' }
    ) {
        # A terminating error: nothing is output, and the record has the stable id, the category and the bad value.
        $out = $null; $record = $null
        try { $out = & ([scriptblock]::Create("Get-NexmarkEvent $Line")) } catch { $record = $_ }
        $out | Should -BeNullOrEmpty
        $record.FullyQualifiedErrorId | Should -Be "$ErrorId,PiBench.Commands.GetNexmarkEventCommand"
        $record.CategoryInfo.Category | Should -Be 'InvalidArgument'
        $record.TargetObject | Should -Not -BeNullOrEmpty
        # With $ErrorActionPreference = 'Stop' it ends the script (Pester compares the fully qualified id).
        { $ErrorActionPreference = 'Stop'; & ([scriptblock]::Create("Get-NexmarkEvent $Line")); 'not reached' } | Should -Throw -ErrorId "$ErrorId,PiBench.Commands.GetNexmarkEventCommand"
    }
}

Describe 'ConvertTo-NexmarkJson' {
    It 'writes the Kafka shape with all four top-level keys' {
        $json = Get-NexmarkEvent -Count 3 -BaseTime 1436918400000 | ConvertTo-NexmarkJson
        $json[2] | Should -BeLike '{"event_type":2,"person":null,"auction":null,"bid":{*'
        $json[0] | Should -BeLike '*"dateTime":"2015-07-15 00:00:00","expires":"2015-07-15 00:00:00.021"*'
    }
}
