"""``check``: one graph, three witnesses (plus an optional claimed answer), one report."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any

import numpy as np

from . import fd_joint, finite_diff, forward_rounding, kinks, offload, ops, parallel, plan_facts
from .claimed_stages import refuse_unknown, split_claimed, wrong_stages
from .compare import MISMATCH, SKIPPED, UNRESOLVED, KinkTest, PairComparison, compare_leaves, pair_verdict, worst
from .cost import backward_runs
from .errors import CrossgradError
from .forward_check import forward_mismatches
from .graph import Graph, GraphError, OpNode, Plan, input_indices, validate
from .localize import localize, numeric_adjoints
from .magnitudes import flowing_magnitudes
from .numeric.run_graph import forward_values, numeric_gradients
from .precision import gradient_dtypes
from .report import WITNESSES, LeafReport, Report, finish_leaf
from .symbolic import closed_form, exact, tensor, tensor_adjoints
from .symbolic.exact_adjoints import node_adjoints
from .tolerance import Tolerance, note_override, policy
from .vacuous import note_all_zero, note_skipped
from .value_domains import refuse_out_of_domain

TIERS = ("auto", "exact", "tensor", "off")
EXACT_BUDGET = 4_000_000  # placeholder evaluations (exact.estimate_work) the auto tier allows
PAIRS = (("numeric", "symbolic"), ("numeric", "finite_difference"), ("symbolic", "finite_difference"),
         ("claimed", "symbolic"), ("claimed", "numeric"))
FD_ERROR_FACTOR = 3.0  # a finite-difference disagreement within this many error estimates is no evidence


class WitnessTimeout(CrossgradError):
    """A witness did not finish in time (or its worker died); the others still answer."""


# Starts the symbolic witness and returns a function that waits for its gradients, so a witness
# computed elsewhere (the server's worker processes) runs while this process does the others.
# That function may have a ``cancel()``, called instead when the check fails before collecting.
SymbolicHook = Callable[[Plan, np.ndarray, str], Callable[[], dict[int, np.ndarray]]]
# Computes the numeric and finite-difference witnesses (into ``grads``) and returns the finite
# differences: _local_witnesses, or a batch's precomputed answers (engine/batch_check.py)
LocalHook = Callable[..., Any]


@dataclass
class CheckRequest:
    graph: Graph
    seed: np.ndarray | None = None  # d output, required when the output is not a scalar
    tier: str = "auto"
    witnesses: tuple[str, ...] = ("numeric", "symbolic", "finite_difference")
    tolerance: Tolerance | None = None
    claimed: dict[str, np.ndarray] = field(default_factory=dict)
    formulas: bool = False
    fd_seed: int = 0
    program: list[Any] | None = None  # engine.program.Step list: backward / zero_grad / sgd_step / forward
    exact_budget: int = EXACT_BUDGET  # the auto tier takes exact up to this many element evaluations
    deadline: float | None = None  # time.monotonic() past which a program stops (set by the server)
    order: int = 1  # 2: second derivatives (engine/hessian.py); fd_seed seeds its directions
    threads: int | None = None  # at most this many threads for a large graph's witnesses (engine/parallel.py)

    def __post_init__(self) -> None:  # a misspelt witness was silently left out
        for i, witness in enumerate(self.witnesses):
            if witness not in (*WITNESSES, "claimed"):
                raise GraphError(f"witnesses[{i}]", f"unknown witness {witness!r}; one of {[*WITNESSES, 'claimed']}")
        if not parallel.valid(self.threads):
            raise GraphError("threads", f"must be a positive integer or None, got {self.threads!r}")


def _seed(plan: Plan, given: np.ndarray | None) -> np.ndarray:
    shape = plan.shapes[plan.output]
    if given is None:
        if math.prod(shape) != 1:
            raise GraphError("seed", "grad can be implicitly created only for scalar outputs")
        return np.ones(shape)
    seed = np.asarray(given, np.float64)
    if seed.shape != shape:
        raise GraphError("seed", f"shape {list(seed.shape)} does not match the output {list(shape)}")
    return seed


def _choose_tier(plan: Plan, tier: str, budget: int, runs: int = 1) -> tuple[str, str]:
    """``runs``: how many times the graph is differentiated (a program's backward steps)."""
    if tier not in TIERS:
        raise GraphError("tier", f"must be one of {list(TIERS)}")
    if tier == "off":
        return "off", "symbolic witness not requested"
    work = exact.estimate_work(plan) * runs
    times = f" over {runs} backward steps" if runs > 1 else ""
    if tier == "exact":
        return "exact", f"requested ({work:,} element evaluations{times})"
    if tier == "auto" and work <= budget:
        return "exact", f"{work:,} element evaluations{times} <= budget {budget:,}"
    if tier == "auto":
        return "tensor", f"{work:,} element evaluations{times} > exact budget {budget:,}"
    return "tensor", "requested"


class _Timer:
    def __init__(self) -> None:
        self.times: dict[str, float] = {}

    def run(self, name: str, fn: Callable[[], Any]) -> Any:
        start = time.perf_counter()
        try:
            return fn()
        finally:
            self.times[name] = time.perf_counter() - start


def _kink_test(plan: Plan, seed: np.ndarray, leaf: int, values: list[np.ndarray] | None,
               tol: Tolerance, hull_cache: dict) -> KinkTest | None:
    """An over-tolerance element is a convention when both values are valid one-sided answers:
    within the whole function's left and right quotients, or within the hull of every branch
    choice at the kink nodes (kinks composed through the graph, engine/kinks.py). The slack is
    relative to the derivatives compared, plus the quotients' own rounding noise."""
    if values is None:
        return None

    def hull(index: tuple[int, ...]) -> tuple[float, float] | None:
        if "hulls" not in hull_cache:
            hull_cache["hulls"] = kinks.hulls(plan, seed, values)
        found = hull_cache["hulls"]
        if found is None or leaf not in found:
            return None
        return float(found[leaf][0][index]), float(found[leaf][1][index])

    def within(lo: float, hi: float, a: float, b: float, noise: float = 0.0) -> bool:
        slack = 10 * (finite_diff.STEP + tol.rtol) * max(abs(lo), abs(hi)) + noise
        return hi - lo > slack and all(lo - slack <= v <= hi + slack for v in (a, b))

    def at_kink(index: tuple[int, ...], a: float, b: float) -> bool:
        left, right, noise = finite_diff.one_sided(plan, seed, leaf, index)
        if not all(map(math.isfinite, (left, right, noise))):  # f not finite nearby (a NaN loss): the hull alone
            left, right, noise = math.nan, math.nan, 0.0
        elif within(min(left, right), max(left, right), a, b, noise):
            return True
        bounds = hull(index)
        if bounds is None or abs(bounds[1] - bounds[0]) <= 10 * (finite_diff.STEP + tol.rtol) * max(map(abs, bounds)):
            return False  # the branch choices do not move this element: it is not at a kink
        ends = [v for v in (left, right) if math.isfinite(v)]
        return within(min([bounds[0], *ends]), max([bounds[1], *ends]), a, b, noise)

    return at_kink


def kinks_present(plan: Plan) -> list[np.ndarray] | None:
    """Forward values when some active kink op sits exactly on its kink, else None."""
    if not plan_facts.memo(plan, "kink ops", _has_kink_ops):
        return None
    values = forward_values(plan)
    return values if kinks.at_kink(plan, values) else None


def _has_kink_ops(plan: Plan) -> bool:
    return any(getattr(n, "op", None) in kinks.KINK_AT and plan.active[i]
               for i, n in enumerate(plan.graph.nodes[: plan.output + 1]))


def _local_symbolic(plan: Plan, seed: np.ndarray, tier: str) -> Callable[[], dict[int, np.ndarray]]:
    """In this process: the tensor tier of a large graph on a pool thread from now on (beside the
    other witnesses, engine/parallel.py), else computed when collected."""
    run = exact.gradients if tier == "exact" else tensor.gradients
    if tier == "tensor" and parallel.worth_it(plan):
        return parallel.start(lambda: run(plan, seed)[0])
    return lambda: run(plan, seed)[0]


def _symbolic(pending: Callable[[], dict[int, np.ndarray]], tier: str, timer: _Timer,
              report: Report) -> dict[int, np.ndarray] | None:
    """The symbolic witness's gradients; None (and the reason in the report) if it could not run."""
    try:
        return timer.run("symbolic", pending)
    except (tensor.NotCovered, NotImplementedError) as err:
        report.tier, report.tier_reason = "off", f"the {tier} tier does not cover {err}"
    except WitnessTimeout as err:
        failed = str(err).startswith("symbolic witness failed")  # a failure is not called a timeout
        report.tier_reason = f"{report.tier_reason}; {err if failed else f'timed out: {err}'}"
        what = str(err) if failed else f"symbolic witness timed out ({err})"
        report.notes.append(f"{what}; the other witnesses still answered")
    return None


def _start(symbolic: SymbolicHook, plan: Plan, seed: np.ndarray,
           tier: str) -> Callable[[], dict[int, np.ndarray]]:
    """Start the symbolic witness; a failure to start is raised when it is collected."""
    try:
        return symbolic(plan, seed, tier)
    except (WitnessTimeout, tensor.NotCovered, NotImplementedError) as err:
        failure = err

        def fail() -> dict[int, np.ndarray]:
            raise failure

        return fail


def _local_witnesses(request: CheckRequest, plan: Plan, seed: np.ndarray, timer: _Timer, report: Report,
                     grads: dict[str, dict[int, np.ndarray]]) -> Any:
    """The numeric and finite-difference witnesses (into ``grads``); the finite differences."""
    if "numeric" in request.witnesses:
        try:
            with np.errstate(all="ignore"):  # inf and nan are reported as non_finite, not warned about
                grads["numeric"], report.output = timer.run("numeric", lambda: numeric_gradients(plan, seed))
        except (ValueError, TypeError, IndexError, ArithmeticError) as err:
            if isinstance(err, CrossgradError):
                raise
            report.failures["numeric"] = f"the numeric witness failed: {type(err).__name__}: {err}"
            grads["numeric"] = {}
    fd = None
    if "finite_difference" in request.witnesses:
        fd = timer.run("finite_difference", lambda: fd_joint.finite_differences(plan, seed, request.fd_seed))
        if fd.mode == "per_element":
            grads["finite_difference"] = fd.grads
        report.finite_difference = fd_joint.describe(fd)
    return fd


def _witness_grads(request: CheckRequest, plan: Plan, seed: np.ndarray, tier: str, timer: _Timer,
                   report: Report, symbolic: SymbolicHook,
                   local: LocalHook = _local_witnesses) -> tuple[dict[str, dict[int, np.ndarray]], Any]:
    grads: dict[str, dict[int, np.ndarray]] = {}
    wants_symbolic = tier != "off" and "symbolic" in request.witnesses
    pending = _start(symbolic, plan, seed, tier) if wants_symbolic else None
    try:
        fd = local(request, plan, seed, timer, report, grads)
    except BaseException:
        getattr(pending, "cancel", lambda: None)()
        raise
    found = None if pending is None else _symbolic(pending, tier, timer, report)
    if isinstance(pending, parallel.Pending):  # its own time on its thread, not the wait for it
        timer.times["symbolic"] = pending.seconds
    if found is not None:
        grads["symbolic"] = found
    grads = {w: grads[w] for w in WITNESSES if w in grads}  # the report's column order
    names = {plan.graph.nodes[i].name: i for i in plan.grad_leaves()}
    for name, value in request.claimed.items():
        if name not in names:
            raise GraphError(f"claimed.{name}", "not a leaf that requires grad")
        grads.setdefault("claimed", {})[names[name]] = np.asarray(value, np.float64)
    return grads, fd


Row = tuple[tuple[str, str], np.ndarray, np.ndarray]  # a pair of witnesses and their two values


_NUMPY_DTYPES = {"float32": np.dtype(np.float32), "float64": np.dtype(np.float64)}  # dtype.name runs Python code


def _unusable(entry: LeafReport, failures: dict[str, str]) -> dict[str, str]:
    """Witnesses whose gradient of this leaf cannot be compared: it failed, or its shape (or, for
    the numeric engine, its dtype) is not the leaf's. A finding about that witness, not an error."""
    found = {w: why for w, why in failures.items() if w not in entry.grads}
    shape = tuple(entry.shape)
    for witness, grad in entry.grads.items():
        if np.shape(grad) != shape:
            found[witness] = (f"{witness}'s gradient has shape {list(np.shape(grad))}, the leaf's is "
                              f"{list(entry.shape)}")
        elif witness == "numeric" and np.asarray(grad).dtype != _NUMPY_DTYPES.get(entry.dtype, entry.dtype):
            found[witness] = f"numeric's gradient is {np.asarray(grad).dtype.name}, the leaf is {entry.dtype}"
    return found


def _leaf_rows(leaf: int, entry: LeafReport, fd: Any, skipped: dict,
               failures: dict[str, str]) -> dict[str, list[Row]]:
    """The leaf's pairs to compare, by unit (directional finite differences compare projections);
    pairs with a missing witness go to ``skipped``."""
    directions = fd is not None and fd.mode == "directions"
    rows: dict[str, list[Row]] = {"elements": [], "directions": []}
    broken = _unusable(entry, failures)
    for pair in PAIRS:
        a, b = entry.grads.get(pair[0]), entry.grads.get(pair[1])
        if pair[0] == "claimed" and a is None:
            continue
        faulty = [w for w in pair if w in broken]
        if faulty:
            size = math.prod(entry.shape)
            skipped[(leaf, pair)] = PairComparison(pair, MISMATCH, total=size, mismatched=size,
                                                   reason="; ".join(broken[w] for w in faulty))
            continue
        if a is not None and pair[1] == "finite_difference" and directions:
            rows["directions"].append((pair, fd.project(leaf, a, pair[0]), fd.slopes[leaf]))
        elif a is not None and b is not None:
            rows["elements"].append((pair, a, b))
        else:
            reason = f"{pair[0] if a is None else pair[1]} did not run"
            skipped[(leaf, pair)] = PairComparison(pair, SKIPPED, reason=reason)
    return rows


def _side_by_side(members: list[tuple[int, list[Row]]], side: int) -> np.ndarray:
    """[pairs, elements]: each pair's values on every member leaf, leaves side by side."""
    count = len(members[0][1])
    flat = np.concatenate([rows[r][side] for r in range(count) for _, rows in members], axis=None, dtype=np.float64)
    return flat.reshape(count, -1)  # one call: on small graphs numpy's per-call cost is the cost


Group = tuple[str, str, tuple[tuple[str, str], ...]]  # unit, dtype, pairs: leaves compared together


def leaf_groups(plan: Plan, grads: dict, fd: Any, found: dict, failures: dict[str, str]
                ) -> tuple[dict[int, LeafReport], dict[Group, list[tuple[int, list[Row]]]]]:
    """Each differentiable leaf's report (pairs still to compare; pairs decided without comparing
    go into ``found``) and its rows grouped by (unit, the tolerances' dtype, pairs)."""
    entries: dict[int, LeafReport] = {}
    groups: dict[Group, list[tuple[int, list[Row]]]] = {}
    precision = gradient_dtypes(plan)  # a float64 leaf cast to float32 on its way: float32 tolerances
    for leaf in plan.grad_leaves():
        entries[leaf] = LeafReport(plan.graph.nodes[leaf].name, plan.shapes[leaf], plan.dtypes[leaf],
                                   {w: g[leaf] for w, g in grads.items() if leaf in g}, [])
        for unit, rows in _leaf_rows(leaf, entries[leaf], fd, found, failures).items():
            if rows:
                groups.setdefault((unit, precision[leaf], tuple(pair for pair, _, _ in rows)), []).append((leaf, rows))
    return entries, groups


def _leaf_reports(request: CheckRequest, plan: Plan, seed: np.ndarray, grads: dict, fd: Any,
                  kink_values: list[np.ndarray] | None, failures: dict[str, str]) -> list[LeafReport]:
    """Every pair of witnesses on every leaf. Leaves with the same dtype, unit and pairs are
    compared in one pass (the seed graph: both leaves, three pairs, one call)."""
    found: dict[tuple[int, tuple[str, str]], PairComparison] = {}
    entries, groups = leaf_groups(plan, grads, fd, found, failures)
    scales = {"elements": float(np.abs(seed).max(initial=0.0)), "directions": getattr(fd, "seed_scale", 1.0)}
    flowing: dict[int, float] = {}

    def magnitude(leaf: int) -> float:
        """Computed once per check, and only if a difference needs the floor."""
        if not flowing:
            flowing.update(flowing_magnitudes(plan, seed))
        return flowing.get(leaf, 0.0)

    spread = None if kink_values is not None else forward_rounding.Spreads(plan, seed)
    for key, members in groups.items():
        kinks = kink_values if key[0] == "elements" else None
        for row in _compare_group(request, plan, seed, key, members, kinks, scales[key[0]], magnitude, spread):
            for (leaf, _), result in zip(members, row):
                found[(leaf, result.witnesses)] = result
    for leaf, entry in entries.items():
        entry.pairs = [found[(leaf, pair)] for pair in PAIRS if (leaf, pair) in found]
        finish_leaf(entry)
    return list(entries.values())


def _compare_group(request: CheckRequest, plan: Plan, seed: np.ndarray, key: Group,
                   members: list[tuple[int, list[Row]]], kink_values: list[np.ndarray] | None,
                   seed_scale: float, magnitudes: Callable[[int], float],
                   spread: Callable[[int], np.ndarray] | None = None) -> list[list[PairComparison]]:
    """[pair][member leaf] comparisons of one group."""
    unit, dtype, pairs = key
    tols = [policy(dtype, pair, request.tolerance) for pair in pairs]
    hull_cache: dict = {}
    kinks = None if kink_values is None else \
        [[_kink_test(plan, seed, leaf, kink_values, t, hull_cache) for leaf, _ in members] for t in tols]
    shapes = [np.shape(rows[0][1]) for _, rows in members]
    floors = None if unit != "elements" else lambda: [magnitudes(leaf) for leaf, _ in members]
    rounding = None if unit != "elements" or spread is None or request.tolerance is not None else \
        lambda: np.concatenate([spread(leaf).ravel() for leaf, _ in members])
    return compare_leaves(list(pairs), _side_by_side(members, 1), _side_by_side(members, 2), shapes, dtype,
                          tols, kinks, unit, seed_scale, floors, rounding)


def _fd_disagrees(report: Report) -> bool:
    return any("finite_difference" in p.witnesses and p.mismatched_indices for leaf in report.leaves
               for p in leaf.pairs)


def _unreliable_fd(plan: Plan, seed: np.ndarray, report: Report, fd: Any) -> None:
    """Where finite differences disagree, estimate the quotients' own error at those elements; a
    difference that error explains is not evidence: finite differences are unreliable there and
    the other witnesses decide (ill-conditioned but legitimate graphs: huge offsets, tiny
    divisors, a kink within the step)."""
    index = {plan.graph.nodes[i].name: i for i in plan.grad_leaves()}
    for entry in report.leaves:
        suspects = [p for p in entry.pairs if "finite_difference" in p.witnesses and p.mismatched_indices]
        if not suspects:
            continue
        where = sorted({i for p in suspects for i in p.mismatched_indices})
        leaf = index[entry.name]
        if fd.mode == "directions":  # the indices are direction numbers
            errors = finite_diff.direction_error_estimates(plan, seed, leaf, fd.directions[leaf],
                                                           [k for k, in where], fd.slopes[leaf])
        else:
            fd_values = np.array([entry.grads["finite_difference"][i] for i in where])
            errors = finite_diff.error_estimates(plan, seed, leaf, where, fd_values)
        error = dict(zip(where, errors))
        for pair in suspects:
            _drop_unreliable(pair, error)
        finish_leaf(entry)
    report.verdict = worst([leaf.verdict for leaf in report.leaves])


def _drop_unreliable(pair: PairComparison, error: dict[tuple[int, ...], float]) -> None:
    """Mismatched elements whose difference the finite differences' error estimate explains
    (within FD_ERROR_FACTOR of it) no longer count against the pair."""
    keep = [(i, v) for i, v in zip(pair.mismatched_indices, pair.mismatched_values)
            if abs(v[0] - v[1]) > FD_ERROR_FACTOR * error.get(i, 0.0)]
    dropped = len(pair.mismatched_indices) - len(keep)
    if not dropped:
        return
    pair.mismatched -= dropped
    pair.mismatched_indices = [i for i, _ in keep]
    pair.mismatched_values = [v for _, v in keep]
    note = (f"finite differences unreliable here at {dropped} {pair.unit} (their own error estimate explains "
            "the difference); judged by the other witnesses")
    pair.reason = f"{pair.reason}; {note}" if pair.reason else note
    if pair.mismatched == 0:
        pair.verdict = pair_verdict(pair)
        pair.worst_index, pair.worst_values = None, None


def _note_unresolved(report: Report) -> None:
    """Say what an unresolved leaf means and how to make its gradient checkable."""
    names = [leaf.name for leaf in report.leaves if leaf.verdict == UNRESOLVED]
    conditioned = [leaf.name for leaf in report.leaves if leaf.verdict == UNRESOLVED
                   and any(p.conditioned and p.unresolved for p in leaf.pairs)]
    if conditioned:
        report.notes.append(f"unresolved: {', '.join(conditioned)} — the forward pass cancels large terms (an "
                            f"ill-conditioned graph), so rounding in the leaf's dtype can move the gradient as much "
                            "as its own size; compute in float64 or remove the large offset to check it")
        names = [name for name in names if name not in conditioned]
    if names:
        report.notes.append(f"unresolved: {', '.join(names)} — the gradient cancels to the rounding noise of its own "
                            "computation, so no witness can confirm or refute it here; weight the loss so it does "
                            "not cancel (e.g. (y * torch.randn_like(y)).sum() instead of y.sum())")


def _forward_culprits(plan: Plan, report: Report, tier: str) -> None:
    """After a mismatch: op nodes whose numeric forward rule disagrees with the exact tier's from
    the same inputs. Finite differences run those forward rules too, so a gradient mismatch that
    made symbolic the odd one out is the numeric engine's fault: the suspect becomes numeric."""
    try:
        found = forward_mismatches(plan, tier)  # its symbolic part by engine/offload.py
    except WitnessTimeout as err:
        report.notes.append(f"forward values not compared: {err}")
        return
    except (ValueError, TypeError, IndexError, ArithmeticError, NotImplementedError) as err:
        if isinstance(err, CrossgradError):
            raise
        report.notes.append(f"forward values not compared: {type(err).__name__}: {err}")
        return
    if not found:
        return
    report.culprits.extend(found)
    for leaf in report.leaves:
        if leaf.verdict == MISMATCH:
            leaf.suspect = "numeric"
    report.notes.append("a numeric forward rule is wrong (see the culprits); finite differences use the same "
                        "forward rules, so their agreement with numeric is no evidence")


def _backward_culprits(plan: Plan, seed: np.ndarray, report: Report, tier: str) -> None:
    """After a mismatch: op nodes whose backward sends a wrong adjoint (numeric against the
    symbolic tier that ran)."""
    suspects = {leaf.suspect for leaf in report.leaves if leaf.verdict == MISMATCH}
    suspect = suspects.pop() if len(suspects) == 1 else None
    try:
        report.culprits.extend(localize(plan, seed, report.grad_fns, suspect if suspect != "claimed" else None,
                                        tier))  # its symbolic part by engine/offload.py
    except WitnessTimeout as err:
        report.notes.append(f"op-level localization did not finish: {err}")
    except (ValueError, TypeError, IndexError, ArithmeticError) as err:  # a broken rule may not even run
        if isinstance(err, CrossgradError):
            raise
        report.notes.append(f"op-level localization failed: {type(err).__name__}: {err}")


def _fd_culprits(plan: Plan, seed: np.ndarray, report: Report, request: CheckRequest) -> None:
    """After a mismatch without the symbolic witness: numeric against finite differences at every
    op node (engine/fd_adjoints.py)."""
    from .fd_adjoints import culprits

    try:
        report.culprits.extend(culprits(plan, seed, numeric_adjoints(plan, seed), report.grad_fns,
                                        request.fd_seed, request.tolerance))
    except (ValueError, TypeError, IndexError, ArithmeticError) as err:
        if isinstance(err, CrossgradError):
            raise
        report.notes.append(f"op-level localization failed: {type(err).__name__}: {err}")


def _claimed_stages(plan: Plan, seed: np.ndarray, stages: dict[int, np.ndarray], grads: dict, tier: str,
                    request: CheckRequest, report: Report) -> None:
    """Claimed adjoints at op nodes against the symbolic tier's (else the numeric engine's in float64)."""
    adjoints = None
    if tier in ("exact", "tensor") and "symbolic" in grads:
        try:
            adjoints = offload.call(node_adjoints if tier == "exact" else tensor_adjoints.node_adjoints, plan, seed)
        except WitnessTimeout as err:
            report.notes.append(f"claimed stages judged against the numeric engine: the symbolic tier's did not "
                                f"finish ({err})")
    if adjoints is not None:
        reference, witness = {i: out for i, (out, _) in adjoints.items()}, "symbolic"
    else:
        reference, witness = {i: out for i, (out, _) in numeric_adjoints(plan, seed).items()}, "numeric"
    wrong = wrong_stages(plan, stages, reference, witness, request.tolerance)
    report.culprits[:0] = wrong
    if wrong:
        report.verdict = MISMATCH
    elif not report.leaves:
        report.verdict = "agree"


def _attach_formulas(report: Report, plan: Plan, seed: np.ndarray) -> None:
    try:
        forms = offload.call(closed_form.rendered_with_mathml, plan, seed)
    except WitnessTimeout as err:
        report.notes.append(f"closed forms not written: {err}")
        return
    if forms is None:
        report.notes.append(f"closed forms are offered for at most {closed_form.MAX_ELEMENTS} "
                            "differentiable elements")
        return
    for leaf in report.leaves:
        leaf.closed_form, leaf.closed_form_latex, leaf.closed_form_mathml = forms.get(leaf.name, ([], [], []))


def _reference(symbolic: SymbolicHook, tier: str, plan: Plan, seed: np.ndarray) -> tuple[dict[int, np.ndarray], None]:
    """A program step's symbolic reference by check's hook (a server's worker, under the call's
    deadline): one that overran stops the program, one that failed is an internal error."""
    from .errors import DeadlineError

    try:
        return symbolic(plan, seed, tier)(), None
    except WitnessTimeout as err:
        if str(err).startswith("symbolic witness failed"):
            raise RuntimeError(str(err)) from None
        raise DeadlineError("program", f"a backward step's symbolic reference did not finish: {err}") from None


def _run_program(request: CheckRequest, plan: Plan, tier: str, report: Report, timer: _Timer,
                 symbolic: SymbolicHook = _local_symbolic) -> Report:
    from .program import run_program

    references: dict[str, Any] = {}
    if tier != "off" and "symbolic" in request.witnesses:
        references["symbolic"] = partial(_reference, symbolic, tier)
    if "finite_difference" in request.witnesses and finite_diff.planned_work(plan)[0] == "per_element":
        references["finite_difference"] = lambda p, s: (finite_diff.finite_differences(p, s).grads, None)
        report.finite_difference = "per_element"
    else:
        report.notes.append("finite differences take part in programs only for small graphs")
    report.steps = timer.run("program", lambda: run_program(plan, list(request.program or []),
                                                            references, request.tolerance, request.deadline))
    report.verdict = worst([s.verdict for s in report.steps])
    report.timings = timer.times
    return report


def grad_fn_names(plan: Plan) -> dict[str, str]:
    """What PyTorch would call each recorded op node's grad_fn (once per structure and names)."""
    return dict(plan_facts.memo(plan, "grad_fns", _grad_fn_names, names=True))


def _grad_fn_names(plan: Plan) -> dict[str, str]:
    names = {}
    for i, node in enumerate(plan.graph.nodes):
        if isinstance(node, OpNode) and plan.active[i]:
            shapes = [None if s is None else plan.shapes[s] for s in input_indices(plan, i)]
            name = ops.CATALOGUE[node.op].grad_fn_name(shapes, plan.attrs[i])
            if name:
                names[node.name] = name
    return names


def check(request: CheckRequest, symbolic: SymbolicHook = _local_symbolic, plan: Plan | None = None,
          local: LocalHook = _local_witnesses) -> Report:
    """Validate, run the witnesses, compare every pair on every differentiable leaf.

    ``symbolic`` starts the symbolic witness (in this process by default, computed when
    collected; the server passes a worker pool with a deadline, which works while this process
    runs the numeric and finite-difference witnesses; a WitnessTimeout leaves the others' answer).
    ``plan``: ``validate(request.graph)`` when the caller already has it (the server does).
    ``local``: computes the numeric and finite-difference witnesses (a batch passes its own).
    """
    begun = check_begin(request, symbolic, plan, local)
    if isinstance(begun, Report):
        return begun
    return check_finish(begun, _leaf_reports(begun.request, begun.plan, begun.seed, begun.grads, begun.fd,
                                             begun.kink_values, begun.report.failures))


@dataclass
class Checking:
    """A check whose witnesses have answered and whose leaves are not compared yet (a batch
    compares the leaves of many such checks in one pass: engine/batch_compare.py)."""

    request: CheckRequest
    plan: Plan
    seed: np.ndarray
    tier: str
    report: Report
    timer: _Timer
    grads: dict[str, dict[int, np.ndarray]]
    fd: Any
    kink_values: list[np.ndarray] | None
    stages: dict[int, np.ndarray]


def check_begin(request: CheckRequest, symbolic: SymbolicHook = _local_symbolic, plan: Plan | None = None,
                local: LocalHook = _local_witnesses) -> Report | Checking:
    """``check`` up to the comparisons: the finished report of a program or a second-order
    check, else the witnesses' answers."""
    if type(request.order) is not int or request.order != 1:
        from .hessian import check_order, check_order2

        if check_order(request.order) == 2:
            return note_override(check_order2(request), request.tolerance)
    timer = _Timer()
    plan = plan if plan is not None and plan.graph is request.graph else \
        timer.run("validate", lambda: validate(request.graph))
    tier, reason = _choose_tier(plan, request.tier, request.exact_budget, backward_runs(request.program))
    report = Report(SKIPPED, [], tier, reason, "off", grad_fns=grad_fn_names(plan), graph=request.graph)
    note_override(report, request.tolerance)
    if request.program:
        return _run_program(request, plan, tier, report, timer, symbolic)
    seed = _seed(plan, request.seed)
    refuse_out_of_domain(plan)
    claimed = dict(request.claimed)
    stages = split_claimed(plan, claimed)
    refuse_unknown(plan, claimed)
    if stages:
        request = replace(request, claimed=claimed)
    with parallel.limit(request.threads):
        grads, fd = _witness_grads(request, plan, seed, tier, timer, report, symbolic, local)
        if isinstance(fd, fd_joint.JointDifferences):
            timer.run("fd_screen", lambda: fd_joint.settle(fd, plan, seed, grads, request.tolerance))
            report.finite_difference = fd_joint.describe(fd)
    kink_values = timer.run("kinks", lambda: kinks_present(plan))
    return Checking(request, plan, seed, tier, report, timer, grads, fd, kink_values, stages)


def check_finish(c: Checking, leaves: list[LeafReport]) -> Report:
    """``check`` after the comparisons: verdict, localization, claimed stages, closed forms."""
    request, plan, seed, tier, report, timer, grads, fd = c.request, c.plan, c.seed, c.tier, c.report, c.timer, \
        c.grads, c.fd
    report.leaves = leaves
    if fd is not None and _fd_disagrees(report):
        timer.run("fd_reliability", lambda: _unreliable_fd(plan, seed, report, fd))
    report.verdict = worst([leaf.verdict for leaf in report.leaves])
    _note_unresolved(report)
    note_skipped(report)
    note_all_zero(report, seed)
    if report.verdict == MISMATCH and "numeric" in grads and "symbolic" in grads:
        timer.run("forward_check", lambda: _forward_culprits(plan, report, tier))
        if not report.culprits:
            timer.run("localize", lambda: _backward_culprits(plan, seed, report, tier))
    elif report.verdict == MISMATCH and "numeric" in grads and fd is not None and \
            (report.tier == "off" or "symbolic" not in request.witnesses):  # not after a timeout: no time left
        timer.run("localize", lambda: _fd_culprits(plan, seed, report, request))
    if c.stages:
        timer.run("claimed_stages", lambda: _claimed_stages(plan, seed, c.stages, grads, tier, request, report))
    if request.formulas and tier == "exact":
        timer.run("formulas", lambda: _attach_formulas(report, plan, seed))
    report.timings = timer.times
    return report


def check_tensor(root: Any, gradient: Any = None, names: dict[str, Any] | None = None,
                 **options: Any) -> Report:
    """``crossgrad.check(loss)``: export the tensor's graph and check it."""
    from .numeric.export import to_graph

    by_id = {id(t): n for n, t in (names or {}).items()}
    graph, leaves = to_graph(root, by_id)
    seed = None if gradient is None else np.asarray(getattr(gradient, "_data", gradient))
    report = check(CheckRequest(graph, seed, **options))
    report.tensor_names = {id(t): n for n, t in leaves.items()}
    return report
