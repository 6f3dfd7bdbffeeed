"""Running Python code on the library's loop thread, and the id table for user data.

C keeps only an integer (the handle's user data, or ``ntls_loop_call``'s argument); the
integer finds the Python object here. So C never holds a pointer to a Python object, and
objects stay alive exactly while the table holds them.
"""

import functools
import itertools
import threading

from ._lib import LOOP_FN, lib
from .errors import from_status

_lock = threading.Lock()
_ids = itertools.count(1)  # 0 would be NULL, which C hands back for "no user data"
_objects = {}


def register(obj):
    """Keeps ``obj`` alive and returns the integer C carries for it."""
    with _lock:
        n = next(_ids)
        _objects[n] = obj
        return n


def lookup(n):
    """The object registered as ``n``, or None once it was released."""
    with _lock:
        return _objects.get(n)


def release(n):
    """Forgets ``n``; returns the object it named, or None."""
    with _lock:
        return _objects.pop(n, None)


def live_objects():
    """A snapshot of every registered object (for shutdown)."""
    with _lock:
        return list(_objects.values())


class _State:
    #: Trampolines running right now (all on loop threads): the exit hook waits for 0.
    inflight = 0


def entered(fn):
    """Wraps a trampoline so that ``in_flight()`` counts it while it runs.

    Only loop threads run trampolines, one at a time per loop, so the count needs no lock
    with the default loop alone; with several loops it may be briefly off by one, which
    only makes the exit hook wait a little longer or less."""
    @functools.wraps(fn)
    def wrapper(*args):
        _State.inflight += 1
        try:
            fn(*args)
        finally:
            _State.inflight -= 1
    return wrapper


def in_flight():
    """How many trampolines are running Python code now."""
    return _State.inflight


def pending():
    """How many objects the table holds (handles, write callbacks, queued calls)."""
    with _lock:
        return len(_objects)


@LOOP_FN
@entered
def _run(arg):
    fn = release(arg)
    if fn is not None:
        fn()


def call_soon(fn):
    """Runs ``fn()`` on the default loop's thread on a later turn (never inside this call)."""
    n = register(fn)
    status = lib.ntls_loop_call(None, _run, n)
    if status < 0:
        release(n)
        raise from_status(status)
