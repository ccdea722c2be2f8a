"""Compiled-template tables are bounded: a server sent ever new constants must not grow."""

from __future__ import annotations

import linecache

import pytest
import sympy as sp
from crossgrad.engine.symbolic import raw, tensor
from crossgrad.engine.symbolic.codegen import numpy_function
from crossgrad.engine.symbolic.memo import Memo


def test_the_memo_keeps_the_most_recently_used_and_not_failures():
    memo = Memo(2)
    assert memo.get("a", lambda: 1) == 1 and memo.get("b", lambda: 2) == 2
    assert memo.get("a", lambda: -1) == 1  # kept, and now the most recent
    assert memo.get("c", lambda: 3) == 3  # evicts b, the least recent
    assert len(memo) == 2 and memo.get("b", lambda: 20) == 20

    def fails():
        raise ValueError("not derivable")

    with pytest.raises(ValueError):
        memo.get("d", fails)
    assert memo.get("d", lambda: 4) == 4


def test_generated_functions_leave_no_source_behind_in_linecache():
    x = sp.Symbol("x")
    before = len(linecache.cache)
    for k in range(20):
        assert numpy_function([x], x * (k + 0.5))(2.0) == 2.0 * (k + 0.5)
        raw.lambdify([x], x + k)
    assert len(linecache.cache) <= before


def test_the_tensor_tiers_template_table_stays_within_its_size(monkeypatch):
    monkeypatch.setattr(tensor, "_TEMPLATES", Memo(8))
    x = sp.Symbol("s0", real=True)
    for slope in range(30):  # a leaky_relu slope per request
        tensor.vector_template(sp.Max(x, 0) + sp.Min(x, 0) * (slope + 0.25) * x, 1)
    assert len(tensor._TEMPLATES) == 8
