# ports: loopback TCP ports probed free for the servers a test starts.

import random
import socket
import threading

from env import HarnessError

_handed_out = set()
_port_lock = threading.Lock()


def _ephemeral_low():
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def free_port():
    """A loopback TCP port that nobody listens on now and this process has not
    handed out. It is taken below the kernel's ephemeral range: a port probed
    free there could become the local end of any outgoing connection (nginx to
    Redis, a browser, a client) before the server under test binds it."""
    rng = random.SystemRandom()
    high = _ephemeral_low()
    low = 10000 if high > 12000 else 1024
    with _port_lock:
        for _ in range(200):
            port = rng.randrange(low, high)
            if port in _handed_out:
                continue
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            finally:
                s.close()
            _handed_out.add(port)
            return port
    raise HarnessError("no free loopback port")


def port_open(port, host="127.0.0.1"):
    try:
        with socket.create_connection((host, port), timeout=1.0):
            return True
    except OSError:
        return False
