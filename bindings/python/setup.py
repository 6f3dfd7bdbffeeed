"""Only what pyproject.toml cannot say: the wheel carries libnodetls, so it is a platform
wheel (``py3-none-<platform>``: any Python 3, no CPython ABI, since ctypes loads the
library), not a pure one, and the package goes to platlib."""

from setuptools import setup
from setuptools.dist import Distribution

try:
    from setuptools.command.bdist_wheel import bdist_wheel
except ImportError:  # setuptools < 70.1 has it in the wheel package
    from wheel.bdist_wheel import bdist_wheel


class WithLibrary(Distribution):
    """A distribution carrying a compiled library (not an extension module)."""

    def has_ext_modules(self):
        return True


class PlatformWheel(bdist_wheel):
    """A wheel tagged for this platform, for any Python 3."""

    def get_tag(self):
        _, _, platform = super().get_tag()
        return "py3", "none", platform


setup(distclass=WithLibrary, cmdclass={"bdist_wheel": PlatformWheel})
