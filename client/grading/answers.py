"""The child's answers are untrusted data: a strict schema with size limits, checked before
any array is built. Any deviation becomes that trial's (or problem's) failure message; nothing
here raises on bad input.

A problem line is a JSON list with one entry per trial: {"error": text} or {"ok": {leaf: {"shape":
[ints], "data": [numbers or null]}}}. Only the leaves the problem asks for are read (others are
ignored unread); a leaf's shape must have exactly the element count of that leaf (a transposed
gradient is let through for the diagnosis, anything else is refused before allocation).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np

MAX_ANSWER_FILE = 16 << 20  # bytes of a JSON/npz answers file (also each npz member, unpacked)
MAX_MESSAGE = 1000  # characters of a child's error message kept
MAX_NDIM = 32
BYTES_PER_NUMBER = 40  # generous bound on one JSON number with its separator

Answer = dict[str, np.ndarray | str] | str  # per trial: arrays (or a leaf's refusal), or an error
Result = list[Answer]


class Malformed(ValueError):
    """The child's output does not follow the schema (the message is for the student)."""


def _reject_constant(name: str) -> Any:
    raise Malformed(f"a non-JSON number {name}")


def load_line(raw: bytes) -> Any:
    try:
        return json.loads(raw, parse_constant=_reject_constant)
    except Malformed:
        raise
    except (ValueError, RecursionError) as err:
        raise Malformed(f"unreadable answers ({type(err).__name__})") from None


def message(value: Any) -> str:
    text = value if isinstance(value, str) else "an error without a message"
    return text if len(text) <= MAX_MESSAGE else text[:MAX_MESSAGE] + " [...]"


def _shape(raw: Any, leaf: str) -> tuple[int, ...]:
    if not isinstance(raw, list) or len(raw) > MAX_NDIM or \
            not all(type(d) is int and 0 <= d < 2**31 for d in raw):
        raise Malformed(f"`{leaf}`: the shape is not a list of at most {MAX_NDIM} non-negative integers")
    return tuple(raw)


def _array(raw: Any, leaf: str, expected: tuple[int, ...]) -> np.ndarray | str:
    if not isinstance(raw, dict) or not isinstance(raw.get("shape"), list):
        raise Malformed(f"`{leaf}`: expected {{\"shape\": [...], \"data\": [...]}}")
    shape = _shape(raw["shape"], leaf)
    count = math.prod(shape)
    if count != math.prod(expected) or "data" not in raw:
        return f"shape {list(shape)}, expected {list(expected)}"
    data = raw["data"]
    if not isinstance(data, list) or len(data) != count:
        raise Malformed(f"`{leaf}`: data must be a list of {count} numbers")
    if not all(v is None or type(v) in (int, float) for v in data):
        raise Malformed(f"`{leaf}`: data must hold only numbers")
    try:
        values = np.array([math.nan if v is None else float(v) for v in data], dtype=np.float64)
    except OverflowError:
        values = np.array([math.nan if v is None or abs(v) > 1e308 else float(v) for v in data], dtype=np.float64)
    return values.reshape(shape)


def _trial(raw: Any, shapes: dict[str, tuple[int, ...]]) -> Answer:
    if not isinstance(raw, dict) or len(raw) != 1 or not ({"ok", "error"} & set(raw)):
        raise Malformed("a trial's answer must be {\"ok\": {...}} or {\"error\": \"...\"}")
    if "error" in raw:
        return message(raw["error"])
    ok = raw["ok"]
    if not isinstance(ok, dict):
        raise Malformed("a trial's answer must map leaf names to arrays")
    return {leaf: _array(ok[leaf], leaf, shape) for leaf, shape in shapes.items() if leaf in ok}


def parse_problem(raw: bytes, trials: list[dict[str, tuple[int, ...]]]) -> Result:
    """Per trial, the answer; ``trials`` gives, per trial, each asked leaf's shape."""
    try:
        data = load_line(raw)
        if not isinstance(data, list) or len(data) != len(trials):
            raise Malformed(f"expected answers for {len(trials)} trials")
    except Malformed as err:
        return [f"the submission's answers were malformed: {err}"] * len(trials)
    out: Result = []
    for entry, shapes in zip(data, trials):
        try:
            out.append(_trial(entry, shapes))
        except Malformed as err:
            out.append(f"the submission's answer was malformed: {err}")
    return out


def output_cap(trials: list[list[dict[str, tuple[int, ...]]]]) -> int:
    """Bytes a child may write: every asked element as a long number, plus room for messages."""
    elements = sum(math.prod(s) for problem in trials for trial in problem for s in trial.values())
    messages = sum(len(problem) for problem in trials) * (MAX_MESSAGE * 4 + 256)
    return (1 << 16) + BYTES_PER_NUMBER * elements + messages


def read_answer_file(path: Path, name: str, shapes: dict[str, tuple[int, ...]]) -> Result:
    """A JSON ({problem: {leaf: nested lists}}) or npz ("problem.leaf" arrays) answers file for a
    one-trial problem, through the same schema; never raises for a bad file."""
    try:
        found = _read_answers(path, name, shapes)
    except (Malformed, OSError, ValueError, KeyError, RecursionError) as err:
        return [f"the answers file cannot be read: {err}"]
    if not found:
        return [f"no answers for {name}"]
    return parse_problem(json.dumps([{"ok": found}]).encode(), [shapes])


def _read_answers(path: Path, name: str, shapes: dict[str, tuple[int, ...]]) -> dict[str, Any]:
    if path.stat().st_size > MAX_ANSWER_FILE:
        raise Malformed(f"larger than {MAX_ANSWER_FILE} bytes")
    if path.suffix == ".npz":
        with np.load(path, allow_pickle=False) as data:
            keys = [f"{name}.{leaf}" for leaf in shapes if f"{name}.{leaf}" in data.files]
            if any(data.zip.getinfo(f"{k}.npy").file_size > MAX_ANSWER_FILE for k in keys):
                raise Malformed(f"an array unpacks to more than {MAX_ANSWER_FILE} bytes")
            return {k[len(name) + 1:]: _listed(data[k], shapes[k[len(name) + 1:]]) for k in keys}
    raw = json.loads(path.read_text())
    entry = raw.get(name, {}) if isinstance(raw, dict) else None
    if not isinstance(entry, dict):
        raise Malformed(f"`{name}` must map leaf names to nested lists of numbers")
    return {k: _listed(np.asarray(v, np.float64), shapes[k]) for k, v in entry.items() if k in shapes}


def _listed(arr: np.ndarray, expected: tuple[int, ...]) -> dict[str, Any]:
    arr = np.asarray(arr, np.float64)
    if arr.size != math.prod(expected):
        return {"shape": list(arr.shape)}
    return {"shape": list(arr.shape), "data": [float(v) if math.isfinite(v) else None for v in arr.ravel().tolist()]}
