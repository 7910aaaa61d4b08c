#!/usr/bin/env bash
# Cost of the per-device models in `nectar analyze`: the same capture of
# synthetic device traffic (10,000 devices by default) analysed with
# `[devices] enabled = false` and `true` (both with `[inventory] networks`
# covering every device), each pinned to one core; median wall time of 5 runs.
# Usage: scripts/bench_devices.sh [DEVICES] [SECONDS]. Results: BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
DEV=${1:-10000}
SECS=${2:-50}
T=${CARGO_TARGET_DIR:-target}
F=/tmp/nectar-devices-$DEV-$SECS.pcap
cargo build --release --bin nectar >/dev/null 2>&1
cargo build --release -p nectar-devices --example gendevices >/dev/null 2>&1
N=$T/release/nectar
[ -f "$F" ] || "$T/release/examples/gendevices" "$F" "$DEV" "$SECS"
D=$(mktemp -d); trap 'rm -rf "$D"' EXIT
for on in false true; do
  cat > "$D/$on.toml" <<TOML
[inventory]
networks = ["198.18.0.0/15"]
[devices]
enabled = $on
window = "5s"
learn_windows = 3
min_learn_windows = 3
TOML
done
t() { local s e; s=$(date +%s.%N); "$@" >/dev/null 2>&1; e=$(date +%s.%N); echo "$e - $s" | bc; }
med() { sort -n | sed -n 3p; }
cat "$F" >/dev/null
"$N" --data-dir "$D" --config "$D/true.toml" analyze --quiet --window 1s "$F" 2>&1 | grep -E "^(Devices|Packets)" || true
for on in false true; do
  for _ in 1 2 3 4 5; do
    t taskset -c 1 "$N" --data-dir "$D" --config "$D/$on.toml" analyze --quiet --window 1s "$F"
  done | med | xargs echo "devices=$on"
done
