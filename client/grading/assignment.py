"""Assignments: problems over named leaves, trial values, and trustworthy references.

A problem's reference is computed with crossgrad's check for every trial; a problem whose
witnesses do not agree is invalid and charges no student. Values are drawn with a seed the
student never sees, and redrawn when they land on a kink (unless the problem allows kinks).
"""

from __future__ import annotations

import ast
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from crossgrad.engine.graph import Graph, Leaf
from crossgrad.engine.tolerance import Tolerance

from ..expr import parse_expression

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

VISIBILITY = ("visible", "hidden", "after_due_date", "after_published")
HINTS = ("none", "location", "closed_form")
DISTRIBUTIONS = ("normal", "uniform", "ones", "zeros", "fixed", "randint")


class AssignmentError(ValueError):
    """The assignment file is malformed (names the field)."""


@dataclass(frozen=True)
class LeafSpec:
    name: str
    shape: tuple[int, ...]
    dist: str = "normal"
    params: dict[str, Any] = field(default_factory=dict)

    def draw(self, rng: np.random.Generator) -> np.ndarray:
        p = self.params
        if self.dist == "normal":
            return rng.normal(p.get("mean", 0.0), p.get("std", 1.0), self.shape)
        if self.dist == "uniform":
            return rng.uniform(p.get("low", -1.0), p.get("high", 1.0), self.shape)
        if self.dist == "randint":
            return rng.integers(p.get("low", 0), p["high"], self.shape).astype(np.int64)
        if self.dist == "fixed":
            return np.asarray(p["values"], dtype=np.int64 if p.get("integer") else np.float64).reshape(self.shape)
        return (np.ones if self.dist == "ones" else np.zeros)(self.shape)


@dataclass(frozen=True)
class Problem:
    name: str
    expression: str
    leaves: tuple[LeafSpec, ...]
    gradients: tuple[str, ...]
    points: float = 1.0
    trials: int = 3
    tolerance: Tolerance | None = None
    visibility: str = "visible"
    hint: str = "location"
    partial: str = "trials"  # or "elements"
    kinks: bool = False
    title: str = ""


@dataclass
class Trial:
    values: dict[str, np.ndarray]
    reference: dict[str, np.ndarray]
    variants: dict[str, dict[str, np.ndarray]]  # mistake -> leaf -> gradient
    closed_form: dict[str, list[str]] | None = None


@dataclass
class Reference:
    problem: Problem
    trials: list[Trial]
    invalid: str | None = None  # why the reference cannot be trusted


@dataclass
class Assignment:
    name: str
    seed: int
    problems: list[Problem]
    time_limit: float = 10.0
    memory_mb: int = 2048
    visibility: str = "visible"  # of the whole results.json (Gradescope's top-level visibility)


def _leaf_spec(name: str, raw: dict, path: str) -> LeafSpec:
    if "shape" not in raw:
        raise AssignmentError(f"{path}.shape is required")
    dist = raw.get("dist", "normal")
    if dist not in DISTRIBUTIONS:
        raise AssignmentError(f"{path}.dist must be one of {list(DISTRIBUTIONS)}")
    params = {k: v for k, v in raw.items() if k not in ("shape", "dist")}
    if dist == "randint" and "high" not in params:
        raise AssignmentError(f"{path}.high is required for randint")
    return LeafSpec(name, tuple(int(d) for d in raw["shape"]), dist, params)


def _problem(raw: dict, index: int) -> Problem:
    path = f"problems[{index}]"
    for key in ("name", "expression", "leaves", "gradients"):
        if key not in raw:
            raise AssignmentError(f"{path}.{key} is required")
    leaves = tuple(_leaf_spec(n, spec, f"{path}.leaves.{n}") for n, spec in raw["leaves"].items())
    unknown = set(raw["gradients"]) - {leaf.name for leaf in leaves} - stage_names(raw["expression"])
    if unknown:
        raise AssignmentError(f"{path}.gradients names unknown leaves or stages {sorted(unknown)}")
    tol = raw.get("tolerance")
    tolerance = Tolerance(tol.get("rtol", 1e-6), tol.get("atol", 1e-8), tol.get("floor", 0.0)) if tol else None
    problem = Problem(
        raw["name"], raw["expression"], leaves, tuple(raw["gradients"]), float(raw.get("points", 1.0)),
        int(raw.get("trials", 3)), tolerance, raw.get("visibility", "visible"), raw.get("hint", "location"),
        raw.get("partial", "trials"), bool(raw.get("kinks", False)), raw.get("title", ""))
    for key, allowed in (("visibility", VISIBILITY), ("hint", HINTS), ("partial", ("trials", "elements"))):
        if getattr(problem, key) not in allowed:
            raise AssignmentError(f"{path}.{key} must be one of {list(allowed)}")
    if not problem.name.isidentifier():
        raise AssignmentError(f"{path}.name must be an identifier (it names grad_<name>)")
    return problem


def load(path: str | Path) -> Assignment:
    data = tomllib.loads(Path(path).read_text())
    meta = data.get("assignment", {})
    problems = [_problem(raw, i) for i, raw in enumerate(data.get("problems", []))]
    if not problems:
        raise AssignmentError("problems: the assignment has none")
    visibility = meta.get("visibility", "visible")
    if visibility not in VISIBILITY:
        raise AssignmentError(f"assignment.visibility must be one of {list(VISIBILITY)}")
    return Assignment(meta.get("name", Path(path).stem), int(meta.get("seed", 0)), problems,
                      float(meta.get("time_limit", 10.0)), int(meta.get("memory_mb", 2048)), visibility)


def stage_names(expression: str) -> set[str]:
    """The names the expression gives its stages (``z = x @ w; relu(z).sum()``)."""
    try:
        tree = ast.parse(expression, mode="exec")
    except SyntaxError:
        return set()  # reported where the expression is parsed
    return {s.targets[0].id for s in tree.body
            if isinstance(s, ast.Assign) and len(s.targets) == 1 and isinstance(s.targets[0], ast.Name)}


def graph_for(problem: Problem, values: dict[str, np.ndarray]) -> Graph:
    """The problem's graph; when it asks for stages every float leaf requires grad (so a gradient
    flows to every stage)."""
    stages = bool(stage_names(problem.expression) & set(problem.gradients))
    leaves = {n: Leaf(n, v, n in problem.gradients or (stages and v.dtype.kind == "f")) for n, v in values.items()}
    return parse_expression(problem.expression, leaves)
