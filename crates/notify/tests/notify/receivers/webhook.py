#!/usr/bin/env python3
"""A webhook receiver for the notifier's tests, independent of Nectar's code:
verifies Standard Webhooks signatures (base64 key after whsec_, HMAC-SHA256 of
id.timestamp.body, constant-time comparison, a 5-minute timestamp window) and
logs each request as a JSON line.

Usage: webhook.py LOG [--port N] [--secret whsec_...] [--script 429:2,500,410]
                  [--tls CERT KEY]
--script: the answers to the first requests, in order (STATUS or
STATUS:RETRY_AFTER); later requests get 200. --tls: HTTPS with this
certificate and key (PEM). Prints "PORT <n>" when ready.
"""
import argparse, base64, hashlib, hmac, json, ssl, sys, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

parser = argparse.ArgumentParser()
parser.add_argument("log")
parser.add_argument("--port", type=int, default=0)
parser.add_argument("--secret", default="")
parser.add_argument("--script", default="")
parser.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"))
args = parser.parse_args()
key = None
if args.secret:
    s = args.secret[len("whsec_"):] if args.secret.startswith("whsec_") else args.secret
    key = base64.b64decode(s)
script = [step for step in args.script.split(",") if step]


def verify(headers, body):
    if key is None:
        return None
    msg_id = headers.get("webhook-id", "")
    ts = headers.get("webhook-timestamp", "")
    sigs = headers.get("webhook-signature", "")
    if not msg_id or not ts.isdigit() or abs(time.time() - int(ts)) > 300:
        return False
    expected = base64.b64encode(
        hmac.new(key, f"{msg_id}.{ts}.".encode() + body, hashlib.sha256).digest()
    ).decode()
    for sig in sigs.split(" "):
        version, _, value = sig.partition(",")
        if version == "v1" and hmac.compare_digest(value, expected):
            return True
    return False


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        length = int(self.headers.get("content-length", "0"))
        body = self.rfile.read(length)
        verified = verify(self.headers, body)
        status, retry_after = 200, None
        if script:
            step = script.pop(0)
            code, _, after = step.partition(":")
            status, retry_after = int(code), (after or None)
        if verified is False:
            status = 401
        try:
            parsed = json.loads(body)
        except ValueError:
            parsed = None
        entry = {
            "time": time.time(),
            "path": self.path,
            "id": self.headers.get("webhook-id"),
            "verified": verified,
            "content_type": self.headers.get("content-type"),
            "status": status,
            "body": parsed,
        }
        with open(args.log, "a") as log:
            log.write(json.dumps(entry) + "\n")
        self.send_response(status)
        if retry_after:
            self.send_header("Retry-After", retry_after)
        self.send_header("Content-Type", "text/plain")
        self.end_headers()
        self.wfile.write(b"ok" if status < 300 else b"no")

    def log_message(self, *a):
        pass


server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
if args.tls:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*args.tls)
    server.socket = context.wrap_socket(server.socket, server_side=True)
print(f"PORT {server.server_address[1]}", flush=True)
server.serve_forever()
