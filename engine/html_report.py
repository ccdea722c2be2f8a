"""The report as one self-contained HTML page (``report.to_html()``, ``crossgrad check --html``).

Rendered from the Report's data only: the graph as a layered DAG in inline SVG (each node
coloured by its verdict, culprits outlined), per leaf and pair of witnesses a heat map of
|a - b| / allowed over the leaf's elements (a PNG made here, downsampled by block maximum for
large leaves), the worst elements, closed forms as MathML when the report has them, and the
verdict, tier, finite-difference mode and timings. Its stylesheet is package data; nothing is
loaded from the network.
"""

from __future__ import annotations

import base64
import html
import struct
import zlib
from importlib import resources
from typing import Any

import numpy as np

from . import html_heat as heat
from .graph import Graph, Leaf, validate

HEAT_SIDE = 256  # a heat map has at most this many rows and columns of cells
WORST_LISTED = 10


def _esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _css() -> str:
    return resources.files("crossgrad.engine").joinpath("assets/report.css").read_text()


# --- heat maps -----------------------------------------------------------------------------------
def excess(pair: Any, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """|a - b| / allowed per element (allowed by the pair's tolerance; > 1 is off); inf where a
    value is not finite."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    tol = pair.tolerance
    with np.errstate(invalid="ignore", over="ignore"):
        finite = np.isfinite(a) & np.isfinite(b)
        scale = float(np.max(np.abs(np.where(finite, np.maximum(np.abs(a), np.abs(b)), 0)), initial=0.0))
        allowed = tol.atol * scale + tol.rtol * np.maximum(np.abs(a), np.abs(b)) + tol.floor
        ratio = np.abs(a - b) / np.maximum(allowed, 1e-300)
    return np.where(finite, ratio, np.inf)


def _as_2d(x: np.ndarray) -> np.ndarray:
    if x.ndim == 0:
        return x.reshape(1, 1)
    return x.reshape(1, -1) if x.ndim == 1 else x.reshape(-1, x.shape[-1])


def _block_max(x: np.ndarray) -> np.ndarray:
    """Downsample a 2-D array to at most HEAT_SIDE x HEAT_SIDE cells, each its block's maximum
    (so one wrong element still shows)."""
    rows, cols = x.shape
    fr, fc = -(-rows // HEAT_SIDE), -(-cols // HEAT_SIDE)
    padded = np.full((-(-rows // fr) * fr, -(-cols // fc) * fc), -np.inf)
    padded[:rows, :cols] = x
    return padded.reshape(padded.shape[0] // fr, fr, padded.shape[1] // fc, fc).max(axis=(1, 3))


def _colours(ratio: np.ndarray) -> np.ndarray:
    """RGB per cell: white (0) to green (at the tolerance), red above it, black if not finite."""
    rgb = np.empty(ratio.shape + (3,), np.uint8)
    t = np.clip(np.nan_to_num(ratio, nan=0.0, posinf=0.0), 0, 1)
    rgb[..., 0] = 255 - (255 - 26) * t
    rgb[..., 1] = 255 - (255 - 127) * t
    rgb[..., 2] = 255 - (255 - 55) * t
    over = ratio > 1
    heat = np.clip(np.log10(np.where(over, ratio, 1.0)) / 3, 0, 1)
    rgb[over] = np.stack([255 - 80 * heat[over], 80 * (1 - heat[over]), 60 * (1 - heat[over])], -1).astype(np.uint8)
    rgb[~np.isfinite(ratio)] = (0, 0, 0)
    return rgb


def png(rgb: np.ndarray) -> bytes:
    """A PNG file of an RGB uint8 image (height, width, 3), written without any imaging library."""
    height, width = rgb.shape[:2]
    raw = b"".join(b"\x00" + rgb[r].tobytes() for r in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


def _heat_map(leaf: Any, pair: Any) -> str:
    a, b = (leaf.grads.get(w) for w in pair.witnesses)
    if a is None or b is None or pair.tolerance is None or np.shape(a) != np.shape(b):
        return ""
    off = heat.off_mask(pair, np.shape(a))
    ratio, excused = heat.shown(excess(pair, a, b), off)
    cells = _block_max(_as_2d(ratio))
    rgb = _colours(cells)
    rgb[(_block_max(_as_2d(excused.astype(float))) > 0) & (cells <= 1)] = heat.EXCUSED_RGB
    uri = "data:image/png;base64," + base64.b64encode(png(rgb)).decode()
    title = f"{pair.witnesses[0]} ~ {pair.witnesses[1]}"
    return (f'<div class="heat" data-pair="{_esc(title)}" data-off="{int(np.sum(ratio > 1))}" '
            f'data-excused="{int(excused.sum())}"><div>{_esc(title)}: {pair.mismatched}/{pair.total} off'
            + (f", {int(excused.sum())} excused (blue: kink convention or rounding)" if excused.any() else "")
            + f'</div><img alt="|a-b|/allowed for {_esc(title)}" src="{uri}" data-rows="{cells.shape[0]}" '
            f'data-cols="{cells.shape[1]}">{_worst_table(ratio, a, b, pair, heat.worst_rows(pair, off, WORST_LISTED))}'
            "</div>")


def _worst_table(ratio: np.ndarray, a: np.ndarray, b: np.ndarray, pair: Any, listed: list | None = None) -> str:
    """The worst elements: the pair's own list when complete, else those over the ratio."""
    if listed is None:
        flat = ratio.ravel()
        order = [k for k in np.argsort(-np.nan_to_num(flat, posinf=np.finfo(float).max))[:WORST_LISTED]
                 if flat[k] > 1]
        listed = [(tuple(int(i) for i in np.unravel_index(k, ratio.shape)), np.ravel(a)[k], np.ravel(b)[k], flat[k])
                  for k in order]
    if not listed:
        return ""
    rows = "".join(f"<tr><td>{list(index)}</td><td>{va:.6g}</td><td>{vb:.6g}</td><td>{e:.3g}</td></tr>"
                   for index, va, vb, e in listed)
    return (f'<table class="worst"><tr><th>index</th><th>{_esc(pair.witnesses[0])}</th>'
            f"<th>{_esc(pair.witnesses[1])}</th><th>|a-b| / allowed</th></tr>{rows}</table>")


# --- the graph -----------------------------------------------------------------------------------
def _layers(graph: Graph) -> dict[str, int]:
    depth: dict[str, int] = {}
    for node in graph.nodes:
        inputs = [] if isinstance(node, Leaf) else [i for i in node.inputs if i]
        depth[node.name] = 1 + max((depth.get(i, 0) for i in inputs), default=-1)
    return depth


def _dag(graph: Graph, report: Any, culprits: dict[str, list[str]]) -> str:
    depth, plan = _layers(graph), validate(graph)
    leaf_verdicts = {leaf.name: leaf.verdict for leaf in report.leaves}
    slots: dict[int, int] = {}
    where: dict[str, tuple[int, int]] = {}
    for node in graph.nodes:
        d = depth[node.name]
        where[node.name] = (20 + 190 * d, 20 + 56 * slots.get(d, 0))
        slots[d] = slots.get(d, 0) + 1
    width = 20 + 190 * (max(depth.values()) + 1)
    height = 20 + 56 * max(slots.values())
    edges, boxes = [], []
    for i, node in enumerate(graph.nodes):
        x, y = where[node.name]
        for src in ([] if isinstance(node, Leaf) else [s for s in node.inputs if s]):
            sx, sy = where[src]
            edges.append(f'<line x1="{sx + 160}" y1="{sy + 18}" x2="{x}" y2="{y + 18}"/>')
        boxes.append(_box(node, x, y, plan.shapes[i], report, leaf_verdicts, culprits, graph.output))
    return (f'<svg class="dag" width="{width}" height="{height}" xmlns="http://www.w3.org/2000/svg">'
            '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="6" markerHeight="6" '
            'orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#8c959f"/></marker></defs>'
            + "".join(edges) + "".join(boxes) + "</svg>")


FILL = {"agree": "#dafbe1", "convention": "#ddf4ff", "mismatch": "#ffebe9", "non_finite": "#fff8c5",
        "skipped": "#f6f8fa", "unresolved": "#f6f8fa"}


def _box(node: Any, x: int, y: int, shape: tuple[int, ...], report: Any, leaf_verdicts: dict[str, str],
         culprits: dict[str, list[str]], output: str = "") -> str:
    is_leaf = isinstance(node, Leaf)
    verdict = leaf_verdicts.get(node.name, "skipped" if is_leaf else "")
    culprit = node.name in culprits
    fill = "#ffebe9" if culprit else FILL.get(verdict, "#ffffff")
    kind = "leaf" if is_leaf else f"{node.op} · {report.grad_fns.get(node.name, '')}"
    label = f"{node.name} {list(shape)}"
    title = f"{node.name}: {kind}; shape {list(shape)}" + (f"; verdict {verdict}" if verdict else "")
    title += "; the loss (the checked output)" if node.name == output else ""
    title += "".join(f"; CULPRIT: {text}" for text in culprits.get(node.name, []))
    return (f'<g class="node{" culprit-node" if culprit else ""}" data-node="{_esc(node.name)}" '
            f'data-verdict="{_esc(verdict)}"><title>{_esc(title)}</title>'
            f'<rect x="{x}" y="{y}" width="160" height="38" fill="{fill}"/>'
            f'<text x="{x + 6}" y="{y + 15}">{_esc(label[:26])}</text>'
            f'<text x="{x + 6}" y="{y + 30}">{_esc(kind[:28])}</text></g>')


# --- the page ------------------------------------------------------------------------------------
def _culprits(report: Any) -> tuple[str, dict[str, list[str]]]:
    """The culprits' section, and each culprit node's own messages (its hover text in the graph)."""
    found = list(getattr(report, "culprits", None) or [])
    if not found:
        return "", {}
    items = "".join(f'<div class="culprit">{_esc(c)}</div>' for c in found)
    by_node: dict[str, list[str]] = {}
    for c in found:
        by_node.setdefault(getattr(c, "node", ""), []).append(str(c))
    return f"<h2>Where the bug is</h2>{items}", by_node


def _closed_forms(leaf: Any) -> str:
    mathml = getattr(leaf, "closed_form_mathml", None)
    forms = mathml or leaf.closed_form
    if not forms:
        return ""
    cells = [f"<tr><td>d/d{_esc(leaf.name)}{list(idx)}</td><td>{f if mathml else _esc(f)}</td></tr>"
             for idx, f in zip(np.ndindex(leaf.shape), forms)]
    return f"<details><summary>closed forms</summary><table>{''.join(cells)}</table></details>"


def _leaf_section(leaf: Any) -> str:
    rows = "".join(
        f'<tr><td>{_esc(" ~ ".join(p.witnesses))}</td><td><span class="badge v-{_esc(p.verdict)}">'
        f"{_esc(p.verdict)}</span></td><td>{p.mismatched}/{p.total}</td><td>{p.max_abs:.3g}</td>"
        f"<td>{p.max_rel:.3g}</td><td>{p.max_ulp:.3g}</td><td>{_esc(p.tolerance or '')}</td></tr>"
        for p in leaf.pairs)
    suspect = f" — suspect: <b>{_esc(leaf.suspect)}</b>" if leaf.suspect else ""
    return (f'<section class="leaf" data-leaf="{_esc(leaf.name)}"><h3>{_esc(leaf.name)} {list(leaf.shape)} '
            f'{_esc(leaf.dtype)} <span class="badge v-{_esc(leaf.verdict)}">{_esc(leaf.verdict)}</span>{suspect}'
            "</h3><table><tr><th>pair</th><th>verdict</th><th>off</th><th>max abs</th><th>max rel</th>"
            f"<th>ulp</th><th>tolerance</th></tr>{rows}</table>"
            + "".join(_heat_map(leaf, p) for p in leaf.pairs) + _closed_forms(leaf) + "</section>")


def render(report: Any, graph: Graph | None = None) -> str:
    """The whole page for ``report`` (and its graph, drawn when given)."""
    culprit_html, culprit_nodes = _culprits(report)
    timings = ", ".join(f"{k} {v * 1e3:.1f} ms" for k, v in report.timings.items())
    notes = "".join(f"<li>{_esc(n)}</li>" for n in report.notes)
    body = (f'<h1>crossgrad check: <span id="verdict" class="badge v-{_esc(report.verdict)}">'
            f"{_esc(report.verdict.upper())}</span></h1>"
            f'<p class="meta">symbolic tier: {_esc(report.tier)} ({_esc(report.tier_reason)}); finite differences: '
            f"{_esc(report.finite_difference)}; timings: {_esc(timings)}</p>"
            + (f"<ul>{notes}</ul>" if notes else "") + culprit_html
            + (f"<h2>Graph</h2>{_dag(graph, report, culprit_nodes)}" if graph is not None else "")
            + '<h2>Leaves</h2><p class="legend"><span style="background:#fff"></span>0 '
              '<span style="background:#1a7f37"></span>at the tolerance <span style="background:#ff5030">'
              '</span>over it <span style="background:#0969da"></span>excused (kink, rounding) '
              '<span style="background:#000"></span>not finite '
              "(cells of large leaves show their block's maximum)</p>"
            + "".join(_leaf_section(leaf) for leaf in report.leaves))
    return ('<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>crossgrad report</title>'
            f"<style>{_css()}</style></head><body>{body}</body></html>")
