#!/usr/bin/env python3
"""Functions longer than a screen in the workspace's crates (issue 22).

Usage: scripts/long-functions.py [--max N] [CRATE_DIR...]   (default: every crates/*/src, N = 80)

Prints each function (file:line name, lines) whose body spans more than N lines, outside
`#[cfg(test)]` modules, and exits 1 if there is one. A function may stay long when the comment just
above it says why it must be one piece: a line containing "one piece" (any case) exempts it (and it is listed
as exempt). Python standard library only; it reuses module-cycles.py's comment and string blanking.
"""

import importlib.util
import os
import re
import signal
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_spec = importlib.util.spec_from_file_location("module_cycles", os.path.join(ROOT, "scripts", "module-cycles.py"))
_mc = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_mc)

FN = re.compile(r"\bfn\s+([A-Za-z_][A-Za-z0-9_]*)")


def functions(path):
    text = open(path, encoding="utf-8").read()
    blanked = _mc.drop_cfg_test(_mc.blank(text))
    lines = text.splitlines()
    for m in FN.finditer(blanked):
        # The body starts at the first `{` after the signature; a `;` first means no body.
        i, depth = m.end(), 0
        while i < len(blanked) and blanked[i] not in "{;":
            i += 1
        if i >= len(blanked) or blanked[i] == ";":
            continue
        start = i
        while i < len(blanked):
            if blanked[i] == "{":
                depth += 1
            elif blanked[i] == "}":
                depth -= 1
                if depth == 0:
                    break
            i += 1
        first = blanked.count("\n", 0, m.start()) + 1
        last = blanked.count("\n", 0, i) + 1
        above = []
        k = first - 2
        while k >= 0 and re.match(r"\s*(///|//|#\[)", lines[k]):
            above.append(lines[k])
            k -= 1
        yield m.group(1), first, last - first + 1, any("one piece" in a.lower() for a in above), start


def main(args):
    limit = 80
    if args[:1] == ["--max"]:
        limit, args = int(args[1]), args[2:]
    dirs = args or sorted(os.path.join(ROOT, "crates", d, "src") for d in os.listdir(os.path.join(ROOT, "crates")))
    too_long = 0
    for d in dirs:
        for base, _, files in sorted(os.walk(d)):
            for f in sorted(files):
                if not f.endswith(".rs"):
                    continue
                path = os.path.join(base, f)
                seen_bodies = set()
                for name, line, length, exempt, body in functions(path):
                    if length <= limit or body in seen_bodies:
                        continue
                    seen_bodies.add(body)
                    rel = os.path.relpath(path, ROOT)
                    if exempt:
                        print(f"{rel}:{line} {name}: {length} lines (exempt: its comment says why it is one piece)")
                    else:
                        too_long += 1
                        print(f"{rel}:{line} {name}: {length} lines")
    print(f"{too_long} function(s) over {limit} lines")
    return 1 if too_long else 0


if __name__ == "__main__":
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # quiet when piped into head
    sys.exit(main(sys.argv[1:]))
