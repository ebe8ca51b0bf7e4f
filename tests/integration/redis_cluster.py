# redis_cluster: a real Redis Cluster on probed loopback ports: 3 primaries and 3 replicas
# (redis-server --cluster-enabled yes, then redis-cli --cluster create --cluster-replicas 1),
# optionally behind AUTH (a password for the default user and ACL users), with what tests
# need to move it around: slot migrations (MIGRATING/IMPORTING, MIGRATE, SETSLOT NODE), a
# primary killed and its replica promoted, a manual failover.

import os
import subprocess
import time

from env import IO_TIMEOUT, REDIS_BIN, STARTUP_TIMEOUT, HarnessError, wait_for
from ports import free_port
from resp import RespClient, RespError

REDIS_CLI = os.environ.get("REDIS_CLI", os.path.join(os.path.dirname(REDIS_BIN), "redis-cli"))

# A failed primary is noticed after this; small so a failover takes seconds, not tens.
NODE_TIMEOUT_MS = 1000


class ClusterNode:
    def __init__(self, cluster, index, port):
        self.cluster = cluster
        self.index = index
        self.port = port
        self.bus_port = free_port()  # not port + 10000: that one was never probed
        self.dir = os.path.join(cluster.dir, "n%d" % index)
        os.makedirs(self.dir, exist_ok=True)
        self.proc = None

    @property
    def address(self):
        return "127.0.0.1:%d" % self.port

    def start(self):
        args = [REDIS_BIN, "--port", str(self.port), "--bind", "127.0.0.1",
                "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
                "--cluster-port", str(self.bus_port),
                "--cluster-node-timeout", str(NODE_TIMEOUT_MS),
                "--save", "", "--appendonly", "no", "--dir", self.dir,
                "--repl-diskless-sync-delay", "0", "--repl-ping-replica-period", "1",
                "--daemonize", "no", "--logfile", "redis.log"]
        if self.cluster.password:
            args += ["--requirepass", self.cluster.password,
                     "--masterauth", self.cluster.password]
        for user in self.cluster.acl_users:
            args += ["--user"] + user.split()
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)

    def wait_up(self):
        def ready():
            if self.proc.poll() is not None:
                raise HarnessError("redis-server %d exited with %s:\n%s"
                                   % (self.port, self.proc.returncode, self.log_tail()))
            try:
                return self.command("PING") == "PONG"
            except (OSError, RespError):
                return False
        wait_for(ready, STARTUP_TIMEOUT, "cluster node on port %d" % self.port)

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def log_tail(self, n=20):
        try:
            with open(os.path.join(self.dir, "redis.log"), errors="replace") as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return ""

    def client(self, timeout=IO_TIMEOUT):
        c = RespClient(self.port, timeout=timeout)
        if self.cluster.password:
            try:
                c.command("AUTH", self.cluster.password)
            except Exception:
                c.close()
                raise
        return c

    def command(self, *args):
        c = self.client()
        try:
            return c.command(*args)
        finally:
            c.close()

    def node_id(self):
        return self.command("CLUSTER", "MYID").decode()

    def role(self):
        return self.command("ROLE")[0].decode()

    def kill(self):
        if self.alive():
            self.proc.kill()
            self.proc.wait(timeout=IO_TIMEOUT)

    def stop(self):
        if not self.alive():
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=IO_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


class RedisCluster:
    """3 primaries + 3 replicas on loopback. start() returns when every node says
    cluster_state:ok and agrees on the slot map; stop() kills them all.

    password: requirepass (and masterauth) of the default user.
    acl_users: extra ACL rules, one string per user ("tailor on >pw ~* &* +@all")."""

    def __init__(self, workdir, primaries=3, replicas=1, password=None, acl_users=()):
        self.dir = workdir
        os.makedirs(self.dir, exist_ok=True)
        self.password = password
        self.acl_users = list(acl_users)
        self.replicas = replicas
        count = primaries * (1 + replicas)
        self.nodes = [ClusterNode(self, i, free_port()) for i in range(count)]

    @property
    def seeds(self):
        return [n.address for n in self.nodes]

    def start(self):
        for n in self.nodes:
            n.start()
        for n in self.nodes:
            n.wait_up()
        args = [REDIS_CLI, "--cluster", "create"] + self.seeds + [
            "--cluster-replicas", str(self.replicas), "--cluster-yes"]
        if self.password:
            args += ["-a", self.password, "--no-auth-warning"]
        out = subprocess.run(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, timeout=STARTUP_TIMEOUT)
        if out.returncode != 0:
            raise HarnessError("redis-cli --cluster create failed:\n%s"
                               % out.stdout.decode(errors="replace"))
        self.wait_ok()
        return self

    def stop(self):
        for n in self.nodes:
            n.stop()

    def alive_nodes(self):
        return [n for n in self.nodes if n.alive()]

    def node_by_port(self, port):
        for n in self.nodes:
            if n.port == port:
                return n
        raise HarnessError("no cluster node on port %d" % port)

    def slots(self, via=None):
        """[(first, last, primary port, [replica ports])] as `via` (or any live node) sees it."""
        node = via or self.alive_nodes()[0]
        out = []
        for e in node.command("CLUSTER", "SLOTS"):
            out.append((e[0], e[1], e[2][1], [r[1] for r in e[3:]]))
        return sorted(out)

    def wait_ok(self, timeout=None):
        """Every live node: cluster_state:ok, all 16384 slots served, the same slot map, and
        every primary with its replicas attached."""
        def ok():
            maps = []
            for n in self.alive_nodes():
                try:
                    info = n.command("CLUSTER", "INFO").decode()
                    if "cluster_state:ok" not in info or "cluster_slots_ok:16384" not in info:
                        return False
                    maps.append(self.slots(n))
                except (OSError, RespError):
                    return False
            if not maps or any(m != maps[0] for m in maps):
                return False
            live = {n.port for n in self.alive_nodes()}
            attached = sum(len([r for r in reps if r in live]) for _, _, _, reps in maps[0])
            return attached >= len(live) - len({p for _, _, p, _ in maps[0]})
        wait_for(ok, timeout or STARTUP_TIMEOUT * 2, "redis cluster state ok", interval=0.05)

    def keyslot(self, key):
        return self.alive_nodes()[0].command("CLUSTER", "KEYSLOT", key)

    def primary_for_slot(self, slot):
        for first, last, primary, _ in self.slots():
            if first <= slot <= last:
                return self.node_by_port(primary)
        raise HarnessError("slot %d has no primary" % slot)

    def replicas_for_slot(self, slot):
        for first, last, _, reps in self.slots():
            if first <= slot <= last:
                return [self.node_by_port(p) for p in reps]
        return []

    def primary_for_key(self, key):
        return self.primary_for_slot(self.keyslot(key))

    def slots_of(self, node):
        """The first slot of each range `node` serves as a primary."""
        return [f for f, _, p, _ in self.slots() if p == node.port]

    def primaries(self):
        return [self.node_by_port(p) for p in sorted({p for _, _, p, _ in self.slots()})]

    def command_for_key(self, key, *args):
        """Runs a command on the node that owns `key`, following one MOVED."""
        node = self.primary_for_key(key)
        try:
            return node.command(*args)
        except RespError as e:
            if str(e).startswith("MOVED "):
                port = int(str(e).rsplit(":", 1)[1])
                return self.node_by_port(port).command(*args)
            raise

    def set(self, key, value):
        return self.command_for_key(key, "SET", key, value)

    def get(self, key):
        return self.command_for_key(key, "GET", key)

    def flushall(self):
        for n in self.primaries():
            n.command("FLUSHALL")

    # Slot migration, as redis-cli --cluster reshard does it, in steps a test can stop between.

    def begin_migration(self, slot, src, dst):
        dst.command("CLUSTER", "SETSLOT", str(slot), "IMPORTING", src.node_id())
        src.command("CLUSTER", "SETSLOT", str(slot), "MIGRATING", dst.node_id())

    def migrate_keys(self, slot, src, dst, keys=None):
        """Moves the slot's keys (or only `keys`) from src to dst."""
        if keys is None:
            keys = src.command("CLUSTER", "GETKEYSINSLOT", str(slot), "1000")
        if not keys:
            return
        args = ["MIGRATE", "127.0.0.1", str(dst.port), "", "0", str(int(IO_TIMEOUT * 1000))]
        if self.password:
            args += ["AUTH", self.password]
        src.command(*(args + ["KEYS"] + list(keys)))

    def finish_migration(self, slot, dst):
        for n in self.alive_nodes():
            if n.role() == "master":
                n.command("CLUSTER", "SETSLOT", str(slot), "NODE", dst.node_id())
        self.wait_ok()

    def move_slot(self, slot, dst):
        src = self.primary_for_slot(slot)
        if src is dst:
            return
        self.begin_migration(slot, src, dst)
        self.migrate_keys(slot, src, dst)
        self.finish_migration(slot, dst)

    def kill_primary(self, node):
        """Kills a primary and returns once one of its replicas serves its slots."""
        old = {(f, l) for f, l, p, _ in self.slots() if p == node.port}
        node.kill()

        def promoted():
            try:
                return all(p != node.port for f, l, p, _ in self.slots()
                           if (f, l) in old) and self._state_ok()
            except (OSError, RespError):
                return False
        wait_for(promoted, STARTUP_TIMEOUT * 2, "a replica of %d promoted" % node.port,
                 interval=0.05)

    def _state_ok(self):
        for n in self.alive_nodes():
            if "cluster_state:ok" not in n.command("CLUSTER", "INFO").decode():
                return False
        return True

    def restart(self, node):
        """Starts a killed node again; it rejoins (as a replica of whoever took its slots)."""
        node.start()
        node.wait_up()
        self.wait_ok()
