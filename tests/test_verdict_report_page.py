"""The HTML report shows what the verdict says (issue 15, the verdict helper's campaign): elements a
kink excuses are not drawn red nor listed as worst; culprit nodes carry their own message."""

from __future__ import annotations

import base64
import re

import crossgrad as torch
import numpy as np
from crossgrad.engine.check import CheckRequest, check
from crossgrad.engine.graph import Graph, Leaf, OpNode
from crossgrad.engine.html_report import render

from .test_check_catalogue import GENERIC_BUGS, _plant
from .test_html_report import _decode_png


def _heat(page: str, pair: str) -> tuple[dict[str, str], np.ndarray, str]:
    text = next(chunk for chunk in page.split('<div class="heat" ')[1:] if chunk.startswith(f'data-pair="{pair}"'))
    text = text.split("<section")[0]
    attrs = dict(re.findall(r'data-(off|excused)="(\d+)"', text))
    uri = re.search(r'src="data:image/png;base64,([^"]+)"', text).group(1)
    return attrs, _decode_png(base64.b64decode(uri)), text


def test_a_kink_convention_is_drawn_blue_not_red_and_not_listed_as_worst():
    """relu at 0: numeric 0, symbolic 1/2 — a convention (0 of 4 off), which the page drew as two
    red cells listed under the worst elements."""
    x = torch.tensor([[-1.0, 0.0, 0.0, 2.0]], requires_grad=True)
    report = torch.check(torch.relu(x).sum())
    assert report.verdict == "convention"
    page = report.to_html()
    attrs, pixels, text = _heat(page, "numeric ~ symbolic")
    assert attrs == {"off": "0", "excused": "2"} and "2 excused" in text and "<table" not in text
    red = (pixels[..., 0] > 150) & (pixels[..., 1] < 100)
    blue = np.all(pixels == (9, 105, 218), axis=-1)
    assert not red.any() and blue[0].tolist() == [False, True, True, False]


def test_real_mismatches_stay_red_and_the_table_is_the_pairs_own_list():
    x = torch.tensor([[-1.0, 0.0, 0.5, 2.0]], requires_grad=True)
    claimed = np.array([[0.0, 0.0, 3.0, -1.0]])  # [0, 2] and [0, 3] wrong; [0, 1] a kink
    report = torch.check(torch.relu(x).sum(), claimed={x: claimed})
    pair = next(p for p in report.leaves[0].pairs if p.witnesses == ("claimed", "symbolic"))
    assert report.verdict == "mismatch" and pair.mismatched_indices == [(0, 3), (0, 2)]  # worst first
    attrs, pixels, text = _heat(report.to_html(), "claimed ~ symbolic")
    assert attrs["off"] == "2"
    red = (pixels[..., 0] > 150) & (pixels[..., 1] < 100)
    assert red[0].tolist() == [False, False, True, True]
    rows = re.findall(r"<tr><td>(\[[^\]]*\])</td><td>([^<]*)</td><td>([^<]*)</td>", text)
    assert rows == [("[0, 3]", "-1", "1"), ("[0, 2]", "3", "1")]


def test_a_culprit_node_hovers_with_its_own_message_and_the_loss_is_named(monkeypatch):
    graph = Graph((Leaf("x", np.array([[0.5, -1.0], [2.0, 0.25]]), True), OpNode("h", "tanh", ("x",)),
                   OpNode("s", "sigmoid", ("h",)), OpNode("out", "sum", ("s",))), "out")
    _plant(monkeypatch, "tanh", GENERIC_BUGS["wrong sign"])
    report = check(CheckRequest(graph, tier="exact"))
    assert [c.node for c in report.culprits] == ["h"]
    page = render(report, graph)
    title = re.search(r'data-node="h"[^>]*><title>([^<]*)</title>', page).group(1)
    assert "CULPRIT: node h (tanh, TanhBackward0): the adjoint of its input 0 is off" in title
    assert "suspect: numeric&#x27;s rule for tanh" in title
    assert "the loss" in re.search(r'data-node="out"[^>]*><title>([^<]*)</title>', page).group(1)
