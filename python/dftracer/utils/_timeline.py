"""Timeline pictures of real DFTracer traces, of what a runtime ran, or of
both merged (needs matplotlib)."""

from __future__ import annotations

import json
import math
import os
import zlib
from collections.abc import Iterable
from typing import Any, Optional, Union

from .traces import RUNTIME_CATEGORIES

#: Colours of the runtime's own categories; any other category gets a
#: colour picked from its name (the same name, the same colour, every run).
CATEGORY_COLOURS = {
    "python (compute)": "#3572A5",
    "python (io)": "#4CAF50",
    "compute": "#E07B39",
    "io": "#8BC34A",
    "coroutine": "#9C27B0",
    "POSIX": "#D62728",
    "STDIO": "#FF7F0E",
    "dftracer": "#7F7F7F",
}
PALETTE = ["#1f77b4", "#d62728", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22",
           "#17becf", "#393b79", "#ad494a", "#8c6d31", "#637939", "#7b4173", "#3182bd"]
OTHER = "other"

Timeline = tuple[list[dict[str, Any]], dict[tuple[int, int], str]]


def colours_of(labels: Iterable[str]) -> dict[str, str]:
    """Stable colours for category labels: fixed ones for known categories,
    others picked from the name (probing past colours already taken)."""
    out = {label: CATEGORY_COLOURS[label] for label in labels if label in CATEGORY_COLOURS}
    taken = set(out.values())
    for label in sorted(set(labels) - set(out)):
        start = zlib.crc32(label.encode()) % len(PALETTE)
        free = [PALETTE[(start + i) % len(PALETTE)] for i in range(len(PALETTE))]
        out[label] = next((c for c in free if c not in taken), free[0])
        taken.add(out[label])
    return out


def _thread(key: tuple[int, int]) -> str:
    return "main thread" if key[0] == key[1] else f"tid {key[1]}"


def _label(event: dict[str, Any]) -> str:
    category = str(event.get("cat", ""))
    if category == "python":
        args = event.get("args")
        pool = args.get("pool", "compute") if isinstance(args, dict) else "compute"
        return f"python ({pool})"
    return category


def _real(value: Any) -> bool:
    """A finite int or float (not a bool): what a time or an id must be."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _drawable(events: list[Any]) -> tuple[list[dict[str, Any]], int]:
    """The events whose ``ts``, ``dur``, ``pid`` and ``tid`` are numbers
    (missing ones count as 0, but not ``ts``), and how many others were left
    out: a trace may hold events whose fields have the wrong type."""
    kept: list[dict[str, Any]] = []
    for e in events:
        if (isinstance(e, dict) and _real(e.get("ts"))
                and all(_real(e.get(key, 0)) for key in ("dur", "pid", "tid"))):
            kept.append(e)
    return kept, len(events) - len(kept)


def _chrome(text: str) -> Timeline:
    doc = json.loads(text)
    raw = doc.get("traceEvents", []) if isinstance(doc, dict) else doc
    if not isinstance(raw, list):
        raise ValueError("a Chrome trace must be a list of events or an object with a traceEvents list")
    raw = [e for e in raw if isinstance(e, dict)]
    names = {(int(e.get("pid", 0)), int(e.get("tid", 0))): str(e["args"].get("name", "")) for e in raw
             if e.get("ph") == "M" and e.get("name") == "thread_name" and isinstance(e.get("args"), dict)
             and _real(e.get("pid", 0)) and _real(e.get("tid", 0))}
    return [e for e in raw if e.get("ph") in ("X", 1)], names


def _load_one(source: Any) -> Timeline:
    from .traces import TraceSet, read_traces

    if hasattr(source, "_core"):
        return _chrome(source._core.render_trace("chrome"))
    if isinstance(source, TraceSet):
        return source.events, source.threads
    path = os.fspath(source)
    if path.endswith(".json"):
        with open(path, encoding="utf-8") as f:
            return _chrome(f.read())
    traces = read_traces(path)
    return traces.events, traces.threads


def load_events(source: Any) -> Timeline:
    """Complete events and thread names from a Runtime, a
    :class:`~dftracer.utils.traces.TraceSet`, a Chrome trace (.json), a
    DFTracer trace (.pfw / .pfw.gz) or a directory of them, or a list of
    any of these (merged)."""
    if isinstance(source, (list, tuple)):
        events: list[dict[str, Any]] = []
        names: dict[tuple[int, int], str] = {}
        for item in source:
            more, more_names = _load_one(item)
            events.extend(more)
            names.update(more_names)
        return events, names
    return _load_one(source)


def _legend_order(events: Iterable[dict[str, Any]], max_categories: int) -> tuple[list[str], dict[str, str]]:
    """Categories by total time, the tail beyond ``max_categories`` folded
    into ``other``: (legend order, label -> shown label)."""
    busy: dict[str, float] = {}
    for e in events:
        label = _label(e)
        busy[label] = busy.get(label, 0.0) + max(float(e.get("dur", 0) or 0), 1.0)
    ranked = sorted(busy, key=lambda k: (-busy[k], k))
    shown = {k: (k if i < max_categories else OTHER) for i, k in enumerate(ranked)}
    order = ranked[:max_categories] + ([OTHER] if len(ranked) > max_categories else [])
    return order, shown


def plot_timeline(source: Any, path: Optional[Union[str, os.PathLike[str]]] = None, *, ax: Any = None,
                  title: str = "dftracer-utils timeline", max_categories: int = 12) -> Any:
    """Draw one row per thread (``pid``, ``tid``) with a bar per event,
    coloured by category: the runtime's tasks (Python tasks by pool) as
    tall bars, an application's traced calls (POSIX, STDIO, ...) as thin
    bars over them, so a merged trace shows which task made which call.

    ``source`` is a :class:`~dftracer.utils.Runtime`, a trace file written by
    :meth:`~dftracer.utils.Runtime.export_trace` or by DFTracer, a directory
    of traces, a :class:`~dftracer.utils.traces.TraceSet`, or a list of these
    drawn together. Rows are named from ``thread_name`` metadata. The legend
    lists the ``max_categories`` busiest categories, the rest as ``other``,
    outside the plot. Saves a PNG to ``path`` when given; returns the
    matplotlib Axes.
    """
    try:
        import matplotlib

        if ax is None and path is not None:
            matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        from matplotlib.patches import Patch
    except ImportError as error:
        raise ImportError('plot_timeline needs matplotlib: pip install "dftracer-utils[plot]"') from error
    if isinstance(max_categories, bool) or not isinstance(max_categories, int) or max_categories < 1:
        raise ValueError(f"max_categories must be a positive int, got {max_categories!r}")

    loaded, names = load_events(source)
    events, left_out = _drawable(loaded)
    if left_out:
        title = f"{title} ({left_out} event(s) with fields of the wrong type left out)"
    rows = sorted({(int(e.get("pid", 0)), int(e.get("tid", 0))) for e in events})
    if ax is None:
        _, ax = plt.subplots(figsize=(11, 1.2 + 0.45 * max(1, len(rows))))
    if not events:
        ax.set_title(f"{title} (no events recorded)")
        return ax
    origin = min(e["ts"] for e in events)
    order, shown = _legend_order(events, max_categories)
    colours = colours_of(order)
    colours[OTHER] = "#BDBDBD"
    row_of = {key: i for i, key in enumerate(rows)}
    spans: dict[tuple[int, str, bool], list[tuple[float, float]]] = {}
    for e in events:
        category = str(e.get("cat", ""))
        key = (row_of[(int(e.get("pid", 0)), int(e.get("tid", 0)))], shown[_label(e)], category in RUNTIME_CATEGORIES)
        spans.setdefault(key, []).append(((e["ts"] - origin) / 1e3, max(float(e.get("dur", 0) or 0) / 1e3, 1e-3)))
    for tall in (True, False):  # the application's calls drawn over the runtime's tasks
        for (row, label, is_task), bars in spans.items():
            if is_task == tall:
                height = 0.8 if tall else 0.4
                ax.broken_barh(bars, (row - height / 2, height), facecolors=colours[label], zorder=2 if tall else 3)
    ax.set_yticks(range(len(rows)), [f"{key[0]}: {names.get(key, _thread(key))}" for key in rows],
                  fontsize="small")
    ax.set_ylim(-0.6, len(rows) - 0.4)
    ax.invert_yaxis()
    ax.set_xlabel("time (ms)")
    ax.set_ylabel("pid: thread")
    ax.set_title(title)
    handles = [Patch(facecolor=colours[k], label=k) for k in order]
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small",
              ncol=1 if len(handles) <= 14 else 2, frameon=False, title="category")
    if path is not None:
        ax.figure.tight_layout()
        ax.figure.savefig(path, dpi=120, bbox_inches="tight")
    return ax
