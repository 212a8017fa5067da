"""Runs every code example of the documentation, so the pages cannot drift
from the code.

Python: every ``.. code-block:: python`` of a page runs, in page order, in one
namespace per page (plus a small per-page setup namespace, ``SETUPS`` below).
What a page shows is checked where it says it:

* a ``.. code-block:: text`` with ``:caption: Output`` right after a Python
  block is that block's expected standard output (``...`` matches anything,
  as in doctest's ELLIPSIS);
* a statement ending in ``# SomeError: message`` must raise ``SomeError``
  with that message (``...`` matches anything);
* ``# returns VALUE`` or ``# -> VALUE`` after a statement: its value (for an
  assignment, the assigned name) must equal the Python literal ``VALUE``;
* ``# attr = VALUE`` after an expression: the value's ``attr`` must equal it;
* a Python block preceded by the reST comment ``.. shape-of: EXPR`` is an
  illustration of the value of ``EXPR`` (``...`` elides entries): every key it
  shows must exist, with a value of the same type, in the real value.

Blocks that cannot run are listed in ``NOT_RUNNABLE`` by their ``:name:``,
with the reason.

C++: examples are files under ``docs/examples/cpp`` shown with
``literalinclude``; ctest builds and runs each of them (see the CMakeLists.txt
there). The checks here make sure every C++ example shown is one of those
files and that no page carries an inline C++ block that nothing compiles.

References: after a build, the Python reference must cover every public
name (set ``DFTRACER_DOCS_HTML`` to the built site; nanobind functions
included) and the C++ reference every public symbol Doxygen finds.

Run: ``pytest docs/test_docs_examples.py`` with dftracer-utils installed
(``scripts/test-docs.sh`` builds the site first and runs everything).
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import doctest
import io
import re
import signal
import sys
import textwrap
import tokenize
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
PAGES = sorted(p for p in DOCS.rglob("*.rst") if "_build" not in p.parts)

#: Blocks (by ``:name:``) that are shown but not run, and why. Keep it empty
#: where possible: every entry is a place where the docs can drift.
NOT_RUNNABLE: dict[str, str] = {}


PYTHON_LANGUAGES = {"python", "py", "python3"}
CPP_LANGUAGES = {"cpp", "c++", "cxx"}


# ------------------------------------------------------------------ parsing

@dataclass
class Block:
    page: Path
    line: int  # 1-based line of the directive
    directive: str  # code-block, literalinclude, ...
    argument: str  # language, or the included path
    options: dict[str, str]
    code: str
    markers: list[str] = field(default_factory=list)  # reST comments just before it

    @property
    def language(self) -> str:
        if self.directive == "literalinclude":
            return self.options.get("language", "")
        return self.argument.lower()

    @property
    def name(self) -> str:
        return self.options.get("name", "")

    @property
    def is_output(self) -> bool:
        return self.language in {"text", "none", "console-output"} and self.options.get("caption") == "Output"

    def where(self) -> str:
        return f"{self.page.relative_to(DOCS)}:{self.line}"


DIRECTIVE = re.compile(r"^(\s*)\.\.\s+(code-block|code|sourcecode|literalinclude)::\s*(.*?)\s*$")
OPTION = re.compile(r"^\s+:([\w-]+):\s*(.*?)\s*$")
MARKER = re.compile(r"^\s*\.\.\s+([\w-]+):\s+(.+?)\s*$")


def parse_blocks(page: Path) -> list[Block]:
    lines = page.read_text().splitlines()
    blocks: list[Block] = []
    markers: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        m = DIRECTIVE.match(line)
        if not m:
            marker = MARKER.match(line)
            if marker and not line.strip().startswith(".. _"):
                markers.append(f"{marker.group(1)}: {marker.group(2)}")
            elif line.strip() and not marker:
                markers = []
            i += 1
            continue
        indent = len(m.group(1))
        start = i + 1
        i += 1
        options: dict[str, str] = {}
        while i < len(lines) and (opt := OPTION.match(lines[i])) and _indent(lines[i]) > indent:
            options[opt.group(1)] = opt.group(2)
            i += 1
        body: list[str] = []
        while i < len(lines) and (not lines[i].strip() or _indent(lines[i]) > indent):
            body.append(lines[i])
            i += 1
        code = textwrap.dedent("\n".join(body)).strip("\n") + "\n"
        blocks.append(Block(page, start, m.group(2), m.group(3), options, code, markers))
        markers = []
    return blocks


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


# ------------------------------------------------------- statement checks

EXPECTED_ERROR = re.compile(r"^#\s*([A-Za-z_][\w.]*(?:Error|Exception|Interrupt|Exit)):\s*(.*?)\s*$")
RETURNS = re.compile(r"^#.*?(?:\breturns|->)\s+(.+?)\s*$")
ATTRIBUTE = re.compile(r"^#\s*(\w+)\s*=\s*(.+?)\s*$")


def comments_by_line(code: str) -> dict[int, str]:
    found: dict[int, str] = {}
    for tok in tokenize.generate_tokens(io.StringIO(code).readline):
        if tok.type == tokenize.COMMENT:
            found[tok.start[0]] = tok.string
    return found


def ellipsis_match(pattern: str, text: str) -> bool:
    regex = ".*".join(re.escape(part) for part in pattern.split("..."))
    return re.fullmatch(regex, text, re.DOTALL) is not None


def literal(text: str) -> tuple[bool, Any]:
    try:
        return True, ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return False, None


def run_python_block(block: Block, namespace: dict[str, Any]) -> str:
    """Executes the block statement by statement (line numbers are the
    page's) and returns what it printed."""
    tree = ast.parse(block.code, filename=block.where())
    comments = comments_by_line(block.code)
    filename = str(block.page)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        for stmt in tree.body:
            comment = comments.get(stmt.end_lineno or stmt.lineno, "")
            _run_statement(block, stmt, comment, namespace, filename)
    return out.getvalue()


def _compile(node: ast.AST, filename: str, line_offset: int, mode: str):
    ast.increment_lineno(node, line_offset)
    if mode == "eval":
        return compile(ast.Expression(node.value), filename, "eval")  # type: ignore[attr-defined]
    return compile(ast.Module([node], type_ignores=[]), filename, "exec")


def _run_statement(block: Block, stmt: ast.stmt, comment: str, ns: dict[str, Any], filename: str) -> None:
    # Code lines start two lines after the directive's options (blank line).
    offset = block.line + len(block.options) + 1
    simple = isinstance(stmt, (ast.Expr, ast.Assign, ast.AnnAssign, ast.AugAssign))
    where = f"{block.where()} (line {stmt.lineno + offset})"

    error = EXPECTED_ERROR.match(comment) if simple else None
    if error:
        expected = _resolve(error.group(1), ns)
        with pytest.raises(expected) as raised:
            exec(_compile(stmt, filename, offset, "exec"), ns)
        assert ellipsis_match(error.group(2), str(raised.value)), (
            f"{where}: {expected.__name__} message {str(raised.value)!r} does not match {error.group(2)!r}")
        return

    if isinstance(stmt, ast.Expr):
        value = eval(_compile(stmt, filename, offset, "eval"), ns)
    else:
        exec(_compile(stmt, filename, offset, "exec"), ns)
        value = _assigned_value(stmt, ns)
    if not simple or not comment:
        return
    returns = RETURNS.match(comment)
    if returns:
        ok, want = literal(returns.group(1))
        if ok:
            assert value == want, f"{where}: value {value!r}, the page says {want!r}"
        return
    attribute = ATTRIBUTE.match(comment)
    if attribute and isinstance(stmt, ast.Expr):
        ok, want = literal(attribute.group(2))
        if ok:
            got = getattr(value, attribute.group(1))
            assert got == want, f"{where}: {attribute.group(1)} is {got!r}, the page says {want!r}"


def _assigned_value(stmt: ast.stmt, ns: dict[str, Any]) -> Any:
    target = None
    if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
        target = stmt.targets[0]
    elif isinstance(stmt, (ast.AnnAssign, ast.AugAssign)):
        target = stmt.target
    return ns.get(target.id) if isinstance(target, ast.Name) else None


def _resolve(name: str, ns: dict[str, Any]) -> type:
    import concurrent.futures

    head = name.split(".")[0]
    obj: Any = ns.get(head, getattr(builtins, head, getattr(concurrent.futures, head, None)))
    for part in name.split(".")[1:]:
        obj = getattr(obj, part)
    if not (isinstance(obj, type) and issubclass(obj, BaseException)):
        raise AssertionError(f"{name} is not an exception type")
    return obj


# --------------------------------------------------------- shape checks

def check_shape(shown: Any, real: Any, path: str = "value") -> None:
    """Every key and element type shown must exist in the real value."""
    if isinstance(shown, dict):
        assert isinstance(real, dict), f"{path}: the page shows a dict, got {type(real).__name__}"
        for key, value in shown.items():
            assert key in real, f"{path}: the page shows key {key!r}; real keys: {sorted(real)}"
            check_shape(value, real[key], f"{path}[{key!r}]")
    elif isinstance(shown, list):
        assert isinstance(real, list), f"{path}: the page shows a list, got {type(real).__name__}"
        for i, item in enumerate(shown):
            if real:
                check_shape(item, real[min(i, len(real) - 1)], f"{path}[{i}]")
    elif isinstance(shown, bool) or isinstance(real, bool):
        assert isinstance(real, bool) == isinstance(shown, bool), f"{path}: {real!r} vs shown {shown!r}"
    elif isinstance(shown, (int, float)):
        assert isinstance(real, (int, float)), f"{path}: the page shows a number, got {real!r}"
    elif shown is not None:
        assert isinstance(real, type(shown)), f"{path}: the page shows {type(shown).__name__}, got {real!r}"


def parse_illustration(code: str) -> Any:
    # "..." stands for elided entries: drop it, then read the literal.
    cleaned = re.sub(r",\s*\.\.\.\s*(?=[}\]])", "", code)
    cleaned = re.sub(r"(?<=[{\[])\s*\.\.\.\s*,?", "", cleaned)
    return ast.literal_eval(cleaned)


# ------------------------------------------------------------- page setups

class _Helpers:
    """Functions the Runtime page assumes exist (it shows how they are used,
    not how they are written)."""

    @staticmethod
    def namespace() -> dict[str, Any]:
        from dftracer.utils import TaskHandle

        def index(filename):
            return {"file": filename, "lines": 3}

        def process(item):
            # Accepts a value or a handle ("the utility unwraps internally").
            if isinstance(item, TaskHandle):
                item = item.get()
            return f"processed {item}"

        def failing_function():
            raise ValueError("bad input")

        return {
            "index": index,
            "process": process,
            "failing_function": failing_function,
            "files": ["a.pfw.gz", "b.pfw.gz", "c.pfw.gz"],
        }


def _dask_setup(monkeypatch: pytest.MonkeyPatch, cleanup: list[Callable[[], None]]) -> dict[str, Any]:
    """``Client("scheduler:8786")`` on the page connects to a LocalCluster
    of one in-process worker instead of a real scheduler."""
    # Not importorskip: a missing Dask must fail the run, not hide two pages.
    import dask.distributed
    import distributed

    real_client = distributed.Client

    class Client(real_client):  # type: ignore[misc, valid-type]
        def __init__(self, address: Any = None, **kwargs: Any) -> None:
            cluster = distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                                               dashboard_address=None, silence_logs=40)
            super().__init__(cluster, **kwargs)
            self._docs_cluster = cluster

            def close() -> None:
                self.close()
                cluster.close()

            cleanup.append(close)

    monkeypatch.setattr(distributed, "Client", Client)
    monkeypatch.setattr(dask.distributed, "Client", Client)
    return {}


def _runtime_setup(monkeypatch: pytest.MonkeyPatch, cleanup: list[Callable[[], None]]) -> dict[str, Any]:
    namespace = _Helpers.namespace()
    namespace.update(_dask_setup(monkeypatch, cleanup))  # the page ends with the Dask plugin
    return namespace


#: Page (relative to docs/) -> function returning the page's setup namespace.
SETUPS: dict[str, Callable[[pytest.MonkeyPatch, list[Callable[[], None]]], dict[str, Any]]] = {
    "runtime.rst": _runtime_setup,
    "dask.rst": _dask_setup,
}


# ------------------------------------------------------------------- tests

def _pages_with_python() -> list[Path]:
    return [p for p in PAGES if any(b.language in PYTHON_LANGUAGES for b in parse_blocks(p))]


@pytest.mark.timeout(240)
@pytest.mark.parametrize("page", _pages_with_python(), ids=lambda p: str(p.relative_to(DOCS)))
def test_page_examples(page: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import dftracer.utils as dft

    rel = str(page.relative_to(DOCS))
    cleanup: list[Callable[[], None]] = []
    namespace: dict[str, Any] = {"__name__": f"docs_{page.stem.replace('-', '_')}"}
    setup = SETUPS.get(rel)
    if setup is not None:
        namespace.update(setup(monkeypatch, cleanup))
    previous_default = dft.peek_default_runtime()
    blocks = parse_blocks(page)
    # Pages show Ctrl-C; a suite started in the background by a shell
    # without job control runs with SIGINT ignored, which Python leaves so.
    previous_sigint = signal.signal(signal.SIGINT, signal.default_int_handler)
    cleanup.append(lambda: signal.signal(signal.SIGINT, previous_sigint))
    try:
        for i, block in enumerate(blocks):
            if block.language not in PYTHON_LANGUAGES or block.directive == "literalinclude":
                continue
            if block.name in NOT_RUNNABLE:
                continue
            shape = next((m.split(": ", 1)[1] for m in block.markers if m.startswith("shape-of: ")), None)
            if shape is not None:
                real = eval(shape, namespace)
                check_shape(parse_illustration(block.code), real, shape)
                continue
            printed = run_python_block(block, namespace)
            following = blocks[i + 1] if i + 1 < len(blocks) else None
            if following is not None and following.is_output:
                checker = doctest.OutputChecker()
                assert checker.check_output(following.code, printed, doctest.ELLIPSIS), (
                    f"{block.where()}: printed\n{printed}\nbut the page shows ({following.where()})\n"
                    f"{following.code}")
    finally:
        for close in reversed(cleanup):
            with contextlib.suppress(Exception):
                close()
        for value in list(namespace.values()):
            if isinstance(value, dft.Runtime) and not value.is_shutdown:
                value.shutdown(wait=True, cancel_pending=True)
        dft.set_default_runtime(previous_default)


def test_not_runnable_list_names_real_blocks() -> None:
    names = {b.name for p in PAGES for b in parse_blocks(p)}
    stale = sorted(set(NOT_RUNNABLE) - names)
    assert not stale, f"NOT_RUNNABLE names blocks that no page has: {stale}"


def test_cpp_examples_are_compiled_files() -> None:
    """Every C++ example shown is a file that ctest builds and runs."""
    cmake = (DOCS / "examples/cpp/CMakeLists.txt").read_text()
    listed = re.search(r"set\(DFTRACER_DOCS_EXAMPLES([^)]*)\)", cmake)
    registered = set(listed.group(1).split()) if listed else set()
    registered |= set(re.findall(r"\b(\w+)\.cpp\b", cmake))
    on_disk = {p.stem for p in (DOCS / "examples/cpp").glob("*.cpp")}
    assert on_disk <= registered, f"examples not built by ctest: {sorted(on_disk - registered)}"
    shown = set()
    for page in PAGES:
        for block in parse_blocks(page):
            if block.directive != "literalinclude" and block.language in CPP_LANGUAGES:
                pytest.fail(f"{block.where()}: inline C++ block; put it in docs/examples/cpp/ and literalinclude it")
            if block.directive == "literalinclude":
                target = (page.parent / block.argument).resolve()
                assert target.is_file(), f"{block.where()}: {block.argument} does not exist"
                if target.suffix == ".cpp" and target.parent == DOCS / "examples/cpp":
                    shown.add(target.stem)
    assert shown, "no page shows a C++ example"
    assert shown <= registered


def test_cpp_reference_covers_every_public_symbol() -> None:
    """Every public class, struct, enum, typedef and function that Doxygen
    finds in the headers is on the C++ API page (run after a docs build)."""
    import xml.etree.ElementTree as ET

    xml_dir = DOCS / "_build" / "doxygen" / "xml"
    if not (xml_dir / "index.xml").exists():
        pytest.skip("no Doxygen XML: build the documentation first")
    page = (DOCS / "api" / "cpp.rst").read_text()
    shown = set(re.findall(r"^\.\. doxygen\w+:: ([\w:]+)", page, re.MULTILINE))
    missing = []
    for compound in ET.parse(xml_dir / "index.xml").getroot().findall("compound"):
        kind, name = compound.get("kind"), compound.findtext("name")
        if kind in ("class", "struct"):
            definition = ET.parse(xml_dir / f"{compound.get('refid')}.xml").getroot().find("compounddef")
            nested = name.count("::") > 1
            if definition.get("prot") == "public" and not nested and name not in shown:
                missing.append(name)
        elif kind == "namespace" and name.startswith("dftracer") and "detail" not in name:
            for member in compound.findall("member"):
                if member.get("kind") in ("function", "enum", "typedef", "variable"):
                    qualified = f"{name}::{member.findtext('name')}"
                    if qualified not in shown:
                        missing.append(qualified)
    assert not missing, f"public C++ symbols missing from docs/api/cpp.rst: {sorted(set(missing))}"


def _built_inventory() -> set[tuple[str, str]]:
    """(role, name) of every object in the built site's objects.inv; the
    site is given by DFTRACER_DOCS_HTML (scripts/test-docs.sh sets it)."""
    import os
    import zlib

    html = os.environ.get("DFTRACER_DOCS_HTML")
    if not html or not (Path(html) / "objects.inv").exists():
        pytest.skip("set DFTRACER_DOCS_HTML to a built site to check the references")
    data = (Path(html) / "objects.inv").read_bytes()
    body = data.split(b"\n", 4)[4]
    entries = set()
    for line in zlib.decompress(body).decode().splitlines():
        m = re.match(r"(.+?)\s+(\S+:\S+)\s+-?\d+\s", line)
        if m:
            entries.add((m.group(2), m.group(1)))
    return entries


def test_python_reference_covers_public_api() -> None:
    """Every public name, every public Runtime/TaskHandle member, and the
    nanobind functions of _core (which autodoc misses unless conf.py teaches
    it) are documented on the built site."""
    import inspect

    import dftracer.utils as dft
    import dftracer.utils._core as core
    import dftracer.utils.dask as dask_plugin

    documented = {name for _, name in _built_inventory()}
    wanted = [f"dftracer.utils.{name}" for name in dft.__all__]
    wanted += [f"dftracer.utils.dask.{name}" for name in dask_plugin.__all__]
    for cls in (dft.Runtime, dft.TaskHandle):
        wanted += [f"dftracer.utils.{cls.__name__}.{m}" for m in vars(cls) if not m.startswith("_")]
    functions = [n for n in dir(core) if not n.startswith("_") and type(getattr(core, n)).__name__ == "nb_func"]
    assert functions, "no nanobind functions found in dftracer.utils._core"
    wanted += [f"dftracer.utils._core.{n}" for n in functions]
    wanted += [f"dftracer.utils._core.{n}" for n, v in vars(core).items() if inspect.isclass(v) and
               not n.startswith("_") and not issubclass(v, BaseException)]
    missing = sorted(name for name in wanted if name not in documented)
    assert not missing, f"not documented on the site: {missing}"


def _built_page(name: str) -> tuple[Path, str]:
    import os

    html = os.environ.get("DFTRACER_DOCS_HTML")
    if not html or not (Path(html) / name).exists():
        pytest.skip("set DFTRACER_DOCS_HTML to a built site to check its pictures")
    return Path(html), (Path(html) / name).read_text()


def _images_on(site: Path, page: str) -> list[Path]:
    """The image files a built page shows (img src and object data), each of
    which must exist in the site."""
    found = []
    for src in re.findall(r'<(?:img|object)[^>]*?(?:src|data)="([^"]+)"', page):
        path = (site / src).resolve()
        assert path.is_file(), f"{src} is referenced but missing from the built site"
        assert path.stat().st_size > 0, f"{src} is empty"
        found.append(path)
    return found


def test_generated_pictures_are_on_their_pages() -> None:
    """The pictures the build makes are on their pages: the timeline PNG drawn
    by rt.plot_timeline() and a watchdog report from real runs
    (docs/figures/), and the Graphviz figures of the design page, the task
    state machine among them."""
    site, watchdog = _built_page("watchdog.html")
    timeline = [p for p in _images_on(site, watchdog) if p.name == "timeline.png"]
    assert timeline, "watchdog.html does not show timeline.png"
    assert timeline[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", "timeline.png is not a PNG"
    terminal = re.search(r'<div class="terminal[^"]*".*?<pre>(.*?)</pre>', watchdog, re.S)
    assert terminal, "watchdog.html has no terminal block"
    text = re.sub(r"<[^>]+>", "", terminal.group(1))
    assert "$ python watchdog_report.py" in text and "deadlock: all 2 compute workers" in text, text
    assert "Python stack of worker" in text and "timeout: task 1 'merge_index'" in text, text

    _, design = _built_page("design.html")
    figures = [p for p in _images_on(site, design) if p.suffix == ".svg"]
    assert len(figures) >= 4, f"design.html shows {len(figures)} Graphviz figures, expected 4"
    states = [p for p in figures if all(s in p.read_text() for s in ("queued", "running", "cancelled", "failed"))]
    assert states, "design.html has no task state machine figure"


#: Widest code line that fits the page without a scrollbar (furo's content
#: column at its default font size holds about 90 monospace characters).
MAX_CODE_COLUMNS = 88


def test_code_blocks_fit_the_page() -> None:
    """No line of a code block on a built page is wider than the page, so
    nothing hides behind a sideways scrollbar. Program output (``Output``
    captions) and terminal blocks wrap instead (docs/_static/terminal.css),
    and the generated API pages show signatures, not code blocks."""
    import html
    import os

    site = os.environ.get("DFTRACER_DOCS_HTML")
    if not site or not (Path(site) / "index.html").exists():
        pytest.skip("set DFTRACER_DOCS_HTML to a built site to check its code blocks")
    too_wide = []
    for page in sorted(Path(site).glob("*.html")):
        text = page.read_text()
        for block in re.finditer(r'<div class="([^"]*)"><div class="highlight"><pre>(.*?)</pre>', text, re.S):
            opening = text.rfind("<div class=", 0, block.start())
            wrapper = text.rfind("literal-block-wrapper", 0, block.start())
            is_output = wrapper >= 0 and "output" in text[wrapper:text.find('"', wrapper)]
            if "terminal" in block.group(1) or (is_output and block.start() - wrapper < 600 and opening > wrapper):
                continue
            for line in html.unescape(re.sub(r"<[^>]+>", "", block.group(2))).splitlines():
                if len(line) > MAX_CODE_COLUMNS:
                    too_wide.append(f"{page.name}: {len(line)} columns: {line.strip()[:60]}...")
    assert not too_wide, "code lines wider than the page:\n" + "\n".join(too_wide)


def test_scripts_named_in_pages_exist() -> None:
    """Commands shown (``bash scripts/...``) name scripts that exist."""
    for page in PAGES:
        for match in re.finditer(r"\bbash (scripts/[\w./-]+)", page.read_text()):
            assert (ROOT / match.group(1)).is_file(), f"{page.name}: {match.group(1)} does not exist"


def test_harness_conventions() -> None:
    """The checks above catch what they claim to (the harness tests itself)."""
    block = Block(Path(DOCS / "runtime.rst"), 1, "code-block", "python", {},
                  "x = 3 + 4  # returns 7\nint('a')  # ValueError: invalid literal ...\n")
    run_python_block(block, {})
    wrong = Block(block.page, 1, "code-block", "python", {}, "x = 3  # returns 4\n")
    with pytest.raises(AssertionError):
        run_python_block(wrong, {})
    check_shape(parse_illustration('{"a": 1, "b": [{"c": "x", ...}], ...}'), {"a": 2, "b": [{"c": "y", "d": 1}]})
    with pytest.raises(AssertionError):
        check_shape({"missing": 1}, {"a": 1})


if __name__ == "__main__":  # pragma: no cover
    sys.exit(pytest.main([__file__, "-q"]))
