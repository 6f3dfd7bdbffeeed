"""Type hints: the package says it is typed (py.typed), so every public function and
method has annotated parameters and return type."""

import inspect
import os

import nodetls
import nodetls.asyncio as tls_asyncio
from nodetls import blocking, errors, events, options, server, socket


def public_callables():
    seen = set()
    for module in (nodetls, tls_asyncio, blocking, errors, events, options, server, socket):
        for name in getattr(module, "__all__", None) or dir(module):
            obj = getattr(module, name)
            if name.startswith("_") or getattr(obj, "__module__", "") != module.__name__:
                continue
            if inspect.isclass(obj):
                for attr, member in vars(obj).items():
                    if attr.startswith("_") and attr not in ("__init__", "__enter__",
                                                             "__aenter__"):
                        continue
                    fn = member.fget if isinstance(member, property) else member
                    if inspect.isfunction(fn) and fn not in seen:
                        seen.add(fn)
                        yield f"{obj.__name__}.{attr}", fn
            elif inspect.isfunction(obj) and obj not in seen:
                seen.add(obj)
                yield name, obj


def test_py_typed_marker_ships():
    assert os.path.exists(os.path.join(os.path.dirname(nodetls.__file__), "py.typed"))


def test_every_public_function_is_annotated():
    missing = []
    checked = 0
    for name, fn in public_callables():
        checked += 1
        sig = inspect.signature(fn)
        for p in list(sig.parameters.values())[1 if "." in name else 0:]:
            if p.annotation is inspect.Parameter.empty:
                missing.append(f"{name}({p.name})")
        if sig.return_annotation is inspect.Signature.empty:
            missing.append(f"{name} -> ?")
    assert checked > 70
    assert missing == []
