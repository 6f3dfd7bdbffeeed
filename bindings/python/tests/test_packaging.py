"""``pip install ./bindings/python`` into a fresh venv: a platform wheel carrying
libnodetls, built without writing into the source tree; then the library lookup order
(NODETLS_LIB, the bundled copy, the system loader by SONAME), each seen from a real
process doing an echo."""

import json
import os
import shutil
import subprocess
import sys
import zipfile

import pytest

from helpers import CERTS, ROOT

PKG = os.path.join(ROOT, "bindings", "python")
BUILT = os.path.join(ROOT, "target", "release", "libnodetls.so")

#: Run by the venv's Python, from a directory without the source tree: an echo through
#: whatever library the package found, then where it found it.
ECHO = r"""
import json, os, sys
import nodetls
from nodetls import _lib
certs = sys.argv[1]
pem = lambda n: open(os.path.join(certs, n), "rb").read()
server = nodetls.create_server(key=pem("server-ec-key.pem"), cert=pem("server-ec-cert.pem"))
server.on("secureConnection", lambda s: s.on("data", s.write))
server.listen(0, "127.0.0.1").wait("listening", 10)
s = nodetls.connect(port=server.address()["port"], host="localhost", ca=pem("ca-cert.pem"))
got = []
s.on("data", lambda d: (got.append(d), s.end()))
s.wait("secureConnect", 10)
s.write(b"through the wheel")
s.wait("close", 10)
server.close()
server.wait("close", 10)
print(json.dumps({"echo": b"".join(got).decode(), "how": _lib.how_found, "path": _lib.path,
                  "package": os.path.dirname(nodetls.__file__)}))
"""


def tree(path):
    """Every file under ``path`` with its size and mtime, minus what Python's own imports
    write (__pycache__, the pytest cache)."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(path):
        dirnames[:] = [d for d in dirnames if d not in ("__pycache__", ".pytest_cache")]
        for name in filenames:
            full = os.path.join(dirpath, name)
            st = os.stat(full)
            out[os.path.relpath(full, path)] = (st.st_size, st.st_mtime_ns)
    return out


def clean_env(**extra):
    """The environment without NODETLS_LIB or a Python path leading to the sources."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("NODETLS_LIB", "PYTHONPATH", "LD_LIBRARY_PATH", "CARGO_TARGET_DIR")}
    env.update(extra)
    return env


def run(cmd, env, cwd, timeout=240):
    proc = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True,
                          timeout=timeout)
    assert proc.returncode == 0, f"{cmd} failed:\n{proc.stdout}\n{proc.stderr}"
    return proc


def pip(py, *args):
    """This interpreter's pip acting on the venv of ``py``."""
    return [sys.executable, "-m", "pip", "--python", py, "--disable-pip-version-check", *args]


@pytest.fixture(scope="module")
def venv(tmp_path_factory):
    """A fresh venv with the wheel installed (built from NODETLS_LIB's library, or the
    repository's build); yields (venv python, wheel path, work dir)."""
    work = tmp_path_factory.mktemp("wheel")
    before = tree(PKG)
    # No pip inside the venv (ensurepip would add seconds): this pip drives it (--python).
    run([sys.executable, "-m", "venv", "--without-pip", str(work / "venv")], clean_env(),
        str(work))
    py = str(work / "venv" / "bin" / "python")
    env = clean_env(NODETLS_LIB=BUILT)
    run(pip(py, "wheel", "-q", "--no-deps", "-w", str(work / "dist"), PKG), env, str(work))
    (wheel,) = (work / "dist").iterdir()
    run(pip(py, "install", "-q", str(wheel)), clean_env(), str(work))
    # The build happened in a temporary copy: the source tree is as it was.
    assert tree(PKG) == before
    yield py, wheel, work


def echo(py, work, isolated=True, **env):
    """Runs ECHO; ``isolated`` (-I) keeps the source tree and PYTHONPATH out of sys.path."""
    flags = ["-I"] if isolated else []
    proc = run([py, *flags, "-c", ECHO, CERTS], clean_env(**env), str(work), timeout=60)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_wheel_is_a_platform_wheel_with_the_library(venv):
    _, wheel, _ = venv
    assert wheel.name.startswith("nodetls-0.1.0-py3-none-linux_")
    with zipfile.ZipFile(wheel) as z:
        names = z.namelist()
        meta = z.read(next(n for n in names if n.endswith(".dist-info/WHEEL"))).decode()
    assert "nodetls/libnodetls.so.0" in names  # next to the package, as SONAME names it
    assert "nodetls/py.typed" in names
    assert "Root-Is-Purelib: false" in meta
    assert not any(n.startswith(("tests/", "_build/")) for n in names)


def test_installed_wheel_uses_its_bundled_library(venv):
    py, _, work = venv
    out = echo(py, work)
    assert out["echo"] == "through the wheel"
    assert out["how"] == "bundled"
    assert out["path"] == os.path.join(out["package"], "libnodetls.so.0")
    assert "site-packages" in out["package"]


def test_nodetls_lib_wins_over_the_bundled_copy(venv, tmp_path):
    py, _, work = venv
    mine = tmp_path / "libnodetls-mine.so"
    shutil.copyfile(BUILT, mine)
    out = echo(py, work, NODETLS_LIB=str(mine))
    assert out == dict(out, echo="through the wheel", how="NODETLS_LIB", path=str(mine))


def test_nodetls_lib_that_cannot_load_fails_loudly(venv, tmp_path):
    py, _, work = venv
    proc = subprocess.run([py, "-I", "-c", "import nodetls"], cwd=str(work),
                          env=clean_env(NODETLS_LIB=str(tmp_path / "missing.so")),
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    assert "NODETLS_LIB=" in proc.stderr and "missing.so" in proc.stderr


def test_system_loader_by_soname(tmp_path):
    """The source package (nothing bundled): the loader finds libnodetls.so.0 by SONAME,
    here through LD_LIBRARY_PATH to a directory holding only that name."""
    libdir = tmp_path / "lib"
    libdir.mkdir()
    shutil.copyfile(BUILT, libdir / "libnodetls.so.0")
    out = echo(sys.executable, tmp_path, isolated=False, PYTHONPATH=PKG,
               LD_LIBRARY_PATH=str(libdir))
    assert out["how"] == "system"
    assert out["path"] == str(libdir / "libnodetls.so.0")
    assert out["echo"] == "through the wheel"


def test_nothing_found_says_what_to_do(tmp_path):
    proc = subprocess.run([sys.executable, "-c", "import nodetls"], cwd=str(tmp_path),
                          env=clean_env(PYTHONPATH=PKG), capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 1
    assert "libnodetls not found" in proc.stderr and "pip install" in proc.stderr


def test_wheel_from_cargo_build_out_of_tree(venv, tmp_path):
    """Without NODETLS_LIB the backend runs cargo; CARGO_TARGET_DIR (here the repository's
    warm target/, so the build is a no-op) says where."""
    py, _, work = venv
    before = tree(PKG)
    proc = run(pip(py, "wheel", "-v", "--no-deps", "-w", str(tmp_path), PKG),
               clean_env(CARGO_TARGET_DIR=os.path.join(ROOT, "target")), str(work))
    assert "nodetls build: cargo build --release --locked" in proc.stdout + proc.stderr
    (wheel,) = tmp_path.glob("*.whl")
    with zipfile.ZipFile(wheel) as z:
        assert z.getinfo("nodetls/libnodetls.so.0").file_size == os.path.getsize(BUILT)
    assert tree(PKG) == before
