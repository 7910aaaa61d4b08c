#!/usr/bin/env bash
# SSH CPU per connection by key exchange: release `nectar serve` and Debian 12's
# own sshd (throwaway config and host keys, UsePAM no) on 127.0.0.1, both pinned
# to core 0, driven in turn by the same OpenSSH client on core 1: each connection
# forces one key exchange (KexAlgorithms=...) and the Ed25519 host key, tries one
# wrong password and ends. Server CPU from /proc before and after (sshd: the
# listener plus its reaped per-connection children, fields 14-17; nectar: 14-15).
# Loopback only, bounded counts; both servers are stopped by their PIDs.
#
#   cargo build --release -p nectar
#   scripts/bench_ssh_kex.sh            # N=1000 connections per run, RUNS=3
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
BIN=${NECTAR_BIN:-${CARGO_TARGET_DIR:-$ROOT/target}/release/nectar}
N=${N:-1000}
RUNS=${RUNS:-3}
P=${P:-8}
KEXES=${KEXES:-"sntrup761x25519-sha512@openssh.com curve25519-sha256"}
NPORT=${NPORT:-2422}
SPORT=${SPORT:-2423}
DIR=$(mktemp -d /tmp/nectar-ssh-kex.XXXXXX)
for p in "$NPORT" "$SPORT"; do
  if ss -ltn | grep -q "127.0.0.1:$p "; then echo "port $p is in use" >&2; exit 2; fi
done

cat > "$DIR/nectar.toml" <<EOF
data_dir = "$DIR/data"
[server]
listen = "127.0.0.1:0"
[honeypot.ssh]
listen = "127.0.0.1:$NPORT"
hostname = "web-1"
failure_delay_ms = 0
max_connections = 12000
max_connections_per_ip = 12000
EOF
for t in rsa:3072 ecdsa:256 ed25519:256; do
  ssh-keygen -q -t "${t%%:*}" -b "${t##*:}" -N "" -f "$DIR/ssh_host_${t%%:*}_key"
done
cat > "$DIR/sshd_config" <<EOF
Port $SPORT
ListenAddress 127.0.0.1
PidFile $DIR/sshd.pid
UsePAM no
MaxStartups 200
HostKey $DIR/ssh_host_rsa_key
HostKey $DIR/ssh_host_ecdsa_key
HostKey $DIR/ssh_host_ed25519_key
EOF
printf '#!/bin/sh\necho wrong-password\n' > "$DIR/askpass"; chmod +x "$DIR/askpass"
mkdir -p /run/sshd

taskset -c 0 "$BIN" serve --config "$DIR/nectar.toml" >"$DIR/serve.log" 2>&1 &
NP=$!
taskset -c 0 /usr/sbin/sshd -D -f "$DIR/sshd_config" &
SP=$!
trap 'kill "$NP" "$SP" 2>/dev/null || true' EXIT
for _ in $(seq 60); do
  ss -ltn | grep -q "127.0.0.1:$NPORT " && ss -ltn | grep -q "127.0.0.1:$SPORT " && break
  sleep 0.5
done
sleep 1
TCK=$(getconf CLK_TCK)
cpu_nectar() { awk '{print $14+$15}' "/proc/$NP/stat"; }
cpu_sshd() { awk '{print $14+$15+$16+$17}' "/proc/$SP/stat"; }

one() { # port kex
  SSH_ASKPASS="$DIR/askpass" SSH_ASKPASS_REQUIRE=force DISPLAY=:0 timeout 30 ssh -p "$1" \
    -o KexAlgorithms="$2" -o HostKeyAlgorithms=ssh-ed25519 \
    -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=QUIET \
    -o PubkeyAuthentication=no -o PreferredAuthentications=password \
    -o NumberOfPasswordPrompts=1 nobody@127.0.0.1 true </dev/null >/dev/null 2>&1 || true
}
export -f one
export DIR
load() { # port kex
  seq "$N" | taskset -c 1 xargs -P "$P" -I{} bash -c "one $1 $2"
}
echo "# $(uname -r) $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# nectar $("$BIN" --version) pid $NP; sshd $(ssh -V 2>&1) pid $SP; N=$N P=$P"
for kex in $KEXES; do
  for run in $(seq "$RUNS"); do
    a=$(cpu_nectar); load "$NPORT" "$kex"; sleep 1; b=$(cpu_nectar)
    c=$(cpu_sshd); load "$SPORT" "$kex"; sleep 1; d=$(cpu_sshd)
    echo "{\"kex\": \"$kex\", \"run\": $run, \"nectar_ms_per_conn\": $(python3 -c "print(round(($b-$a)/$TCK*1000/$N,3))"), \"sshd_ms_per_conn\": $(python3 -c "print(round(($d-$c)/$TCK*1000/$N,3))")}"
  done
done
kill "$NP" "$SP"; wait "$NP" "$SP" 2>/dev/null || true
trap - EXIT
