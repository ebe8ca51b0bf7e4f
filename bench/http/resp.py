# RESP for the bench drivers that talk to a redis-server themselves (live_script_driver.py,
# read_driver.py, live_cas_prototype.py): commands encoded as arrays of bulk strings, replies
# parsed as they come; an error reply ends the run.
import socket
import sys


def encode(*args):
    """One command: each argument bytes, or anything str() spells."""
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


class Connection:
    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.file = self.sock.makefile("rb")

    def reply(self):
        """The next reply: bytes (bulk or status), int, list, or None (nil)."""
        line = self.file.readline()
        kind, rest = line[:1], line[1:-2]
        if kind == b"$":
            return None if int(rest) < 0 else self.file.read(int(rest) + 2)[:-2]
        if kind == b"*":
            return None if int(rest) < 0 else [self.reply() for _ in range(int(rest))]
        if kind == b":":
            return int(rest)
        if kind == b"-":
            sys.exit("redis: " + rest.decode(errors="replace"))
        return rest

    def call(self, *args):
        self.sock.sendall(encode(*args))
        return self.reply()

    def pipeline(self, commands):
        self.sock.sendall(b"".join(encode(*c) for c in commands))
        return [self.reply() for _ in commands]
