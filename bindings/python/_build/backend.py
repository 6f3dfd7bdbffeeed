"""The package's PEP 517 build backend: setuptools, plus libnodetls inside the wheel.

``pip install ./bindings/python`` comes here. Each hook copies the package's files into a
temporary directory and runs setuptools there, so nothing (no ``build/``, no
``*.egg-info``) is written into the source tree. ``build_wheel`` first puts the library
into the copy, as ``nodetls/libnodetls.so.0``, found in this order:

1. ``NODETLS_LIB``: a library already built (by cargo, CMake, a distribution), copied
   as it is. Packagers and CI use this: the build takes seconds and no Rust toolchain.
2. Otherwise ``cargo build --release --locked`` of the repository this directory sits in
   (``../..``), with ``CARGO_TARGET_DIR`` taken from the environment if set (to reuse a
   build), else a temporary directory removed afterwards. So a newcomer needs nothing
   but cargo, and the repository's ``target/`` is never touched unless asked for.
"""

import os
import shutil
import subprocess
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path

from setuptools import build_meta as _setuptools

HERE = Path(__file__).resolve().parent.parent  # bindings/python
REPO = HERE.parent.parent
SONAME = "libnodetls.so.0"
#: What a wheel or sdist is made of.
SOURCES = ("pyproject.toml", "setup.py", "README.md", "MANIFEST.in", "_build", "nodetls")


def _log(message):
    print(f"nodetls build: {message}", file=sys.stderr, flush=True)


@contextmanager
def _staged():
    """A temporary copy of the package's sources, as the working directory."""
    old = os.getcwd()
    with tempfile.TemporaryDirectory(prefix="nodetls-build-") as tmp:
        stage = Path(tmp) / "src"
        stage.mkdir()
        for name in SOURCES:
            src = HERE / name
            if src.is_dir():
                shutil.copytree(src, stage / name,
                                ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.so*"))
            else:
                shutil.copy2(src, stage / name)
        os.chdir(stage)
        try:
            yield stage
        finally:
            os.chdir(old)


def _cargo_build(scratch):
    """Builds libnodetls with cargo; returns the path of the built library."""
    manifest = REPO / "Cargo.toml"
    if not manifest.exists():
        raise RuntimeError(
            f"no libnodetls to bundle: NODETLS_LIB is not set and {manifest} does not exist "
            "(build from the nodetls repository, or set NODETLS_LIB to a built libnodetls.so)")
    cargo = shutil.which("cargo")
    if cargo is None:
        raise RuntimeError("no libnodetls to bundle: NODETLS_LIB is not set and cargo is not "
                           "installed (https://rustup.rs), or set NODETLS_LIB to a built "
                           "libnodetls.so")
    target = os.environ.get("CARGO_TARGET_DIR") or str(Path(scratch) / "target")
    _log(f"cargo build --release --locked (CARGO_TARGET_DIR={target})")
    subprocess.run([cargo, "build", "--release", "--locked", "--lib", "--manifest-path",
                    str(manifest)], check=True, env=dict(os.environ, CARGO_TARGET_DIR=target))
    return Path(target) / "release" / "libnodetls.so"


def _bundle(stage):
    """Puts libnodetls into the staged package."""
    given = os.environ.get("NODETLS_LIB")
    with tempfile.TemporaryDirectory(prefix="nodetls-cargo-") as scratch:
        lib = Path(given) if given else _cargo_build(scratch)
        if not lib.is_file():
            raise RuntimeError(f"no libnodetls at {lib}"
                               + (" (from NODETLS_LIB)" if given else ""))
        _log(f"bundling {lib.resolve()} as nodetls/{SONAME}")
        shutil.copyfile(lib, stage / "nodetls" / SONAME)  # follows symlinks: the real file


def get_requires_for_build_wheel(config_settings=None):
    with _staged():
        return _setuptools.get_requires_for_build_wheel(config_settings)


def get_requires_for_build_sdist(config_settings=None):
    with _staged():
        return _setuptools.get_requires_for_build_sdist(config_settings)


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    wheel_directory = os.path.abspath(wheel_directory)
    with _staged() as stage:
        _bundle(stage)
        return _setuptools.build_wheel(wheel_directory, config_settings)


def build_sdist(sdist_directory, config_settings=None):
    """The Python sources only: building a wheel from it needs ``NODETLS_LIB``."""
    sdist_directory = os.path.abspath(sdist_directory)
    with _staged():
        return _setuptools.build_sdist(sdist_directory, config_settings)
