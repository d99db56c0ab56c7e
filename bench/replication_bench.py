#!/usr/bin/env python3
"""Cross-account replication benchmark: the same boto3 client against several local emulators.

For each emulator this script starts the server itself (so it knows the PID and the start time),
applies the guide's cross-account setup with boto3 (path-style, access key id = account id,
secret "test"), measures, and stops the server:

  start        start-to-healthy time (median of --starts cold starts)
  rss          idle RSS right after healthy, RSS after the whole run, peak RSS (VmHWM), from
               /proc/PID/status (summed over the server's process tree)
  latency      PutObject -> replica visible: put one object in account A's bucket, then poll
               HeadObject on account B's bucket with no sleep until it answers 200 (N objects)
  throughput   N x 256 B objects put sequentially (and with T threads), then HeadObject every
               replica until all are visible; objects/s over the whole interval
  engine       (xrepl only, through /_xrepl/replication/drain) the replication lag without
               polling: put one object then POST drain (N times); put N objects then POST drain;
               pause, put N objects, resume and drain (the engine's own throughput)

Every loop is bounded (counts and a deadline per wait); the server is always stopped.

  python3 bench/replication_bench.py run --emulator xrepl --xrepl-bin PATH --port 4610 --out xrepl.json
  python3 bench/replication_bench.py run --emulator ministack --ministack-bin PATH --port 4611 --out ms.json
  python3 bench/replication_bench.py report xrepl.json ms.json [--hyperfine hf.json --time-v time.txt]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import boto3
import botocore
from botocore.config import Config
from botocore.exceptions import ClientError

ACCOUNT_A = "111111111111"
ACCOUNT_B = "222222222222"
SECRET = "test"
REGION = "us-east-1"
ROLE_NAME = "s3crr_role_for_bench"
ROLE_PATH = "/service-role/"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT_A}:role/service-role/{ROLE_NAME}"
BODY = b"x" * 256
# xrepl's admin calls that change state need this header (browsers cannot send it cross-site).
ADMIN_HEADERS = {"x-xrepl-admin": "1"}
WAIT_LIMIT_S = 30.0  # deadline for any single wait (one replica, all replicas, health)


# ---------------------------------------------------------------- emulators


class Emulator:
    """How to start one emulator, where its health endpoint is, and anything it needs in setup."""

    name = "?"
    health_path = "/"

    def __init__(self, args: argparse.Namespace):
        self.args = args
        self.port = args.port
        self.proc: subprocess.Popen | None = None
        self.log = open(os.path.join(args.log_dir, f"{self.name}-{self.port}.log"), "ab")

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def command(self) -> tuple[list[str], dict[str, str]]:
        raise NotImplementedError

    def version(self) -> str:
        return "?"

    def start(self) -> float:
        """Starts the server; returns seconds from spawn until the health endpoint answers 200."""
        cmd, env = self.command()
        t0 = time.perf_counter()
        self.proc = subprocess.Popen(cmd, env={**os.environ, **env}, stdout=self.log, stderr=self.log, start_new_session=True)
        if self.args.pid_file:  # lets scripts/bench.sh stop the server if this script is killed
            with open(self.args.pid_file, "w") as f:
                f.write(f"{self.proc.pid}\n")
        deadline = t0 + WAIT_LIMIT_S
        while time.perf_counter() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode} before it was healthy (log: {self.log.name})")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=1)
                conn.request("GET", self.health_path)
                status = conn.getresponse().status
                conn.close()
                if status == 200:
                    return time.perf_counter() - t0
            except OSError:
                pass
            time.sleep(0.002)
        self.stop()
        raise RuntimeError(f"{self.name} not healthy after {WAIT_LIMIT_S}s (log: {self.log.name})")

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        self.proc = None
        if self.args.pid_file:  # stopped: nothing for scripts/bench.sh to signal (the PID may be reused)
            open(self.args.pid_file, "w").close()

    def rss(self) -> dict[str, float]:
        assert self.proc is not None
        return tree_memory(self.proc.pid)

    def cpu_seconds(self) -> float:
        """User + system CPU time the server process has used so far."""
        assert self.proc is not None
        with open(f"/proc/{self.proc.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Xrepl(Emulator):
    name = "xrepl"
    health_path = "/_xrepl/health"

    def command(self):
        return [self.args.xrepl_bin, "serve", "--host", "127.0.0.1", "--port", str(self.port)], {"RUST_LOG": "warn"}

    def version(self) -> str:
        out = subprocess.run([self.args.xrepl_bin, "--version"], capture_output=True, text=True, timeout=10)
        return out.stdout.strip() or "?"

    def admin(self, method: str, path: str) -> dict:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=WAIT_LIMIT_S + 5)
        conn.request(method, path, headers=ADMIN_HEADERS)
        resp = conn.getresponse()
        body = resp.read()
        conn.close()
        if resp.status != 200:
            raise RuntimeError(f"{method} {path}: HTTP {resp.status} {body[:200]!r}")
        return json.loads(body)


class Ministack(Emulator):
    name = "ministack"
    health_path = "/_ministack/health"

    def command(self):
        # Foreground mode serves in-process (hypercorn inside the `ministack` process).
        # Accounts come from 12-digit access key ids; signatures are not checked (AUTH off by default).
        env = {"GATEWAY_PORT": str(self.port), "BIND_HOST": "127.0.0.1", "LOG_LEVEL": "WARNING"}
        return [self.args.ministack_bin], env

    def version(self) -> str:
        try:
            from importlib.metadata import version

            return "ministack " + version("ministack")
        except Exception:  # noqa: BLE001 - best effort
            return "ministack ?"


EMULATORS = {"xrepl": Xrepl, "ministack": Ministack}


def tree_memory(pid: int) -> dict[str, float]:
    """VmRSS and VmHWM in MiB, summed over pid and its descendants."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(entry))
        except (OSError, IndexError, ValueError):
            continue
    todo, seen = [pid], []
    while todo:
        p = todo.pop()
        seen.append(p)
        todo.extend(children.get(p, []))
    rss = hwm = 0
    for p in seen:
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        rss += int(line.split()[1])
                    elif line.startswith("VmHWM:"):
                        hwm += int(line.split()[1])
        except OSError:
            continue
    return {"rss_mib": round(rss / 1024, 1), "hwm_mib": round(hwm / 1024, 1), "processes": len(seen)}


# ---------------------------------------------------------------- clients and setup


def client(service: str, account: str, endpoint: str):
    cfg = Config(
        region_name=REGION,
        s3={"addressing_style": "path"},
        retries={"max_attempts": 2, "mode": "standard"},
        max_pool_connections=16,
        connect_timeout=5,
        read_timeout=WAIT_LIMIT_S,
    )
    return boto3.session.Session().client(
        service, endpoint_url=endpoint, aws_access_key_id=account, aws_secret_access_key=SECRET, config=cfg
    )


def setup(endpoint: str, tag: str) -> tuple[str, str, dict[str, float]]:
    """The guide's cross-account setup with least-privilege documents.

    Identical calls for every emulator: ministack accepts the role calls and ignores the role.
    Returns (source bucket, destination bucket, milliseconds per call); the boto3 clients are built
    before the clock starts (building one costs tens of milliseconds of Python).
    """
    src, dst = f"bench-src-{tag}", f"bench-dst-{tag}"
    s3a, s3b, iam = client("s3", ACCOUNT_A, endpoint), client("s3", ACCOUNT_B, endpoint), client("iam", ACCOUNT_A, endpoint)
    timings: dict[str, float] = {}

    def call(name: str, fn, **kw):
        t0 = time.perf_counter()
        try:
            return fn(**kw)
        finally:
            timings[name] = ms(time.perf_counter() - t0)

    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
    role_policy = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": ["s3:GetReplicationConfiguration", "s3:ListBucket"], "Resource": f"arn:aws:s3:::{src}"},
            {
                "Effect": "Allow",
                "Action": ["s3:GetObjectVersionForReplication", "s3:GetObjectVersionAcl", "s3:GetObjectVersionTagging"],
                "Resource": f"arn:aws:s3:::{src}/*",
            },
            {
                "Effect": "Allow",
                "Action": ["s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags", "s3:ObjectOwnerOverrideToBucketOwner"],
                "Resource": f"arn:aws:s3:::{dst}/*",
            },
        ],
    }
    bucket_policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": ROLE_ARN},
                "Action": ["s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags", "s3:ObjectOwnerOverrideToBucketOwner"],
                "Resource": f"arn:aws:s3:::{dst}/*",
            },
            {
                "Effect": "Allow",
                "Principal": {"AWS": ROLE_ARN},
                "Action": ["s3:List*", "s3:GetBucketVersioning", "s3:PutBucketVersioning"],
                "Resource": f"arn:aws:s3:::{dst}",
            },
        ],
    }
    replication = {
        "Role": ROLE_ARN,
        "Rules": [
            {
                "ID": "everything",
                "Priority": 1,
                "Status": "Enabled",
                "Filter": {},
                "DeleteMarkerReplication": {"Status": "Enabled"},
                "Destination": {"Bucket": f"arn:aws:s3:::{dst}", "Account": ACCOUNT_B, "AccessControlTranslation": {"Owner": "Destination"}},
            }
        ],
    }
    call("B CreateBucket", s3b.create_bucket, Bucket=dst)
    call("B PutBucketVersioning", s3b.put_bucket_versioning, Bucket=dst, VersioningConfiguration={"Status": "Enabled"})
    call("A CreateBucket", s3a.create_bucket, Bucket=src)
    call("A PutBucketVersioning", s3a.put_bucket_versioning, Bucket=src, VersioningConfiguration={"Status": "Enabled"})
    try:
        call("A CreateRole", iam.create_role, RoleName=ROLE_NAME, Path=ROLE_PATH, AssumeRolePolicyDocument=json.dumps(trust))
    except ClientError as e:
        if e.response["Error"]["Code"] != "EntityAlreadyExists":
            raise
    call("A PutRolePolicy", iam.put_role_policy, RoleName=ROLE_NAME, PolicyName=f"replicate-{tag}", PolicyDocument=json.dumps(role_policy))
    call("B PutBucketPolicy", s3b.put_bucket_policy, Bucket=dst, Policy=json.dumps(bucket_policy))
    call("A PutBucketReplication", s3a.put_bucket_replication, Bucket=src, ReplicationConfiguration=replication)
    return src, dst, timings


def wait_visible(s3b, dst: str, key: str) -> int:
    """Polls HeadObject with no sleep until the replica answers; returns the number of HEADs."""
    deadline = time.perf_counter() + WAIT_LIMIT_S
    heads = 0
    while True:
        heads += 1
        try:
            s3b.head_object(Bucket=dst, Key=key)
            return heads
        except ClientError as e:
            if e.response.get("Error", {}).get("Code") not in ("404", "NoSuchKey", "NotFound"):
                raise
        if time.perf_counter() > deadline:
            raise TimeoutError(f"replica {dst}/{key} not visible after {WAIT_LIMIT_S}s")


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(round(q * (len(s) - 1))))]


def ms(x: float) -> float:
    return round(x * 1000, 3)


# ---------------------------------------------------------------- measurements


def measure_latency(endpoint: str, src: str, dst: str, n: int) -> dict:
    s3a, s3b = client("s3", ACCOUNT_A, endpoint), client("s3", ACCOUNT_B, endpoint)
    for i in range(5):  # warm the connection pools and the server's code paths
        s3a.put_object(Bucket=src, Key=f"lat-warm/{i}", Body=BODY)
        wait_visible(s3b, dst, f"lat-warm/{i}")
    total, put, heads = [], [], []
    for i in range(n):
        key = f"lat/{i:05d}"
        t0 = time.perf_counter()
        s3a.put_object(Bucket=src, Key=key, Body=BODY)
        t1 = time.perf_counter()
        heads.append(wait_visible(s3b, dst, key))
        t2 = time.perf_counter()
        total.append(t2 - t0)
        put.append(t1 - t0)
    # A HEAD that finds the object at once: the client's floor for one round trip.
    head_hit = []
    for i in range(min(n, 100)):
        t0 = time.perf_counter()
        s3b.head_object(Bucket=dst, Key=f"lat/{i:05d}")
        head_hit.append(time.perf_counter() - t0)
    # A HEAD that misses (404): what each extra poll costs.
    head_miss = []
    for i in range(min(n, 100)):
        t0 = time.perf_counter()
        try:
            s3b.head_object(Bucket=dst, Key=f"missing/{i}")
        except ClientError:
            pass
        head_miss.append(time.perf_counter() - t0)
    return {
        "n": n,
        "head_miss_median_ms": ms(statistics.median(head_miss)),
        "visible_median_ms": ms(statistics.median(total)),
        "visible_p95_ms": ms(pct(total, 0.95)),
        "visible_max_ms": ms(max(total)),
        "put_median_ms": ms(statistics.median(put)),
        "head_hit_median_ms": ms(statistics.median(head_hit)),
        "heads_median": statistics.median(heads),
        "heads_max": max(heads),
        "first_head_hit_fraction": round(sum(1 for h in heads if h == 1) / n, 3),
    }


def measure_throughput(endpoint: str, src: str, dst: str, n: int, threads: int, prefix: str) -> dict:
    keys = [f"{prefix}/{i:05d}" for i in range(n)]
    s3b = client("s3", ACCOUNT_B, endpoint)
    if threads <= 1:
        s3a = client("s3", ACCOUNT_A, endpoint)
        s3a.head_bucket(Bucket=src)  # connect before the clock starts
        t0 = time.perf_counter()
        for k in keys:
            s3a.put_object(Bucket=src, Key=k, Body=BODY)
    else:
        clients = [client("s3", ACCOUNT_A, endpoint) for _ in range(threads)]
        for c in clients:
            c.head_bucket(Bucket=src)
        shards = [keys[i::threads] for i in range(threads)]

        def work(i: int) -> None:
            for k in shards[i]:
                clients[i].put_object(Bucket=src, Key=k, Body=BODY)

        t0 = time.perf_counter()
        with ThreadPoolExecutor(max_workers=threads) as pool:
            list(pool.map(work, range(threads)))
    t_put = time.perf_counter() - t0
    heads = 0
    for k in keys:
        heads += wait_visible(s3b, dst, k)
    t_all = time.perf_counter() - t0
    return {
        "n": n,
        "threads": threads,
        "put_s": round(t_put, 3),
        "all_visible_s": round(t_all, 3),
        "objects_per_s": round(n / t_all, 1),
        "heads": heads,
    }


def measure_engine(emu: Xrepl, endpoint: str, src: str, n_lag: int, n_batch: int) -> dict:
    """xrepl only: replication lag measured by the drain endpoint, no HEAD polling."""
    s3a = client("s3", ACCOUNT_A, endpoint)
    conn = http.client.HTTPConnection("127.0.0.1", emu.port, timeout=WAIT_LIMIT_S + 5)

    def drain() -> float:
        t0 = time.perf_counter()
        conn.request("POST", f"/_xrepl/replication/drain?timeout_ms={int(WAIT_LIMIT_S * 1000)}", headers=ADMIN_HEADERS)
        resp = conn.getresponse()
        body = resp.read()
        dt = time.perf_counter() - t0
        if resp.status != 200:
            raise RuntimeError(f"drain: HTTP {resp.status} {body[:200]!r}")
        return dt

    def status() -> dict:
        conn.request("GET", "/_xrepl/replication/status")
        return json.loads(conn.getresponse().read())

    # The floor: a drain with nothing queued is one admin round trip.
    empty = [drain() for _ in range(50)]
    # One object: put, then drain. The drain returns when the engine has replicated it (or at once
    # if the engine was faster than the client's next request).
    one = []
    for i in range(n_lag):
        s3a.put_object(Bucket=src, Key=f"eng-one/{i:05d}", Body=BODY)
        one.append(drain())
    # A batch: n sequential puts, then drain (what is left when the client has finished).
    t0 = time.perf_counter()
    for i in range(n_batch):
        s3a.put_object(Bucket=src, Key=f"eng-seq/{i:05d}", Body=BODY)
    t_put = time.perf_counter() - t0
    queued_after_puts = status()["queued"]
    batch_drain = drain()
    # The engine alone: pause, queue n objects, resume and drain.
    emu.admin("POST", "/_xrepl/replication/pause")
    for i in range(n_batch):
        s3a.put_object(Bucket=src, Key=f"eng-paused/{i:05d}", Body=BODY)
    queued_paused = status()["queued"]
    t0 = time.perf_counter()
    conn.request("POST", "/_xrepl/replication/resume", headers=ADMIN_HEADERS)
    conn.getresponse().read()
    drain()
    engine_s = time.perf_counter() - t0
    conn.close()
    return {
        "empty_drain_median_ms": ms(statistics.median(empty)),
        "one_object_drain_median_ms": ms(statistics.median(one)),
        "one_object_drain_p95_ms": ms(pct(one, 0.95)),
        "batch_n": n_batch,
        "batch_put_s": round(t_put, 3),
        "batch_queued_after_puts": queued_after_puts,
        "batch_drain_ms": ms(batch_drain),
        "paused_queued": queued_paused,
        "engine_resume_to_drained_ms": ms(engine_s),
        "engine_objects_per_s": round(queued_paused / engine_s, 1) if engine_s > 0 else None,
    }


def check_semantics(endpoint: str, src: str, dst: str, key: str) -> dict:
    """Sanity: the source shows COMPLETED, the replica REPLICA and belongs to account B."""
    s3a, s3b = client("s3", ACCOUNT_A, endpoint), client("s3", ACCOUNT_B, endpoint)
    head_src = s3a.head_object(Bucket=src, Key=key)
    head_dst = s3b.head_object(Bucket=dst, Key=key)
    return {
        "source_status": head_src.get("ReplicationStatus"),
        "replica_status": head_dst.get("ReplicationStatus"),
        "same_version_id": head_src.get("VersionId") == head_dst.get("VersionId"),
    }


def run(args: argparse.Namespace) -> dict:
    emu: Emulator = EMULATORS[args.emulator](args)
    result: dict = {
        "emulator": args.emulator,
        "version": emu.version(),
        "boto3": boto3.__version__,
        "botocore": botocore.__version__,
        "python": platform.python_version(),
    }
    try:
        starts = []
        for _ in range(args.starts):
            starts.append(emu.start())
            emu.stop()
        result["start_to_healthy_ms"] = {"median": ms(statistics.median(starts)), "min": ms(min(starts)), "max": ms(max(starts)), "n": len(starts)}
        emu.start()
        time.sleep(1.0)  # let lazy start-up work settle before reading the idle RSS
        result["rss_idle"] = emu.rss()
        tag = uuid.uuid4().hex[:8]
        src, dst, calls = setup(emu.endpoint, tag)
        result["setup_calls_ms"] = calls
        result["setup_ms"] = round(sum(calls.values()), 3)
        log(f"{args.emulator}: latency x{args.n_latency}")
        result["latency"] = measure_latency(emu.endpoint, src, dst, args.n_latency)
        result["semantics"] = check_semantics(emu.endpoint, src, dst, "lat/00000")
        result["throughput_seq"], result["throughput_threads"] = [], []
        cpu0 = emu.cpu_seconds()
        for r in range(args.rounds):
            log(f"{args.emulator}: throughput round {r + 1}/{args.rounds}")
            result["throughput_seq"].append(measure_throughput(emu.endpoint, src, dst, args.n_throughput, 1, f"seq{r}"))
            result["throughput_threads"].append(measure_throughput(emu.endpoint, src, dst, args.n_throughput, args.threads, f"thr{r}"))
        # Server CPU per object over the throughput rounds: PutObject + replication + HeadObject(s).
        objects = args.rounds * 2 * args.n_throughput
        result["server_cpu_ms_per_object"] = round((emu.cpu_seconds() - cpu0) * 1000 / objects, 3)
        if isinstance(emu, Xrepl):
            log(f"{args.emulator}: drain-based engine lag")
            result["engine"] = measure_engine(emu, emu.endpoint, src, args.n_latency, args.n_throughput)
        result["rss_after"] = emu.rss()
        stored = args.n_latency + 5 + args.rounds * 2 * args.n_throughput + (args.n_latency + 2 * args.n_throughput if isinstance(emu, Xrepl) else 0)
        result["objects_stored"] = {"source_versions": stored, "replicas": stored}
    finally:
        emu.stop()
    return result


def log(msg: str) -> None:
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------- report


def med(rounds: list[dict], field: str) -> float:
    return statistics.median(r[field] for r in rounds)


def span(rounds: list[dict], field: str) -> str:
    vals = [r[field] for r in rounds]
    return f"{statistics.median(vals):g} ({min(vals):g}–{max(vals):g})" if len(vals) > 1 else f"{vals[0]:g}"


def report(args: argparse.Namespace) -> None:
    results = []
    for path in args.results:
        with open(path) as f:
            results.append(json.load(f))
    names = [r["emulator"] for r in results]
    rows: list[tuple[str, list[str]]] = []

    def row(label: str, fn) -> None:
        cells = []
        for r in results:
            try:
                cells.append(fn(r))
            except (KeyError, TypeError):
                cells.append("—")
        rows.append((label, cells))

    row("version", lambda r: r["version"])
    row("start → healthy, ms (median of n; min–max)", lambda r: f"{r['start_to_healthy_ms']['median']:g} (n={r['start_to_healthy_ms']['n']}; {r['start_to_healthy_ms']['min']:g}–{r['start_to_healthy_ms']['max']:g})")
    row("idle RSS, MiB", lambda r: f"{r['rss_idle']['rss_mib']:g}")
    row("guide setup (8 boto3 calls, clients prebuilt), ms", lambda r: f"{r['setup_ms']:g}")
    row("PutObject → replica visible, median ms", lambda r: f"{r['latency']['visible_median_ms']:g}")
    row("PutObject → replica visible, p95 ms", lambda r: f"{r['latency']['visible_p95_ms']:g}")
    row("  of which PutObject call, median ms", lambda r: f"{r['latency']['put_median_ms']:g}")
    row("  HEADs per object (median / max); first HEAD hit", lambda r: f"{r['latency']['heads_median']:g} / {r['latency']['heads_max']} ; {r['latency']['first_head_hit_fraction'] * 100:.0f}%")
    row("  one HeadObject that hits / misses (404), median ms", lambda r: f"{r['latency']['head_hit_median_ms']:g} / {r['latency']['head_miss_median_ms']:g}")
    row("throughput, sequential puts, objects/s (median, min–max)", lambda r: span(r["throughput_seq"], "objects_per_s"))
    row("  time until all replicas visible, s", lambda r: span(r["throughput_seq"], "all_visible_s"))
    row("throughput, 8 threads, objects/s", lambda r: span(r["throughput_threads"], "objects_per_s"))
    row("  time until all replicas visible, s", lambda r: span(r["throughput_threads"], "all_visible_s"))
    row("server CPU per object (PUT + replication + HEAD), ms", lambda r: f"{r['server_cpu_ms_per_object']:g}")
    row("RSS after the run, MiB (peak)", lambda r: f"{r['rss_after']['rss_mib']:g} ({r['rss_after']['hwm_mib']:g})")
    row("objects stored at the end (source versions + replicas)", lambda r: f"{r['objects_stored']['source_versions']} + {r['objects_stored']['replicas']}")
    row("replication status source / replica; same version id", lambda r: f"{r['semantics']['source_status']} / {r['semantics']['replica_status']}; {r['semantics']['same_version_id']}")

    print("| measure | " + " | ".join(names) + " |")
    print("| --- | " + " | ".join("---" for _ in names) + " |")
    for label, cells in rows:
        print(f"| {label} | " + " | ".join(cells) + " |")

    for r in results:
        e = r.get("engine")
        if not e:
            continue
        print()
        print(f"**{r['emulator']}: replication lag without client polling (`POST /_xrepl/replication/drain`)**")
        print()
        print("| measure | value |")
        print("| --- | --- |")
        print(f"| empty drain (one admin round trip), median ms | {e['empty_drain_median_ms']:g} |")
        print(f"| PutObject, then drain: drain median / p95 ms (n={r['latency']['n']}) | {e['one_object_drain_median_ms']:g} / {e['one_object_drain_p95_ms']:g} |")
        print(f"| {e['batch_n']} sequential puts ({e['batch_put_s']:g} s), then drain: queued when the puts ended / drain ms | {e['batch_queued_after_puts']} / {e['batch_drain_ms']:g} |")
        print(f"| paused, {e['paused_queued']} queued; resume → drained, ms | {e['engine_resume_to_drained_ms']:g} |")
        print(f"| engine throughput (queued objects / resume → drained), objects/s | {e['engine_objects_per_s']:g} |")

    if args.hyperfine:
        with open(args.hyperfine) as f:
            hf = json.load(f)["results"][0]
        print()
        print(f"**`{hf['command']}` (hyperfine, {len(hf['times'])} runs after 3 warm-ups)**")
        print()
        print("| mean ± σ ms | median ms | min–max ms | user ms | system ms | max RSS (`/usr/bin/time -v`) |")
        print("| --- | --- | --- | --- | --- | --- |")
        maxrss = "—"
        if args.time_v:
            with open(args.time_v) as f:
                for line in f:
                    if "Maximum resident set size" in line:
                        maxrss = f"{int(line.rsplit(':', 1)[1]) / 1024:.1f} MiB"
        print(
            f"| {hf['mean'] * 1000:.1f} ± {hf['stddev'] * 1000:.1f} | {hf['median'] * 1000:.1f} | {hf['min'] * 1000:.1f}–{hf['max'] * 1000:.1f} "
            f"| {hf['user'] * 1000:.1f} | {hf['system'] * 1000:.1f} | {maxrss} |"
        )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run")
    r.add_argument("--emulator", choices=sorted(EMULATORS), required=True)
    r.add_argument("--port", type=int, required=True)
    r.add_argument("--xrepl-bin", default="/var/tmp/xrepl-target/x86_64-unknown-linux-gnu/release/xrepl")
    r.add_argument("--ministack-bin", default="/var/tmp/xrepl-bench-venv/bin/ministack")
    r.add_argument("--n-latency", type=int, default=200)
    r.add_argument("--n-throughput", type=int, default=500)
    r.add_argument("--threads", type=int, default=8)
    r.add_argument("--rounds", type=int, default=3)
    r.add_argument("--starts", type=int, default=5)
    r.add_argument("--log-dir", default="/tmp")
    r.add_argument("--pid-file", help="write the running server's PID here (its own process group)")
    r.add_argument("--out", required=True)
    s = sub.add_parser("report")
    s.add_argument("results", nargs="+")
    s.add_argument("--hyperfine")
    s.add_argument("--time-v")
    args = p.parse_args()
    if args.cmd == "run":
        # SIGTERM/SIGHUP unwind like Ctrl-C, so `finally` stops the server.
        for sig in (signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, lambda *_: sys.exit(143))
        for name, limit in (("n_latency", 5000), ("n_throughput", 20000), ("threads", 64), ("rounds", 10), ("starts", 20)):
            if not 1 <= getattr(args, name) <= limit:
                p.error(f"--{name.replace('_', '-')} must be between 1 and {limit}")
        result = run(args)
        with open(args.out, "w") as f:
            json.dump(result, f, indent=2)
        log(f"{args.emulator}: results in {args.out}")
    else:
        report(args)


if __name__ == "__main__":
    main()
