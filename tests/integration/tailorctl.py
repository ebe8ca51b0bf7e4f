# tailorctl: the built tailorctl as the tests use it: a key file that signs
# visitor cookies, and profiles encoded the way operators encode them.

import json
import os
import secrets
import subprocess

from env import IO_TIMEOUT, TAILORCTL, HarnessError, Unavailable
from msgpack_codec import msgpack_pack


def _run(args, stdin=None):
    """tailorctl ARGS: its stdout; Unavailable when it or the command is not built."""
    if not TAILORCTL or not os.access(TAILORCTL, os.X_OK):
        raise Unavailable("TAILORCTL is not set or not executable")
    p = subprocess.run([TAILORCTL] + args, input=stdin, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=IO_TIMEOUT)
    if p.returncode != 0:
        err = p.stderr.decode(errors="replace")
        if "not built yet" in err or "unknown command" in err:
            raise Unavailable("tailorctl %s: %s" % (args[0], err.strip()))
        raise HarnessError("tailorctl %s failed (rc %d): %s" % (" ".join(args), p.returncode, err))
    return p.stdout


class KeyFile:
    """A tailor_keys file: lines "<kid> <hex secret>", the first signs."""

    def __init__(self, path, keys=None):
        self.path = path
        self.keys = keys or [("k1", secrets.token_hex(32))]
        self.write()

    def write(self):
        with open(self.path, "w") as f:
            for kid, secret in self.keys:
                f.write("%s %s\n" % (kid, secret))
        os.chmod(self.path, 0o644)

    def sign(self, vid, kid=None):
        """The cookie value "<vid>.<kid>.<mac>" for vid, signed with tailorctl."""
        args = ["sign", "--key-file", self.path]
        if kid:
            args += ["--kid", kid]
        # "--": a random vid may itself start with "--"
        return _run(args + ["--", vid]).decode().strip()

    def verify(self, value):
        """Does tailorctl accept the cookie value? Returns its stdout or None."""
        try:
            return _run(["verify", "--key-file", self.path, "--", value]).decode().strip()
        except HarnessError:
            return None


def encode_profile(profile):
    """MessagePack bytes for a profile dict: tailorctl when it can, else our packer."""
    try:
        return _run(["profile", "encode"], json.dumps(profile).encode())
    except Unavailable:
        return msgpack_pack(profile)
