#!/usr/bin/env bash
# Builds PiBench and runs every test project; ends with the line "N passed, N failed".
# Needs root (the SSH and Docker labs start sshd/dockerd and create a test user) and the packages that
# .ci/run installs: openssh-server docker.io busybox-static kcat.
set -uo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 POWERSHELL_TELEMETRY_OPTOUT=1 POWERSHELL_UPDATECHECK=Off
mkdir -p /run/sshd 2>/dev/null || true
dotnet build PiBench.sln -c Debug -nologo -v q || { echo "build failed"; echo "0 passed, 1 failed"; exit 1; }
log=$(mktemp)
status=0
for proj in tests/PiBench.Core.Tests tests/PiBench.Tests; do
  dotnet test "$proj" --no-build -c Debug --logger "console;verbosity=normal" 2>&1 | tee -a "$log" | grep -E "^\s+(Failed|Passed) |Passed!|Failed!|error" || true
  [ "${PIPESTATUS[0]}" -eq 0 ] || status=1
done
passed=$(grep -E "^(Passed|Failed)!" "$log" | sed -E 's/.*Passed: *([0-9]+).*/\1/' | paste -sd+ - | bc)
failed=$(grep -E "^(Passed|Failed)!" "$log" | sed -E 's/.*Failed: *([0-9]+),.*/\1/' | paste -sd+ - | bc)
runs=$(grep -cE "^(Passed|Failed)!" "$log")
rm -f "$log"
if [ "$runs" -lt 2 ]; then status=1; failed=$(( ${failed:-0} + 1 )); fi
echo "${passed:-0} passed, ${failed:-0} failed"
exit $status
