# processes: what /proc says about the nginx master and its workers.

import os


def pid_alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            st = f.read()
    except OSError:
        return False
    # after the closing ")" of comm: state; a zombie has exited
    return st[st.rindex(")") + 2] != "Z"


def children(ppid, marker=None):
    """Live pids whose parent is ppid (and whose cmdline contains marker)."""
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                st = f.read()
            rest = st[st.rindex(")") + 2:].split()
            if rest[0] == "Z" or int(rest[1]) != ppid:
                continue
            if marker is not None:
                with open("/proc/%s/cmdline" % d, "rb") as f:
                    if marker.encode() not in f.read():
                        continue
            out.append(int(d))
        except (OSError, ValueError, IndexError):
            continue
    return sorted(out)
