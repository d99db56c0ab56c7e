#!/usr/bin/env python3
"""RSS growth per stored object, by body size, for one emulator (no replication: a plain bucket).

Starts the emulator, puts COUNT objects of each size into a fresh unversioned bucket with boto3,
and prints the RSS growth per object (VmRSS from /proc/PID/status). Bounded: COUNT <= 10000,
four sizes; the server is always stopped.

  python3 bench/memory_per_object.py xrepl --xrepl-bin /var/tmp/xrepl-target/x86_64-unknown-linux-gnu/release/xrepl
  python3 bench/memory_per_object.py ministack --ministack-bin /var/tmp/xrepl-bench-venv/bin/ministack

To see where the memory goes (xrepl), run the server under heaptrack (Debian package) and drive it
with the same puts: `heaptrack -o /tmp/heap xrepl serve --port 4621`, then `heaptrack_print /tmp/heap.zst`.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import replication_bench as rb  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("emulator", choices=sorted(rb.EMULATORS))
    p.add_argument("--port", type=int, default=4620)
    p.add_argument("--count", type=int, default=2000)
    p.add_argument("--sizes", default="1,256,4000,12000")
    p.add_argument("--xrepl-bin", default="/var/tmp/xrepl-target/x86_64-unknown-linux-gnu/release/xrepl")
    p.add_argument("--ministack-bin", default="/var/tmp/xrepl-bench-venv/bin/ministack")
    p.add_argument("--log-dir", default="/tmp")
    args = p.parse_args()
    if not 1 <= args.count <= 10000:
        p.error("--count must be between 1 and 10000")
    sizes = [int(s) for s in args.sizes.split(",")][:4]
    args.pid_file = None
    emu = rb.EMULATORS[args.emulator](args)
    emu.start()
    try:
        s3a = rb.client("s3", rb.ACCOUNT_A, emu.endpoint)
        print(f"{args.emulator}: idle RSS {emu.rss()['rss_mib']} MiB")
        print("| body bytes | objects | RSS growth per object, KiB |")
        print("| --- | --- | --- |")
        for n, size in enumerate(sizes):
            bucket = f"mem-{n}-{size}"
            s3a.create_bucket(Bucket=bucket)
            body = b"x" * size
            before = emu.rss()["rss_mib"]
            for i in range(args.count):
                s3a.put_object(Bucket=bucket, Key=f"k/{i:05d}", Body=body)
            time.sleep(0.3)
            after = emu.rss()["rss_mib"]
            print(f"| {size} | {args.count} | {(after - before) * 1024 / args.count:.2f} |")
    finally:
        emu.stop()


if __name__ == "__main__":
    main()
