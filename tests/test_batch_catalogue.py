"""Batched checks equal one-by-one checks over the catalogue: one case per op (every case of
to_dtype, whose float32 rounding changes the tolerances' dtype), three requests of new values."""

from __future__ import annotations

import numpy as np
import pytest
from crossgrad.engine import batch_check
from crossgrad.engine.check import check
from crossgrad.engine.graph import validate

from tests.catalogue_inputs import all_cases
from tests.graphs import case_request

CASES = [(name, index) for name, index in all_cases() if index == 0 or name == "to_dtype"]


def _group(name: str, index: int, dtype: type) -> tuple[list, list] | None:
    requests = [case_request(name, index, dtype, seed=s) for s in (0, 1, 2)]
    plans = [validate(r.graph) for r in requests]
    keys = {repr(batch_check.batch_key(r, p)) for r, p in zip(requests, plans)}
    return None if keys == {repr(None)} or len(keys) != 1 else (requests, plans)


def _figures(report):
    return [(leaf.name, leaf.verdict, [(p.witnesses, p.verdict, p.mismatched, p.unresolved, p.non_finite)
                                       for p in leaf.pairs]) for leaf in report.leaves]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name, index", CASES)
def test_a_batched_group_reports_what_each_request_reports_alone(name, index, dtype):
    found = _group(name, index, dtype)
    if found is None:  # not batchable (its ops have no batch rule): nothing to compare
        return
    requests, plans = found
    for request, got in zip(requests, batch_check.check_group(requests, plans, None)):
        want = check(request)
        assert got.verdict == want.verdict
        assert _figures(got) == _figures(want)
        for mine, theirs in zip(got.leaves, want.leaves):
            for witness in ("numeric", "finite_difference"):
                np.testing.assert_array_equal(mine.grads[witness], theirs.grads[witness])


def test_most_catalogue_cases_are_batchable():
    """The comparison above is not vacuous: 89 of the 99 cases form a batch today."""
    assert sum(_group(name, index, np.float64) is not None for name, index in CASES) >= 80
