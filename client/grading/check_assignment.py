"""``crossgrad grade --check-assignment a.toml``: the assignment checked before students see it.

Finds, with line numbers: TOML syntax errors, unknown keys (typos such as ``trails``), malformed
fields, expressions that do not parse (unknown ops or leaves), shapes the ops reject, gradients
asked for leaves the loss does not use or that are integers, and references whose witnesses
disagree. With ``solution = "solution.py"`` under ``[assignment]`` it grades that module (in the
sandbox) and reports every test it does not pass in full, proving the assignment is solvable.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import numpy as np
from crossgrad.client.expr import parse_expression_located
from crossgrad.engine.errors import CrossgradError
from crossgrad.engine.graph import Graph, Leaf, OpNode, validate
from crossgrad.engine.suggest import did_you_mean

from .assignment import Assignment, AssignmentError, Problem, _problem, load
from .reference import references

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ASSIGNMENT_KEYS = {"name", "seed", "time_limit", "memory_mb", "solution", "visibility"}
PROBLEM_KEYS = {"name", "expression", "leaves", "gradients", "points", "trials", "tolerance", "visibility",
                "hint", "partial", "kinks", "title"}
INDEX = re.compile(r"problems\[(\d+)\]\.?([A-Za-z_]*)")


def locate(text: str, where: str) -> int | None:
    """The line (1-based) of ``problems[i].key`` (or of the i-th ``[[problems]]``) in the TOML."""
    if where.startswith("assignment."):
        return _line_in_section(text, "[assignment]", where.split(".", 1)[1])
    match = INDEX.match(where)
    if not match:
        return None
    index, key = int(match.group(1)), match.group(2)
    block, found = -1, None
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if stripped.startswith("[[problems]]"):
            block += 1
            if block == index:
                found = number
        elif block == index and key and re.match(rf"(\[problems\.)?{re.escape(key)}\b", stripped):
            return number
        elif block > index:
            break
    return found


def _line_in_section(text: str, header: str, key: str) -> int | None:
    inside = False
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if stripped.startswith("["):
            inside = stripped == header
        elif inside and re.match(rf"{re.escape(key)}\s*=", stripped):
            return number
    return None


def _unknown_keys(data: dict[str, Any]) -> list[tuple[str, str]]:
    out = [(f"assignment.{k}", f"unknown key `{k}`{did_you_mean(k, ASSIGNMENT_KEYS)} "
                                f"(known: {sorted(ASSIGNMENT_KEYS)})")
           for k in data.get("assignment", {}) if k not in ASSIGNMENT_KEYS]
    for i, raw in enumerate(data.get("problems", [])):
        out += [(f"problems[{i}].{k}", f"unknown key `{k}`{did_you_mean(k, PROBLEM_KEYS)} "
                                       f"(known: {sorted(PROBLEM_KEYS)})")
                for k in raw if k not in PROBLEM_KEYS]
    return out


def _used(graph: Graph) -> set[str]:
    """Names of the nodes the output depends on."""
    nodes = {n.name: n for n in graph.nodes}
    seen, todo = set(), [graph.output]
    while todo:
        name = todo.pop()
        if name in seen or name not in nodes:
            continue
        seen.add(name)
        node = nodes[name]
        if isinstance(node, OpNode):
            todo += [i for i in node.inputs if i is not None]
    return seen


def _in_expression(err: Exception, located: dict[str, str]) -> str:
    """A node error (``graph.nodes[2]: ...``) told at the sub-expression it came from."""
    path = getattr(err, "path", "")
    node = path.split(".inputs")[0].split(".attrs")[0]
    return f"{located[node]}: {err.reason}" if node in located and hasattr(err, "reason") else str(err)


def _problem_findings(problem: Problem, index: int, seed: int) -> list[tuple[str, str]]:
    where = f"problems[{index}]"
    integer = [leaf.name for leaf in problem.leaves if leaf.dist == "randint" or leaf.params.get("integer")]
    out = [(f"{where}.gradients", f"`{n}` is an integer leaf: it has no gradient")
           for n in problem.gradients if n in integer]
    located: dict[str, str] = {}
    try:
        rng = np.random.default_rng([seed, index])
        values = {leaf.name: leaf.draw(rng) for leaf in problem.leaves}
        graph, located = parse_expression_located(
            problem.expression, {n: Leaf(n, v, n in problem.gradients) for n, v in values.items()})
        validate(graph)
    except (CrossgradError, ValueError, KeyError, TypeError) as err:
        return out + [(f"{where}.expression", _in_expression(err, located))]
    used = _used(graph)
    return out + [(f"{where}.gradients", f"`{n}` is not used by the expression: its gradient is always zero")
                  for n in problem.gradients if n not in used]


def findings(path: Path) -> tuple[list[str], Assignment | None]:
    """Every problem found, as ``file:line: message``; and the assignment when it loads."""
    text = path.read_text()
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        return [f"{path}: TOML syntax: {err}"], None
    found = _unknown_keys(data)
    for i, raw in enumerate(data.get("problems", [])):
        try:
            found += _problem_findings(_problem(raw, i), i, int(data.get("assignment", {}).get("seed", 0)))
        except (AssignmentError, KeyError, TypeError, ValueError, AttributeError) as err:
            found.append((f"problems[{i}]", str(err)))
    assignment = None
    if not found:
        try:
            assignment = load(path)
        except (AssignmentError, ValueError, TypeError) as err:
            found.append(("", str(err)))
    if assignment is not None:
        for i, ref in enumerate(references(assignment)):
            if ref.invalid:
                found.append((f"problems[{i}]", f"the reference is not trustworthy: {ref.invalid.splitlines()[0]}"))
    lines = [f"{path}:{locate(text, where) or 1}: {message}" for where, message in found]
    return lines, (assignment if not lines else None)


def check_assignment(path: Path, unsafe: bool = False) -> tuple[list[str], str]:
    """(problems found, a one-line verdict). Grades ``solution`` when the assignment names one."""
    from .grade import grade

    lines, assignment = findings(path)
    if assignment is None:
        return lines, f"{path}: {len(lines)} problem(s) found"
    solution = tomllib.loads(path.read_text()).get("assignment", {}).get("solution")
    if not solution:
        return [], f"{path}: OK, {len(assignment.problems)} problems (no solution given to grade)"
    results = grade(path.parent / str(solution), assignment, references(assignment), unsafe)
    failed = [f"{path}: solution {solution}: {t['name']}: {t['score']:g} / {t['max_score']:g}\n{t['output']}"
              for t in results["tests"] if t["score"] < t["max_score"]]
    total = sum(t["max_score"] for t in results["tests"])
    return failed, f"{path}: {'OK' if not failed else 'NOT SOLVABLE as given'}, solution scores " \
                   f"{results['score']:g} / {total:g}"
