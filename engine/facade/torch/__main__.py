"""``python -m crossgrad.torch export MODULE:NAME --out request.json``.

``NAME`` in the importable ``MODULE`` is a zero-argument callable returning
``(fn_or_module, example_inputs)``. The request is written in the JSON form ``crossgrad check
FILE`` reads; ``--claimed`` adds PyTorch's own gradients as the claimed witness.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path
from typing import Any

import torch

from .bridge import request_and_builder
from .build import UnsupportedOpError
from .capture import input_names


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m crossgrad.torch", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    export = sub.add_parser("export", help="capture a PyTorch computation as a crossgrad request (JSON)")
    export.add_argument("target", help="MODULE:NAME, NAME() returning (fn_or_module, example_inputs)")
    export.add_argument("--out", default="-", help="output file (default: stdout)")
    export.add_argument("--claimed", action="store_true", help="include PyTorch's gradients as 'claimed'")
    return parser


def _load(target: str) -> tuple[Any, list[torch.Tensor]]:
    module_name, _, name = target.partition(":")
    if not module_name or not name:
        raise ValueError(f"target must be MODULE:NAME, got {target!r}")
    sys.path.insert(0, str(Path.cwd()))
    factory = getattr(importlib.import_module(module_name), name)
    fn, inputs = factory()
    return fn, [inputs] if isinstance(inputs, torch.Tensor) else list(inputs)


def claimed_gradients(fn: Any, inputs: list[torch.Tensor], seed: Any, params: dict[str, Any]) -> dict[str, Any]:
    """PyTorch's gradients of ``fn(*inputs)`` (along ``seed``) by leaf name."""
    named: dict[str, torch.Tensor] = dict(fn.named_parameters()) if isinstance(fn, torch.nn.Module) else dict(params)
    named.update(zip(input_names(fn.forward if isinstance(fn, torch.nn.Module) else fn, inputs), inputs))
    wanted = {n: t for n, t in named.items() if t.requires_grad}
    result = fn(*inputs)
    outs = [o for o in (result if isinstance(result, (tuple, list)) else (result,))
            if isinstance(o, torch.Tensor) and o.is_floating_point()]  # as from_torch: indices left out
    if len(outs) == 1:
        out, grad_out = outs[0], None if seed is None else torch.as_tensor(seed, dtype=outs[0].dtype)
    else:
        out, grad_out = outs[0].sum(), None  # several outputs: from_torch sums them
        for o in outs[1:]:
            out = out + o.sum()
    grads = torch.autograd.grad(out, list(wanted.values()), grad_out, allow_unused=True)
    return {n: (torch.zeros_like(t) if g is None else g).detach().double().numpy()
            for (n, t), g in zip(wanted.items(), grads)}


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from crossgrad.client import wire

    try:
        fn, inputs = _load(args.target)
        request, builder = request_and_builder(fn, inputs)
    except (ValueError, ImportError, AttributeError, UnsupportedOpError, TypeError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if args.claimed:
        request.claimed = claimed_gradients(fn, inputs, request.seed, builder.params)
    text = wire.to_json(wire.request_out(request)) + "\n"
    if args.out == "-":
        sys.stdout.write(text)
    else:
        Path(args.out).write_text(text)
        print(f"wrote {args.out} ({len(request.graph.nodes)} nodes)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
