"""One load generator run against one server, with the server's counters read at each
`PHASE` line the load generator prints."""

import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field

from . import paths, procfs, procs

WATCHDOG_SLACK = 15


class LoadgenFailed(RuntimeError):
    """The load generator exited non-zero: wrong bytes, a broken connection, or a timeout."""


@dataclass
class Snapshot:
    """The server's counters at one instant."""
    t: float
    cpu: tuple
    rss_kib: int


@dataclass
class Run:
    """What one run measured: the RESULT fields and a snapshot per phase ('before' too)."""
    result: dict
    snaps: dict = field(default_factory=dict)

    def cpu_ns(self, start="start", end="end"):
        """Server CPU ns between two phases."""
        return procfs.cpu_delta_ns(self.snaps[start].cpu, self.snaps[end].cpu)

    def wall(self, start="start", end="end"):
        """Seconds between two phases, as the harness saw them."""
        return self.snaps[end].t - self.snaps[start].t


def snapshot(server):
    """The server's counters now; a server that died is an error of its own."""
    try:
        return Snapshot(time.monotonic(), procfs.cpu(server.pid), procfs.rss_kib(server.pid))
    except OSError:
        raise LoadgenFailed(f"{server.name} died during the run: {server.output()}") from None


def run(server, args, timeout, settle_held=0.0):
    """Runs `loadgen ARGS` against `server`; killed `WATCHDOG_SLACK` s after its own timeout."""
    cmd = procs.pinned(procs.LOADGEN_CPU, [paths.LOADGEN] + args + [
        "--port", str(server.port), "--ca", paths.CA, "--timeout", str(timeout)])
    out = Run(result={})
    out.snaps["before"] = snapshot(server)
    err = tempfile.TemporaryFile(mode="w+")
    p = procs.spawn(cmd, stdout=subprocess.PIPE, stderr=err, stdin=subprocess.DEVNULL, text=True)
    watchdog = threading.Timer(timeout + WATCHDOG_SLACK, procs.kill, [p])
    watchdog.start()
    try:
        for line in p.stdout:
            words = line.split()
            if words[:1] == ["PHASE"] and len(words) == 2:
                if words[1] == "held" and settle_held:
                    time.sleep(settle_held)  # the load generator holds; let the server settle
                out.snaps[words[1]] = snapshot(server)
            elif words[:1] == ["RESULT"]:
                out.result = dict(w.split("=", 1) for w in words[1:] if "=" in w)
        code = p.wait()
    finally:
        watchdog.cancel()
        procs.kill(p)
    err.seek(0)
    why = err.read().strip()[-1500:]
    if code != 0:
        what = "timed out" if code == 3 else "was killed" if code < 0 else f"exit {code}"
        raise LoadgenFailed(f"loadgen {args[0]} against {server.name}: {what}: {why}")
    if server.proc.poll() is not None:
        raise LoadgenFailed(f"{server.name} exited during the run: {server.output()}")
    if not out.result:
        raise LoadgenFailed(f"loadgen {args[0]} against {server.name} printed no RESULT line")
    return out
