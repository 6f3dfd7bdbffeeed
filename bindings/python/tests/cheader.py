"""A parser for include/nodetls.h, and a check of ctypes prototypes against it.

The header is cbindgen's output: declarations one per statement, no macros in them, only
the fixed-width integer types, opaque struct handles and function-pointer typedefs. That
small grammar is parsed here in a few regular expressions (pycparser would need the
header run through a C preprocessor with stub libc headers first, for the same answer).
"""

import ctypes
import re
from dataclasses import dataclass
from typing import Dict, List, Tuple


@dataclass(frozen=True)
class CType:
    """A C type reduced to what the ABI cares about."""

    base: str  # "int", "char", "uint64_t", "ntls_socket", "ntls_write_cb", "void"...
    pointers: int = 0

    def __str__(self):
        return self.base + " " + "*" * self.pointers if self.pointers else self.base


@dataclass
class Header:
    """Functions and callback typedefs: name -> (return type, parameter types)."""

    functions: Dict[str, Tuple[CType, List[CType]]]
    callbacks: Dict[str, Tuple[CType, List[CType]]]
    handles: set


def _strip(text):
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    text = re.sub(r"//[^\n]*", " ", text)
    return "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))


def _ctype(decl, named=True):
    """``const ntls_socket *s`` -> CType("ntls_socket", 1); ``named``: a name follows."""
    pointers = decl.count("*")
    words = [w for w in decl.replace("*", " ").split() if w not in ("const", "struct")]
    if named and len(words) > 1:
        words = words[:-1]  # the parameter's name
    if len(words) != 1:
        raise ValueError(f"cannot parse C declaration {decl!r}")
    return CType(words[0], pointers)


def _params(text):
    text = " ".join(text.split())
    if text in ("", "void"):
        return []
    return [_ctype(p) for p in text.split(",")]


def parse(text):
    """Parses the header's text."""
    text = _strip(text)
    callbacks = {}
    for ret, name, params in re.findall(r"typedef\s+([^;()]+?)\s*\(\s*\*\s*(\w+)\s*\)\s*"
                                        r"\(([^;]*?)\)\s*;", text, flags=re.S):
        callbacks[name] = (_ctype(ret, named=False), _params(params))
    handles = set(re.findall(r"typedef\s+struct\s+(\w+)\s+\1\s*;", text))
    body = re.sub(r"typedef[^;]*;", " ", text, flags=re.S)
    body = body.replace('extern "C" {', " ").replace("}", " ")
    functions = {}
    for ret, name, params in re.findall(r"([A-Za-z_][\w\s\*]*?)\s*\b(ntls_\w+)\s*"
                                        r"\(([^;]*?)\)\s*;", body, flags=re.S):
        functions[name] = (_ctype(ret, named=False), _params(params))
    return Header(functions, callbacks, handles)


_INTS = {"int": ctypes.c_int, "int64_t": ctypes.c_int64, "uint64_t": ctypes.c_uint64,
         "size_t": ctypes.c_size_t, "int32_t": ctypes.c_int32, "uint32_t": ctypes.c_uint32}
_BYTES = ("char", "uint8_t", "void")


def _is_cfunc(t):
    return isinstance(t, type) and issubclass(t, ctypes._CFuncPtr)


def _fits(py, c, header, where, in_callback=False):
    """Why the ctypes type ``py`` cannot stand for the C type ``c``, or None.

    In a callback a byte buffer must be ``c_void_p``: ctypes would turn a ``c_char_p``
    into bytes cut at the first NUL."""
    if c.base in header.callbacks and c.pointers == 0:
        if not _is_cfunc(py):
            return f"{where}: C {c} is a callback, ctypes has {py}"
        ret, params = header.callbacks[c.base]
        return _signature(py._restype_, list(py._argtypes_), ret, params, header,
                          f"{where} ({c.base})", in_callback=True)
    if c.pointers == 0:
        if c.base == "void":
            return None if py is None else f"{where}: C void, ctypes {py}"
        want = _INTS.get(c.base)
        if want is None:
            return f"{where}: C type {c} is unknown to the checker"
        return None if py is want else f"{where}: C {c} needs {want.__name__}, ctypes has {_name(py)}"
    if c.pointers == 1:
        if c.base == "char":
            ok = (ctypes.c_char_p,)
        elif c.base in _BYTES:
            # A buffer: bytes going in, or an address.
            ok = (ctypes.c_void_p,) if in_callback else (ctypes.c_char_p, ctypes.c_void_p)
        elif c.base in header.handles:
            ok = (ctypes.c_void_p,)
        else:
            want = _INTS.get(c.base)
            ok = (ctypes.POINTER(want),) if want else ()
        return None if py in ok else f"{where}: C {c} needs one of {[_name(t) for t in ok]}, " \
                                     f"ctypes has {_name(py)}"
    if c.pointers == 2:
        inner = ctypes.c_char_p if c.base == "char" else (
            ctypes.c_void_p if c.base in header.handles or c.base == "void" else None)
        want = ctypes.POINTER(inner) if inner else None
        return None if want is not None and py is want else \
            f"{where}: C {c} needs {_name(want)}, ctypes has {_name(py)}"
    return f"{where}: C {c} is unknown to the checker"


def _name(t):
    return "None" if t is None else getattr(t, "__name__", repr(t))


def _signature(restype, argtypes, ret, params, header, where, in_callback=False):
    problem = _fits(restype, ret, header, f"{where} return", in_callback)
    if problem:
        return problem
    if len(argtypes) != len(params):
        return f"{where}: C takes {len(params)} arguments ({', '.join(map(str, params))}), " \
               f"ctypes declares {len(argtypes)}"
    for i, (py, c) in enumerate(zip(argtypes, params)):
        problem = _fits(py, c, header, f"{where} argument {i + 1}", in_callback)
        if problem:
            return problem
    return None


def check(prototypes, header):
    """Every mismatch between ``{name: (restype, argtypes)}`` and the header, as words."""
    problems = []
    for name, (restype, argtypes) in sorted(prototypes.items()):
        if name not in header.functions:
            problems.append(f"{name}: not declared in nodetls.h")
            continue
        ret, params = header.functions[name]
        problem = _signature(restype, list(argtypes), ret, params, header, name)
        if problem:
            problems.append(problem)
    return problems
