#!/usr/bin/env python3
"""Module-level import cycles inside Rust crates of this workspace.

Usage: scripts/module-cycles.py CRATE...      (CRATE: a name under crates/, e.g. policy, or a path)

For each crate it builds the graph "module file A uses something defined in module file B" from the
source text alone (python3 standard library, no network, no build) and prints every cycle, with the
lines that make each edge. Exit status: 0 when no crate has a cycle, 1 when one has, 2 on bad usage.

What counts, and why:
- A node is one module file (lib.rs/main.rs, foo.rs, foo/mod.rs). Inline modules (`mod grammar { .. }`)
  belong to the file they are written in: a file is the unit one reads and moves code between.
- An edge A -> B is a path that reaches B: `use crate::b::X;`, `use super::b;`, an inline
  `crate::b::f()` / `super::b::X` / `self::b::X`, or a path that starts with a child module of A's
  module (`cmd::demo::run()` in main.rs). `pub use` re-exports are followed to the module that defines
  the item: `use crate::Spec;` with `pub use spec::Spec;` in lib.rs is an edge to spec.rs, not to
  lib.rs. A re-export is itself an edge from the re-exporting module.
- `mod x;` declarations are ownership, not use: they make no edge.
- Items under `#[cfg(test)]` (the unit-test modules) are left out: tests may reach anywhere.
- Comments, doc comments (so intra-doc links) and string literals are blanked before reading.
- Paths into other crates (`xrepl_provisioner::...`, `std::...`) are ignored.

It reads text, not the compiler's name resolution: a glob import (`use super::*`) is an edge to that
module, and a name brought in by a private `use` and then used as `name::item` is counted once, at
the `use`. Good enough for finding and preventing cycles; cargo-modules does the full resolution but
needs a rust-analyzer build (see docs/decisions.md).
"""

import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MAX_CYCLES_PER_GROUP = 200


def blank(text):
    """Comments and string/char literals replaced by spaces; newlines kept so offsets map to lines."""
    out = list(text)
    i, n = 0, len(text)

    def wipe(a, b):
        for k in range(a, b):
            if out[k] != "\n":
                out[k] = " "

    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            wipe(i, j)
            i = j
        elif text.startswith("/*", i):
            depth, j = 1, i + 2
            while j < n and depth:
                if text.startswith("/*", j):
                    depth, j = depth + 1, j + 2
                elif text.startswith("*/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            wipe(i, j)
            i = j
        elif (c == "r" or text.startswith("br", i)) and re.match(r'b?r(#*)"', text[i:i + 260]) and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")):
            m = re.match(r'b?r(#*)"', text[i:])
            close = '"' + m.group(1)
            j = text.find(close, i + m.end())
            j = n if j < 0 else j + len(close)
            wipe(i, j)
            i = j
        elif c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            wipe(i, j + 1)
            i = j + 1
        elif c == "'":
            # A char literal ('x', '\n', '\u{..}') or a lifetime ('a): only the former is blanked.
            if text.startswith("\\", i + 1):
                j = text.find("'", i + 2)
                wipe(i, j + 1)
                i = j + 1
            elif i + 2 < n and text[i + 2] == "'":
                wipe(i, i + 3)
                i += 3
            else:
                i += 1
        else:
            i += 1
    return "".join(out)


def item_end(text, start):
    """End offset of the item beginning at start: its first `;` at depth 0, or its closing brace."""
    depth, j = 0, start
    while j < len(text):
        c = text[j]
        if c in "([":
            depth += 1
        elif c in ")]":
            depth -= 1
        elif c == ";" and depth == 0:
            return j + 1
        elif c == "{":
            b, j = 1, j + 1
            while j < len(text) and b:
                b += {"{": 1, "}": -1}.get(text[j], 0)
                j += 1
            return j
        j += 1
    return len(text)


CFG_TEST = re.compile(r"#\s*\[\s*cfg\s*\(\s*(?:all\s*\(\s*)?test\b[^\]]*\]")


def drop_cfg_test(text):
    while True:
        m = CFG_TEST.search(text)
        if not m:
            return text
        start = m.start()
        j = m.end()
        while True:  # further attributes on the same item
            a = re.compile(r"\s*#\s*\[").match(text, j)
            if not a:
                break
            depth, j = 1, a.end()
            while depth:
                depth += {"[": 1, "]": -1}.get(text[j], 0)
                j += 1
        end = item_end(text, j)
        text = text[:start] + re.sub(r"[^\n]", " ", text[start:end]) + text[end:]


class Module:
    def __init__(self, name, parent, file):
        self.name, self.parent, self.file = name, parent, file
        self.children = {}  # name -> Module
        self.reexports = {}  # name -> (absolute path segments, module that re-exports)
        self.globs = []  # (absolute path segments) of `pub use x::*`
        self.items = set()  # names defined here (for glob re-exports)

    def path(self):
        return "crate" if self.parent is None else self.parent.path() + "::" + self.name


USE_START = re.compile(r"(?<![\w$])(pub(?:\s*\([^)]*\))?\s+)?use\s")
INLINE_PATH = re.compile(r"(?<![\w:$])((?:crate|super|self)\b(?:\s*::\s*(?:\w+))+)")
RELATIVE_PATH = re.compile(r"(?<![\w:$.])([a-z_]\w*)\s*::\s*(\w+)")
ITEM_DEF = re.compile(r"\b(?:fn|struct|enum|trait|type|const|static|union|macro_rules!)\s+(\w+)")
MOD_DECL = re.compile(r"(?<![\w$])(?:pub(?:\s*\([^)]*\))?\s+)?mod\s+(\w+)\s*([;{])")


def parse_use_tree(tokens, prefix):
    """Expand a use tree into (path segments, bound name) pairs."""
    out = []

    def tree(pos, prefix):
        segs = list(prefix)
        while pos < len(tokens):
            t = tokens[pos]
            if t == "{":
                pos += 1
                while tokens[pos] != "}":
                    pos = tree(pos, segs)
                    if tokens[pos] == ",":
                        pos += 1
                return pos + 1
            if t == "*":
                out.append((segs + ["*"], None))
                return pos + 1
            segs.append(t)
            pos += 1
            if pos < len(tokens) and tokens[pos] == "::":
                pos += 1
                continue
            name = segs[-1]
            if pos + 1 < len(tokens) and tokens[pos] == "as":
                name = tokens[pos + 1]
                pos += 2
            if segs[-1] == "self":
                segs = segs[:-1]
                name = segs[-1] if name == "self" else name
            out.append((segs, name))
            return pos
        return pos

    tree(0, prefix)
    return out


class Crate:
    def __init__(self, crate_dir):
        self.dir = crate_dir
        src = os.path.join(crate_dir, "src")
        root = next((os.path.join(src, f) for f in ("lib.rs", "main.rs") if os.path.exists(os.path.join(src, f))), None)
        if root is None:
            raise SystemExit(f"{crate_dir}: no src/lib.rs or src/main.rs")
        self.texts = {}  # file -> blanked text
        self.uses = []  # (module, segments, file, offset, is_pub)
        self.inline = []  # (module, segments, file, offset)
        self.root = Module(None, None, root)
        self.load(self.root, root, os.path.dirname(root))

    def load(self, module, file, child_dir):
        with open(file, encoding="utf-8") as f:
            text = drop_cfg_test(blank(f.read()))
        self.texts[file] = text
        # Inline modules: offsets where each one opens and closes.
        scopes = []  # (start, end, Module)
        for m in MOD_DECL.finditer(text):
            parent = module
            for s, e, mod in scopes:
                if s < m.start() < e:
                    parent = mod
            name = m.group(1)
            if m.group(2) == ";":
                sub_dir = child_dir if parent is module else os.path.join(child_dir, *parent.path().split("::")[len(module.path().split("::")):])
                for cand in (os.path.join(sub_dir, name + ".rs"), os.path.join(sub_dir, name, "mod.rs")):
                    if os.path.exists(cand):
                        child = Module(name, parent, cand)
                        parent.children[name] = child
                        self.load(child, cand, os.path.join(sub_dir, name))
                        break
                else:
                    print(f"warning: {file}: no file for `mod {name};`", file=sys.stderr)
            else:
                end = item_end(text, m.start())
                child = Module(name, parent, file)
                parent.children[name] = child
                scopes.append((m.start(), end, child))

        def scope_at(offset):
            best = module
            for s, e, mod in scopes:
                if s < offset < e and len(mod.path()) > len(best.path()):
                    best = mod
            return best

        for m in ITEM_DEF.finditer(text):
            scope_at(m.start()).items.add(m.group(1))
        use_spans = []
        for m in USE_START.finditer(text):
            end = item_end(text, m.end())
            use_spans.append((m.start(), end))
            body = text[m.end():end].rstrip(";")
            tokens = re.findall(r"::|\w+|[{},*]", body)
            scope = scope_at(m.start())
            for segs, name in parse_use_tree(tokens, []):
                self.uses.append((scope, segs, name, file, m.start(), bool(m.group(1))))
                if m.group(1) and segs:
                    if segs[-1] == "*":
                        scope.globs.append((segs[:-1], scope))
                    elif name:
                        scope.reexports[name] = (segs, scope)

        def in_use(offset):
            return any(s <= offset < e for s, e in use_spans)

        for m in INLINE_PATH.finditer(text):
            if not in_use(m.start()):
                segs = re.findall(r"\w+", m.group(1))
                self.inline.append((scope_at(m.start()), segs, file, m.start()))
        for m in RELATIVE_PATH.finditer(text):
            if not in_use(m.start()):
                scope = scope_at(m.start())
                if m.group(1) in scope.children:
                    self.inline.append((scope, [m.group(1), m.group(2)], file, m.start()))

    def resolve(self, module, segs, depth=0):
        """The module that defines what segs names (seen from module), or None for another crate."""
        if depth > 16 or not segs:
            return None
        first, rest = segs[0], segs[1:]
        if first == "crate":
            cur = self.root
        elif first == "super":
            cur = module.parent
        elif first == "self":
            cur = module
        elif first in module.children:
            cur, rest = module.children[first], rest
        else:
            return None
        for seg in rest:
            if cur is None:
                return None
            if seg == "super":
                cur = cur.parent
            elif seg == "self":
                continue
            elif seg in cur.children:
                cur = cur.children[seg]
            elif seg in cur.reexports:
                target, at = cur.reexports[seg]
                return self.resolve(at, target, depth + 1)
            elif seg in cur.items or seg == "*":
                return cur
            else:
                for target, at in cur.globs:
                    found = self.resolve(at, target + [seg], depth + 1)
                    if found is not None:
                        return found
                return cur
        return cur

    def edges(self):
        """{(from file, to file): [(file, line, path text)]}"""
        found = {}

        def add(module, segs, file, offset):
            target = self.resolve(module, segs)
            if target is not None and target.file != module.file:
                line = self.texts[file].count("\n", 0, offset) + 1
                found.setdefault((module.file, target.file), []).append((file, line, "::".join(segs)))

        for module, segs, _name, file, offset, _pub in self.uses:
            add(module, segs, file, offset)
        for module, segs, file, offset in self.inline:
            add(module, segs, file, offset)
        return found


def strongly_connected(nodes, succ):
    """Tarjan's algorithm: the components with more than one node (or a self-loop)."""
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in succ.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(nodes):
        if v not in index:
            visit(v)
    return out


def elementary_cycles(comp, succ):
    """Every simple cycle inside one component, each once, starting at its smallest node."""
    comp_set, cycles = set(comp), []
    for start in comp:
        allowed = {v for v in comp_set if v >= start}
        path, blocked = [start], {start}

        def walk(v):
            for w in sorted(succ.get(v, ())):
                if len(cycles) >= MAX_CYCLES_PER_GROUP:
                    return
                if w == start:
                    cycles.append(list(path))
                elif w in allowed and w not in blocked:
                    path.append(w)
                    blocked.add(w)
                    walk(w)
                    blocked.discard(w)
                    path.pop()

        walk(start)
    return cycles


def crate_dir(arg):
    for cand in (arg, os.path.join(ROOT, "crates", arg), os.path.join(ROOT, arg)):
        if os.path.isdir(os.path.join(cand, "src")):
            return os.path.abspath(cand)
    print(f"module-cycles: no crate {arg!r} (a name under crates/ or a crate directory)", file=sys.stderr)
    sys.exit(2)


def main(args):
    if not args or args[0] in ("-h", "--help"):
        print(__doc__.strip(), file=sys.stderr if not args else sys.stdout)
        return 2 if not args else 0
    any_cycle = False
    for arg in args:
        crate = Crate(crate_dir(arg))
        src = os.path.join(crate.dir, "src")
        edges = crate.edges()
        succ = {}
        for a, b in edges:
            succ.setdefault(a, set()).add(b)
        nodes = set(crate.texts)
        comps = strongly_connected(nodes, succ)
        rel = lambda f: os.path.relpath(f, src)  # noqa: E731
        name = os.path.relpath(crate.dir, ROOT) if crate.dir.startswith(ROOT + os.sep) else crate.dir
        if not comps:
            print(f"{name}: no module cycles ({len(nodes)} module files, {len(edges)} edges)")
            continue
        any_cycle = True
        print(f"{name}: module cycles in {len(comps)} group(s) of module files that use each other")
        for comp in comps:
            print(f"  group: {', '.join(rel(f) for f in comp)}")
            cycles = elementary_cycles(comp, succ)
            for cycle in cycles:
                print("    cycle: " + " -> ".join(rel(f) for f in cycle + [cycle[0]]))
            if len(cycles) >= MAX_CYCLES_PER_GROUP:
                print(f"    (first {MAX_CYCLES_PER_GROUP} cycles only)")
            print("    edges inside the group (file:line path):")
            for a in comp:
                for b in sorted(succ.get(a, ())):
                    if b in comp:
                        where = edges[(a, b)]
                        shown = "; ".join(f"{rel(f)}:{line} {p}" for f, line, p in where[:3])
                        more = f" (+{len(where) - 3} more)" if len(where) > 3 else ""
                        print(f"      {rel(a)} -> {rel(b)}: {shown}{more}")
    return 1 if any_cycle else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
