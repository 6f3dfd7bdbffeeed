"""What each mode asks of the servers and the load generator, and the figures it yields."""

import statistics
from dataclasses import dataclass


@dataclass(frozen=True)
class Metric:
    """One column of a mode's table."""
    key: str
    label: str
    digits: int
    ratio: bool = True


METRICS = {
    "handshake": [
        Metric("us_per_handshake", "server µs/handshake", 1),
        Metric("resumed_pct", "resumed %", 0, ratio=False),
        Metric("per_second", "handshakes/s", 0),
    ],
    "bulk": [
        Metric("ns_per_byte", "server ns/byte", 3),
        Metric("mb_per_s", "MB/s", 0),
    ],
    "idle": [
        Metric("kib_per_conn", "server KiB/conn", 1),
        Metric("rss_before_mib", "RSS before MiB", 1, ratio=False),
        Metric("rss_held_mib", "RSS held MiB", 1, ratio=False),
        Metric("cpu_pct_held", "CPU % held", 2, ratio=False),
    ],
    "latency": [
        Metric("us_per_rt", "server µs/round trip", 2),
        Metric("p50_us", "p50 µs", 1),
        Metric("p99_us", "p99 µs", 1),
        Metric("p999_us", "p99.9 µs", 1),
        Metric("per_second", "round trips/s", 0),
    ],
}

DEFAULT_CONCURRENCY = {"handshake": 8, "bulk": 4, "latency": 8}


def server_job(mode, o):
    """The server's own options for this mode: --source N, --sink, or echo."""
    if mode == "bulk" and o.direction == "down":
        return ["--source", str(o.bytes)]
    if mode == "bulk" and o.direction == "up":
        return ["--sink"]
    return []


def loadgen_args(mode, o):
    """The load generator's command line for this mode (port, CA and timeout added later)."""
    args = [mode]
    c = o.concurrency or DEFAULT_CONCURRENCY.get(mode, 8)
    if mode == "handshake":
        args += ["--concurrency", str(c), "--duration", str(o.duration)]
        args += ["--count", str(o.count)] if o.count else []
        args += ["--resume"] if o.resume else []
    elif mode == "bulk":
        args += ["--direction", o.direction, "--bytes", str(o.bytes), "--concurrency", str(c)]
    elif mode == "idle":
        args += ["--connections", str(o.connections), "--hold", str(o.hold)]
    elif mode == "latency":
        args += ["--size", str(o.size), "--concurrency", str(c), "--duration", str(o.duration)]
    return args + (["--tls12"] if o.tls12 else [])


def settle_held(mode, o):
    """How long into the hold the idle RSS is read: late enough for the server to settle."""
    return min(1.0, o.hold / 2) if mode == "idle" else 0.0


def figures(mode, o, run):
    """The mode's metrics from one run."""
    r = run.result
    if mode == "handshake":
        n = int(r["count"])
        return {"us_per_handshake": run.cpu_ns() / 1e3 / n, "resumed_pct": 100.0 * int(r["resumed"]) / n,
                "per_second": float(r["per_second"])}
    if mode == "bulk":
        return {"ns_per_byte": run.cpu_ns() / int(r["bytes"]), "mb_per_s": float(r["mb_per_second"])}
    if mode == "idle":
        before, held = run.snaps["before"].rss_kib, run.snaps["held"].rss_kib
        return {"kib_per_conn": (held - before) / o.connections, "rss_before_mib": before / 1024,
                "rss_held_mib": held / 1024,
                "cpu_pct_held": 100 * run.cpu_ns("held", "check") / 1e9 / max(run.wall("held", "check"), 1e-6)}
    if mode == "latency":
        return {"us_per_rt": run.cpu_ns() / 1e3 / int(r["round_trips"]), "p50_us": float(r["p50_us"]),
                "p99_us": float(r["p99_us"]), "p999_us": float(r["p999_us"]), "per_second": float(r["per_second"])}
    raise ValueError(mode)


def negotiated(run):
    """`TLSv1_3 TLS13_AES_128_GCM_SHA256 X25519`, as the load generator saw it."""
    return " ".join(run.result.get(k, "?") for k in ("version", "suite", "kx"))


def title(mode, o):
    """A one-line description of what was measured."""
    tls = "TLS 1.2" if o.tls12 else "TLS 1.3"
    c = o.concurrency or DEFAULT_CONCURRENCY.get(mode, 8)
    if mode == "handshake":
        kind = "resumed" if o.resume else "full"
        bound = f"{o.count} handshakes or {o.duration} s" if o.count else f"{o.duration} s"
        return f"handshake: {tls} {kind} handshakes + 1-byte echo, {o.cert} certificate, {c} at a time, {bound} per run"
    if mode == "bulk":
        return f"bulk {o.direction}: {tls}, {o.bytes} bytes per connection × {c} connections, {o.cert} certificate"
    if mode == "idle":
        return f"idle: {tls}, {o.connections} connections held {o.hold} s, {o.cert} certificate"
    return f"latency: {tls}, {o.size}-byte ping-pong on {c} connections, {o.duration} s per run"


def median(values):
    """Median of a non-empty list."""
    return statistics.median(values)
