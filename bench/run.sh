#!/usr/bin/env bash
# The performance matrix: our relay (over WebSocket and over TCP), nats-server and loopback TCP (iperf3)
# under the same workloads, and our relay across two edges of a cluster; servers pinned to core 0, load
# generator to core 1. The full matrix writes bench/results/latest.md, latest.png, latest.jsonl.
#
#   bash bench/run.sh                 # the full matrix, a few minutes
#   QUICK=1 bash bench/run.sh         # a tiny smoke matrix (about a minute), written to /tmp/moq-bench-out
#   WORKLOADS="d" bash bench/run.sh   # some groups only (loopback a b c d), written to /tmp/moq-bench-out;
#                                     # (d) also runs its single-edge reference rows
#   DURATION=10 IDLE_SUBS=5000 OUT=/tmp/x bash bench/run.sh
#
# Every server (relay, nats-server, iperf3, etcd and the two cluster edges) is started here and stopped by its
# PID, also on failure or Ctrl-C; temp dirs (etcd data, logs) are removed on exit (KEEP_LOGS=1 keeps the logs).
# Loopback only.
set -uo pipefail

# The whole script is one function, so bash has parsed all of it before it runs (editing it mid-run is safe).
main() {

ROOT=$(cd "$(dirname "$0")/.." && pwd)
DURATION=${DURATION:-5}
# Warm-up before the window opens: the edge runs with TieredCompilation off, so its forwarding path is compiled
# (fully optimised) on the first frames of a cell; 2 s covers that and the generator's own start on a busy box.
WARMUP=${WARMUP:-2}
QUICK=${QUICK:-0}
ALL_WORKLOADS="loopback a b c d"
WORKLOADS=${WORKLOADS:-$ALL_WORKLOADS}
# Only the full matrix replaces bench/results/latest.*; smoke and partial runs go elsewhere.
if [ "$QUICK" = 1 ] || [ "$WORKLOADS" != "$ALL_WORKLOADS" ]; then
    OUT=${OUT:-/tmp/moq-bench-out}
else
    OUT=${OUT:-$ROOT/bench/results}
fi
KEEP_LOGS=${KEEP_LOGS:-0}
IDLE_SUBS=${IDLE_SUBS:-10000}
CONNECT_TIMEOUT=${CONNECT_TIMEOUT:-90}
# Ports: a block of 8 picked at random per run below the ephemeral range (32768+), so two runs of this script on
# one machine (other worktrees) do not serve each other's clients; every port is checked free before each cell.
PORT_BASE=${PORT_BASE:-$(( 20000 + (RANDOM % 1500) * 8 ))}
RELAY_PORT=${RELAY_PORT:-$PORT_BASE}
RELAY_TCP_PORT=${RELAY_TCP_PORT:-$((PORT_BASE + 1))}
NATS_PORT=${NATS_PORT:-$((PORT_BASE + 2))}
IPERF_PORT=${IPERF_PORT:-$((PORT_BASE + 3))}
# (d): a single-member etcd (client port, peer port = +1) and two edges.
ETCD_PORT=${ETCD_PORT:-$((PORT_BASE + 4))}
EDGE_A_PORT=${EDGE_A_PORT:-$((PORT_BASE + 6))}
EDGE_B_PORT=${EDGE_B_PORT:-$((PORT_BASE + 7))}
CLUSTER_TIMEOUT=${CLUSTER_TIMEOUT:-30}
SERVER_CORE=${SERVER_CORE:-0}
LOAD_CORE=${LOAD_CORE:-1}

WORK=$(mktemp -d /tmp/moq-bench.XXXXXX)
JSONL=$WORK/results.jsonl
SERVER_PIDS=()   # the processes measured (one server, or both edges)
ETCD_PID=
ETCD_DIR=
TARGET=()        # load-tool options naming the running system: --url ..., --health ..., --cluster ...
EDGE_ENV=()      # environment of the next edge started
declare -A DONE  # system/workload pairs already run
: > "$JSONL"

stop_pid() {  # pid: SIGTERM, up to 5 s, then SIGKILL
    kill "$1" 2>/dev/null
    for _ in $(seq 50); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$1" 2>/dev/null
    wait "$1" 2>/dev/null
}
stop_server() {  # every server of the current cell: the edges before the etcd they hold leases in
    local pid
    for pid in "${SERVER_PIDS[@]}"; do stop_pid "$pid"; done
    SERVER_PIDS=()
    TARGET=()
    if [ -n "$ETCD_PID" ]; then stop_pid "$ETCD_PID"; ETCD_PID=; fi
    if [ -n "$ETCD_DIR" ]; then rm -rf "$ETCD_DIR"; ETCD_DIR=; fi
}
cleanup() {
    local rc=$?
    stop_server
    if [ "$rc" -ne 0 ]; then
        for log in "$WORK"/*.log; do
            [ -s "$log" ] && { echo "--- tail of $(basename "$log")" >&2; tail -15 "$log" >&2; }
        done
    fi
    if [ "$KEEP_LOGS" = 1 ] && [ "$rc" -eq 0 ]; then echo "logs kept in $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'echo "interrupted" >&2; exit 130' INT TERM

# Many sockets: 10,000 idle subscribers need one descriptor each on both sides.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

missing=()
command -v nats-server >/dev/null || missing+=(nats-server)
command -v iperf3 >/dev/null || missing+=(iperf3)
command -v gnuplot >/dev/null || missing+=(gnuplot-nox)
case " $WORKLOADS " in *" d "*) command -v etcd >/dev/null || missing+=(etcd-server) ;; esac
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

wait_listening() {  # port: until something listens on it (10 s); asks the kernel, so the server sees no probe connection
    command -v ss >/dev/null || { wait_port 127.0.0.1 "$1"; return; }
    for _ in $(seq 200); do [ -n "$(ss -Hltn "sport = :$1")" ] && return 0; sleep 0.05; done
    return 1
}

wait_http() {  # url seconds: until it answers 2xx
    local until=$(( $(date +%s) + $2 ))
    while [ "$(date +%s)" -lt "$until" ]; do curl -sf -m 1 "$1" >/dev/null && return 0; sleep 0.05; done
    return 1
}

edge() {  # port log [settings...]: starts an edge on core SERVER_CORE (environment: EDGE_ENV), sets EDGE_PID
    local port=$1 log=$2
    shift 2
    # As deployed (deploy/edge/Dockerfile): gen0 collected every 4 MiB, which keeps idle sessions small.
    env DOTNET_GCgen0size=0x400000 "${EDGE_ENV[@]}" taskset -c "$SERVER_CORE" dotnet "$EDGE_DLL" --urls "http://127.0.0.1:$port" \
        --Logging:LogLevel:Default=Warning "$@" >>"$WORK/$log" 2>&1 &
    EDGE_PID=$!
}

# (d): a single-member etcd and edges A and B on core SERVER_CORE; ready once each edge lists both as members.
start_cluster() {
    ETCD_DIR=$(mktemp -d "$WORK/etcd.XXXXXX")
    taskset -c "$SERVER_CORE" etcd --name bench --data-dir "$ETCD_DIR/data" \
        --listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
        --listen-peer-urls "http://127.0.0.1:$((ETCD_PORT + 1))" --initial-advertise-peer-urls "http://127.0.0.1:$((ETCD_PORT + 1))" \
        --initial-cluster "bench=http://127.0.0.1:$((ETCD_PORT + 1))" --logger zap --log-outputs stderr >>"$WORK/etcd.log" 2>&1 &
    ETCD_PID=$!
    wait_http "http://127.0.0.1:$ETCD_PORT/health" 20 || { echo "etcd did not become healthy" >&2; return 1; }
    # The shared secret edges authenticate each other with: fresh per cell, in the environment (not in ps).
    local secret
    secret=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
    local node port
    for node in a b; do
        [ "$node" = a ] && port=$EDGE_A_PORT || port=$EDGE_B_PORT
        EDGE_ENV=("Cluster__Secret=$secret")
        edge "$port" "edge-$node.log" --Cluster:Etcd="http://127.0.0.1:$ETCD_PORT" \
            --Cluster:NodeId="bench-$node" --Cluster:AdvertiseUrl="http://127.0.0.1:$port"
        SERVER_PIDS+=("$EDGE_PID")
    done
    EDGE_ENV=()
    local until=$(( $(date +%s) + CLUSTER_TIMEOUT )) a b
    while [ "$(date +%s)" -lt "$until" ]; do
        a=$(curl -sf -m 1 "http://127.0.0.1:$EDGE_A_PORT/cluster")
        b=$(curl -sf -m 1 "http://127.0.0.1:$EDGE_B_PORT/cluster")
        case "$a$b" in *'"members":["bench-a","bench-b"]'*'"members":["bench-a","bench-b"]'*) return 0 ;; esac
        sleep 0.1
    done
    echo "the two edges did not see each other within $CLUSTER_TIMEOUT s" >&2
    return 1
}

ports_free() {  # port...: false (with a message) when something already listens on one of them
    local port
    for port in "$@"; do
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            echo "port $port is already in use (another benchmark?); set PORT_BASE" >&2
            return 1
        fi
    done
}

# start_server SYSTEM: a fresh server (or cluster) per cell, so RSS baselines are clean; sets TARGET.
start_server() {  # moq | moq-tcp | moq-2edges | nats | loopback
    stop_server
    ports_free "$RELAY_PORT" "$RELAY_TCP_PORT" "$NATS_PORT" "$IPERF_PORT" "$ETCD_PORT" "$((ETCD_PORT + 1))" "$EDGE_A_PORT" "$EDGE_B_PORT" ||
        return 1
    start_"${1//-/_}" && alive && return 0
    echo "$1 server did not become ready" >&2
    return 1
}
start_moq() { start_relay moq; }
start_moq_tcp() { start_relay moq-tcp; }
start_relay() {
    # One edge configuration for both transports: WebSocket on --urls, QMux over TCP on --Tcp:Listen.
    edge "$RELAY_PORT" relay.log --Tcp:Listen="127.0.0.1:$RELAY_TCP_PORT"
    SERVER_PIDS=("$EDGE_PID")
    if [ "$1" = moq ]; then
        TARGET=(--url "http://127.0.0.1:$RELAY_PORT/anon")
    else
        TARGET=(--url "tcp://127.0.0.1:$RELAY_TCP_PORT/anon" --health "http://127.0.0.1:$RELAY_PORT/health")
    fi
    wait_http "http://127.0.0.1:$RELAY_PORT/health" 20 && wait_listening "$RELAY_TCP_PORT"
}
start_moq_2edges() {
    # Publishers on A, subscribers on B; both /health must list the broadcasts; B's /cluster gives the upstreams.
    TARGET=(--url "http://127.0.0.1:$EDGE_A_PORT/anon" --url2 "http://127.0.0.1:$EDGE_B_PORT/anon"
        --cluster "http://127.0.0.1:$EDGE_B_PORT/cluster")
    start_cluster
}
start_nats() {
    taskset -c "$SERVER_CORE" nats-server -a 127.0.0.1 -p "$NATS_PORT" >>"$WORK/nats.log" 2>&1 &
    SERVER_PIDS=($!)
    TARGET=(--url "nats://127.0.0.1:$NATS_PORT")
    wait_port 127.0.0.1 "$NATS_PORT"
}
start_loopback() {
    taskset -c "$SERVER_CORE" iperf3 -s -B 127.0.0.1 -p "$IPERF_PORT" >>"$WORK/iperf3.log" 2>&1 &
    SERVER_PIDS=($!)
    TARGET=(--url "tcp://127.0.0.1:$IPERF_PORT")
    wait_port 127.0.0.1 "$IPERF_PORT"
}

alive() {  # true while every server of the cell runs
    local pid
    for pid in "${SERVER_PIDS[@]}" $ETCD_PID; do kill -0 "$pid" 2>/dev/null || return 1; done
}

# run SYSTEM ID [load options...]
run() {
    local system=$1 id=$2
    shift 2
    DONE[$system/$id]=1
    echo "== $id on $system"
    if ! start_server "$system"; then
        dotnet "$LOAD_DLL" skip --id "$id" --system "$system" --reason "server did not start" --json "$JSONL"
        stop_server
        return
    fi
    local pids=() pid
    for pid in "${SERVER_PIDS[@]}"; do pids+=(--server-pid "$pid"); done
    timeout -k 5 $((CONNECT_TIMEOUT * 2 + DURATION + WARMUP + 60)) \
        taskset -c "$LOAD_CORE" dotnet "$LOAD_DLL" run --system "${system%-2edges}" "${TARGET[@]}" "${pids[@]}" \
        --id "$id" --duration "$DURATION" --warmup "$WARMUP" \
        --connect-timeout "$CONNECT_TIMEOUT" --json "$JSONL" "$@" | sed -n '3p'
    local rc=${PIPESTATUS[0]}
    if [ "$rc" -ne 0 ]; then
        dotnet "$LOAD_DLL" skip --id "$id" --system "$system" --reason "load tool exited with $rc" --json "$JSONL"
    fi
    if ! alive; then
        echo "!! a $system server died during $id" >&2
        dotnet "$LOAD_DLL" skip --id "$id" --system "$system" --reason "a server process died during the run" --json "$JSONL"
    fi
    stop_server
}

# every single-edge system: our relay over WebSocket and over TCP, and nats-server
all3() { run moq "$@"; run moq-tcp "$@"; run nats "$@"; }
both() { run moq "$@"; run nats "$@"; }
wants() { case " $WORKLOADS " in *" $1 "*) return 0 ;; esac; return 1; }

started=$(date +%s)
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
# CPU time the hypervisor gave to other guests (the "steal" column of /proc/stat): on a shared VM it makes every number
# noisy, and the report says how much of the run it took.
read_steal() { awk '/^cpu /{ print $9, $2+$3+$4+$5+$6+$7+$8+$9 }' /proc/stat; }
steal_start=$(read_steal)
if [ "$QUICK" = 1 ]; then
    SIZES=(1024); FANOUT=(10); RATES=(0 2.5); MANY="4 2"; IDLE_SUBS=100
    CROSS=("10 1024 2.5" "10 1024 0")          # subscribers, frame bytes, Mbit/s (0 = saturating)
else
    SIZES=(1024 16384); FANOUT=(10 100 1000); RATES=(0 2.5); MANY="100 8"
    CROSS=("100 1024 2.5" "100 16384 0")
fi
label() { [ "$1" = 0 ] && echo sat || echo "${1}M"; }
kb() { echo "$(($1 / 1024))k"; }

# The ceiling: loopback TCP with the same write sizes, and with iperf3's default 128 KB writes.
if wants loopback; then
    for size in "${SIZES[@]}" 131072; do
        run loopback "loopback-$(kb "$size")-sat" --frame "$size"
    done
fi

# (a) one publisher to N subscribers: WebSocket and TCP rows side by side with nats.
if wants a; then
    for n in "${FANOUT[@]}"; do
        for size in "${SIZES[@]}"; do
            for rate in "${RATES[@]}"; do
                all3 "a-fanout-$n-$(kb "$size")-$(label "$rate")" --publishers 1 --subscribers "$n" --frame "$size" --rate "$rate"
            done
        done
    done
fi

# (b) many publishers, each read by every subscriber session.
if wants b; then
    read -r pubs subs <<<"$MANY"
    for size in "${SIZES[@]}"; do
        all3 "b-many-${pubs}x${subs}-$(kb "$size")-2.5M" --publishers "$pubs" --subscribers "$subs" --frame "$size" --rate 2.5
    done
fi

# (c) idle sessions: memory per connected subscriber.
if wants c; then
    both "c-idle-$IDLE_SUBS" --publishers 1 --subscribers "$IDLE_SUBS" --idle --connect-parallel 64
fi

# (d) across two edges of a cluster: publisher on edge A, subscribers on edge B (WebSocket, like the (a) moq rows),
# next to the single-edge (a) row of the same shape (run here when (a) did not run it).
if wants d; then
    for cell in "${CROSS[@]}"; do
        read -r n size rate <<<"$cell"
        single="a-fanout-$n-$(kb "$size")-$(label "$rate")"
        [ -n "${DONE[moq/$single]:-}" ] ||
            run moq "$single" --publishers 1 --subscribers "$n" --frame "$size" --rate "$rate"
        run moq-2edges "d-cross-$n-$(kb "$size")-$(label "$rate")" --publishers 1 --subscribers "$n" --frame "$size" --rate "$rate"
    done
fi

stop_server
elapsed=$(( $(date +%s) - started ))
commit=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
mkdir -p "$OUT"
cp "$JSONL" "$OUT/latest.jsonl"
dotnet "$LOAD_DLL" report --in "$JSONL" --md "$OUT/latest.md" --dat "$OUT/latest.dat" \
    --context "$(date -u +%Y-%m-%dT%H:%MZ), commit $commit, $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)), kernel $(uname -r)" \
    --context "server(s) pinned to core $SERVER_CORE, load generator to core $LOAD_CORE (taskset); $DURATION s measured after $WARMUP s warm-up per cell; a fresh server per cell; workloads: $WORKLOADS$([ "$QUICK" = 1 ] && echo " (QUICK smoke sizes)"); matrix took $elapsed s" \
    --context "$(dotnet --list-runtimes | grep -m1 NETCore.App | cut -d' ' -f1-2), $(nats-server --version), $(iperf3 --version | head -1 | cut -d' ' -f1-2)$(command -v etcd >/dev/null && echo ", etcd $(etcd --version | head -1 | awk '{print $3}')"); relay Release build, log level Warning: *moq* over WebSocket + QMux, *moq-tcp* over QMux on TCP (64 KiB records)" \
    --context "two-edge rows: a single-member etcd and edges A and B (both on core $SERVER_CORE, link A↔B over WebSocket + QMux at the advertised HTTP URL, lease TTL 3 s); CPU and RSS are both edges' summed" \
    --context "machine load average (1/5/15 min) at start $load_start, at end $(cut -d' ' -f1-3 /proc/loadavg); CPU steal (time the hypervisor gave to other guests) $(read_steal | awk -v s="$steal_start" 'BEGIN { split(s, a, " ") } { d = $2 - a[2]; printf "%.1f %%", (d > 0 ? 100 * ($1 - a[1]) / d : 0) }') of the run: other work on the same cores makes every number noisy" \
    --context "frames carry a 16-byte header (send timestamp, sequence); groups of 30 frames; fixed rate = 2.5 Mbit/s per broadcast"
gnuplot -e "dat='$OUT/latest.dat'; out='$OUT/latest.png'" "$ROOT/bench/chart.gp" 2>"$WORK/gnuplot.log" ||
    { echo "no chart (a partial run may lack a system gnuplot needs):" >&2; cat "$WORK/gnuplot.log" >&2; }
echo "done in $elapsed s: $OUT/latest.md, $OUT/latest.png (raw: $OUT/latest.jsonl)"
}

main "$@"
