"""``gradcheck``: torch.autograd.gradcheck's call shape, judged by crossgrad's witnesses.

PyTorch's autograd (a custom ``autograd.Function.backward`` included) gives the ``claimed``
gradient; crossgrad's numeric engine, symbolic witness and finite differences judge it on a
graph captured from the forward alone. An output of at most ``JACOBIAN_MAX`` elements is
checked row by row (one vector-Jacobian product per output element: the full Jacobian);
a larger one along ``DIRECTIONS`` seeded random directions, each a VJP covering every input
element. The captured structure is cached per function and input signature, so a repeated
call only refills the leaf values. Above ``LARGE`` differentiable elements crossgrad's numeric
engine (a second autograd) sits out: PyTorch's gradient is judged element by element by the
symbolic witness, which finite differences confirm along random directions. A VJP on which
PyTorch's gradient agrees with the numeric and symbolic witnesses passes without finite
differences or a report (quick.py); any doubt runs the full check.
"""

from __future__ import annotations

import dataclasses
import math
import threading
import warnings
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch
from crossgrad.engine.compare import AGREE, CONVENTION, MISMATCH, NON_FINITE
from crossgrad.engine.graph import Graph, Leaf, Plan, validate
from crossgrad.engine.report import LeafReport, Report
from crossgrad.engine.tolerance import Tolerance
from torch.autograd.gradcheck import GradcheckError as TorchGradcheckError

from .bridge import convert
from .build import _floating, leaf_value
from .decomp_guard import check_decompositions
from .detached import moving_input
from .freshness import Frozen, frozen
from .numbering import torch_numbers, torch_words
from .quick import judged
from .repeats import merged, repeated, unique
from .stale import forward_differs
from .untraced import check_traced

JACOBIAN_MAX = 16  # outputs up to this many elements: full Jacobian, one VJP per element
DIRECTIONS = 2  # larger outputs: this many seeded random VJP directions
CACHE_SIZE = 32
LARGE = 100_000  # more differentiable elements: the symbolic witness (confirmed by finite differences) judges
ALL_WITNESSES = ("numeric", "symbolic", "finite_difference")
TORCH_DEFAULTS = {"atol": 1e-5, "rtol": 1e-3}
NOTHING_REQUIRES_GRAD = ("gradcheck expects at least one input tensor to require gradient, "
                         "but none of them have requires_grad=True.")  # torch's ValueError


TORCH_KEYWORDS = frozenset({"eps", "nondet_tol", "check_undefined_grad", "check_grad_dtypes", "check_batched_grad",
                            "check_batched_forward_grad", "check_forward_ad", "check_backward_ad", "fast_mode",
                            "masked"})


class NothingToCheck(ValueError):
    """The function has no floating-point output: torch's gradcheck passes it (nothing to differentiate)."""


def ignored_keywords(name: str, ignored: dict[str, Any], known: frozenset[str]) -> None:
    """torch's own keywords are accepted and ignored with a note; any other is torch's TypeError."""
    unknown = sorted(set(ignored) - known)
    if unknown:
        raise TypeError(f"{name}() got an unexpected keyword argument {unknown[0]!r}")
    if ignored:
        warnings.warn(f"crossgrad.torch.{name} ignores {sorted(ignored)}", stacklevel=3)


class GradcheckError(TorchGradcheckError):
    """PyTorch's gradient disagrees with crossgrad's witnesses; the message is the agreement report."""


@dataclasses.dataclass
class _Template:
    graph: Graph
    leaves: list[str]  # placeholder leaf names, in capture order
    directions: list[str]  # direction leaves (several outputs), empty for one output
    closed_over: dict[str, torch.Tensor]  # parameters the function closes over, by leaf name
    value_dependent: bool = False  # holds data computed from these inputs (masks, indices): never reused
    slots: dict[str, int] = dataclasses.field(default_factory=dict)  # leaf name -> its position in the graph
    plan: Plan | None = None  # the validated facts, reused while every refilled leaf is floating point
    decomposed: tuple[str, ...] = ()  # ATen ops PyTorch's decompositions replaced (decomp_guard.py)
    frozen: Frozen | None = None  # closed-over constants and bindings the trace baked in (freshness.py)

    def __post_init__(self) -> None:
        self.slots = {n.name: i for i, n in enumerate(self.graph.nodes) if isinstance(n, Leaf)}


_CACHE: OrderedDict[Any, _Template] = OrderedDict()
_LOCK = threading.Lock()


def _signature(func: Any, values: Sequence[Any]) -> Any:
    """What a capture depends on: the function, tensor shapes, dtypes and requires_grad, other values."""
    key = func if getattr(func, "__hash__", None) else id(func)
    return key, tuple((tuple(v.shape), v.dtype, v.requires_grad) if isinstance(v, torch.Tensor) else
                      (v if getattr(v, "__hash__", None) else id(v)) for v in values)


def _template(func: Any, inputs: list[torch.Tensor], params: dict[str, torch.Tensor],
              forget: bool = False) -> tuple[_Template, bool]:
    """The capture of ``func`` for these inputs, and whether it was reused from the cache."""
    key = _signature(func, list(params.values()) + inputs), repeated(inputs)
    with _LOCK:
        cached = None if forget else _CACHE.get(key)
        if cached is not None and (cached.frozen is None or cached.frozen.still_valid()):
            _CACHE.move_to_end(key)
            return cached, True
    template = _capture(func, inputs)
    if template.value_dependent:
        return template, False
    with _LOCK:
        _CACHE[key] = template
        if len(_CACHE) > CACHE_SIZE:
            _CACHE.popitem(last=False)
    return template, False


def _capture(func: Any, inputs: list[torch.Tensor]) -> _Template:
    """The graph of ``func``; several outputs are summed against direction leaves."""
    captured, builder, names = convert(func, inputs)
    names = [n for n in names if _floating(builder.dtypes.get(n))]  # torch checks the float outputs only
    if not names:
        raise NothingToCheck("gradcheck: the function has no floating-point output to differentiate")
    directions = [] if len(names) == 1 else \
        [builder.leaf(f"direction{k}", np.zeros(builder.shape(name), builder.dtypes[name]), False)
         for k, name in enumerate(names)]
    tensors = [v for v in inputs if isinstance(v, torch.Tensor)]
    own = len(captured.names) - len(tensors)  # a module's parameters and buffers come first
    graph, kept = merged(builder.graph(names, directions or None), captured.names[own:], tensors)
    return _Template(graph, captured.names[:own] + kept, directions, dict(builder.params), builder.value_dependent,
                     frozen=frozen(func, captured.graph), decomposed=captured.decomposed)


def nothing_to_check(inputs: list[Any], params: dict[str, torch.Tensor]) -> bool:
    """No floating-point output: True as torch's gradcheck says, after its ValueError when no
    input (nor parameter) requires grad (torch checks that first)."""
    if not any(isinstance(t, torch.Tensor) and t.requires_grad for t in [*inputs, *params.values()]):
        raise ValueError(NOTHING_REQUIRES_GRAD)
    return True


def _parameters(func: Any) -> dict[str, torch.Tensor]:
    if not isinstance(func, torch.nn.Module):
        return {}
    return {**dict(func.named_parameters()), **dict(func.named_buffers())}


def _filled(template: _Template, values: dict[str, np.ndarray]) -> Graph:
    nodes = list(template.graph.nodes)
    for name, value in values.items():
        slot = template.slots.get(name)
        if slot is not None:
            nodes[slot] = Leaf(name, value, nodes[slot].requires_grad)
    return Graph(tuple(nodes), template.graph.output)


def _planned(template: _Template, graph: Graph, values: dict[str, np.ndarray]) -> Plan:
    """``validate(graph)``, from the template's validated facts when only floating-point values
    changed (validation reads shapes, dtypes and integer values, never a float)."""
    floats = all(v.dtype.kind == "f" for v in values.values())
    if template.plan is None or not floats:
        plan = validate(graph)
        if floats:
            template.plan = dataclasses.replace(plan, graph=template.graph)
        return plan
    plan = Plan.__new__(Plan)  # dataclasses.replace, without re-running __init__ (a per-call cost)
    plan.__dict__.update(template.plan.__dict__)
    plan.graph = graph
    return plan


def float_outputs(result: Any) -> list[torch.Tensor]:
    """The function's floating-point outputs (torch's gradcheck skips integer ones)."""
    outputs = [result] if isinstance(result, torch.Tensor) else list(result)
    return [o for o in outputs if isinstance(o, torch.Tensor) and o.is_floating_point()]


def _directions(outputs: list[torch.Tensor]) -> list[list[torch.Tensor]]:
    """One list of output cotangents per VJP: basis vectors (small outputs) or seeded normals."""
    total = sum(o.numel() for o in outputs)
    if total == 1:
        return [[torch.ones_like(outputs[0])]]
    if total <= JACOBIAN_MAX:
        basis = torch.eye(total, dtype=torch.float64)
        return [[row[s:s + o.numel()].reshape(o.shape).to(o.dtype)
                 for o, s in zip(outputs, np.cumsum([0] + [o.numel() for o in outputs]))] for row in basis]
    generator = torch.Generator().manual_seed(0)
    return [[torch.randn(o.shape, generator=generator, dtype=torch.float64).to(o.dtype) for o in outputs]
            for _ in range(DIRECTIONS)]


def _tolerance(atol: float | None, rtol: float | None) -> Tolerance | None:
    if atol is None and rtol is None:
        return None
    return Tolerance(TORCH_DEFAULTS["rtol"] if rtol is None else rtol, TORCH_DEFAULTS["atol"] if atol is None else atol)


def _suspect(leaf: LeafReport) -> str:
    """The report's suspect, or 'claimed' when the witness it disagrees with agrees with finite
    differences (large graphs, where the numeric engine sits out)."""
    if leaf.suspect:
        return leaf.suspect
    confirmed = any(set(p.witnesses) == {"symbolic", "finite_difference"} and p.verdict in (AGREE, CONVENTION)
                    for p in leaf.pairs)
    return "claimed" if confirmed and "numeric" not in leaf.grads else "undecided"


@dataclasses.dataclass
class _Finding:
    """One input's disagreements over every VJP, and the worst one."""

    off: int = 0
    total: int = 0
    worst: float = -1.0
    line: str = ""
    row: str = ""
    report: Report | None = None
    about: str = ""  # "[512, 512] float32"


def _collect(report: Report, row: str, findings: dict[str, _Finding]) -> None:
    """Adds each leaf's disagreement between PyTorch's gradient and a witness (its worst pair)."""
    for leaf in report.leaves:
        pairs = [p for p in leaf.pairs if "claimed" in p.witnesses and p.verdict in (MISMATCH, NON_FINITE)]
        finding = findings.setdefault(leaf.name, _Finding(about=f"{list(leaf.shape)} {leaf.dtype}"))
        finding.total += math.prod(leaf.shape)
        if not pairs:
            continue
        pair = max(pairs, key=lambda p: (p.mismatched + p.non_finite, p.max_abs))
        finding.off += pair.mismatched + pair.non_finite
        index, values, size = pair.worst_index, pair.worst_values, pair.max_abs
        if not pair.mismatched_indices:  # only non-finite values, which the figures leave out: name the first
            index, values, size = *_non_finite_at(leaf, pair), math.inf
        if size > finding.worst:
            claimed, expected = values or (float("nan"), float("nan"))
            if pair.witnesses[0] != "claimed":
                claimed, expected = expected, claimed
            other = pair.witnesses[1] if pair.witnesses[0] == "claimed" else pair.witnesses[0]
            finding.worst, finding.report, finding.row = size, report, row
            finding.line = (f"worst at {list(index or ())} along {row}: expected {expected!r} ({other}), "
                            f"claimed {claimed!r} (PyTorch autograd); suspect: {_suspect(leaf)}")


def _count(wanted: dict[str, torch.Tensor], findings: dict[str, _Finding], rows: int) -> None:
    """Each checked input's elements in ``rows`` agreeing VJPs, none off (for the totals in the
    message; inputs no failing VJP named come after the others)."""
    for name, t in wanted.items():
        finding = findings.get(name)
        if finding is None:
            finding = findings[name] = _Finding(about=f"{list(t.shape)} {_DTYPE_NAMES.get(t.dtype, t.dtype)}")
        finding.total += t.numel() * rows


_DTYPE_NAMES = {torch.float32: "float32", torch.float64: "float64"}


def _non_finite_at(leaf: LeafReport, pair: Any) -> tuple[tuple[int, ...] | None, tuple[float, float] | None]:
    """The first element where one of the pair's two gradients is not finite, and both values there."""
    a, b = (np.asarray(leaf.grads.get(w, np.nan), np.float64) for w in pair.witnesses)
    if a.shape != b.shape:
        return None, None
    found = np.argwhere(~(np.isfinite(a) & np.isfinite(b)))
    if not len(found):
        return None, None
    index = tuple(int(i) for i in found[0])
    return index, (float(a[index]), float(b[index]))


def _message(findings: dict[str, _Finding], unit: str, torch_lines: Callable[[dict[str, str]], list[str]] | None = None
             ) -> str:
    bad = {name: f for name, f in findings.items() if f.off}
    lines = [f"input {name!r} {f.about}: {f.off} of {f.total} {unit} off; {f.line}" for name, f in bad.items()]
    if torch_lines is not None:  # torch's own numbering of the failing inputs (numbering.py)
        lines += torch_lines({name: f.row for name, f in bad.items()})
    worst = max(bad.values(), key=lambda f: f.worst)
    return "PyTorch's gradient disagrees with crossgrad:\n  " + "\n  ".join(lines) + \
        f"\n\ncrossgrad's report along {worst.row}:\n{worst.report}"


def _row_name(outputs: list[torch.Tensor], k: int) -> str:
    """'output 1 element [0, 2]' for the k-th row of the stacked Jacobian."""
    for i, out in enumerate(outputs):
        if k < out.numel():
            index = [int(j) for j in np.unravel_index(k, tuple(out.shape))] if out.dim() else []
            return f"output {i} element {index}" if len(outputs) > 1 else f"output element {index}"
        k -= out.numel()
    raise AssertionError("row beyond the outputs")


def _vjp_check(template: _Template, values: dict[str, np.ndarray], wanted: dict[str, torch.Tensor],
               outputs: list[torch.Tensor], direction: list[torch.Tensor],
               **options: Any) -> tuple[Report | None, Any, bool]:
    """crossgrad's check of one VJP, PyTorch's (``torch.autograd.grad`` along ``direction``) claimed:
    its report (None when the screen settled it, quick.py), the graph's output value, and whether
    the screen settled it."""
    live = [(o, d) for o, d in zip(outputs, direction) if o.requires_grad]  # a detached output claims 0
    claimed = torch.autograd.grad([o for o, _ in live], list(wanted.values()), [d for _, d in live],
                                  retain_graph=True, allow_unused=True) if live else [None] * len(wanted)
    leaves = {**values, **{d: leaf_value(d, v) for d, v in zip(template.directions, direction)}}
    seed = None if template.directions else direction[0].detach().double().numpy()
    claims = {n: (np.zeros(t.shape) if g is None else g.detach().double().numpy())
              for (n, t), g in zip(wanted.items(), claimed)}
    graph = _filled(template, leaves)
    return judged(graph, seed, claims, _planned(template, graph, leaves), options)


def gradcheck(func: Any, inputs: Any, *, atol: float | None = None, rtol: float | None = None,
              raise_exception: bool = True, **ignored: Any) -> bool:
    """True when PyTorch's gradients of ``func(*inputs)`` agree with crossgrad's witnesses.

    Checked leaves: the inputs that require grad and the parameters of ``func`` (a Module) or of
    the modules it closes over.
    atol/rtol override crossgrad's dtype-aware tolerance for every pair (atol is relative to the
    leaf's largest gradient). Other torch keywords (eps, fast_mode, nondet_tol, ...) are ignored.
    """
    ignored_keywords("gradcheck", ignored, TORCH_KEYWORDS)
    return _gradcheck(func, [inputs] if isinstance(inputs, torch.Tensor) else list(inputs), atol, rtol,
                      raise_exception)


def _gradcheck(func: Any, inputs: list[Any], atol: float | None, rtol: float | None, raise_exception: bool,
               forget: bool = False) -> bool:
    rng_state = torch.get_rng_state()  # PyTorch's call below draws the dropout masks the capture recorded
    params = _parameters(func)
    try:  # first: a capture may touch buffers torch's backward will read
        template, reused = _template(func, inputs, params, forget)
    except NothingToCheck:
        return nothing_to_check(inputs, params)
    torch.set_rng_state(rng_state)
    with torch.enable_grad():
        result = func(*inputs)
    outputs = float_outputs(result)
    tensors = unique([v for v in inputs if isinstance(v, torch.Tensor)])
    named = {**template.closed_over, **params, **dict(zip(template.leaves[len(params):], tensors))}
    values = {name: leaf_value(name, t, copy=False) for name, t in named.items()}
    wanted = {n: t for n, t in named.items() if t.requires_grad and t.is_floating_point()}
    if not wanted:
        raise ValueError(NOTHING_REQUIRES_GRAD)
    if outputs and not any(o.requires_grad for o in outputs):
        return _detached(func, inputs, template, rng_state, raise_exception)
    findings: dict[str, _Finding] = {}
    agreeing = 0  # VJPs the screen settled (quick.py): every element agrees
    full = sum(o.numel() for o in outputs) <= JACOBIAN_MAX
    witnesses = ALL_WITNESSES[1:] if sum(t.numel() for t in wanted.values()) > LARGE else ALL_WITNESSES
    for k, direction in enumerate(_directions(outputs)):
        report, output, _ = _vjp_check(template, values, wanted, outputs, direction,
                                            tolerance=_tolerance(atol, rtol), witnesses=witnesses)
        if k == 0 and reused and forward_differs(output, outputs, direction, bool(template.directions)):
            torch.set_rng_state(rng_state)  # the reused graph is not this function any more: capture it again
            return _gradcheck(func, inputs, atol, rtol, raise_exception, forget=True)
        if k == 0 and not reused:
            check_decompositions(template.decomposed, output, outputs, direction, bool(template.directions))
            if not template.value_dependent:
                check_traced(func, inputs, _filled(template, {**values, **dict(zip(template.directions, map(
                    leaf_value, template.directions, direction)))}), dict(zip(template.leaves[len(params):], tensors)),
                    direction, bool(template.directions), rng_state, float_outputs)
        if report is None:  # the screen settled it (agreed)
            agreeing += 1
        else:
            _collect(report, _row_name(outputs, k) if full else f"random output direction {k} (seed 0)", findings)
    failures = any(f.off for f in findings.values())
    if failures and raise_exception:
        _count(wanted, findings, agreeing)
        numbers = torch_numbers(inputs, named)
        raise GradcheckError(_message(findings, "Jacobian entries" if full else "VJP elements",
                                      lambda rows: torch_words(rows, numbers, outputs)))
    return not failures


def _detached(func: Any, inputs: list[Any], template: _Template, rng_state: torch.Tensor,
              raise_exception: bool) -> bool:
    """No output requires grad: torch's verdict, the function's numerical gradient must be zero."""
    positions = [i for i, v in enumerate(inputs) if isinstance(v, torch.Tensor)]
    params = len(template.leaves) - len(unique([inputs[i] for i in positions]))
    names = {i: n for i, n in zip([i for i in positions if i not in repeated(inputs)], template.leaves[params:])
             if inputs[i].requires_grad and inputs[i].is_floating_point()}
    name = moving_input(func, inputs, names, rng_state, float_outputs)
    if name is not None and raise_exception:
        raise GradcheckError(f"input {name!r}: no output of the function requires grad (detached, or computed "
                             "under no_grad), so autograd's gradient is zero, but the outputs change with this "
                             "input: its numerical gradient is not zero (torch.autograd.gradcheck fails too)")
    return name is None
