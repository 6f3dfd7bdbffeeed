"""Quiets every handle before the interpreter finalizes.

A callback that reaches Python after finalization began would try to take the GIL on the
library's loop thread, and CPython then ends that (Rust) thread underneath the library.
So at exit every socket is destroyed and every server closed, and we wait, bounded, for
their ``close`` events: once nothing is open the loop has nothing left to call.
"""

import atexit
import time

from . import _loop


def _quiet(timeout=2.0):
    from .server import Server
    from .socket import TLSSocket

    def live():
        return [o for o in _loop.live_objects() if isinstance(o, (Server, TLSSocket))]

    for obj in live():
        try:
            obj.destroy() if isinstance(obj, TLSSocket) else obj.close()
        except Exception:  # noqa: BLE001 - best effort at exit
            pass
    # Then nothing may be left that the loop could call into: no handle, no write or queued
    # call in the table, no trampoline still running its last lines (it would need the GIL
    # again while the interpreter finalizes, and CPython would end the thread under Rust).
    deadline = time.monotonic() + timeout
    while (_loop.pending() or _loop.in_flight()) and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.01)  # past the trampoline's return into C


atexit.register(_quiet)
