#!/usr/bin/env bash
# Every (publisher lib, subscriber lib) pair through server.mjs on loopback; prints PASS/FAIL per pair.
#   bash matrix.sh [LIBS="net lite kixelated"] [extra server.mjs args...]
set -uo pipefail
cd "$(dirname "$0")"
LIBS=${LIBS:-"net lite kixelated"}
out=$(mktemp -d)
trap 'kill "$srv" 2>/dev/null; rm -rf "$out"' EXIT
node server.mjs --port 0 --parent-watch "$@" >"$out/server.log" 2>"$out/server.err" < <(sleep 86400) &
srv=$!
for _ in $(seq 100); do grep -q '"listening"' "$out/server.log" && break; sleep 0.1; done
url=$(sed -n 's/.*"url":"\([^"]*\)".*/\1/p' "$out/server.log" | head -1)
fail=0
for p in $LIBS; do
  for s in $LIBS; do
    b="m/$p-$s"
    node sub.mjs "$url/room" "$b" video --lib "$s" --expect-groups 5 --timeout 20 --log none >"$out/sub" 2>/dev/null &
    sub=$!
    node pub.mjs "$url/room" "$b" video --lib "$p" --groups 5 --frames 3 --size 500 --timeout 20 --subscriber-timeout 15 >"$out/pub" 2>/dev/null
    prc=$?
    wait "$sub"; src=$?
    if [ "$prc" = 0 ] && [ "$src" = 0 ]; then r=PASS; else r=FAIL; fail=1; fi
    printf '%-4s pub=%-9s sub=%-9s pub_exit=%s sub_exit=%s %s\n' "$r" "$p" "$s" "$prc" "$src" \
      "$(tail -1 "$out/sub" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d.get("version"), d.get("subprotocol"), "frames=%s"%d.get("frames"), "; ".join(d.get("errors",[]))[:160])' 2>/dev/null)"
  done
done
exit $fail
