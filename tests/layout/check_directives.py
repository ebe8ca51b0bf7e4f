#!/usr/bin/env python3
"""Checks that docs/directives.md documents every directive the module registers.

For each entry of an ngx_command_t table in ngx_module/ (any file, any module
of the .so), docs/directives.md must have a heading with the directive's name
followed by nginx's reference block:

        Syntax:  name ...;
        Default: ...
        Context: http, server, location

whose Context lists exactly the levels the command's flags allow. A heading
for a directive the module does not register is reported too (stale docs),
and every variable the module adds ($name) must be mentioned.

Exit status 1 with one line per problem.
"""
import pathlib
import re
import sys

COMMAND_TABLE = re.compile(r"ngx_command_t\s+\w+\[\]\s*=\s*\{(.*?)ngx_null_command", re.S)
COMMAND = re.compile(r'\{\s*ngx_string\("(tailor[a-z_]*)"\)\s*,\s*([^,]+),', re.S)
VARIABLE_TABLE = re.compile(r"ngx_http_variable_t\s+\w+\[\]\s*=\s*\{(.*?)ngx_http_null_variable",
                            re.S)
VARIABLE = re.compile(r'\{\s*ngx_string\("(tailor[a-z_]*)"\)')
LEVELS = [("NGX_HTTP_MAIN_CONF", "http"), ("NGX_HTTP_SRV_CONF", "server"),
          ("NGX_HTTP_LOC_CONF", "location")]
HEADING = re.compile(r"^#{2,3} (tailor[a-z_]*)\s*$")


def registered(root):
    """{name: [contexts]} and [variables] from the glue's tables."""
    commands, variables = {}, []
    for path in sorted((root / "ngx_module").rglob("*.cpp")):
        text = path.read_text(errors="replace")
        for table in COMMAND_TABLE.findall(text):
            for name, flags in COMMAND.findall(table):
                commands[name] = [ctx for flag, ctx in LEVELS if flag in flags]
        for table in VARIABLE_TABLE.findall(text):
            variables += VARIABLE.findall(table)
    return commands, variables


def documented(doc):
    """{name: {"Syntax": ..., "Default": ..., "Context": ..., "line": n}}."""
    lines = doc.splitlines()
    entries = {}
    for i, line in enumerate(lines):
        m = HEADING.match(line)
        if not m:
            continue
        entry = {"line": i + 1}
        for follow in lines[i + 1:i + 8]:
            f = re.match(r"^\s{4}(Syntax|Default|Context):\s*(.*)$", follow)
            if f:
                entry[f.group(1)] = f.group(2).strip()
        entries[m.group(1)] = entry
    return entries


def main(root):
    commands, variables = registered(root)
    doc_path = root / "docs" / "directives.md"
    doc = doc_path.read_text()
    entries = documented(doc)
    problems = []
    if len(commands) < 20:
        problems.append("ngx_module: only %d directives found; is the table parser stale?"
                        % len(commands))
    for name in sorted(commands):
        entry = entries.get(name)
        if entry is None:
            problems.append("%s: no entry for \"%s\" (## %s, then Syntax/Default/Context)"
                            % (doc_path, name, name))
            continue
        where = "%s:%d" % (doc_path, entry["line"])
        for field in ("Syntax", "Default", "Context"):
            if field not in entry:
                problems.append("%s: \"%s\" has no %s: line" % (where, name, field))
        syntax = entry.get("Syntax", "")
        if syntax and not (syntax.startswith(name + " ") or syntax == name + ";"):
            problems.append("%s: \"%s\" Syntax: does not start with its name: %s"
                            % (where, name, syntax))
        contexts = [c.strip() for c in entry.get("Context", "").split(",") if c.strip()]
        if "Context" in entry and contexts != commands[name]:
            problems.append("%s: \"%s\" Context: %s, but the module allows %s"
                            % (where, name, ", ".join(contexts) or "(empty)",
                               ", ".join(commands[name])))
    for name in sorted(set(entries) - set(commands)):
        problems.append("%s:%d: \"%s\" is documented but not registered"
                        % (doc_path, entries[name]["line"], name))
    for var in sorted(set(variables)):
        if "$" + var not in doc:
            problems.append("%s: variable $%s is not documented" % (doc_path, var))
    for p in problems:
        print(p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else ".").resolve()))
