#!/usr/bin/env bash
# Makes sure a docker engine answers, for the compose smoke test on machines (CI) where only the CLI exists.
#   deploy/docker-engine.sh start   installs docker.io/docker-compose if missing (apt), starts dockerd in the
#                                   background unless an engine already answers, prints "started PID" or "running"
#   deploy/docker-engine.sh stop    stops the dockerd this script started (by the PID it recorded), if any
# State under ${MOQ_DOCKERD_DIR:-/tmp/moqcluster-dockerd}: dockerd.pid, dockerd.log.
set -uo pipefail
DIR=${MOQ_DOCKERD_DIR:-/tmp/moqcluster-dockerd}
mkdir -p "$DIR"
case "${1:-}" in
start)
  if docker info >/dev/null 2>&1; then echo running; exit 0; fi
  if ! command -v dockerd >/dev/null 2>&1 || ! command -v docker-compose >/dev/null 2>&1; then
    SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo -n"
    { $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq docker.io docker-compose; } >"$DIR/apt.log" 2>&1 \
      || { echo "apt-get install docker.io docker-compose failed: $(tail -3 "$DIR/apt.log")" >&2; exit 2; }
  fi
  [ "$(id -u)" = 0 ] || { echo "starting dockerd needs root (running as uid $(id -u))" >&2; exit 2; }
  setsid dockerd >"$DIR/dockerd.log" 2>&1 < /dev/null &
  echo $! >"$DIR/dockerd.pid"
  for _ in $(seq 1 150); do
    if docker info >/dev/null 2>&1; then echo "started $(cat "$DIR/dockerd.pid")"; exit 0; fi
    kill -0 "$(cat "$DIR/dockerd.pid")" 2>/dev/null || break
    sleep 0.2
  done
  echo "dockerd did not come up: $(tail -5 "$DIR/dockerd.log")" >&2
  kill "$(cat "$DIR/dockerd.pid")" 2>/dev/null; rm -f "$DIR/dockerd.pid"
  exit 2 ;;
stop)
  [ -f "$DIR/dockerd.pid" ] || exit 0
  pid=$(cat "$DIR/dockerd.pid"); rm -f "$DIR/dockerd.pid"
  kill "$pid" 2>/dev/null || exit 0
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || exit 0; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null; exit 0 ;;
*) echo "usage: $0 start|stop" >&2; exit 64 ;;
esac
