"""The README's Python section, run as written: its echo server (nodetls.asyncio) serves
Python's ssl and the README's own blocking client, then Ctrl-C (SIGINT) stops it promptly
with a clean message and exit status 0, even with a connection still open."""

import os
import re
import signal
import socket
import ssl
import subprocess
import sys
import time

import pytest

from helpers import ROOT, WAIT, cert_path
from peers import ssl_client

PKG = os.path.join(ROOT, "bindings", "python")


def readme_blocks():
    """The ```python blocks of the README's '## Python' section, by their first-line name."""
    with open(os.path.join(ROOT, "README.md")) as f:
        text = f.read()
    section = re.search(r"^## Python\n(.*?)(?=^## )", text, flags=re.S | re.M).group(1)
    blocks = re.findall(r"^```python\n(.*?)^```$", section, flags=re.S | re.M)
    named = {}
    for block in blocks:
        name = re.match(r"# (\S+\.py)", block).group(1)
        named[name] = block
    return named


@pytest.fixture
def scripts(tmp_path):
    blocks = readme_blocks()
    assert set(blocks) == {"echo_server.py", "client.py"}
    for name, block in blocks.items():
        (tmp_path / name).write_text(block)
    env = dict(os.environ, PYTHONPATH=PKG)  # the package as `pip install` would give it
    return tmp_path, env


def start_server(tmp_path, env):
    proc = subprocess.Popen([sys.executable, str(tmp_path / "echo_server.py"),
                             cert_path("server-ec-key.pem"), cert_path("server-ec-cert.pem"),
                             "0"], cwd=str(tmp_path), env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    m = re.match(r"serving on 127\.0\.0\.1:(\d+)$", line.strip())
    if not m:
        proc.kill()
        raise AssertionError(f"no 'serving on' line: {line!r} {proc.stderr.read()}")
    return proc, int(m.group(1))


def test_readme_server_and_client_then_ctrl_c(scripts):
    tmp_path, env = scripts
    proc, port = start_server(tmp_path, env)
    held = None
    try:
        # A peer nobody here wrote: Python's ssl (OpenSSL), hostname checked.
        assert ssl_client(port, data=b"from OpenSSL" * 1000)[0] == b"from OpenSSL" * 1000
        client = subprocess.run([sys.executable, str(tmp_path / "client.py"),
                                 cert_path("ca-cert.pem"), str(port)], cwd=str(tmp_path),
                                env=env, capture_output=True, text=True, timeout=WAIT * 3)
        assert client.returncode == 0, client.stderr
        assert client.stdout.strip() == "hello, TLS TLSv1.3"

        # A connection left open across Ctrl-C.
        ctx = ssl.create_default_context(cafile=cert_path("ca-cert.pem"))
        held = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=WAIT),
                               server_hostname="localhost")
        held.sendall(b"open")
        assert held.recv(4) == b"open"

        start = time.monotonic()
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=WAIT)
        elapsed = time.monotonic() - start
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, (out, err)
    assert out.strip() == "stopped"
    assert "Traceback" not in err and "FATAL" not in err, err
    assert elapsed < 5, elapsed
    # The open connection was closed by the server, not left hanging.
    held.settimeout(WAIT)
    try:
        assert held.recv(10) == b""
    except (ssl.SSLError, ConnectionError):
        pass  # closed without waiting for our close_notify: also an end
    held.close()


def test_ctrl_c_while_idle_is_prompt(scripts):
    tmp_path, env = scripts
    proc, _port = start_server(tmp_path, env)
    time.sleep(0.2)
    start = time.monotonic()
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=WAIT)
    assert (proc.returncode, out.strip()) == (0, "stopped"), err
    assert time.monotonic() - start < 3
