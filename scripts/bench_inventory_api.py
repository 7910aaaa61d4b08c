#!/usr/bin/env python3
"""Inventory of a /16 (issue #17): 65,536 hosts and 500,000 services put
straight into a fresh store, then `nectar serve` (release) answers the host
list, searches and host pages; prints p50 and p95 latency of 200 requests each.

Usage: scripts/bench_inventory_api.py [NECTAR_BINARY] (default
target/release/nectar). Results: BENCHMARKS.md."""
import json
import os
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request

BIN = sys.argv[1] if len(sys.argv) > 1 else "target/release/nectar"
PORTS = [22, 80, 443, 53, 3389, 8080, 445, 139]
HOSTS = 65_536
SERVICES = 500_000


def fill(db):
    con = sqlite3.connect(db)
    now = int(time.time() * 1_000_000)
    rows = []
    for i in range(HOSTS):
        a = f"10.1.{i // 256}.{i % 256}"
        key = bytes(10) + b"\xff\xff" + bytes([10, 1, i // 256, i % 256])
        mac = "00:16:3e:%02x:%02x:%02x" % (i >> 16 & 255, i >> 8 & 255, i & 255)
        rows.append((a, key, mac, "Xensource, Inc.", f"host-{i}", "Linux", now - 86_400_000_000, now, "passive",
                     "ops" if i % 7 == 0 else "", "lab" if i % 11 == 0 else "", now))
    con.executemany(
        "INSERT INTO inv_hosts (address, addr_key, mac, vendor, name, os, first_seen_us, last_seen_us, source, owner, tags, updated_us) "
        "VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", rows)
    svc = []
    n = 0
    for i in range(HOSTS):
        a = f"10.1.{i // 256}.{i % 256}"
        k = 7 if i % 4 == 3 else 8
        for p in PORTS[:k]:
            if n >= SERVICES:
                break
            svc.append((a, p, "tcp", "open", None, None, "nmap", now, now))
            n += 1
    con.executemany(
        "INSERT INTO inv_services (address, port, proto, state, service, version, source, first_seen_us, last_seen_us) "
        "VALUES (?,?,?,?,?,?,?,?,?)", svc)
    con.commit()
    con.execute("ANALYZE")
    con.close()
    return n


def main():
    d = tempfile.mkdtemp()
    data = os.path.join(d, "data")
    token = subprocess.run([BIN, "--data-dir", data, "token", "create", "--name", "bench", "--role", "viewer"],
                           capture_output=True, text=True, check=True).stdout.strip()
    n = fill(os.path.join(data, "nectar.db"))
    conf = os.path.join(d, "n.toml")
    with open(conf, "w") as f:
        f.write('[inventory]\nnetworks = ["10.1.0.0/16"]\n[honeypot.ssh]\nenabled = false\n'
                '[honeypot.telnet]\nenabled = false\n[honeypot.http]\nenabled = false\n')
    serve = subprocess.Popen([BIN, "--config", conf, "--data-dir", data, "serve", "--listen", "127.0.0.1:0"],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    url = None
    for line in serve.stdout:
        if line.startswith("Nectar is listening on "):
            url = line.split()[-1].rstrip("/")
            break
    try:
        def get(path):
            req = urllib.request.Request(url + path, headers={"Authorization": "Bearer " + token})
            t = time.perf_counter()
            with urllib.request.urlopen(req) as r:
                body = r.read()
            return time.perf_counter() - t, body
        rnd = random.Random(7)
        cases = {
            "list (100 hosts)": lambda: "/api/v1/hosts?limit=100",
            "list, later page": lambda: "/api/v1/hosts?limit=100&cursor=00000000000000000000ffff0a01%02x00" % rnd.randrange(255),
            "search /24": lambda: "/api/v1/hosts?q=10.1.%d.0/24" % rnd.randrange(256),
            "search port 3389": lambda: "/api/v1/hosts?port=3389&limit=100",
            "search text (name)": lambda: "/api/v1/hosts?q=host-%d" % rnd.randrange(HOSTS),
            "search owner+tag": lambda: "/api/v1/hosts?owner=ops&tag=lab&limit=100",
            "host page": lambda: "/api/v1/hosts/10.1.%d.%d" % (rnd.randrange(256), rnd.randrange(256)),
        }
        print(f"{HOSTS} hosts, {n} services")
        for name, path in cases.items():
            get(path())
            times = sorted(get(path())[0] for _ in range(200))
            print(f"{name:22} p50 {times[99] * 1000:7.1f} ms  p95 {times[189] * 1000:7.1f} ms")
    finally:
        serve.terminate()
        serve.wait()


main()
