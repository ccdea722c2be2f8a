"""MkDocs hook: reference pages generated from the code itself at build time, never edited.

- reference/ops.md from ``crossgrad.engine.ops.CATALOGUE`` (signatures, kinks, grad_fn names);
- reference/cli.md from the ``crossgrad`` command's own ``--help`` texts;
- reference/proto.md from ``proto/crossgrad/v1/crossgrad.proto`` and its comments.
"""

from __future__ import annotations

import argparse
import io
from contextlib import redirect_stdout, suppress
from pathlib import Path
from typing import Any

from mkdocs.structure.files import File, Files

ROOT = Path(__file__).parents[1]


def ops_page() -> str:
    from crossgrad.engine import ops
    from crossgrad.engine.numeric.batched import TABLE

    lines = ["# Op catalogue", "", "Generated from `crossgrad.engine.ops.CATALOGUE`. Every op has all three "
             "interpretations: the numeric engine's forward and hand-written VJP, SymPy's lowering of its forward "
             "definition (exact and tensor tiers) and finite differences.", ""]
    for name, spec in ops.CATALOGUE.items():
        inputs = ", ".join(i.name + ("?" if i.optional else "") + ("" if i.differentiable else " (no grad)")
                           for i in spec.inputs)
        attrs = ", ".join(f"{a.name}={a.default!r}" for a in spec.attrs)
        lines += [f"## `{name}`", "", f"`{name}({inputs}{', ' + attrs if attrs else ''})`", ""]
        if spec.doc:
            lines += [spec.doc, ""]
        grad_fn = spec.grad_fn if isinstance(spec.grad_fn, str) else "depends on the shapes and attributes"
        lines += [f"- grad_fn: `{grad_fn}`" if spec.grad_fn else "- grad_fn: none (no gradient)"]
        batch = "its own batch rule" if name in TABLE else "one forward per copy"
        lines += [f"- witnesses: numeric engine, SymPy exact tier, SymPy tensor tier (compiled to vectorized "
                  f"numpy/einsum), finite differences ({batch})"]
        if spec.kink:
            lines += [f"- kink / convention: {spec.kink}"]
        lines += [""]
    return "\n".join(lines)


def _help(argv: list[str]) -> str:
    from crossgrad.client.cli import _parser

    out = io.StringIO()
    with redirect_stdout(out), suppress(SystemExit):
        _parser().parse_args([*argv, "--help"])
    return out.getvalue()


def cli_page() -> str:
    from crossgrad.client.cli import _parser

    commands = next(a for a in _parser()._actions if isinstance(a, argparse._SubParsersAction)).choices
    parts = ["# Command line", "", "Generated from the `crossgrad` command's own help.", "",
             "```text", _help([]).rstrip(), "```", ""]
    for name in commands:
        parts += [f"## crossgrad {name}", "", "```text", _help([name]).rstrip(), "```", ""]
    return "\n".join(parts)


def proto_page() -> str:
    text = (ROOT / "proto" / "crossgrad" / "v1" / "crossgrad.proto").read_text()
    return "\n".join(["# gRPC contract", "", "`proto/crossgrad/v1/crossgrad.proto`, verbatim: its comments are the "
                      "reference for every field, enum value, attribute encoding and error.", "",
                      "```protobuf", text.rstrip(), "```", ""])


def on_files(files: Files, config: Any) -> Files:
    for path, make in (("reference/ops.md", ops_page), ("reference/cli.md", cli_page),
                       ("reference/proto.md", proto_page)):
        files.append(File.generated(config, path, content=make()))
    return files
