"""Regenerate torch_golden.json with real PyTorch (needs torch; never run by the tests).

    python tests/golden/make_torch_golden.py   # in an environment with torch and crossgrad

For every catalogue case it stores, in float32: PyTorch's grad_fn name, output and input
gradients for the inputs tests/catalogue_inputs.py draws with seed 0 and a fixed cotangent;
and the seed MLP's loss and gradient summaries for weights drawn by numpy with a fixed seed.
"""

from __future__ import annotations

import json
import pathlib
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2]))
from crossgrad.engine import ops  # noqa: E402

from tests.catalogue_inputs import case_inputs, resolved_attrs, seed_mlp  # noqa: E402

TORCH_CALLS = {
    "add": lambda x, at: torch.add(x[0], x[1]),
    "sub": lambda x, at: torch.sub(x[0], x[1]),
    "mul": lambda x, at: torch.mul(x[0], x[1]),
    "div": lambda x, at: torch.div(x[0], x[1]),
    "maximum": lambda x, at: torch.maximum(x[0], x[1]),
    "minimum": lambda x, at: torch.minimum(x[0], x[1]),
    "pow_tensor": lambda x, at: x[0] ** x[1],
    "pow": lambda x, at: x[0] ** at["exponent"],
    "neg": lambda x, at: -x[0],
    "exp": lambda x, at: torch.exp(x[0]),
    "log": lambda x, at: torch.log(x[0]),
    "sqrt": lambda x, at: torch.sqrt(x[0]),
    "tanh": lambda x, at: torch.tanh(x[0]),
    "sigmoid": lambda x, at: torch.sigmoid(x[0]),
    "relu": lambda x, at: torch.relu(x[0]),
    "abs": lambda x, at: torch.abs(x[0]),
    "softplus": lambda x, at: F.softplus(x[0], at["beta"], at["threshold"]),
    "matmul": lambda x, at: torch.matmul(x[0], x[1]),
    "sum": lambda x, at: x[0].sum() if at["dim"] is None else x[0].sum(at["dim"], at["keepdim"]),
    "mean": lambda x, at: x[0].mean() if at["dim"] is None else x[0].mean(at["dim"], at["keepdim"]),
    "reshape": lambda x, at: x[0].reshape(at["shape"]),
    "flatten": lambda x, at: x[0].flatten(at["start_dim"], at["end_dim"]),
    "transpose": lambda x, at: x[0].transpose(at["dim0"], at["dim1"]),
    "permute": lambda x, at: x[0].permute(*at["dims"]),
    "select": lambda x, at: x[0].select(at["dim"], at["index"]),
    "slice": lambda x, at: x[0][(slice(None),) * at["dim"] + (slice(at["start"], at["stop"], at["step"]),)],
    "softmax": lambda x, at: F.softmax(x[0], at["dim"]),
    "log_softmax": lambda x, at: F.log_softmax(x[0], at["dim"]),
    "linear": lambda x, at: F.linear(x[0], x[1], x[2]),
    "binary_cross_entropy_with_logits": lambda x, at: F.binary_cross_entropy_with_logits(
        x[0], x[1], weight=x[2], pos_weight=x[3], reduction=at["reduction"]),
    "cross_entropy": lambda x, at: F.cross_entropy(
        x[0], x[1], weight=x[2], ignore_index=at["ignore_index"], reduction=at["reduction"],
        label_smoothing=at["label_smoothing"]),
    "mse_loss": lambda x, at: F.mse_loss(x[0], x[1], reduction=at["reduction"]),
    "detach": lambda x, at: x[0].detach(),
}


def _tensor(arr, inp):
    if arr is None:
        return None
    if arr.dtype == np.int64:
        return torch.from_numpy(arr)
    return torch.tensor(arr.astype(np.float32), requires_grad=inp.differentiable)


def op_cases() -> list[dict]:
    out = []
    for name, spec in ops.CATALOGUE.items():
        for index, case in enumerate(spec.cases):
            attrs = resolved_attrs(spec, case)
            arrays = case_inputs(spec, case, seed=0)
            ts = [_tensor(a, inp) for a, inp in zip(arrays, spec.inputs)]
            y = TORCH_CALLS[name](ts, attrs)
            cot = np.random.default_rng(7).standard_normal(tuple(y.shape)).astype(np.float32)
            grads = {}
            if y.requires_grad:
                y.backward(torch.from_numpy(cot))
                grads = {inp.name: t.grad.tolist() for inp, t in zip(spec.inputs, ts)
                         if t is not None and t.grad is not None}
            out.append({"op": name, "case": index,
                        "grad_fn": type(y.grad_fn).__name__ if y.grad_fn is not None else None,
                        "out": y.detach().tolist(), "grads": grads})
    return out


def mlp() -> dict:
    """Seed MLP, batch 64, float32: weights from numpy seed 0, inputs from seed 1."""
    params, loss = seed_mlp(torch, F)
    loss.backward()
    return {"loss": loss.item(),
            "grads": [{"sum": float(p.grad.double().sum()), "abs_sum": float(p.grad.double().abs().sum()),
                       "first": p.grad.flatten()[:6].tolist()} for p in params]}


if __name__ == "__main__":
    target = pathlib.Path(__file__).with_name("torch_golden.json")
    payload = {"torch": torch.__version__, "ops": op_cases(), "mlp": mlp()}
    target.write_text(json.dumps(payload, indent=1))
    print(f"wrote {target} ({len(payload['ops'])} op cases)")
