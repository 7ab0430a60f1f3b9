"""Logs in with XOAUTH2 (Google's bearer-token mechanism), as a mail client does.

Usage: xoauth2_client.py imap|pop3 HOST PORT CAFILE USER TOKEN

IMAP with imaplib's AUTHENTICATE (the response after the empty challenge), POP3 with
AUTH XOAUTH2 and the initial response. Prints "challenge <json>" for an error challenge
(answered with an empty response, as Google asks), then "OK <Subject line>" and exits 0,
or "NO <reply>" and exits 2.
"""
import base64
import imaplib
import poplib
import ssl
import sys


def main():
    protocol, host, port, cafile, user, token = sys.argv[1:7]
    context = ssl.create_default_context(cafile=cafile)
    message = ("user=%s\x01auth=Bearer %s\x01\x01" % (user, token)).encode()
    if protocol == "imap":
        return imap(host, int(port), context, message)
    return pop3(host, int(port), context, message)


def imap(host, port, context, message):
    client = imaplib.IMAP4_SSL(host, port, ssl_context=context, timeout=30)

    def answer(challenge):
        if challenge:
            print("challenge " + challenge.decode())
            return b""
        return message

    try:
        client.authenticate("XOAUTH2", answer)
    except imaplib.IMAP4.error as e:
        print("NO " + str(e))
        return 2
    client.select("INBOX", readonly=True)
    _, data = client.fetch("1", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
    print("OK " + data[0][1].decode().strip())
    client.logout()
    return 0


def pop3(host, port, context, message):
    client = poplib.POP3_SSL(host, port, context=context, timeout=30)
    reply = client._shortcmd("AUTH XOAUTH2 " + base64.b64encode(message).decode())
    if reply.startswith(b"+ "):
        print("challenge " + base64.b64decode(reply[2:]).decode())
        client._putcmd("")
        try:
            client._getresp()
        except poplib.error_proto as e:
            print("NO " + str(e))
            return 2
        print("NO no refusal after the challenge")
        return 3
    _, lines, _ = client.retr(1)
    subject = [l.decode() for l in lines if l.startswith(b"Subject:")]
    print("OK " + subject[0])
    client.quit()
    return 0


if __name__ == "__main__":
    sys.exit(main())
