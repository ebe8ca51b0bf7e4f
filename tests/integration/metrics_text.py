# metrics_text: the Prometheus text of /tailor-status, parsed and summed.

import re

from env import HarnessError


def parse_metrics(text):
    """{(name, (("label","value"),...)): float} from the Prometheus text format."""
    out = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        m = re.match(r"^([A-Za-z_:][A-Za-z0-9_:]*)(\{([^}]*)\})?\s+(\S+)", line)
        if not m:
            raise HarnessError("not Prometheus text: %r" % line)
        labels = tuple(sorted(re.findall(r'([A-Za-z_][A-Za-z0-9_]*)="((?:[^"\\]|\\.)*)"',
                                         m.group(3) or "")))
        out[(m.group(1), labels)] = float(m.group(4))
    return out


def metric(metrics, name, **labels):
    """Sum of the samples of `name` whose labels include `labels`."""
    total = 0.0
    for (n, ls), v in metrics.items():
        if n == name and all((k, str(val)) in ls for k, val in labels.items()):
            total += v
    return total
