#!/usr/bin/env bash
# SSH honeypot benchmark: `nectar serve` (release) on 127.0.0.1:$PORT, driven by the
# same asyncssh client as the Cowrie run (../shared/peers/ssh_login_load.py), with
# the server pinned to core 0 and the clients to core 1. Loopback only, every
# load bounded in count and time; the server is stopped by its PID.
#
#   CARGO_TARGET_DIR=target-ssh cargo build --release -p nectar
#   scripts/bench_ssh_honeypot.sh            # ~5 min; QUICK=1 for a smoke run
#
# Needs python3 with asyncssh and psutil (LOADGEN_PY, default /tmp/loadgen-venv,
# made by run_cowrie_bench.sh) and ulimit -n above 2x the held sessions.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
BIN=${NECTAR_BIN:-$ROOT/target-ssh/release/nectar}
LOAD=${LOAD:-$ROOT/../shared/peers/ssh_login_load.py}
PY=${LOADGEN_PY:-/tmp/loadgen-venv/bin/python}
PORT=${PORT:-2322}
HOLD=${HOLD:-10000}            # sessions held at once (in clients of 2,000)
Q=${QUICK:-0}
DIR=$(mktemp -d /tmp/nectar-ssh-bench.XXXXXX)

cat > "$DIR/nectar.toml" <<EOF
data_dir = "$DIR/data"
[server]
listen = "127.0.0.1:0"
[honeypot.ssh]
listen = "127.0.0.1:$PORT"
hostname = "web-1"
failure_delay_ms = 0
max_connections = 12000
max_connections_per_ip = 12000
backlog = 4096
EOF

# A server left on the port would answer instead, and be measured by mistake.
if ss -ltn | grep -q "127.0.0.1:$PORT "; then echo "port $PORT is in use: stop what listens there" >&2; exit 2; fi
taskset -c 0 "$BIN" serve --config "$DIR/nectar.toml" >"$DIR/serve.log" 2>&1 &
SP=$!
trap 'kill "$SP" 2>/dev/null || true' EXIT
for _ in $(seq 60); do ss -ltn | grep -q "127.0.0.1:$PORT " && break; sleep 0.5; done
sleep 1
L() { timeout 300 taskset -c 1 "$PY" "$LOAD" "$@" --port "$PORT" --server-pid "$SP"; }
cpu() { awk '{print $14+$15}' "/proc/$1/stat"; }
rss() { awk '/VmRSS/{print $2}' "/proc/$1/status"; }
TCK=$(getconf CLK_TCK)

echo "# nectar $("$BIN" --version) pid $SP idle_rss_kib $(rss "$SP") port $PORT"
if [ "$Q" = 1 ]; then
  L attempts --total 200 --concurrency 100 --per-conn 1 --user nobody --password wrong
  L hold --concurrency 50 --password 123456 --shell --hold-s 3
  exit 0
fi
# Memory per held PTY shell (BENCHMARKS.md): 1,000 shells held first thing on
# the fresh server; per_session_kib is (RSS held - RSS idle) / shells.
L hold --concurrency 1000 --password 123456 --shell --hold-s 15
for c in 100 200 400 800; do L attempts --total $((c*8)) --concurrency $c --per-conn 1 --user nobody --password wrong; done
L attempts --total 2400 --concurrency 800 --per-conn 3 --user admin --password nope
L attempts --total 2400 --concurrency 800 --per-conn 6 --user admin --password nope
a=$(cpu "$SP"); L attempts --total 3000 --concurrency 200 --per-conn 1 --user nobody --password wrong >/dev/null; b=$(cpu "$SP")
echo "{\"nectar_cpu_ms_per_ssh_conn\": $(python3 -c "print(round(($b-$a)/$TCK*1000/3000,3))")}"
# Server CPU per connection with the host key forced (the figure BENCHMARKS.md
# compares with Cowrie): 2,000 connections, 100 in flight, three runs each.
for alg in ssh-ed25519 ecdsa-sha2-nistp256; do
  for _ in 1 2 3; do
    a=$(cpu "$SP")
    HOSTKEY_ALGS=$alg timeout 300 taskset -c 1 "$PY" "$HERE/ssh_load_hostkey.py" "$LOAD" attempts \
      --total 2000 --concurrency 100 --per-conn 1 --user nobody --password wrong --port "$PORT" >/dev/null
    b=$(cpu "$SP")
    echo "{\"host_key\": \"$alg\", \"nectar_cpu_ms_per_ssh_conn\": $(python3 -c "print(round(($b-$a)/$TCK*1000/2000,3))")}"
  done
done
L hold --concurrency 200 --password 123456 --hold-s 10
L hold --concurrency 200 --password 123456 --shell --hold-s 10
# Many sessions at once: HOLD/2000 clients of 2,000 PTY shells each, all held
# together; RSS is read from /proc while they are open and after they close.
idle=$(rss "$SP"); n=$(( (HOLD + 1999) / 2000 )); pids=()
for i in $(seq "$n"); do
  L hold --concurrency 2000 --password 123456 --shell --hold-s 40 --open-parallel 100 \
    > "$DIR/hold$i.json" & pids+=($!)
done
peak=0
open=0
for _ in $(seq 240); do
  sleep 1; r=$(rss "$SP"); [ "$r" -gt "$peak" ] && peak=$r
  o=$(ss -tn state established "( sport = :$PORT )" | tail -n +2 | wc -l); [ "$o" -gt "$open" ] && open=$o
  alive=0; for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
  [ "$alive" = 1 ] || break
done
wait "${pids[@]}" || true
sleep 5
after=$(rss "$SP")
sleep 25 # mimalloc hands freed pages back over some seconds
after30=$(rss "$SP")
est=$(cat "$DIR"/hold*.json | python3 -c 'import sys,json; print(sum(json.loads(l)["established"] for l in sys.stdin))')
echo "{\"held_sessions\": $est, \"established_at_peak\": $open, \"rss_idle_kib\": $idle, \"rss_peak_kib\": $peak, \"rss_after_close_kib\": $after, \"rss_30s_after_close_kib\": $after30, \"kib_per_session\": $(( (peak - idle) / (est > 0 ? est : 1) ))}"
cat "$DIR"/hold*.json
kill "$SP"; wait "$SP" 2>/dev/null || true
trap - EXIT
echo "# events logged: $(grep -c . "$DIR/serve.log" || true) log lines; data in $DIR"
