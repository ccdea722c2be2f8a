# ruff: noqa: E501  (each case is a short torch program, kept whole)
"""Issue 14's API as torch's, second campaign: torch.autograd.functional's argument checks and
messages (strict mode at each stage, v's size and tuple length, outputs that are not one Tensor,
lists as inputs, no_grad around a call, create_graph results differentiated again), and
autograd.grad's materialize_grads / grad_outputs pairing. Each case runs under real torch (to record
higher_api.json, make_golden_higher_api.py) and under ``import crossgrad as torch``; ``out`` is
compared as in tests/parity_compare.py, and an error's text must be torch's word for word.
Results of create_graph are compared through ``flags`` (torch's names for the nodes of a recorded
backward are its own implementation details)."""

X = "x = torch.tensor([0.3, -1.2, 2.0], dtype=torch.float64)\n"
XG = "x = torch.tensor([0.3, -1.2, 2.0], dtype=torch.float64, requires_grad=True)\n"
V = "v = torch.tensor([1.0, -0.5, 2.0], dtype=torch.float64)\n"
FLAGS = "def flags(t):\n    return None if t is None else (t.detach(), t.requires_grad, t.grad_fn is not None)\n"
AF = "AF = torch.autograd.functional\n"
H = X + V + AF
IMG = "x = torch.arange(32, dtype=torch.float64).reshape(1, 2, 4, 4).mul(0.37).sin().requires_grad_()\n"


CASES = {
    # ---- torch.autograd.functional: values, structure, grad mode
    "hessian inside no_grad": H + "with torch.no_grad():\n    out = AF.hessian(lambda a: (a.tanh() * a.exp()).sum(), x)",
    "hvp vhp jacobian vjp jvp inside no_grad": H + "f = lambda a: (a.tanh() * a.exp()).sum()\nwith torch.no_grad():\n    out = (AF.hvp(f, x, v), AF.vhp(f, x, v), AF.jacobian(lambda a: a.exp() * a.sum(), x), AF.vjp(lambda a: a.exp() * a, x, v), AF.jvp(lambda a: a.exp() * a, x, v))",
    "hessian of a 1x1 output": H + "out = AF.hessian(lambda a: (a ** 3).sum().reshape(1, 1), x)",
    "hessian of a scalar input": AF + "out = AF.hessian(lambda a: a ** 3 * a.exp(), torch.tensor(0.7, dtype=torch.float64))",
    "hessian of a matrix input": AF + "m = torch.tensor([[0.5, -0.3, 1.1], [0.2, 0.7, -0.9]], dtype=torch.float64)\nout = AF.hessian(lambda a: (a.tanh() ** 2).sum(), m)",
    "hessian of a tuple of one": H + "out = AF.hessian(lambda a: (a.tanh() * a.exp()).sum(), (x,))",
    "hessian nonstrict of a linear function": H + "out = AF.hessian(lambda a: (2 * a).sum(), x)",
    "hessian of softmax and log_softmax": H + "c = torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64)\nout = (AF.hessian(lambda a: (torch.softmax(a, 0) * c).sum(), x), AF.hessian(lambda a: (torch.log_softmax(a, 0) * c).sum(), x))",
    "hessian float32": AF + "x = torch.tensor([0.3, -1.2, 2.0])\nout = AF.hessian(lambda a: (a.tanh() * a.exp()).sum(), x)",
    "hvp and vhp of two inputs": AF + "a = torch.tensor([0.3, -1.2, 2.0], dtype=torch.float64)\nb = torch.tensor([1.0, 0.5, -0.4], dtype=torch.float64)\nf = lambda p, q: (p * q.sin()).sum() + (p ** 2 * q).sum()\nvs = (torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64), torch.tensor([0.0, 1.0, 0.0], dtype=torch.float64))\nout = (AF.hvp(f, (a, b), vs), AF.vhp(f, (a, b), vs))",
    "hvp with v None on a one-element input": AF + "out = AF.hvp(lambda a: (a ** 3).sum(), torch.tensor([0.5], dtype=torch.float64))",
    "hvp of a linear function nonstrict": H + "out = AF.hvp(lambda a: (2 * a).sum(), x, v)",
    "jvp with an input the output ignores": H + "out = AF.jvp(lambda a, b: a ** 2, (x, x), (v, v))",
    "jacobian of a constant output": H + "out = AF.jacobian(lambda a: torch.ones(3, dtype=torch.float64), x)",
    "jacobian of tuple outputs and inputs": H + "out = AF.jacobian(lambda a, b: (a * b, (a.exp() * b).sum()), (x, x))",
    "jacobian vectorize": H + "out = AF.jacobian(lambda a: a.exp() * a.sum(), x, vectorize=True)",
    "jacobian of a list output": H + "out = AF.jacobian(lambda a: [a * 2, a ** 2], x)",
    "jacobian of a 0-dim input": AF + "out = AF.jacobian(lambda a: torch.stack([a, a ** 2]), torch.tensor(1.5, dtype=torch.float64))",
    "vjp of a non-scalar with v": H + "out = AF.vjp(lambda a: a.exp() * a.sum(), x, v)",
    "create_graph results differentiated again": FLAGS + AF + XG + "w = torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64, requires_grad=True)\nf = lambda a: (a.exp() * a ** 2).sum()\no, hv = AF.hvp(f, x, w, create_graph=True)\no2, vh = AF.vhp(f, x, w, create_graph=True)\nJ = AF.jacobian(lambda a: a.tanh() * a.sum(), x, create_graph=True)\nHm = AF.hessian(f, x, create_graph=True)\nout = (flags(o), flags(hv), flags(vh), flags(J), flags(Hm), torch.autograd.grad(hv.sum() + vh.sum() + J.sum() + Hm.sum(), [x, w]))",
    "create_graph on an input without requires_grad": FLAGS + H + "out = flags(AF.hessian(lambda a: (a ** 3).sum(), x, create_graph=True))",
    "jvp create_graph differentiated by v": FLAGS + AF + XG + "w = torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64, requires_grad=True)\no, jv = AF.jvp(lambda a: a.tanh() * a ** 2, x, w, create_graph=True)\nout = (flags(jv), torch.autograd.grad(jv.sum(), [x, w]))",
    "hessian of two inputs create_graph": AF + "x = torch.tensor([0.3, -1.2], dtype=torch.float64, requires_grad=True)\ny = torch.tensor([1.1, 0.4], dtype=torch.float64, requires_grad=True)\nHm = AF.hessian(lambda a, b: (a.exp() * b ** 3).sum(), (x, y), create_graph=True)\nout = torch.autograd.grad(Hm[0][1].sum() + Hm[1][1].sum(), [x, y])",
    # ---- torch.autograd.functional: refused calls (type and message)
    "hessian of a list of inputs": AF + "a = torch.tensor([0.3, -1.2], dtype=torch.float64)\nout = AF.hessian(lambda p, q: (p * q).sum(), [a, a])",
    "jacobian of a tuple holding a number": H + "out = AF.jacobian(lambda a, b: a * b, (x, 2.0))",
    "hessian of a function returning a number": H + "out = AF.hessian(lambda a: 3.0, x)",
    "hessian of a non-scalar": H + "out = AF.hessian(lambda a: a.exp(), x)",
    "hessian of a function returning a tuple": H + "out = AF.hessian(lambda a: ((a ** 3).sum(),), x)",
    "hessian strict of a linear function": H + "out = AF.hessian(lambda a: (2 * a).sum(), x, strict=True)",
    "hessian strict with an input it ignores": H + "out = AF.hessian(lambda a, b: (a ** 3).sum(), (x, x), strict=True)",
    "hessian strict and vectorize": H + "out = AF.hessian(lambda a: (a ** 3).sum(), x, strict=True, vectorize=True)",
    "hessian forward-mode with create_graph": H + "out = AF.hessian(lambda a: (a ** 3).sum(), x, create_graph=True, vectorize=True, outer_jacobian_strategy='forward-mode')",
    "hessian unknown strategy": H + "out = AF.hessian(lambda a: (a ** 3).sum(), x, outer_jacobian_strategy='central')",
    "hessian strict create_graph of a quadratic": H + "out = AF.hessian(lambda a: (a ** 2).sum(), x, strict=True, create_graph=True)",
    "hvp strict of a linear function": H + "out = AF.hvp(lambda a: (2 * a).sum(), x, v, strict=True)",
    "vhp strict of a linear function": H + "out = AF.vhp(lambda a: (2 * a).sum(), x, v, strict=True)",
    "hvp strict create_graph of a quadratic": H + "out = AF.hvp(lambda a: (a ** 2).sum(), x, v, strict=True, create_graph=True)",
    "vhp strict create_graph of a quadratic": H + "out = AF.vhp(lambda a: (a ** 2).sum(), x, v, strict=True, create_graph=True)",
    "hvp of a function returning a tuple": H + "out = AF.hvp(lambda a: ((a ** 3).sum(),), x, v)",
    "vhp of a function returning a tuple": H + "out = AF.vhp(lambda a: ((a ** 3).sum(),), x, v)",
    "hvp of a non-scalar": H + "out = AF.hvp(lambda a: a.exp(), x, v)",
    "vhp of a non-scalar": H + "out = AF.vhp(lambda a: a.exp(), x, v)",
    "hvp with v None on three elements": H + "out = AF.hvp(lambda a: (a ** 3).sum(), x)",
    "vjp with v None on a non-scalar": H + "out = AF.vjp(lambda a: a.exp(), x)",
    "hvp v of the wrong size": H + "out = AF.hvp(lambda a: (a ** 3).sum(), x, torch.ones(2, dtype=torch.float64))",
    "vhp v tuple for one input": H + "out = AF.vhp(lambda a: (a ** 3).sum(), x, (v, v))",
    "hvp v tuple of the wrong length": H + "out = AF.hvp(lambda a, b: ((a * b).sum()) ** 2, (x, x), (v,))",
    "vjp v entry of the wrong size": H + "out = AF.vjp(lambda a, b: (a * b, a), (x, x), (v, v[:2]))",
    "jvp strict of a linear function": H + "out = AF.jvp(lambda a: 2 * a, x, v, strict=True)",
    "jvp strict with an input it ignores": H + "out = AF.jvp(lambda a, b: a ** 2, (x, x), (v, v), strict=True)",
    "vjp strict with an input it ignores": H + "out = AF.vjp(lambda a, b: a ** 2, (x, x), v, strict=True)",
    "vjp strict of a constant output": H + "out = AF.vjp(lambda a: torch.ones(3, dtype=torch.float64), x, v, strict=True)",
    "jacobian strict with an input it ignores": H + "out = AF.jacobian(lambda a, b: a.exp(), (x, x), strict=True)",
    "jacobian strict of a constant output": H + "out = AF.jacobian(lambda a: torch.ones(3, dtype=torch.float64), x, strict=True)",
    "jacobian strict create_graph of a linear function": H + "out = AF.jacobian(lambda a: 2 * a, x, strict=True, create_graph=True)",
    "jacobian forward-mode strict": H + "out = AF.jacobian(lambda a: a.exp(), x, strict=True, vectorize=True, strategy='forward-mode')",
    "jacobian forward-mode without vectorize": H + "out = AF.jacobian(lambda a: a.exp(), x, strategy='forward-mode')",
    # ---- linear ops whose torch backward reads the input: the create_graph gradient requires grad
    # (zero derivative) and a second backward without retain_graph raises
    "grad of grad through avg_pool2d": FLAGS + IMG + "g, = torch.autograd.grad(F.avg_pool2d(x, 2).sum(), x, create_graph=True)\nout = (flags(g), torch.autograd.grad(g.sum(), x))",
    "grad of grad through adaptive_avg_pool2d": FLAGS + IMG + "g, = torch.autograd.grad((F.adaptive_avg_pool2d(x, 3) * 2).sum(), x, create_graph=True)\nout = (flags(g), torch.autograd.grad(g.sum(), x))",
    "grad of grad through reflect and replicate pad": FLAGS + IMG + "g, = torch.autograd.grad(F.pad(x, (1, 2, 1, 0), mode='reflect').sum(), x, create_graph=True)\nh, = torch.autograd.grad(F.pad(x, (2, 1, 0, 1), mode='replicate').sum(), x, create_graph=True)\nout = (flags(g), flags(h), torch.autograd.grad(g.sum() + h.sum(), x))",
    "grad of grad through nll_loss": FLAGS + "z = torch.tensor([[0.5, -1.0, 2.0], [0.1, 0.2, -0.3]], dtype=torch.float64, requires_grad=True)\ng, = torch.autograd.grad(F.nll_loss(z, torch.tensor([2, 0])), z, create_graph=True)\nout = (flags(g), torch.autograd.grad(g.sum(), z))",
    "constant pad's create_graph gradient has no history": FLAGS + IMG + "g, = torch.autograd.grad(F.pad(x, (1, 1)).sum(), x, create_graph=True)\nout = flags(g)",
    "second backward through avg_pool2d": IMG + "y = F.avg_pool2d(x, 2).sum()\ny.backward()\nout = y.backward()",
    "second backward through adaptive_avg_pool2d": IMG + "y = F.adaptive_avg_pool2d(x, 2).sum()\ny.backward()\nout = y.backward()",
    "adaptive_avg_pool2d to 1x1 is a mean": FLAGS + IMG + "y = F.adaptive_avg_pool2d(x, 1).sum()\ng, = torch.autograd.grad(y, x, create_graph=True)\ny.backward()\ny.backward()\nout = (flags(g), x.grad)",
    "second backward through reflect pad": IMG + "y = F.pad(x, (1, 1, 1, 0), mode='reflect').sum()\ny.backward()\nout = y.backward()",
    "second backward through constant pad": IMG + "y = F.pad(x, (1, 1)).sum()\ny.backward()\ny.backward()\nout = x.grad",
    # ---- torch.autograd.grad
    "materialize_grads with create_graph": FLAGS + XG + "z = torch.ones(2, dtype=torch.float64, requires_grad=True)\ngx, gz = torch.autograd.grad((x ** 3).sum(), [x, z], create_graph=True, materialize_grads=True)\nout = (flags(gx), flags(gz))",
    "more grad_outputs than outputs": XG + "out = torch.autograd.grad((x ** 3).sum(), x, grad_outputs=[torch.tensor(2.0, dtype=torch.float64), torch.tensor(5.0, dtype=torch.float64)])",
    "fewer grad_outputs than outputs": XG + "out = torch.autograd.grad([(x ** 3).sum(), x.sum()], x, grad_outputs=[torch.tensor(2.0, dtype=torch.float64)])",
    "is_grads_batched without grad_outputs on a non-scalar": XG + "out = torch.autograd.grad(x ** 2, x, is_grads_batched=True)",
    "is_grads_batched without grad_outputs on a scalar": XG + "out = torch.autograd.grad((x ** 2).sum(), x, is_grads_batched=True)",
    "named inputs give named gradients": FLAGS + XG + "w = torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64, requires_grad=True)\nr = torch.autograd.grad((x * x * w).sum(), {'a': x, 'b': w}, create_graph=True)\nout = (type(r).__name__, [[k, flags(v)] for k, v in r.items()])",
    "MAML over dict(model.named_parameters())": "torch.manual_seed(0)\nm = nn.Linear(3, 2).double()\nxs = torch.arange(12, dtype=torch.float64).reshape(4, 3).mul(0.3).sin()\nys = torch.tensor([0, 1, 1, 0])\nparams = dict(m.named_parameters())\ngrads = torch.autograd.grad(F.cross_entropy(F.linear(xs, params['weight'], params['bias']), ys), params, create_graph=True)\nfast = {k: params[k] - 0.5 * grads[k] for k in params}\nouter = F.cross_entropy(F.linear(xs, fast['weight'], fast['bias']), ys)\nouter.backward()\nout = (sorted(grads), outer, m.weight.grad, m.bias.grad)",
    "inputs as a generator": XG + "out = torch.autograd.grad((x ** 3).sum(), (t for t in [x]))",
    "inputs as another Mapping": XG + "import collections\nout = torch.autograd.grad((x ** 3).sum(), collections.OrderedDict(a=x))",
    "backward with named inputs": XG + "w = torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64, requires_grad=True)\n(x * x * w).sum().backward(inputs={'w': w})\nout = (x.grad is None, w.grad)",
    "grad_outputs of the wrong shape": XG + "out = torch.autograd.grad(x * 2, x, grad_outputs=torch.ones(2, dtype=torch.float64), create_graph=True)",
    "autograd.backward with a second output that does not require grad": XG + "torch.autograd.backward([(x ** 3).sum(), x.detach().sum()])\nout = x.grad",
    "autograd.backward with fewer grad_tensors": XG + "torch.autograd.backward([(x ** 3).sum(), x.sum()], [torch.tensor(2.0, dtype=torch.float64)])\nout = x.grad",
}
