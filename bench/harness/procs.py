"""Child processes: pinned to a CPU, in their own process group, all killed on exit."""

import atexit
import os
import shutil
import signal
import socket
import subprocess
import sys

_live = set()

SERVER_CPU, LOADGEN_CPU = 0, 1


def can_pin():
    """Whether the server and the load generator can each have a CPU of their own."""
    try:
        cpus = os.sched_getaffinity(0)
    except AttributeError:
        return False
    return shutil.which("taskset") is not None and {SERVER_CPU, LOADGEN_CPU} <= cpus


PIN = can_pin()


def pinned(cpu, cmd):
    """`cmd` under taskset (it execs, so the pid is the command's own)."""
    return (["taskset", "-c", str(cpu)] if PIN else []) + list(cmd)


def spawn(cmd, **kw):
    """Starts a child in a new process group, remembered until `reap`."""
    p = subprocess.Popen(cmd, start_new_session=True, **kw)
    _live.add(p)
    return p


def reap(p):
    """Forgets a child that has exited."""
    _live.discard(p)


def kill(p):
    """Kills a child's whole process group and waits for it."""
    if p.poll() is None:
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        p.wait()
    reap(p)


def kill_all():
    """Leaves nothing running behind the harness."""
    for p in list(_live):
        kill(p)


def _on_signal(signum, _frame):
    kill_all()
    sys.stderr.write(f"\nbench/run: stopped by signal {signum}\n")
    os._exit(128 + signum)


def install_cleanup():
    """Kills every child on exit, on Ctrl-C and on SIGTERM/SIGHUP."""
    atexit.register(kill_all)
    for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, _on_signal)


def raise_fd_limit():
    """Soft open-file limit to the hard one, inherited by the servers (idle mode)."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def free_port():
    """A port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_bounded(cmd, timeout, **kw):
    """Runs a command to completion, killed after `timeout` seconds; returns the result."""
    p = spawn(cmd, **kw)
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        kill(p)
        raise RuntimeError(f"{' '.join(cmd[:3])}... timed out after {timeout} s")
    reap(p)
    return subprocess.CompletedProcess(cmd, p.returncode, out, err)
