"""CheckRequest.order over a real server on port 0: order-2 reports travel back with their
order, directions' seed and Hessian-vector products; bad orders are INVALID_ARGUMENT at
"order"; the CLI's --order; a planted second-order bug caught remotely while order 1 agrees."""

from __future__ import annotations

import json
import subprocess
import sys

import crossgrad
import numpy as np
import pytest
from crossgrad.client import InvalidRequest, wire
from crossgrad.engine.check import CheckRequest
from crossgrad.engine.errors import FieldError
from crossgrad.engine.numeric.export import to_graph
from crossgrad.engine.program import Step

from tests.test_higher_order_check import _bad_tanh, _plant


def _tanh_net(hidden: int = 2, seed: int = 0) -> tuple[crossgrad.Tensor, dict]:
    rng = np.random.default_rng(seed)
    w = crossgrad.tensor(rng.standard_normal((2, hidden)), requires_grad=True)
    b = crossgrad.tensor(rng.standard_normal(hidden), requires_grad=True)
    x, c = crossgrad.tensor(rng.standard_normal((3, 2))), crossgrad.tensor(rng.standard_normal((3, hidden)))
    return (crossgrad.tanh(x @ w + b) * c).sum(), {"w": w, "b": b}


def test_order2_report_travels_back_with_three_witnesses(client) -> None:  # noqa: ANN001
    loss, names = _tanh_net()
    remote = client.check(loss, names=names, order=2)
    local = crossgrad.check(loss, names=names, order=2)
    assert remote.order == local.order == 2 and remote.directions_seed is None
    assert remote.verdict == local.verdict == "agree", str(remote)
    w = remote.leaf("w")
    assert w.shape == (6, 2, 2) and set(w.grads) == {"numeric", "symbolic", "finite_difference"}
    for witness in w.grads:
        np.testing.assert_array_equal(w.grads[witness], local.leaf("w").grads[witness])
    assert "full Hessian (6 x 6" in str(remote)


def test_seeded_directions_name_their_seed_remotely(client) -> None:  # noqa: ANN001
    loss, names = _tanh_net(hidden=6)
    report = client.check(loss, names=names, order=2, fd_seed=7)
    assert report.order == 2 and report.directions_seed == 7
    assert report.leaf("w").shape == (3, 2, 6) and report.verdict == "agree"
    assert client.check(loss, names=names).order == 1  # the default


def test_a_planted_second_order_bug_is_caught_over_the_wire(client, monkeypatch) -> None:  # noqa: ANN001
    _plant(monkeypatch, "tanh", _bad_tanh)  # the server runs in this process
    loss, names = _tanh_net()
    assert client.check(loss, names=names).verdict == "agree"
    report = client.check(loss, names=names, order=2)
    assert report.verdict == "mismatch" and {leaf.suspect for leaf in report.leaves} == {"numeric"}


@pytest.mark.parametrize(("order", "field"), [(3, "order"), (7, "order")])
def test_bad_order_is_invalid_argument_at_its_field(client, order: int, field: str) -> None:  # noqa: ANN001
    loss, _ = _tanh_net()
    message = wire.request_out(CheckRequest(to_graph(loss, {})[0]))
    message.order = order
    with pytest.raises(InvalidRequest) as err:
        client.check(message)
    assert err.value.code == "INVALID_ARGUMENT" and err.value.violations[0][0] == field
    assert "must be one of [1, 2]" in err.value.violations[0][1]
    with pytest.raises(FieldError, match="order"):
        client.check(loss, order=order)  # refused before sending


def test_order2_refuses_a_program_by_field(client) -> None:  # noqa: ANN001
    loss, _ = _tanh_net()
    request = CheckRequest(to_graph(loss, {})[0], program=[Step("backward")], order=2)
    with pytest.raises(InvalidRequest) as err:
        client.check(request)
    assert err.value.violations[0][0] == "program"


def test_cli_order_2_on_an_expression() -> None:
    args = ["check", "-e", "sum(tanh(x @ w))", "--leaf", "x=randn(3,2)", "--leaf", "w=randn(2,2):grad",
            "--order", "2", "--json"]
    out = subprocess.run([sys.executable, "-m", "crossgrad.client.cli", *args], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    response = json.loads(out.stdout)
    assert response["order"] == 2 and response["verdict"] == "VERDICT_AGREE"
    assert response["leaves"][0]["shape"] == ["4", "2", "2"]  # full Hessian: 4 unit directions
