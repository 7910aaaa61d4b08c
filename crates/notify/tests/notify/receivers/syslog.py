#!/usr/bin/env python3
"""A syslog receiver for the notifier's tests: UDP (a datagram per message)
or TCP with RFC 6587 octet counting, read strictly (a frame that does not
start with a length is logged as an error). Logs each message as a JSON
line. Prints "PORT <n>" when ready.

Usage: syslog.py LOG udp|tcp
"""
import json, socket, sys, threading

log_path, protocol = sys.argv[1], sys.argv[2]
lock = threading.Lock()


def log(entry):
    with lock, open(log_path, "a") as f:
        f.write(json.dumps(entry) + "\n")


def read_frames(conn):
    buf = b""
    while True:
        chunk = conn.recv(65536)
        if not chunk:
            if buf:
                log({"error": "trailing bytes", "raw": buf.decode("utf-8", "replace")})
            return
        buf += chunk
        while buf:
            head, sep, rest = buf.partition(b" ")
            if not sep:
                break
            if not head.isdigit():
                log({"error": "not octet-counted", "raw": buf.decode("utf-8", "replace")})
                return
            n = int(head)
            if len(rest) < n:
                break
            log({"message": rest[:n].decode("utf-8")})
            buf = rest[n:]


if protocol == "udp":
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    print(f"PORT {sock.getsockname()[1]}", flush=True)
    while True:
        data, _ = sock.recvfrom(65536)
        log({"message": data.decode("utf-8")})
else:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    print(f"PORT {sock.getsockname()[1]}", flush=True)
    while True:
        conn, _ = sock.accept()
        threading.Thread(target=read_frames, args=(conn,), daemon=True).start()
