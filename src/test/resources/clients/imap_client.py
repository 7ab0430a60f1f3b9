#!/usr/bin/env python3
"""A real IMAP client (the standard library's imaplib) for Postern's interop tests.

Logs in, SELECTs INBOX, optionally fetches one message by UID with BODY.PEEK[]
and writes its exact bytes to --out, then LOGOUT. Prints exactly one JSON object
on stdout, whatever happens:

  {"login": "ok"|"failed"|"error", "error": str|null, "greeting": str|null,
   "tls_version": str|null, "capabilities": [...], "exists": int|null,
   "sha256": str|null, "size": int|null}

"failed" means the server answered the login with NO/BAD; "error" means anything
else went wrong (TLS, connection, timeout...). Exit code 0 when the run went as
expected (login ok and the fetch worked, or with --expect-login-failure a refused
login), 1 otherwise, 2 for bad arguments. Standard library only: no PyPI here.
"""
import argparse
import hashlib
import imaplib
import json
import re
import socket
import ssl
import sys


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--tls", choices=["none", "starttls", "implicit"], default="starttls")
    p.add_argument("--cafile", help="PEM trust anchors; the server name checked is --host")
    p.add_argument("--user", required=True)
    p.add_argument("--password", required=True)
    p.add_argument("--mech", choices=["login", "plain"], default="login",
                   help="LOGIN command, or AUTHENTICATE PLAIN")
    p.add_argument("--fetch-uid", type=int)
    p.add_argument("--out", help="file for the fetched message bytes")
    p.add_argument("--append", help="file whose bytes to APPEND to INBOX before SELECT")
    p.add_argument("--expect-login-failure", action="store_true")
    p.add_argument("--timeout", type=float, default=60.0, help="socket timeout, seconds")
    p.add_argument("--source", help="local address to connect from (e.g. 127.0.0.7)")
    args = p.parse_args()
    if args.tls != "none" and not args.cafile:
        p.error("--cafile is required with --tls starttls|implicit")
    return args


def tls_context(cafile):
    # Verify against the given anchor only, with host name checks, like a careful client.
    ctx = ssl.create_default_context(cafile=cafile)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    return ctx


def describe(error):
    # Protocol errors carry the server's reply as bytes; show it as text, not as b'...'.
    if error.args and isinstance(error.args[0], bytes):
        return text(error.args[0])
    return str(error)


def text(value):
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return None if value is None else str(value)


def fetched_literal(data):
    # imaplib returns [(b'1 (UID 5 BODY[] {123}', b'<literal>'), b')'] for one message.
    for item in data or []:
        if isinstance(item, tuple) and len(item) == 2 and re.search(rb"BODY\[\]", item[0]):
            return item[1]
    return None


def run(args, result):
    if args.tls == "implicit":
        imap = imaplib.IMAP4_SSL(args.host, args.port, ssl_context=tls_context(args.cafile),
                                 timeout=args.timeout)
    else:
        imap = imaplib.IMAP4(args.host, args.port, timeout=args.timeout)
    try:
        result["greeting"] = text(imap.welcome)
        if args.tls == "starttls":
            imap.starttls(ssl_context=tls_context(args.cafile))
        if isinstance(imap.sock, ssl.SSLSocket):
            result["tls_version"] = imap.sock.version()
        result["capabilities"] = list(imap.capabilities)

        try:
            if args.mech == "plain":
                imap.authenticate("PLAIN", lambda _: b"\0" + args.user.encode() + b"\0" + args.password.encode())
            else:
                imap.login(args.user, args.password)
        except imaplib.IMAP4.abort:
            raise
        except imaplib.IMAP4.error as e:
            # A tagged NO/BAD: the server refused the credentials.
            result["login"] = "failed"
            result["error"] = describe(e)
            return args.expect_login_failure
        result["login"] = "ok"
        if args.expect_login_failure:
            result["error"] = "login succeeded but a failure was expected"
            return False

        typ, caps = imap.capability()
        if typ == "OK" and caps and caps[0]:
            result["capabilities"] = text(caps[0]).split()

        if args.append:
            with open(args.append, "rb") as f:
                typ, data = imap.append("INBOX", None, None, f.read())
            if typ != "OK":
                result["error"] = "APPEND: %s %s" % (typ, text(data[0] if data else None))
                return False
            # [APPENDUID <uidvalidity> <uid>] (RFC 4315), when the server has UIDPLUS.
            match = re.search(rb"APPENDUID \d+ (\d+)", data[0] or b"")
            result["appenduid"] = int(match.group(1)) if match else None

        typ, data = imap.select("INBOX", readonly=False)
        if typ != "OK":
            result["error"] = "SELECT INBOX: %s %s" % (typ, text(data[0] if data else None))
            return False
        result["exists"] = int(data[0])

        if args.fetch_uid is not None:
            typ, data = imap.uid("FETCH", str(args.fetch_uid), "(BODY.PEEK[])")
            body = fetched_literal(data) if typ == "OK" else None
            if body is None:
                result["error"] = "UID FETCH %d: %s %r" % (args.fetch_uid, typ, data[:1])
                return False
            result["sha256"] = hashlib.sha256(body).hexdigest()
            result["size"] = len(body)
            if args.out:
                with open(args.out, "wb") as f:
                    f.write(body)

        typ, _ = imap.logout()
        imap = None
        return typ == "BYE"
    finally:
        if imap is not None:
            try:
                imap.shutdown()
            except OSError:
                pass


def bind_source(address):
    # imaplib and poplib offer no source address; both connect through socket.create_connection.
    connect = socket.create_connection

    def create_connection(target, timeout=socket._GLOBAL_DEFAULT_TIMEOUT, source_address=None):
        return connect(target, timeout, (address, 0))

    socket.create_connection = create_connection


def main():
    args = parse_args()
    if args.source:
        bind_source(args.source)
    result = {"login": "error", "error": None, "greeting": None, "tls_version": None,
              "capabilities": [], "exists": None, "sha256": None, "size": None}
    try:
        ok = run(args, result)
    except (imaplib.IMAP4.error, OSError, ssl.SSLError, socket.timeout, ValueError) as e:
        result["error"] = "%s: %s" % (type(e).__name__, describe(e))
        ok = False
    print(json.dumps(result), flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
