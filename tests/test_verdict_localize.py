"""Op-level localization over the catalogue (issue 15): a wrong VJP planted in any op is named at
its own node, and only there."""

from __future__ import annotations

import numpy as np
import pytest
from crossgrad.engine import ops
from crossgrad.engine.check import check
from crossgrad.engine.graph import OpNode

from .catalogue_inputs import all_cases
from .graphs import case_request
from .test_check_catalogue import GENERIC_BUGS, _plant

NAMES = sorted({n for n, _ in all_cases() if ops.CATALOGUE[n].grad_fn is not None})


@pytest.mark.parametrize("tier", ["exact", "tensor"])
@pytest.mark.parametrize("name", NAMES)
def test_a_wrong_sign_is_named_at_the_planted_node(monkeypatch, name, tier):
    request = case_request(name, 0, np.float64, seed=5, tier=tier)
    planted = {n.name for n in request.graph.nodes if isinstance(n, OpNode) and n.op == name}
    _plant(monkeypatch, name, GENERIC_BUGS["wrong sign"])
    report = check(request)
    assert report.verdict == "mismatch"
    assert report.culprits and {c.node for c in report.culprits} <= planted, str(report)
    assert all(c.suspect == "numeric" and c.op == name for c in report.culprits)
