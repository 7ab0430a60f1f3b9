#!/usr/bin/env python3
"""A real POP3 client (the standard library's poplib) for Postern's interop tests.

Logs in (USER/PASS, or AUTH PLAIN), runs STAT, optionally RETRs one message and
writes its exact bytes to --out, then QUIT. Prints exactly one JSON object on
stdout, whatever happens:

  {"login": "ok"|"failed"|"error", "error": str|null, "greeting": str|null,
   "tls_version": str|null, "capabilities": [...], "exists": int|null,
   "mailbox_size": int|null, "sha256": str|null, "size": int|null}

"failed" means the server answered the login with -ERR; "error" means anything
else went wrong (TLS, connection, timeout...). Exit code 0 when the run went as
expected (login ok and the RETR worked, or with --expect-login-failure a refused
login), 1 otherwise, 2 for bad arguments. Standard library only: no PyPI here.

Why RETR is read by hand: poplib.retr() strips each line's end (CRLF, or a bare
LF or CR) and undoes dot-stuffing, so joining its lines can't give back the
stored bytes in general. We send RETR ourselves and read the raw multi-line
response line by line, keeping every line ending exactly as sent and removing
only the RFC 1939 byte-stuffed leading dot and the final ".CRLF". The result is
the message exactly as the server stored it (Dovecot sends it as stored when the
stored message uses CRLF line ends). This uses poplib's long-standing internals
_putcmd/_getresp/file, which all Python 3 versions have.
"""
import argparse
import base64
import hashlib
import json
import poplib
import socket
import ssl
import sys


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--tls", choices=["none", "starttls", "implicit"], default="starttls",
                   help="starttls means the STLS command")
    p.add_argument("--cafile", help="PEM trust anchors; the server name checked is --host")
    p.add_argument("--user", required=True)
    p.add_argument("--password", required=True)
    p.add_argument("--mech", choices=["user", "plain"], default="user",
                   help="USER/PASS, or AUTH PLAIN with an initial response")
    p.add_argument("--retr", type=int, help="message number to RETR")
    p.add_argument("--out", help="file for the retrieved message bytes")
    p.add_argument("--expect-login-failure", action="store_true")
    p.add_argument("--timeout", type=float, default=60.0, help="socket timeout, seconds")
    p.add_argument("--source", help="local address to connect from (e.g. 127.0.0.7)")
    args = p.parse_args()
    if args.tls != "none" and not args.cafile:
        p.error("--cafile is required with --tls starttls|implicit")
    return args


def tls_context(cafile):
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


def capabilities(pop):
    try:
        return sorted(pop.capa().keys())
    except poplib.error_proto:
        return []


def retr_raw(pop, number):
    pop._putcmd("RETR %d" % number)
    pop._getresp()  # raises error_proto on -ERR
    body = bytearray()
    while True:
        # No length limit: a limited readline could split a line, and a piece
        # starting with "." would then be mistaken for a stuffed line.
        line = pop.file.readline()
        if not line:
            raise EOFError("connection closed inside the RETR response")
        if line in (b".\r\n", b".\n"):
            return bytes(body)
        if line.startswith(b"."):
            line = line[1:]
        body += line


def run(args, result):
    if args.tls == "implicit":
        pop = poplib.POP3_SSL(args.host, args.port, context=tls_context(args.cafile),
                              timeout=args.timeout)
    else:
        pop = poplib.POP3(args.host, args.port, timeout=args.timeout)
    try:
        result["greeting"] = text(pop.getwelcome())
        if args.tls == "starttls":
            pop.stls(context=tls_context(args.cafile))
        if isinstance(pop.sock, ssl.SSLSocket):
            result["tls_version"] = pop.sock.version()
        result["capabilities"] = capabilities(pop)

        try:
            if args.mech == "plain":
                token = base64.b64encode(b"\0" + args.user.encode() + b"\0" + args.password.encode())
                pop._shortcmd("AUTH PLAIN " + token.decode("ascii"))
            else:
                pop.user(args.user)
                pop.pass_(args.password)
        except poplib.error_proto as e:
            result["login"] = "failed"
            result["error"] = describe(e)
            return args.expect_login_failure
        result["login"] = "ok"
        if args.expect_login_failure:
            result["error"] = "login succeeded but a failure was expected"
            return False

        result["capabilities"] = capabilities(pop)
        count, size = pop.stat()
        result["exists"] = count
        result["mailbox_size"] = size

        if args.retr is not None:
            body = retr_raw(pop, args.retr)
            result["sha256"] = hashlib.sha256(body).hexdigest()
            result["size"] = len(body)
            if args.out:
                with open(args.out, "wb") as f:
                    f.write(body)

        reply = pop.quit()
        pop = None
        return reply.startswith(b"+OK")
    finally:
        if pop is not None:
            try:
                pop.close()
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
              "capabilities": [], "exists": None, "mailbox_size": None,
              "sha256": None, "size": None}
    try:
        ok = run(args, result)
    except (poplib.error_proto, OSError, ssl.SSLError, socket.timeout, EOFError, ValueError) as e:
        result["error"] = "%s: %s" % (type(e).__name__, describe(e))
        ok = False
    print(json.dumps(result), flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
