"""``crossgrad grade --html-dir``: per problem, the HTML report of its reference check, for course
staff (the graph, the witnesses' agreement, closed forms when the hint asks for them; for an
invalid problem, the check that made it invalid, with the culprit node when one is found)."""

from __future__ import annotations

from pathlib import Path

from crossgrad.engine.html_report import render

from .assignment import Reference


def write_pages(refs: list[Reference], folder: Path) -> list[Path]:
    """One ``<problem>.html`` per problem whose reference was checked; the paths written."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for ref in refs:
        if ref.report is None:
            continue
        path = folder / f"{ref.problem.name}.html"
        path.write_text(render(ref.report, ref.graph))
        written.append(path)
    return written
