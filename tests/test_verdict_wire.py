"""Culprits over the wire (issue 15): a real server names the planted node; the SDK's report and
the CLI's text show it first, as a local check does."""

from __future__ import annotations

import json

import numpy as np
import pytest
from crossgrad.client import cli, wire
from crossgrad.engine.check import CheckRequest, check
from crossgrad.engine.graph import Graph, Leaf, OpNode
from crossgrad.engine.localize import Culprit
from crossgrad.engine.numeric.rules import RULES
from crossgrad.engine.numeric.ruletools import Rule

RNG = np.random.default_rng(11)
X, W, V = RNG.normal(size=(4, 3)), RNG.normal(size=(3, 5)), RNG.normal(size=(5,))


def _graph() -> Graph:
    return Graph((Leaf("x", X), Leaf("w", W, True), Leaf("v", V, True), OpNode("z", "matmul", ("x", "w")),
                  OpNode("h", "tanh", ("z",)), OpNode("s", "mul", ("h", "v")), OpNode("out", "sum", ("s",))), "out")


@pytest.fixture()
def tanh_bug(monkeypatch):
    """The numeric engine's tanh backward forgets the square: g * (1 - y)."""
    rule = RULES["tanh"]
    monkeypatch.setitem(RULES, "tanh", Rule(rule.forward, lambda g, saved, node: (0.5 * rule.vjp(g, saved, node)[0],)))


def test_the_server_sends_the_planted_node_as_a_culprit(client, tanh_bug):
    local = check(CheckRequest(_graph(), tier="exact"))
    remote = client.check(CheckRequest(_graph(), tier="exact"))
    assert remote.verdict == "mismatch"
    [culprit] = remote.culprits
    assert isinstance(culprit, Culprit)
    assert (culprit.node, culprit.op, culprit.grad_fn, culprit.input, culprit.suspect) == \
        ("h", "tanh", "TanhBackward0", 0, "numeric")
    assert culprit == local.culprits[0]  # every field, values included, as the local check has it
    assert list(culprit.values) == ["numeric", "symbolic"]
    assert culprit.values["numeric"] == pytest.approx(0.5 * culprit.values["symbolic"], rel=1e-9)
    assert str(remote).splitlines()[2] == str(local).splitlines()[2] == f"  culprit: {culprit}"


def test_a_wrong_claimed_stage_travels_with_its_first_flag(client):
    h = np.tanh(X @ W)
    dz = np.ones((4, 5)) * V * (1 - h)  # the student's tanh backward forgot the square
    claimed = {"s": np.ones((4, 5)), "h": np.ones((4, 5)) * V, "z": dz, "w": X.T @ dz, "v": h.sum(0)}
    remote = client.check(CheckRequest(_graph(), claimed=claimed))
    local = check(CheckRequest(_graph(), claimed=claimed))
    assert remote.verdict == "mismatch"
    first = remote.culprits[0]
    assert (first.node, first.first, first.consumers, first.reference_witness) == ("z", True, ("h (tanh)",), "symbolic")
    assert first.claimed == dz[first.index] and first.reference == local.culprits[0].reference
    assert [str(c) for c in remote.culprits] == [str(c) for c in local.culprits]


def test_the_proto_carries_kind_suspect_and_message(client, tanh_bug):
    response = client.check_raw(wire.request_out(CheckRequest(_graph(), tier="exact")))
    data = json.loads(wire.to_json(response))
    [culprit] = data["culprits"]
    assert culprit["kind"] == "CULPRIT_KIND_BACKWARD" and culprit["suspect"] == "WITNESS_NUMERIC"
    assert culprit["node"] == "h" and culprit["gradFn"] == "TanhBackward0" and set(culprit["values"]) == \
        {"numeric", "symbolic"}
    assert culprit["message"].startswith("node h (tanh, TanhBackward0): the adjoint of its input 0 is off")


def test_the_cli_prints_the_culprit_first(server, tanh_bug, tmp_path, capsys):
    path = tmp_path / "request.json"
    path.write_text(wire.to_json(wire.request_out(CheckRequest(_graph(), tier="exact"))))
    code = cli.main(["--color", "never", "check", str(path), "--server", f"127.0.0.1:{server.port}"])
    lines = capsys.readouterr().out.splitlines()
    assert code == 1 and lines[0] == "crossgrad check: MISMATCH"
    assert lines[2].startswith("  culprit: node h (tanh, TanhBackward0): the adjoint of its input 0 is off")
    assert "suspect: numeric's rule for tanh" in lines[2]
