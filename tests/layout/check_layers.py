#!/usr/bin/env python3
"""Checks the architecture the README's layout table promises.

- core/ includes neither nginx nor hiredis;
- a core folder includes only its own folder and lower ones (ORDER below,
  lowest first), never a higher one;
- no source file sits at the top of core/tailor/ (only umbrella headers);
- the Redis key schema is spelled in exactly one product file.

Exit status 1 with one line per violation, file:line first.
"""
import pathlib
import re
import sys

ORDER = ["base", "html", "page", "store", "request", "visitor", "profile", "decision",
         "events", "triggers", "popup", "rules", "engine"]
RANK = {name: i for i, name in enumerate(ORDER)}
INCLUDE = re.compile(r'^\s*#\s*include\s+[<"]([^">]+)[">]')
FORBIDDEN = ("ngx_", "nginx", "hiredis")


def main(root: pathlib.Path) -> int:
    core = root / "core" / "tailor"
    problems = []
    for path in sorted(core.rglob("*")):
        if path.suffix not in (".h", ".cpp"):
            continue
        rel = path.relative_to(core)
        if len(rel.parts) == 1:
            if path.suffix == ".cpp":
                problems.append(f"{path}: a source file at the top of core/tailor/")
            continue
        folder = rel.parts[0]
        if folder not in RANK:
            problems.append(f"{path}: folder '{folder}' is not in the layer order")
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            m = INCLUDE.match(line)
            if not m:
                continue
            target = m.group(1)
            if target.startswith(FORBIDDEN) or "/nginx" in target:
                problems.append(f"{path}:{number}: core includes {target}")
            parts = target.split("/")
            if len(parts) >= 3 and parts[0] == "tailor" and parts[1] in RANK:
                if RANK[parts[1]] > RANK[folder]:
                    problems.append(f"{path}:{number}: {folder}/ includes the higher {target}")

    key_spelling = re.compile(r'"tailor:\{"')
    spelled = []
    for top in ("core", "ngx_module"):
        for path in sorted((root / top).rglob("*")):
            if path.suffix in (".h", ".cpp", ".c") and key_spelling.search(path.read_text()):
                spelled.append(str(path))
    if len(spelled) != 1:
        problems.append(f"the key schema is spelled in {len(spelled)} product files: {spelled}")

    for p in problems:
        print(p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else ".").resolve()))
