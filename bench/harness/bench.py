"""Measuring one case (a mode and its options) against several servers over rounds."""

import argparse

from . import loadgen, modes, paths
from .servers import Server, ServerError


def with_options(o, **over):
    """A copy of the options with some replaced."""
    return argparse.Namespace(**{**vars(o), **over})


def once(mode, o, name):
    """One run of `mode` against a fresh server `name`: (figures, negotiated, stop problem)."""
    key, cert = paths.key_and_cert(o.cert)
    server = Server(name, o, key, cert, modes.server_job(mode, o))
    try:
        run = loadgen.run(server, modes.loadgen_args(mode, o), o.timeout, modes.settle_held(mode, o))
    finally:
        stop_problem = server.stop()
    return modes.figures(mode, o, run), modes.negotiated(run), stop_problem


def rounds(mode, o, servers):
    """Runs every server `o.rounds` times, alternating the order; returns (rows, negotiated,
    failures). A failed run is reported and left out, the others go on."""
    rows = {s: [] for s in servers}
    negotiated, failures = {}, []
    for r in range(o.rounds):
        order = servers if r % 2 == 0 else list(reversed(servers))
        for name in order:
            try:
                figs, neg, stop_problem = once(mode, o, name)
            except (loadgen.LoadgenFailed, ServerError) as e:
                failures.append(str(e))
                print(f"  round {r + 1}/{o.rounds} {name:8} FAILED: {e}", flush=True)
                continue
            rows[name].append(figs)
            negotiated[name] = neg
            shown = "  ".join(f"{m.key}={figs[m.key]:.{m.digits}f}" for m in modes.METRICS[mode])
            print(f"  round {r + 1}/{o.rounds} {name:8} {shown}", flush=True)
            if stop_problem:
                print(f"  warning: {stop_problem}", flush=True)
    return rows, negotiated, failures
