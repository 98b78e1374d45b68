#!/usr/bin/env bash
# Builds PiBench and runs every test project; ends with the line "N passed, N failed".
# Needs root (the SSH and Docker labs start sshd/dockerd and create a test user) and the packages that
# .ci/run installs: openssh-server docker.io busybox-static kcat.
set -uo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 POWERSHELL_TELEMETRY_OPTOUT=1 POWERSHELL_UPDATECHECK=Off
mkdir -p /run/sshd 2>/dev/null || true
dotnet build PiBench.sln -c Debug -nologo -v q || { echo "build failed"; echo "0 passed, 1 failed"; exit 1; }
results=$(mktemp -d)
status=0
for proj in tests/PiBench.Core.Tests tests/PiBench.Tests; do
  name=$(basename "$proj")
  dotnet test "$proj" --no-build -c Debug --logger "trx;LogFileName=$results/$name.trx" || status=1
done
passed=0; failed=0; runs=0
for trx in "$results"/*.trx; do
  [ -f "$trx" ] || continue
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -1)
  p=$(echo "$counters" | sed -E 's/.* passed="([0-9]+)".*/\1/')
  f=$(echo "$counters" | sed -E 's/.* failed="([0-9]+)".*/\1/')
  e=$(echo "$counters" | sed -E 's/.* error="([0-9]+)".*/\1/')
  passed=$((passed + p)); failed=$((failed + f + e)); runs=$((runs + 1))
done
rm -rf "$results"
# A suite that crashed before writing its results counts as a failure.
if [ "$runs" -lt 2 ]; then status=1; failed=$((failed + 2 - runs)); fi
echo "$passed passed, $failed failed"
exit $status
