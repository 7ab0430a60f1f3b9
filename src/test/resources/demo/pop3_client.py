"""Drives the demo mailbox with Python's poplib; prints one result per line for the Java test."""
import hashlib
import poplib
import sys

port = int(sys.argv[1])


def sha(data):
    return hashlib.sha256(data).hexdigest()


def joined(lines):
    """poplib strips line ends and dot-stuffing; put the CRLFs back to compare bytes."""
    return b''.join(line + b'\r\n' for line in lines)


pop = poplib.POP3('127.0.0.1', port, timeout=10)
print('welcome', pop.getwelcome().decode())
print('capa', ' '.join(sorted(pop.capa().keys())))
print('user', pop.user('demo').decode())
print('pass', pop.pass_('demo').decode())
count, size = pop.stat()
print('stat', count, size)
resp, listing, octets = pop.list()
print('list', ' '.join(line.decode() for line in listing))
resp, listing, octets = pop.uidl()
print('uidl', ' '.join(line.decode() for line in listing))
for n in (1, 2, 3):
    resp, lines, octets = pop.retr(n)
    print('retr', n, sha(joined(lines)))
resp, lines, octets = pop.top(3, 0)
print('top0', 3, sha(joined(lines)))
resp, lines, octets = pop.top(1, 2)
print('top2', 1, sha(joined(lines)))
print('dele', pop.dele(1).decode())
count, size = pop.stat()
print('stat-after-dele', count, size)
print('rset', pop.rset().decode())
count, size = pop.stat()
print('stat-after-rset', count, size)
print('noop', pop.noop().decode())
print('quit', pop.quit().decode())
