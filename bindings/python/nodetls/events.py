"""A small Node-style EventEmitter whose one-shot events cannot be missed.

Node never emits an event during the call that caused it, so ``tls.connect(...).on('error',
fn)`` is safe there. Here events come from the library's loop thread while the caller is
still adding listeners, so the events a class names in ``STICKY`` (those that happen at
most once, like ``close``) are remembered: a listener added afterwards is still called,
once, on the loop thread, with the event's latest arguments.
"""

import logging
import threading
from typing import Any, Callable, Optional, Tuple

from . import _loop
from .options import node_name

log = logging.getLogger("nodetls")


class EventEmitter:
    """``on``/``once``/``off``/``emit`` plus ``wait`` for tests and scripts.

    Listeners run on the library's loop thread, one at a time; they must not block it
    (no long sleeps or waits on other events of the same loop).
    """

    #: Events to remember for late listeners (at most once per object, or where the
    #: latest occurrence is what a late listener wants); subclasses name theirs.
    STICKY = frozenset()

    def __init__(self) -> None:
        self._ev_lock = threading.Lock()
        self._listeners = {}
        self._happened = {}

    def on(self, event: str, listener: Callable[..., Any]) -> "EventEmitter":
        """Calls ``listener(*args)`` on every ``event``; returns self for chaining. Event
        names are Node's (``secureConnect``) or snake_case (``secure_connect``)."""
        return self._add(event, listener, once=False)

    def once(self, event: str, listener: Callable[..., Any]) -> "EventEmitter":
        """Calls ``listener(*args)`` on the next ``event`` only."""
        return self._add(event, listener, once=True)

    def off(self, event: str, listener: Callable[..., Any]) -> "EventEmitter":
        """Removes a listener added with ``on`` or ``once``."""
        event = node_name(event)
        with self._ev_lock:
            entries = self._listeners.get(event, [])
            self._listeners[event] = [e for e in entries if e[0] is not listener]
        return self

    def listener_count(self, event: str) -> int:
        """How many listeners ``event`` has."""
        with self._ev_lock:
            return len(self._listeners.get(node_name(event), []))

    def wait(self, event: str, timeout: Optional[float] = None) -> Tuple[Any, ...]:
        """Blocks the calling thread until ``event`` fires; returns its arguments as a tuple.

        Raises TimeoutError after ``timeout`` seconds. Never call it from a listener: the
        loop thread would wait for itself.
        """
        done = threading.Event()
        box = []

        def listener(*args):
            box.append(args)
            done.set()

        self.once(event, listener)
        if not done.wait(timeout):
            self.off(event, listener)
            raise TimeoutError(f"no {event!r} event within {timeout} s")
        return box[0]

    def _add(self, event, listener, once):
        event = node_name(event)
        with self._ev_lock:
            replay = self._happened.get(event)
            if replay is not None:
                # Already fired and never fires again: call it later, on the loop thread.
                _loop.call_soon(lambda: _safe_call(listener, replay))
                if once:
                    return self
            self._listeners.setdefault(event, []).append((listener, once))
        self._listener_added(event)
        return self

    def _listener_added(self, event):
        """Hook for subclasses (the first ``data`` listener starts reading)."""

    def emit(self, event: str, *args: Any) -> bool:
        """Calls the listeners of ``event`` with ``args``; True if there were any."""
        with self._ev_lock:
            if event in self.STICKY:
                self._happened[event] = args
            entries = list(self._listeners.get(event, []))
            if any(once for _, once in entries):
                self._listeners[event] = [e for e in entries if not e[1]]
        for listener, _ in entries:
            _safe_call(listener, args)
        return bool(entries)


def _safe_call(listener, args):
    """A listener's exception must not unwind into C, so it is logged instead."""
    try:
        listener(*args)
    except Exception:  # noqa: BLE001 - any listener failure, reported, never propagated
        log.exception("nodetls listener %r raised", listener)
