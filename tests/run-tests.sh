#!/usr/bin/env bash
# Builds PiBench and runs every suite: the xunit projects (tests/PiBench.Core.Tests, tests/PiBench.Tests), then the
# Pester suite (tests/pester) in real pwsh against the staged out/PiBench. Ends with the line "N passed, N failed"
# counting all three. Needs root (the SSH and Docker labs start sshd/dockerd and create a test user) and the packages
# .ci/run installs: openssh-server docker.io busybox-static kcat. pwsh 7.6.10 and Pester come from NuGet into .tools/
# (tests/tools/install.sh, run here too; a few seconds, nothing when they are there).
set -uo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 POWERSHELL_TELEMETRY_OPTOUT=1 POWERSHELL_UPDATECHECK=Off
mkdir -p /run/sshd 2>/dev/null || true
start=$SECONDS
dotnet build PiBench.sln -c Debug -nologo -v q || { echo "build failed"; echo "0 passed, 1 failed"; exit 1; }
results=$(mktemp -d)
status=0
for proj in tests/PiBench.Core.Tests tests/PiBench.Tests; do
  name=$(basename "$proj")
  t0=$SECONDS
  dotnet test "$proj" --no-build -c Debug --logger "trx;LogFileName=$results/$name.trx" || status=1
  echo "$name: $((SECONDS - t0)) s"
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
# The failed tests by name, with the start of their messages, printed again just above the count line (CI keeps only
# the tail of this output).
failures=$(for trx in "$results"/*.trx; do
  [ -f "$trx" ] || continue
  awk -v suite="$(basename "$trx" .trx)" '
    /<UnitTestResult / && /outcome="Failed"/ { match($0, /testName="[^"]*"/); name = substr($0, RSTART + 10, RLENGTH - 11); inres = 1; n = 0 }
    inres && /<Message>/ { inmsg = 1; sub(/.*<Message>/, "") }
    inres && inmsg { line = $0; done = sub(/<\/Message>.*/, "", line); if (n < 4 && line != "") { msg[n++] = substr(line, 1, 300) }; if (done) { inmsg = 0 } }
    inres && /<\/UnitTestResult>/ { printf "  %s: %s\n", suite, name; for (i = 0; i < n; i++) printf "      %s\n", msg[i]; inres = 0 }
  ' "$trx" | sed -e 's/&quot;/"/g' -e "s/&apos;/'/g" -e 's/&lt;/</g' -e 's/&gt;/>/g' -e 's/&amp;/\&/g'
done)
# A suite that crashed before writing its results counts as a failure.
if [ "$runs" -lt 2 ]; then status=1; failed=$((failed + 2 - runs)); fi

# Pester in real pwsh (pinned versions from NuGet).
t0=$SECONDS
if bash tests/tools/install.sh; then
  pester_log="$results/pester.log"
  PSModulePath="$PWD/.tools/Modules" .tools/pwsh -NoProfile -NonInteractive -File tests/pester/Invoke-PesterSuite.ps1 \
    -ResultPath "$results/pester.xml" 2>&1 < /dev/null | tee "$pester_log"
  line=$(sed 's/\x1b\[[0-9;]*m//g' "$pester_log" | grep -E '^Pester: [0-9]+ passed, [0-9]+ failed' | tail -n 1)
  if [ -n "$line" ]; then
    p=$(echo "$line" | sed -E 's/^Pester: ([0-9]+) passed.*/\1/')
    f=$(echo "$line" | sed -E 's/^Pester: [0-9]+ passed, ([0-9]+) failed.*/\1/')
    passed=$((passed + p)); failed=$((failed + f))
    [ "$f" -eq 0 ] || status=1
  else
    echo "the Pester suite ended without its count line"
    failed=$((failed + 1)); status=1
  fi
else
  echo "pwsh/Pester could not be installed: the Pester suite did not run"
  failed=$((failed + 1)); status=1
fi
echo "Pester: $((SECONDS - t0)) s; all suites with the build: $((SECONDS - start)) s"
if [ -n "$failures" ]; then echo "xunit tests that failed:"; echo "$failures"; fi
[ -n "${pester_log:-}" ] && [ -f "$pester_log" ] && sed 's/\x1b\[[0-9;]*m//g' "$pester_log" | grep -E '^Pester failed: ' || true
rm -rf "$results"
echo "$passed passed, $failed failed"
exit $status
