#!/usr/bin/env python3
"""An SMTP receiver for the notifier's tests (aiosmtpd): logs each message as
a JSON line. With --user/--password it requires AUTH (allowed over plain text:
loopback only). Prints "PORT <n>" when ready.

Usage: smtp.py LOG [--user U --password P] [--starttls CERT KEY | --tls CERT KEY]
--starttls: STARTTLS offered and required; --tls: TLS from the first byte.
"""
import argparse, asyncio, json, logging, ssl, warnings

from aiosmtpd.smtp import SMTP, AuthResult

parser = argparse.ArgumentParser()
parser.add_argument("log")
parser.add_argument("--user", default="")
parser.add_argument("--password", default="")
parser.add_argument("--starttls", nargs=2, metavar=("CERT", "KEY"))
parser.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"))
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
            "tls": session.ssl is not None,
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
            authenticator=authenticator,
            auth_required=True,
            # With STARTTLS, a login is only accepted after it.
            auth_require_tls=bool(args.starttls),
        )
    wrapped = None
    if args.starttls or args.tls:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(*(args.starttls or args.tls))
        if args.starttls:
            options.update(tls_context=context, require_starttls=True)
        else:
            wrapped = context
    server = await loop.create_server(
        lambda: SMTP(Handler(), hostname="receiver.test", **options),
        "127.0.0.1",
        0,
        ssl=wrapped,
    )
    print(f"PORT {server.sockets[0].getsockname()[1]}", flush=True)
    await server.serve_forever()


asyncio.run(main())
