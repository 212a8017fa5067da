"""Sphinx configuration for the dftracer-utils documentation.

The Python API is documented from the *installed* package (the compiled
``_core`` module exists only there), so this file never touches sys.path.
The C++ API comes from the public headers: Doxygen writes XML into
``_build/doxygen`` when the build starts and Breathe renders it.
"""

from __future__ import annotations

import datetime
import re
import shutil
import subprocess
import sys
from pathlib import Path

from docutils import nodes
from docutils.parsers.rst import Directive, directives

import dftracer.utils

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent

project = "dftracer-utils"
author = "dftracer-utils developers"
copyright = f"{datetime.date.today().year}, {author}"
release = dftracer.utils.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.intersphinx",
    "breathe",
    "sphinx.ext.graphviz",
]
graphviz_output_format = "svg"

exclude_patterns = ["_build", "_generated", "Thumbs.db", ".DS_Store", "examples", "perf", "figures"]
templates_path: list[str] = []
html_static_path = ["_static"]
html_css_files = ["terminal.css"]
html_theme = "furo"
html_title = f"dftracer-utils {release}"
pygments_style = "sphinx"
pygments_dark_style = "monokai"

# The Python API: signatures from the code, members in source order.
autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autodoc_default_options = {"show-inheritance": True}
add_module_names = False

# Cross-references to the standard library resolve offline: intersphinx has
# no inventory here (it would need the network), so -n would flag them.
intersphinx_mapping: dict[str, tuple[str, str | None]] = {}
nitpicky = True
nitpick_ignore_regex = [
    # Standard-library and typing names in signatures and docstrings.
    ("py:class", r"(concurrent\.futures\.|asyncio\.|collections\.(abc\.)?|typing\.|weakref\.|os\.).*"),
    ("py:(func|mod|meth|data)", r"(threading|functools|concurrent|os|sys|asyncio|logging|inspect)(\..*)?"),
    ("py:class", r"(Callable|Iterable|Iterator|Generator|Any|Optional|TimeoutError|BaseException|"
                 r"Exception|RuntimeError|ValueError|TypeError|int|float|str|bool|dict|list|tuple|object)"),
    ("py:class", r"(distributed\.)?(diagnostics\.plugin\.)?WorkerPlugin"),
    ("py:class", r"_core\..*|dftracer\.utils\._core\.Task"),
    ("py:exc", r"(concurrent\.futures\.)?CancelledError|TimeoutError|KeyboardInterrupt"),
    ("py:obj", r"(typing|collections\.abc)\..*"),
    # Type variables of generic signatures (TaskHandle[T], submit's P and R).
    ("py:(class|obj)", r"(dftracer\.utils\._\w+\.)?(T|R|W|P|S|T1|T2)"),
    # C++: the standard library and implementation details behind public types.
    ("cpp:identifier", r"(std|detail|dftracer::detail)(::.*)?"),
    ("cpp:identifier", r"(Rep|Period|F|T|Promise|size_t|uint64_t|uint8_t|int64_t)"),
    # Namespaces (Breathe declares no target for them), members of std types
    # reached through aliases, and coroutine machinery in signatures.
    ("cpp:identifier", r"dftracer(::this_task)?|clock::time_point|co_await|promise_type|impl"),
]

# ---------------------------------------------------------------- C++ (Doxygen)

DOXYGEN_OUT = DOCS / "_build" / "doxygen"
breathe_projects = {"dftracer": str(DOXYGEN_OUT / "xml")}
breathe_default_project = "dftracer"
breathe_default_members = ("members",)
breathe_show_include = True
cpp_index_common_prefix = ["dftracer::"]

DOXYFILE = f"""
PROJECT_NAME           = dftracer-utils
OUTPUT_DIRECTORY       = {DOXYGEN_OUT}
INPUT                  = {ROOT / "libs/executor/include/dftracer"} {ROOT / "libs/watchdog/include/dftracer"}
RECURSIVE              = YES
FILE_PATTERNS          = *.hpp
EXCLUDE_PATTERNS       = */detail/*
EXCLUDE_SYMBOLS        = dftracer::detail dftracer::detail::* detail
STRIP_FROM_PATH        = {ROOT / "libs/executor/include"} {ROOT / "libs/watchdog/include"}
STRIP_FROM_INC_PATH    = {ROOT / "libs/executor/include"} {ROOT / "libs/watchdog/include"}
FULL_PATH_NAMES        = YES
GENERATE_XML           = YES
GENERATE_HTML          = NO
GENERATE_LATEX         = NO
EXTRACT_ALL            = NO
EXTRACT_PRIVATE        = NO
HIDE_UNDOC_MEMBERS     = NO
JAVADOC_AUTOBRIEF      = YES
QT_AUTOBRIEF           = YES
MARKDOWN_SUPPORT       = NO
ENABLE_PREPROCESSING   = YES
MACRO_EXPANSION        = NO
QUIET                  = YES
WARNINGS               = NO
WARN_IF_UNDOCUMENTED   = NO
WARN_LOGFILE           = {DOXYGEN_OUT / "warnings.log"}
"""


def run_doxygen(app) -> None:
    """Regenerate the C++ XML. Doxygen's own warnings go to a log file and
    never fail the build; a missing doxygen does (the C++ reference would be
    empty)."""
    doxygen = shutil.which("doxygen")
    if doxygen is None:
        raise RuntimeError("doxygen is not installed (Debian: apt-get install doxygen)")
    if DOXYGEN_OUT.exists():
        shutil.rmtree(DOXYGEN_OUT)
    DOXYGEN_OUT.mkdir(parents=True)
    subprocess.run([doxygen, "-"], input=DOXYFILE, text=True, check=True,
                   stdout=subprocess.DEVNULL, cwd=ROOT)


# ------------------------------------------- pictures made by the runtime itself
#
# Pictures of the product are generated when the site is built, never drawn
# by hand or committed: each script in docs/figures/ runs the real runtime
# with the interpreter that builds the docs and writes into docs/_generated/
# (git-ignored), which the pages include. A script that fails fails the build.

GENERATED = DOCS / "_generated"
FIGURES = DOCS / "figures"


def _run_figure_script(script: str, *args: str, capture: bool = False) -> str:
    result = subprocess.run([sys.executable, "-u", str(FIGURES / script), *args], cwd=FIGURES,
                            stdout=subprocess.PIPE if capture else None, stderr=subprocess.STDOUT,
                            text=True, timeout=120, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"docs/figures/{script} failed ({result.returncode}):\n{result.stdout or ''}")
    return result.stdout or ""


def generate_figures(app) -> None:
    """The timeline PNG from rt.plot_timeline() and the terminal text of a
    watchdog report, each from a real run (see the scripts' docstrings)."""
    GENERATED.mkdir(exist_ok=True)
    _run_figure_script("timeline.py", str(GENERATED / "timeline.png"))
    # The Traces page: a workload run under the real tracer (needs
    # pip install --no-deps dftracer), its I/O calls over the runtime's tasks.
    _run_figure_script("merged_timeline.py", str(GENERATED / "merged-timeline.png"))
    output = _run_figure_script("watchdog_report.py", capture=True)
    # Shorten the absolute paths in the Python stacks, as a reader's own
    # terminal would show their own paths: the script by its name, the
    # package from its directory.
    package = Path(dftracer.utils.__file__).resolve().parent
    output = output.replace(f"{FIGURES}/", "").replace(f"{package}/", ".../dftracer/utils/")
    (GENERATED / "watchdog-report.txt").write_text("$ python watchdog_report.py\n" + output)


# ------------------------------------------------- nanobind functions (#13868)
#
# nanobind functions and methods are nb_func / nb_method objects, which
# inspect.isroutine() does not recognise: automodule would skip them or list
# them as data. Sphinx's own inspection helpers are taught about them here.

def _is_nanobind_routine(obj) -> bool:
    return type(obj).__name__ in {"nb_func", "nb_method", "nb_bound_method"}


def _patch_inspect_for_nanobind() -> None:
    import sphinx.util.inspect as sphinx_inspect

    original_isroutine = sphinx_inspect.isroutine
    original_isbuiltin = sphinx_inspect.isbuiltin

    def isroutine(obj):
        return original_isroutine(obj) or _is_nanobind_routine(obj)

    def isbuiltin(obj):
        return original_isbuiltin(obj) or _is_nanobind_routine(obj)

    sphinx_inspect.isroutine = isroutine
    sphinx_inspect.isbuiltin = isbuiltin


_patch_inspect_for_nanobind()


# ------------------------------------------- header contracts (file comments)

class HeaderContract(Directive):
    """``.. header-contract:: libs/.../file.hpp`` renders the header's leading
    ``//`` comment (its stated contract: thread-safety, ownership, lifetime),
    read from the file at build time so the page cannot drift from it."""

    required_arguments = 1
    has_content = False

    def run(self):
        path = ROOT / self.arguments[0]
        env = self.state.document.settings.env
        env.note_dependency(str(path))
        paragraphs: list[list[str]] = [[]]
        for line in path.read_text().splitlines():
            if not line.startswith("//"):
                break
            text = line[2:].strip()
            if text:
                paragraphs[-1].append(text)
            elif paragraphs[-1]:
                paragraphs.append([])
        result = []
        for lines in paragraphs:
            if lines:
                result.append(nodes.paragraph(text=" ".join(lines)))
        if not result:
            raise self.error(f"{path} has no leading comment")
        container = nodes.container(classes=["header-contract"])
        container += nodes.rubric(text=f"Contract stated in {self.arguments[0].split('include/')[-1]}")
        container.extend(result)
        return [container]


def mark_output_blocks(app, doctree) -> None:
    """A code block captioned "Output" shows what a program printed: give
    its container the class ``output`` so that long lines wrap, as they
    would in a terminal, instead of scrolling sideways (terminal.css)."""
    for container in doctree.findall(nodes.container):
        if not container.get("literal_block"):
            continue
        captions = [c for c in container.children if isinstance(c, nodes.caption)]
        if captions and captions[0].astext().strip() == "Output":
            container["classes"].append("output")


def resolve_private_module_paths(app, env, node, contnode):
    """Annotations name public classes by the private module that defines
    them (``dftracer.utils._handle.TaskHandle``); resolve those to the public
    name the reference documents (``dftracer.utils.TaskHandle``)."""
    target = node.get("reftarget", "")
    match = re.fullmatch(r"dftracer\.utils\._\w+\.(\w+)", target)
    if node.get("refdomain") != "py" or match is None or not hasattr(dftracer.utils, match.group(1)):
        return None
    domain = env.get_domain("py")
    return domain.resolve_xref(env, node["refdoc"], app.builder, node["reftype"], f"dftracer.utils.{match.group(1)}",
                               node, contnode)


def setup(app):
    app.connect("builder-inited", run_doxygen)
    app.connect("builder-inited", generate_figures)
    app.connect("missing-reference", resolve_private_module_paths)
    app.connect("doctree-read", mark_output_blocks)
    directives.register_directive("header-contract", HeaderContract)
    return {"parallel_read_safe": True}

