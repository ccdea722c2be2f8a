"""The agreement report: data first; the human table is rendered from it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .compare import MISMATCH, SKIPPED, PairComparison, worst
from .errors import GradientMismatch

WITNESSES = ("numeric", "symbolic", "finite_difference")
PASSING = ("agree", "convention")
LISTED = 10  # mismatched elements the text report lists per pair


@dataclass
class LeafReport:
    name: str
    shape: tuple[int, ...]
    dtype: str
    grads: dict[str, np.ndarray]
    pairs: list[PairComparison]
    verdict: str = SKIPPED
    suspect: str | None = None  # the witness that disagrees with the two others
    closed_form: list[str] | None = None  # per element, when formulas were asked for
    closed_form_latex: list[str] | None = None
    closed_form_mathml: list[str] | None = None  # presentation MathML, for the HTML report


@dataclass
class Report:
    verdict: str
    leaves: list[LeafReport]
    tier: str  # "exact", "tensor" or "off": the symbolic tier that ran
    tier_reason: str
    finite_difference: str  # "per_element", "directions (seed N)" or "off"
    output: np.ndarray | None = None
    timings: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    steps: list[Any] = field(default_factory=list)  # program.StepReport per step, when a program ran
    grad_fns: dict[str, str] = field(default_factory=dict)  # op node name -> PyTorch grad_fn name
    tensor_names: dict[int, str] = field(default_factory=dict, repr=False)
    graph: Any = field(default=None, repr=False)  # the checked graph, for drawing (set by check)
    failures: dict[str, str] = field(default_factory=dict)  # witness -> why it produced nothing usable
    culprits: list[Any] = field(default_factory=list)  # op nodes found at fault (each has .node), shown first
    order: int = 1  # 2: leaves hold Hessian-vector products, [directions, *leaf shape]
    directions_seed: int | None = None  # order 2: the seed of the directions (None: full Hessian)
    batched: bool = False  # a CheckStream answer: checked together with same-structure neighbours

    def leaf(self, leaf: Any) -> LeafReport:
        """A leaf's report, by name or by the engine tensor that was checked."""
        name = leaf if isinstance(leaf, str) else self.tensor_names.get(id(leaf))
        for entry in self.leaves:
            if entry.name == name:
                return entry
        raise KeyError(f"no differentiable leaf {name!r} in this report")

    def grad(self, leaf: Any, witness: str = "symbolic") -> np.ndarray | None:
        """That witness's gradient for the leaf (None if the witness did not run)."""
        if witness not in WITNESSES + ("claimed",):
            raise ValueError(f"witness must be one of {WITNESSES + ('claimed',)}, got {witness!r}")
        return self.leaf(leaf).grads.get(witness)

    def __str__(self) -> str:
        return render(self)

    def __bool__(self) -> bool:
        """True only when the gradients were checked and hold: verdict agree or convention
        (mismatch, non_finite, unresolved and skipped are False), so ``assert crossgrad.check(...)`` works."""
        return self.verdict in PASSING

    def raise_for_mismatch(self) -> Report:
        """Raise :class:`GradientMismatch` (an AssertionError) with this report unless it passes."""
        if not self:
            raise GradientMismatch(self)
        return self

    def to_html(self, graph: Any = None) -> str:
        """The report as one self-contained HTML page (the graph is drawn when given)."""
        from .html_report import render as render_html

        return render_html(self, graph if graph is not None else self.graph)

    def _repr_html_(self) -> str:  # Jupyter shows this
        return self.to_html()


def _blame_non_finite(leaf: LeafReport) -> None:
    """A witness that is NaN or inf where every other witness is finite and they agree is wrong
    there: its pairs become mismatches (not merely non_finite), so it is named the suspect.
    Finite differences are exempt: a NaN quotient means the function is not finite nearby.
    A witness not finite somewhere makes every pair it takes part in count non-finite values."""
    if not any(p.non_finite for p in leaf.pairs):
        return
    for witness, grad in leaf.grads.items():
        if witness == "finite_difference":
            continue
        others = {w: g for w, g in leaf.grads.items() if w != witness and np.shape(g) == np.shape(grad)}
        if len(others) < 2 or np.shape(grad) != tuple(leaf.shape):
            continue
        own_bad = ~np.isfinite(np.asarray(grad, np.float64))
        others_fine = np.all([np.isfinite(np.asarray(g, np.float64)) for g in others.values()], axis=0)
        alone = own_bad & others_fine
        agree = all(p.verdict in ("agree", "convention") for p in leaf.pairs if witness not in p.witnesses)
        if not alone.any() or not agree:
            continue
        for p in leaf.pairs:
            if witness in p.witnesses and p.verdict != SKIPPED:
                p.mismatched += int(alone.sum())
                p.non_finite -= int(alone.sum())
                p.verdict = MISMATCH
                p.reason = p.reason or f"{witness} is not finite at {int(alone.sum())} element(s) where the " \
                                       "others agree"


def finish_leaf(leaf: LeafReport) -> LeafReport:
    _blame_non_finite(leaf)
    leaf.verdict, leaf.suspect = worst([p.verdict for p in leaf.pairs]), None
    bad = {w for p in leaf.pairs if p.verdict == MISMATCH for w in p.witnesses}
    for w in bad:
        against = [p for p in leaf.pairs if w in p.witnesses]
        others = [p for p in leaf.pairs if w not in p.witnesses]
        direct = len(against) >= 2 and all(p.verdict == MISMATCH for p in against) and \
            others and all(p.verdict != MISMATCH for p in others)
        ran = [p for p in against if p.verdict != SKIPPED], [p for p in others if p.verdict != SKIPPED]
        if direct or (leaf.suspect is None and _confirmed(*ran, w)):
            leaf.suspect = w
    return leaf


def _confirmed(against: list[PairComparison], others: list[PairComparison], witness: str) -> bool:
    """Every witness ``witness`` disagrees with agrees with a third one (claimed against numeric,
    numeric confirmed by finite differences when no symbolic tier ran): ``witness`` is the odd one."""
    if not against or any(p.verdict != MISMATCH for p in against) or any(p.verdict == MISMATCH for p in others):
        return False
    partners = {w for p in against for w in p.witnesses if w != witness}
    return all(any(partner in p.witnesses and p.verdict in PASSING for p in others) for partner in partners)


def _pair_line(p: PairComparison) -> str:
    names = " ~ ".join(p.witnesses)
    if p.verdict == SKIPPED:
        return f"    {names:38s} skipped: {p.reason}"
    line = (f"    {names:38s} {p.verdict:10s} {p.mismatched}/{p.total} {p.unit} off, "
            f"max abs {p.max_abs:.3g}, max rel {p.max_rel:.3g}, {p.max_ulp:.0f} ulp")
    if p.kinks:
        line += f", {p.kinks} at kinks"
    if p.non_finite:
        line += f", {p.non_finite} non-finite"
    if p.max_abs_index is not None and p.verdict != "agree":
        line += f" (max abs at {list(p.max_abs_index)})"
    if p.reason:
        line += f"\n{'':42s} {p.reason}"
    if p.mismatched and p.mismatched_indices:
        line += f"\n{'':42s} tolerance {p.tolerance}; worst first (|a-b| / allowed):"
        for index, (a, b, excess) in zip(p.mismatched_indices[:LISTED], p.mismatched_values):
            line += f"\n{'':44s}{list(index)}: {a!r} vs {b!r} ({excess:.3g}x)"
        if p.mismatched > LISTED:
            line += f"\n{'':44s}... and {p.mismatched - LISTED} more"
    elif p.mismatched and p.worst_values is not None:
        a, b = p.worst_values
        line += f"\n{'':42s} worst at {list(p.worst_index or ())}: {a!r} vs {b!r} ({p.tolerance})"
    return line


def _step_errors(errors: dict[str, str | None]) -> str:
    """' (numeric, symbolic: message)', one line per distinct message."""
    by_message: dict[str, list[str]] = {}
    for witness, message in errors.items():
        if message:
            by_message.setdefault(message, []).append(witness)
    return "".join(f"\n      error in {', '.join(ws)}: {m}" for m, ws in by_message.items())


def render(report: Report) -> str:
    lines = [f"crossgrad check: {report.verdict.upper()}",
             f"  symbolic tier: {report.tier} ({report.tier_reason}); "
             f"finite differences: {report.finite_difference}"]
    lines.extend(f"  culprit: {c}" for c in report.culprits)
    for leaf in report.leaves:
        suspect = f" — suspect: {leaf.suspect}" if leaf.suspect else ""
        lines.append(f"  {leaf.name} {list(leaf.shape)} {leaf.dtype}: {leaf.verdict}{suspect}")
        lines.extend(_pair_line(p) for p in leaf.pairs)
        for index, text in zip(np.ndindex(leaf.shape), leaf.closed_form or []):
            lines.append(f"    d/d{leaf.name}[{','.join(map(str, index))}] = {text}")
    for step in report.steps:
        lines.append(f"  step {step.index} {step.kind}: {step.verdict}{_step_errors(step.errors)}")
        for leaf in step.leaves:
            lines.append(f"    {leaf.name}: {leaf.verdict}")
            lines.extend("  " + _pair_line(p) for p in leaf.pairs if p.verdict != "agree")
    lines.extend(f"  note: {n}" for n in report.notes)
    if report.timings:
        lines.append("  timings: " + ", ".join(f"{k} {v * 1e3:.1f} ms" for k, v in report.timings.items()))
    return "\n".join(lines)
