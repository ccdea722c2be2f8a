"""Summaries for course staff: the CSV (one row per submission) and a one-page HTML summary
(score distribution; per test the mean, full marks, and the most common diagnosed mistakes and
failures, read from the feedback). Self-contained HTML: no script, nothing loaded from the
network, every student-derived string escaped."""

from __future__ import annotations

import csv
import html
import re
from collections import Counter
from pathlib import Path
from typing import Any

MISTAKE = re.compile(r"likely mistake: \*\*(.+?)\*\*")
TRIAL = re.compile(r"^- trial \d+: (.+)$", re.MULTILINE)
NUMBERS = re.compile(r"-?\d+(\.\d+)?(e-?\d+)?")
BINS = 10
TOP = 3


def write_csv(path: Path, paths: list[Path], results: list[dict[str, Any]]) -> None:
    names = list(dict.fromkeys(t["name"] for r in results for t in r.get("tests", [])))
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["submission", "score", *names])
        for p, r in zip(paths, results):
            got = {t["name"]: t["score"] for t in r.get("tests", [])}
            writer.writerow([p.name, r.get("score", 0.0), *[got.get(n, "") for n in names]])


def _reasons(output: str) -> list[str]:
    """The named mistakes and failure messages of one test's feedback (numbers blanked)."""
    found = set(MISTAKE.findall(output))
    for line in TRIAL.findall(output):
        if line != "correct" and "elements wrong" not in line:
            line = line.split(" — ", 1)[-1]  # a diagnosed shape mistake: the diagnosis
            found.add(NUMBERS.sub("N", line)[:120])
    return sorted(found)


def _histogram(scores: list[float], maximum: float) -> list[tuple[str, int]]:
    width = maximum / BINS if maximum > 0 else 1.0
    counts = Counter(min(BINS - 1, int(s / width)) if maximum > 0 else 0 for s in scores)
    return [(f"{i * width:g}–{(i + 1) * width:g}", counts.get(i, 0)) for i in range(BINS)]


def _rows(paths: list[Path], results: list[dict[str, Any]]) -> list[str]:
    names = list(dict.fromkeys(t["name"] for r in results for t in r.get("tests", [])))
    rows = []
    for name in names:
        tests = [t for r in results for t in r.get("tests", []) if t["name"] == name]
        full = sum(t["score"] >= t["max_score"] for t in tests)
        reasons = Counter(reason for t in tests for reason in _reasons(t.get("output", "")))
        common = "<br>".join(f"{count}× {html.escape(reason)}" for reason, count in reasons.most_common(TOP))
        mean = sum(t["score"] for t in tests) / max(1, len(tests))
        rows.append(f"<tr><td>{html.escape(name)}</td><td>{mean:.2f} / {tests[0]['max_score']:g}</td>"
                    f"<td>{full} of {len(tests)}</td><td>{common or '—'}</td></tr>")
    return rows


def write_html(path: Path, title: str, paths: list[Path], results: list[dict[str, Any]]) -> None:
    scores = [float(r.get("score", 0.0)) for r in results]
    maximum = max((sum(t["max_score"] for t in r.get("tests", [])) for r in results), default=0.0)
    bins = _histogram(scores, maximum)
    tallest = max((c for _, c in bins), default=1) or 1
    bars = "".join(f"<tr><td>{label}</td><td><div class=bar style='width:{300 * c // tallest}px'></div></td>"
                   f"<td>{c}</td></tr>" for label, c in bins)
    mean = sum(scores) / max(1, len(scores))
    page = f"""<!doctype html><html><head><meta charset=utf-8><title>{html.escape(title)}: summary</title>
<style>body{{font:14px sans-serif;margin:2em}}td,th{{padding:2px 8px;text-align:left;vertical-align:top}}
.bar{{background:#4a7;height:12px}}table{{border-collapse:collapse}}tr:nth-child(even){{background:#f4f4f4}}</style>
</head><body><h1>{html.escape(title)}</h1>
<p>{len(results)} submissions; mean {mean:.2f} / {maximum:g}; full marks: {sum(s >= maximum for s in scores)}.</p>
<h2>Score distribution</h2><table>{bars}</table>
<h2>Tests</h2><table><tr><th>test</th><th>mean</th><th>full marks</th><th>most common mistakes and failures</th></tr>
{"".join(_rows(paths, results))}</table></body></html>
"""
    path.write_text(page)
