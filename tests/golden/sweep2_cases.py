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
    # scaled_dot_product_attention: a query row whose mask hides every key is 0 (nan before); torch's kernel names
    "sdpa fully masked row": "q = torch.arange(40, dtype=torch.float64).reshape(2, 5, 4).sin().requires_grad_()\nk = torch.arange(48, dtype=torch.float64).reshape(2, 6, 4).cos().requires_grad_()\nv = torch.arange(36, dtype=torch.float64).reshape(2, 6, 3).sin().requires_grad_()\nm = torch.tensor([[True] * 6] * 4 + [[False] * 6])\nfm = torch.zeros(5, 6, dtype=torch.float64).masked_fill(~m, float('-inf'))\ny = torch.cat([F.scaled_dot_product_attention(q, k, v, attn_mask=m), F.scaled_dot_product_attention(q, k, v, attn_mask=fm)])\n(y * torch.arange(y.numel(), dtype=y.dtype).reshape(y.shape).cos()).sum().backward()\nout = (y, q.grad, k.grad, v.grad)",
    "sdpa grad_fn by head sizes": "out = [type(F.scaled_dot_product_attention(torch.ones(1, 2, 5, e, requires_grad=True), torch.ones(1, 2, s, e), torch.ones(1, 2, s, ev)).grad_fn).__name__ for e, s, ev in ((4, 5, 4), (4, 6, 4), (4, 5, 3))]",
    # losses: (N, C, d1, ...) inputs, a target broadcast against the input, torch's ValueError for a size mismatch
    "cross_entropy and nll_loss of (N, C, d1, ...)": "x = torch.arange(2 * 3 * 4 * 5, dtype=torch.float64).reshape(2, 3, 4, 5).mul(0.7).sin().requires_grad_()\nt = (torch.arange(40) * 7 % 3).reshape(2, 4, 5)\nw = torch.tensor([1.0, 2.0, 0.5], dtype=torch.float64)\nys = [F.cross_entropy(x, t), F.cross_entropy(x, t, weight=w, ignore_index=1, label_smoothing=0.1), F.nll_loss(x[:, :, 0], t[:, 0], reduction='none'), F.cross_entropy(x[..., 0], t[..., 0], reduction='sum')]\ny = torch.cat([v.reshape(-1) for v in ys])" + G + "out = (y, x.grad, [type(v.grad_fn).__name__ for v in ys])",
    "cross_entropy spatial batch mismatch": "out = F.cross_entropy(torch.ones(2, 3, 4), torch.zeros(1, 4, dtype=torch.long))",
    "regression losses broadcast the target": "x = torch.arange(12, dtype=torch.float64).reshape(4, 3).sin().requires_grad_()\np = torch.tensor([[0.1, -0.2, 0.3]], dtype=torch.float64)\ny = torch.stack([F.l1_loss(x, p), F.smooth_l1_loss(x, p, beta=0.5), F.huber_loss(x, p, delta=0.3), F.mse_loss(x, p), F.kl_div(x, p, reduction='sum')])" + G + "out = (y, x.grad)",
    "binary_cross_entropy size mismatch": "out = F.binary_cross_entropy(torch.ones(4, 3) * 0.5, torch.ones(2, 3))",
    # schedulers torch users reach for next
    "more lr schedulers": "w = torch.tensor([1.0, -2.0], dtype=torch.float64, requires_grad=True)\nout = []\nfor make, mk_opt in ((lambda o: torch.optim.lr_scheduler.OneCycleLR(o, max_lr=1.0, total_steps=12), lambda: torch.optim.SGD([w], lr=0.1, momentum=0.9)), (lambda o: torch.optim.lr_scheduler.OneCycleLR(o, 0.5, epochs=3, steps_per_epoch=4, anneal_strategy='linear', three_phase=True), lambda: torch.optim.Adam([w], lr=0.01)), (lambda o: torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(o, T_0=2, T_mult=2, eta_min=0.01), lambda: torch.optim.SGD([w], lr=0.1)), (lambda o: torch.optim.lr_scheduler.ConstantLR(o, factor=0.5, total_iters=3), lambda: torch.optim.SGD([w], lr=0.1)), (lambda o: torch.optim.lr_scheduler.PolynomialLR(o, total_iters=4, power=2.0), lambda: torch.optim.SGD([w], lr=0.1)), (lambda o: torch.optim.lr_scheduler.ReduceLROnPlateau(o, mode='max', factor=0.5, patience=0, cooldown=1, min_lr=0.02), lambda: torch.optim.SGD([w], lr=0.1))):\n    opt = mk_opt()\n    s = make(opt)\n    lrs = []\n    for k in range(9):\n        opt.zero_grad()\n        (w ** 4).sum().backward()\n        opt.step()\n        s.step([1.0, 0.9, 0.95, 0.95, 0.97, 0.5, 0.6, 0.7, 0.8][k]) if isinstance(s, torch.optim.lr_scheduler.ReduceLROnPlateau) else s.step()\n        lrs.append(s.get_last_lr() + [opt.param_groups[0].get('momentum', opt.param_groups[0].get('betas', (0.0,))[0])])\n    out.append(lrs)\nout.append(w.detach())",
    # data loading and the everyday surface
    "DataLoader worker options, ConcatDataset": "data = torch.utils.data\nds = data.TensorDataset(torch.arange(10.0).reshape(5, 2), torch.arange(5))\nc = data.ConcatDataset([ds, ds])\nout = ([b for b in data.DataLoader(ds, batch_size=2, num_workers=0, pin_memory=True, persistent_workers=False)], len(c), c[7], c.cumulative_sizes, len(ds + ds))",
    "TensorDataset size mismatch": "out = torch.utils.data.TensorDataset(torch.ones(3), torch.ones(4))",
    "set_default_dtype, type(), randint_like": "torch.set_default_dtype(torch.float64)\ntry:\n    out = [str(t.dtype) for t in (torch.ones(2), torch.tensor([1.5]), torch.tensor([1, 2]) * 0.5, nn.Linear(2, 3).weight, nn.Conv2d(1, 2, 3).bias, torch.randn(2))] + [torch.ones(1).type(), torch.ones(1, dtype=torch.long).type(), str(torch.ones(1).type(torch.float32).dtype), tuple(torch.randint_like(torch.ones(2, 3), 4).shape)]\nfinally:\n    torch.set_default_dtype(torch.float32)",
    # layers never mix float dtypes (torch's RuntimeError; crossgrad promoted silently); regression losses promote
    "conv of a float64 input in a float32 layer": "torch.manual_seed(0)\nout = nn.Conv2d(2, 3, 3)(torch.ones(1, 2, 4, 4, dtype=torch.float64))",
    "batch_norm of a float64 input in a float32 layer": "out = nn.BatchNorm2d(2)(torch.ones(2, 2, 3, 3, dtype=torch.float64))",
    "layer_norm with a float64 weight": "out = F.layer_norm(torch.ones(2, 3), (3,), torch.ones(3, dtype=torch.float64))",
    "sdpa of mixed dtypes": "out = F.scaled_dot_product_attention(torch.ones(1, 2, 3), torch.ones(1, 2, 3, dtype=torch.float64), torch.ones(1, 2, 3))",
    "cross_entropy with a float64 weight": "out = F.cross_entropy(torch.ones(2, 3), torch.tensor([0, 1]), weight=torch.ones(3, dtype=torch.float64))",
    "regression losses of mixed dtypes": "a = torch.tensor([0.5, -1.0, 2.0], requires_grad=True)\nb = torch.tensor([0.25, 1.0, 1.0], dtype=torch.float64)\nys = [F.l1_loss(a, b), F.smooth_l1_loss(a, b), F.huber_loss(a, b), F.kl_div(a, b), F.mse_loss(a, b)]\nout = [(str(y.dtype), y) for y in ys]",
    "conv padding strings": "out = nn.Conv2d(2, 3, 3, padding='full')",
    "conv same with stride": "out = nn.Conv2d(2, 3, 3, padding='same', stride=2)",
    "F.conv2d padding string": "out = F.conv2d(torch.ones(1, 2, 4, 4), torch.ones(3, 2, 3, 3), padding='full')",
    "instance_norm of one spatial element": "out = F.instance_norm(torch.ones(2, 4, 1, 1))",
}
