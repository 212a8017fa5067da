"""How a task's name is derived from the callable it runs."""

from __future__ import annotations

import functools
from typing import Any

_LOCALS = "<locals>."


def _strip_locals(qualname: str) -> str:
    return qualname.rpartition(_LOCALS)[2]


def derive_name(fn: Any) -> str:
    """Return the task name for ``fn``.

    The callable's ``__qualname__`` without any ``<locals>.`` prefix (so a
    method ``p.run`` is ``"Pipeline.run"`` wherever ``Pipeline`` is defined),
    ``""`` for a lambda, the wrapped function's name for
    :func:`functools.partial`, and the class name for a callable object.
    """
    while isinstance(fn, functools.partial):
        fn = fn.func
    qualname = getattr(fn, "__qualname__", None)
    if not isinstance(qualname, str):
        qualname = type(fn).__qualname__
    name = _strip_locals(qualname)
    if name == "<lambda>" or name.endswith(".<lambda>"):
        return ""
    return name
