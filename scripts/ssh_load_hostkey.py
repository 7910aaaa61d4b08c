#!/usr/bin/env python3
"""Runs ../shared/peers/ssh_login_load.py with the client's host-key algorithms
forced (HOSTKEY_ALGS="ssh-ed25519" or "ecdsa-sha2-nistp256" or "rsa-sha2-256"),
so the cost per connection can be compared per algorithm: the server's signature
with its host key is most of an SSH handshake's CPU, and which key is used is the
client's choice (asyncssh asks for RSA first; OpenSSH, libssh, paramiko and Go's
x/crypto ask for Ed25519 or ECDSA first).

    HOSTKEY_ALGS=ssh-ed25519 python3 scripts/ssh_load_hostkey.py LOAD.py attempts ...
"""
import functools
import os
import runpy
import sys

import asyncssh

algs = os.environ.get("HOSTKEY_ALGS")
if algs:
    for name in ("connect", "create_connection"):
        forced = functools.partial(getattr(asyncssh, name), server_host_key_algs=algs.split(","))
        setattr(asyncssh, name, forced)
load = sys.argv[1]
sys.argv = sys.argv[1:]
runpy.run_path(load, run_name="__main__")
