#!/usr/bin/env bash
# Throughput of `nectar analyze` against tcpdump and cat on the same file, in the
# same run, each pinned to one core; prints the median wall time of 5 runs.
# Usage: scripts/bench_analyze.sh [CAPTURE] (default /tmp/nectar-analyze-5m.pcap,
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
"$N" --data-dir "$D" analyze --quiet --baseline "$F" --window 100ms --save-model "$D/m.json" "$F" >/dev/null 2>&1
t() { local s e; s=$(date +%s.%N); "$@" >/dev/null 2>&1; e=$(date +%s.%N); echo "$e - $s" | bc; }
med() { sort -n | sed -n 3p; }
cat "$F" >/dev/null
# The link statistics only (no SRC_* statistic: the per-source table is not kept),
# for the A/B of the per-source views.
LINK=AVG_PKT_SIZE,R_ACK,R_SYN,R_ARP,R_ICMP,R_IP,R_DST_SRC,R_DST_SRC_PORT,TRAFFIC
for name in analyze1s analyze1s-link analyze100ms analyze100ms-link analyze100ms-model tcpdump cat; do
  for _ in 1 2 3 4 5; do
    case $name in
      analyze1s) t taskset -c 1 "$N" --data-dir "$D" analyze --quiet --window 1s "$F" ;;
      analyze1s-link) t taskset -c 1 "$N" --data-dir "$D" analyze --quiet --window 1s --stat "$LINK" "$F" ;;
      analyze100ms) t taskset -c 1 "$N" --data-dir "$D" analyze --quiet --window 100ms "$F" ;;
      analyze100ms-link) t taskset -c 1 "$N" --data-dir "$D" analyze --quiet --window 100ms --stat "$LINK" "$F" ;;
      analyze100ms-model) t taskset -c 1 "$N" --data-dir "$D" analyze --quiet --model "$D/m.json" "$F" ;;
      tcpdump) t taskset -c 1 tcpdump -r "$F" -w /dev/null ;;
      cat) t taskset -c 1 sh -c "cat '$F' > /dev/null" ;;
    esac
  done | med | xargs echo "$name"
done
