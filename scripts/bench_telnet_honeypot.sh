#!/usr/bin/env bash
# Telnet honeypot benchmark: `nectar serve` (release) against Cowrie's Telnet, in
# the same run, with the same clients: failed logins per second (a new connection
# per attempt) at 40, 200 and 2,000 concurrent connections, and memory per open
# logged-in shell (scripts/telnet_hold.py). Optionally the floor: a trivial server
# doing the same exchange with no events (FLOOR=1), so what is Nectar's own shows.
# Each server is pinned to core 0 and the clients to core 1 (Cowrie is
# single-threaded, so both servers get one core). Loopback only, every load
# bounded in count and time; servers are stopped by their PID.
#
#   CARGO_TARGET_DIR=target cargo build --release -p nectar \
#       -p nectar-honeypot --example telnet_login_load --example telnet_floor_server
#   sudo scripts/bench_telnet_honeypot.sh          # ~4 min; QUICK=1 for a smoke run
#
# The load client is the compiled one (crates/honeypot/examples/telnet_login_load.rs,
# same steps as ../shared/peers/telnet_login_load.py, which spends a whole core at
# about 6,000 attempts a second); CLIENT=python uses the Python one.
# Cowrie: installed from PyPI into /tmp/cowrie-venv and run as an unprivileged
# user, as ../shared/peers/run_cowrie_bench.sh does (COWRIE=0 skips it, NECTAR=0
# skips Nectar). Needs root (Cowrie refuses to run as root, so it runs as
# `cowriebench`), python3, taskset, and ulimit -n above 4,000.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
BIN=${NECTAR_BIN:-$TARGET/release/nectar}
LOAD_BIN=${LOAD_BIN:-$TARGET/release/examples/telnet_login_load}
FLOOR_BIN=${FLOOR_BIN:-$TARGET/release/examples/telnet_floor_server}
LOAD_PY=${LOAD_PY:-$ROOT/../shared/peers/telnet_login_load.py}
CLIENT=${CLIENT:-rust}
FPORT=${FLOOR_PORT:-2325}
WITH_FLOOR=${FLOOR:-0}
# Connections per run. More makes the client slower, not the server: each of its
# connections ends in TIME_WAIT on its side and the kernel's search for a free
# source port grows with them (see BENCHMARKS.md).
TOTAL=${TOTAL:-4000}
COWRIE_TOTAL=${COWRIE_TOTAL:-4000}
COWRIE_TOTAL_2000=${COWRIE_TOTAL_2000:-10000}
HOLD=$HERE/telnet_hold.py
PORT=${PORT:-2324}
CPORT=${COWRIE_PORT:-2223}
Q=${QUICK:-0}
WITH_COWRIE=${COWRIE:-1}
WITH_NECTAR=${NECTAR:-1}
# Cores Nectar may use: 0 (the default) compares one core with Cowrie's one; 0,1
# lets it use the machine as a deployment would (the client shares core 1).
NECTAR_CPUS=${NECTAR_CPUS:-0}
ulimit -n 20000 2>/dev/null || true
DIR=$(mktemp -d /tmp/nectar-telnet-bench.XXXXXX)

cat > "$DIR/nectar.toml" <<EOF
data_dir = "$DIR/data"
[server]
listen = "127.0.0.1:0"
[honeypot.ssh]
enabled = false
[honeypot.telnet]
listen = "127.0.0.1:$PORT"
hostname = "cam-1"
failure_delay_ms = 0
max_connections = 12000
# All load comes from 127.0.0.1.
max_connections_per_ip = 12000
backlog = 4096
EOF

PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT
rss() { awk '/VmRSS/{print $2}' "/proc/$1/status"; }

cpu() { awk '{print $14+$15}' "/proc/$1/stat"; }
TCK=$(getconf CLK_TCK)
# Attempts: admin/wrongpass is refused by both servers' default credentials. The
# client's rate is bounded by its own core, so the server's CPU time per attempt
# (utime+stime over the run) is printed too: it gives logins/s per server core.
if [ "$CLIENT" = python ]; then LOAD=(python3 "$LOAD_PY"); else LOAD=("$LOAD_BIN" --max-seconds 240); fi
attempts() { # port pid total concurrency
  local a b
  a=$(cpu "$2")
  timeout 300 taskset -c 1 "${LOAD[@]}" --port "$1" --total "$3" --concurrency "$4" \
    --user admin --password wrongpass --timeout 10
  b=$(cpu "$2")
  echo "{\"server_cpu_ms_per_attempt\": $(python3 -c "print(round(($b-$a)/$TCK*1000/$3,3))"), \"concurrency\": $4}"
}
# CPU ticks of a process by thread name (where the time went: runtime, SQLite, ...).
threads() {
  for t in /proc/"$1"/task/*; do
    printf '%s\t%s\n' "$(cat "$t/comm")" "$(awk '{print $14+$15}' "$t/stat")"
  done | awk -F'\t' '{a[$1]+=$2} END {for (k in a) printf "# thread %s cpu_ticks %d\n", k, a[k]}'
}
# The servers started below, in the order they run.
LABELS=(); PORTS=(); SPIDS=(); PASSWORDS=(); TOTALS=()
add_server() { LABELS+=("$1"); PORTS+=("$2"); SPIDS+=("$3"); PASSWORDS+=("$4"); TOTALS+=("$5"); }

# --- Nectar ---
if [ "$WITH_NECTAR" = 1 ]; then
  # A server left on the port would answer instead, and be measured by mistake.
  if ss -ltn | grep -q "127.0.0.1:$PORT "; then echo "port $PORT is in use: stop what listens there" >&2; exit 2; fi
  taskset -c "$NECTAR_CPUS" "$BIN" serve --config "$DIR/nectar.toml" >"$DIR/serve.log" 2>&1 &
  NP=$!
  PIDS+=("$NP")
  for _ in $(seq 120); do ss -ltn | grep -q "127.0.0.1:$PORT " && break; sleep 0.5; done
  sleep 1
  add_server "nectar $("$BIN" --version)" "$PORT" "$NP" 123456 "$TOTAL"
fi

# --- The floor: the same exchange, no events (no memory hold: it has no shell) ---
if [ "$WITH_FLOOR" = 1 ]; then
  taskset -c 0 "$FLOOR_BIN" --port "$FPORT" --max-seconds 1800 2>"$DIR/floor.log" &
  FP=$!
  PIDS+=("$FP")
  for _ in $(seq 60); do ss -ltn | grep -q "127.0.0.1:$FPORT " && break; sleep 0.5; done
  add_server "floor (trivial tokio server)" "$FPORT" "$FP" "" "$TOTAL"
fi

# --- Cowrie (same clients, same core) ---
if [ "$WITH_COWRIE" = 1 ]; then
  VENV=/tmp/cowrie-venv; RUN=/tmp/cowrie-telnet-run; USR=cowriebench
  [ -x "$VENV/bin/cowrie" ] || { /usr/bin/python3 -m venv "$VENV"; "$VENV/bin/pip" -q install "cowrie==3.1.4"; }
  id "$USR" >/dev/null 2>&1 || useradd -M -s /usr/sbin/nologin "$USR"
  mkdir -p "$RUN/etc" "$RUN/var/log/cowrie" "$RUN/var/lib/cowrie/downloads" "$RUN/var/lib/cowrie/tty" "$RUN/var/run"
  cat > "$RUN/etc/cowrie.cfg" <<EOF
[honeypot]
hostname = svr04
[ssh]
enabled = false
[telnet]
enabled = true
listen_endpoints = tcp:$CPORT:interface=127.0.0.1
[output_jsonlog]
enabled = true
EOF
  # root logs in with any password but root and 123456; others always fail.
  printf 'root:x:!root\nroot:x:!123456\nroot:x:*\n' > "$RUN/etc/userdb.txt"
  rm -f "$RUN/var/run/cowrie.pid"
  chown -R "$USR" "$RUN"
  su -s /bin/bash "$USR" -c "cd $RUN && PATH=$VENV/bin:\$PATH cowrie start" >/dev/null
  for _ in $(seq 60); do [ -s "$RUN/var/run/cowrie.pid" ] && ss -ltn | grep -q "127.0.0.1:$CPORT " && break; sleep 1; done
  CP=$(cat "$RUN/var/run/cowrie.pid")
  PIDS+=("$CP")
  taskset -a -p -c 0 "$CP" >/dev/null
  sleep 1
  add_server "cowrie 3.1.4" "$CPORT" "$CP" s3cret "$COWRIE_TOTAL"
fi

# Memory first, on each fresh process (a heap grown by the load would hide it).
if [ "$Q" = 1 ]; then HELD=100; HOLD_S=1; else HELD=1000; HOLD_S=3; fi
for i in "${!LABELS[@]}"; do
  echo "# ${LABELS[$i]} pid ${SPIDS[$i]} idle_rss_kib $(rss "${SPIDS[$i]}")"
  [ -z "${PASSWORDS[$i]}" ] || timeout 300 taskset -c 1 python3 "$HOLD" --port "${PORTS[$i]}" \
    --server-pid "${SPIDS[$i]}" --sessions "$HELD" --password "${PASSWORDS[$i]}" --hold-s "$HOLD_S"
done
# Then the login rates, the servers alternating run by run, so that a change in
# the machine's load (it is shared) touches all of them alike.
if [ "$Q" = 1 ]; then SETS=(40); RUNS=1; else SETS=(40 200 2000); RUNS=3; fi
for c in "${SETS[@]}"; do
  for run in $(seq "$RUNS"); do
    for i in "${!LABELS[@]}"; do
      n=${TOTALS[$i]}
      # Cowrie's connections lost at 2,000 concurrent each wait out the 10 s
      # timeout: a longer run, so that the rate is not the timeout's.
      if [ "$c" = 2000 ] && [ "${SPIDS[$i]}" = "${CP:-}" ]; then n=$COWRIE_TOTAL_2000; fi
      if [ "$Q" = 1 ]; then n=400; fi
      echo "# ${LABELS[$i]} run $run"
      attempts "${PORTS[$i]}" "${SPIDS[$i]}" "$n" "$c"
    done
  done
done
for i in "${!LABELS[@]}"; do
  echo "# ${LABELS[$i]} rss_after_load_kib $(rss "${SPIDS[$i]}")"
  threads "${SPIDS[$i]}"
done
if [ "$WITH_COWRIE" = 1 ]; then
  su -s /bin/bash "$USR" -c "cd $RUN && PATH=$VENV/bin:\$PATH cowrie stop" >/dev/null || kill "$CP"
fi
rm -rf "$DIR"
