"""Reading the library's (host, port, family) out-parameters as Node's address object."""

import ctypes


def read(fn, ptr):
    """``{'address', 'port', 'family'}`` from an ``ntls_*_address`` call, or None."""
    if not ptr:
        return None
    host = ctypes.create_string_buffer(64)  # INET6_ADDRSTRLEN is 46
    port = ctypes.c_int()
    family = ctypes.c_int()
    if fn(ptr, host, len(host), ctypes.byref(port), ctypes.byref(family)) < 0:
        return None
    return {"address": host.value.decode(), "port": port.value,
            "family": "IPv6" if family.value == 6 else "IPv4"}
