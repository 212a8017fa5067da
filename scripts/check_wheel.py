"""Checks a built wheel holds the package, its module, stubs and py.typed,
and none of the C++ development files (headers, static libraries, CMake)."""

from __future__ import annotations

import sys
import zipfile

REQUIRED = [
    "dftracer/utils/__init__.py",
    "dftracer/utils/_runtime.py",
    "dftracer/utils/dask.py",
    "dftracer/utils/traces.py",
    "dftracer/utils/py.typed",
    "dftracer/utils/_core.pyi",
]
FORBIDDEN_SUFFIXES = (".h", ".hpp", ".a", ".cmake", ".cpp")


def main(path: str) -> int:
    names = zipfile.ZipFile(path).namelist()
    problems = [f"missing {n}" for n in REQUIRED if n not in names]
    if not any(n.startswith("dftracer/utils/_core.") and n.endswith((".so", ".pyd")) for n in names):
        problems.append("missing the compiled dftracer/utils/_core module")
    problems += [f"unexpected {n}" for n in names if n.endswith(FORBIDDEN_SUFFIXES)]
    if "dftracer/__init__.py" in names:
        problems.append("dftracer/ must stay a namespace package (no __init__.py)")
    for p in problems:
        print("wheel check:", p)
    print(f"wheel check: {len(names)} files, {'OK' if not problems else 'FAILED'}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
