"""`bench/run smoke`: every mode for a moment against every server, bytes checked, nothing
timed; then deliberately wrong servers, which the load generator must catch."""

import signal
import time

from . import loadgen, modes, paths, procs
from .bench import once, with_options
from .servers import Server, ServerError, StartError

DEADLINE = 170  # CI's budget is 3 minutes on 2 cores

CASES = [
    ("handshake", dict(duration=0.4)),
    ("handshake", dict(duration=0.4, resume=True)),
    ("handshake", dict(duration=0.4, tls12=True, cert="rsa")),
    ("handshake", dict(duration=0.4, tls12=True, resume=True)),
    ("bulk", dict(direction="down", bytes=4 << 20)),
    ("bulk", dict(direction="up", bytes=4 << 20, tls12=True)),
    ("bulk", dict(direction="echo", bytes=4 << 20)),
    ("idle", dict(connections=300, hold=0.4)),
    ("latency", dict(duration=0.4, size=64)),
    ("latency", dict(duration=0.3, size=40000)),  # messages span several TLS records
]

# (bad-server options, load generator arguments): each run must fail with exit 1.
BAD = [
    (["--corrupt-at", "0"], ["handshake", "--duration", "0.3"]),
    (["--corrupt-at", "3000001"], ["bulk", "--direction", "echo", "--bytes", "4000000", "--concurrency", "2"]),
    (["--truncate-at", "3000001"], ["bulk", "--direction", "echo", "--bytes", "4000000", "--concurrency", "2"]),
    (["--source", "4000000", "--corrupt-at", "1234567"],
     ["bulk", "--direction", "down", "--bytes", "4000000", "--concurrency", "2"]),
    (["--source", "4000000", "--truncate-at", "3999999"],
     ["bulk", "--direction", "down", "--bytes", "4000000", "--concurrency", "2"]),
    (["--source", "4000001"], ["bulk", "--direction", "down", "--bytes", "4000000", "--concurrency", "2"]),
    (["--corrupt-at", "6405"], ["latency", "--duration", "0.5", "--size", "64"]),
    (["--corrupt-at", "1"], ["idle", "--connections", "50", "--hold", "0.2"]),
]


def label(mode, o):
    """`bulk echo tls13 ec` and the like."""
    what = {"handshake": "resumed" if o.resume else "full", "bulk": o.direction,
            "idle": f"{o.connections}", "latency": f"{o.size}B"}[mode]
    return f"{mode} {what} {'tls12' if o.tls12 else 'tls13'} {o.cert}"


def _out_of_time(*_):
    procs.kill_all()
    print(f"smoke: FAILED: over the {DEADLINE} s budget", flush=True)
    raise SystemExit(1)


def _good(servers, o):
    """Every case against every server: (passed, failed)."""
    passed = failed = 0
    broken = {}  # a server that would not start, or hung, is not tried again
    for mode, over in CASES:
        case = with_options(o, **over)
        for name in servers:
            try:
                if name in broken:
                    raise ServerError(f"not run: {broken[name]}")
                figs, neg, stop_problem = once(mode, case, name)
            except (loadgen.LoadgenFailed, ServerError) as e:
                if name not in broken and (isinstance(e, StartError) or ": timed out" in str(e)):
                    broken[name] = str(e)
                failed += 1
                print(f"FAIL {label(mode, case):28} {name:8} {e}", flush=True)
                continue
            if stop_problem:
                failed += 1
                print(f"FAIL {label(mode, case):28} {name:8} {stop_problem}", flush=True)
                continue
            passed += 1
            m = modes.METRICS[mode][0]
            print(f"ok   {label(mode, case):28} {name:8} {figs[m.key]:.{m.digits}f} {m.label}  ({neg})", flush=True)
    return passed, failed


def _bad(o):
    """The load generator against deliberately wrong servers: (passed, failed)."""
    passed = failed = 0
    key, cert = paths.key_and_cert("ec")
    for job, args in BAD:
        what = f"bad server {' '.join(job)}: {' '.join(args[:3])}"
        try:
            server = Server("bad", o, key, cert, job)
        except ServerError as e:
            failed += 1
            print(f"FAIL {what}: {e}", flush=True)
            continue
        try:
            loadgen.run(server, args, 30)
            failed += 1
            print(f"FAIL {what}: loadgen did not notice", flush=True)
        except loadgen.LoadgenFailed as e:
            caught = "FAILED:" in str(e) and "timed out" not in str(e)
            passed += caught
            failed += not caught
            verdict = "ok   " if caught else "FAIL (not a byte check) "
            print(f"{verdict}{what}: {str(e).split('FAILED: ')[-1][:80]}", flush=True)
        finally:
            server.stop()
    return passed, failed


def run(servers, o, bad=True):
    """Runs the smoke test (with the wrong-server checks unless `bad` is False); True if all passed."""
    signal.signal(signal.SIGALRM, _out_of_time)
    signal.alarm(DEADLINE)
    began = time.monotonic()
    o = with_options(o, rounds=1, timeout=30, concurrency=4)
    passed, failed = _good(servers, o)
    if bad:
        p, f = _bad(o)
        passed, failed = passed + p, failed + f
    signal.alarm(0)
    print(f"smoke: {len(servers)} server(s) ({', '.join(servers)}), {time.monotonic() - began:.0f} s")
    print(f"{passed} passed, {failed} failed")
    return failed == 0
