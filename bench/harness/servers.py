"""The servers under test, all with one command line:
`SERVER --port P --key KEY.pem --cert CERT.pem [--sink | --source N]`."""

import os
import re
import shutil
import signal
import subprocess
import tempfile
import time

from . import paths, procs

NAMES = ("nodetls", "node", "bare")
START_TIMEOUT = 10
STOP_TIMEOUT = 5


def command(name, opts):
    """(program argv, options after the common ones) for server `name`."""
    if name == "nodetls":
        extra = ["--loops", str(opts.loops)] if opts.loops > 1 else []
        return [paths.nodetls()], extra + (["--writer-thread"] if opts.writer_thread else [])
    if name == "node":
        return ["node", paths.NODE_SERVER], []
    if name == "bare":
        return [paths.BARE], []
    if name == "bad":
        return ["node", paths.BAD_SERVER], []
    raise ValueError(f"unknown server {name}")


def missing(name):
    """Why server `name` cannot run here, or None."""
    if name == "nodetls" and not os.access(paths.nodetls(), os.X_OK):
        return (f"the nodetls server {paths.nodetls()} does not exist yet: build it with CMake "
                "(cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release && "
                "cmake --build build/release) or set NODETLS_SERVER; to compare the others only, "
                "use --servers node,bare")
    if name in ("node", "bad") and shutil.which("node") is None:
        return "node is not on PATH"
    if name == "bare" and not os.access(paths.BARE, os.X_OK):
        return f"{paths.BARE} is missing (cargo build --release --manifest-path bench/Cargo.toml)"
    return None


class ServerError(RuntimeError):
    """A server did not start, or did not stop cleanly."""


class StartError(ServerError):
    """A server did not get as far as listening."""


class Server:
    """One server process on CPU 0, on a port of its own, with its output in a temp file."""

    def __init__(self, name, opts, key, cert, job):
        """Starts server `name` with `job` (e.g. ["--source", "N"]) and waits until it listens."""
        self.name = name
        self.port = procs.free_port()
        self.log = tempfile.TemporaryFile(mode="w+")
        program, extra = command(name, opts)
        argv = program + ["--port", str(self.port), "--key", key, "--cert", cert] + job + extra
        self.proc = procs.spawn(procs.pinned(procs.SERVER_CPU, argv), stdout=self.log,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        self._wait_listening()

    @property
    def pid(self):
        """The server's pid (taskset execs, so it is the server itself)."""
        return self.proc.pid

    def output(self, limit=2000):
        """The tail of what the server printed."""
        self.log.seek(0)
        return self.log.read()[-limit:].strip()

    def _wait_listening(self):
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            self.log.seek(0)
            m = re.search(r"listening on [^\s:]+:(\d+)", self.log.read())
            if m:
                if int(m.group(1)) != self.port:
                    self.stop()
                    raise StartError(f"{self.name} listens on {m.group(1)}, not on {self.port}")
                return
            if self.proc.poll() is not None:
                procs.reap(self.proc)
                raise StartError(f"{self.name} exited ({self.proc.returncode}) before listening: "
                                  f"{self.output()}")
            time.sleep(0.02)
        procs.kill(self.proc)
        raise StartError(f"{self.name} printed no 'listening on' line within {START_TIMEOUT} s")

    def stop(self):
        """SIGTERM, then SIGKILL past STOP_TIMEOUT; None if it exited cleanly, else why not."""
        if self.proc.poll() is not None:
            procs.reap(self.proc)
            return f"{self.name} had already exited ({self.proc.returncode}): {self.output()}"
        self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            procs.kill(self.proc)
            return f"{self.name} ignored SIGTERM for {STOP_TIMEOUT} s (killed)"
        procs.reap(self.proc)
        return None if code == 0 else f"{self.name} exited {code} on SIGTERM: {self.output()}"
