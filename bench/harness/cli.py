"""bench/run's command line and the order of things: prepare, measure, report."""

import argparse
import json
import os
import shutil
import subprocess
import sys

from . import bench, ceilings, modes, paths, procs, report, smoke
from .servers import NAMES, missing

USAGE = """\
bench/run MODE [options]
  MODE: handshake | bulk | idle | latency | all | smoke   (or --smoke: every mode, briefly)

Each server runs on CPU 0 and the load generator on CPU 1; servers alternate over rounds.
Costs come from the server's own /proc counters around the load generator's measured phase;
the table shows medians per server and the ratios of the first server to each other."""


def parse(argv):
    """The options, with smoke and `all` resolved."""
    ap = argparse.ArgumentParser(prog="bench/run", usage=USAGE)
    ap.add_argument("mode", nargs="?", choices=["handshake", "bulk", "idle", "latency", "all", "smoke"])
    ap.add_argument("--smoke", action="store_true", help="brief runs, small sizes, bytes checked, nothing timed")
    ap.add_argument("--servers", default=None, help="comma-separated, first is the one compared: nodetls,node,bare")
    ap.add_argument("--rounds", type=int, default=3, help="runs per server, order alternating (default 3)")
    ap.add_argument("--cert", choices=["ec", "rsa"], default="ec", help="server certificate (default ec: P-256)")
    ap.add_argument("--tls12", action="store_true", help="TLS 1.2 instead of 1.3")
    ap.add_argument("--resume", action="store_true", help="handshake: resumed handshakes (tickets)")
    ap.add_argument("--duration", type=float, default=5, help="handshake/latency: seconds measured (default 5)")
    ap.add_argument("--count", type=int, default=0, help="handshake: stop after N measured handshakes")
    ap.add_argument("--concurrency", type=int, default=0, help="connections at once (8; bulk 4)")
    ap.add_argument("--bytes", type=int, default=64 << 20, help="bulk: bytes per connection (64 MiB)")
    ap.add_argument("--direction", choices=["down", "up", "echo"], default="echo", help="bulk (default echo)")
    ap.add_argument("--connections", type=int, default=10000, help="idle: connections held (max ~19000)")
    ap.add_argument("--hold", type=float, default=3, help="idle: seconds held (default 3)")
    ap.add_argument("--size", type=int, default=64, help="latency: ping-pong bytes (default 64)")
    ap.add_argument("--loops", type=int, default=1, help="nodetls only: --loops N")
    ap.add_argument("--writer-thread", action="store_true", help="nodetls only: --writer-thread")
    ap.add_argument("--timeout", type=float, default=300, help="hard limit per load generator run, s")
    ap.add_argument("--no-ceilings", action="store_true", help="skip openssl speed")
    ap.add_argument("--json", metavar="FILE", help="also write every run's figures to FILE")
    o = ap.parse_args(argv)
    if o.smoke or o.mode == "smoke":
        o.smoke, o.mode = True, o.mode if o.mode not in (None, "smoke") else None
    elif o.mode is None:
        ap.error("a MODE is needed (or --smoke)")
    if o.rounds < 1 or o.connections < 1 or o.size < 1 or o.bytes < 1:
        ap.error("--rounds, --connections, --size and --bytes must be positive")
    return o


def servers_to_run(o):
    """The servers asked for; with no --servers, a smoke run takes every one available."""
    if o.servers:
        names = [s for s in o.servers.split(",") if s]
        unknown = [s for s in names if s not in NAMES]
        if unknown:
            sys.exit(f"bench/run: unknown server(s) {', '.join(unknown)}; known: {', '.join(NAMES)}")
    else:
        names = list(NAMES)
        if o.smoke and missing("nodetls"):
            print(f"note: skipping nodetls: {missing('nodetls')}")
            names.remove("nodetls")
    for name in names:
        why = missing(name) if name != "bare" else None  # bare is built by prepare()
        if why:
            sys.exit(f"bench/run: {why}")
    return names


def prepare():
    """Certificates, and the release builds of loadgen and bare-server (cargo skips them if
    they are up to date)."""
    r = procs.run_bounded(["bash", paths.GEN_CERTS], 120, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True)
    if r.returncode != 0:
        sys.exit(f"bench/run: {paths.GEN_CERTS} failed:\n{r.stdout}")
    if shutil.which("cargo") is None:
        if not (os.path.exists(paths.LOADGEN) and os.path.exists(paths.BARE)):
            sys.exit("bench/run: cargo is not on PATH and the bench binaries are not built")
        return
    print("building loadgen and bare-server if needed (cargo build --release)", flush=True)
    cmd = ["cargo", "build", "--release", "--quiet", "--manifest-path", os.path.join(paths.BENCH, "Cargo.toml")]
    if procs.run_bounded(cmd, 1800).returncode != 0:
        sys.exit("bench/run: building loadgen and bare-server failed")


def cases(o):
    """(mode, options) pairs: one, or for `all` every mode with its usual variant."""
    if o.mode != "all":
        return [(o.mode, o)]
    return [("handshake", bench.with_options(o, resume=False)), ("handshake", bench.with_options(o, resume=True)),
            ("bulk", o), ("idle", o), ("latency", o)]


def main(argv=None):
    """Runs bench/run; the exit status is non-zero if any run failed."""
    o = parse(argv)
    procs.install_cleanup()
    procs.raise_fd_limit()
    if procs.PIN:
        os.sched_setaffinity(0, {procs.LOADGEN_CPU})  # keep the harness off the server's CPU
    servers = servers_to_run(o)
    prepare()
    if "bare" in servers and missing("bare"):
        sys.exit(f"bench/run: {missing('bare')}")
    node = subprocess.run(["node", "--version"], capture_output=True, text=True, timeout=30).stdout.strip()
    print(f"machine: {os.cpu_count()} CPUs, server on CPU {procs.SERVER_CPU} and load generator on CPU "
          f"{procs.LOADGEN_CPU}: {'pinned' if procs.PIN else 'NOT pinned (no taskset or < 2 CPUs)'}; node {node}")
    if "nodetls" in servers:
        print(f"nodetls server: {paths.nodetls()}")
    if o.smoke:
        if o.mode not in (None, "all"):  # one mode, smoke-sized
            smoke.CASES[:] = [c for c in smoke.CASES if c[0] == o.mode]
        return 0 if smoke.run(servers, o, bad=o.mode in (None, "all")) else 1
    done, failures, raw = [], [], []
    for mode, case in cases(o):
        print(f"\n== {modes.title(mode, case)}", flush=True)
        rows, negotiated, failed = bench.rounds(mode, case, servers)
        failures += failed
        med = report.table(mode, servers, rows, negotiated)
        done.append((mode, case, med))
        raw.append({"mode": mode, "options": vars(case), "runs": rows, "negotiated": negotiated})
    c = {}
    if not o.no_ceilings:
        c = ceilings.measure()
        ceilings.report(c)
        report.floors(done, c)
    if o.json:
        with open(o.json, "w") as f:
            json.dump({"cases": raw, "ceilings": c}, f, indent=1)
    if failures:
        print(f"\n{len(failures)} run(s) FAILED:\n  " + "\n  ".join(failures))
        return 1
    return 0
