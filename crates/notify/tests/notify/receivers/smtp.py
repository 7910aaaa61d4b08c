#!/usr/bin/env python3
"""An SMTP receiver for the notifier's tests (aiosmtpd): logs each message as
a JSON line. With --user/--password it requires AUTH (allowed over plain text:
loopback only). Prints "PORT <n>" when ready.

Usage: smtp.py LOG [--user U --password P]
"""
import argparse, asyncio, json, logging, warnings

from aiosmtpd.smtp import SMTP, AuthResult

parser = argparse.ArgumentParser()
parser.add_argument("log")
parser.add_argument("--user", default="")
parser.add_argument("--password", default="")
args = parser.parse_args()
# Plain-text AUTH is the point of this loopback test; aiosmtpd warns about it.
warnings.filterwarnings("ignore")
logging.getLogger("mail.log").setLevel(logging.ERROR)


class Handler:
    async def handle_DATA(self, server, session, envelope):
        entry = {
            "from": envelope.mail_from,
            "to": envelope.rcpt_tos,
            "data": envelope.content.decode("utf-8", "replace"),
            "login": session.authenticated,
        }
        with open(args.log, "a") as log:
            log.write(json.dumps(entry) + "\n")
        return "250 OK"


def authenticator(server, session, envelope, mechanism, auth_data):
    ok = auth_data.login.decode() == args.user and auth_data.password.decode() == args.password
    return AuthResult(success=ok)


async def main():
    loop = asyncio.get_running_loop()
    options = {}
    if args.user:
        options = dict(
            authenticator=authenticator, auth_required=True, auth_require_tls=False
        )
    server = await loop.create_server(
        lambda: SMTP(Handler(), hostname="receiver.test", **options), "127.0.0.1", 0
    )
    print(f"PORT {server.sockets[0].getsockname()[1]}", flush=True)
    await server.serve_forever()


asyncio.run(main())
