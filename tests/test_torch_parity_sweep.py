# ruff: noqa: E501  (the snippets are one-line programs, kept whole so each reads as torch code)
"""The torch-parity sweep of the issue 11/12/14 user surface: each snippet runs under real torch and
under ``import crossgrad as torch``; values, dtypes, shapes, grad_fn names, gradients, reprs and
raised exception types (crossgrad's must be an instance of torch's) must agree."""

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")
import crossgrad  # noqa: E402

X = "x = torch.tensor([[0.5, -1.0, 2.0, 1.0], [3.0, -0.25, 0.0, 3.0], [1.0, 1.0, -2.0, 0.5]], requires_grad=True)\n"
I = "i = torch.tensor([[1, -2, 3], [4, 0, -6]])\n"  # noqa: E741
G = "\n(y * torch.arange(y.numel()).reshape(y.shape).float()).sum().backward()\nout = (y, x.grad)"
M = ("model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))\n"
     "for p in model.parameters():\n    p.data = torch.tensor(np.linspace(-1, 1, p.numel()).reshape(tuple(p.shape)).astype('float32'))\n"
     "xb = torch.tensor([[0.5, -1.0, 2.0], [1.0, 0.0, -0.5]])\n")
STEPS = "for _ in range(3):\n    opt.zero_grad()\n    (model(xb) ** 2).sum().backward()\n    opt.step()\nout = list(model.parameters())"

CASES = {
    # function forms and method forms
    "torch.sum/mean/add": X + "out = (torch.sum(x, dim=1, keepdim=True), torch.mean(x, 0), torch.add(x, 1, alpha=2), x.sub(1.0), x.mul(x), x.div(2), torch.div(x, 3))",
    "transpose/reshape/flatten/permute fns": X + "out = (torch.transpose(x, 0, 1), torch.reshape(x, (4, 3)), torch.flatten(x.reshape(3, 2, 2), 1), torch.permute(x, (1, 0)), x.mT, x.swapaxes(0, 1))",
    "mm/bmm/outer/argmax": X + "out = (torch.mm(x, x.t()), torch.bmm(x.unsqueeze(0), x.t().unsqueeze(0)), torch.outer(x[0], x[1]), torch.argmax(x, 1))",
    "max(a, b) and max(dim)": X + "r = x.max(dim=1)\nv, k = torch.min(x, 0)\nout = (torch.max(x, torch.zeros(4)), r.values, r.indices, v, k, type(r).__name__)",
    "masked_fill fn and in place": X + "b = x > 0\ny = torch.zeros(3, 4)\ny.masked_fill_(b, 5.0)\nout = (torch.masked_fill(x, b, 1.0), y)",
    "cat concat int promotion": X + "out = (torch.concat([x, x], dim=0), torch.cat([x, torch.ones(1, 4, dtype=torch.int64)]))",
    "unbind view_as new_zeros narrow": X + "out = (x.unbind(0), torch.unbind(x, 1), x.view(12).view_as(x), x.new_zeros(2), x.new_full((2,), 3.0), x.narrow(1, 1, 2))",
    "squeeze tuple flip dims": X + "out = (x.reshape(1, 3, 1, 4).squeeze((0, 2)).shape, x.flip(dims=(1,)))",
    "softmax dtype and implicit dim": X + "out = (F.softmax(x.detach(), dim=1, dtype=torch.float64), F.softmax(x), x.log_softmax(dim=1), torch.softmax(x, -1))",
    # dtypes and promotion
    "unary float ops of ints": I + "out = (torch.exp(i), torch.sqrt(i.abs()), torch.sigmoid(i), i.sin(), torch.square(i))",
    "clamp/tril of ints keep int": I + "out = (i.clamp(0, 2), i.clamp(0, 2.5), torch.tril(torch.ones(3, 3, dtype=torch.int64)), torch.ones(2, 2, dtype=torch.bool).triu())",
    "0-d tensor follows dimensioned": X + "out = (x + torch.tensor(2.0, dtype=torch.float64), i + torch.tensor(2.5))".replace("out", I + "out", 1),
    "where forms": X + I + "out = (torch.where(x > 0, 1.0, 0.0), torch.where(x > 0), torch.where(i > 0, i, x[:2, :3]), torch.where(i > 0, i, 0))",
    "int mean raises, sum dtype": I + "out = (i.mean(dtype=torch.float32), i.sum(), torch.tensor([True, True]).sum())",
    "int mean": I + "out = i.mean()",
    "floor div and iadd": I + "y = torch.ones(3)\ny += 2\ny *= 3\ny /= 2\nout = (i // 2, torch.div(i, 4, rounding_mode='floor'), torch.div(i, 4, rounding_mode='trunc'), y)",
    "iadd on a leaf": X + "x += 1\nout = x",
    "creation": "out = (torch.arange(end=4), torch.zeros(size=(2,)), torch.eye(2, 3), torch.empty(2, 3).shape, torch.zeros_like(torch.ones(2), requires_grad=True), torch.get_default_dtype(), torch.bool, torch.is_tensor(torch.ones(1)))",
    # indexing
    "index forms": X + "y = torch.stack([x[None][0, 0], x[..., 1][:3].repeat(1)[:3], x[:, torch.tensor([0, 3])][:, 0], x[x > 2.5].sum().expand(3)])" + G,
    "index out of range": X + "out = x[5]",
    "gather out of range": X + "out = x.gather(1, torch.tensor([[0], [4], [1]]))",
    # nn.functional and modules
    "relu6 normalize one_hot linalg": X + "out = (F.relu6(x * 4), F.normalize(x, dim=1), F.one_hot(torch.tensor([0, 2, 1]), num_classes=4), torch.linalg.norm(x), torch.linalg.vector_norm(x, dim=1), torch.special.erf(x))",
    "sdpa grad_fn and mask+causal": "q = torch.arange(24.0).reshape(1, 2, 3, 4).sin().requires_grad_()\nout = F.scaled_dot_product_attention(q, q, q, is_causal=True)",
    "sdpa mask with causal": "q = torch.arange(24.0).reshape(2, 3, 4).sin()\nout = F.scaled_dot_product_attention(q, q, q, attn_mask=torch.ones(3, 3, dtype=torch.bool), is_causal=True)",
    "bce input range": "out = F.binary_cross_entropy(torch.tensor([1.5]), torch.tensor([1.0]))",
    "loss modules": X + "t = torch.tensor([2, 3, 0])\np = torch.softmax(torch.ones(3, 4), 1)\nout = (nn.NLLLoss(ignore_index=2)(x, t), nn.L1Loss()(x, p), nn.SmoothL1Loss(beta=0.5)(x, p), nn.HuberLoss(delta=0.7)(x, p), nn.KLDivLoss(reduction='batchmean')(F.log_softmax(x, 1), p), nn.BCELoss()(torch.sigmoid(x), p), nn.CosineSimilarity()(x, x.flip(0)))",
    "activation modules": X + "out = (nn.Softmax(dim=1)(x), nn.LogSoftmax(dim=-1)(x), nn.Softplus()(x), nn.ReLU6()(x), nn.Identity(54, unused='x')(x), nn.Unflatten(1, (2, 2))(x))",
    "reprs": "out = [repr(m) for m in (nn.ReLU(inplace=True), nn.GELU(approximate='tanh'), nn.LeakyReLU(0.1), nn.ELU(), nn.Hardtanh(-2, 2), nn.Softmax(dim=1), nn.Conv2d(3, 4, 3, stride=2, padding=1, bias=False), nn.Conv2d(3, 4, (3, 5), padding='same', groups=1, dilation=2), nn.ConvTranspose2d(3, 2, 3, stride=2, output_padding=1), nn.MaxPool2d(2), nn.AvgPool2d(3, stride=2, padding=1), nn.AdaptiveAvgPool2d(1), nn.BatchNorm2d(3), nn.BatchNorm1d(3, affine=False, track_running_stats=False), nn.GroupNorm(3, 6, eps=1e-3, affine=False), nn.Upsample(scale_factor=2), nn.Dropout2d(0.2), nn.PixelShuffle(2), nn.ModuleList([nn.Linear(1, 1), nn.Linear(1, 1), nn.Tanh()]))]",
    "containers": M + "model.append(nn.Tanh())\nml = nn.ModuleList([nn.ReLU()])\nml.insert(0, nn.Identity())\nout = (type(model[1:]).__name__, len(model), [type(m).__name__ for m in ml], model.get_parameter('0.weight').shape, model.get_submodule('2').out_features, repr(model.load_state_dict(model.state_dict())))",
    "buffers and init": "class Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.register_buffer('a', torch.zeros(2), persistent=False)\n        self.register_buffer('b', torch.ones(2))\nw = torch.empty(3, 4)\nnn.init.constant_(w, 0.5)\ne = nn.Embedding.from_pretrained(torch.eye(3))\nout = (list(Net().state_dict()), w, e(torch.tensor([1])), e.weight.requires_grad, nn.init.calculate_gain('leaky_relu', 0.2))",
    # round 2: dims out of range, bool masks, loss shapes, dtype mixing
    "dim out of range: sum": X + "out = x.sum(3)",
    "dim out of range: unsqueeze": X + "out = x.unsqueeze(-4)",
    "dim out of range: max": X + "out = x.max(2)",
    "dim out of range: cumsum": X + "out = x.cumsum(2)",
    "dim out of range: softmax": X + "out = x.softmax(2)",
    "dims in range at the edges": X + "out = (x.unsqueeze(2).shape, x.unsqueeze(-3).shape, torch.stack([x, x], 2).shape, x.sum(-2))",
    "bool mask ops": "m = torch.triu(torch.ones(3, 3), diagonal=1).bool()\nb = torch.tril(torch.ones(3, 3)) == 0\nout = (~m, m & b, m | ~b, m ^ b, torch.logical_not(m), torch.logical_and(m, b), m.logical_or(b))",
    "float mask inverted": "out = ~torch.ones(2)",
    "causal mask from ~": X + "s = x[:, :3] @ x[:, :3].t()\nm = torch.triu(torch.ones(3, 3), diagonal=1).bool()\ny = s.masked_fill(m, float('-inf')).softmax(-1)" + G,
    "remainder": X + "y = x % 2" + G,
    "int remainder": "out = (torch.tensor([5, -3]) % 2, torch.remainder(torch.tensor([5, -3]), 3))",
    "cumsum of ints": "out = (torch.tensor([1, 2, 3]).cumsum(0), torch.tensor([True, False, True]).cumsum(0))",
    "ce batch size": X + "out = F.cross_entropy(x, torch.tensor([1, 2]))",
    "matmul dtype mix": "out = torch.ones(2, 3) @ torch.ones(3, 2, dtype=torch.float64)",
    "matmul int float": "out = torch.tensor([[1, 2]]) @ torch.tensor([[3.0], [4.0]])",
    "Linear float64 input": "out = nn.Linear(3, 2)(torch.ones(2, 3, dtype=torch.float64))",
    "Size slices and legacy ctors": X + "out = (x.shape[1:], torch.FloatTensor([1, 2]), torch.LongTensor([1, 2]), torch.as_tensor([1.0, 2.0]), torch.as_tensor(np.array([1, 2])))",
    # round 3: data loading, 1-d pools
    "collate: tuples become lists": "data = torch.utils.data\nds = data.TensorDataset(torch.arange(4.0), torch.arange(4))\nout = ([b for b in data.DataLoader(ds, batch_size=3)], [b for b in data.DataLoader(ds, batch_size=None)], len(data.Subset(ds, [1, 3])), [len(s) for s in data.random_split(ds, [3, 1])])",
    "1-d pools": "x = torch.arange(24.0).reshape(2, 3, 4).sin().requires_grad_()\ny = torch.cat([F.max_pool1d(x, 3, stride=1, padding=1, ceil_mode=True), F.avg_pool1d(x, 3, 2, 1, count_include_pad=False), F.adaptive_avg_pool1d(x, 3), nn.MaxPool1d(2)(x)], -1)" + G.replace("x.grad", "x.grad, repr(nn.AvgPool1d(2)), repr(nn.MaxPool1d(3, 1, 1)), repr(nn.AdaptiveMaxPool2d((1, 2)))"),
    "batch norm of one sample": "out = nn.BatchNorm1d(2)(torch.ones(1, 2))",
    "linear grad_fn names": "w, b = torch.ones(3, 8), torch.ones(3)\nout = [type(F.linear(torch.ones(*s, requires_grad=True), w, *extra).grad_fn).__name__ for s in ((2, 5, 8), (5, 8), (8,)) for extra in ((), (b,))]",
    "clip_grad_norm_ and value_": "w = torch.tensor([3.0, 4.0], requires_grad=True)\nv = torch.tensor([3.0, -4.0], requires_grad=True)\n((w * w).sum() + (v * v).sum()).backward()\nn = torch.nn.utils.clip_grad_norm_([w], max_norm=1.0)\ntorch.nn.utils.clip_grad_value_(v, 1.0)\nout = (n, w.grad, v.grad)",
    "norm grad_fn names": "x = torch.arange(96.0).reshape(2, 6, 2, 4).sin().requires_grad_()\nout = [type(y.grad_fn).__name__ for y in (F.group_norm(x, 3, torch.ones(6), torch.zeros(6)), F.group_norm(x, 3), nn.GroupNorm(3, 6)(x), F.instance_norm(x, weight=torch.ones(6), bias=torch.zeros(6)), x[0, 0].t())]",
    "device= everywhere": "d = torch.device('cpu')\nout = (torch.arange(3, dtype=torch.long, device=d), torch.tensor([1.0], device='cpu'), torch.zeros_like(torch.ones(2), device='cpu'), torch.full((2,), 1.0, device=d), torch.eye(2, device='cpu'), torch.randn(2, device='cpu').shape, nn.Linear(2, 3, device='cpu').weight.shape, nn.Conv2d(2, 3, 3, device=d, dtype=torch.float64).weight.dtype, nn.LayerNorm(3, device='cpu', dtype=torch.float64).weight.dtype, nn.BatchNorm2d(3, device='cpu').running_mean)",
    "no_grad bare, prod dtype, clone memory_format": X + "@torch.no_grad\ndef f(a):\n    return a * 2\nout = (f(x).requires_grad, torch.tensor([1, 2, 3]).prod(dtype=torch.float32), x.clone(memory_format=torch.contiguous_format))",
    "in-place init draws": "torch.manual_seed(0)\nm = nn.Linear(64, 64)\nm.weight.data.normal_(mean=0.0, std=0.02)\nm.bias.data.uniform_(-0.1, 0.1)\nout = (0.018 < float(m.weight.detach().std()) < 0.022, bool((m.bias.abs() <= 0.1).all()), m.weight.requires_grad, m.weight.is_leaf)",
    "bool reprs": "out = [repr(torch.tensor(v)) for v in ([True], [True, False], [[True, False], [True, True]], True, [False])]",
    # optimizers
    "sgd maximize": M + "opt = torch.optim.SGD(model.parameters(), lr=0.1, maximize=True, momentum=0.5)\n" + STEPS,
    "adam decoupled": M + "opt = torch.optim.Adam(model.parameters(), lr=0.01, weight_decay=0.1, decoupled_weight_decay=True)\n" + STEPS,
    "optimizer repr and keys": M + "out = [(repr(o), sorted(o.param_groups[0])) for o in (torch.optim.SGD(model.parameters(), lr=0.1), torch.optim.Adam(model.parameters()), torch.optim.AdamW(model.parameters()))]",
    "more schedulers": M + "out = []\nfor make in (lambda o: torch.optim.lr_scheduler.LambdaLR(o, lambda e: 0.5 ** e), lambda o: torch.optim.lr_scheduler.LinearLR(o, start_factor=0.25, total_iters=3), lambda o: torch.optim.lr_scheduler.ExponentialLR(o, 0.9), lambda o: torch.optim.lr_scheduler.MultiStepLR(o, [1, 3, 3], 0.5)):\n    opt = torch.optim.SGD(model.parameters(), lr=0.1)\n    s = make(opt)\n    lrs = [s.get_last_lr()]\n    for _ in range(5):\n        opt.step()\n        s.step()\n        lrs.append(s.get_last_lr())\n    out.append(lrs)",
    "add_param_group": M + "opt = torch.optim.SGD(model[0].parameters(), lr=0.1, momentum=0.5)\nopt.add_param_group({'params': model[2].parameters(), 'lr': 0.01})\n" + STEPS,
    "module surface": M + "from collections import OrderedDict\nseq = nn.Sequential(OrderedDict([('fc', nn.Linear(2, 3)), ('act', nn.ReLU())]))\nlin = nn.Linear(2, 2)\ndel lin.bias\nout = ([n for n, _ in seq.named_parameters()], repr(seq), list(model.state_dict(prefix='m.')), model.state_dict(keep_vars=True)['0.weight'].requires_grad, [n for n, _ in lin.named_parameters()])",
    # autograd
    "backward(inputs=)": "x = torch.tensor([0.5, -1.0, 2.0], requires_grad=True)\nw = torch.tensor([1.5, 0.5, -2.0], requires_grad=True)\n(x * w).sum().backward(inputs=[w])\n(x * w * w).sum().backward(inputs=x)\nout = (x.grad, w.grad)",
    "grad materialize_grads, vhp, inference_mode": X + "z = torch.ones(2, requires_grad=True)\ng = torch.autograd.grad((x ** 2).sum(), [x, z], materialize_grads=True)\nwith torch.inference_mode():\n    w = x * 2\nout = (g, torch.autograd.functional.vhp(lambda a: (a ** 3).sum(), x.detach(), torch.ones(3, 4)), w.requires_grad)",
}


def _norm(o, lib):
    if isinstance(o, lib.Tensor):
        arr = o.detach().numpy()
        return ("T", str(o.dtype).split(".")[-1], tuple(o.shape), type(o.grad_fn).__name__ if o.grad_fn else None,
                o.requires_grad, arr)
    if isinstance(o, (tuple, list)):
        return tuple(_norm(v, lib) for v in o)
    if isinstance(o, str):
        return o.replace("crossgrad", "torch")
    if isinstance(o, (lib.dtype, lib.Size)):
        return str(o).split(".")[-1] if isinstance(o, lib.dtype) else tuple(o)
    return o


def _same(a, b):
    if isinstance(a, np.ndarray):
        return isinstance(b, np.ndarray) and a.shape == b.shape and (
            np.allclose(a, b, rtol=1e-4, atol=1e-5, equal_nan=True) if a.dtype.kind == "f" else np.array_equal(a, b))
    if isinstance(a, tuple):
        return isinstance(b, tuple) and len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, float):
        return isinstance(b, float) and math.isclose(a, b, rel_tol=1e-6)
    return a == b


def _run(code, lib, F, nn):
    ns = {"torch": lib, "F": F, "nn": nn, "np": np}
    lib.manual_seed(0)
    try:
        exec(code, ns)
    except Exception as err:  # noqa: BLE001 - the raised type is what is compared
        return err
    return ns["out"]


@pytest.mark.filterwarnings("ignore:Implicit dimension choice")
@pytest.mark.parametrize("name", list(CASES))
def test_same_as_torch(name):
    import crossgrad.nn.functional as CF
    import torch.nn.functional as TF

    want = _run(CASES[name], torch, TF, torch.nn)
    got = _run(CASES[name], crossgrad, CF, crossgrad.nn)
    if isinstance(want, BaseException):
        assert isinstance(got, type(want)), f"torch raised {want!r}, crossgrad gave {got!r}"
        return
    assert not isinstance(got, BaseException), f"crossgrad raised {got!r}"
    w, g = _norm(want, torch), _norm(got, crossgrad)
    assert _same(w, g), f"\ntorch:     {w}\ncrossgrad: {g}"


MESSAGES = {  # torch's words appear in crossgrad's message (tests written for torch match on them)
    "x @ x": (RuntimeError, r"mat1 and mat2 shapes cannot be multiplied \(3x4 and 3x4\)"),
    "F.linear(x, torch.ones(2, 3))": (RuntimeError, r"mat1 and mat2 shapes cannot be multiplied \(3x4 and 3x2\)"),
    "x + torch.ones(3)": (RuntimeError, r"The size of tensor a \(4\) must match the size of tensor b \(3\) at non-singleton dimension 1"),
    "x.view(5, -1)": (RuntimeError, r"shape '\[5, -1\]' is invalid for input of size 12"),
    "torch.cat([x, torch.ones(2, 3)])": (RuntimeError, "Expected size 4 but got size 3 for tensor number 1 in the list"),
    "F.embedding(torch.tensor([5]), torch.ones(4, 3))": (IndexError, "index out of range in self"),
    "x.gather(1, torch.tensor([[4]]))": (RuntimeError, "index 4 is out of bounds for dimension 1 with size 4"),
    "x[torch.tensor([9])]": (IndexError, "index 9 is out of bounds for dimension 0 with size 3"),
    "F.nll_loss(x, torch.tensor([0, 1, 4]))": (IndexError, "Target 4 is out of bounds"),
    "torch.autograd.grad(torch.ones(2).sum(), torch.ones(2))": (RuntimeError, "element 0 of tensors does not require grad"),
    "x.sum(3)": (IndexError, r"Dimension out of range \(expected to be in range of \[-2, 1\], but got 3\)"),
}


@pytest.mark.parametrize("code", list(MESSAGES))
def test_torch_words_in_errors(code):
    import crossgrad.nn.functional as CF
    import torch.nn.functional as TF

    error, words = MESSAGES[code]
    for lib, F in ((torch, TF), (crossgrad, CF)):
        with pytest.raises(error, match=words):
            eval(code, {"torch": lib, "F": F, "x": lib.ones(3, 4, requires_grad=True)})  # noqa: S307 (test's own text)


def test_unsupported_is_named():
    """What crossgrad deliberately lacks says so (never a wrong answer)."""
    x = crossgrad.ones(3, 4, requires_grad=True)
    with pytest.raises(AttributeError, match="no dtype 'int32'"):
        crossgrad.int32  # noqa: B018
    with pytest.raises(TypeError, match="dtype int32: crossgrad's dtypes are"):
        x.int()
    with pytest.raises(RuntimeError, match="one device, 'cpu'"):
        crossgrad.zeros(2, device="cuda")
    with pytest.raises(RuntimeError, match="one device, 'cpu'"):
        crossgrad.nn.Linear(2, 2, device="cuda:0")
    with pytest.raises(NotImplementedError, match="matrix norm"):
        crossgrad.linalg.norm(x, ord=1)
    with pytest.raises(ValueError, match="dimensionality 0"):  # is_grads_batched needs batched seeds, as torch
        crossgrad.autograd.grad(x.sum(), x, is_grads_batched=True)
    with pytest.raises(NotImplementedError, match="differentiable=False"):
        crossgrad.optim.SGD([x], lr=0.1, differentiable=True)
