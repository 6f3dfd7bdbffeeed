"""Where everything the harness runs lives."""

import os

BENCH = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ROOT = os.path.dirname(BENCH)
CERTS = os.path.join(ROOT, "target", "test-certs")
CA = os.path.join(CERTS, "ca-cert.pem")
GEN_CERTS = os.path.join(ROOT, "scripts", "gen-certs.sh")
LOADGEN = os.path.join(BENCH, "target", "release", "loadgen")
BARE = os.path.join(BENCH, "target", "release", "bare-server")
NODE_SERVER = os.path.join(BENCH, "node-echo-server.js")
BAD_SERVER = os.path.join(BENCH, "bad-server.js")
NODETLS_DEFAULT = os.path.join(ROOT, "build", "release", "examples-c", "nodetls-echo-server")


def nodetls():
    """The nodetls echo server: $NODETLS_SERVER, else the CMake release build's."""
    return os.environ.get("NODETLS_SERVER") or NODETLS_DEFAULT


def key_and_cert(kind):
    """The server key and certificate for `ec` or `rsa`."""
    return os.path.join(CERTS, f"server-{kind}-key.pem"), os.path.join(CERTS, f"server-{kind}-cert.pem")
