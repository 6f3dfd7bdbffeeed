"""Paths, limits and small helpers the tests share."""

import os

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
CERTS = os.path.join(ROOT, "target", "test-certs")

#: Seconds any single test may take before the process is dumped and killed.
TEST_LIMIT = 60
#: Seconds to wait for one event.
WAIT = 10


def cert_path(name):
    """The path of a file written by scripts/gen-certs.sh."""
    return os.path.join(CERTS, name)


def pem(name):
    """The bytes of a test certificate or key."""
    with open(cert_path(name), "rb") as f:
        return f.read()
