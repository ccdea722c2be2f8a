# ruff: noqa: E501  (each case is a one-line torch program, kept whole)
"""The second torch-parity sweep's regression cases: each is a program run under real torch (to
record sweep2.json) and under ``import crossgrad as torch``; ``out`` is compared (values, dtypes,
shapes, grad_fn names, gradients; for an error, the exception type). One case per difference the
sweep found and fixed."""

X4 = "x = torch.arange(2 * 4 * 7 * 6, dtype=torch.float64).reshape(2, 4, 7, 6).sin().requires_grad_()\n"
X3 = "x = torch.arange(24, dtype=torch.float64).reshape(2, 3, 4).mul(1.3).sin().requires_grad_()\n"
G = "\n(y * torch.arange(y.numel(), dtype=y.dtype).reshape(y.shape).cos()).sum().backward()\n"

CASES = {
    # conv_transpose2d with output_padding >= stride (allowed when dilation > stride): x.grad had the wrong shape
    "conv_transpose2d output_padding with dilation": X4 + "w = torch.arange(4 * 3 * 3 * 2, dtype=torch.float64).reshape(4, 3, 3, 2).cos().requires_grad_()\ny = F.conv_transpose2d(x, w, stride=(1, 2), padding=1, output_padding=(1, 1), dilation=2)" + G + "out = (y, x.grad, w.grad)",
    "conv_transpose1d output_padding with dilation": X3 + "w = torch.arange(18, dtype=torch.float64).reshape(3, 2, 3).cos().requires_grad_()\ny = F.conv_transpose1d(x, w, stride=1, output_padding=1, dilation=2)" + G + "out = (y, x.grad, w.grad)",
    # std's gradient at a constant row is 0 (it was nan), also under create_graph
    "std at a constant row": "x = torch.tensor([[1.0, 1.0, 1.0], [0.5, 2.0, 3.0]], dtype=torch.float64, requires_grad=True)\ny = x.std(1)" + G + "out = (y, x.grad)",
    "std at a constant row, create_graph": "x = torch.tensor([[1.0, 1.0, 1.0], [0.5, 2.0, 3.0]], dtype=torch.float64, requires_grad=True)\ng, = torch.autograd.grad((x.std(1, correction=0) * torch.tensor([1.0, 2.0], dtype=torch.float64)).sum(), x, create_graph=True)\nout = g.detach()",
    "norm at zero, create_graph": "x = torch.tensor([[0.0, 0.0], [3.0, 4.0]], dtype=torch.float64, requires_grad=True)\ng, = torch.autograd.grad(x.norm(dim=1).sum(), x, create_graph=True)\n(g * g).sum().backward()\nout = (g.detach(), x.grad)",
    # group_norm with one element per group (torch allows it: the output is 0)
    "GroupNorm one element per group": "x = torch.arange(18, dtype=torch.float64).reshape(6, 3).sin().requires_grad_()\ny = nn.GroupNorm(3, 3).double()(x)" + G + "out = (y, x.grad)",
    # instance_norm with running statistics (eval): torch's grad_fn
    "instance_norm eval stats grad_fn": X3 + "y = F.instance_norm(x, torch.zeros(3, dtype=torch.float64), torch.ones(3, dtype=torch.float64) * 2, use_input_stats=False)" + G + "out = (y, x.grad)",
    # nn.InstanceNorm1d / 2d (missing)
    "InstanceNorm2d track_running_stats": "x = torch.arange(2 * 3 * 4 * 5, dtype=torch.float64).reshape(2, 3, 4, 5).mul(0.7).sin().mul(3).add(1).requires_grad_()\nm = nn.InstanceNorm2d(3, affine=True, track_running_stats=True).double()\nm(x)\ny = m(x * 2)" + G + "m.eval()\nout = (y, x.grad, m(x), list(m.state_dict().items()), repr(m), [(n, p.grad) for n, p in m.named_parameters()])",
    "InstanceNorm1d unbatched": "x = torch.arange(15, dtype=torch.float64).reshape(3, 5).sin().requires_grad_()\ny = nn.InstanceNorm1d(3).double()(x)" + G + "out = (y, x.grad, repr(nn.InstanceNorm1d(3)), list(nn.InstanceNorm1d(3).state_dict()))",
    "InstanceNorm2d wrong rank": "out = nn.InstanceNorm2d(3)(torch.ones(2, 3))",
    # pad: circular, negative reflect/replicate pads, modes torch has no kernel for, value with reflect
    "pad circular": X4 + "y = torch.cat([F.pad(x, (1, 2, 0, 3), mode='circular').reshape(-1), F.pad(x[0], (2, 1), mode='circular').reshape(-1), F.pad(x, (-1, 2, 1, -2), mode='circular').reshape(-1)])" + G + "out = (y, x.grad, type(F.pad(x, (1, 1, 1, 1), mode='circular').grad_fn).__name__)",
    "pad circular wraps twice": X3 + "out = F.pad(x, (5, 0), mode='circular')",
    "pad negative reflect/replicate": X3 + "y = torch.cat([F.pad(x, (-2, 3), mode='reflect').reshape(-1), F.pad(x, (2, -3), mode='replicate').reshape(-1), F.pad(x, (-1, 2), mode='reflect').reshape(-1)])" + G + "out = (y, x.grad, type(F.pad(x, (-1, 2), mode='reflect').grad_fn).__name__)",
    "pad reflect rank": X4 + "out = F.pad(x, (1, 1), mode='reflect')",
    "pad reflect with value": X3 + "out = F.pad(x, (1, 1), mode='reflect', value=1.0)",
    "interpolate linear rank": X4 + "out = F.interpolate(x, scale_factor=2, mode='linear')",
    "interpolate recompute with size": X4 + "out = F.interpolate(x, size=3, recompute_scale_factor=True)",
    # padding / resampling / 1-d modules (missing)
    "padding modules": X3 + "ms = [nn.ZeroPad2d((1, 2, 0, 1)), nn.ConstantPad2d(1, 1.5), nn.ReflectionPad2d(1), nn.ReplicationPad2d((2, 0, 1, 1)), nn.CircularPad2d(1), nn.ZeroPad1d(2), nn.ReflectionPad1d((1, 2)), nn.ReplicationPad1d(1), nn.CircularPad1d(1), nn.ConstantPad1d(1, -1.0)]\ny = torch.cat([m(x).reshape(-1) for m in ms])" + G + "out = (y, x.grad, [repr(m) for m in ms])",
    "pixel_unshuffle": "x = torch.arange(2 * 2 * 4 * 6, dtype=torch.float64).reshape(2, 2, 4, 6).sin().requires_grad_()\ny = F.pixel_unshuffle(x, 2) + nn.PixelUnshuffle(2)(x)" + G + "out = (y, x.grad, type(F.pixel_unshuffle(x, 2).grad_fn).__name__, repr(nn.PixelUnshuffle(2)))",
    "pixel_unshuffle not divisible": "out = F.pixel_unshuffle(torch.ones(1, 1, 3, 4), 2)",
    "Upsampling modules": X4 + "ms = [nn.UpsamplingNearest2d(scale_factor=2), nn.UpsamplingBilinear2d(size=(5, 9))]\ny = torch.cat([m(x).reshape(-1) for m in ms])" + G + "out = (y, x.grad, [repr(m) for m in ms])",
    "ConvTranspose1d and Dropout1d": "torch.manual_seed(0)\nm = nn.ConvTranspose1d(3, 4, 3, stride=2, output_padding=1)\nd = nn.Dropout1d(0.5)\nd.eval()\nout = (repr(m), [(n, tuple(p.shape)) for n, p in m.named_parameters()], m(torch.ones(2, 3, 5)).shape, d(torch.ones(2, 3)), repr(d))",
    # several index tensors in one subscript (refused before), torch's int-first reading
    "several index tensors": X3 + "i = torch.tensor([0, 1])\nj = torch.tensor([1, 3])\ny = torch.cat([x[i, :, j].reshape(-1), x[1, :, j].reshape(-1), x[:, i, j[:, None]].reshape(-1), x[i[:, None], :, j].reshape(-1), x[torch.arange(2), torch.tensor([2, 0])].reshape(-1), x[i, torch.tensor([True, False, True])].reshape(-1), x[[0, 1], [1, 2], [3, 0]]])" + G + "out = (y, x.grad, type(x[i, i].grad_fn).__name__)",
    "several index tensors out of range": X3 + "out = x[torch.tensor([0, 1]), torch.tensor([0, 3])]",
    "several index tensors do not broadcast": X3 + "out = x[torch.tensor([0, 1]), torch.tensor([0, 1, 2])]",
    "log-prob pick": "logits = torch.arange(12, dtype=torch.float64).reshape(4, 3).sin().requires_grad_()\nloss = -logits.log_softmax(-1)[torch.arange(4), torch.tensor([2, 0, 1, 1])].mean()\nloss.backward()\nout = (loss, logits.grad)",
    # smaller gaps: 0-d index tensor selects, squeeze of a dims tuple, index_select's vector index
    "0-d index tensor and squeeze dims": X3 + "out = [type(t.grad_fn).__name__ for t in (x[torch.tensor(1)], x[:, :1].squeeze((1,)), x[:, :1].squeeze(1))] + [tuple(x[:, torch.tensor(1)].shape)]",
    "index_select of a 2-d index": X3 + "out = x.index_select(0, torch.tensor([[0]]))",
    "select, masked_select, equal": X3 + "y = torch.cat([x.select(1, 2).reshape(-1), torch.select(x, -1, 0).reshape(-1), torch.masked_select(x, x > 0.5), x.masked_select(torch.tensor([True, False, True, True]))])" + G + "out = (y, x.grad, torch.equal(x, x.clone()), torch.equal(x, x[:1]), x.equal(x * 2), type(x.masked_select(x > 0).grad_fn).__name__)",
    # clamp with tensor bounds (refused), masked_fill with a 0-d tensor value (its gradient was lost)
    "clamp with tensor bounds": "x = torch.tensor([[-1.0, 0.0, 0.5], [2.0, 1.0, 0.25]], dtype=torch.float64, requires_grad=True)\nlo = torch.tensor([0.0, 0.0, 1.0], dtype=torch.float64, requires_grad=True)\nhi = torch.tensor([[1.0], [1.5]], dtype=torch.float64, requires_grad=True)\ny = torch.cat([torch.clamp(x, lo, hi).reshape(-1), x.clamp(min=lo).reshape(-1), x.clip(max=hi).reshape(-1)])" + G + "out = (y, x.grad, lo.grad, hi.grad, type(torch.clamp(x, lo, hi).grad_fn).__name__)",
    "masked_fill with a tensor value": "x = torch.arange(6.0).reshape(2, 3).requires_grad_()\nv = torch.tensor(2.5, dtype=torch.float64, requires_grad=True)\ny = x.masked_fill(x > 2, v)" + G + "out = (y, x.grad, v.grad)",
    "masked_fill with a 1-d tensor value": "out = torch.ones(2, 3).masked_fill(torch.ones(2, 3) > 0, torch.ones(3))",
}
