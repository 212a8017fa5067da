"""Check the internal links of a built HTML site, offline.

Every relative ``href`` and ``src`` in every page must name a file that
exists in the build, and every ``#anchor`` must be an ``id`` (or ``name``) in
the page it points to. External links (with a scheme, or ``//host``) are not
followed: the check needs no network.

Usage: python docs/check_links.py BUILD_DIR   (exit status 1 on broken links)
"""

from __future__ import annotations

import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()
        self.links: list[tuple[str, str]] = []  # (attribute, value)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if value is None:
                continue
            if name == "id" or (name == "name" and tag == "a"):
                self.ids.add(value)
            elif name in ("href", "src") and tag not in ("base",):
                self.links.append((name, value))


def _parse(path: Path, cache: dict[Path, _Page]) -> _Page:
    page = cache.get(path)
    if page is None:
        page = _Page()
        page.feed(path.read_text(encoding="utf-8", errors="replace"))
        cache[path] = page
    return page


def check(root: Path) -> list[str]:
    root = root.resolve()
    cache: dict[Path, _Page] = {}
    problems: list[str] = []
    pages = sorted(root.rglob("*.html"))
    for page_path in pages:
        page = _parse(page_path, cache)
        for attribute, value in page.links:
            parts = urlsplit(value)
            if parts.scheme or value.startswith("//") or value.startswith("mailto:"):
                continue  # external
            where = f"{page_path.relative_to(root)}: {attribute}={value!r}"
            if parts.path:
                target = (page_path.parent / unquote(parts.path)).resolve()
                if parts.path.endswith("/"):
                    target = target / "index.html"
            else:
                target = page_path  # "#anchor" in the same page
            if not target.is_relative_to(root):
                problems.append(f"{where}: points outside the site")
                continue
            if not target.exists():
                problems.append(f"{where}: {target.relative_to(root)} does not exist")
                continue
            if parts.fragment and target.suffix == ".html":
                anchor = unquote(parts.fragment)
                if anchor not in _parse(target, cache).ids:
                    problems.append(f"{where}: no id {anchor!r} in {target.relative_to(root)}")
    if not pages:
        problems.append(f"no HTML pages under {root}")
    return problems


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[-1].strip(), file=sys.stderr)
        return 2
    root = Path(argv[1])
    problems = check(root)
    for problem in problems:
        print(problem)
    pages = len(list(root.rglob("*.html")))
    if problems:
        print(f"check_links: {len(problems)} broken internal link(s) in {pages} pages")
        return 1
    print(f"check_links: every internal link and anchor resolves ({pages} pages)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
