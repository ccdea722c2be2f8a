# ruff: noqa: E501  (each case is a short torch program, kept whole)
"""The everyday ops of the opsb sweep (einsum, MultiheadAttention, addmm/baddbmm, repeat_interleave,
cumprod, hooks, atan2, hardswish/hardsigmoid/mish, tensor_split, TransformerEncoderLayer): each case
runs under real torch (recorded in opsb2_sweep.json by make_golden_opsb2.py) and under
``import crossgrad as torch``; ``out`` is compared (values, dtypes, shapes, grad_fn names,
requires_grad; for an error, the exception type). Values are deterministic (no seeded draws)."""

HEAD = ("def T(*s, k=0.0, g=True):\n    n = 1\n    for v in s:\n        n *= v\n"
        "    t = torch.arange(n, dtype=DT).reshape(*s).mul(0.37).add(k).sin()\n    return t.requires_grad_() if g else t\n"
        "def W(y):\n    return torch.arange(y.numel(), dtype=y.dtype).reshape(y.shape).mul(0.61).cos()\n")


def both(name: str, body: str) -> dict[str, str]:
    """The case in float32 and in float64."""
    return {f"{name} [{dt}]": f"DT = torch.{dt}\n" + HEAD + body for dt in ("float32", "float64")}


def _einsum(eq: str, *shapes: tuple[int, ...]) -> str:
    names = "abcd"[: len(shapes)]
    make = "".join(f"{n} = T{s}\n".replace(",)", ")") if len(s) > 1 else f"{n} = T({s[0]}, k={i}.5)\n"
                   for i, (n, s) in enumerate(zip(names, shapes)))
    ops = ", ".join(names)
    return make + f"y = torch.einsum({eq!r}, {ops})\n(y * W(y)).sum().backward()\nout = (y, {', '.join(n + '.grad' for n in names)})"


EINSUM = [("ij,jk->ik", (2, 3), (3, 4)), ("ij->ji", (2, 3)), ("ij->", (2, 3)), ("ii->i", (3, 3)), ("ii", (3, 3)),
          ("bij,bjk->bik", (2, 3, 4), (2, 4, 5)), ("i,j->ij", (3,), (4,)), ("ij,ij->i", (2, 3), (2, 3)),
          ("...ij,...jk", (2, 3), (3, 4)), ("bhqd,bhkd->bhqk", (2, 2, 3, 4), (2, 2, 5, 4)), ("ij,jk->", (2, 3), (3, 4)),
          ("ij,jk,kl->il", (2, 3), (3, 4), (4, 5)), ("ij,jk->ki", (2, 3), (3, 4)), ("ijk->ik", (2, 3, 4)),
          ("bn,anm,bm->ba", (2, 3), (4, 3, 5), (2, 5)), ("ij,jk", (2, 1), (3, 4)), ("iij->j", (3, 3, 4)),
          ("...ij,...jk->...ik", (5, 1, 2, 3), (4, 3, 2)), ("b...,b...->b", (2, 3, 4), (2, 3, 4)), ("ab,cd->", (2, 3), (4, 5)),
          ("ij,ij->ij", (1, 3), (2, 3)), ("Ab,bA->A", (2, 3), (3, 2)), ("iji->j", (2, 3, 2)), ("i,i", (3,), (3,))]
EINSUM_BAD = {"size mismatch": "torch.einsum('ij,jk->ik', T(2, 3), T(4, 5))", "unknown output": "torch.einsum('ij->k', T(2, 3))",
              "repeated output": "torch.einsum('ij->ii', T(2, 3))", "too many subscripts": "torch.einsum('ijk', T(2, 3))",
              "too few operands": "torch.einsum('ij,jk', T(2, 3))", "too many operands": "torch.einsum('ij', T(2, 3), T(3, 3))",
              "bad char": "torch.einsum('i1', T(2, 3))", "lone dot": "torch.einsum('i.j', T(2, 3))",
              "diagonal sizes": "torch.einsum('ii', T(2, 3))", "no operands": "torch.einsum('i')"}

CASES: dict[str, str] = {}
for _eq, *_shapes in EINSUM:
    CASES.update(both(f"einsum {_eq}", _einsum(_eq, *_shapes)))
for _name, _call in EINSUM_BAD.items():
    CASES.update(both(f"einsum error {_name}", f"out = {_call}"))
CASES.update(both("einsum list and sublist forms", "a, b = T(2, 3), T(3, 4, k=1.0)\nout = (torch.einsum('ij,jk', [a, b]), torch.einsum(a, [0, 1], b, [1, 2], [0, 2]))"))
CASES.update(both("einsum no grad", "out = torch.einsum('ij,jk->ik', T(2, 3, g=False), T(3, 4, g=False))"))

MHA_HEAD = ("def load(m):\n    sd = m.state_dict()\n"
            "    m.load_state_dict({n: torch.arange(v.numel(), dtype=DT).reshape(v.shape).mul(0.13).add(i).sin() * 0.5 for i, (n, v) in enumerate(sd.items())})\n"
            "    return m\n"
            "def grads(m, *xs):\n    return [p.grad for p in m.parameters()] + [x.grad for x in xs]\n")


def _mha(args: str, call: str, shapes: tuple = ((3, 2, 6), (4, 2, 6))) -> str:
    q, kv = shapes
    return (MHA_HEAD + f"m = load(nn.MultiheadAttention({args}, dtype=DT))\nq = T{q}\nkv = T{kv}\n"
            f"o, w = m({call})\nloss = (o * W(o)).sum() + (0 if w is None else (w * W(w)).sum())\nloss.backward()\n"
            "out = ([n for n, _ in m.named_parameters()], o, w, grads(m, q, kv))")


KPM = "torch.tensor([[False, False, True, False], [False, True, False, False]])"
CAUSAL = "torch.triu(torch.ones(3, 4, dtype=torch.bool), 2)"
for _name, _args, _call, _shapes in [
        ("self", "6, 2", "q, q, q", ((3, 2, 6), (4, 2, 6))),
        ("cross", "6, 2", "q, kv, kv", ((3, 2, 6), (4, 2, 6))),
        ("batch_first", "6, 3, batch_first=True", "q, kv, kv", ((2, 3, 6), (2, 4, 6))),
        ("key_padding_mask", "6, 2", f"q, kv, kv, key_padding_mask={KPM}", ((3, 2, 6), (4, 2, 6))),
        ("bool attn_mask, per head weights", "6, 2", f"q, kv, kv, attn_mask={CAUSAL}, average_attn_weights=False", ((3, 2, 6), (4, 2, 6))),
        ("float attn_mask and padding", "6, 2, batch_first=True", f"q, kv, kv, attn_mask={CAUSAL}.to(DT) * -1.5, key_padding_mask={KPM}", ((2, 3, 6), (2, 4, 6))),
        ("need_weights False", "6, 2", "q, kv, kv, need_weights=False", ((3, 2, 6), (4, 2, 6))),
        ("unbatched", "6, 2", "q, kv, kv", ((3, 6), (4, 6))),
        ("kdim vdim no bias", "6, 2, bias=False, kdim=5, vdim=5", "q, kv, kv", ((3, 2, 6), (4, 2, 5)))]:
    CASES.update(both(f"MultiheadAttention {_name}", _mha(_args, _call, _shapes)))
CASES.update(both("MultiheadAttention bad embed dim", "m = nn.MultiheadAttention(6, 4, dtype=DT)\nout = m"))
CASES.update(both("MultiheadAttention wrong query width", "m = nn.MultiheadAttention(6, 2, dtype=DT)\nout = m(T(3, 2, 5), T(3, 2, 5), T(3, 2, 5))"))
CASES.update(both("MultiheadAttention wrong mask shape", "m = nn.MultiheadAttention(6, 2, dtype=DT)\nout = m(T(3, 2, 6), T(4, 2, 6), T(4, 2, 6), attn_mask=torch.zeros(3, 3, dtype=DT))"))
CASES.update(both("MultiheadAttention init", "m = nn.MultiheadAttention(6, 2, dtype=DT)\nb = (6 / 24) ** 0.5\nout = (m.in_proj_bias, m.out_proj.bias, bool(m.in_proj_weight.abs().max() <= b), m.in_proj_weight.shape, type(m.out_proj).__name__)"))

ADDMM = {
    "addmm": "b, m1, m2 = T(4, k=0.5), T(3, 2), T(2, 4, k=1.0)\ny = torch.addmm(b, m1, m2)",
    "addmm alpha beta": "b, m1, m2 = T(3, 4, k=0.5), T(3, 2), T(2, 4, k=1.0)\ny = torch.addmm(b, m1, m2, beta=0.5, alpha=-2.0)",
    "addmm method": "b, m1, m2 = T(1, 4, k=0.5), T(3, 2), T(2, 4, k=1.0)\ny = b.addmm(m1, m2, alpha=3)",
    "addmm beta 0 ignores nan": "b = torch.tensor([float('nan'), 1.0, 2.0, 3.0], dtype=DT, requires_grad=True)\nm1, m2 = T(3, 2), T(2, 4, k=1.0)\ny = torch.addmm(b, m1, m2, beta=0)",
    "baddbmm": "b, m1, m2 = T(2, 3, 4, k=0.5), T(2, 3, 2), T(2, 2, 4, k=1.0)\ny = torch.baddbmm(b, m1, m2, beta=2.0, alpha=0.5)",
    "baddbmm broadcast input": "b, m1, m2 = T(4, k=0.5), T(2, 3, 2), T(2, 2, 4, k=1.0)\ny = b.baddbmm(m1, m2) if False else torch.baddbmm(b, m1, m2)",
    "addbmm": "b, m1, m2 = T(3, 4, k=0.5), T(2, 3, 2), T(2, 2, 4, k=1.0)\ny = torch.addbmm(b, m1, m2, alpha=1.5)",
    "addmv": "b, m1, m2 = T(3, k=0.5), T(3, 2), T(2, k=1.0)\ny = torch.addmv(b, m1, m2, beta=-1.0)",
    "addmv scalar input": "b, m1, m2 = T(1, k=0.5).sum(), T(3, 2), T(2, k=1.0)\ny = torch.addmv(b, m1, m2)",
}
for _name, _body in ADDMM.items():
    CASES.update(both(_name, _body + "\n(y * W(y)).sum().backward()\nout = (y, b.grad if b.is_leaf else None, m1.grad, m2.grad)"))
ADDMM_BAD = {"addmm vector": "torch.addmm(T(2), T(3), T(3, 2))", "addmm shapes": "torch.addmm(T(2), T(2, 3), T(4, 2))",
             "addmm input shape": "torch.addmm(T(3, 3), T(2, 3), T(3, 2))",
             "baddbmm batch sizes": "torch.baddbmm(T(2), T(2, 2, 3), T(3, 3, 2))",
             "addmv sizes": "torch.addmv(T(2), T(2, 3), T(4))", "addmv matrix vec": "torch.addmv(T(2), T(2, 3), T(3, 1))",
             "addmm dtypes": "torch.addmm(T(2), T(2, 3), T(3, 2).double() if DT == torch.float32 else T(3, 2).float())"}
for _name, _call in ADDMM_BAD.items():
    CASES.update(both(f"error {_name}", f"out = {_call}"))

SHAPE = {
    "repeat_interleave int": "x = T(2, 3)\ny = x.repeat_interleave(2)",
    "repeat_interleave dim": "x = T(2, 3)\ny = torch.repeat_interleave(x, 3, dim=-1)",
    "repeat_interleave dim 0": "x = T(2, 3)\ny = x.repeat_interleave(2, dim=0)",
    "repeat_interleave tensor": "x = T(2, 3)\ny = x.repeat_interleave(torch.tensor([1, 0, 2]), dim=1)",
    "repeat_interleave one repeat tensor": "x = T(2, 3)\ny = x.repeat_interleave(torch.tensor([2]), dim=0)",
    "repeat_interleave 0-d": "x = T(1).sum()\ny = x.repeat_interleave(3)",
    "repeat_interleave kv heads": "x = T(2, 2, 3, 4)\ny = x.repeat_interleave(2, dim=1)",
    "tensor_split sections": "x = T(2, 7)\ny = torch.cat([p * (k + 1) for k, p in enumerate(torch.tensor_split(x, 3, dim=1))], 1)",
    "tensor_split indices": "x = T(6, 2)\ny = torch.cat([p * (k + 1) for k, p in enumerate(x.tensor_split([1, 4, -1, 20]))])",
    "tensor_split index tensor": "x = T(5, 2)\ny = torch.cat([p * (k + 1) for k, p in enumerate(x.tensor_split(torch.tensor([2, 3])))])",
}
for _name, _body in SHAPE.items():
    CASES.update(both(_name, _body + "\n(y * W(y)).sum().backward()\nout = (y, x.grad if x.is_leaf else None)"))
CASES.update(both("repeat_interleave of repeats", "out = torch.repeat_interleave(torch.tensor([1, 2, 0, 3]))"))
CASES.update(both("tensor_split pieces", "out = [(tuple(p.shape), p.grad_fn.name()) for p in T(2, 5).tensor_split(4, dim=1)]"))
SHAPE_BAD = {"repeats size": "T(2, 3).repeat_interleave(torch.tensor([1, 2, 3]), dim=0)",
             "negative repeats": "T(2, 3).repeat_interleave(-1)", "negative repeat tensor": "T(2, 3).repeat_interleave(torch.tensor([1, -1]), dim=0)",
             "repeat dim": "T(2, 3).repeat_interleave(2, dim=2)", "repeats 2-d": "T(2, 3).repeat_interleave(torch.tensor([[1]]), dim=0)",
             "zero sections": "torch.tensor_split(T(4), 0)", "split 0-d": "torch.tensor_split(T(1).sum(), 2)",
             "split dim": "torch.tensor_split(T(4), 2, dim=1)"}
for _name, _call in SHAPE_BAD.items():
    CASES.update(both(f"error {_name}", f"out = {_call}"))

GRID = "x = torch.tensor([-5.0, -3.0, -2.5, -1.0, 0.0, 0.5, 2.999, 3.0, 4.0], dtype=DT, requires_grad=True)\n"
ZEROS = "x = torch.tensor([[1.5, 0.0, 2.0, 0.0, 3.0], [0.5, -2.0, 0.0, 1.25, -1.0], [0.7, 1.1, -0.9, 1.3, 2.0]], dtype=DT, requires_grad=True)\n"
ELEMENTWISE = {
    "hardswish across its bounds": GRID + "y = F.hardswish(x)",
    "hardswish module": GRID + "y = nn.Hardswish()(x)",
    "hardsigmoid across its bounds": GRID + "y = nn.Hardsigmoid()(x)",
    "mish": GRID + "y = F.mish(x * 4)",
    "mish module": GRID + "y = nn.Mish()(x)",
    "cumprod with zeros dim 1": ZEROS + "y = torch.cumprod(x, 1)",
    "cumprod with zeros dim 0": ZEROS + "y = x.cumprod(dim=0)",
    "cumprod negative dim": "x = T(2, 3, 4)\ny = torch.cumprod(x, -2)",
    "atan2 broadcast": "x = T(3, 4)\nb = T(4, k=2.0)\ny = torch.atan2(x, b)",
    "atan2 quadrants": "x = torch.tensor([1.0, 1.0, -1.0, -1.0, 0.0, 0.0, 2.0], dtype=DT, requires_grad=True)\nb = torch.tensor([1.0, -1.0, 1.0, -1.0, -1.0, 1.0, 0.0], dtype=DT)\ny = x.atan2(b) + torch.arctan2(b, x)",
    "atan2 at the origin": "x = torch.tensor([0.0, 1.0], dtype=DT, requires_grad=True)\ny = torch.atan2(x, x * 0)",
}
for _name, _body in ELEMENTWISE.items():
    _grad = "x.grad" if "hardsigmoid" not in _name else "x.grad if DT == torch.float32 else None"  # torch's float64 hardsigmoid' is float32's 1/6
    CASES.update(both(_name, _body + f"\n(y * W(y)).sum().backward()\nout = (y, {_grad})"))
for _name, _call in {"cumprod": "torch.cumprod(x, 1)", "atan2": "torch.atan2(x, x.flip(0) + 0.5)",
                     "hardswish": "F.hardswish(x * 3)", "mish": "F.mish(x)"}.items():
    CASES.update(both(f"{_name} second order", ZEROS + f"y = {_call}\ng, = torch.autograd.grad((y * W(y)).sum(), x, create_graph=True)\nh, = torch.autograd.grad((g * g).sum(), x)\nout = (g.detach(), h)"))
CASES.update(both("cumprod of ints", "out = torch.cumprod(torch.tensor([1, 2, 0, 3]), 0)"))
CASES.update(both("atan2 of ints", "out = torch.atan2(torch.tensor([1, 2]), torch.tensor([1, 1]))"))
CASES.update(both("cumprod dtype", "out = torch.cumprod(T(3, g=False), 0, dtype=torch.float64)"))
for _name, _call in {"cumprod dim": "torch.cumprod(T(3), 1)", "atan2 shapes": "torch.atan2(T(3), T(4))",
                     "hardswish of ints": "F.hardswish(torch.tensor([1, 2]))"}.items():
    CASES.update(both(f"error {_name}", f"out = {_call}"))

NET = ("net = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2)).to(DT)\n"
       "net.load_state_dict({n: torch.arange(v.numel(), dtype=DT).reshape(v.shape).mul(0.21).add(i).cos() for i, (n, v) in enumerate(net.state_dict().items())})\n"
       "x = T(5, 3)\n")
HOOKS = {
    "forward hook collects activations": NET + "seen = []\nh = net[1].register_forward_hook(lambda m, i, o: seen.append((type(m).__name__, i[0].shape, o)))\ny = net(x)\nh.remove()\nnet(x)\nout = (len(seen), seen[0][0], list(seen[0][1]), seen[0][2], y)",
    "forward hook replaces the output": NET + "h = net[0].register_forward_hook(lambda m, i, o: o * 2)\ny = net(x)\n(y * W(y)).sum().backward()\nh.remove()\nout = (y, net(x), x.grad, net[0].weight.grad)",
    "pre-hook replaces the input": NET + "h = net.register_forward_pre_hook(lambda m, i: i[0] + 1)\ny = net(x)\n(y * W(y)).sum().backward()\nout = (y, x.grad)",
    "pre-hook returning a tuple": NET + "h = net[2].register_forward_pre_hook(lambda m, i: (i[0].relu(),))\ny = net(x)\nout = y",
    "hook order and prepend": NET + "order = []\nnet[0].register_forward_hook(lambda m, i, o: order.append('a'))\nnet[0].register_forward_hook(lambda m, i, o: order.append('b'))\nnet[0].register_forward_hook(lambda m, i, o: order.append('c'), prepend=True)\nnet[0].register_forward_pre_hook(lambda m, i: order.append('pre'))\nnet(x)\nout = order",
    "hooks with kwargs": "class M(nn.Module):\n    def forward(self, x, scale=1.0):\n        return x * scale\nm = M()\nx = T(3)\nm.register_forward_pre_hook(lambda mod, a, k: (a, {**k, 'scale': 3.0}), with_kwargs=True)\nm.register_forward_hook(lambda mod, a, k, o: o + k['scale'], with_kwargs=True)\nout = m(x, scale=2.0)",
    "handle as context manager": NET + "with net.register_forward_hook(lambda m, i, o: o * 0):\n    a = net(x)\nout = (a, net(x))",
    "handle ids differ": NET + "h1 = net.register_forward_hook(lambda m, i, o: None)\nh2 = net.register_forward_hook(lambda m, i, o: None)\nh1.remove()\nh1.remove()\nout = (h1.id != h2.id, net(x))",
}
for _name, _body in HOOKS.items():
    CASES.update(both(_name, _body))

ENC_LOAD = ("def load(m):\n"
            "    m.load_state_dict({n: torch.arange(v.numel(), dtype=DT).reshape(v.shape).mul(0.17).add(i).sin() * 0.4 + (1.0 if n.endswith('norm1.weight') or n.endswith('norm2.weight') else 0.0) for i, (n, v) in enumerate(m.state_dict().items())})\n"
            "    return m\n")


def _encoder(args: str, call: str, shape: tuple = (3, 2, 6)) -> str:
    return (ENC_LOAD + f"m = load(nn.TransformerEncoderLayer({args}, dtype=DT))\nx = T{shape}\ny = m({call})\n"
            "(y * W(y)).sum().backward()\nout = ([n for n, _ in m.named_parameters()], y, x.grad, [p.grad for p in m.parameters()])")


for _name, _args, _call, _shape in [
        ("post-norm relu", "6, 2, 12, dropout=0.0", "x", (3, 2, 6)),
        ("pre-norm gelu batch_first", "6, 3, 10, dropout=0.0, activation='gelu', norm_first=True, batch_first=True", "x", (2, 3, 6)),
        ("causal mask and padding", "6, 2, 8, dropout=0.0, batch_first=True", f"x, src_mask={CAUSAL.replace('3, 4', '3, 3').replace('), 2)', '), 1)')}, src_key_padding_mask=torch.tensor([[False, False, True], [False, False, False]])", (2, 3, 6)),
        ("eval mode with dropout", "6, 2, 8, dropout=0.3", "x", (3, 2, 6))]:
    _body = _encoder(_args, _call, _shape)
    if "eval" in _name:
        _body = _body.replace("x = T", "m.eval()\nx = T")
    CASES.update(both(f"TransformerEncoderLayer {_name}", _body))
CASES.update(both("TransformerEncoder of two layers", ENC_LOAD + "layer = nn.TransformerEncoderLayer(6, 2, 8, dropout=0.0, dtype=DT)\nm = load(nn.TransformerEncoder(layer, 2, norm=nn.LayerNorm(6, dtype=DT)))\nx = T(3, 2, 6)\ny = m(x)\n(y * W(y)).sum().backward()\nout = ([n for n, _ in m.named_parameters()], y, x.grad)"))
CASES.update(both("TransformerEncoderLayer bad activation", "out = nn.TransformerEncoderLayer(6, 2, activation='tanh')"))
