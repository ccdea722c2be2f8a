# ruff: noqa: E501  (each case is a short torch program, kept whole)
"""Issue 14's user-facing variations (a parity sweep written from the issue text): each case runs
under real torch (to record opsb_higher.json) and under ``import crossgrad as torch``; ``out`` is
compared (values, dtypes, shapes, requires_grad; for an error, the exception type). Results of
create_graph are compared detached, with ``requires_grad`` and ``grad_fn is not None`` as flags
(torch's names for nodes of a recorded backward are its own implementation details)."""

X = "x = torch.tensor([0.5, -1.25, 2.0], dtype=torch.float64, requires_grad=True)\n"
W = "w = torch.tensor([[0.3, -0.7, 1.1], [0.9, 0.2, -0.4]], dtype=torch.float64, requires_grad=True)\n"
FLAGS = "def flags(t):\n    return None if t is None else (t.detach(), t.requires_grad, t.grad_fn is not None)\n"
AF = "AF = torch.autograd.functional\n"
XIMG = "x = torch.arange(1 * 2 * 5 * 4, dtype=torch.float64).reshape(1, 2, 5, 4).mul(0.43).sin().requires_grad_()\n"


def hess(body: str, x: str = X) -> str:
    """A case: the full Hessian of a scalar function of x (torch.autograd.functional.hessian) and an HVP by double backward."""
    return x + AF + f"def f(x):\n    return {body}\nH = AF.hessian(f, x)\ng, = torch.autograd.grad(f(x), x, create_graph=True)\nv = torch.linspace(-1, 1, x.numel(), dtype=x.dtype).reshape(x.shape)\nhv, = torch.autograd.grad((g * v).sum(), x)\nout = (f(x), g.detach(), H, hv)"


CASES = {
    # ---- torch.autograd.grad semantics
    "grad of grad to third order": FLAGS + X + "y = (x ** 3).sum()\ng, = torch.autograd.grad(y, x, create_graph=True)\ngg, = torch.autograd.grad(g.sum(), x, create_graph=True)\nggg, = torch.autograd.grad(gg.sum(), x)\nout = (flags(g), flags(gg), flags(ggg), type(torch.autograd.grad(y, x, retain_graph=True)).__name__)",
    "first-order grad has no history": FLAGS + X + "g, = torch.autograd.grad((x.exp() * x).sum(), x)\nout = flags(g)",
    "second grad without retain_graph": X + "y = (x.exp() * x).sum()\ntorch.autograd.grad(y, x)\nout = torch.autograd.grad(y, x)",
    "retain_graph defaults to create_graph": FLAGS + X + "y = (x.exp() * x).sum()\na, = torch.autograd.grad(y, x, create_graph=True)\nb, = torch.autograd.grad(y, x)\nout = (flags(a), flags(b))",
    "retain_graph True without create_graph": FLAGS + X + "y = (x.sin() * x).sum()\na, = torch.autograd.grad(y, x, retain_graph=True)\nb, = torch.autograd.grad(y, x)\nout = (flags(a), flags(b))",
    "create_graph False after retain": X + "y = (x.sin() * x).sum()\ng, = torch.autograd.grad(y, x, create_graph=True)\ng2, = torch.autograd.grad(y, x, create_graph=False, retain_graph=False)\nout = torch.autograd.grad(g.sum(), x)",
    "backward then grad of freed graph": X + "y = (x.exp() * x).sum()\ny.backward()\nout = torch.autograd.grad(y, x, create_graph=True)",
    "allow_unused gives None": X + "z = torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True)\ngx, gz = torch.autograd.grad((x * x).sum(), (x, z), allow_unused=True)\nout = (gx, gz is None)",
    "materialize_grads gives zeros": X + "z = torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True)\ngx, gz = torch.autograd.grad((x * x).sum(), [x, z], materialize_grads=True)\nout = (gx, gz)",
    "unused input without allow_unused": X + "z = torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True)\nout = torch.autograd.grad((x * x).sum(), (x, z))",
    "allow_unused False with materialize": X + "z = torch.ones(2, dtype=torch.float64, requires_grad=True)\nout = torch.autograd.grad((x * x).sum(), (x, z), allow_unused=False, materialize_grads=True)",
    "unused second-order": X + "z = torch.ones(2, dtype=torch.float64, requires_grad=True)\ng, = torch.autograd.grad((x * 2).sum() + z.sum(), x, create_graph=True)\nout = torch.autograd.grad(g.sum(), (x, z), allow_unused=True)",
    "linear function's second derivative unused": X + "g, = torch.autograd.grad((x * 2).sum(), x, create_graph=True)\nout = (g.requires_grad, g.grad_fn is None)",
    "grad_outputs for a non-scalar": X + W + "y = w @ x.tanh()\ng = torch.autograd.grad(y, (x, w), grad_outputs=torch.tensor([1.5, -2.0], dtype=torch.float64))\nout = g",
    "grad_outputs differentiable": FLAGS + X + W + "v = torch.tensor([1.5, -2.0], dtype=torch.float64, requires_grad=True)\ny = w @ x.tanh()\ng, = torch.autograd.grad(y, x, grad_outputs=v, create_graph=True)\n(g * g).sum().backward()\nout = (flags(g), v.grad, x.grad, w.grad)",
    "grad_outputs shape mismatch": X + W + "out = torch.autograd.grad(w @ x, x, grad_outputs=torch.ones(3, dtype=torch.float64))",
    "non-scalar without grad_outputs": X + W + "out = torch.autograd.grad(w @ x, x)",
    "non-scalar backward without gradient": X + W + "out = (w @ x).backward()",
    "several outputs and grad_outputs with None": X + W + "a = (x ** 2).sum()\nb = w @ x\nout = torch.autograd.grad([a, b], [x, w], grad_outputs=[None, torch.tensor([1.0, 3.0], dtype=torch.float64)])",
    "only_inputs keyword": X + "out = torch.autograd.grad((x ** 2).sum(), x, only_inputs=True)",
    "positional retain and create": FLAGS + X + "y = (x ** 3).sum()\ng, = torch.autograd.grad(y, x, None, None, True)\nout = flags(g)",
    "input does not require grad": X + "c = torch.ones(3, dtype=torch.float64)\nout = torch.autograd.grad((x * c).sum(), c)",
    "output does not require grad": X + "out = torch.autograd.grad(x.detach().sum(), x)",
    "grad of a non-leaf": X + "h = x.tanh()\ny = (h * h * x).sum()\nout = torch.autograd.grad(y, h)",
    "grad of output w.r.t. itself": X + "y = x * 2\nout = torch.autograd.grad(y, y, torch.ones(3, dtype=torch.float64))",
    "grad inside no_grad with create_graph": FLAGS + X + "y = (x ** 3).sum()\nwith torch.no_grad():\n    g, = torch.autograd.grad(y, x, create_graph=True)\nout = flags(g)",
    "is_grads_batched": X + W + "y = w @ x.sin()\nout = torch.autograd.grad(y, x, torch.eye(2, dtype=torch.float64), is_grads_batched=True)",
    "is_grads_batched with two outputs and create_graph": FLAGS + X + W + "a = w @ x.sin()\nb = (x ** 3).sum()\ngs = torch.autograd.grad([a, b], [x, w], [torch.eye(2, dtype=torch.float64), torch.tensor([1.0, -2.0], dtype=torch.float64)], create_graph=True, is_grads_batched=True)\ngs[0].pow(2).sum().backward()\nout = ([flags(g) for g in gs], x.grad, w.grad)",
    "is_grads_batched unbatched seed": X + W + "out = torch.autograd.grad(w @ x, x, torch.ones(2, dtype=torch.float64), is_grads_batched=True)",
    "is_grads_batched scalar default seed": X + "out = torch.autograd.grad((x * x).sum(), x, is_grads_batched=True)",
    "grad of an integer input": "x = torch.tensor([1, 2])\nout = torch.autograd.grad(x.sum(), x)",
    # ---- backward(create_graph=True) and accumulation
    "backward create_graph grad is differentiable": FLAGS + X + "(x ** 3).sum().backward(create_graph=True)\nfirst = flags(x.grad)\ng = x.grad\nx.grad = None\n(g ** 2).sum().backward()\nout = (first, x.grad, x.grad.requires_grad)",
    "backward create_graph accumulates": FLAGS + X + "(x ** 3).sum().backward(create_graph=True)\n(x.sin()).sum().backward(create_graph=True)\nout = flags(x.grad)",
    "backward plain then create_graph": FLAGS + X + "(x ** 3).sum().backward()\n(x.sin()).sum().backward(create_graph=True)\nout = flags(x.grad)",
    "gradient of an accumulated grad": X + "(x ** 3).sum().backward(create_graph=True)\n(x ** 2).sum().backward(create_graph=True)\ng = x.grad\nout = torch.autograd.grad(g.sum(), x)",
    "backward create_graph then retain second backward": X + "y = (x.exp() * x).sum()\ny.backward(create_graph=True)\ny.backward()\nout = x.grad.detach()",
    "backward inputs argument": X + W + "y = (w @ x).pow(2).sum()\ny.backward(inputs=[w])\nout = (w.grad, x.grad is None)",
    "autograd.backward with grad_tensors": X + W + "a = w @ x\nb = x.exp()\ntorch.autograd.backward([a, b], [torch.tensor([1.0, -1.0], dtype=torch.float64), torch.ones(3, dtype=torch.float64)])\nout = (x.grad, w.grad)",
    "autograd.backward create_graph": FLAGS + X + "torch.autograd.backward((x ** 3).sum(), create_graph=True)\nout = flags(x.grad)",
    "parameter grad after create_graph": FLAGS + "torch.manual_seed(0)\nm = nn.Linear(3, 2).double()\nwith torch.no_grad():\n    m.weight.copy_(torch.tensor([[0.3, -0.7, 1.1], [0.9, 0.2, -0.4]]))\n    m.bias.fill_(0.1)\n" + X + "m(x).tanh().sum().backward(create_graph=True)\nout = (flags(m.weight.grad), flags(m.bias.grad), flags(x.grad))",
    # ---- gradient penalty and MAML
    "gradient penalty through a conv net": "torch.manual_seed(0)\nD = nn.Sequential(nn.Conv2d(2, 3, 3, padding=1), nn.Tanh(), nn.AvgPool2d(2), nn.Flatten(), nn.Linear(3 * 2 * 2, 1)).double()\nwith torch.no_grad():\n    for k, p in enumerate(D.parameters()):\n        p.copy_(torch.arange(p.numel(), dtype=torch.float64).reshape(p.shape).mul(0.31 + k).sin().mul(0.5))\n" + XIMG + "d = D(x)\ng, = torch.autograd.grad(d.sum(), x, create_graph=True)\ngp = ((g.flatten(1).norm(2, dim=1) - 1) ** 2).mean()\nloss = d.mean() + 10 * gp\nloss.backward()\nout = (loss, g.detach(), [(n, p.grad) for n, p in D.named_parameters()], x.grad)",
    "MAML two inner steps": "xs = torch.linspace(-1, 1, 6, dtype=torch.float64).reshape(6, 1)\nys = xs.sin() * 2\nw = torch.tensor([[0.5, -0.3, 0.8]], dtype=torch.float64, requires_grad=True).t()\nv = torch.tensor([[0.2, 1.0, -0.6]], dtype=torch.float64, requires_grad=True)\ndef loss(w, v):\n    return F.mse_loss((xs @ w.t()).tanh() @ v.t(), ys)\nfw, fv = w, v\nfor _ in range(2):\n    gw, gv = torch.autograd.grad(loss(fw, fv), (fw, fv), create_graph=True)\n    fw, fv = fw - 0.4 * gw, fv - 0.4 * gv\nouter = loss(fw, fv * 1.5)\nouter.backward()\nout = (outer, w.grad, v.grad)",
    # ---- torch.autograd.functional
    "functional hessian of two inputs": X + W + AF + "out = AF.hessian(lambda a, b: (b @ a.sin()).pow(2).sum(), (x, w))",
    "functional hvp vhp jacobian vjp jvp": X + W + AF + "f = lambda a: (w @ a.exp()).tanh()\ns = lambda a: (a.exp() * a.sin()).sum()\nv3 = torch.tensor([1.0, -0.5, 2.0], dtype=torch.float64)\nv2 = torch.tensor([0.5, 1.5], dtype=torch.float64)\nout = (AF.hvp(s, x, v3), AF.vhp(s, x, v3), AF.jacobian(f, x), AF.vjp(f, x, v2), AF.jvp(f, x, v3), AF.jacobian(lambda a, b: b @ a, (x, w)))",
    "functional create_graph": FLAGS + X + AF + "H = AF.hessian(lambda a: (a ** 4).sum(), x, create_graph=True)\nJ = AF.jacobian(lambda a: a ** 3, x, create_graph=True)\nH.sum().backward()\nout = (flags(H), flags(J), x.grad)",
    "functional hessian without create_graph": FLAGS + X + AF + "out = flags(AF.hessian(lambda a: (a ** 4).sum(), x))",
    "functional strict independent": X + AF + "out = AF.jacobian(lambda a: torch.ones(2, dtype=torch.float64), x, strict=True)",
    "functional non-strict independent": X + AF + "out = (AF.jacobian(lambda a: a.sum() * 0 + torch.ones(2, dtype=torch.float64), x), AF.hessian(lambda a: a.sum(), x))",
    "functional hvp non-scalar": X + AF + "out = AF.hvp(lambda a: a ** 2, x, torch.ones(3, dtype=torch.float64))",
    "functional hvp wrong v shape": X + AF + "out = AF.hvp(lambda a: (a ** 2).sum(), x, torch.ones(2, dtype=torch.float64))",
    "functional vectorize": X + AF + "out = (AF.jacobian(lambda a: a.exp() * a.sum(), x, vectorize=True), AF.hessian(lambda a: (a.exp() * a.sum()).sum(), x, vectorize=True))",
    "functional jacobian forward-mode": X + AF + "out = (AF.jacobian(lambda a: a.exp() * a.sum(), x, vectorize=True, strategy='forward-mode').detach(), AF.hessian(lambda a: (a.exp() * a.sum()).sum(), x, vectorize=True, outer_jacobian_strategy='forward-mode').detach())",
    "functional forward-mode without vectorize": X + AF + "out = AF.jacobian(lambda a: a.exp(), x, strategy='forward-mode')",
    "functional forward-mode create_graph": X + AF + "out = AF.jacobian(lambda a: a.exp(), x, vectorize=True, create_graph=True, strategy='forward-mode')",
    "functional unknown strategy": X + AF + "out = AF.jacobian(lambda a: a.exp(), x, strategy='sideways')",
    # ---- second derivatives through each op class (full Hessian + an HVP, against torch)
    "hess elementwise": hess("(x.exp() * x.sin() + x.tanh() * x.sigmoid() + torch.log(x * x + 1) + (x * x + 0.5).sqrt() + F.softplus(x, beta=2) + x.reciprocal()).sum()"),
    "hess activations": hess("(F.gelu(x) + F.gelu(x, approximate='tanh') + F.silu(x) + F.elu(x * 3) + F.hardtanh(x) * x + F.relu6(x * 4) * x + torch.erf(x) + x.cos() * x).sum()"),
    "hess pow and div": hess("(x.pow(3) + x.abs().pow(2.5) + (2.0 ** x) + x / (x[2] + x[0])).sum() + (x[0] ** x[1:]).sum()"),
    "hess kinks away from zero": hess("(F.relu(x) * x + x.abs() * x + x.clamp(-1, 1) * x + torch.maximum(x, x[0]) * x + F.leaky_relu(x, 0.1) * x).sum()"),
    "hess reductions": hess("x.prod() + x.var() + x.std() + x.norm() + x.logsumexp(0) + (x.mean() * x).sum() + x.amax() * x.sum() + (x.cumsum(0) ** 2).sum()"),
    "hess matmul and linear": hess("(F.linear(x.reshape(2, 3).tanh(), x.reshape(2, 3)[:, [2, 0, 1]]) @ x.reshape(2, 3)).pow(2).sum()", "x = torch.linspace(-1, 1.3, 6, dtype=torch.float64).requires_grad_()\n"),
    "hess softmax and log_softmax": hess("(x.reshape(2, 3).softmax(-1) * torch.tensor([[1.0, -2.0, 0.5]], dtype=torch.float64)).sum() + x.reshape(2, 3).log_softmax(0)[0, 1] + F.softmax(x.reshape(2, 3), dim=0).pow(2).sum()", "x = torch.linspace(-1, 1.3, 6, dtype=torch.float64).requires_grad_()\n"),
    "hess layer_norm": hess("(F.layer_norm(x.reshape(2, 4), (4,), x[:4] * 0 + torch.tensor([1.0, 2.0, -1.0, 0.5], dtype=torch.float64), None) * torch.arange(8, dtype=torch.float64).reshape(2, 4).cos()).sum() ** 2", "x = torch.linspace(-1, 1.3, 8, dtype=torch.float64).pow(3).requires_grad_()\n"),
    "hess huber and smooth_l1 at the bound": hess("F.huber_loss(x, torch.zeros(3, dtype=torch.float64), delta=0.5) + F.smooth_l1_loss(x, torch.ones(3, dtype=torch.float64), beta=2.25) + F.huber_loss(x * 2, torch.ones(3, dtype=torch.float64), reduction='sum', delta=1.5)"),
    "hess losses": hess("F.cross_entropy(x.reshape(2, 3), torch.tensor([2, 0]), label_smoothing=0.1) + F.mse_loss(x, x.detach().flip(0)) + F.binary_cross_entropy_with_logits(x, torch.tensor([0.0, 1.0, 0.5, 1.0, 0.0, 0.3], dtype=torch.float64)) + F.huber_loss(x, torch.zeros(6, dtype=torch.float64)) + F.nll_loss(x.reshape(3, 2).log_softmax(1), torch.tensor([1, 0, 1]))", "x = torch.linspace(-1, 1.3, 6, dtype=torch.float64).requires_grad_()\n"),
    "hess conv2d": hess("F.conv2d(x, x[:, :, :3, :3].reshape(1, 2, 3, 3).repeat(2, 1, 1, 1), padding=1, stride=(2, 1)).tanh().pow(2).sum()", XIMG),
    "hess conv_transpose2d": hess("F.conv_transpose2d(x, torch.arange(2 * 3 * 2 * 2, dtype=torch.float64).reshape(2, 3, 2, 2).cos(), stride=2, padding=1).sin().sum()", XIMG),
    "hess batch_norm train": hess("(F.batch_norm(x, None, None, training=True) * torch.arange(40, dtype=torch.float64).reshape(1, 2, 5, 4).sin()).pow(2).sum()", XIMG),
    "hess group_norm": hess("(F.group_norm(x, 1) * torch.arange(40, dtype=torch.float64).reshape(1, 2, 5, 4).sin()).pow(2).sum()", XIMG),
    "hess pools": hess("(F.max_pool2d(x, 2) ** 2).sum() + (F.avg_pool2d(x, 3, 1, 1, count_include_pad=False) ** 3).sum() + (F.adaptive_avg_pool2d(x, (2, 3)) ** 2).sum() + F.interpolate(x, scale_factor=1.5, mode='bilinear').pow(2).sum()", XIMG),
    "hess attention": hess("F.scaled_dot_product_attention(x.reshape(1, 4, 2), x.reshape(1, 4, 2).flip(1), x.reshape(1, 4, 2) * 2).pow(2).sum()", "x = torch.linspace(-1, 1.3, 8, dtype=torch.float64).requires_grad_()\n"),
    "hess indexing": hess("(torch.cat([x[[0, 2, 2]], x.reshape(2, 3)[:, 1], torch.stack([x, x.flip(0)]).sum(0)]) ** 3).sum() + torch.where(x > 0, x ** 2, x.exp()).sum() + x.gather(0, torch.tensor([1, 1, 0])).pow(2).sum()", "x = torch.linspace(-1, 1.3, 6, dtype=torch.float64).requires_grad_()\n"),
    "hess float32": hess("(x.exp() * x.sin()).sum() + x.softmax(0)[1]", "x = torch.tensor([0.5, -1.25, 2.0], requires_grad=True)\n"),
}

MLP = "torch.manual_seed(0)\nm = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2)).double()\nwith torch.no_grad():\n    for k, p in enumerate(m.parameters()):\n        p.copy_(torch.arange(p.numel(), dtype=torch.float64).reshape(p.shape).mul(0.7 + k).sin())\nxs = torch.linspace(-1, 1, 15, dtype=torch.float64).reshape(5, 3)\nt = torch.tensor([0, 1, 1, 0, 1])\n"

CASES.update({
    "gradient-norm penalty on parameters": FLAGS + MLP + "loss = F.cross_entropy(m(xs), t)\ngs = torch.autograd.grad(loss, list(m.parameters()), create_graph=True)\npen = sum(g.pow(2).sum() for g in gs)\n(loss + 0.5 * pen).backward()\nout = ([flags(g) for g in gs], [p.grad for p in m.parameters()])",
    "hessian over module parameters": MLP + "w0, b0, w1, b1 = [p.detach().clone() for p in m.parameters()]\nout = torch.autograd.functional.hessian(lambda a, c: F.cross_entropy((xs @ a.t() + b0).tanh() @ c.t() + b1, t), (w0, w1))",
    "third order through softmax and tanh": X + "y = (x.softmax(0) * x.tanh()).sum()\ng, = torch.autograd.grad(y, x, create_graph=True)\nh, = torch.autograd.grad(g[0], x, create_graph=True)\nk, = torch.autograd.grad(h.pow(2).sum(), x)\nout = (g, h.detach(), k)",
    "create_graph cross_entropy ignore_index and weight": "x = torch.linspace(-1, 1.3, 12, dtype=torch.float64).reshape(4, 3).requires_grad_()\nw = torch.tensor([1.0, 2.0, 0.5], dtype=torch.float64)\nl = F.cross_entropy(x, torch.tensor([2, -100, 0, 1]), weight=w, ignore_index=-100, label_smoothing=0.2)\ng, = torch.autograd.grad(l, x, create_graph=True)\nhv, = torch.autograd.grad(g, x, torch.arange(12, dtype=torch.float64).reshape(4, 3).cos())\nout = (l, g.detach(), hv)",
    "leaf used twice and a view input": X + "y = (x * x.exp() + x[0] * x).sum()\ng, = torch.autograd.grad(y, x, create_graph=True)\nout = (torch.autograd.grad(g.sum(), x), torch.autograd.grad(y, x[0], allow_unused=True))",
    "keyword outputs and inputs": X + "out = torch.autograd.grad(outputs=[(x ** 2).sum()], inputs=[x], grad_outputs=[torch.tensor(2.0, dtype=torch.float64)])",
    "enable_grad inside no_grad": FLAGS + X + "with torch.no_grad():\n    with torch.enable_grad():\n        y = (x ** 3).sum()\n    g, = torch.autograd.grad(y, x, create_graph=True)\nout = (y.requires_grad, flags(g))",
    "zero_grad after create_graph": X + "opt = torch.optim.SGD([x], lr=0.1)\n(x ** 3).sum().backward(create_graph=True)\nopt.zero_grad()\nout = x.grad is None",
    "create_graph through float32 conv": "x = torch.arange(2 * 4 * 4, dtype=torch.float32).reshape(1, 2, 4, 4).sin().requires_grad_()\nw = torch.arange(2 * 2 * 3 * 3, dtype=torch.float32).reshape(2, 2, 3, 3).cos().requires_grad_()\ng, = torch.autograd.grad(F.conv2d(x, w, padding=1).tanh().sum(), x, create_graph=True)\n(g ** 2).sum().backward()\nout = (g.detach(), x.grad, w.grad)",
    "hvp through batch_norm eval and layer_norm weight": XIMG + AF + "ln_w = torch.linspace(0.5, 1.5, 4, dtype=torch.float64).requires_grad_()\nrm, rv = torch.tensor([0.1, -0.2], dtype=torch.float64), torch.tensor([1.5, 0.7], dtype=torch.float64)\nf = lambda a, b: (F.layer_norm(F.batch_norm(a, rm, rv, training=False), (4,), b) ** 3).sum()\nout = (AF.hvp(f, (x, ln_w), (torch.ones_like(x), torch.ones(4, dtype=torch.float64))), AF.hessian(f, (x[:, :, :1], ln_w))[1][1])",
    "hessian with an unused input": X + AF + "z = torch.ones(2, dtype=torch.float64)\nout = AF.hessian(lambda a, b: (a ** 3).sum(), (x, z))",
    "hessian strict with an unused input": X + AF + "z = torch.ones(2, dtype=torch.float64)\nout = AF.hessian(lambda a, b: (a ** 3).sum(), (x, z), strict=True)",
    "jvp and vjp create_graph": FLAGS + X + AF + "o, j = AF.jvp(lambda a: a.exp() * a.sum(), x, torch.ones(3, dtype=torch.float64), create_graph=True)\no2, v = AF.vjp(lambda a: a.exp() * a.sum(), x, torch.ones(3, dtype=torch.float64), create_graph=True)\nj.sum().backward()\nout = (flags(o), flags(j), flags(v), x.grad)",
    "vjp of a scalar function without v": X + AF + "out = (AF.vjp(lambda a: (a ** 2).sum(), x), AF.jvp(lambda a: (a ** 2).sum(), x, torch.ones(3, dtype=torch.float64)))",
    "backward twice retain and create_graph mix": X + "y = (x.sin() * x).sum()\ny.backward(retain_graph=True)\ny.backward(create_graph=True)\nout = (x.grad.detach(), x.grad.requires_grad, torch.autograd.grad(x.grad.sum(), x))",
    "grad of a gradient through max_pool and relu": XIMG + "y = F.max_pool2d(F.relu(x - 0.2), 2).pow(2).sum() + F.avg_pool2d(x, 2, ceil_mode=True).exp().sum()\ng, = torch.autograd.grad(y, x, create_graph=True)\nout = (g.detach(), torch.autograd.grad(g.pow(2).sum(), x))",
})

CASES.update({
    # autograd.grad runs only the nodes leading to its inputs (torch's engine): a branch leading
    # elsewhere is not freed, and an input the graph never reaches frees nothing
    "grad frees only the branch it ran": "x = torch.tensor([0.5, 1.0], dtype=torch.float64, requires_grad=True)\nz = torch.tensor([2.0, 3.0], dtype=torch.float64, requires_grad=True)\na = x.exp()\ngz, = torch.autograd.grad((a * z).sum(), z)\ngx, = torch.autograd.grad(a.sum(), x)\nout = (gz, gx)",
    "grad of an unreached input frees nothing": X + "y = (x * x.exp()).sum()\nu, = torch.autograd.grad(y, x[0], allow_unused=True)\nout = (u is None, torch.autograd.grad(y, x))",
    "create_graph grad then a grad reaching only one leaf": X + W + "y = (w @ x.exp()).pow(2).sum()\ngw, = torch.autograd.grad(y, w, create_graph=True)\nhx, = torch.autograd.grad(gw.sum(), x)\nout = (gw.detach(), hx, torch.autograd.grad(y, x))",
})

CASES.update({
    # a detached alias of an input read as the input itself under create_graph (wrong second derivatives)
    "detached intermediate times itself": X + "h = x.tanh()\ny = (h.detach() * h).sum() + (h * h.data).pow(2).sum()\ng, = torch.autograd.grad(y, x, create_graph=True)\nout = (g.detach(), torch.autograd.grad(g.sum(), x))",
    "detached leaf factor": FLAGS + X + "g, = torch.autograd.grad((x.detach() * x).sum(), x, create_graph=True)\nout = flags(g)",
    # piecewise-linear ops: torch's gradient depends on the input (zero derivative), so it can be differentiated again
    "second derivative of piecewise-linear ops": X + "y = (F.relu(x) + x.abs() + F.leaky_relu(x, 0.2) + F.hardtanh(x) + F.relu6(x) + F.max_pool1d(x.reshape(1, 1, 3), 2, 1).sum() + F.adaptive_max_pool2d(x.reshape(1, 1, 1, 3), (1, 2)).sum()).sum() + F.l1_loss(x, torch.zeros(3, dtype=torch.float64)) + x.norm(p=1)\ng, = torch.autograd.grad(y, x, create_graph=True)\nout = (g.detach(), g.requires_grad, torch.autograd.grad(g.sum(), x))",
    "ReLU net Hessian in the input with frozen weights": "torch.manual_seed(0)\nm = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1)).double().requires_grad_(False)\n" + X + "g, = torch.autograd.grad(m(x).sum(), x, create_graph=True)\nout = (g.requires_grad, torch.autograd.grad(g.sum(), x), torch.autograd.functional.hessian(lambda a: m(a).sum(), x))",
    "grad with no inputs": X + "out = torch.autograd.grad((x * 2).sum(), [])",
})

X6 = "x = torch.linspace(-1, 1.3, 6, dtype=torch.float64).requires_grad_()\n"

CASES.update({
    "hess prod with a zero and var std dims": hess("torch.cat([x, torch.zeros(1, dtype=torch.float64)])[[0, 1, 6, 2]].prod() + x.reshape(2, 3).var(1, correction=0).sum() + x.reshape(2, 3).std(0).pow(3).sum() + x.reshape(2, 3).prod(1).sum() + x.reshape(3, 2).logsumexp(1).exp().sum()", X6),
    "hess shape ops": hess("(torch.stack(x.reshape(2, 3).split([1, 2], dim=1)[1].chunk(2, 0)).permute(2, 1, 0) ** 2).sum() * (torch.bmm(x.reshape(1, 2, 3), x.reshape(1, 3, 2)).sum() + x.reshape(3, 2).t().flip(0)[0].sum() + x.reshape(2, 1, 3).expand(2, 2, 3).transpose(0, 2).sum(0).prod())", X6),
    "hess masked_fill clamp tensor bounds where": hess("(x.masked_fill(x < -0.5, 0.25) ** 3).sum() + torch.clamp(x, x.detach() * 0 - 0.3, x.flip(0).detach()).pow(2).sum() + torch.where(x > 0, x.exp(), x.sin() * x).sum()", X6),
    "hess resampling and padding": hess("(F.interpolate(x, size=(4, 6), mode='nearest') ** 2).sum() + F.interpolate(x, scale_factor=1.5, mode='bicubic', align_corners=True).pow(3).sum() + (F.pad(x, (1, 2, 1, 1), mode='reflect').sin() * F.pad(x, (1, 2, 1, 1), mode='replicate')).sum() + F.pixel_shuffle(x.reshape(1, 4, 2, 3)[:, :4], 2).pow(3).sum()", "x = torch.arange(1 * 4 * 2 * 3, dtype=torch.float64).reshape(1, 4, 2, 3).mul(0.41).sin().requires_grad_()\n"),
    "hess instance_norm and layer_norm affine": hess("(F.instance_norm(x) * torch.arange(24, dtype=torch.float64).reshape(1, 4, 2, 3).cos()).pow(2).sum() + F.layer_norm(x, (2, 3), x[0, 0].detach() + 1, x[0, 1].detach()).pow(3).sum()", "x = torch.arange(1 * 4 * 2 * 3, dtype=torch.float64).reshape(1, 4, 2, 3).mul(0.41).sin().requires_grad_()\n"),
    "hess embedding weight": hess("F.embedding(torch.tensor([[0, 2], [2, 1]]), x.reshape(3, 2)).tanh().pow(2).sum() + F.embedding(torch.tensor([1, 0]), x.reshape(3, 2), padding_idx=0).exp().sum()", X6),
    "hess mse smooth_l1 kl bce": hess("F.mse_loss(x.tanh(), x.detach().flip(0), reduction='sum') + F.smooth_l1_loss(x, x.detach().flip(0) * 0.3, beta=0.5) + F.kl_div(x.reshape(2, 3).log_softmax(1), torch.tensor([[0.2, 0.3, 0.5], [0.1, 0.0, 0.9]], dtype=torch.float64), reduction='batchmean') + F.binary_cross_entropy(x.sigmoid(), torch.tensor([0.0, 1.0, 0.5, 1.0, 0.0, 0.3], dtype=torch.float64))", X6),
    "hess softplus log1p expm1 pow negative base": hess("(F.softplus(x * 20, beta=0.5, threshold=5) + torch.log1p(x * x) + torch.expm1(x) + x.pow(2) * x.pow(3) + (x - 2).pow(3) + x.sigmoid().pow(0.5)).sum()", X6),
})

CASES.update({
    "zero_grad set_to_none False after create_graph": X + "opt = torch.optim.SGD([x], lr=0.1)\n(x ** 3).sum().backward(create_graph=True)\ng = x.grad\nopt.zero_grad(set_to_none=False)\nout = (x.grad, x.grad.requires_grad, x.grad.grad_fn is None, g.detach())",
    "module zero_grad set_to_none False after create_graph": "m = nn.Linear(3, 1).double()\nm(torch.ones(3, dtype=torch.float64)).pow(2).sum().backward(create_graph=True)\nm.zero_grad(set_to_none=False)\nout = (m.weight.grad, m.weight.grad.requires_grad)",
    "SGD and Adam steps after create_graph": X + "z = x.detach().clone().requires_grad_()\nopts = [torch.optim.SGD([x], lr=0.1, momentum=0.9), torch.optim.Adam([z], lr=0.1)]\nfor _ in range(2):\n    for p, opt in zip((x, z), opts):\n        opt.zero_grad()\n        (p ** 3).sum().backward(create_graph=True)\n        opt.step()\nout = (x.detach(), z.detach(), x.requires_grad, x.grad_fn is None, x.grad.detach())",
})

CASES.update({
    "physics-informed second derivative": "torch.manual_seed(0)\nnet = nn.Sequential(nn.Linear(1, 8), nn.Tanh(), nn.Linear(8, 8), nn.Tanh(), nn.Linear(8, 1)).double()\nwith torch.no_grad():\n    for k, p in enumerate(net.parameters()):\n        p.copy_(torch.arange(p.numel(), dtype=torch.float64).reshape(p.shape).mul(0.53 + k).sin())\nx = torch.linspace(-1, 1, 7, dtype=torch.float64).reshape(7, 1).requires_grad_(True)\nu = net(x)\nu_x = torch.autograd.grad(u, x, grad_outputs=torch.ones_like(u), create_graph=True)[0]\nu_xx = torch.autograd.grad(u_x, x, grad_outputs=torch.ones_like(u_x), create_graph=True)[0]\nloss = ((u_xx + torch.sin(3 * x)) ** 2).mean() + (u[0] ** 2).sum()\nloss.backward()\nout = (loss, u_x.detach(), u_xx.detach(), [p.grad for p in net.parameters()])",
    "WGAN-GP as usually written": "torch.manual_seed(0)\nD = nn.Sequential(nn.Linear(4, 6), nn.LeakyReLU(0.2), nn.Linear(6, 1)).double()\nwith torch.no_grad():\n    for k, p in enumerate(D.parameters()):\n        p.copy_(torch.arange(p.numel(), dtype=torch.float64).reshape(p.shape).mul(0.71 + k).cos())\nreal = torch.linspace(-1, 1, 12, dtype=torch.float64).reshape(3, 4)\nfake = torch.linspace(0.5, -0.7, 12, dtype=torch.float64).reshape(3, 4)\nalpha = torch.tensor([[0.2], [0.5], [0.9]], dtype=torch.float64).expand_as(real)\ninterp = (alpha * real + (1 - alpha) * fake).requires_grad_(True)\nd = D(interp)\ngradients = torch.autograd.grad(outputs=d, inputs=interp, grad_outputs=torch.ones(d.size(), dtype=torch.float64), create_graph=True, retain_graph=True, only_inputs=True)[0]\ngradients = gradients.view(gradients.size(0), -1)\ngp = ((gradients.norm(2, dim=1) - 1) ** 2).mean() * 10\nloss = D(fake).mean() - D(real).mean() + gp\nloss.backward()\nout = (loss, gp, [p.grad for p in D.parameters()])",
    "Newton step with the Hessian": X + "def f(a):\n    return (a.exp() * a ** 2).sum() + (a[0] * a[1] - a[2]) ** 2\nfor _ in range(2):\n    H = torch.autograd.functional.hessian(f, x)\n    g, = torch.autograd.grad(f(x), x)\n    with torch.no_grad():\n        x -= torch.linalg.solve(H, g)\nout = (x.detach(), f(x))",
    "influence-style HVP over parameters": MLP + "params = list(m.parameters())\nloss = F.cross_entropy(m(xs), t)\ngs = torch.autograd.grad(loss, params, create_graph=True)\nvs = [torch.ones_like(p) * 0.1 for p in params]\nhv = torch.autograd.grad(gs, params, grad_outputs=vs)\nout = hv",
})
CASES.update({
    "linalg solve and inv shapes": "A = torch.tensor([[[2.0, 0.5], [0.25, 3.0]], [[1.0, 2.0], [3.0, 4.0]]], dtype=torch.float64)\nb = torch.tensor([[1.0, -1.0], [0.5, 2.0]], dtype=torch.float64)\nout = (torch.linalg.solve(A, b), torch.linalg.solve(A[0], b[0]), torch.linalg.solve(A, b[:, :, None] * torch.ones(2, 2, 3, dtype=torch.float64)), torch.linalg.solve(A[0], b, left=False), torch.linalg.inv(A))",
    "linalg solve singular and with grad": "out = []\nfor f in (lambda: torch.linalg.solve(torch.zeros(2, 2, dtype=torch.float64), torch.ones(2, dtype=torch.float64)), lambda: torch.linalg.inv(torch.zeros(2, 2, dtype=torch.float64))):\n    try:\n        f()\n    except RuntimeError:\n        out.append('RuntimeError')\nwith torch.no_grad():\n    out.append(torch.linalg.solve(torch.eye(2, dtype=torch.float64, requires_grad=True) * 2, torch.ones(2, dtype=torch.float64)))",
})

CASES.update({
    'functional: vjp v None non-scalar': 'x = torch.tensor([0.5, -1.25, 2.0], dtype=torch.float64, requires_grad=True)\nAF = torch.autograd.functional\nout = AF.vjp(lambda a: a * 2, x)',
    'functional: jvp v None non-scalar input': 'x = torch.tensor([0.5, -1.25, 2.0], dtype=torch.float64, requires_grad=True)\nAF = torch.autograd.functional\nout = AF.jvp(lambda a: a.sum(), x)',
    'functional: jvp v None scalar input': 'AF = torch.autograd.functional\nout = AF.jvp(lambda a: a * 3, torch.tensor(2.0, dtype=torch.float64))',
    'functional: hessian forward no vectorize': "x = torch.tensor([0.5, -1.25, 2.0], dtype=torch.float64, requires_grad=True)\nAF = torch.autograd.functional\nout = AF.hessian(lambda a: (a ** 3).sum(), x, outer_jacobian_strategy='forward-mode')",
    'functional: jacobian strict vectorize': 'x = torch.tensor([0.5, -1.25, 2.0], dtype=torch.float64, requires_grad=True)\nAF = torch.autograd.functional\nout = AF.jacobian(lambda a: a ** 2, x, strict=True, vectorize=True)',
    'functional: jacobian tuple in tuple out': 'x = torch.tensor([0.5, -1.25, 2.0], dtype=torch.float64, requires_grad=True)\nAF = torch.autograd.functional\ny = torch.ones(2, dtype=torch.float64)\nout = AF.jacobian(lambda a, b: (a.sum() * b, a * b.sum()), (x, y))',
    'functional: hvp tuple inputs': 'x = torch.tensor([0.5, -1.25, 2.0], dtype=torch.float64, requires_grad=True)\nAF = torch.autograd.functional\ny = torch.ones(2, dtype=torch.float64)\nout = AF.hvp(lambda a, b: (a.exp().sum() * b.pow(2).sum()), (x, y), (torch.ones(3, dtype=torch.float64), torch.ones(2, dtype=torch.float64)))',
    'functional: vhp v wrong count': 'x = torch.tensor([0.5, -1.25, 2.0], dtype=torch.float64, requires_grad=True)\nAF = torch.autograd.functional\ny = torch.ones(2, dtype=torch.float64)\nout = AF.vhp(lambda a, b: (a.exp().sum() * b.pow(2).sum()), (x, y), (torch.ones(3, dtype=torch.float64),))',
    'functional: functional non-tensor output': 'x = torch.tensor([0.5, -1.25, 2.0], dtype=torch.float64, requires_grad=True)\nAF = torch.autograd.functional\nout = AF.jacobian(lambda a: 3.0, x)',
    'functional: functional returns input itself': 'x = torch.tensor([0.5, -1.25, 2.0], dtype=torch.float64, requires_grad=True)\nAF = torch.autograd.functional\nout = (AF.jacobian(lambda a: a, x), AF.vjp(lambda a: a, x, torch.ones(3, dtype=torch.float64)))',
    'functional: jacobian output requires_grad flag': 'x = torch.tensor([0.5, -1.25, 2.0], dtype=torch.float64, requires_grad=True)\nAF = torch.autograd.functional\nJ = AF.jacobian(lambda a: a ** 2, x)\nout = (J.requires_grad, J.grad_fn is None, x.grad is None)',
    'functional: hessian of int input': 'AF = torch.autograd.functional\nout = AF.hessian(lambda a: (a ** 2).sum(), torch.tensor([1, 2]))',
})

CASES.update({  # inputs or outputs given twice (an IndexError and a false 'not used' before)
    'repeated inputs': 'x = torch.tensor([0.5, -1.25, 2.0], dtype=torch.float64, requires_grad=True)\nout = torch.autograd.grad((x ** 2).sum(), [x, x])',
    'repeated outputs': 'x = torch.tensor([0.5, -1.25, 2.0], dtype=torch.float64, requires_grad=True)\ny = (x ** 2).sum()\nout = torch.autograd.grad([y, y], x)',
    'output is input': 'x = torch.tensor([0.5, -1.25, 2.0], dtype=torch.float64, requires_grad=True)\nout = torch.autograd.grad(x, x, torch.ones(3, dtype=torch.float64))',
    'output is input create_graph': 'x = torch.tensor([0.5, -1.25, 2.0], dtype=torch.float64, requires_grad=True)\ng, = torch.autograd.grad(x, x, torch.ones(3, dtype=torch.float64), create_graph=True)\nout = (g.requires_grad, g)',
    'grad_outputs requires grad no create': 'x = torch.tensor([0.5, -1.25, 2.0], dtype=torch.float64, requires_grad=True)\nv = torch.ones(3, dtype=torch.float64, requires_grad=True)\ng, = torch.autograd.grad(x * 2, x, v)\nout = (g.requires_grad, g)',
    'backward twice accumulates create_graph grads with grad of both': 'x = torch.tensor([0.5, -1.25, 2.0], dtype=torch.float64, requires_grad=True)\n(x ** 2).sum().backward(create_graph=True)\n(x ** 3).sum().backward(create_graph=True)\nout = torch.autograd.grad(x.grad.sum(), x)',
    'retain_graph False create_graph True then second backward': 'x = torch.tensor([0.5, -1.25, 2.0], dtype=torch.float64, requires_grad=True)\ny = (x.exp() * x).sum()\ny.backward(create_graph=True, retain_graph=False)\nout = y.backward()',
    'autograd.backward of a repeated output': 'x = torch.tensor([0.5, -1.25, 2.0], dtype=torch.float64, requires_grad=True)\ny = (x ** 2).sum()\ntorch.autograd.backward([y, y])\nout = x.grad',
})
