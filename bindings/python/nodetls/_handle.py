"""A C handle shared between the caller's threads and the loop thread that releases it.

The library frees nothing a caller still references, but our own reference is dropped
when the handle's ``close`` event arrives on the loop thread, possibly while another
thread is in the middle of a call. Each call therefore takes a reference of its own for
its duration; the lock is held only to take it, never during a C call, so no C call can
wait on a loop thread that waits on us.
"""

import contextlib
import threading


class Handle:
    """Owns one reference to a C handle until ``release``."""

    def __init__(self, ptr, ref, unref):
        self._lock = threading.Lock()
        self._ptr = ptr
        self._ref = ref
        self._unref = unref

    @contextlib.contextmanager
    def borrow(self):
        """Yields the pointer kept alive for the block, or None once released."""
        with self._lock:
            ptr = self._ptr
            if ptr:
                self._ref(ptr)
        if not ptr:
            yield None
            return
        try:
            yield ptr
        finally:
            self._unref(ptr)

    def release(self):
        """Drops our reference; later ``borrow`` blocks get None. Idempotent."""
        with self._lock:
            ptr, self._ptr = self._ptr, None
        if ptr:
            self._unref(ptr)

    @property
    def released(self):
        """True once ``release`` ran."""
        with self._lock:
            return not self._ptr
