#!/usr/bin/env python3
"""A Telnet bot as the tests need one: stdlib sockets only, loopback only.

Logs in and runs a command script the way IoT bots do, then prints one JSON
object: {"login": "ok"|"refused"|"no_prompt", "banner": ..., "results": [{"cmd",
"out"}]}.  Modes:
  negotiate  answer every option like Mirai's scanner (DO -> WONT, except NAWS
             which it accepts and sizes; WILL -> DO), wait for each prompt
  raw        never answer IAC (raw-TCP bots), wait for each prompt
  burst      never answer IAC, send user, password and the first command at once
             without waiting for any prompt
Usage: bot_client.py PORT MODE USER PASSWORD [SCRIPT]
"""
import ipaddress
import json
import re
import socket
import sys
import time

IAC, DONT, DO, WONT, WILL, SB, SE = 255, 254, 253, 252, 251, 250, 240
NAWS = 31
# BusyBox's prompt is "DIR # ", Debian's "user@host:DIR# "; it may follow output
# that did not end its line (cat of a binary).
PROMPT = re.compile(rb"[~/][^\r\n]*[#$] $")


class Conn:
    def __init__(self, port, negotiate):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.negotiate = negotiate
        self.state = "data"
        self.pending = b""

    def _filter(self, chunk):
        """User data of chunk; answers options when negotiating."""
        out = bytearray()
        for b in chunk:
            if self.state == "data":
                if b == IAC:
                    self.state = "iac"
                else:
                    out.append(b)
            elif self.state == "iac":
                if b == IAC:
                    out.append(IAC)
                    self.state = "data"
                elif b in (DO, DONT, WILL, WONT):
                    self.state = b
                elif b == SB:
                    self.state = "sb"
                else:
                    self.state = "data"
            elif self.state in (DO, DONT, WILL, WONT):
                verb, self.state = self.state, "data"
                if self.negotiate:
                    if verb == DO and b == NAWS:
                        self.sock.sendall(bytes([IAC, WILL, NAWS, IAC, SB, NAWS, 0, 80, 0, 24, IAC, SE]))
                    elif verb == DO:
                        self.sock.sendall(bytes([IAC, WONT, b]))
                    elif verb == WILL:
                        self.sock.sendall(bytes([IAC, DO, b]))
            elif self.state == "sb":
                if b == IAC:
                    self.state = "sbiac"
            elif self.state == "sbiac":
                self.state = "data" if b == SE else "sb"
        return bytes(out)

    def read_until(self, pattern, timeout=10.0):
        """Reads until pattern (a regex on the end of the text) matches."""
        end = time.monotonic() + timeout
        buf = self.pending
        self.pending = b""
        while time.monotonic() < end:
            if pattern.search(buf):
                return buf, True
            self.sock.settimeout(max(0.05, end - time.monotonic()))
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                break
            if not chunk:
                break
            buf += self._filter(chunk)
        return buf, bool(pattern.search(buf))

    def send(self, text):
        self.sock.sendall(text.encode("latin-1") + b"\r\n")


def main():
    port, mode, user, password = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
    script = []
    if len(sys.argv) > 5:
        with open(sys.argv[5], encoding="utf-8") as f:
            script = [l.rstrip("\n") for l in f if l.strip() and not l.startswith("#")]
    c = Conn(port, negotiate=(mode == "negotiate"))
    result = {"login": "no_prompt", "banner": "", "results": []}
    if mode == "burst":
        first = script[:1]
        c.sock.sendall(f"{user}\r\n{password}\r\n".encode() + b"".join(s.encode() + b"\r\n" for s in first))
        text, ok = c.read_until(re.compile(rb"(incorrect|[#$] $)"))
        result["banner"] = text.decode("latin-1")
        if not ok or b"incorrect" in text:
            result["login"] = "refused" if ok else "no_prompt"
            print(json.dumps(result))
            return
        result["login"] = "ok"
        # The first command's answer came with the login; read its prompt.
        if first:
            out, _ = c.read_until(re.compile(rb"[#$] [^\r\n]*\r\n[\s\S]*[#$] $"), 3)
            result["results"].append({"cmd": first[0], "out": text.decode("latin-1")})
        script = script[1:]
    else:
        text, ok = c.read_until(re.compile(rb"login: $"))
        if not ok:
            print(json.dumps(result))
            return
        c.send(user)
        text, ok = c.read_until(re.compile(rb"Password: $"))
        if not ok:
            print(json.dumps(result))
            return
        c.send(password)
        text, ok = c.read_until(re.compile(rb"(incorrect[\s\S]*login: $|[#$] $)"))
        result["banner"] = text.decode("latin-1")
        if not ok or b"incorrect" in text:
            result["login"] = "refused" if ok else "no_prompt"
            print(json.dumps(result))
            return
        result["login"] = "ok"
    for cmd in script:
        c.send(cmd)
        out, ok = c.read_until(PROMPT)
        text = out.decode("latin-1")
        # Drop the echoed command line and the prompt after the output.
        lines = text.split("\r\n")
        if lines and lines[0].strip() == cmd.strip():
            lines = lines[1:]
        if ok and lines:
            last = PROMPT.sub(b"", lines[-1].encode("latin-1")).decode("latin-1")
            lines = lines[:-1] + ([last] if last else [])
        result["results"].append({"cmd": cmd, "out": "\n".join(lines), "prompt": ok})
    c.sock.close()
    print(json.dumps(result))


if __name__ == "__main__":
    if not ipaddress.ip_address("127.0.0.1").is_loopback:
        raise SystemExit("loopback only")
    main()
