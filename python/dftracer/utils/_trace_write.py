"""Writing trace text to a file by its suffix, the one way the package
writes traces: ``.json`` and ``.pfw`` as they are, ``.pfw.gz`` as gzip
members cut on line ends (DFTracer's layout, done by the native core)."""

from __future__ import annotations

from . import _core

SUFFIXES = (".json", ".pfw", ".pfw.gz")


def check_suffix(target: str) -> None:
    """ValueError unless ``target`` ends in one of :data:`SUFFIXES`."""
    if not target.endswith(SUFFIXES):
        raise ValueError(f"trace path must end in .json, .pfw or .pfw.gz, got {target!r}")


def write_trace_text(target: str, text: str) -> None:
    """Write ``text`` (a Chrome JSON document, or JSON lines for ``.pfw``
    and ``.pfw.gz``) to ``target``, whose suffix the caller checked
    (:func:`check_suffix`). Raises OSError if it cannot be written."""
    data = _core.gzip_members(text) if target.endswith(".pfw.gz") else text.encode("utf-8")
    with open(target, "wb") as f:
        f.write(data)
