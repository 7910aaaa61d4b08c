#!/usr/bin/env bash
# False alarms of `nectar analyze` on long benign traffic: two network
# namespaces (documentation addresses 192.0.2.0/24, inside the namespaces
# only), a server (a web server with pages of several sizes, a real OpenSSH
# server, a UDP request/answer service) and two clients that browse, poll,
# log in over SSH and run commands, ping, query the UDP service, and now and
# then download a large file, at random intervals. The first LEARN minutes
# are captured as the baseline, the next WATCH minutes are monitored; prints
# the alarms per hour by statistic. Run as root; every loop is bounded by the
# duration; the namespaces are deleted on exit.
#
# KEEP=dir keeps the two captures there.
# Usage: [NECTAR=path] [KEEP=dir] scripts/benign_lab.sh [LEARN_MINUTES=10] [WATCH_MINUTES=50] [WINDOW=200ms]
# Results: BENCHMARKS.md ("False alarms on benign traffic").
set -euo pipefail
cd "$(dirname "$0")/.."
LEARN=${1:-10}
WATCH=${2:-50}
WINDOW=${3:-200ms}
T=${CARGO_TARGET_DIR:-target}
# NECTAR=path uses that binary instead of building one.
if [ -z "${NECTAR:-}" ]; then
    cargo build --release --bin nectar >/dev/null 2>&1
fi
N=${NECTAR:-$T/release/nectar}
for tool in ip tcpdump curl ping ssh ssh-keygen python3; do
    command -v "$tool" >/dev/null || { echo "needs $tool" >&2; exit 2; }
done
SSHD=$(command -v sshd || echo /usr/sbin/sshd)
[ -x "$SSHD" ] || { echo "needs sshd (openssh-server)" >&2; exit 2; }

A=nectar-lab-a-$$ B=nectar-lab-b-$$ VA=vla$$ VB=vlb$$
W=$(mktemp -d)
cleanup() {
    # The client loops and ping run from this script.
    kill $(jobs -p) 2>/dev/null || true
    for ns in "$A" "$B"; do
        for p in $(ip netns pids "$ns" 2>/dev/null); do kill -INT "$p" 2>/dev/null || true; done
    done
    sleep 2
    for ns in "$A" "$B"; do
        for p in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$p" 2>/dev/null || true; done
        ip netns del "$ns" 2>/dev/null || true
    done
    if [ -n "${KEEP:-}" ]; then
        mkdir -p "$KEEP" && cp "$W"/learn.pcap "$W"/watch.pcap "$KEEP"/ 2>/dev/null || true
    fi
    rm -rf "$W"
}
trap cleanup EXIT
ip netns add "$A"
ip netns add "$B"
ip link add "$VA" netns "$A" type veth peer name "$VB" netns "$B"
ip -n "$A" addr add 192.0.2.1/24 dev "$VA"
ip -n "$A" addr add 192.0.2.3/24 dev "$VA"
ip -n "$B" addr add 192.0.2.2/24 dev "$VB"
for ns in "$A" "$B"; do ip -n "$ns" link set lo up; done
ip -n "$A" link set "$VA" up
ip -n "$B" link set "$VB" up
S=192.0.2.2

# The server: pages of 1 KB to 5 MB, sshd with a key for the clients, a UDP service.
mkdir -p "$W/www" /run/sshd
head -c 1000 /dev/urandom | base64 > "$W/www/index.html"
head -c 50000 /dev/urandom > "$W/www/page.bin"
head -c 5000000 /dev/urandom > "$W/www/big.bin"
ssh-keygen -q -t ed25519 -N '' -f "$W/host_key"
ssh-keygen -q -t ed25519 -N '' -f "$W/client_key"
cp "$W/client_key.pub" "$W/authorized_keys"
chmod 600 "$W/authorized_keys"
cat > "$W/sshd_config" <<EOF
Port 22
ListenAddress $S
HostKey $W/host_key
PidFile $W/sshd.pid
UsePAM no
PermitRootLogin yes
StrictModes no
AuthorizedKeysFile $W/authorized_keys
EOF
ip netns exec "$B" "$SSHD" -D -f "$W/sshd_config" &
ip netns exec "$B" python3 -m http.server 8080 --bind $S --directory "$W/www" >/dev/null 2>&1 &
ip netns exec "$B" python3 -c "
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(('$S', 5353))
while True:
    data, peer = s.recvfrom(512)
    s.sendto(data[:64] + b'-answer', peer)
" &
sleep 1

END=$(( $(date +%s) + (LEARN + WATCH) * 60 + 5 ))
# Each client loop: one kind of traffic at random intervals, until END.
client() { # ADDRESS
    local me=$1
    while [ "$(date +%s)" -lt "$END" ]; do
        case $(( RANDOM % 20 )) in
            0) ip netns exec "$A" curl -s -m 30 --interface "$me" -o /dev/null "http://$S:8080/big.bin" || true ;;
            1|2|3) ip netns exec "$A" timeout 20 ssh -b "$me" -i "$W/client_key" -o BatchMode=yes \
                     -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
                     -o ConnectTimeout=5 "root@$S" 'uptime; ls /' >/dev/null 2>&1 || true ;;
            4|5|6) ip netns exec "$A" python3 -c "
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(('$me', 0)); s.settimeout(1)
s.sendto(b'query-%d' % 1, ('$S', 5353))
try: s.recvfrom(512)
except OSError: pass
" || true ;;
            *) ip netns exec "$A" curl -s -m 5 --interface "$me" -o /dev/null \
                     "http://$S:8080/$([ $((RANDOM % 3)) = 0 ] && echo page.bin || echo index.html)" || true ;;
        esac
        sleep "0.$(( RANDOM % 10 ))$(( RANDOM % 10 ))"
        if [ $(( RANDOM % 10 )) = 0 ]; then sleep $(( RANDOM % 5 )); fi
    done
}

capture() { # NAME MINUTES
    ip netns exec "$B" tcpdump -i "$VB" -U -s 262144 -w "$W/$1.pcap" >/dev/null 2>&1 &
    local pid=$!
    sleep $(( $2 * 60 ))
    kill -INT "$pid"; wait "$pid" 2>/dev/null || true
}

ip netns exec "$A" ping -q -I 192.0.2.1 -i 1 -w $(( (LEARN + WATCH) * 60 + 5 )) $S >/dev/null 2>&1 &
client 192.0.2.1 &
client 192.0.2.3 &
capture learn "$LEARN"
capture watch "$WATCH"

D=$W/data
"$N" --data-dir "$D" analyze --baseline "$W/learn.pcap" --window "$WINDOW" --json \
    "$W/watch.pcap" > "$W/alarms.jsonl" 2> "$W/analyze.err" || { cat "$W/analyze.err"; exit 1; }
grep -E '^(Packets|Windows|Alarms):' "$W/analyze.err" || true
python3 - "$W/alarms.jsonl" "$WATCH" <<'EOF'
import collections, json, sys
alarms = [json.loads(l) for l in open(sys.argv[1]) if l.startswith('{')]
alarms = [a for a in alarms if a.get('kind') == 'net.alarm']
hours = int(sys.argv[2]) / 60
by = collections.Counter(a['data']['stat'] for a in alarms)
print(f"false alarms: {len(alarms)} in {hours:.2f} h = {len(alarms) / hours:.2f} per hour")
for stat, n in by.most_common():
    print(f"  {stat:18} {n}")
for a in alarms[:20]:
    print("  ", a['time'], a['summary'][:160])
EOF
