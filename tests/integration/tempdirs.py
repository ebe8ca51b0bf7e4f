# tempdirs: a test's temp dir, readable by nginx workers that run as nobody.

import os
import re
import shutil
import stat
import tempfile


def make_tempdir(name):
    d = tempfile.mkdtemp(prefix="tailor-it-%s-" % re.sub(r"[^A-Za-z0-9_.-]", "_", name)[:60])
    os.chmod(d, 0o755)   # workers run as nobody when the master is root
    return d


def open_tree(path):
    """chmod a tree so unprivileged workers can read it (dirs 755, files 644)."""
    os.chmod(path, 0o755)
    for root, dirs, files in os.walk(path):
        for d in dirs:
            os.chmod(os.path.join(root, d), 0o755)
        for f in files:
            p = os.path.join(root, f)
            os.chmod(p, stat.S_IMODE(os.stat(p).st_mode) | 0o644)


def remove_tree(path):
    shutil.rmtree(path, ignore_errors=True)
