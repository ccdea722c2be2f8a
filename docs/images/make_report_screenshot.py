"""Regenerates docs/images/report.png: the HTML report of a planted tanh bug, in headless Chromium.

    python docs/images/make_report_screenshot.py      (needs playwright and /usr/bin/chromium)
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import crossgrad as torch
from crossgrad.engine.html_report import render
from crossgrad.engine.numeric.export import to_graph
from crossgrad.engine.numeric.rules import RULES
from crossgrad.engine.numeric.ruletools import Rule
from playwright.sync_api import sync_playwright

OUT = Path(__file__).with_name("report.png")


def planted_report() -> str:
    tanh = RULES["tanh"]

    def wrong(g, s, n):  # one element of tanh's input gradient off by a factor -3
        (v,) = tanh.vjp(g, s, n)
        v = v.copy()
        v[2, 1] *= -3
        return (v,)

    RULES["tanh"] = Rule(tanh.forward, wrong)
    try:
        torch.manual_seed(0)
        x, w = torch.randn(4, 3), torch.randn(3, 5, requires_grad=True)
        loss = torch.tanh(x @ w).sum()
        return render(torch.check(loss, names={"w": w}), to_graph(loss, {id(w): "w"})[0])
    finally:
        RULES["tanh"] = tanh


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        page_file = Path(tmp) / "report.html"
        page_file.write_text(planted_report())
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 980, "height": 760})
        page.goto(page_file.as_uri())
        page.screenshot(path=str(OUT))
        browser.close()
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
