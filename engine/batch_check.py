"""``check`` for many requests of one structure at once (CheckStream's and check_many's batches).

Requests that differ only in leaf values and claimed values (``batch_key``) are evaluated
together: the numeric witness forward and backward over all of them stacked on a leading axis
(numeric/batch_numeric.py), per-element finite differences of all of them in one batched
forward (batch_fd.py), and the symbolic witness as one job for the group (``symbolic_many``,
the server's worker pool). Each request then gets its own report from ``check`` with those
answers: the comparisons, verdicts, localization and notes are exactly those of a check of the
request alone, and each request's errors are its own (a failure is returned in its place).
A witness a structure cannot batch (an op without a batch rule, a graph with detach) runs
request by request inside ``check``, as it would alone.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

import numpy as np

from . import batch_fd, fd_joint, finite_diff, ops
from .check import (
    Checking,
    CheckRequest,
    WitnessTimeout,
    _choose_tier,
    _local_witnesses,
    _seed,
    check,
    check_begin,
    check_finish,
)
from .errors import CrossgradError
from .graph import Leaf, Plan, input_indices, validate
from .numeric import batch_numeric


class GroupJob(Protocol):
    """A group's symbolic job: ``get(n)`` waits for request n's gradients (an exception in its
    place when its own run failed; raises WitnessTimeout when the whole job failed), ``finish()``
    waits for the rest."""

    def get(self, n: int) -> Any: ...

    def finish(self) -> None: ...


# (plans, seeds, tier) -> the group's symbolic job (the server's worker pool)
SymbolicMany = Callable[[Sequence[Plan], Sequence[np.ndarray], str], GroupJob]
CHUNK = 32  # requests begun, compared and finished together (their symbolic answers arrive in parts)
MAX_GROUP = 256  # requests evaluated together at most
# Only small graphs are batched (all node values of one request, in elements): a batch holds every
# request's values at once, and a large graph gains nothing from sharing numpy's per-call cost
BATCH_MAX_ELEMENTS = 1 << 15


def batch_key(request: CheckRequest, plan: Plan) -> tuple | None:
    """Equal for requests that differ only in leaf values, seed values and claimed values (None:
    this request is checked alone: a program, second order). Leaves that feed an input without a
    gradient (class targets, masks) are part of the key: their value is structure here."""
    if request.program or type(request.order) is not int or request.order != 1 or not _small(plan):
        return None
    claimed = tuple(sorted((name, np.shape(v)) for name, v in request.claimed.items()))
    seed = None if request.seed is None else np.shape(request.seed)
    return (plan.structure_hash, request.tier, tuple(request.witnesses), request.tolerance, request.formulas,
            request.fd_seed, request.exact_budget, claimed, seed, _fixed_leaves(plan))


def _small(plan: Plan) -> bool:
    return sum(math.prod(shape) for shape in plan.shapes[: plan.output + 1]) <= BATCH_MAX_ELEMENTS


def _fixed_leaves(plan: Plan) -> tuple:
    """The values of leaves read by an input that takes no gradient."""
    return tuple((i, np.asarray(plan.graph.nodes[i].value).tobytes())  # type: ignore[union-attr]
                 for i in sorted(fixed_leaf_indices(plan)))


def fixed_leaf_indices(plan: Plan) -> set[int]:
    """Leaves read by an input that takes no gradient: their values are part of ``batch_key``."""
    fixed: set[int] = set()
    for i, node in enumerate(plan.graph.nodes[: plan.output + 1]):
        if isinstance(node, Leaf):
            continue
        srcs = input_indices(plan, i)
        specs = ops.CATALOGUE[node.op].input_specs(len(srcs))
        fixed.update(s for p, s in enumerate(srcs) if s is not None and not specs[p].differentiable
                     and isinstance(plan.graph.nodes[s], Leaf))
    return fixed


@dataclass
class _Batch:
    """A group's precomputed witnesses, per request (None: that witness runs in ``check``)."""

    numeric: list[tuple[dict[int, np.ndarray], np.ndarray]] | None = None
    fd: list[Any] | None = None
    symbolic: GroupJob | None = None
    seconds: dict[str, float] = field(default_factory=dict)  # per request, the group's time shared


def check_group(requests: Sequence[CheckRequest], plans: Sequence[Plan],
                symbolic_many: SymbolicMany | None = None) -> list[Any]:
    """Reports of requests with one ``batch_key``, in order; a request that failed gets its
    exception in its place. ``symbolic_many`` None: the symbolic witness runs in ``check``."""
    results: list[Any] = [None] * len(requests)
    for r, result in check_group_iter(requests, plans, symbolic_many):
        results[r] = result
    return results


def check_group_iter(requests: Sequence[CheckRequest], plans: Sequence[Plan],
                     symbolic_many: SymbolicMany | None = None) -> Iterator[tuple[int, Any]]:
    """``check_group``'s (request number, result) in order, each CHUNK as soon as it is compared
    (the symbolic worker computes the next ones meanwhile)."""
    results: list[Any] = [None] * len(requests)
    seeds: dict[int, np.ndarray] = {}
    for r, (request, plan) in enumerate(zip(requests, plans)):
        try:
            seeds[r] = _seed(plan, request.seed)
        except CrossgradError as err:
            results[r] = err
    ok = list(seeds)
    if not ok:
        yield from enumerate(results)
        return
    batch = _precompute(requests[ok[0]], [plans[r] for r in ok], [seeds[r] for r in ok], symbolic_many)
    sent = 0
    try:
        for start in range(0, len(ok), CHUNK):
            begun: dict[int, Checking] = {}
            for n in range(start, min(start + CHUNK, len(ok))):
                r = ok[n]
                try:
                    found = check_begin(requests[r], _symbolic_hook(batch, n), plans[r], _local_hook(batch, n))
                except CrossgradError as err:
                    results[r] = err
                    continue
                if isinstance(found, Checking):
                    begun[r] = found
                else:
                    results[r] = found
            _finish(begun, results)
            ready = ok[start + CHUNK] if start + CHUNK < len(ok) else len(requests)
            for r in range(sent, ready):
                yield r, results[r]
            sent = ready
    finally:
        if batch.symbolic is not None:  # read to the end even when no report needed it: frees the worker
            batch.symbolic.finish()


def _finish(begun: dict[int, Checking], results: list[Any]) -> None:
    """Every begun check's comparisons in one pass (batch_compare), then each one's finish."""
    from .batch_compare import leaf_reports_many

    for r, leaves in zip(begun, leaf_reports_many(list(begun.values()))):
        try:
            results[r] = check_finish(begun[r], leaves)
        except CrossgradError as err:
            results[r] = err


def _precompute(request: CheckRequest, plans: list[Plan], seeds: list[np.ndarray],
                symbolic_many: SymbolicMany | None) -> _Batch:
    plan, batch, count = plans[0], _Batch(), len(plans)
    tier = _choose_tier(plan, request.tier, request.exact_budget)[0]
    if symbolic_many is not None and tier != "off" and "symbolic" in request.witnesses and count > 1:
        try:
            batch.symbolic = symbolic_many(plans, seeds, tier)
        except WitnessTimeout:
            batch.symbolic = None  # each request starts its own
    try:
        if "numeric" in request.witnesses and batch_numeric.supported(plan):
            batch.numeric = _timed(batch, "numeric", count, lambda: _numeric(plans, seeds))
        if "finite_difference" in request.witnesses and _fd_per_element(plan) and batch_fd.batchable(plan):
            batch.fd = _timed(batch, "finite_difference", count, lambda: batch_fd.per_element(plans, seeds))
    except BaseException:
        if batch.symbolic is not None:  # the worker holding the group's symbolic job goes back
            batch.symbolic.finish()
        raise
    return batch


def _timed(batch: _Batch, name: str, count: int, run: Callable[[], Any]) -> Any:
    """``run()``, its time shared by the requests; None when it fails (each request runs it alone)."""
    start = time.perf_counter()
    try:
        return run()
    except (ValueError, TypeError, IndexError, ArithmeticError, MemoryError):
        return None
    finally:
        batch.seconds[name] = (time.perf_counter() - start) / count


def _fd_per_element(plan: Plan) -> bool:
    """Whether fd_joint.finite_differences takes per-element differences for this structure."""
    return finite_diff.planned_work(plan)[0] == "per_element"


def _numeric(plans: list[Plan], seeds: list[np.ndarray]) -> list[tuple[dict[int, np.ndarray], np.ndarray]]:
    plan = plans[0]
    stacks = {i: np.stack([np.asarray(p.graph.nodes[i].value) for p in plans])  # type: ignore[union-attr]
              for i, node in enumerate(plan.graph.nodes[: plan.output + 1]) if isinstance(node, Leaf)}
    grads, outputs = batch_numeric.gradients(plan, stacks, np.stack(seeds))
    return [({leaf: g[r] for leaf, g in grads.items()}, outputs[r]) for r in range(len(plans))]


def _local_hook(batch: _Batch, n: int) -> Callable[..., Any]:
    """check's ``local`` for request ``n``: the group's answers, the rest computed alone."""

    def local(request: CheckRequest, plan: Plan, seed: np.ndarray, timer: Any, report: Any, grads: dict) -> Any:
        rest = tuple(w for w in request.witnesses
                     if not (w == "numeric" and batch.numeric) and not (w == "finite_difference" and batch.fd))
        fd = None  # _local_witnesses runs only the numeric and finite-difference witnesses
        if "numeric" in rest or "finite_difference" in rest:
            alone = request if rest == tuple(request.witnesses) else replace(request, witnesses=rest)
            fd = _local_witnesses(alone, plan, seed, timer, report, grads)
        if batch.numeric is not None and "numeric" in request.witnesses:
            grads["numeric"], report.output = batch.numeric[n]
            timer.times["numeric"] = batch.seconds["numeric"]
        if batch.fd is not None and "finite_difference" in request.witnesses:
            fd = batch.fd[n]
            grads["finite_difference"] = fd.grads
            report.finite_difference = fd_joint.describe(fd)
            timer.times["finite_difference"] = batch.seconds["finite_difference"]
        return fd

    return local


def _symbolic_hook(batch: _Batch, n: int) -> Any:
    """check's ``symbolic`` for request ``n``: its part of the group's job, else its own."""
    from .check import _local_symbolic

    if batch.symbolic is None:
        return _local_symbolic
    group = batch.symbolic

    def start(plan: Plan, seed: np.ndarray, tier: str) -> Callable[[], dict[int, np.ndarray]]:
        def collect() -> dict[int, np.ndarray]:
            found = group.get(n)
            if isinstance(found, BaseException):
                raise found
            return found

        return collect

    return start


def check_many(requests: Sequence[CheckRequest], symbolic_many: SymbolicMany | None = None) -> list[Any]:
    """Reports of ``requests`` in order (a failed request's exception in its place), runs of
    consecutive requests with one ``batch_key`` checked together (in this process)."""
    results: list[Any] = []
    keyed: list[tuple[CheckRequest, Plan | None, tuple | None]] = []
    for request in requests:
        try:
            plan = validate(request.graph)
            keyed.append((request, plan, batch_key(request, plan)))
        except CrossgradError as err:
            keyed.append((request, None, None))
            results.append(err)
            continue
        results.append(None)
    for start, stop in runs([k for _, _, k in keyed]):
        group = keyed[start:stop]
        if results[start] is not None:
            continue
        found = check_group([r for r, _, _ in group], [p for _, p, _ in group if p is not None], symbolic_many) \
            if stop - start > 1 else [_alone(group[0][0], group[0][1])]
        results[start:stop] = found
    return results


def _alone(request: CheckRequest, plan: Plan | None) -> Any:
    try:
        return check(request, plan=plan)
    except CrossgradError as err:
        return err


def runs(keys: Sequence[tuple | None]) -> list[tuple[int, int]]:
    """[start, stop) of runs of equal keys (None is never equal), at most MAX_GROUP long."""
    out: list[tuple[int, int]] = []
    start = 0
    for i in range(1, len(keys) + 1):
        if i == len(keys) or keys[i] is None or keys[i] != keys[start] or i - start >= MAX_GROUP:
            out.append((start, i))
            start = i
    return out
