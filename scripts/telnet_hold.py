#!/usr/bin/env python3
"""Holds N logged-in Telnet shells open at once and reports the server's memory.

Each connection waits for 'login:', logs in, waits for a shell prompt, then
stays open; once all are open (or failed) the server's RSS is read from
/proc/PID/status, the sessions are held HOLD seconds and closed. Prints one JSON
line. IAC bytes are ignored, as raw-TCP bots do. Stdlib only, loopback only,
bounded (N <= 5000, every wait has a timeout).

  telnet_hold.py --port 2324 --sessions 1000 --user root --password 123456 --server-pid PID
"""
import argparse
import asyncio
import ipaddress
import json
import re
import time

PROMPT = re.compile(rb"[#$>] ?$")


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


async def expect(reader, pattern, timeout):
    buf = b""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            chunk = await asyncio.wait_for(reader.read(4096), end - time.monotonic())
        except asyncio.TimeoutError:
            break
        if not chunk:
            break
        buf += chunk
        if pattern.search(buf.replace(b"\xff", b"")):
            return True
    return False


async def open_one(args, opened, errors, gate):
    async with gate:
        try:
            r, w = await asyncio.wait_for(asyncio.open_connection(args.host, args.port), args.timeout)
        except (OSError, asyncio.TimeoutError) as e:
            errors[type(e).__name__] = errors.get(type(e).__name__, 0) + 1
            return
        try:
            if not await expect(r, re.compile(rb"ogin: ?$"), args.timeout):
                errors["no_login_prompt"] = errors.get("no_login_prompt", 0) + 1
                w.close()
                return
            w.write(args.user.encode() + b"\r\n")
            if not await expect(r, re.compile(rb"assword: ?$"), args.timeout):
                errors["no_password_prompt"] = errors.get("no_password_prompt", 0) + 1
                w.close()
                return
            w.write(args.password.encode() + b"\r\n")
            if not await expect(r, PROMPT, args.timeout):
                errors["no_shell_prompt"] = errors.get("no_shell_prompt", 0) + 1
                w.close()
                return
        except (OSError, ConnectionError) as e:
            errors[type(e).__name__] = errors.get(type(e).__name__, 0) + 1
            w.close()
            return
        opened.append(w)


async def main(args):
    idle = rss_kib(args.server_pid)
    opened, errors = [], {}
    gate = asyncio.Semaphore(args.connect_concurrency)
    t0 = time.perf_counter()
    await asyncio.gather(*(open_one(args, opened, errors, gate) for _ in range(args.sessions)))
    open_s = time.perf_counter() - t0
    await asyncio.sleep(1)
    held = rss_kib(args.server_pid)
    await asyncio.sleep(args.hold_s)
    for w in opened:
        w.close()
    await asyncio.sleep(2)
    after = rss_kib(args.server_pid)
    n = len(opened)
    print(json.dumps({
        "mode": "telnet-hold", "port": args.port, "sessions": args.sessions, "opened": n,
        "errors": errors, "open_s": round(open_s, 2), "rss_idle_kib": idle,
        "rss_held_kib": held, "rss_after_close_kib": after,
        "kib_per_session": round((held - idle) / n, 1) if n else None,
    }))


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--sessions", type=int, default=1000)
    ap.add_argument("--user", default="root")
    ap.add_argument("--password", default="123456")
    ap.add_argument("--server-pid", type=int, required=True)
    ap.add_argument("--hold-s", type=float, default=5)
    ap.add_argument("--connect-concurrency", type=int, default=200)
    ap.add_argument("--timeout", type=float, default=30)
    a = ap.parse_args()
    if not ipaddress.ip_address(a.host).is_loopback:
        raise SystemExit("refusing non-loopback target")
    if a.sessions > 5000:
        raise SystemExit("bounded tool: sessions <= 5000")
    asyncio.run(main(a))
