"""Shared fixtures: the test certificates, a per-test watchdog, a closed port."""

import faulthandler
import os
import socket
import subprocess
import sys

import pytest

from helpers import CERTS, ROOT, TEST_LIMIT


@pytest.fixture(scope="session", autouse=True)
def test_certs():
    """Generates the certificates once if they are missing (the script is idempotent)."""
    if not os.path.exists(os.path.join(CERTS, ".complete")):
        subprocess.run(["bash", os.path.join(ROOT, "scripts", "gen-certs.sh")], check=True,
                       timeout=120)
    return CERTS


@pytest.fixture(autouse=True)
def watchdog():
    """A hung test must not hang the suite: dump every thread's stack and exit instead."""
    faulthandler.dump_traceback_later(TEST_LIMIT, exit=True, file=sys.stderr)
    yield
    faulthandler.cancel_dump_traceback_later()


@pytest.fixture
def closed_port():
    """A loopback port with nothing listening on it."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port
