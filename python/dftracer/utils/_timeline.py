"""Per-worker timeline pictures of what a runtime ran (needs matplotlib)."""

from __future__ import annotations

import gzip
import json
import os
from typing import Any, Optional, Union

CATEGORY_COLOURS = {
    "python (compute)": "#3572A5",
    "python (io)": "#4CAF50",
    "compute": "#E07B39",
    "io": "#8BC34A",
    "coroutine": "#9C27B0",
}


def _label(event: dict[str, Any]) -> str:
    category = event.get("cat", "")
    if category == "python":
        return f"python ({event.get('args', {}).get('pool', 'compute')})"
    return str(category)


def load_events(source: Any) -> list[dict[str, Any]]:
    """Complete events from a Runtime, a Chrome trace (.json) or a DFTracer
    trace (.pfw / .pfw.gz)."""
    events: list[dict[str, Any]]
    if hasattr(source, "_core"):
        events = json.loads(source._core.render_trace("chrome"))["traceEvents"]
        return events
    path = os.fspath(source)
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as f:
        text = f.read()
    if path.endswith(".json"):
        events = json.loads(text)["traceEvents"]
        return events
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def plot_timeline(source: Any, path: Optional[Union[str, os.PathLike[str]]] = None, *, ax: Any = None,
                  title: str = "dftracer-utils timeline") -> Any:
    """Draw one row per worker with a bar per task, coloured by category
    (Python tasks by the pool they ran on).

    ``source`` is a :class:`~dftracer.utils.Runtime` or a trace file written
    by :meth:`~dftracer.utils.Runtime.export_trace`. Saves a PNG to ``path``
    when given; returns the matplotlib Axes.
    """
    try:
        import matplotlib

        if ax is None and path is not None:
            matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as error:
        raise ImportError('plot_timeline needs matplotlib: pip install "dftracer-utils[plot]"') from error

    events = [e for e in load_events(source) if e.get("ph") == "X"]
    if ax is None:
        _, ax = plt.subplots(figsize=(10, 1 + 0.5 * max(1, len({e["tid"] for e in events}))))
    if not events:
        ax.set_title(f"{title} (no tasks recorded)")
        return ax
    origin = min(e["ts"] for e in events)
    workers = sorted({e["tid"] for e in events})
    for row, worker in enumerate(workers):
        for category, colour in CATEGORY_COLOURS.items():
            spans = [((e["ts"] - origin) / 1e3, max(e["dur"] / 1e3, 1e-3)) for e in events
                     if e["tid"] == worker and _label(e) == category]
            if spans:
                ax.broken_barh(spans, (row - 0.4, 0.8), facecolors=colour, label=category)
    ax.set_yticks(range(len(workers)), [f"worker {w}" for w in workers])
    ax.set_xlabel("time (ms)")
    ax.set_title(title)
    handles, labels = ax.get_legend_handles_labels()
    unique = dict(zip(labels, handles, strict=False))
    ax.legend(unique.values(), unique.keys(), loc="upper right", fontsize="small")
    if path is not None:
        ax.figure.tight_layout()
        ax.figure.savefig(path, dpi=120)
    return ax
