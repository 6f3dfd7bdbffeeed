"""The ctypes prototypes of nodetls._lib against include/nodetls.h: a signature changed in
the header (an argument added, a type widened, a callback reshaped) fails here, loudly,
instead of corrupting the stack at run time."""

import ctypes
import os
import re
import subprocess

import pytest

import cheader
from helpers import ROOT
from nodetls import _lib

HEADER_PATH = os.path.join(ROOT, "include", "nodetls.h")


@pytest.fixture(scope="module")
def header():
    with open(HEADER_PATH) as f:
        return cheader.parse(f.read())


def test_every_declared_prototype_matches_the_header(header):
    assert cheader.check(_lib._PROTOTYPES, header) == []


def test_the_parser_sees_every_exported_function(header):
    """The parser must not skip declarations: every ntls_ symbol the library exports is in
    its parse of the header (so a prototype cannot be 'checked' against nothing)."""
    out = subprocess.run(["nm", "-D", "--defined-only", _lib.path], capture_output=True,
                         text=True, check=True).stdout
    exported = set(re.findall(r"\bT (ntls_\w+)$", out, flags=re.M))
    assert len(exported) > 100
    assert exported - set(header.functions) == set()


def test_callback_types_match_their_typedefs(header):
    # Each CFUNCTYPE the binding uses is checked where it appears as an argument; these
    # are the ones whose shape matters most (a data buffer must stay c_void_p).
    for setter in ("ntls_socket_on_data", "ntls_socket_on_close", "ntls_socket_on_error",
                   "ntls_server_on_secure_connection", "ntls_server_on_tls_client_error",
                   "ntls_loop_call", "ntls_socket_write"):
        assert setter in _lib._PROTOTYPES
    assert cheader.check({k: _lib._PROTOTYPES[k] for k in ("ntls_socket_on_data",)},
                         header) == []


P = ctypes.c_void_p


@pytest.mark.parametrize("name, proto, words", [
    # uint64_t declared as int: silently truncated at run time.
    ("ntls_socket_set_timeout", (ctypes.c_int, [P, ctypes.c_int]), "needs c_ulong"),
    # An argument missing.
    ("ntls_socket_write", (ctypes.c_int, [P, ctypes.c_char_p, ctypes.c_size_t, _lib.WRITE_CB]),
     "C takes 5 arguments"),
    # A wrong return type.
    ("ntls_socket_get_protocol", (ctypes.c_int, [P]), "return"),
    # A handle passed as int: the pointer would be cut to 32 bits.
    ("ntls_socket_end", (ctypes.c_int, [ctypes.c_int]), "argument 1"),
    # A callback with the wrong shape (close_cb for the data callback).
    ("ntls_socket_on_data", (ctypes.c_int, [P, _lib.SOCKET_CLOSE_CB]), "ntls_socket_data_cb"),
    # A data buffer as c_char_p inside a callback: cut at the first NUL.
    ("ntls_socket_on_data", (ctypes.c_int, [P, ctypes.CFUNCTYPE(
        None, P, ctypes.c_char_p, ctypes.c_size_t, P)]), "needs one of ['c_void_p']"),
    # A function the header does not have.
    ("ntls_socket_frobnicate", (ctypes.c_int, [P]), "not declared"),
])
def test_a_wrong_prototype_fails(header, name, proto, words):
    problems = cheader.check({name: proto}, header)
    assert len(problems) == 1, problems
    assert name in problems[0]
    assert words in problems[0], problems[0]


def test_a_changed_header_fails():
    """The other direction: the header changes under an unchanged binding."""
    with open(HEADER_PATH) as f:
        text = f.read()
    changed = text.replace("int ntls_socket_set_timeout(ntls_socket *s, uint64_t ms);",
                           "int ntls_socket_set_timeout(ntls_socket *s, uint64_t ms, int unref);")
    assert changed != text
    problems = cheader.check(_lib._PROTOTYPES, cheader.parse(changed))
    assert problems == ["ntls_socket_set_timeout: C takes 3 arguments (ntls_socket *, "
                        "uint64_t, int), ctypes declares 2"]
    widened = text.replace("typedef void (*ntls_socket_close_cb)(ntls_socket *s, int had_error,",
                           "typedef void (*ntls_socket_close_cb)(ntls_socket *s, int64_t had_error,")
    assert widened != text
    problems = cheader.check(_lib._PROTOTYPES, cheader.parse(widened))
    assert any("ntls_socket_close_cb" in p and "int64_t" in p for p in problems), problems
