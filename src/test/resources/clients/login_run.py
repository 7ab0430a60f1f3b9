#!/usr/bin/env python3
"""A run of many real logins (imaplib or poplib, implicit TLS) from a few threads.

Reads the logins to make from --logins (a file, or - for stdin, read as it comes, so
that a caller can pace the run): one "user<TAB>password" line each, made in that
order by whichever thread is free; the run ends at the end of the input. Each login connects, logs in, counts the
INBOX (IMAP SELECT, POP3 STAT) and logs out. Prints one JSON line per login as it
ends, flushed at once, so that a caller can act while the run goes on:

  {"i": int, "user": str, "start": int, "end": int, "login": "ok"|"failed"|"error",
   "exists": int|null, "error": str|null}

start and end are time.time_ns() (the wall clock) just before connecting and after
the goodbye. One process for the whole run: starting Python per login would cost
more than the login. Standard library only. Exit code 0 when every line was printed.
"""
import argparse
import imaplib
import json
import poplib
import queue
import ssl
import sys
import threading
import time


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--host", default="localhost")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--protocol", choices=["imap", "pop3"], default="imap")
    p.add_argument("--cafile", required=True, help="PEM trust anchors; the name checked is --host")
    p.add_argument("--logins", required=True, help="file of user<TAB>password lines, - for stdin")
    p.add_argument("--threads", type=int, default=4)
    p.add_argument("--timeout", type=float, default=30.0, help="socket timeout, seconds")
    return p.parse_args()


def text(value):
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def imap_login(args, ctx, user, password):
    imap = imaplib.IMAP4_SSL(args.host, args.port, ssl_context=ctx, timeout=args.timeout)
    try:
        try:
            imap.login(user, password)
        except imaplib.IMAP4.abort:
            raise
        except imaplib.IMAP4.error as e:
            return "failed", None, text(e.args[0] if e.args else e)
        typ, data = imap.select("INBOX", readonly=True)
        if typ != "OK":
            return "error", None, "SELECT: %s %s" % (typ, text(data[0] if data else None))
        exists = int(data[0])
        imap.logout()
        imap = None
        return "ok", exists, None
    finally:
        if imap is not None:
            try:
                imap.shutdown()
            except OSError:
                pass


def pop3_login(args, ctx, user, password):
    pop = poplib.POP3_SSL(args.host, args.port, context=ctx, timeout=args.timeout)
    try:
        try:
            pop.user(user)
            pop.pass_(password)
        except poplib.error_proto as e:
            return "failed", None, text(e.args[0] if e.args else e)
        count, _ = pop.stat()
        pop.quit()
        pop = None
        return "ok", count, None
    finally:
        if pop is not None:
            try:
                pop.close()
            except OSError:
                pass


def main():
    args = parse_args()
    threads_wanted = max(1, args.threads)
    logins = queue.Queue()

    def read(source):
        i = 0
        for line in source:
            if line.strip():
                logins.put([i] + line.rstrip("\n").split("\t", 1))
                i += 1
        for _ in range(threads_wanted):
            logins.put(None)

    if args.logins == "-":
        threading.Thread(target=read, args=(sys.stdin,), daemon=True).start()
    else:
        with open(args.logins, encoding="utf-8") as f:
            read(f)
    ctx = ssl.create_default_context(cafile=args.cafile)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    login = imap_login if args.protocol == "imap" else pop3_login
    lock = threading.Lock()

    def worker():
        while True:
            item = logins.get()
            if item is None:
                return
            i, user, password = item
            start = time.time_ns()
            try:
                result, exists, error = login(args, ctx, user, password)
            except (imaplib.IMAP4.error, poplib.error_proto, OSError, ValueError) as e:
                result, exists, error = "error", None, "%s: %s" % (type(e).__name__, text(e))
            line = json.dumps({"i": i, "user": user, "start": start, "end": time.time_ns(),
                               "login": result, "exists": exists, "error": error})
            with lock:
                sys.stdout.write(line + "\n")
                sys.stdout.flush()

    threads = [threading.Thread(target=worker) for _ in range(threads_wanted)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return 0


if __name__ == "__main__":
    sys.exit(main())
