"""Record real PyTorch's values for the CNN ops and models: tests/golden/cnn.json.

    .venv/bin/pip install torch==2.13.0 && .venv/bin/python tests/golden/make_golden_cnn.py

Per catalogue case of every CNN op: the inputs (float64), torch's output and the gradients of
sum(output * cotangent) for every differentiable input. Per model (LeNet-5, the ResNet block):
the losses of 3 SGD-momentum steps, then per parameter its sum, sum of squares and first values,
and the batch-norm running statistics. tests/test_cnn_golden.py compares without torch.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT), str(ROOT / "examples" / "models")]

from crossgrad.engine import ops  # noqa: E402
from crossgrad.engine.conv_specs import pairs  # noqa: E402

from tests.catalogue_inputs import case_inputs  # noqa: E402

OPS = ("conv1d", "conv2d", "conv_transpose1d", "conv_transpose2d", "max_pool2d", "avg_pool2d",
       "adaptive_avg_pool2d", "adaptive_max_pool2d", "batch_norm", "pad", "interpolate", "pixel_shuffle")


def _conv(name: str, t: list, at: dict) -> torch.Tensor:
    pads = pairs(name, at["padding"], len(at["stride"]))
    x, pad = t[0], tuple(lo for lo, _ in pads)
    if any(lo != hi for lo, hi in pads):  # asymmetric: torch pads first (as its padding='same' does)
        x, pad = F.pad(x, [v for lo, hi in reversed(pads) for v in (lo, hi)]), 0
    if "transpose" in name:
        return getattr(F, name)(x, t[1], t[2], at["stride"], pad, at["output_padding"], at["groups"], at["dilation"])
    return getattr(F, name)(x, t[1], t[2], at["stride"], pad, at["dilation"], at["groups"])


def torch_call(name: str, t: list, at: dict) -> torch.Tensor:
    if name.startswith("conv"):
        return _conv(name, t, at)
    stride = at.get("stride") or None
    if name == "max_pool2d":
        return F.max_pool2d(t[0], at["kernel_size"], stride, at["padding"], at["dilation"], at["ceil_mode"])
    if name == "avg_pool2d":
        return F.avg_pool2d(t[0], at["kernel_size"], stride, at["padding"], at["ceil_mode"],
                            at["count_include_pad"], at["divisor_override"])
    if name == "pad":
        extra = {"value": at["value"]} if at["mode"] == "constant" else {}
        return F.pad(t[0], at["pad"], at["mode"], **extra)
    if name == "interpolate":
        corners = at["align_corners"] if at["mode"] != "nearest" else None
        if at["scale_h"] or at["scale_w"]:  # a 3-D input's scale is scale_w
            factors = (at["scale_w"],) if t[0].dim() == 3 else (at["scale_h"], at["scale_w"])
            return F.interpolate(t[0], scale_factor=factors, mode=at["mode"], align_corners=corners)
        return F.interpolate(t[0], size=at["size"], mode=at["mode"], align_corners=corners)
    if name == "pixel_shuffle":
        return F.pixel_shuffle(t[0], at["upscale_factor"])
    if name == "adaptive_max_pool2d":
        return F.adaptive_max_pool2d(t[0], at["output_size"])
    if name == "adaptive_avg_pool2d":
        return F.adaptive_avg_pool2d(t[0], at["output_size"])
    return F.batch_norm(t[0], t[1], t[2], t[3], t[4], at["training"], at["momentum"], at["eps"])


def op_cases() -> list[dict]:
    out = []
    for name in OPS:
        spec = ops.CATALOGUE[name]
        for index, case in enumerate(spec.cases):
            at = ops.resolve_attrs(spec, case.attrs)
            xs = case_inputs(spec, case, seed=100 + index)
            t = [None if v is None else torch.tensor(v, requires_grad=spec.inputs[i].differentiable)
                 for i, v in enumerate(xs)]
            y = torch_call(name, t, at)
            g = np.random.default_rng(7).standard_normal(tuple(y.shape))
            (y * torch.tensor(g)).sum().backward()
            out.append({"op": name, "case": index, "inputs": [None if v is None else v.tolist() for v in xs],
                        "cotangent": g.tolist(), "output": y.detach().numpy().tolist(),
                        "grad_fn": y.grad_fn.name(),
                        "grads": [None if v is None or v.grad is None else v.grad.numpy().tolist() for v in t]})
    return out


def model_record(module: object, dtype: torch.dtype, **kw: object) -> dict:
    model, losses = module.train(torch, steps=3, dtype=dtype, **kw)  # type: ignore[attr-defined]
    params = {n: {"shape": list(p.shape), "sum": float(p.detach().double().sum()),
                  "sumsq": float((p.detach().double() ** 2).sum()),
                  "first": p.detach().double().reshape(-1)[:8].tolist()} for n, p in model.named_parameters()}
    buffers = {n: b.detach().double().reshape(-1).tolist() for n, b in model.named_buffers()}
    return {"losses": losses, "params": params, "buffers": buffers}


def main() -> None:
    import lenet
    import resnet_block

    golden = {
        "torch_version": torch.__version__,
        "ops": op_cases(),
        "models": {
            "lenet": {d: model_record(lenet, getattr(torch, d), batch=8) for d in ("float32", "float64")},
            "resnet_block": {d: model_record(resnet_block, getattr(torch, d), batch=4, channels=8, size=6)
                             for d in ("float32", "float64")},
        },
    }
    path = Path(__file__).with_name("cnn.json")
    path.write_text(json.dumps(golden, separators=(",", ":")) + "\n")
    print(f"wrote {path} ({path.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
