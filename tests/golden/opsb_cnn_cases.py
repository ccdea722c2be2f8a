# ruff: noqa: E501  (each case is a short torch program, kept whole)
"""Issue 12's user-facing variations (a parity sweep written from the issue text): each case runs
under real torch (to record opsb_cnn.json) and under ``import crossgrad as torch``; ``out`` is
compared (values, dtypes, shapes, grad_fn names, gradients; for an error, the exception type)."""

X4 = "x = torch.arange(2 * 4 * 7 * 6, dtype=torch.float64).reshape(2, 4, 7, 6).mul(0.37).sin().requires_grad_()\n"
X3 = "x = torch.arange(2 * 4 * 9, dtype=torch.float64).reshape(2, 4, 9).mul(0.41).sin().requires_grad_()\n"
W4 = "w = torch.arange(6 * 2 * 3 * 2, dtype=torch.float64).reshape(6, 2, 3, 2).mul(0.29).cos().requires_grad_()\nb = torch.linspace(-1, 1, 6, dtype=torch.float64).requires_grad_()\n"
G = "\n(y * torch.arange(y.numel(), dtype=y.dtype).reshape(y.shape).mul(0.7).cos()).sum().backward()\n"
BN = "x = torch.arange(4 * 3 * 5 * 2, dtype=torch.float64).reshape(4, 3, 5, 2).mul(0.53).sin().mul(2).add(0.5).requires_grad_()\n"

CASES = {
    # ---- conv1d
    "conv1d stride padding dilation": X3 + "w = torch.arange(5 * 4 * 3, dtype=torch.float64).reshape(5, 4, 3).cos().requires_grad_()\ny = F.conv1d(x, w, None, stride=2, padding=2, dilation=2)" + G + "out = (y, x.grad, w.grad)",
    "conv1d same even kernel dilation": X3 + "w = torch.arange(6 * 2 * 4, dtype=torch.float64).reshape(6, 2, 4).cos().requires_grad_()\nb = torch.ones(6, dtype=torch.float64, requires_grad=True)\ny = F.conv1d(x, w, b, padding='same', dilation=3, groups=2)" + G + "out = (y, x.grad, w.grad, b.grad)",
    "conv1d valid tuple args": X3 + "w = torch.arange(4 * 4 * 2, dtype=torch.float64).reshape(4, 4, 2).cos().requires_grad_()\ny = F.conv1d(x, w, padding='valid', stride=(3,), dilation=(2,))" + G + "out = (y, x.grad, w.grad)",
    "conv1d depthwise module": "torch.manual_seed(0)\nm = nn.Conv1d(4, 8, 3, padding=1, groups=4, bias=False).double()\nwith torch.no_grad():\n    m.weight.copy_(torch.arange(24, dtype=torch.float64).reshape(8, 1, 3).sin())\n" + X3 + "y = m(x)" + G + "out = (y, x.grad, m.weight.grad, [n for n, _ in m.named_parameters()], list(m.state_dict()), repr(m))",
    # ---- conv2d
    "conv2d tuples groups bias": X4 + W4 + "y = F.conv2d(x, w, b, stride=(2, 1), padding=(1, 2), dilation=(1, 2), groups=2)" + G + "out = (y, x.grad, w.grad, b.grad)",
    "conv2d same even kernel": X4 + W4 + "y = F.conv2d(x, w, b, padding='same', dilation=(2, 1), groups=2)" + G + "out = (y, x.grad, w.grad, b.grad)",
    "conv2d valid": X4 + W4 + "y = F.conv2d(x, w, padding='valid', groups=2, stride=2)" + G + "out = (y, x.grad, w.grad)",
    "conv2d int stride tuple padding": X4 + "w = torch.arange(3 * 4 * 2 * 2, dtype=torch.float64).reshape(3, 4, 2, 2).cos().requires_grad_()\ny = F.conv2d(x, w, stride=3, padding=(0, 1))" + G + "out = (y, x.grad, w.grad)",
    "conv2d depthwise multiplier": X4 + "w = torch.arange(8 * 1 * 3 * 3, dtype=torch.float64).reshape(8, 1, 3, 3).cos().requires_grad_()\ny = F.conv2d(x, w, groups=4, padding=1)" + G + "out = (y, x.grad, w.grad)",
    "conv2d float32": "x = torch.arange(1 * 2 * 5 * 5, dtype=torch.float32).reshape(1, 2, 5, 5).sin().requires_grad_()\nw = torch.arange(3 * 2 * 3 * 3, dtype=torch.float32).reshape(3, 2, 3, 3).cos().requires_grad_()\ny = F.conv2d(x, w, padding=1)" + G + "out = (y, x.grad, w.grad)",
    "Conv2d module same and names": "torch.manual_seed(0)\nm = nn.Conv2d(4, 6, (3, 2), padding='same', dilation=2, groups=2).double()\nwith torch.no_grad():\n    m.weight.copy_(torch.arange(72, dtype=torch.float64).reshape(6, 2, 3, 2).sin())\n    m.bias.fill_(0.25)\n" + X4 + "y = m(x)" + G + "out = (y, x.grad, m.weight.grad, m.bias.grad, [(n, tuple(p.shape)) for n, p in m.named_parameters()], list(m.state_dict()), repr(m), m.padding, m.stride, m.dilation, m.kernel_size)",
    "Conv2d padding_mode reflect and circular": "torch.manual_seed(0)\nms = [nn.Conv2d(4, 2, 3, padding=1, padding_mode=mode).double() for mode in ('reflect', 'replicate', 'circular')]\nfor k, m in enumerate(ms):\n    with torch.no_grad():\n        m.weight.copy_(torch.arange(72, dtype=torch.float64).reshape(2, 4, 3, 3).mul(k + 1).sin())\n        m.bias.zero_()\n" + X4 + "y = torch.cat([m(x).reshape(-1) for m in ms])" + G + "out = (y, x.grad, [repr(m) for m in ms])",
    "Conv padding_mode with same and 1-d": "torch.manual_seed(0)\nm = nn.Conv2d(4, 2, (3, 4), padding='same', dilation=(1, 2), padding_mode='reflect').double()\nc = nn.Conv1d(4, 3, 3, padding=2, stride=2, padding_mode='circular').double()\nv = nn.Conv1d(4, 3, 3, padding='valid', padding_mode='replicate').double()\nfor k, p in enumerate(list(m.parameters()) + list(c.parameters()) + list(v.parameters())):\n    with torch.no_grad():\n        p.copy_(torch.arange(p.numel(), dtype=torch.float64).reshape(p.shape).mul(k + 0.5).sin())\n" + X4 + "x1 = x[:, :, 0]\ny = torch.cat([m(x).reshape(-1), c(x1).reshape(-1), v(x1).reshape(-1)])" + G + "out = (y, x.grad, m.weight.grad, c.weight.grad, repr(m), repr(c), list(m.state_dict()))",
    "ConvTranspose2d padding_mode": "out = nn.ConvTranspose2d(2, 3, 3, padding_mode='reflect')",
    "ConvTranspose output_size forms": "torch.manual_seed(0)\nm = nn.ConvTranspose2d(4, 3, 3, stride=(2, 3), padding=1, dilation=(1, 2)).double()\nm1 = nn.ConvTranspose1d(4, 2, 3, stride=3).double()\n" + X4 + "y = m(x, output_size=(2, 3, 14, 19))\nz = m1(x[:, :, 0], output_size=[19])\nu = m(x, output_size=torch.Size([14, 20]))\nout = (tuple(y.shape), tuple(z.shape), tuple(u.shape), bool((y[:, :, :13, :18] - m(x)[:, :, :13, :18]).abs().max() < 1e-12))",
    "ConvTranspose output_size out of range": "torch.manual_seed(0)\nm = nn.ConvTranspose2d(4, 3, 3, stride=2, padding=1).double()\n" + X4 + "out = m(x, output_size=[15, 12])",
    "ConvTranspose output_size wrong length": "torch.manual_seed(0)\nm = nn.ConvTranspose2d(4, 3, 3, stride=2).double()\n" + X4 + "out = m(x, output_size=[15, 12, 3])",
    "Conv2d weight init bound": "torch.manual_seed(0)\nm = nn.Conv2d(3, 64, 5)\nbound = 1 / (3 * 25) ** 0.5\nout = (bool(m.weight.abs().max() <= bound), bool(m.weight.abs().max() > 0.95 * bound), bool(m.bias.abs().max() <= bound), bool(m.weight.std() > 0.5 * bound / 3 ** 0.5), str(m.weight.dtype).split('.')[-1], m.weight.requires_grad)",
    "conv grad_fn names": X4 + W4 + "wt = torch.ones(4, 3, 2, 2, dtype=torch.float64)\nout = [type(t.grad_fn).__name__ for t in (F.conv2d(x, w, b, groups=2), F.conv1d(x[:, :, 0], w[:, :, 0], groups=2), F.conv_transpose2d(x, wt), F.conv2d(x, w, groups=2, padding='same'))]",
    # ---- conv_transpose2d
    "conv_transpose2d stride padding output_padding groups": X4 + "w = torch.arange(4 * 3 * 3 * 2, dtype=torch.float64).reshape(4, 3, 3, 2).cos().requires_grad_()\nb = torch.linspace(0, 1, 6, dtype=torch.float64).requires_grad_()\ny = F.conv_transpose2d(x, w, b, stride=(2, 3), padding=(1, 0), output_padding=(1, 2), groups=2)" + G + "out = (y, x.grad, w.grad, b.grad)",
    "conv_transpose2d dilation no bias": X4 + "w = torch.arange(4 * 2 * 2 * 3, dtype=torch.float64).reshape(4, 2, 2, 3).cos().requires_grad_()\ny = F.conv_transpose2d(x, w, stride=2, padding=1, dilation=(2, 1))" + G + "out = (y, x.grad, w.grad)",
    "ConvTranspose2d module output_size": "torch.manual_seed(0)\nm = nn.ConvTranspose2d(4, 3, 3, stride=2, padding=1).double()\n" + X4 + "y = m(x, output_size=[14, 12])\nout = (tuple(y.shape), [(n, tuple(p.shape)) for n, p in m.named_parameters()], repr(m), tuple(m(x).shape))",
    "conv_transpose2d output_padding too big": X4 + "out = F.conv_transpose2d(x, torch.ones(4, 2, 3, 3, dtype=torch.float64), stride=2, output_padding=2)",
    # ---- conv bad input
    "conv2d groups do not divide": X4 + "out = F.conv2d(x, torch.ones(6, 2, 3, 3, dtype=torch.float64), groups=3)",
    "conv2d channel mismatch": X4 + "out = F.conv2d(x, torch.ones(6, 3, 3, 3, dtype=torch.float64))",
    "conv2d kernel larger than input": X4 + "out = F.conv2d(x, torch.ones(2, 4, 8, 3, dtype=torch.float64))",
    "conv2d same with stride": X4 + "out = F.conv2d(x, torch.ones(2, 4, 3, 3, dtype=torch.float64), padding='same', stride=2)",
    "conv2d negative padding": X4 + "out = F.conv2d(x, torch.ones(2, 4, 3, 3, dtype=torch.float64), padding=-1)",
    "conv2d zero stride": X4 + "out = F.conv2d(x, torch.ones(2, 4, 3, 3, dtype=torch.float64), stride=0)",
    "Conv2d groups module error": "out = nn.Conv2d(4, 6, 3, groups=4)",
    "Conv2d bad padding_mode": "out = nn.Conv2d(4, 6, 3, padding_mode='mirror')",
    "conv1d 4-D input": X4 + "out = F.conv1d(x, torch.ones(2, 4, 3, dtype=torch.float64))",
    # ---- max_pool2d
    "max_pool2d stride default": X4 + "y = F.max_pool2d(x, 3)" + G + "out = (y, x.grad, type(y.grad_fn).__name__)",
    "max_pool2d padding dilation ceil": X4 + "y = F.max_pool2d(x, (3, 2), stride=(2, 1), padding=(1, 1), dilation=(1, 2), ceil_mode=True)" + G + "out = (y, x.grad)",
    "max_pool2d return_indices": X4 + "y, i = F.max_pool2d(x, 2, 2, 1, return_indices=True)" + G + "out = (y, i, x.grad, type(y.grad_fn).__name__)",
    "max_pool2d ceil last window rule": "x = torch.arange(1 * 1 * 5 * 5, dtype=torch.float64).reshape(1, 1, 5, 5).sin().requires_grad_()\ny = F.max_pool2d(x, 2, 2, padding=1, ceil_mode=True)" + G + "out = (y, x.grad)",
    "MaxPool2d module return_indices": X4 + "m = nn.MaxPool2d(2, return_indices=True)\ny, i = m(x)\nout = (y, i, repr(m), m.stride)",
    "max_pool2d padding too big": X4 + "out = F.max_pool2d(x, 2, padding=2)",
    "max_pool2d output empty": "out = F.max_pool2d(torch.ones(1, 1, 2, 2), 3)",
    "max_pool1d and MaxPool1d": X3 + "y = F.max_pool1d(x, 3, 2, 1) + 0\nz = nn.MaxPool1d(2, ceil_mode=True)(x)" + G + "out = (y, z, x.grad)",
    # ---- avg_pool2d
    "avg_pool2d count_include_pad false": X4 + "y = F.avg_pool2d(x, 3, 2, 1, count_include_pad=False)" + G + "out = (y, x.grad, type(y.grad_fn).__name__)",
    "avg_pool2d ceil include pad": X4 + "y = F.avg_pool2d(x, (3, 2), (2, 2), (1, 1), ceil_mode=True)" + G + "out = (y, x.grad)",
    "avg_pool2d ceil no pad count": X4 + "y = F.avg_pool2d(x, 3, 2, 1, ceil_mode=True, count_include_pad=False)" + G + "out = (y, x.grad)",
    "avg_pool2d divisor_override": X4 + "y = F.avg_pool2d(x, 2, 1, 1, divisor_override=3)" + G + "out = (y, x.grad)",
    "avg_pool2d ceil divisor_override": X4 + "y = F.avg_pool2d(x, 3, 2, 1, ceil_mode=True, divisor_override=2)" + G + "out = (y, x.grad)",
    "AvgPool2d module repr": "out = [repr(nn.AvgPool2d(3)), repr(nn.AvgPool2d((2, 3), stride=1, padding=1, ceil_mode=True, count_include_pad=False, divisor_override=4))]",
    "avg_pool1d": X3 + "y = F.avg_pool1d(x, 3, 2, 1, count_include_pad=False) + 0" + G + "out = (y, x.grad)",
    # ---- adaptive pools
    "adaptive_avg_pool2d uneven": X4 + "y = F.adaptive_avg_pool2d(x, (3, 4))" + G + "out = (y, x.grad, type(y.grad_fn).__name__)",
    "adaptive_avg_pool2d None and int": X4 + "y = torch.cat([F.adaptive_avg_pool2d(x, (None, 4)).reshape(-1), F.adaptive_avg_pool2d(x, 5).reshape(-1), nn.AdaptiveAvgPool2d((1, 1))(x).reshape(-1)])" + G + "out = (y, x.grad)",
    "adaptive_avg_pool2d larger output": X4 + "y = F.adaptive_avg_pool2d(x, (9, 8))" + G + "out = (y, x.grad)",
    "adaptive_max_pool2d uneven indices": X4 + "y, i = F.adaptive_max_pool2d(x, (4, 5), return_indices=True)" + G + "out = (y, i, x.grad, type(y.grad_fn).__name__)",
    "AdaptiveMaxPool2d module": X4 + "m = nn.AdaptiveMaxPool2d((3, None))\ny = m(x)" + G + "out = (y, x.grad, repr(m))",
    "adaptive_avg_pool1d": X3 + "y = F.adaptive_avg_pool1d(x, 4)" + G + "out = (y, x.grad)",
    # ---- batch_norm
    "BatchNorm2d train then eval": BN + "m = nn.BatchNorm2d(3, momentum=0.3).double()\ny = m(x)\nm(x * 2 + 1)" + G + "m.eval()\nz = m(x)\nout = (y, x.grad, m.weight.grad, m.bias.grad, m.running_mean, m.running_var, m.num_batches_tracked, z, type(y.grad_fn).__name__, type(z.grad_fn).__name__)",
    "BatchNorm2d momentum None cumulative": BN + "m = nn.BatchNorm2d(3, momentum=None).double()\nfor k in range(3):\n    m(x * (k + 1) - k)\nout = (m.running_mean, m.running_var, m.num_batches_tracked, repr(m))",
    "BatchNorm2d state_dict": "m = nn.BatchNorm2d(3)\nout = ([(k, v) for k, v in m.state_dict().items()], [n for n, _ in m.named_parameters()], [n for n, _ in m.named_buffers()], str(m.num_batches_tracked.dtype).split('.')[-1])",
    "BatchNorm2d no running stats": BN + "m = nn.BatchNorm2d(3, track_running_stats=False).double()\ny = m(x)\nm.eval()\nz = m(x)" + G + "out = (y, z, x.grad, list(m.state_dict()), m.running_mean is None, repr(m))",
    "BatchNorm2d affine False": BN + "m = nn.BatchNorm2d(3, affine=False).double()\ny = m(x)" + G + "out = (y, x.grad, list(m.state_dict()), list(m.named_parameters()), m.weight is None, repr(m))",
    "BatchNorm1d 2D input": "x = torch.arange(5 * 3, dtype=torch.float64).reshape(5, 3).mul(0.7).sin().requires_grad_()\nm = nn.BatchNorm1d(3).double()\ny = m(x)" + G + "out = (y, x.grad, m.weight.grad, m.running_mean, m.running_var)",
    "BatchNorm1d 3D input": X3 + "m = nn.BatchNorm1d(4, eps=1e-3).double()\ny = m(x)" + G + "out = (y, x.grad, m.weight.grad, m.bias.grad, m.running_mean, m.running_var, m.num_batches_tracked)",
    "BatchNorm1d wrong rank": X4 + "out = nn.BatchNorm1d(4).double()(x)",
    "BatchNorm2d wrong rank": X3 + "out = nn.BatchNorm2d(4).double()(x)",
    "BatchNorm1d one value per channel": "out = nn.BatchNorm1d(3)(torch.ones(1, 3))",
    "BatchNorm1d channel mismatch": "out = nn.BatchNorm1d(3)(torch.ones(4, 5))",
    "F.batch_norm training no running": BN + "y = F.batch_norm(x, None, None, training=True)" + G + "out = (y, x.grad)",
    "F.batch_norm eval with stats": BN + "rm = torch.tensor([0.1, -0.2, 0.3], dtype=torch.float64)\nrv = torch.tensor([1.5, 0.5, 2.0], dtype=torch.float64)\nw = torch.tensor([1.0, 2.0, -1.0], dtype=torch.float64, requires_grad=True)\ny = F.batch_norm(x, rm, rv, w, None, False, 0.1, 1e-3)" + G + "out = (y, x.grad, w.grad, rm, rv)",
    "F.batch_norm training updates given stats": BN + "rm = torch.zeros(3, dtype=torch.float64)\nrv = torch.ones(3, dtype=torch.float64)\ny = F.batch_norm(x, rm, rv, training=True, momentum=0.5)\nout = (y, rm, rv)",
    "BatchNorm2d load_state_dict": BN + "m = nn.BatchNorm2d(3).double()\nm(x)\nn2 = nn.BatchNorm2d(3).double()\nn2.load_state_dict(m.state_dict())\nn2.eval()\nout = (n2(x), n2.num_batches_tracked, n2.running_var)",
    # ---- group / instance norm, dropout2d
    "GroupNorm module": X4 + "m = nn.GroupNorm(2, 4).double()\nwith torch.no_grad():\n    m.weight.copy_(torch.tensor([1.0, 2.0, 0.5, -1.0]))\ny = m(x)" + G + "out = (y, x.grad, m.weight.grad, m.bias.grad, list(m.state_dict()), repr(m))",
    "instance_norm function": X4 + "y = F.instance_norm(x)" + G + "out = (y, x.grad)",
    "Dropout2d eval and p0": X4 + "m = nn.Dropout2d(0.5)\nm.eval()\ny = m(x) + nn.Dropout2d(0.0)(x)" + G + "out = (y, x.grad, repr(m))",
    # ---- flatten
    "flatten dims": X4 + "y = torch.cat([x.flatten().sum(0, keepdim=True), x.flatten(1).sum(1), torch.flatten(x, 0, 1).sum((1, 2)), x.flatten(-2, -1).sum((0, 2)), x.flatten(start_dim=1, end_dim=2).mean((0, 2))])" + G + "out = (y, x.grad, [tuple(t.shape) for t in (x.flatten(2), x.flatten(1, -2), x.flatten(3, 3))], type(x.flatten(1).grad_fn).__name__)",
    "nn.Flatten module": X4 + "m = nn.Flatten(0, 2)\nout = (tuple(m(x).shape), tuple(nn.Flatten()(x).shape), repr(m), repr(nn.Flatten()))",
    "flatten scalar": "out = torch.tensor(3.0).flatten()",
    "flatten start after end": X4 + "out = x.flatten(2, 1)",
    "Unflatten module": X4 + "out = (tuple(nn.Unflatten(1, (2, 2))(x).shape), tuple(x.unflatten(-1, (3, 2)).shape))",
    # ---- interpolate and pad
    "interpolate nearest scale and size": X4 + "y = torch.cat([F.interpolate(x, scale_factor=2).reshape(-1), F.interpolate(x, size=(5, 9)).reshape(-1), F.interpolate(x, scale_factor=(0.5, 1.5)).reshape(-1)])" + G + "out = (y, x.grad, type(F.interpolate(x, scale_factor=2).grad_fn).__name__)",
    "interpolate bilinear corners": X4 + "y = torch.cat([F.interpolate(x, size=(10, 4), mode='bilinear', align_corners=ac).reshape(-1) for ac in (False, True)])" + G + "out = (y, x.grad, type(F.interpolate(x, size=(10, 4), mode='bilinear').grad_fn).__name__)",
    "interpolate bilinear scale fraction": X4 + "y = F.interpolate(x, scale_factor=1.7, mode='bilinear')" + G + "out = (y, x.grad)",
    "interpolate bilinear recompute": X4 + "y = F.interpolate(x, scale_factor=1.7, mode='bilinear', recompute_scale_factor=True)" + G + "out = (y, x.grad)",
    "interpolate nearest-exact and bicubic": X4 + "y = torch.cat([F.interpolate(x, size=(9, 4), mode='nearest-exact').reshape(-1), F.interpolate(x, size=(9, 4), mode='bicubic', align_corners=False).reshape(-1)])" + G + "out = (y, x.grad)",
    "interpolate nearest-exact scales": X4 + "y = torch.cat([F.interpolate(x, scale_factor=(1.7, 0.6), mode='nearest-exact').reshape(-1), F.interpolate(x, scale_factor=1.7, mode='nearest-exact', recompute_scale_factor=True).reshape(-1), F.interpolate(x[:, :, 0], scale_factor=2.3, mode='nearest-exact').reshape(-1), nn.Upsample(size=(3, 11), mode='nearest-exact')(x).reshape(-1)])" + G + "out = (y, x.grad)",
    "interpolate bicubic variants": X4 + "y = torch.cat([F.interpolate(x, scale_factor=1.5, mode='bicubic', align_corners=True).reshape(-1), F.interpolate(x, scale_factor=(0.6, 2.2), mode='bicubic').reshape(-1), F.interpolate(x, size=(3, 1), mode='bicubic').reshape(-1), F.interpolate(x, size=(1, 5), mode='bicubic', align_corners=True).reshape(-1)])" + G + "out = (y, x.grad)",
    "interpolate area variants": X4 + "y = torch.cat([F.interpolate(x, scale_factor=0.5, mode='area').reshape(-1), F.interpolate(x[:, :, 0], size=4, mode='area').reshape(-1), F.interpolate(x, size=(9, 13), mode='area').reshape(-1)])" + G + "out = (y, x.grad)",
    "interpolate bicubic 3D": X3 + "out = F.interpolate(x, scale_factor=2, mode='bicubic')",
    "interpolate area align_corners": X4 + "out = F.interpolate(x, scale_factor=2, mode='area', align_corners=False)",
    "interpolate linear 3D": X3 + "y = torch.cat([F.interpolate(x, scale_factor=2.5, mode='linear').reshape(-1), F.interpolate(x, size=4, mode='linear', align_corners=True).reshape(-1)])" + G + "out = (y, x.grad)",
    "interpolate area": X4 + "y = F.interpolate(x, size=(3, 4), mode='area')" + G + "out = (y, x.grad)",
    "Upsample module": X4 + "m = nn.Upsample(scale_factor=2, mode='bilinear', align_corners=True)\ny = m(x)" + G + "out = (y, x.grad, repr(m), repr(nn.Upsample(size=(3, 4))))",
    "interpolate nearest align_corners": X4 + "out = F.interpolate(x, scale_factor=2, align_corners=True)",
    "interpolate both size and scale": X4 + "out = F.interpolate(x, size=3, scale_factor=2)",
    "interpolate bilinear 3D": X3 + "out = F.interpolate(x, scale_factor=2, mode='bilinear')",
    "pad modes": X4 + "y = torch.cat([F.pad(x, (1, 2), value=-1.5).reshape(-1), F.pad(x, (1, 2, 2, 1), mode='reflect').reshape(-1), F.pad(x, (0, 3, 1, 0), mode='replicate').reshape(-1), F.pad(x, (1, 1, 1, 1, 1, 0)).reshape(-1)])" + G + "out = (y, x.grad, [type(F.pad(x, (1, 1, 1, 1), mode=m).grad_fn).__name__ for m in ('constant', 'reflect', 'replicate')])",
    "pad reflect too big": X4 + "out = F.pad(x, (6, 0, 0, 0), mode='reflect')",
    "pixel_shuffle": X4 + "y = F.pixel_shuffle(x, 2) * 1 + nn.PixelShuffle(2)(x)" + G + "out = (y, x.grad, type(F.pixel_shuffle(x, 2).grad_fn).__name__)",
    # ---- a small CNN written as a user would
    "LeNet-style module": "torch.manual_seed(0)\nclass Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.conv1 = nn.Conv2d(1, 6, 5, padding=2)\n        self.bn = nn.BatchNorm2d(6)\n        self.pool = nn.MaxPool2d(2)\n        self.conv2 = nn.Conv2d(6, 16, 5)\n        self.fc = nn.Sequential(nn.Flatten(), nn.Linear(16 * 5 * 5, 10))\n    def forward(self, x):\n        x = self.pool(F.relu(self.bn(self.conv1(x))))\n        return self.fc(F.avg_pool2d(F.relu(self.conv2(x)), 2))\nm = Net().double()\nwith torch.no_grad():\n    for k, p in enumerate(m.parameters()):\n        p.copy_(torch.arange(p.numel(), dtype=torch.float64).reshape(p.shape).mul(0.37 + k).sin().mul(0.2))\nx = torch.arange(3 * 28 * 28, dtype=torch.float64).reshape(3, 1, 28, 28).mul(0.011).sin()\nloss = F.cross_entropy(m(x), torch.tensor([1, 7, 3]))\nloss.backward()\nout = (loss, [(n, p.grad.reshape(-1)[:24], p.grad.sum(), p.grad.pow(2).sum()) for n, p in m.named_parameters()], list(m.state_dict()), m.bn.running_var, m.bn.running_mean)",
}

RES = "torch.manual_seed(0)\nclass Block(nn.Module):\n    def __init__(self, c):\n        super().__init__()\n        self.conv1 = nn.Conv2d(c, c, 3, padding=1, bias=False)\n        self.bn1 = nn.BatchNorm2d(c)\n        self.conv2 = nn.Conv2d(c, c, 3, padding=1, bias=False)\n        self.bn2 = nn.BatchNorm2d(c)\n        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c, 3))\n    def forward(self, x):\n        y = F.relu(self.bn1(self.conv1(x)))\n        return self.head(F.relu(self.bn2(self.conv2(y)) + x))\nm = Block(4).double()\nwith torch.no_grad():\n    for k, p in enumerate(m.parameters()):\n        p.copy_(torch.arange(p.numel(), dtype=torch.float64).reshape(p.shape).mul(0.61 + k).sin().mul(0.3))\n" + X4.replace("2 * 4 * 7 * 6", "2 * 4 * 7 * 6") + "t = torch.tensor([2, 0])\n"

CASES.update({
    # ---- more module and state semantics
    "ResNet-style block trained 3 SGD steps": RES + "opt = torch.optim.SGD(m.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-3)\nlosses = []\nfor _ in range(3):\n    opt.zero_grad()\n    loss = F.cross_entropy(m(x.detach()), t)\n    loss.backward()\n    opt.step()\n    losses.append(loss.item())\nm.eval()\nout = (losses, m(x.detach()), [(n, b) for n, b in m.named_buffers()], [n for n, _ in m.named_parameters()], list(m.state_dict()), [p.detach() for p in m.parameters()])",
    "eval freezes running stats and train() restores": RES + "m.eval()\na = m(x)\nrm = m.bn1.running_mean.clone()\nm.train()\nm(x)\nout = (a, rm, m.bn1.running_mean, m.bn1.training, m.head[0].training, m.bn2.num_batches_tracked)",
    "load_state_dict strict errors": RES + "sd = m.state_dict()\ndel sd['bn1.running_var']\nout = m.load_state_dict(sd)",
    "load_state_dict non-strict": RES + "sd = m.state_dict()\ndel sd['bn1.running_var']\nsd['extra'] = torch.ones(1)\nr = m.load_state_dict(sd, strict=False)\nout = (list(r.missing_keys), list(r.unexpected_keys))",
    "frozen conv has no grad": RES + "m.conv1.requires_grad_(False)\nF.cross_entropy(m(x), t).backward()\nout = (m.conv1.weight.grad is None, m.conv2.weight.grad is None, x.grad)",
    "BatchNorm eval before training": BN + "m = nn.BatchNorm2d(3, eps=1e-3).double()\nm.eval()\ny = m(x)" + G + "out = (y, x.grad, m.num_batches_tracked, type(y.grad_fn).__name__)",
    "BatchNorm momentum 0 and float32": "x = torch.arange(4 * 3 * 5, dtype=torch.float32).reshape(4, 3, 5).mul(0.53).sin().mul(2).add(0.5).requires_grad_()\nm = nn.BatchNorm1d(3, momentum=0.0)\ny = m(x)" + G + "out = (y, x.grad, m.running_mean, m.running_var, m.weight.grad)",
    "BatchNorm affine off no stats": BN + "m = nn.BatchNorm2d(3, affine=False, track_running_stats=False).double()\ny = m(x)" + G + "out = (y, x.grad, list(m.state_dict()), repr(m))",
    "BatchNorm1d eval on 3D": X3 + "m = nn.BatchNorm1d(4).double()\nm(x * 3)\nm.eval()\ny = m(x)" + G + "out = (y, x.grad, m.running_var)",
    "GroupNorm affine off": X4 + "m = nn.GroupNorm(4, 4, eps=1e-3, affine=False).double()\ny = m(x)" + G + "out = (y, x.grad, list(m.state_dict()), repr(m))",
    "Dropout2d train zeroes whole channels": "torch.manual_seed(1)\nx = torch.arange(8 * 16 * 3 * 3, dtype=torch.float64).reshape(8, 16, 3, 3).add(1)\ny = nn.Dropout2d(0.5)(x)\nkept = (y == x * 2).flatten(2).all(2)\ndropped = (y == 0).flatten(2).all(2)\nout = (bool((kept | dropped).all()), bool(kept.any()), bool(dropped.any()), y.dtype == x.dtype)",
    # ---- more conv / pool variants
    "conv_transpose1d function": X3 + "w = torch.arange(4 * 3 * 3, dtype=torch.float64).reshape(4, 3, 3).cos().requires_grad_()\ny = F.conv_transpose1d(x, w, torch.ones(6, dtype=torch.float64), stride=3, padding=2, output_padding=1, groups=2, dilation=2)" + G + "out = (y, x.grad, w.grad)",
    "ConvTranspose2d module groups dilation": "torch.manual_seed(0)\nm = nn.ConvTranspose2d(4, 6, (3, 2), stride=(2, 1), padding=(1, 0), output_padding=(1, 0), groups=2, dilation=(1, 2), bias=False).double()\nwith torch.no_grad():\n    m.weight.copy_(torch.arange(m.weight.numel(), dtype=torch.float64).reshape(m.weight.shape).sin())\n" + X4 + "y = m(x)" + G + "out = (y, x.grad, m.weight.grad, repr(m), [(n, tuple(p.shape)) for n, p in m.named_parameters()])",
    "max_pool2d unbatched and dilation module": "x = torch.arange(3 * 7 * 6, dtype=torch.float64).reshape(3, 7, 6).mul(0.37).sin().requires_grad_()\nm = nn.MaxPool2d((3, 2), stride=2, padding=1, dilation=(2, 1), ceil_mode=True)\ny = m(x)" + G + "out = (y, x.grad, repr(m))",
    "max_pool2d return_indices ceil padding": X4 + "y, i = F.max_pool2d(x, 3, 2, 1, ceil_mode=True, return_indices=True)" + G + "out = (y, i, x.grad)",
    "adaptive_max_pool2d larger output": X4 + "y = F.adaptive_max_pool2d(x, (9, 7))" + G + "out = (y, x.grad)",
    "avg_pool2d tuple kernel no stride": X4 + "y = nn.AvgPool2d((3, 2))(x)" + G + "out = (y, x.grad)",
    "pad negative constant and replicate 3D": X3 + "y = torch.cat([F.pad(x, (-2, 1), value=0.5).reshape(-1), F.pad(x, (3, 0), mode='replicate').reshape(-1), F.pad(x, (8, 8), mode='reflect').reshape(-1)])" + G + "out = (y, x.grad)",
    "Upsample scale tuple and UpsamplingBilinear2d": X4 + "y = torch.cat([nn.Upsample(scale_factor=(2, 1.5))(x).reshape(-1), nn.UpsamplingBilinear2d(scale_factor=2)(x).reshape(-1)])" + G + "out = (y, x.grad)",
    # ---- more bad input
    "conv2d 3-D weight": X4 + "out = F.conv2d(x, torch.ones(2, 4, 3, dtype=torch.float64))",
    "conv2d bias wrong size": X4 + "out = F.conv2d(x, torch.ones(2, 4, 3, 3, dtype=torch.float64), torch.ones(3, dtype=torch.float64))",
    "max_pool2d zero kernel": X4 + "out = F.max_pool2d(x, 0)",
    "avg_pool2d padding too big": X4 + "out = F.avg_pool2d(x, 2, padding=2)",
    "adaptive pool negative size": X4 + "out = F.adaptive_avg_pool2d(x, (-1, 2))",
    "batch_norm running stats wrong size": BN + "out = F.batch_norm(x, torch.zeros(4, dtype=torch.float64), torch.ones(4, dtype=torch.float64))",
    "pixel_shuffle channels not divisible": X4 + "out = F.pixel_shuffle(x, 3)",
    "interpolate zero size": X4 + "out = F.interpolate(x, size=(0, 3))",
    "GroupNorm groups do not divide": "out = nn.GroupNorm(3, 4)",
    "group_norm channels mismatch": X4 + "out = F.group_norm(x, 3)",
})

TIES = "x = torch.tensor([[[[1.0, 3.0, 3.0, 0.0, 2.0], [3.0, 1.0, 2.0, 2.0, 2.0], [0.0, 0.0, 1.0, 2.0, 2.0], [5.0, 5.0, 5.0, 5.0, 1.0]]]], dtype=torch.float64, requires_grad=True)\n"

CASES.update({
    # a tie inside a window: the gradient goes to the index torch returns (the first maximum)
    "max_pool2d ties go to the first maximum": TIES + "y, i = F.max_pool2d(x, 2, 1, return_indices=True)" + G + "out = (y, i, x.grad)",
    "max_pool2d ties with padding and ceil": TIES + "y, i = F.max_pool2d(x, 3, 2, 1, ceil_mode=True, return_indices=True)" + G + "out = (y, i, x.grad)",
    "adaptive_max_pool2d ties": TIES + "y, i = F.adaptive_max_pool2d(x, (2, 3), return_indices=True)" + G + "out = (y, i, x.grad)",
    "default init of the CNN modules": "torch.manual_seed(0)\nms = [nn.ConvTranspose2d(6, 8, 3, groups=2), nn.Conv1d(5, 4, 7), nn.ConvTranspose1d(3, 4, 2)]\nfans = [4 * 9, 5 * 7, 4 * 2]\nout = [(bool(m.weight.abs().max() <= 1 / f ** 0.5), bool(m.weight.abs().max() > 0.8 / f ** 0.5), bool(m.bias.abs().max() <= 1 / f ** 0.5), tuple(m.weight.shape)) for m, f in zip(ms, fans)] + [(nn.BatchNorm2d(3).weight, nn.BatchNorm2d(3).bias, nn.GroupNorm(1, 3).weight, nn.GroupNorm(1, 3).bias)]",
})

CASES.update({
    "interpolate antialias": X4 + "y = torch.cat([F.interpolate(x, size=(3, 4), mode='bilinear', antialias=True).reshape(-1), F.interpolate(x, scale_factor=(0.45, 1.7), mode='bicubic', antialias=True).reshape(-1), F.interpolate(x, size=(4, 4), mode='bilinear', align_corners=True, antialias=True).reshape(-1)])" + G + "out = (y, x.grad)",
    "interpolate antialias nearest": X4 + "out = F.interpolate(x, size=(3, 4), mode='nearest', antialias=True)",
    "upsample_nearest and upsample_bilinear": X4 + "y = torch.cat([F.upsample_nearest(x, scale_factor=2).reshape(-1), F.upsample_bilinear(x, size=(9, 4)).reshape(-1), F.upsample(x, size=(3, 3), mode='bilinear').reshape(-1)])" + G + "out = (y, x.grad)",
    "conv one-entry tuples": X4 + "w = torch.arange(2 * 4 * 3 * 3, dtype=torch.float64).reshape(2, 4, 3, 3).cos().requires_grad_()\ny = torch.cat([F.conv2d(x, w, stride=(2,), padding=(1,), dilation=[2]).reshape(-1), F.conv_transpose2d(x, w.transpose(0, 1), stride=(2,), padding=[1]).reshape(-1)])" + G + "out = (y, x.grad, w.grad)",
    "pool one-entry tuple": X4 + "out = F.max_pool2d(x, (2,))",
    "BatchNorm reset_running_stats and reset_parameters": BN + "m = nn.BatchNorm2d(3).double()\nwith torch.no_grad():\n    m.weight.fill_(2.0)\nm(x)\nm.reset_running_stats()\na = (m.running_mean.clone(), m.running_var.clone(), m.num_batches_tracked.clone(), m.weight.detach().clone())\nm(x)\nm.reset_parameters()\nout = (a, m.running_mean, m.running_var, m.num_batches_tracked, m.weight, m.bias)",
})
CASES["pool one-entry tuples"] = X4 + "y = torch.cat([F.max_pool2d(x, (2,), stride=[1], padding=(1,), dilation=(2,)).reshape(-1), F.avg_pool2d(x, [3], (2,), [1]).reshape(-1), F.max_pool2d(x, 2, stride=[]).reshape(-1)])" + G + "out = (y, x.grad)"
