#!/usr/bin/env python3
"""Per-module figures of a localstack-recorded.sh run.

    figures.py --runner SUITE/runner --out OUT [--record DIR] MODULE...

Reads OUT/raw/xrepl-MODULE.jsonl (one JSON line per test, written by the suite runner's pytest plugin) and
prints a markdown table (selected / passed / failed / errors / skipped, pass rate of the tests that ran) and the
failure groups; writes OUT/failures-MODULE.txt (one failing test a line: name, group, detail, tab-separated)
and, with --record, DIR/last-failures-MODULE.txt (the failing names only, sorted, for diffing reruns).
The groups are the runner's own (`summarize.py` classify): snapshot, accepted, refused, assertion,
s3-not-implemented, outside-s3, harness.
"""

import argparse
import collections
import json
import os
import sys


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runner", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--record", default=None)
    ap.add_argument("modules", nargs="+")
    a = ap.parse_args()
    sys.path.insert(0, a.runner)
    from summarize import classify  # the runner's grouping, so figures and summary.txt agree

    print("| module | selected | passed | failed | errors | skipped | passed of those that ran | failure groups |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    for mod in a.modules:
        path = os.path.join(a.out, "raw", f"xrepl-{mod}.jsonl")
        recs = []
        for line in open(path) if os.path.exists(path) else []:
            try:
                recs.append(json.loads(line))
            except ValueError:  # a line cut short (the run was stopped): the test is not counted
                print(f"figures: {mod}: an unreadable result line was skipped", file=sys.stderr)
        oc = collections.Counter(r["outcome"] for r in recs)
        groups = collections.Counter()
        failing = []
        for r in recs:
            g, detail = classify(r)
            if g in ("passed", "skipped"):
                continue
            groups[g] += 1
            name = r["nodeid"].split("::", 1)[-1]
            failing.append((name, g, " ".join(str(detail).split())))
        ran = oc["passed"] + oc["failed"] + oc["error"]
        rate = f"{100.0 * oc['passed'] / ran:.1f} %" if ran else "-"
        gs = ", ".join(f"{k} {v}" for k, v in groups.most_common())
        print(f"| {mod} | {len(recs)} | {oc['passed']} | {oc['failed']} | {oc['error']} | {oc['skipped']} | {rate} | {gs} |")
        failing.sort()
        with open(os.path.join(a.out, f"failures-{mod}.txt"), "w") as fd:
            for name, g, detail in failing:
                fd.write(f"{name}\t{g}\t{detail}\n")
        if a.record:
            os.makedirs(a.record, exist_ok=True)
            with open(os.path.join(a.record, f"last-failures-{mod}.txt"), "w") as fd:
                for name, _g, _d in failing:
                    fd.write(name + "\n")


if __name__ == "__main__":
    main()
