"""The claimed-gradient screen (engine/claimed_screen.py): it says agree only where the full
check gives every (claimed, witness) pair the verdict agree with no element over tolerance."""

from __future__ import annotations

import crossgrad as torch
import crossgrad.nn.functional as F
import numpy as np
import pytest
from crossgrad.engine.check import Checking, CheckRequest, check, check_begin
from crossgrad.engine.claimed_screen import claimed_agrees
from crossgrad.engine.numeric.export import to_graph
from crossgrad.engine.tolerance import Tolerance


def _seed(dtype: torch.dtype = torch.float64) -> tuple[object, dict[str, np.ndarray]]:
    torch.manual_seed(1)
    w = torch.randn(5, 3, requires_grad=True, dtype=dtype)
    b = torch.randn(3, requires_grad=True, dtype=dtype)
    loss = F.binary_cross_entropy_with_logits(torch.ones(5, dtype=dtype) @ w + b, torch.zeros(3, dtype=dtype))
    graph, _ = to_graph(loss, {id(w): "w", id(b): "b"})
    exact = check(CheckRequest(graph))
    return graph, {name: exact.grad(name, "symbolic") for name in ("w", "b")}


def _relu_at_zero() -> tuple[object, dict[str, np.ndarray]]:
    x = torch.tensor([-1.0, 0.0, 2.0], requires_grad=True, dtype=torch.float64)
    graph, _ = to_graph((torch.relu(x) * torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64)).sum(), {id(x): "x"})
    return graph, {"x": np.array([0.0, 0.0, 3.0])}  # PyTorch's relu'(0) = 0


def _screen(graph: object, claimed: dict[str, np.ndarray], tolerance: Tolerance | None = None) -> bool:
    begun = check_begin(CheckRequest(graph, claimed=claimed, witnesses=("numeric", "symbolic"),  # type: ignore[arg-type]
                                     tolerance=tolerance))
    assert isinstance(begun, Checking)
    return claimed_agrees(begun)


def _claimed_pairs(graph: object, claimed: dict[str, np.ndarray], tolerance: Tolerance | None = None) -> list:
    report = check(CheckRequest(graph, claimed=claimed, tolerance=tolerance))  # type: ignore[arg-type]
    return [p for leaf in report.leaves for p in leaf.pairs if "claimed" in p.witnesses]


def test_the_exact_gradient_passes_the_screen_and_the_check() -> None:
    graph, right = _seed()
    assert _screen(graph, right)
    assert all(p.verdict == "agree" for p in _claimed_pairs(graph, right))


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_the_screen_never_passes_what_the_check_would_not(dtype: torch.dtype) -> None:
    """Claims moved by amounts around the tolerance: a pass always means the full check agrees
    on every claimed pair with nothing over tolerance; a claim the check finds off never passes."""
    graph, right = _seed(dtype)
    rng = np.random.default_rng(0)
    passed = failed = 0
    for scale in np.geomspace(1e-12, 1e-1, 60):
        claimed = {n: g * (1 + scale * rng.standard_normal(g.shape)) for n, g in right.items()}
        pairs = _claimed_pairs(graph, claimed)
        if _screen(graph, claimed):
            passed += 1
            assert all(p.verdict == "agree" and not p.mismatched and not p.kinks for p in pairs)
        elif any(p.mismatched for p in pairs):
            failed += 1
    assert passed >= 10 and failed >= 10  # both sides of the boundary were exercised


def test_a_tolerance_override_is_the_screens_tolerance() -> None:
    graph, right = _seed()
    off = {"w": right["w"] * 1.01, "b": right["b"]}
    assert not _screen(graph, off)
    loose = Tolerance(0.05, 0.0)
    assert _screen(graph, off, loose)
    assert all(p.verdict == "agree" for p in _claimed_pairs(graph, off, loose))


@pytest.mark.parametrize("bad", ["nan", "inf", "shape", "missing"])
def test_a_non_finite_misshapen_or_missing_claim_is_left_to_the_check(bad: str) -> None:
    graph, right = _seed()
    b = {"nan": np.where(np.arange(3) == 1, np.nan, right["b"]), "inf": np.full(3, np.inf),
         "shape": right["b"][:2], "missing": None}[bad]
    claimed = {"w": right["w"]} if b is None else {"w": right["w"], "b": b}
    assert not _screen(graph, claimed)


def test_a_kink_is_left_to_the_check_which_calls_it_a_convention() -> None:
    graph, claimed = _relu_at_zero()
    assert not _screen(graph, claimed)
    report = check(CheckRequest(graph, claimed=claimed))  # type: ignore[arg-type]
    assert report.verdict == "convention"
