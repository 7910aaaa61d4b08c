#!/usr/bin/env python3
"""Sends a fixed set of HTTP requests (well-formed, malformed, oversized) to
127.0.0.1:PORT and saves each raw answer as DIR/NAME. Used to capture what real
Apache and nginx answer, for the HTTP honeypot's fingerprint tests
(crates/honeypot/tests/data). Loopback only, one connection per request."""
import socket, sys, os, time
port=int(sys.argv[1]); out=sys.argv[2]
reqs = {
 "get_root_11": b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: x\r\n\r\n",
 "get_root_10": b"GET / HTTP/1.0\r\n\r\n",
 "get_root_10_ka": b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
 "head_root": b"HEAD / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
 "get_404": b"GET /nope.php HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
 "get_404_hostport": b"GET /nope HTTP/1.1\r\nHost: example.com:8081\r\n\r\n",
 "get_404_close": b"GET /nope HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
 "head_404": b"HEAD /nope HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
 "get_404_10": b"GET /nope HTTP/1.0\r\n\r\n",
 "get_403_htaccess": b"GET /.htaccess HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
 "get_403_ht": b"GET /.htpasswd HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
 "bad_garbage": b"HELLO\r\n\r\n",
 "bad_nohost": b"GET / HTTP/1.1\r\n\r\n",
 "bad_header": b"GET / HTTP/1.1\r\nHost: a\r\nBad Header\r\n\r\n",
 "bad_version": b"GET / HTTP/9.9\r\nHost: a\r\n\r\n",
 "post_root": b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 3\r\nContent-Type: application/x-www-form-urlencoded\r\n\r\na=b",
 "post_404": b"POST /x.php HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 3\r\n\r\na=b",
 "options": b"OPTIONS / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
 "options_star": b"OPTIONS * HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
 "trace": b"TRACE / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
 "propfind": b"PROPFIND / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
 "unknown_method": b"FOO / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
 "long_uri": b"GET /" + b"a"*9000 + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
 "long_header": b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-A: " + b"a"*9000 + b"\r\n\r\n",
 "many_headers": b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n" + b"".join(b"X-%d: a\r\n" % i for i in range(120)) + b"\r\n",
 "traversal": b"GET /../../etc/passwd HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
 "encoded_traversal": b"GET /icons/.%2e/%2e%2e/etc/passwd HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
 "dir_noslash": b"GET /icons HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
 "server_status": b"GET /server-status HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
 "index_html": b"GET /index.html HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
 "big_cl": b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 99999999999\r\n\r\n",
 "chunked": b"POST /x HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
 "http09": b"GET /\r\n\r\n",
 "absolute_uri": b"GET http://example.com/ HTTP/1.1\r\nHost: example.com\r\n\r\n",
 "connect": b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n",
}
os.makedirs(out, exist_ok=True)
for name, r in reqs.items():
    s=socket.create_connection(("127.0.0.1",port)); s.settimeout(3)
    s.sendall(r)
    data=b""
    try:
        while True:
            d=s.recv(65536)
            if not d: break
            data+=d
            if b"\r\n\r\n" in data:
                h,_,b=data.partition(b"\r\n\r\n")
                cl=[l for l in h.split(b"\r\n") if l.lower().startswith(b"content-length:")]
                if cl and len(b)>=int(cl[0].split(b":")[1]): break
                if not cl and r.startswith(b"HEAD"): break
    except socket.timeout: pass
    s.close()
    open(os.path.join(out,name),"wb").write(data)
