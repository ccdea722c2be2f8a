"""The HTML report (issue 15): self-contained, drawn from the report's data, right where it
points — checked as data here, and in a real browser (headless Chromium) where one is installed."""

from __future__ import annotations

import shutil
import struct
import time
import zlib

import crossgrad as torch
import numpy as np
import pytest
from crossgrad.engine.compare import PairComparison
from crossgrad.engine.html_report import _block_max, excess, png, render
from crossgrad.engine.numeric.export import to_graph
from crossgrad.engine.numeric.rules import RULES
from crossgrad.engine.numeric.ruletools import Rule
from crossgrad.engine.report import LeafReport, Report
from crossgrad.engine.tolerance import Tolerance

PLANTED = [(100, 700), (3, 5), (511, 0)]


def _decode_png(data: bytes) -> np.ndarray:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    start = data.index(b"IDAT") + 4
    length = struct.unpack(">I", data[start - 8:start - 4])[0]
    raw = zlib.decompress(data[start:start + length])
    rows = [raw[r * (3 * width + 1) + 1:(r + 1) * (3 * width + 1)] for r in range(height)]
    return np.frombuffer(b"".join(rows), np.uint8).reshape(height, width, 3)


def test_png_round_trips():
    rgb = np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3)
    np.testing.assert_array_equal(_decode_png(png(rgb)), rgb)


def test_block_maximum_keeps_one_wrong_element_visible():
    x = np.zeros((512, 784))
    x[100, 700] = 5.0
    cells = _block_max(x)
    assert cells.shape == (256, 196) and cells.max() == 5.0 and cells[50, 175] == 5.0


def _big_report():
    rng = np.random.default_rng(0)
    good = rng.standard_normal((512, 784)).astype(np.float32)
    bad = good.copy()
    for index in PLANTED:
        bad[index] += 1.0
    tol = Tolerance(1e-4, 1e-5, 1e-6)
    pair = PairComparison(("numeric", "symbolic"), "mismatch", tol, total=good.size, mismatched=3,
                          max_abs=1.0, worst_index=PLANTED[0], worst_values=(float(bad[PLANTED[0]]), 0.0))
    leaf = LeafReport("w", good.shape, "float32", {"numeric": bad, "symbolic": good}, [pair], "mismatch", "numeric")
    return Report("mismatch", [leaf], "tensor", "test", "directions (seed 0)")


def test_a_512x784_leaf_stays_small_fast_and_lists_every_planted_element():
    report = _big_report()
    leaf = report.leaves[0]
    ratio = excess(leaf.pairs[0], leaf.grads["numeric"], leaf.grads["symbolic"])
    assert sorted(map(tuple, np.argwhere(ratio > 1))) == sorted(PLANTED)
    started = time.perf_counter()
    page = render(report)
    elapsed = time.perf_counter() - started
    assert len(page.encode()) < 2_000_000 and elapsed < 1.0, (len(page), elapsed)
    for index in PLANTED:
        assert f"<td>{list(index)}</td>" in page
    assert "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "") and "https://" not in page


def _planted_tanh_report(**options):
    tanh = RULES["tanh"]

    def wrong(g, s, n):
        (v,) = tanh.vjp(g, s, n)
        v = v.copy()
        v[2, 1] *= -3
        return (v,)

    RULES["tanh"] = Rule(tanh.forward, wrong)
    try:
        torch.manual_seed(0)
        x, w = torch.randn(4, 3), torch.randn(3, 5, requires_grad=True)
        loss = torch.tanh(x @ w).sum()
        report = torch.check(loss, names={"w": w}, **options)
        graph, _ = to_graph(loss, {id(w): "w"})
    finally:
        RULES["tanh"] = tanh
    return report, graph


def test_the_page_draws_the_graph_and_colours_leaves_by_verdict():
    report, graph = _planted_tanh_report()
    page = render(report, graph)
    assert report.verdict == "mismatch"
    assert 'data-node="w" data-verdict="mismatch"' in page and "TanhBackward0" in page
    assert page.count('class="node') == len(graph.nodes)


@pytest.fixture(scope="module")
def browser():
    playwright = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        pytest.skip("no Chromium (apt-get install chromium)")
    with playwright.sync_playwright() as p:
        b = p.chromium.launch(executable_path=exe, args=["--no-sandbox", "--disable-gpu",
                              "--disable-background-networking", "--disable-component-update", "--disable-sync"])
        yield b
        b.close()


PIXEL = """([leaf, pair, row, col]) => {
  const img = document.querySelector(`section[data-leaf="${leaf}"] .heat[data-pair="${pair}"] img`);
  const c = document.createElement('canvas'); c.width = img.naturalWidth; c.height = img.naturalHeight;
  const g = c.getContext('2d'); g.drawImage(img, 0, 0);
  return Array.from(g.getImageData(col, row, 1, 1).data.slice(0, 3));
}"""


def test_in_a_browser_the_wrong_elements_are_red_where_they_are(browser, tmp_path):
    report, graph = _planted_tanh_report()
    path = tmp_path / "report.html"
    path.write_text(render(report, graph))
    page = browser.new_page(viewport={"width": 1100, "height": 900})
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("request", lambda r: errors.append(f"network: {r.url}") if not r.url.startswith(("file:", "data:"))
            else None)
    page.goto(path.as_uri())
    assert page.inner_text("#verdict") == "MISMATCH"
    fill = page.eval_on_selector('g.node[data-node="w"] rect', "e => e.getAttribute('fill')")
    assert fill == "#ffebe9"  # the mismatched leaf is drawn red
    wrong = {tuple(i) for i in np.argwhere(
        excess(report.leaves[0].pairs[0], report.grad("w", "numeric"), report.grad("w", "symbolic")) > 1)}
    assert wrong and all(c == 1 for _, c in wrong)  # column 1 of w's gradient, from element [2, 1] of tanh's
    for row in range(3):
        for col in range(5):
            r, g, b = page.evaluate(PIXEL, ["w", "numeric ~ symbolic", row, col])
            assert (r > 150 and g < 100) == ((row, col) in wrong), (row, col, (r, g, b))
    page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
    assert (tmp_path / "report.png").stat().st_size > 10_000
    assert errors == []
    page.close()


def test_cli_writes_the_page_with_the_graph(tmp_path, capsys):
    from crossgrad.client import cli

    out = tmp_path / "r.html"
    code = cli.main(["check", "-e", "tanh(x @ w).sum()", "--leaf", "x=randn(4,3)", "--leaf", "w=randn(3,2):grad",
                     "--html", str(out)])
    assert code == cli.OK
    page = out.read_text()
    assert page.startswith("<!DOCTYPE html>") and 'data-node="w" data-verdict="agree"' in page
    assert page.count('class="node') == 5 and f"wrote {out}" in capsys.readouterr().err


SCRIPT_BELOW_BASE = """() => {
  const sup = document.querySelector('section[data-leaf="w"] details math msup');
  const [base, script] = sup.children;
  const b = base.getBoundingClientRect(), s = script.getBoundingClientRect();
  return {mathml: sup instanceof MathMLElement, raised: b.bottom - s.bottom, width: s.width,
          smaller: parseFloat(getComputedStyle(script).fontSize) < parseFloat(getComputedStyle(base).fontSize)};
}"""


def test_in_a_browser_closed_forms_are_mathematics_and_the_culprit_is_outlined(browser, tmp_path):
    report, graph = _planted_tanh_report(formulas=True)
    [culprit] = report.culprits
    tanh = next(n.name for n in graph.nodes if getattr(n, "op", None) == "tanh")
    assert (culprit.node, culprit.suspect) == (tanh, "numeric")
    path = tmp_path / "report.html"
    path.write_text(render(report, graph))
    page = browser.new_page(viewport={"width": 1100, "height": 900})
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(path.as_uri())
    outlined = page.eval_on_selector_all("svg.dag g.node", """nodes => nodes.map(g => {
        const style = getComputedStyle(g.querySelector('rect'));
        return [g.dataset.node, style.stroke, style.strokeWidth]; })""")
    red = [name for name, stroke, width in outlined if stroke == "rgb(207, 34, 46)" and width == "3px"]
    assert red == [tanh] and len(outlined) == len(graph.nodes)  # the culprit, and only it, outlined in red
    assert tanh in page.inner_text("h2 + .culprit")
    page.click('section[data-leaf="w"] details summary')  # the closed forms, folded by default
    maths = page.eval_on_selector_all('section[data-leaf="w"] details math', "ms => ms.length")
    assert maths == 15  # one per element of w
    seen = page.evaluate(SCRIPT_BELOW_BASE)
    assert seen["mathml"] and seen["width"] > 0 and seen["smaller"], seen
    assert seen["raised"] > 2, seen  # the exponent of tanh(...)^2 sits above the line: typeset, not text
    page.screenshot(path=str(tmp_path / "mathml.png"), full_page=True)
    assert errors == []
    page.close()
