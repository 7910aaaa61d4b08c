#!/usr/bin/env python3
"""Incident latency benchmark (issue #16's numbers): one incident holding 500
alerts, 20,000 events and about 1,000 observables, among 100,000 incidents;
then every tab of its page, its API answer and the incident list, with wrk. KEEP=1 keeps the data directory (for EXPLAIN).

    cargo build --release && python3 scripts/bench_incidents.py target/release/nectar [INCIDENTS]

Needs wrk (apt-get install wrk). Everything is filled through the API of a fresh
`nectar serve` on 127.0.0.1 (the rules stage raises the alerts from posted failed
logins, as in production); the data directory is removed at the end. Prints a
Markdown table of wrk's latency percentiles (p50, p90, p99; p99 bounds the p95
the issue asks for).
"""
import http.client
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(__file__))
from bench_ui import honeypot_sections, login  # noqa: E402

BIN = sys.argv[1] if len(sys.argv) > 1 else "target/release/nectar"
INCIDENTS = int(sys.argv[2]) if len(sys.argv) > 2 else 100_000
DURATION = os.environ.get("WRK_DURATION", "8s")
SOURCES = 500
EVENTS_PER_SOURCE = 40
HAND_OBSERVABLES = 500


class Api:
    """A keep-alive connection to the API."""

    def __init__(self, url, token):
        parsed = urllib.parse.urlparse(url)
        self.conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=300)
        self.headers = {"Authorization": "Bearer " + token, "Content-Type": "application/json"}

    def call(self, method, path, body=None):
        self.conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=self.headers)
        response = self.conn.getresponse()
        data = response.read()
        if response.status >= 300:
            raise SystemExit(f"{method} {path}: {response.status} {data[:300]!r}")
        return json.loads(data) if data else None


def stamp(t):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{int(t % 1 * 1e6):06d}Z"


def fill(url, token):
    api = Api(url, token)
    start = time.time()
    now = time.time()
    # 500 sources, 40 failed logins each: 500 brute-force alerts holding 20,000 events.
    batch = []
    for s in range(SOURCES):
        ip = f"198.18.{s // 250}.{s % 250 + 1}"
        for i in range(EVENTS_PER_SOURCE):
            t = now - 3600 + s * 5 + i * 0.1
            batch.append({"time": stamp(t), "kind": "ssh.login.failed", "severity": "low", "src_ip": ip,
                          "summary": f"root/pw{i % 2} refused", "data": {"username": "root", "password": f"pw{i % 2}"}})
            if len(batch) == 5000:
                api.call("POST", "/api/v1/events", batch)
                batch = []
    if batch:
        api.call("POST", "/api/v1/events", batch)
    deadline = time.time() + 600
    while True:
        status = api.call("GET", "/api/v1/status")
        lag = [c["lag"] for c in status["consumers"] if c["name"] == "rules"]
        if lag and lag[0] == 0:
            break
        if time.time() > deadline:
            raise SystemExit("the rules stage did not catch up")
        time.sleep(0.5)
    alerts = api.call("GET", "/api/v1/alerts?rule=nectar.ssh-brute-force&limit=1000")["alerts"]
    ids = [a["id"] for a in alerts]
    assert len(ids) == SOURCES, f"{len(ids)} alerts"
    incident = api.call("POST", "/api/v1/incidents", {"title": "The big one", "alerts": ids})
    big = incident["id"]
    text = "\n".join(f"domain:c2-{i}.example" for i in range(HAND_OBSERVABLES))
    api.call("POST", f"/api/v1/incidents/{big}/observables", {"text": text, "ioc": True})
    for i in range(20):
        api.call("POST", f"/api/v1/incidents/{big}/comments", {"body": f"Note **{i}**: see `198.18.0.{i + 1}`"})
        api.call("POST", f"/api/v1/incidents/{big}/tasks", {"title": f"Task {i}"})
    detail = api.call("GET", f"/api/v1/incidents/{big}")
    print(f"incident {big}: {detail['counts']} in {time.time() - start:.1f} s", file=sys.stderr)

    # The other incidents, from 4 connections; every 4th closed.
    start = time.time()

    def worker(k):
        mine = Api(url, token)
        for i in range(k, INCIDENTS - 1, 4):
            made = mine.call("POST", "/api/v1/incidents", {"title": f"Case {i}", "severity": "medium"})
            if i % 4 == 0:
                mine.call("PATCH", f"/api/v1/incidents/{made['id']}", {"status": "closed", "resolution": "benign"})

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(f"{INCIDENTS} incidents in {time.time() - start:.1f} s", file=sys.stderr)
    return big


def main():
    work = tempfile.mkdtemp(prefix="nectar-bench-incidents-")
    data = os.path.join(work, "data")
    config = os.path.join(work, "nectar.toml")
    with open(config, "w") as f:
        f.write('[server]\nlisten = "127.0.0.1:0"\n')
        for section in honeypot_sections():
            f.write(f'[honeypot.{section}]\nlisten = "127.0.0.1:0"\n')
    server = subprocess.Popen([BIN, "--config", config, "--data-dir", data, "serve"],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        url = None
        deadline = time.time() + 60
        while url is None and time.time() < deadline:
            m = re.match(r"Nectar is listening on (http://[^/]+)/", server.stdout.readline())
            if m:
                url = m.group(1)
        assert url, "server did not start"
        token = subprocess.check_output([BIN, "--data-dir", data, "token", "create", "--name", "bench",
                                         "--role", "admin"], text=True).strip()
        big = fill(url, token)
        cookie = login(url, open(os.path.join(data, "initial-admin-password")).read().strip())
        tabs = ["summary", "timeline", "alerts", "observables", "tasks", "comments", "attachments", "history"]
        pages = [(f"incident page, {tab}", f"/incidents/{big}?tab={tab}") for tab in tabs]
        pages += [
            ("incident printable page", f"/incidents/{big}/print"),
            ("incident JSON export", f"/incidents/{big}/export.json"),
            ("incident list", "/incidents"),
            ("incident list, view open", "/incidents?view=open"),
            ("incident list, view closed", "/incidents?view=closed"),
            ("incident list, title text", "/incidents?q=Case+99999"),
        ]
        print(f"\n1 incident of {SOURCES} alerts, {SOURCES * EVENTS_PER_SOURCE} events, ~{SOURCES + HAND_OBSERVABLES} "
              f"observables among {INCIDENTS} incidents; wrk -t1 -c4 -d{DURATION} --latency per page\n")
        print("| page | req/s | p50 | p90 | p99 |")
        print("| --- | --- | --- | --- | --- |")
        for name, path in pages:
            out = subprocess.run(["wrk", "-t1", "-c4", f"-d{DURATION}", "--latency", "-H", f"Cookie: {cookie}",
                                  url + path], capture_output=True, text=True, timeout=300).stdout
            pct = dict(re.findall(r"^\s+(50|90|99)%\s+(\S+)", out, re.M))
            rps = re.search(r"Requests/sec:\s+(\S+)", out)
            non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
            print(f"| {name} | {rps.group(1) if rps else '?'} | {pct.get('50')} | {pct.get('90')} | {pct.get('99')} |"
                  + (f" {non2xx.group(1)} errors" if non2xx else ""), flush=True)
        out = subprocess.run(["wrk", "-t1", "-c4", f"-d{DURATION}", "--latency", "-H", f"Authorization: Bearer {token}",
                              f"{url}/api/v1/incidents/{big}"], capture_output=True, text=True, timeout=300).stdout
        pct = dict(re.findall(r"^\s+(50|90|99)%\s+(\S+)", out, re.M))
        rps = re.search(r"Requests/sec:\s+(\S+)", out)
        print(f"| GET /api/v1/incidents/{{id}} | {rps.group(1) if rps else '?'} | {pct.get('50')} | {pct.get('90')} | {pct.get('99')} |")
    finally:
        server.terminate()
        server.wait(timeout=60)
        if os.environ.get("KEEP"):
            print(f"kept {data}", file=sys.stderr)
        else:
            subprocess.run(["rm", "-rf", work])


if __name__ == "__main__":
    main()
