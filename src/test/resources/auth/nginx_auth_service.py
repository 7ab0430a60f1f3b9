#!/usr/bin/env python3
"""A small nginx mail ``auth_http`` service, the kind an ISP runs behind nginx's mail proxy.

nginx (and Postern's ``auth.source: http``) asks it, once per login attempt, with a GET whose headers
carry Auth-Method, Auth-User, Auth-Pass (both %-escaped), Auth-Protocol (imap|pop3), Auth-Login-Attempt,
Client-IP and, on TLS sessions, Auth-SSL*. It answers with headers only: ``Auth-Status: OK`` plus
Auth-Server / Auth-Port (and optionally a rewritten Auth-User / Auth-Pass, Auth-Backend,
Auth-Server-TLS), or ``Auth-Status: <error text>`` with an optional ``Auth-Wait: <seconds>``.

Users live in a JSON file, re-read on every request, so a test can change a password:
  {"alice": {"password": "...", "server": "127.0.0.1", "imap_port": 143, "pop3_port": 110,
             "user": "backend login", "pass": "backend password", "backend": "postern backend name",
             "server_tls": "none|starttls|implicit"}}
Methods: plain (password compared), apop (MD5(salt + password)), cram-md5 (HMAC-MD5(password, salt));
for apop and cram-md5 the plaintext password goes back as Auth-Pass, as nginx requires.

  python3 nginx_auth_service.py --users users.json [--port 0] [--wait N]
      [--require-header NAME:VALUE]... [--log requests.jsonl]

Prints exactly one line ``listening on 127.0.0.1:PORT`` once bound. With --log, appends one JSON object
per request before answering it: the raw request line and headers as received (values as ISO-8859-1
strings, so Auth-User/Auth-Pass are still %-escaped), the decoded user and password, and the answer.
Standard library only.
"""
import argparse
import hashlib
import hmac
import json
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

INVALID = "Invalid login or password"


def decode(value):
    """nginx %-escapes space, '%' and control bytes; the rest of the header is raw (UTF-8) bytes."""
    raw = value.encode("latin-1")  # http.server decodes header bytes as ISO-8859-1: undo that
    try:
        return urllib.parse.unquote_to_bytes(raw).decode("utf-8")
    except UnicodeDecodeError:
        return None


def header_value(text):
    """Header values go out as bytes; http.server writes str as ISO-8859-1, so pass UTF-8 through."""
    return str(text).encode("utf-8").decode("latin-1")


def password_matches(method, given, password, salt):
    if method == "plain":
        return hmac.compare_digest(given.encode("utf-8"), password.encode("utf-8"))
    if method == "apop":
        expected = hashlib.md5((salt + password).encode("utf-8")).hexdigest()
    elif method == "cram-md5":
        expected = hmac.new(password.encode("utf-8"), salt.encode("utf-8"), hashlib.md5).hexdigest()
    else:
        return False
    return hmac.compare_digest(given.lower().encode("utf-8"), expected.encode("ascii"))


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive for HTTP/1.1 clients; nginx's HTTP/1.0 gets a close
    server_version = "nginx-auth-service"

    def do_GET(self):
        options = self.server.options
        get = lambda name: self.headers.get(name)
        user, password = decode(get("Auth-User") or ""), decode(get("Auth-Pass") or "")
        answer = self.answer(options, user, password, get)
        if options.log:
            entry = {"time": time.time(), "request_line": self.requestline, "path": self.path,
                     "client": self.client_address[0], "headers": [[k, v] for k, v in self.headers.items()],
                     "user": user, "password": password, "answer": answer}
            with self.server.log_lock, open(options.log, "a", encoding="utf-8") as log:
                log.write(json.dumps(entry) + "\n")
        self.send_response(200)
        for name, value in answer:
            self.send_header(name, header_value(value))
        self.send_header("Content-Length", "0")
        self.end_headers()

    def answer(self, options, user, password, get):
        for name, value in options.require_header:
            if get(name) != value:
                return [["Auth-Status", "Forbidden"]]
        with open(options.users, encoding="utf-8") as f:
            users = json.load(f)
        entry = users.get(user) if user is not None else None
        method = (get("Auth-Method") or "").lower()
        if (entry is None or password is None
                or not password_matches(method, password, entry.get("password", ""), get("Auth-Salt") or "")):
            failure = [["Auth-Status", INVALID]]
            return failure + ([["Auth-Wait", str(options.wait)]] if options.wait > 0 else [])
        protocol = (get("Auth-Protocol") or "").lower()
        port = entry.get(protocol + "_port")
        if port is None:
            return [["Auth-Status", "No " + protocol + " server for this account"]]
        result = [["Auth-Status", "OK"], ["Auth-Server", entry.get("server", "127.0.0.1")], ["Auth-Port", str(port)]]
        if "user" in entry:
            result.append(["Auth-User", entry["user"]])
        if "pass" in entry:
            result.append(["Auth-Pass", entry["pass"]])
        elif method in ("apop", "cram-md5"):
            result.append(["Auth-Pass", entry["password"]])  # nginx needs the plaintext for the backend
        if "backend" in entry:
            result.append(["Auth-Backend", entry["backend"]])
        if "server_tls" in entry:
            result.append(["Auth-Server-TLS", entry["server_tls"]])
        return result


def main():
    parser = argparse.ArgumentParser(description="nginx mail auth_http service")
    parser.add_argument("--users", required=True, help="JSON users file, re-read on every request")
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1; 0 lets the OS pick")
    parser.add_argument("--wait", type=int, default=0, help="Auth-Wait seconds on a wrong password; 0: none")
    parser.add_argument("--require-header", action="append", default=[], metavar="NAME:VALUE",
                        help="answer Forbidden unless the request has this header (a shared secret)")
    parser.add_argument("--log", help="append one JSON object per request to this file")
    options = parser.parse_args()
    required = []
    for spec in options.require_header:
        name, sep, value = spec.partition(":")
        if not sep or not name.strip():
            parser.error("--require-header wants NAME:VALUE, got " + spec)
        required.append((name.strip(), value.strip()))
    options.require_header = required

    server = ThreadingHTTPServer(("127.0.0.1", options.port), Handler)
    server.daemon_threads = True
    server.options, server.log_lock = options, threading.Lock()
    print("listening on 127.0.0.1:%d" % server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
