"""Every catalogue op through the bridge: for each catalogue case, the op written in real PyTorch
(the golden generators' calls) goes through from_torch; the request's forward must equal
PyTorch's output and crossgrad's numeric gradient PyTorch's autograd gradient."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="the torch bridge needs the crossgrad[torch] extra")

from crossgrad.engine import ops  # noqa: E402
from crossgrad.engine.check import CheckRequest, check  # noqa: E402
from crossgrad.engine.graph import OpNode  # noqa: E402
from crossgrad.torch import from_torch  # noqa: E402

from tests.catalogue_inputs import case_inputs, resolved_attrs  # noqa: E402
from tests.golden import (  # noqa: E402
    everyday_torch,
    make_golden_cnn,
    make_golden_opsb,
    make_golden_reductions,
    make_torch_golden,
)
from tests.golden.opsa_torch import torch_call  # noqa: E402


def _dropout(x: list, at: dict) -> object:
    return x[0] * x[1]  # the catalogue's dropout takes its (scaled) mask as an input


def _first(f):
    return lambda x, at: f(x[0], at)


def _cnn(op):
    return lambda x, at: make_golden_cnn.torch_call(op, x, at)


def _opsa(op):
    return lambda x, at: torch_call(torch, op, x, at)


CALLS = {**make_torch_golden.TORCH_CALLS, **make_golden_opsb.TORCH_CALLS,
         **{op: _first(f) for op, f in make_golden_reductions.CALLS.items()},
         **{op: _cnn(op) for op in make_golden_cnn.OPS}, "dropout": _dropout,
         "scatter_add": lambda x, at: torch.scatter_add(x[0], at["dim"], x[1], x[2]),
         # through float32 first, so that the float64 cases convert too (x.to(x.dtype) is x itself)
         "to_dtype": lambda x, at: x[0].float().to(getattr(torch, at["dtype"]))}
CALLS.update({s.name: _opsa(s.name) for s in ops.ELEMENTWISE_SPECS if s.name not in CALLS})
CALLS.update(everyday_torch.torch_calls(torch))
# catalogue ops whose PyTorch spelling has no ATen op of its own: the request holds other ops
SPELLED_OTHERWISE = {"dropout": "mul"}
# torch 2.13's float64 hardsigmoid backward multiplies by 1/6 rounded to float32: its claim is 3e-8 off
FLOAT32_SIXTH = {"hardsigmoid"}
CASES = [(name, i) for name, spec in sorted(ops.CATALOGUE.items()) for i in range(len(spec.cases))]


def _inputs(name: str, index: int) -> tuple[list, dict]:
    spec = ops.CATALOGUE[name]
    case = spec.cases[index]
    arrays = case_inputs(spec, case, seed=0)
    inputs = [None if a is None else torch.tensor(a) if a.dtype in (np.int64, np.bool_)
              else torch.tensor(a, dtype=torch.float64, requires_grad=inp.differentiable)
              for a, inp in zip(arrays, spec.input_specs(len(arrays)))]
    return inputs, resolved_attrs(spec, case)


def test_every_catalogue_op_has_a_pytorch_spelling():
    assert set(ops.CATALOGUE) <= set(CALLS)


@pytest.mark.parametrize(("name", "index"), CASES, ids=[f"{n}-{i}" for n, i in CASES])
def test_the_bridge_reads_the_op_as_pytorch_computes_it(name, index):
    inputs, at = _inputs(name, index)

    def fn(*xs):
        return CALLS[name](list(xs), at)

    out = fn(*inputs)
    cot = torch.tensor(np.random.default_rng(7).standard_normal(tuple(out.shape)))
    wanted = {f"input{i}": t for i, t in enumerate(inputs) if isinstance(t, torch.Tensor) and t.requires_grad}
    grads = torch.autograd.grad(out, list(wanted.values()), cot, allow_unused=True) if out.requires_grad else []
    request = from_torch(fn, inputs, seed=cot)
    found = {n.op for n in request.graph.nodes if isinstance(n, OpNode)}
    assert SPELLED_OTHERWISE.get(name, name) in found, found
    claimed = {n: (np.zeros(t.shape) if g is None else g.numpy()) for (n, t), g in zip(wanted.items(), grads)}
    report = check(CheckRequest(request.graph, request.seed, witnesses=("numeric",), claimed=claimed))
    np.testing.assert_allclose(report.output, out.detach().numpy(), rtol=1e-12, atol=1e-12)
    if name in FLOAT32_SIXTH:
        pairs = [p for leaf in report.leaves for p in leaf.pairs if p.witnesses == ("claimed", "numeric")]
        assert report.verdict == "mismatch" and pairs and max(p.max_rel for p in pairs) < 1e-7, str(report)
        return
    assert report.verdict in ("agree", "convention") if wanted and out.requires_grad else \
        not report.leaves or report.verdict == "skipped", str(report)
