"""Summarise a junit XML written by pytest for Ceph's s3-tests.

    python3 summarize.py JUNIT_XML SELECTION OUT_DIR [FAILURES_FILE]

Writes OUT_DIR/summary-<selection>.md (markdown, ready to paste), OUT_DIR/summary-<selection>.json,
OUT_DIR/failures-<selection>.txt (one failing test name a line, sorted) and, if FAILURES_FILE is
given, the same list there too. Prints the markdown.

Pass rate = passed / (passed + failed + errors); skipped tests are counted apart.
"""

import collections
import json
import os
import re
import sys
import xml.etree.ElementTree as ET

sys.dont_write_bytecode = True  # keep scripts/ceph free of __pycache__
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import selections  # noqa: E402

CLIENT_ERROR = re.compile(r"(?:ClientError|errorfactory\.\w+): An error occurred \(([^)]*)\) when calling the (\w+) operation")
ASSERT_LINE = re.compile(r"^(?:E\s+)?(?:AssertionError: )?assert (.+)$", re.M)


def normalise(text):
    text = re.sub(r"xrepl-[a-z0-9]+-\d+", "<bucket>", text)
    text = re.sub(r"\b[0-9a-f]{32,}\b", "<id>", text)
    text = re.sub(r"0x[0-9a-f]+", "0x?", text)
    return text.strip()


SOURCE_ASSERT = re.compile(r"^ {4}assert (.+?) == (.+)$", re.M)
LITERAL = re.compile(r"""^(-?\d+|'[^']*'|"[^"]*"|\(.*|True|False|None)$""")


def expected_on_left(text):
    """The suite writes both `assert status == 403` and `assert 403 == _get_status(...)`; pytest prints
    `assert <left> == <right>` either way. Look at the source line: a literal on the left is the expectation."""
    found = SOURCE_ASSERT.findall(text or "")
    if not found:
        return False
    left, right = (x.strip() for x in found[-1])
    return bool(LITERAL.match(left)) and not LITERAL.match(right)


def cause_of(kind, message, text):
    """A short, groupable reason for a failure or error."""
    message = message or ""
    text = text or ""
    # pytest-timeout
    if "Timeout" in message and "pytest-timeout" in text or message.startswith("Failed: Timeout"):
        return "timeout"
    # An assertion on a value: pytest prints `assert <got> == <expected>` for the suite's
    # `assert status == 403` / `assert error_code == 'AccessDenied'` style checks.
    m = ASSERT_LINE.search(message) or ASSERT_LINE.search(text)
    if m:
        expr = m.group(1).strip()
        eq = re.match(r"^(.{1,120}?) == (.{1,120})$", expr)
        if eq and len(expr) < 200:
            got, expected = eq.group(1), eq.group(2)
            if expected_on_left(text):
                got, expected = expected, got
            return normalise("got %s, expected %s" % (got, expected))
        absent = re.match(r"^not '([^']+)' in \{", expr)
        if absent:
            return "unexpected '%s' in the response" % absent.group(1)
        return normalise("assert " + expr[:90] + ("..." if len(expr) > 90 else ""))
    # An unexpected error from the server while the test set things up or ran.
    m = CLIENT_ERROR.search(message) or CLIENT_ERROR.search(text)
    if m:
        return "unexpected %s on %s" % (m.group(1), m.group(2))
    first = (message.splitlines() or [""])[0]
    if not first:
        lines = [l for l in text.splitlines() if l.startswith("E ")]
        first = lines[-1][2:].strip() if lines else kind
    return normalise(first[:160])


def main(argv):
    if len(argv) < 4:
        print(__doc__, file=sys.stderr)
        return 2
    junit, selection, out_dir = argv[1], argv[2], argv[3]
    failures_file = argv[4] if len(argv) > 4 else None
    tree = ET.parse(junit)
    # pytest's junit writes a test twice when its body ran and its setup/teardown then failed (one <testcase>
    # for the call, one with <error message="failed on teardown ...">). Merge them: one row per test.
    merged = collections.OrderedDict()
    for case in tree.iter("testcase"):
        key = (case.get("classname"), case.get("name"))
        row = merged.setdefault(key, {"name": case.get("name"), "call": "passed", "call_msg": None, "fixture_errors": []})
        for child in case:
            message, text = child.get("message", "") or "", child.text or ""
            if child.tag == "failure":
                row["call"], row["call_msg"] = "failed", (message, text)
            elif child.tag == "error":
                phase = "teardown" if "teardown" in message[:40] else "setup"
                row["fixture_errors"].append((phase, message, text))
            elif child.tag == "skipped":
                row["call"] = "skipped"
    cases = []
    for row in merged.values():
        name = row["name"]
        setup_errors = [e for e in row["fixture_errors"] if e[0] == "setup"]
        teardown_errors = [e for e in row["fixture_errors"] if e[0] == "teardown"]
        if row["call"] == "failed":
            status, (message, text) = "failed", row["call_msg"]
        elif setup_errors:
            status, message, text = "error", setup_errors[0][1], setup_errors[0][2]
        elif teardown_errors and row["call"] == "passed":
            status, message, text = "error", teardown_errors[0][1], teardown_errors[0][2]
        else:
            status, message, text = row["call"], "", ""
        cause = cause_of(status, message, text) if status in ("failed", "error") else None
        if status == "error" and not setup_errors:
            cause = "cleanup only (test body passed): " + cause
        cases.append({
            "name": name,
            "status": status,
            "group": selections.group_of(name) if selection == "replication-groups" else None,
            "cause": cause,
            "cleanup_error": bool(teardown_errors),
        })

    def counts(items):
        c = collections.Counter(i["status"] for i in items)
        ran = c["passed"] + c["failed"] + c["error"]
        rate = (100.0 * c["passed"] / ran) if ran else 0.0
        return {"tests": len(items), "passed": c["passed"], "failed": c["failed"], "errors": c["error"],
                "skipped": c["skipped"], "pass_rate": round(rate, 1),
                "cleanup_only": sum(1 for i in items if i["status"] == "error" and i["cause"].startswith("cleanup only"))}

    total = counts(cases)
    groups = {}
    if selection == "replication-groups":
        for g, _ in selections.GROUPS:
            groups[g] = counts([c for c in cases if c["group"] == g])
    failing = sorted([c for c in cases if c["status"] in ("failed", "error")], key=lambda c: c["name"])

    by_cause = collections.OrderedDict()
    for c in sorted(failing, key=lambda c: (c["group"] or "", c["cause"], c["name"])):
        by_cause.setdefault((c["group"] or "-", c["cause"]), []).append(c["name"])

    row = "| {sel} | {tests} | {passed} | {failed} | {errors} | {skipped} | {pass_rate:.1f} % |"
    md = ["| selection | tests | passed | failed | errors | skipped | pass rate |",
          "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
          row.format(sel=selection, **total)]
    for g, c in groups.items():
        md.append(row.format(sel="  " + g, **c))
    md += ["", "Pass rate = passed / (passed + failed + errors). A test counts once; errors include %d test(s) whose body "
           "passed but whose cleanup failed." % total["cleanup_only"], "",
           ]
    grouped = selection == "replication-groups"
    if grouped:
        md += ["| group | cause (from the pytest output) | count | example |", "| --- | --- | ---: | --- |"]
    else:
        md += ["| cause (from the pytest output) | count | example |", "| --- | ---: | --- |"]
    for (g, cause), names in sorted(by_cause.items(), key=lambda kv: (kv[0][0], -len(kv[1]), kv[0][1])):
        cell = cause.replace("|", "\\|")
        if grouped:
            md.append("| %s | %s | %d | `%s` |" % (g, cell, len(names), names[0]))
        else:
            md.append("| %s | %d | `%s` |" % (cell, len(names), names[0]))
    text = "\n".join(md) + "\n"

    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "summary-%s.md" % selection), "w") as f:
        f.write(text)
    with open(os.path.join(out_dir, "summary-%s.json" % selection), "w") as f:
        json.dump({"selection": selection, "total": total, "groups": groups, "cases": cases}, f, indent=1)
    names = "".join(c["name"] + "\n" for c in failing)
    with open(os.path.join(out_dir, "failures-%s.txt" % selection), "w") as f:
        f.write(names)
    if failures_file:
        with open(failures_file, "w") as f:
            f.write(names)
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
