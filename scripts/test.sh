#!/usr/bin/env bash
# The whole test suite on a fresh machine: install what the tests need, build, test, summarize.
# Last line of output: "tests: N passed, N failed, N skipped". Exit status non-zero if the build
# failed, any test failed, or no test ran. TRX files land in artifacts/test-results/.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD
RESULTS="$ROOT/artifacts/test-results"
JS="$ROOT/tests/Interop/js"
export DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

summary() { # passed failed skipped
  echo "tests: $1 passed, $2 failed, $3 skipped"
}
die() { # message: report, print the (empty) summary line, fail
  echo "error: $*" >&2
  summary 0 0 0
  exit 1
}

# --- 1. system packages: "command:apt-package" pairs, installed only when the command is missing.
#        etcd-server: the Silo tests start real etcd members on loopback.
APT_REQUIRED=("etcd:etcd-server")
missing=()
for pair in "${APT_REQUIRED[@]}"; do
  command -v "${pair%%:*}" >/dev/null 2>&1 || missing+=("${pair#*:}")
done
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  SUDO=""
  [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" \
    || die "apt-get install ${missing[*]} failed"
fi
for tool in dotnet node npm python3; do
  command -v "$tool" >/dev/null 2>&1 || die "$tool is required (the .NET 10 SDK, Node.js >= 20.6 with npm, python3)"
done

# --- 2. Node dependencies of the interop harness (exact versions from package-lock.json).
#        The stamp is the one NodeInterop.EnsureInstalledAsync checks, so tests don't reinstall.
stamp="$JS/node_modules/.moqcluster-npm-ci.stamp"
hash=$(sha256sum "$JS/package-lock.json" | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null || true)" != "$hash" ]; then
  echo "npm ci in tests/Interop/js"
  (cd "$JS" && npm ci --no-audit --no-fund --loglevel=error) || die "npm ci failed"
  echo "$hash" >"$stamp"
fi

# --- 3. build.
echo "dotnet build Cluster.sln"
dotnet build Cluster.sln -nologo -v quiet -clp:ErrorsOnly || die "build failed"

# --- 4. test: each test project of the solution in turn, one TRX file per project.
rm -rf "$RESULTS"
mkdir -p "$RESULTS"
mapfile -t projects < <(dotnet sln Cluster.sln list | grep '\.csproj$' | tr '\\' '/' | while read -r p; do
  grep -qE 'Microsoft\.NET\.Test\.Sdk|<IsTestProject>true' "$p" && echo "$p"
done)
((${#projects[@]})) || die "no test projects in Cluster.sln"
test_exit=0
for project in "${projects[@]}"; do
  name=$(basename "$project" .csproj)
  echo "dotnet test $project"
  dotnet test "$project" --no-build -nologo \
    --logger "trx;LogFileName=$name.trx" \
    --logger "console;verbosity=normal" \
    --results-directory "$RESULTS" \
    --blame-hang-timeout 15m || test_exit=$?
done

# --- 5. sum the <Counters> of every TRX file.
read -r passed failed skipped files < <(python3 - "$RESULTS" <<'PY'
import glob, os, sys
import xml.etree.ElementTree as ET
totals = {"passed": 0, "failed": 0, "skipped": 0}
files = glob.glob(os.path.join(sys.argv[1], "**", "*.trx"), recursive=True)
for path in files:
    for el in ET.parse(path).iter():
        if el.tag.endswith("Counters"):
            n = lambda k: int(el.get(k, 0))
            totals["passed"] += n("passed")
            totals["failed"] += n("failed") + n("error") + n("timeout") + n("aborted")
            # xunit skips show up as total - executed; notExecuted stays 0 in some versions
            totals["skipped"] += max(n("notExecuted"), n("total") - n("executed"))
print(totals["passed"], totals["failed"], totals["skipped"], len(files))
PY
)
echo "test results: $files TRX file(s) in ${RESULTS#"$ROOT"/}"
status=0
if [ "$test_exit" != 0 ]; then
  echo "error: dotnet test exited with code $test_exit" >&2
  status=1
fi
if [ "$failed" != 0 ]; then status=1; fi
if [ $((passed + failed)) = 0 ]; then
  echo "error: no tests ran" >&2
  status=1
fi
summary "$passed" "$failed" "$skipped"
exit $status
