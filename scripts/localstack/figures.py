#!/usr/bin/env python3
"""Per-module figures of a localstack-recorded.sh run.

    figures.py --runner SUITE/runner --out OUT [--record DIR] MODULE...

Reads OUT/raw/xrepl-MODULE.jsonl (one JSON line per test, written by the suite runner's pytest plugin) and
prints a markdown table (selected / passed / failed / errors / skipped, pass rate of the tests that ran) and the
failure groups; writes OUT/failures-MODULE.txt (one failing test a line: name, tag, group, detail, tab-separated)
and, with --record, DIR/last-failures-MODULE.txt (the failing tests sorted, with tag and group, for diffing reruns).
The groups are the runner's own (`summarize.py` classify): snapshot, accepted, refused, assertion,
s3-not-implemented, outside-s3, harness. The tag says whose the failure is: outside xrepl's scope, suite harness,
or differs from AWS.
"""

import argparse
import collections
import json
import os
import sys


def tag(group, detail):
    """The reason a failure is not xrepl's to fix, or that it is (docs/compatibility.md, LocalStack section)."""
    if group == "outside-s3":
        return "outside xrepl's scope"  # SQS/SNS/Lambda/EventBridge fixtures
    if group == "harness" and any(s in detail for s in ("s3-website", "MissingSchema", "FileNotFoundError")):
        return "suite harness"  # website virtual hosts, LOCALSTACK_HOST, a data file not in the pinned copy
    if group == "refused" and detail.startswith("AssumeRole"):
        return "suite harness"  # the recordings ran as an IAM user; the suite here signs with the root key
    return "differs from AWS"


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
            detail = " ".join(str(detail).split())
            failing.append((name, g, detail, tag(g, detail)))
        ran = oc["passed"] + oc["failed"] + oc["error"]
        rate = f"{100.0 * oc['passed'] / ran:.1f} %" if ran else "-"
        tags = collections.Counter(f[3] for f in failing)
        gs = ", ".join(f"{k} {v}" for k, v in groups.most_common()) + "; " + ", ".join(f"{k} {v}" for k, v in tags.most_common())
        print(f"| {mod} | {len(recs)} | {oc['passed']} | {oc['failed']} | {oc['error']} | {oc['skipped']} | {rate} | {gs} |")
        failing.sort()
        with open(os.path.join(a.out, f"failures-{mod}.txt"), "w") as fd:
            for name, g, detail, t in failing:
                fd.write(f"{name}\t{t}\t{g}\t{detail}\n")
        if a.record:
            os.makedirs(a.record, exist_ok=True)
            with open(os.path.join(a.record, f"last-failures-{mod}.txt"), "w") as fd:
                for name, g, _d, t in failing:
                    fd.write(f"{name}\t{t}\t{g}\n")


if __name__ == "__main__":
    main()
