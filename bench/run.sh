#!/usr/bin/env bash
# The performance matrix: our relay, nats-server and loopback TCP (iperf3) under the same workloads,
# server pinned to core 0, load generator to core 1. Writes bench/results/latest.md and latest.png.
#
#   bash bench/run.sh                 # the full matrix, a few minutes
#   QUICK=1 bash bench/run.sh         # a tiny smoke matrix (seconds)
#   DURATION=10 IDLE_SUBS=5000 bash bench/run.sh
#
# Every server is started here and stopped by its PID, also on failure or Ctrl-C. Loopback only.
set -uo pipefail

# The whole script is one function, so bash has parsed all of it before it runs (editing it mid-run is safe).
main() {

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=$ROOT/bench/results
DURATION=${DURATION:-5}
WARMUP=${WARMUP:-1}
QUICK=${QUICK:-0}
IDLE_SUBS=${IDLE_SUBS:-10000}
CONNECT_TIMEOUT=${CONNECT_TIMEOUT:-90}
RELAY_PORT=${RELAY_PORT:-24443}
NATS_PORT=${NATS_PORT:-24222}
IPERF_PORT=${IPERF_PORT:-25201}
SERVER_CORE=${SERVER_CORE:-0}
LOAD_CORE=${LOAD_CORE:-1}
# Cross-edge workload (d): set EDGE2_URL (and start the cluster yourself) once the cluster exists.
EDGE2_URL=${EDGE2_URL:-}

WORK=$(mktemp -d /tmp/moq-bench.XXXXXX)
JSONL=$WORK/results.jsonl
SERVER_PID=
: > "$JSONL"
mkdir -p "$OUT"

stop_server() {
    [ -n "$SERVER_PID" ] || return 0
    kill "$SERVER_PID" 2>/dev/null
    for _ in $(seq 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$SERVER_PID" 2>/dev/null
    wait "$SERVER_PID" 2>/dev/null
    SERVER_PID=
}
cleanup() { stop_server; }
trap cleanup EXIT
trap 'echo "interrupted" >&2; exit 130' INT TERM

# Many sockets: 10,000 idle subscribers need one descriptor each on both sides.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

missing=()
command -v nats-server >/dev/null || missing+=(nats-server)
command -v iperf3 >/dev/null || missing+=(iperf3)
command -v gnuplot >/dev/null || missing+=(gnuplot-nox)
if [ ${#missing[@]} -gt 0 ]; then
    echo "installing ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}" >/dev/null 2>&1 ||
        { apt-get update >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}" >/dev/null; } ||
        { echo "could not install ${missing[*]}" >&2; exit 1; }
fi

echo "building (Release)"
dotnet build -c Release "$ROOT/src/Edge" -v q -nologo >"$WORK/build.log" 2>&1 &&
    dotnet build -c Release "$ROOT/bench/Load" -v q -nologo >>"$WORK/build.log" 2>&1 ||
    { tail -30 "$WORK/build.log" >&2; exit 1; }
EDGE_DLL=$ROOT/src/Edge/bin/Release/net10.0/MoqCluster.Edge.dll
LOAD_DLL=$ROOT/bench/Load/bin/Release/net10.0/MoqCluster.Bench.Load.dll

wait_port() {  # host port: until a TCP connect succeeds (10 s)
    for _ in $(seq 200); do (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null && return 0; sleep 0.05; done
    return 1
}

start_server() {  # moq | nats | loopback
    stop_server
    case "$1" in
    moq)
        # As deployed (deploy/edge/Dockerfile): gen0 collected every 4 MiB, which keeps idle sessions small.
        DOTNET_GCgen0size=0x400000 taskset -c "$SERVER_CORE" dotnet "$EDGE_DLL" --urls "http://127.0.0.1:$RELAY_PORT" \
            --Logging:LogLevel:Default=Warning >>"$WORK/relay.log" 2>&1 &
        SERVER_PID=$!
        for _ in $(seq 200); do curl -sf "http://127.0.0.1:$RELAY_PORT/health" >/dev/null && return 0; sleep 0.05; done ;;
    nats)
        taskset -c "$SERVER_CORE" nats-server -a 127.0.0.1 -p "$NATS_PORT" >>"$WORK/nats.log" 2>&1 &
        SERVER_PID=$!
        wait_port 127.0.0.1 "$NATS_PORT" && return 0 ;;
    loopback)
        taskset -c "$SERVER_CORE" iperf3 -s -B 127.0.0.1 -p "$IPERF_PORT" >>"$WORK/iperf3.log" 2>&1 &
        SERVER_PID=$!
        wait_port 127.0.0.1 "$IPERF_PORT" && return 0 ;;
    esac
    echo "$1 server did not become ready" >&2
    return 1
}

url_of() {
    case "$1" in
    moq) echo "http://127.0.0.1:$RELAY_PORT/anon" ;;
    nats) echo "nats://127.0.0.1:$NATS_PORT" ;;
    loopback) echo "tcp://127.0.0.1:$IPERF_PORT" ;;
    esac
}

# run SYSTEM ID [load options...]: a fresh server per cell, so RSS baselines are clean.
run() {
    local system=$1 id=$2
    shift 2
    echo "== $id on $system"
    if ! start_server "$system"; then
        dotnet "$LOAD_DLL" skip --id "$id" --system "$system" --reason "server did not start" --json "$JSONL"
        return
    fi
    timeout -k 5 $((CONNECT_TIMEOUT * 2 + DURATION + WARMUP + 60)) \
        taskset -c "$LOAD_CORE" dotnet "$LOAD_DLL" run --system "$system" --url "$(url_of "$system")" \
        --server-pid "$SERVER_PID" --id "$id" --duration "$DURATION" --warmup "$WARMUP" \
        --connect-timeout "$CONNECT_TIMEOUT" --json "$JSONL" "$@" | sed -n '3p'
    local rc=${PIPESTATUS[0]}
    if [ "$rc" -ne 0 ]; then
        dotnet "$LOAD_DLL" skip --id "$id" --system "$system" --reason "load tool exited with $rc" --json "$JSONL"
    fi
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
        echo "!! $system server died during $id" >&2
        dotnet "$LOAD_DLL" skip --id "$id" --system "$system" --reason "server process died during the run" --json "$JSONL"
    fi
    stop_server
}

both() { run moq "$@"; run nats "$@"; }

started=$(date +%s)
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
if [ "$QUICK" = 1 ]; then
    SIZES=(1024); FANOUT=(10); RATES=(0 2.5); MANY="4 2"; IDLE_SUBS=100
else
    SIZES=(1024 16384); FANOUT=(10 100 1000); RATES=(0 2.5); MANY="100 8"
fi
label() { [ "$1" = 0 ] && echo sat || echo "${1}M"; }
kb() { echo "$(($1 / 1024))k"; }

# The ceiling: loopback TCP with the same write sizes, and with iperf3's default 128 KB writes.
for size in "${SIZES[@]}" 131072; do
    run loopback "loopback-$(kb "$size")-sat" --frame "$size"
done

# (a) one publisher to N subscribers.
for n in "${FANOUT[@]}"; do
    for size in "${SIZES[@]}"; do
        for rate in "${RATES[@]}"; do
            both "a-fanout-$n-$(kb "$size")-$(label "$rate")" --publishers 1 --subscribers "$n" --frame "$size" --rate "$rate"
        done
    done
done

# (b) many publishers, each read by every subscriber session.
read -r pubs subs <<<"$MANY"
for size in "${SIZES[@]}"; do
    both "b-many-${pubs}x${subs}-$(kb "$size")-2.5M" --publishers "$pubs" --subscribers "$subs" --frame "$size" --rate 2.5
done

# (c) idle sessions: memory per connected subscriber.
both "c-idle-$IDLE_SUBS" --publishers 1 --subscribers "$IDLE_SUBS" --idle --connect-parallel 64

# (d) across two edges of a cluster.
if [ -n "$EDGE2_URL" ]; then
    echo "EDGE2_URL is set, but starting a cluster is not wired into this script yet" >&2
fi
dotnet "$LOAD_DLL" skip --id d-cross-edge --system moq --json "$JSONL" \
    --reason "not yet available: the cluster is being built (hook: run --url EDGE_A --url2 EDGE_B)"

stop_server
elapsed=$(( $(date +%s) - started ))
commit=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
cp "$JSONL" "$OUT/latest.jsonl"
dotnet "$LOAD_DLL" report --in "$JSONL" --md "$OUT/latest.md" --dat "$OUT/latest.dat" \
    --context "$(date -u +%Y-%m-%dT%H:%MZ), commit $commit, $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)), kernel $(uname -r)" \
    --context "server pinned to core $SERVER_CORE, load generator to core $LOAD_CORE (taskset); $DURATION s measured after $WARMUP s warm-up per cell; a fresh server per cell; matrix took $elapsed s" \
    --context "$(dotnet --list-runtimes | grep -m1 NETCore.App | cut -d' ' -f1-2), $(nats-server --version), $(iperf3 --version | head -1 | cut -d' ' -f1-2); relay over WebSocket + QMux, Release build, log level Warning" \
    --context "machine load average (1/5/15 min) at start $load_start, at end $(cut -d' ' -f1-3 /proc/loadavg): other work on the same cores makes every number noisy" \
    --context "frames carry a 16-byte header (send timestamp, sequence); groups of 30 frames; fixed rate = 2.5 Mbit/s per broadcast"
gnuplot -e "dat='$OUT/latest.dat'; out='$OUT/latest.png'" "$ROOT/bench/chart.gp" 2>"$WORK/gnuplot.log" ||
    { echo "gnuplot failed:" >&2; cat "$WORK/gnuplot.log" >&2; }
echo "done in $elapsed s: $OUT/latest.md, $OUT/latest.png (raw: $OUT/latest.jsonl, logs: $WORK)"
}

main "$@"
