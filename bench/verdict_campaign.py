# ruff: noqa: E501
"""Issue 20/21 campaign over the whole catalogue (a bench, not a test): per op and case, plant
bugs the earlier suites did not (a gradient of the right values in the wrong shape, the wrong
dtype, one NaN element, a sign flip under a loss scaled to 1e-7 / 1e-14, a wrong double
backward) and check each is caught (mismatch, numeric the suspect; at order 2 the op named);
and check clean graphs drawn on integers (ties, kinks) never give a mismatch.

    python bench/verdict_campaign.py [--only OP] [--order2] [--ties N]

Prints each case that breaks the rule; the exit status counts them.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from crossgrad.engine import ops  # noqa: E402
from crossgrad.engine.check import CheckRequest, check  # noqa: E402
from crossgrad.engine.graph import Graph, Leaf, validate  # noqa: E402
from crossgrad.engine.numeric.rules import RULES  # noqa: E402
from crossgrad.engine.numeric.ruletools import Rule, traced  # noqa: E402

from tests.catalogue_inputs import all_cases  # noqa: E402
from tests.graphs import case_request  # noqa: E402

DIFF = [(n, i) for n, i in all_cases() if ops.CATALOGUE[n].grad_fn is not None]


def _first(grads: list, fn: Callable[[Any], Any]) -> list:
    k = next((i for i, g in enumerate(grads) if g is not None), None)
    if k is not None:
        grads[k] = fn(grads[k])
    return grads


def _nan_one(g: Any) -> Any:
    g = np.array(g, dtype=np.asarray(g).dtype, copy=True)
    g.flat[0] = np.nan
    return g


BUGS: dict[str, Callable[[list, Any], list]] = {
    "wrong shape (a leading axis of 1)": lambda grads, node: _first(grads, lambda g: np.asarray(g)[None]),
    "flattened": lambda grads, node: _first(grads, lambda g: np.asarray(g).reshape(-1)),
    "one NaN": lambda grads, node: _first(grads, _nan_one),
}


def planted(op: str, bug: Callable[[list, Any], list]) -> Rule:
    rule = RULES[op]
    return Rule(rule.forward, lambda g, s, n: tuple(bug(list(rule.vjp(g, s, n)), n)))


def _scaled(request: CheckRequest, k: float) -> CheckRequest:
    """The same graph with its output times k (a seed scaled by k)."""
    plan = validate(request.graph)
    seed = np.ones(plan.shapes[plan.output]) if request.seed is None else np.asarray(request.seed)
    return CheckRequest(request.graph, seed * k, tier=request.tier)


def _first_leaf_shape(request: CheckRequest) -> tuple:
    """The shape of the first input's gradient (flattening a 1-D one changes nothing)."""
    first = next(n for n in request.graph.nodes if isinstance(n, Leaf) and n.requires_grad)
    return np.shape(first.value)


def caught(report: Any) -> bool:
    return report.verdict == "mismatch" and any(leaf.suspect == "numeric" for leaf in report.leaves)


def first_order(name: str, index: int, out: list[str]) -> None:
    base = case_request(name, index, np.float64, seed=5, tier="exact")
    clean = check(base)
    if clean.verdict == "mismatch":
        out.append(f"{name}-{index}: clean check is a mismatch\n{clean}")
        return
    worth = max((float(np.abs(leaf.grads.get("symbolic", np.zeros(1))).max(initial=0)) for leaf in clean.leaves), default=0.0)
    if worth < 1e-3:
        return
    for what, bug in BUGS.items():
        RULES[name], keep = planted(name, bug), RULES[name]
        try:
            report = check(base)
        finally:
            RULES[name] = keep
        if not caught(report) and not (what == "flattened" and len(_first_leaf_shape(base)) < 2):
            out.append(f"{name}-{index}: planted {what} -> {report.verdict} (suspects {[leaf.suspect for leaf in report.leaves]})")
    for dtype, k in ((np.float32, 1e-7), (np.float64, 1e-14)):
        request = _scaled(case_request(name, index, dtype, seed=5, tier="exact"), k)
        RULES[name], keep = planted(name, lambda grads, node: _first(grads, lambda g: -g)), RULES[name]
        try:
            report = check(request)
        finally:
            RULES[name] = keep
        if report.verdict in ("agree", "convention"):
            out.append(f"{name}-{index}: sign flip under a loss x{k:g} ({np.dtype(dtype).name}) -> {report.verdict}")


def second_order(name: str, index: int, out: list[str]) -> None:
    request = case_request(name, index, np.float64, seed=5, tier="off")
    request = CheckRequest(request.graph, request.seed, order=2, witnesses=("numeric", "finite_difference"))
    clean = check(request)
    if clean.verdict == "mismatch":
        out.append(f"{name}-{index}: clean order-2 check is a mismatch\n{clean}")
        return
    rule = RULES[name]

    def wrong(g: Any, saved: Any, node: Any) -> tuple:
        found = rule.vjp(g, saved, node)
        return tuple(None if v is None else v * 1.25 for v in found) if traced(g) else found

    RULES[name] = Rule(rule.forward, wrong)
    try:
        report = check(request)
    except Exception as err:  # noqa: BLE001 (a finding, reported)
        out.append(f"{name}-{index}: order 2 with a planted double backward raised {type(err).__name__}: {err}")
        return
    finally:
        RULES[name] = rule
    if report.verdict in ("agree", "convention"):
        if max(float(np.abs(leaf.grads["numeric"]).max(initial=0)) for leaf in clean.leaves) > 1e-6:
            out.append(f"{name}-{index}: order-2 planted bug (VJP x1.25 under create_graph) -> {report.verdict}")
        return
    if report.verdict == "mismatch" and not any(c.op == name for c in report.culprits):
        out.append(f"{name}-{index}: order-2 planted bug: mismatch, culprits {[c.op for c in report.culprits]}")


def ties(name: str, index: int, rounds: int, out: list[str]) -> None:
    """Clean graphs with every float input drawn on small integers (ties and kinks everywhere)."""
    base = case_request(name, index, np.float64, seed=5, tier="exact")
    rng = np.random.default_rng(hash((name, index)) % 2**32)
    for r in range(rounds):
        nodes = []
        for n in base.graph.nodes:
            if isinstance(n, Leaf) and np.asarray(n.value).dtype.kind == "f" and n.requires_grad:
                v = rng.integers(-2, 3, size=np.shape(n.value)).astype(np.float64)
                if ops.CATALOGUE[name].name in ("log", "sqrt", "rsqrt", "div", "pow", "reciprocal"):
                    v = np.abs(v) + 1.0
                n = Leaf(n.name, v, True)
            nodes.append(n)
        request = CheckRequest(Graph(tuple(nodes), base.graph.output), base.seed, tier="exact")
        with np.errstate(all="ignore"):
            report = check(request)
        if report.verdict == "mismatch":
            out.append(f"{name}-{index}: integer inputs round {r}: mismatch\n{report}")
            return


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", default="")
    parser.add_argument("--order2", action="store_true")
    parser.add_argument("--ties", type=int, default=0)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    found: list[str] = []
    for name, index in DIFF:
        if args.only and args.only != name:
            continue
        before = len(found)
        try:
            if args.ties:
                ties(name, index, args.ties, found)
            elif args.order2:
                second_order(name, index, found)
            else:
                first_order(name, index, found)
        except Exception as err:  # noqa: BLE001
            found.append(f"{name}-{index}: raised {type(err).__name__}: {err}")
        for line in found[before:]:
            print(line, flush=True)
    print(f"{len(found)} findings over {len(DIFF)} cases")
    return len(found)


if __name__ == "__main__":
    raise SystemExit(main())
