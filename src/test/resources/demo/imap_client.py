"""Drives the demo mailbox with Python's imaplib; prints one result per line for the Java test."""
import hashlib
import imaplib
import sys

port = int(sys.argv[1])


def sha(data):
    return hashlib.sha256(data).hexdigest()


def literals(data):
    """The literal payloads of a FETCH result, in order."""
    return [item[1] for item in data if isinstance(item, tuple)]


def lines(data):
    """The FETCH responses that carried no literal, as text."""
    return [item.decode() for item in data if isinstance(item, bytes) and item != b')']


imap = imaplib.IMAP4('127.0.0.1', port, timeout=10)
print('welcome', imap.welcome.decode())
typ, data = imap.capability()
print('capability', typ, data[0].decode())
typ, data = imap.login('demo', 'demo')
print('login', typ)
typ, data = imap.select('INBOX')
print('select', typ, data[0].decode())
typ, data = imap.search(None, 'ALL')
print('search-all', typ, data[0].decode())
typ, data = imap.search(None, 'SUBJECT', 'Welcome')
print('search-subject', typ, data[0].decode())
for n in ('1', '2', '3'):
    typ, data = imap.fetch(n, '(BODY.PEEK[])')
    print('peek', n, typ, sha(literals(data)[0]))
typ, data = imap.fetch('1:*', '(FLAGS UID RFC822.SIZE)')
for line in lines(data):
    print('meta-before', line)
for n in ('1', '2', '3'):
    typ, data = imap.fetch(n, '(RFC822)')
    print('rfc822', n, typ, sha(literals(data)[0]))
typ, data = imap.fetch('1:*', '(FLAGS UID RFC822.SIZE)')
for line in lines(data):
    print('meta-after', line)
typ, data = imap.uid('FETCH', '2:*', '(BODY.PEEK[HEADER.FIELDS (SUBJECT)])')
for payload in literals(data):
    print('uid-subject', typ, payload.decode().strip())
typ, data = imap.uid('SEARCH', 'ALL')
print('uid-search', typ, data[0].decode())
typ, data = imap.fetch('3', '(BODYSTRUCTURE)')
print('bodystructure', typ, data[0].decode())
typ, data = imap.fetch('1', '(ENVELOPE)')
print('envelope', typ, data[0].decode())
typ, data = imap.fetch('2', '(BODY.PEEK[HEADER] BODY.PEEK[TEXT])')
print('header-text', typ, sha(literals(data)[0] + literals(data)[1]))
typ, data = imap.noop()
print('noop', typ)
typ, data = imap.logout()
print('logout', typ)

# A second session: SASL PLAIN through imaplib's continuation handling.
imap = imaplib.IMAP4('127.0.0.1', port, timeout=10)
typ, data = imap.authenticate('PLAIN', lambda challenge: b'\0demo\0demo')
print('authenticate', typ)
typ, data = imap.select('INBOX')
typ, data = imap.fetch('1:*', '(FLAGS)')
for line in lines(data):
    print('fresh-flags', line)
imap.logout()
