#!/usr/bin/env bash
# Passive discovery's cost in `nectar analyze --store` (issue #17): the same
# capture analysed with and without `[inventory] networks` covering every source
# and destination of the mix (the worst case: every packet probes the host
# table), each pinned to one core; prints the median wall time of 5 runs.
# Usage: scripts/bench_inventory.sh [CAPTURE] (default /tmp/nectar-analyze-5m.pcap,
# generated with the gencap example when missing). Results: BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
F=${1:-/tmp/nectar-analyze-5m.pcap}
T=${CARGO_TARGET_DIR:-target}
cargo build --release --bin nectar >/dev/null 2>&1
cargo build --release -p nectar-packet --example gencap >/dev/null 2>&1
N=$T/release/nectar
[ -f "$F" ] || "$T/release/examples/gencap" "$F" 5000000
D=$(mktemp -d); trap 'rm -rf "$D"' EXIT
printf '[event_log]\nenabled = false\n' > "$D/off.toml"
printf '[event_log]\nenabled = false\n[inventory]\nnetworks = ["10.0.0.0/8", "192.168.0.0/16", "2001:db8::/32"]\n' > "$D/on.toml"
t() { local s e; s=$(date +%s.%N); "$@" >/dev/null 2>&1; e=$(date +%s.%N); echo "$e - $s" | bc; }
med() { sort -n | sed -n 3p; }
cat "$F" >/dev/null
for name in off on; do
  for i in 1 2 3 4 5; do
    rm -rf "$D/data-$name-$i"
    t taskset -c 1 "$N" --config "$D/$name.toml" --data-dir "$D/data-$name-$i" analyze --store --quiet --window 1s "$F"
  done | med | xargs echo "discovery-$name"
done
"$N" --config "$D/on.toml" --data-dir "$D/data-count" analyze --store --quiet --window 1s "$F" 2>&1 >/dev/null | grep -E "Inventory|Stored" || true
