"""Issue 11 conformance programs, each written once as PyTorch code on a module ``T`` (torch or
crossgrad): in-place forms (inplace=True, F.relu_, x.exp_(), x.unsqueeze_()), randint's keyword
forms, cat beside torch.tensor([]), clamp_min/clamp_max grad_fn names, arange of a tensor, an n-D
integer index on a later dim. Each returns a dict of plain results; make_golden_conformance_opsa.py
records torch's, tests/test_conformance_opsa.py compares crossgrad's."""

from __future__ import annotations

from typing import Any

import numpy as np

X = np.random.default_rng(11).standard_normal((2, 3))


def _gfn(t: Any) -> str | None:
    return None if t.grad_fn is None else type(t.grad_fn).__name__


def _weights(T: Any, y: Any) -> Any:
    return T.tensor(np.cos(np.arange(y.numel())).reshape(tuple(y.shape)), dtype=y.dtype)


_ACTS = {
    "F.relu": lambda T, x: T.nn.functional.relu(x, inplace=True),
    "F.relu(x, True)": lambda T, x: T.nn.functional.relu(x, True),
    "F.leaky_relu": lambda T, x: T.nn.functional.leaky_relu(x, 0.2, inplace=True),
    "F.elu": lambda T, x: T.nn.functional.elu(x, alpha=0.5, inplace=True),
    "F.hardtanh": lambda T, x: T.nn.functional.hardtanh(x, -0.5, 0.5, True),
    "F.silu": lambda T, x: T.nn.functional.silu(x, inplace=True),
    "F.relu6": lambda T, x: T.nn.functional.relu6(x, inplace=True),
    "F.hardswish": lambda T, x: T.nn.functional.hardswish(x, inplace=True),
    "F.mish": lambda T, x: T.nn.functional.mish(x, inplace=True),
    "F.relu_": lambda T, x: T.nn.functional.relu_(x),
    "F.elu_": lambda T, x: T.nn.functional.elu_(x, 0.3),
    "nn.ReLU": lambda T, x: T.nn.ReLU(inplace=True)(x),
    "nn.SiLU": lambda T, x: T.nn.SiLU(inplace=True)(x),
    "nn.LeakyReLU": lambda T, x: T.nn.LeakyReLU(0.1, inplace=True)(x),
    "nn.ELU": lambda T, x: T.nn.ELU(inplace=True)(x),
    "nn.Hardtanh": lambda T, x: T.nn.Hardtanh(inplace=True)(x),
    "x.relu_": lambda T, x: x.relu_(),
    "x.exp_": lambda T, x: x.exp_(),
    "x.sigmoid_": lambda T, x: x.sigmoid_(),
    "x.tanh_": lambda T, x: x.tanh_(),
    "x.pow_": lambda T, x: x.pow_(2),
    "x.clamp_min_": lambda T, x: x.clamp_min_(0.1),
    "x.neg_": lambda T, x: x.neg_(),
}


def _no_grad_case(act: Any) -> Any:
    def run(T: Any) -> dict:
        x = T.tensor(X)
        view = x.view(-1)
        y = act(T, x)
        return {"x": x, "same_object": y is x, "view": view}
    return run


def _graph_case(act: Any) -> Any:
    def run(T: Any) -> dict:
        w = T.tensor(X, requires_grad=True)
        h = w * 2
        y = act(T, h)
        (h * _weights(T, h)).sum().backward()
        return {"h": h, "same_object": y is h, "grad_fn": _gfn(h), "w.grad": w.grad}
    return run


def _sequential(T: Any) -> dict:
    T.manual_seed(0)
    m = T.nn.Sequential(T.nn.Linear(3, 4), T.nn.ReLU(inplace=True), T.nn.Linear(4, 2), T.nn.ELU(inplace=True))
    y = m(T.tensor(X, dtype=T.float32))
    y.sum().backward()
    return {"y": y, "grads": [p.grad for p in m.parameters()]}


def _dropout_inplace(T: Any) -> dict:
    T.manual_seed(0)
    x = T.ones(4, 5)
    T.nn.functional.dropout(x, 0.5, True, True)
    w = T.ones(4, 5, requires_grad=True)
    h = w * 1
    T.nn.Dropout(0.5, inplace=True)(h)
    h.sum().backward()
    return {"x": x, "h": h, "w.grad": w.grad}


def _view_inplace(T: Any) -> dict:
    x = T.tensor(X)
    x.unsqueeze_(0)
    shape1 = list(x.shape)
    x.squeeze_(0)
    x.t_()
    w = T.tensor(X, requires_grad=True)
    h = w * 1
    h.unsqueeze_(1)
    return {"x": x, "shape1": shape1, "h.shape": list(h.shape), "h.grad_fn": _gfn(h)}


def _slice_no_grad(T: Any) -> dict:
    x = T.tensor(X)
    x[:, :2].relu_()
    T.nn.functional.elu(x[1], inplace=True)
    return {"x": x}


def _reprs(T: Any) -> dict:
    return {"silu": repr(T.nn.SiLU(inplace=True)), "silu0": repr(T.nn.SiLU()),
            "leaky": repr(T.nn.LeakyReLU(inplace=True)), "elu": repr(T.nn.ELU(inplace=True))}


def _randint(T: Any) -> dict:
    T.manual_seed(1)
    return {"high_size_kw": T.randint(10, size=(2, 3)), "high_kw": T.randint(high=5, size=(4,)),
            "low_high_kw": T.randint(low=2, high=9, size=(3,)), "positional": T.randint(3, 10, (4,)),
            "high_positional": T.randint(7, (5,)), "float": T.randint(10, (3,), dtype=T.float64)}


def _cat_legacy_empty(T: Any) -> dict:
    x = T.tensor(X, requires_grad=True)
    acc = T.tensor([])
    for part in (x, x * 2):
        acc = T.cat([acc, part])
    acc2 = T.cat([x, T.tensor([])], dim=1)
    (acc.sum() + (acc2 * 3).sum()).backward()
    return {"acc": acc, "acc2": acc2, "grad": x.grad, "grad_fn": _gfn(acc), "flat": T.cat([T.tensor([]), T.ones(2)])}


def _clamp_names(T: Any) -> dict:
    x = T.tensor(X, requires_grad=True)
    outs = {"x.clamp_min": x.clamp_min(0.1), "x.clamp_max": x.clamp_max(0.2), "T.clamp_min": T.clamp_min(x, -0.1),
            "T.clamp_max": T.clamp_max(x, 0.0), "clamp(min=)": T.clamp(x, min=0.1)}
    sum(o.sum() * (i + 1) for i, o in enumerate(outs.values())).backward()
    return {**{k: v for k, v in outs.items()}, **{k + " grad_fn": _gfn(v) for k, v in outs.items()}, "grad": x.grad}


def _arange_tensor(T: Any) -> dict:
    return {"int": T.arange(T.tensor(4)), "np_int": T.arange(np.int64(3)), "float": T.arange(T.tensor(2.5)),
            "mixed": T.arange(1, T.tensor(4)), "np_float": T.arange(np.float64(2))}


def _index_nd(T: Any) -> dict:
    x = T.tensor(np.random.default_rng(3).standard_normal((2, 3, 4)), requires_grad=True)
    outs = {"dim1": x[:, T.tensor([[0, 2], [1, 1]])], "last": x[..., T.tensor([[0, 3, -1]])],
            "slice": x[1:, :2, T.tensor([[3, 0], [1, 2]])], "int": x[0, T.tensor([[0, 2], [1, 1]])]}
    sum((o * _weights(T, o)).sum() for o in outs.values()).backward()
    return {**outs, **{k + " grad_fn": _gfn(v) for k, v in outs.items()}, "grad": x.grad}


def _sdpa_mask_ranks(T: Any) -> dict:
    """The output's grad_fn name follows torch's CPU kernel choice: fused for 2-D and 4-D masks only."""
    q = T.tensor(np.random.default_rng(4).standard_normal((1, 2, 3, 4)), requires_grad=True)
    out = {}
    for shape in ((3, 3), (1, 3), (2, 1, 3), (2, 3, 3), (1, 2, 3, 3), (1, 2, 1, 3)):
        mask = np.random.default_rng(5).random(shape)
        for kind, m in (("bool", T.tensor(mask > 0.4)), ("float", T.tensor(mask))):
            y = T.nn.functional.scaled_dot_product_attention(q, q.flip(-1), q * 2, attn_mask=m)
            (y * _weights(T, y)).sum().backward()
            out[f"{shape} {kind}"] = [y, _gfn(y), q.grad]
            q.grad = None
    three = T.ones(2, 3, 4, dtype=T.float64)
    keep = T.tensor([True, False, True])
    out["3-D, 1-D mask"] = T.nn.functional.scaled_dot_product_attention(three, three * 2, three, keep)
    return out


def _edge_reductions(T: Any) -> dict:
    """max/min(dim) of a 0-d tensor, prod and softmax over an empty dim: values and gradients."""
    out = {}
    for name, fn in (("max0d", lambda x: x.max(dim=0)), ("min0d", lambda x: T.min(x, -1, keepdim=True))):
        x = T.tensor(0.7, dtype=T.float64, requires_grad=True)
        values, indices = fn(x)
        (values * 3).sum().backward()
        out[name] = [values, indices, _gfn(values), x.grad]
    for dim in (0, 1, 2):
        e = T.zeros(2, 0, 3, dtype=T.float64, requires_grad=True)
        y = e.prod(dim)
        z = T.softmax(e, dim) * 2 + T.log_softmax(e, dim=dim)
        (y.sum() + z.sum()).backward()
        out[f"empty dim {dim}"] = [y, z, e.grad]
    return out


def _masked_fill_0d(T: Any) -> dict:
    x = T.tensor(-0.5, dtype=T.float32, requires_grad=True)
    y = x.masked_fill(x < 0, 2.0) * x.masked_fill(x > 0, float("-inf")).exp()
    y.backward()
    return {"y": y, "grad": x.grad, "grad_fn": _gfn(y)}


def _devices(T: Any) -> dict:
    d = T.device("cpu", 0)
    return {"repr": repr(d), "str": str(d), "eq": d == T.device("cpu:0"), "ne": d == T.device("cpu"),
            "copy": repr(T.device(T.device("cpu:0"))), "tensor": str(T.ones(2, device="cpu:0").device),
            "is_cpu": T.ones(1).is_cpu, "plain": repr(T.ones(1).device)}


_ARITH = {
    "add_": lambda T, h, o: h.add_(o), "add_ alpha": lambda T, h, o: h.add_(o, alpha=2.5),
    "sub_": lambda T, h, o: h.sub_(o), "mul_": lambda T, h, o: h.mul_(o), "div_": lambda T, h, o: h.div_(o + 3),
    "masked_fill_": lambda T, h, o: h.masked_fill_(h > 0, 0.5), "clamp_": lambda T, h, o: h.clamp_(-0.2, 0.3),
    "mul_ scalar": lambda T, h, o: h.mul_(3), "chain": lambda T, h, o: h.mul_(2).add_(o).relu_(),
}


def _arith_case(op: Any) -> Any:
    """An in-place op on a non-leaf, and on a tensor outside the graph with an operand inside it."""
    def run(T: Any) -> dict:
        w = T.tensor(X, requires_grad=True)
        v = T.tensor(X[::-1].copy(), requires_grad=True)
        h = w * 1.5
        op(T, h, v)
        buffer = T.tensor(X)
        op(T, buffer, v)
        ((h + buffer) * _weights(T, h)).sum().backward()
        return {"h": h, "grad_fn": _gfn(h), "buffer": buffer, "buffer.requires_grad": buffer.requires_grad,
                "w.grad": w.grad, "v.grad": v.grad}
    return run


_SETITEM = {
    "row": lambda T: 0, "column": lambda T: (slice(None), 1), "element": lambda T: (1, 2),
    "slices": lambda T: (slice(0, 1), slice(1, None)), "bool mask": lambda T: T.tensor([[True, False, True],
                                                                                        [False, True, False]]),
    "int tensor": lambda T: T.tensor([1, 0]), "lists": lambda T: ([0, 1], [2, 0]),
}


def _setitem_case(index: Any) -> Any:
    """x[index] = value with a value that requires grad, into a buffer and into a non-leaf."""
    def run(T: Any) -> dict:
        w = T.tensor(X, requires_grad=True)
        out = {}
        for target in ("buffer", "non-leaf"):
            x = T.zeros(2, 3, dtype=T.float64) if target == "buffer" else w * 1.5
            idx = index(T)
            shape = np.zeros((2, 3))[idx.numpy() if hasattr(idx, "numpy") else idx].shape
            x[idx] = (w * 2).reshape(-1)[: int(np.prod(shape))].reshape(shape) if shape else w[1, 1] * 2
            ((x * _weights(T, x)).sum() + w.sum()).backward()
            out[target] = [x, _gfn(x), x.requires_grad, w.grad]
            w.grad = None
        return out
    return run


def _rnn_outputs(T: Any) -> dict:
    """Outputs written into a preallocated tensor step by step (an RNN loop)."""
    w = T.tensor(X, requires_grad=True)
    h = T.zeros(3, dtype=T.float64)
    outs = T.zeros(4, 3, dtype=T.float32)
    for t in range(4):
        h = T.tanh(w[0] * h + w[1])
        outs[t] = h
    (outs * T.arange(12.0).view(4, 3)).sum().backward()
    return {"outs": outs, "grad_fn": _gfn(outs), "w.grad": w.grad}


_AUGMENTED = {"+=": lambda b, w: b.__iadd__(w), "-=": lambda b, w: b.__isub__(w),
              "*=": lambda b, w: b.__imul__(w), "/=": lambda b, w: b.__itruediv__(w + 3)}


def _augmented_case(op: Any) -> Any:
    """b op= w with w requiring grad: b is changed in place (an alias sees it), into a buffer of
    another dtype (the result keeps b's dtype) and into a non-leaf."""
    def run(T: Any) -> dict:
        w = T.tensor(X, requires_grad=True)
        buffer = T.ones(2, 3, dtype=T.float32)
        alias = buffer
        r = op(buffer, w)
        h = w * 2
        h_alias = h
        r2 = op(h, w)
        (r.sum() + (r2 * _weights(T, r2)).sum()).backward()
        return {"r": r, "alias": alias, "same": r is alias, "grad_fn": _gfn(r), "h_alias": h_alias,
                "same2": r2 is h_alias, "w.grad": w.grad}
    return run


CASES: dict[str, Any] = {}
for _name, _op in _AUGMENTED.items():
    CASES[f"augmented {_name}"] = _augmented_case(_op)
for _name, _index in _SETITEM.items():
    CASES[f"setitem {_name}"] = _setitem_case(_index)
CASES["setitem rnn outputs"] = _rnn_outputs
for _name, _op in _ARITH.items():
    CASES[f"graph {_name}"] = _arith_case(_op)
for _name, _act in _ACTS.items():
    CASES[f"no_grad {_name}"] = _no_grad_case(_act)
    CASES[f"graph {_name}"] = _graph_case(_act)
CASES.update({"sequential inplace": _sequential, "dropout inplace": _dropout_inplace, "view inplace": _view_inplace,
              "slice no_grad": _slice_no_grad, "reprs": _reprs, "randint": _randint,
              "cat legacy empty": _cat_legacy_empty, "clamp names": _clamp_names, "arange tensor": _arange_tensor,
              "index n-D": _index_nd, "sdpa mask ranks": _sdpa_mask_ranks,
              "edge reductions": _edge_reductions, "masked_fill 0-d": _masked_fill_0d,
              "devices": _devices})

# Refused as torch refuses them: (program, error type name torch raises)
ERRORS: dict[str, Any] = {
    "leaf relu_": lambda T: T.nn.functional.relu(T.ones(2, requires_grad=True), inplace=True),
    "leaf exp_": lambda T: T.ones(2, requires_grad=True).exp_(),
    "leaf unsqueeze_": lambda T: T.ones(2, requires_grad=True).unsqueeze_(0),
    "int exp_": lambda T: T.tensor([1, 2]).exp_(),
    "broadcast pow_": lambda T: T.ones(3).pow_(T.ones(2, 3)),
    "var long": lambda T: T.tensor([1, 2, 3]).var(),
    "std long": lambda T: T.std(T.tensor([1, 2, 3])),
    "norm long": lambda T: T.tensor([3, 4]).norm(),
    "index oob": lambda T: T.ones(2, 3)[:, T.tensor([[0, 3]])],
    "leaf add_": lambda T: T.ones(2, requires_grad=True).add_(1),
    "leaf setitem": lambda T: T.ones(2, requires_grad=True).__setitem__(0, 3.0),
    "int add_ of a graph float": lambda T: T.tensor([1, 2]).add_(T.ones(2, requires_grad=True)),
    "sdpa 1-D mask": lambda T: T.nn.functional.scaled_dot_product_attention(
        T.ones(1, 2, 3, 4), T.ones(1, 2, 3, 4), T.ones(1, 2, 3, 4), T.ones(3, dtype=T.bool)),
    "sdpa mask grows batch": lambda T: T.nn.functional.scaled_dot_product_attention(
        T.ones(1, 2, 3, 4), T.ones(1, 2, 3, 4), T.ones(1, 2, 3, 4), T.ones(2, 1, 3, 3, dtype=T.bool)),
    "sdpa 4-D mask of 3-D inputs": lambda T: T.nn.functional.scaled_dot_product_attention(
        T.ones(2, 3, 4), T.ones(2, 3, 4), T.ones(2, 3, 4), T.zeros(1, 1, 3, 3)),
}


def plain(value: Any) -> Any:
    """A result as JSON data: a tensor is {dtype, shape, values}."""
    if hasattr(value, "detach") and hasattr(value, "shape"):
        arr = np.asarray(value.detach().numpy())
        return {"dtype": str(value.dtype).split(".")[-1], "shape": list(arr.shape), "values": arr.tolist()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    return value
