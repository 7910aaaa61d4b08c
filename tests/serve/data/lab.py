"""A small service lab for the inventory tests: SSH-like banner on TCP 22,
HTTP on TCP 80, DNS answers on UDP 53, all on the address given; runs until
killed. Usage: lab.py ADDRESS [PORTS...] (default 22 80 53)."""
import socket
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

addr = sys.argv[1]
ports = [int(p) for p in sys.argv[2:]] or [22, 80, 53]


def ssh():
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, 22))
    s.listen(16)
    while True:
        c, _ = s.accept()
        try:
            c.sendall(b"SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n")
            c.settimeout(2)
            c.recv(256)
        except OSError:
            pass
        c.close()


class Web(BaseHTTPRequestHandler):
    server_version = "Apache/2.4.62"
    sys_version = ""

    def do_GET(self):
        body = b"<html><title>lab</title></html>"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def web():
    ThreadingHTTPServer((addr, 80), Web).serve_forever()


def dns():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((addr, 53))
    while True:
        q, peer = s.recvfrom(512)
        if len(q) < 12:
            continue
        # The question back with QR set and no answers (NXDOMAIN-less NOERROR).
        s.sendto(q[:2] + b"\x81\x80" + q[4:6] + b"\x00\x00\x00\x00\x00\x00" + q[12:], peer)


threads = {22: ssh, 80: web, 53: dns}
for p in ports:
    threading.Thread(target=threads[p], daemon=True).start()
threading.Event().wait()
