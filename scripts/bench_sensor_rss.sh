#!/usr/bin/env bash
# A remote sensor's memory under load (#20: < 64 MiB RSS with a full honeypot
# and packet detection load). Starts a release `nectar serve` with HTTPS, enrols
# a sensor, runs `nectar sensor` with the SSH, Telnet and HTTP honeypots and live
# capture on `lo`, then loads it: hydra against SSH (16 tasks), wrk against HTTP
# (64 connections), for DURATION seconds (default 60), sampling the sensor's
# RSS every 100 ms. Prints the sensor's peak RSS and what reached the server.
# Loopback only; needs root (capture), hydra and wrk. NECTAR=path: that binary
# instead of building one (to compare two builds on the same load);
# SENSOR_EXTRA: more lines for the sensor's config (e.g. "ring_mib = 4", which
# lands in [capture], or a [sensor] section after it).
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION="${DURATION:-60}"
if [ -z "${NECTAR:-}" ]; then
    cargo build --release --quiet
    NECTAR="$PWD/target/release/nectar"
fi
N="$NECTAR"
W="$(mktemp -d)"
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$W"' EXIT
TLS_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat > "$W/server.toml" <<TOML
[server]
listen = "127.0.0.1:0"
[server.tls]
listen = "127.0.0.1:$TLS_PORT"
[honeypot.ssh]
enabled = false
[honeypot.telnet]
enabled = false
[honeypot.http]
enabled = false
TOML
: > "$W/server.out"; : > "$W/sensor.out"
"$N" -c "$W/server.toml" --data-dir "$W/server" serve > "$W/server.out" 2> "$W/server.log" &
for _ in $(seq 100); do grep -q "^Nectar is listening" "$W/server.out" && break; sleep 0.2; done
URL=$(grep -o "http://[0-9.:]*" "$W/server.out" | head -1)
LINE=$("$N" -c "$W/server.toml" --data-dir "$W/server" sensor-token create rss-sensor --url "https://127.0.0.1:$TLS_PORT" 2>/dev/null | tail -1)
set -- $LINE
"$N" sensor enrol "$4" "$5" --pin "$7" --data-dir "$W/sensor" > /dev/null
cat > "$W/sensor.toml" <<TOML
[honeypot.ssh]
listen = "127.0.0.1:0"
[honeypot.telnet]
listen = "127.0.0.1:0"
[honeypot.http]
listen = "127.0.0.1:0"
max_requests_per_ip_per_second = 0
[capture]
interface = "lo"
${SENSOR_EXTRA:-}
TOML
"$N" -c "$W/sensor.toml" --data-dir "$W/sensor" sensor > "$W/sensor.out" 2> "$W/sensor.log" &
SENSOR=$!
for _ in $(seq 100); do grep -q "^Nectar sensor" "$W/sensor.out" && break; sleep 0.2; done
SSH=$(grep -o "SSH honeypot listening on [0-9.:]*" "$W/sensor.out" | awk -F: '{print $NF}')
HTTP=$(grep -o "HTTP honeypot listening on [0-9.:]*" "$W/sensor.out" | awk '{print $NF}')
sleep 5
idle=$(awk '/VmRSS/ {print $2}' /proc/$SENSOR/status)
# Where it is: anonymous (the heap), file (the binary's pages, the capture
# ring), shared memory.
parts() { awk '/RssAnon|RssFile|RssShmem/ {printf "%s %d MiB, ", $1, $2 / 1024}' /proc/$SENSOR/status; }
idle_parts=$(parts)
printf 'root\nadmin\nubuntu\npi\n' > "$W/users"; seq 1 5000 | sed 's/^/pass/' > "$W/passwords"
( end=$((SECONDS + DURATION)); while [ $SECONDS -lt $end ]; do
    timeout $((end - SECONDS + 1)) hydra -q -t 16 -L "$W/users" -P "$W/passwords" -s "$SSH" ssh://127.0.0.1 > /dev/null 2>&1 || true
  done ) &
wrk -t 2 -c 64 -d "${DURATION}s" "http://$HTTP/wp-login.php" > "$W/wrk.txt" 2>&1 &
peak=0
peak_parts=
end=$((SECONDS + DURATION))
while [ $SECONDS -lt $end ]; do
    rss=$(awk '/VmRSS/ {print $2}' /proc/$SENSOR/status)
    if [ "$rss" -gt "$peak" ]; then peak=$rss; peak_parts=$(parts); fi
    sleep 0.1
done
sleep 5
after=$(awk '/VmRSS/ {print $2}' /proc/$SENSOR/status)
echo "sensor RSS: idle $((idle / 1024)) MiB, peak under load $((peak / 1024)) MiB, 5 s after $((after / 1024)) MiB (${DURATION} s of hydra -t 16 on SSH and wrk -c 64 on HTTP, capture on lo)"
echo "idle: $idle_parts"
echo "peak: $peak_parts"
grep -E "requests in|Requests/sec|Socket errors" "$W/wrk.txt" | sed 's/^ */wrk: /'
# Nothing lost: every request wrk saw answered is an http.request event on the
# server once the sensor's spool has drained (at most DRAIN seconds).
DRAIN="${DRAIN:-600}"
count() { python3 -c "import sqlite3,sys; c=sqlite3.connect('file:'+sys.argv[1]+'?mode=ro', uri=True); print(c.execute(\"select count(*) from events where sensor='rss-sensor' and kind='http.request'\").fetchone()[0])" "$W/server/nectar.db"; }
spooled() { python3 -c "import sqlite3,sys; c=sqlite3.connect('file:'+sys.argv[1]+'?mode=ro', uri=True); print(c.execute(\"select value from counters where name='events'\").fetchone()[0])" "$W/sensor/spool.db"; }
start=$SECONDS
while [ "$(spooled)" -gt 0 ] && [ $((SECONDS - start)) -lt "$DRAIN" ]; do sleep 2; done
sleep 2
answered=$(awk '/requests in/ {print $1}' "$W/wrk.txt")
echo "drained in $((SECONDS - start)) s; spool now $(spooled) events; server holds $(count) http.request events of the sensor; wrk had $answered answered"
kill -TERM $SENSOR; wait $SENSOR 2>/dev/null || true
