#!/usr/bin/env bash
# HTTP honeypot benchmark: `nectar serve` (release) with only the HTTP honeypot on
# 127.0.0.1:$PORT, loaded by wrk (GET, then credential POSTs with the peers' Lua
# script), every request stored: after a clean stop, the http.request rows in
# SQLite are counted and must be at least the requests wrk completed. Then the
# Flask peer of ../shared/peers (the seed's stack) is measured the same way in the
# same run. Loopback only; every load is bounded in time; servers stopped by PID.
#
#   CARGO_TARGET_DIR=/tmp/target-http cargo build --release -p nectar
#   scripts/bench_http_honeypot.sh         # ~2 min; DUR=5 for a smoke run
#
# BENCH_PATH (default /index.html, the 10.7 KB Debian default page; /robots.txt
# is 180 bytes) is the path requested. PIN=1 (default): server on core 0, wrk on core 1 (as the peers were measured);
# PIN=0: neither is pinned (the whole 2-core machine). Needs wrk, sqlite3, and
# python3 with flask for the peer (PEER=0 skips it).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
BIN=${NECTAR_BIN:-${CARGO_TARGET_DIR:-$ROOT/target}/release/nectar}
PEERS=${PEERS:-$ROOT/../shared/peers}
PORT=${PORT:-18181}
PEER_PORT=${PEER_PORT:-18182}
BENCH_PATH=${BENCH_PATH:-/index.html}
DUR=${DUR:-15}
CONNS=${CONNS:-50}
PIN=${PIN:-1}
PEER=${PEER:-1}
DIR=$(mktemp -d /tmp/nectar-http-bench.XXXXXX)
if [ "$PIN" = 1 ]; then SRV="taskset -c 0"; CLI="taskset -c 1"; else SRV=""; CLI=""; fi

cat > "$DIR/nectar.toml" <<TOML
data_dir = "$DIR/data"
[server]
listen = "127.0.0.1:0"
[honeypot.ssh]
enabled = false
[honeypot.telnet]
enabled = false
[honeypot.http]
listen = "127.0.0.1:$PORT"
max_connections_per_ip = 100000
max_requests_per_ip_per_second = 0
max_keepalive_requests = 1000000
TOML

$SRV "$BIN" --config "$DIR/nectar.toml" serve >"$DIR/serve.out" 2>"$DIR/serve.err" &
SP=$!
PP=""
cleanup() { kill "$SP" 2>/dev/null || true; [ -n "$PP" ] && kill "$PP" 2>/dev/null || true; }
trap cleanup EXIT
for _ in $(seq 120); do grep -q "HTTP honeypot listening" "$DIR/serve.out" 2>/dev/null && break; sleep 0.5; done
rss() { awk '/VmRSS/{printf "%.1f", $2/1024}' "/proc/$1/status"; }
run_wrk() { # label url [lua]
  local out
  if [ -n "${3:-}" ]; then
    out=$($CLI wrk -t1 -c"$CONNS" -d"${DUR}s" --latency -s "$3" "$2")
  else
    out=$($CLI wrk -t1 -c"$CONNS" -d"${DUR}s" --latency "$2")
  fi
  echo "$out" | grep -E "Requests/sec|requests in|99%|50%|Non-2xx|Socket errors" | sed "s/^/[$1] /"
  echo "$out" | awk '/requests in/ {print $1}' >>"$DIR/completed"
}
echo "# $("$BIN" --version) pin=$PIN conns=$CONNS duration=${DUR}s machine: $(nproc) cores, $(uname -r)"
echo "# nectar rss_before_mib $(rss "$SP")"
run_wrk nectar-get "http://127.0.0.1:$PORT$BENCH_PATH"
run_wrk nectar-post "http://127.0.0.1:$PORT$BENCH_PATH" "$PEERS/wrk_post_login.lua"
echo "# nectar rss_after_mib $(rss "$SP")"
kill -TERM "$SP"
wait "$SP" || true
completed=$(awk '{s+=$1} END {print s}' "$DIR/completed")
rows=$(sqlite3 "$DIR/data/nectar.db" "select count(*) from events where kind = 'http.request'")
logins=$(sqlite3 "$DIR/data/nectar.db" "select count(*) from events where kind = 'http.login'")
echo "# wrk completed $completed requests; stored http.request rows: $rows; http.login rows: $logins"
if [ "$rows" -lt "$completed" ]; then echo "FAIL: fewer rows than requests" >&2; exit 1; fi

if [ "$PEER" = 1 ]; then
  $SRV python3 "$PEERS/flask_min_honeypot.py" --port "$PEER_PORT" --log "$DIR/flask.jsonl" >"$DIR/flask.log" 2>&1 &
  PP=$!
  for _ in $(seq 60); do curl -s -o /dev/null "http://127.0.0.1:$PEER_PORT/" && break; sleep 0.5; done
  echo "# peer: flask_min_honeypot.py (Flask $(python3 -c 'import importlib.metadata as m; print(m.version("flask"))'), Werkzeug threaded dev server)"
  $CLI bash "$PEERS/http_bench.sh" "$PEER_PORT" "$PP" "$BENCH_PATH" "$DUR" "$CONNS" | sed "s/^/[flask] /"
  kill "$PP"; wait "$PP" 2>/dev/null || true; PP=""
  echo "# flask logged $(wc -l <"$DIR/flask.jsonl") requests"
fi
rm -rf "$DIR"
