#!/usr/bin/env bash
# Installs the test tools from NuGet (the source dotnet already uses) into .tools/ at the repository root:
#   .tools/pwsh                       PowerShell 7.6.10, the .NET global tool (pinned: without a version dotnet
#                                     takes 7.7.0, which does not install here)
#   .tools/Modules/Pester/<version>   Pester, the module in the NuGet package's tools/ folder
# Idempotent and quick (a few seconds; nothing when both are there). Exits non-zero with one clear line on failure.
set -uo pipefail
cd "$(dirname "$0")/../.."
PWSH_VERSION=7.6.10
PESTER_VERSION=5.7.1
tools=$PWD/.tools
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 POWERSHELL_TELEMETRY_OPTOUT=1 POWERSHELL_UPDATECHECK=Off

if [ -x "$tools/pwsh" ] && "$tools/pwsh" -NoProfile -NoLogo -Command '$PSVersionTable.PSVersion.ToString()' 2>/dev/null | grep -qx "$PWSH_VERSION"; then
  :
else
  rm -rf "$tools/pwsh" "$tools/.store"
  if ! out=$(dotnet tool install --tool-path "$tools" PowerShell --version "$PWSH_VERSION" 2>&1); then
    echo "$out" | tail -n 5
    echo "could not install PowerShell $PWSH_VERSION from NuGet (dotnet tool install --tool-path .tools PowerShell --version $PWSH_VERSION)"
    exit 1
  fi
fi

pester=$tools/Modules/Pester/$PESTER_VERSION
if [ ! -f "$pester/Pester.psd1" ]; then
  # The ordinary client: a throw-away project whose restore downloads the package (no package is referenced).
  work=$(mktemp -d)
  cat > "$work/download.proj" <<PROJ
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup><TargetFramework>net10.0</TargetFramework><ManagePackageVersionsCentrally>false</ManagePackageVersionsCentrally></PropertyGroup>
  <ItemGroup><PackageDownload Include="Pester" Version="[$PESTER_VERSION]" /></ItemGroup>
</Project>
PROJ
  if ! out=$(dotnet restore "$work/download.proj" --packages "$work/packages" 2>&1) || [ ! -f "$work/packages/pester/$PESTER_VERSION/tools/Pester.psd1" ]; then
    echo "$out" | tail -n 5
    echo "could not download Pester $PESTER_VERSION from NuGet (package Pester, module in its tools/ folder)"
    rm -rf "$work"
    exit 1
  fi
  rm -rf "$pester"; mkdir -p "$(dirname "$pester")"
  cp -r "$work/packages/pester/$PESTER_VERSION/tools" "$pester"
  rm -rf "$work"
fi
echo "pwsh $PWSH_VERSION and Pester $PESTER_VERSION in .tools/"
