# ruff: noqa: E501  (each case is a one-line or few-line torch program, kept whole)
"""The CNN parity sweep (issue 12's surface as a PyTorch user writes it): conv1d/conv2d and the
transposed convolutions (strides, paddings incl. 'same'/'valid' and padding_mode, dilation, groups,
depthwise, no bias, unbatched inputs), max/avg/adaptive pooling (ceil_mode, count_include_pad,
divisor_override, return_indices, ties), batch norm (train/eval, running statistics, momentum=None,
affine=False, track_running_stats=False, state_dict), group/instance norm, pad, interpolate,
pixel_shuffle, Dropout2d, the modules' initialization, attributes and names, torch's top-level
functions (torch.conv2d, ...), and small CNNs trained 3 optimizer steps. Each case is a program run
under real torch 2.13 (recorded into cnn_sweep.json by make_golden_cnn_sweep.py) and under
``import crossgrad as torch``; ``out`` is compared as in the other sweeps. FIXED names the cases
crossgrad got wrong before this sweep (each fails without its fix)."""

G = "\n(y * torch.arange(y.numel(), dtype=y.dtype).reshape(y.shape).mul(0.37).cos()).sum().backward()\n"


def _conv() -> dict[str, str]:
    def conv(xs, ws, call, dt="torch.float64", bias=None, extra=""):
        s = f"x = torch.randn({xs}, dtype={dt}).requires_grad_()\nw = torch.randn({ws}, dtype={dt}).requires_grad_()\n"
        if bias:
            s += f"b = torch.randn({bias}, dtype={dt}).requires_grad_()\n"
        s += f"y = {call}" + G + "out = (y, x.grad, w.grad" + (", b.grad" if bias else "") + extra + ")"
        return s
    CASES = {}
    for dt in ("torch.float64", "torch.float32"):
        d = dt[-2:]
        CASES.update({
        f"c2 basic {d}": conv("2,3,7,6", "4,3,3,3", "F.conv2d(x, w, b)", dt, "4"),
        f"c2 stride tuple {d}": conv("2,3,9,8", "4,3,3,2", "F.conv2d(x, w, b, stride=(2,3))", dt, "4"),
        f"c2 pad tuple {d}": conv("1,2,5,7", "3,2,2,3", "F.conv2d(x, w, padding=(1,2))", dt),
        f"c2 same even {d}": conv("2,2,6,5", "3,2,4,2", "F.conv2d(x, w, padding='same')", dt),
        f"c2 same dil {d}": conv("2,2,9,8", "3,2,3,2", "F.conv2d(x, w, padding='same', dilation=(2,3))", dt),
        f"c2 valid {d}": conv("2,2,6,5", "3,2,3,3", "F.conv2d(x, w, None, 1, 'valid')", dt),
        f"c2 dil stride {d}": conv("1,2,11,10", "2,2,3,3", "F.conv2d(x, w, stride=2, padding=1, dilation=2)", dt),
        f"c2 groups {d}": conv("2,4,6,6", "6,2,3,3", "F.conv2d(x, w, b, groups=2)", dt, "6"),
        f"c2 depthwise {d}": conv("2,3,6,5", "6,1,3,3", "F.conv2d(x, w, b, padding=1, groups=3)", dt, "6"),
        f"c2 1x1 {d}": conv("3,4,5,5", "2,4,1,1", "F.conv2d(x, w)", dt),
        f"c2 unbatched {d}": conv("3,6,5", "2,3,3,3", "F.conv2d(x, w, padding=1)", dt, extra=", type(y.grad_fn).__name__"),
        f"c1 basic {d}": conv("2,3,9", "4,3,3", "F.conv1d(x, w, b, stride=2, padding=1)", dt, "4"),
        f"c1 same {d}": conv("2,3,9", "4,3,4", "F.conv1d(x, w, padding='same', dilation=2)", dt),
        f"c1 groups {d}": conv("2,4,9", "4,1,3", "F.conv1d(x, w, groups=4, dilation=3)", dt),
        f"c1 unbatched {d}": conv("3,8", "2,3,3", "F.conv1d(x, w, padding=(1,))", dt),
        f"ct2 basic {d}": conv("2,3,4,5", "3,2,3,3", "F.conv_transpose2d(x, w, b, stride=2, padding=1, output_padding=1)", dt, "2"),
        f"ct2 tuple {d}": conv("1,2,3,4", "2,3,2,3", "F.conv_transpose2d(x, w, stride=(2,3), padding=(0,1), output_padding=(1,2))", dt),
        f"ct2 groups dil {d}": conv("2,4,3,3", "4,2,3,2", "F.conv_transpose2d(x, w, None, 2, 1, 0, 2, (2,1))", dt),
        f"ct2 unbatched {d}": conv("3,4,4", "3,2,3,3", "F.conv_transpose2d(x, w, stride=2)", dt),
        f"ct1 {d}": conv("2,3,5", "3,4,3", "F.conv_transpose1d(x, w, stride=3, padding=1, output_padding=2)", dt),
        })
    CASES.update({
     "c2 grad_fn": conv("1,1,4,4", "1,1,2,2", "F.conv2d(x, w)", extra=", type(y.grad_fn).__name__"),
     "ct2 grad_fn": conv("1,1,4,4", "1,1,2,2", "F.conv_transpose2d(x, w)", extra=", type(y.grad_fn).__name__"),
     "c2 same stride err": conv("1,1,4,4", "1,1,2,2", "F.conv2d(x, w, stride=2, padding='same')"),
     "c2 bad str": conv("1,1,4,4", "1,1,2,2", "F.conv2d(x, w, padding='full')"),
     "c2 groups err": conv("1,3,4,4", "2,1,2,2", "F.conv2d(x, w, groups=2)"),
     "c2 chan err": conv("1,3,4,4", "2,2,2,2", "F.conv2d(x, w)"),
     "c2 kernel too big": conv("1,1,3,3", "1,1,4,4", "F.conv2d(x, w)"),
     "c2 kernel too big pad ok": conv("1,1,3,3", "1,1,4,4", "F.conv2d(x, w, padding=1)"),
     "c2 2d input": conv("4,4", "1,1,2,2", "F.conv2d(x, w)"),
     "c2 5d input": conv("1,1,1,4,4", "1,1,2,2", "F.conv2d(x, w)"),
     "c2 w 3d": conv("1,1,4,4", "1,2,2", "F.conv2d(x, w)"),
     "c2 bias wrong": conv("1,1,4,4", "2,1,2,2", "F.conv2d(x, w, torch.ones(3, dtype=torch.float64))"),
     "c2 neg pad": conv("1,1,4,4", "1,1,2,2", "F.conv2d(x, w, padding=-1)"),
     "c2 zero stride": conv("1,1,4,4", "1,1,2,2", "F.conv2d(x, w, stride=0)"),
     "c2 stride 3-tuple": conv("1,1,4,4", "1,1,2,2", "F.conv2d(x, w, stride=(1,1,1))"),
     "c2 stride list": conv("1,1,6,6", "1,1,2,2", "F.conv2d(x, w, stride=[2,1], padding=[1,0], dilation=[1,2])"),
     "c2 int dtype": "x = torch.ones(1,1,3,3, dtype=torch.int64)\nw = torch.ones(1,1,2,2, dtype=torch.int64)\nout = F.conv2d(x, w)",
     "c2 mixed dtype": conv("1,1,4,4", "1,1,2,2", "F.conv2d(x.float(), w)"),
     "ct2 outpad too big": conv("1,1,3,3", "1,1,3,3", "F.conv_transpose2d(x, w, stride=2, output_padding=2)"),
     "ct2 outpad dil ok": conv("1,1,3,3", "1,1,3,3", "F.conv_transpose2d(x, w, stride=1, output_padding=1, dilation=2)"),
     "ct2 same err": conv("1,1,3,3", "1,1,3,3", "F.conv_transpose2d(x, w, padding='same')"),
     "c2 fwd only no grad": "x = torch.randn(2,3,5,5)\nw = torch.randn(2,3,3,3)\ny = F.conv2d(x, w)\nout = (y, y.requires_grad)",
     "c2 w only grad": "x = torch.randn(2,3,5,5, dtype=torch.float64)\nw = torch.randn(2,3,3,3, dtype=torch.float64, requires_grad=True)\ny = F.conv2d(x, w, stride=2)" + G + "out = (y, w.grad, x.grad)",
     "c2 x only grad": "x = torch.randn(2,3,5,5, dtype=torch.float64, requires_grad=True)\nw = torch.randn(2,3,3,3, dtype=torch.float64)\ny = F.conv2d(x, w, padding=2, dilation=2)" + G + "out = (y, x.grad)",
     "c2 noncontig": "x = torch.randn(2,5,6,3, dtype=torch.float64).permute(0,3,1,2).requires_grad_()\nw = torch.randn(4,3,2,2, dtype=torch.float64, requires_grad=True)\ny = F.conv2d(x, w)" + G + "out = (y, w.grad)",
    })
    return CASES


def _pool() -> dict[str, str]:
    def p(xs, call, dt="torch.float64", extra="", ties=False):
        if ties:
            s = f"x = torch.randint(0, 3, ({xs}), generator=None).to({dt}).requires_grad_()\n"
        else:
            s = f"x = torch.randn({xs}, dtype={dt}).requires_grad_()\n"
        return s + f"y = {call}" + G + f"out = (y, x.grad, type(y.grad_fn).__name__{extra})"
    CASES = {}
    for dt in ("torch.float64", "torch.float32"):
        d = dt[-2:]
        CASES.update({
        f"mp basic {d}": p("2,3,6,6", "F.max_pool2d(x, 2)", dt),
        f"mp odd {d}": p("2,3,7,5", "F.max_pool2d(x, 2)", dt),
        f"mp ceil {d}": p("2,3,7,5", "F.max_pool2d(x, 2, ceil_mode=True)", dt),
        f"mp ceil pad {d}": p("1,2,8,7", "F.max_pool2d(x, 3, 2, 1, ceil_mode=True)", dt),
        f"mp ceil edge {d}": p("1,1,5,5", "F.max_pool2d(x, 2, 2, 0, 1, True)", dt),
        f"mp nonsq {d}": p("2,2,9,8", "F.max_pool2d(x, (3,2), stride=(2,1), padding=(1,0))", dt),
        f"mp dil {d}": p("1,2,9,9", "F.max_pool2d(x, 3, stride=2, padding=1, dilation=2)", dt),
        f"mp dil ceil {d}": p("1,2,10,9", "F.max_pool2d(x, 2, stride=3, dilation=(2,3), ceil_mode=True)", dt),
        f"mp unbatched {d}": p("3,6,5", "F.max_pool2d(x, 2)", dt),
        f"mp idx {d}": p("2,2,7,6", "F.max_pool2d(x, 3, 2, 1, return_indices=True)[0]", dt, ", F.max_pool2d(x, 3, 2, 1, return_indices=True)[1]"),
        f"mp ties {d}": p("2,2,6,6", "F.max_pool2d(x, 3, 1, 1)", dt, ", F.max_pool2d(x, 3, 1, 1, return_indices=True)[1]", ties=True),
        f"mp ties dil {d}": p("1,2,7,7", "F.max_pool2d(x, 2, 2, 1, 2, True)", dt, ", F.max_pool2d(x, 2, 2, 1, 2, True, True)[1]", ties=True),
        f"ap basic {d}": p("2,3,7,6", "F.avg_pool2d(x, 2)", dt),
        f"ap pad cip {d}": p("2,3,7,6", "F.avg_pool2d(x, 3, 2, 1)", dt),
        f"ap pad nocip {d}": p("2,3,7,6", "F.avg_pool2d(x, 3, 2, 1, count_include_pad=False)", dt),
        f"ap ceil {d}": p("1,2,7,8", "F.avg_pool2d(x, 3, 2, ceil_mode=True)", dt),
        f"ap ceil pad {d}": p("1,2,7,8", "F.avg_pool2d(x, 3, 2, 1, ceil_mode=True)", dt),
        f"ap ceil pad nocip {d}": p("1,2,7,8", "F.avg_pool2d(x, 3, 2, 1, True, False)", dt),
        f"ap divisor {d}": p("1,2,7,8", "F.avg_pool2d(x, (3,2), (2,2), (1,1), True, True, 5)", dt),
        f"ap unbatched {d}": p("2,5,5", "F.avg_pool2d(x, 2, 1)", dt),
        f"aap nondiv {d}": p("2,3,7,5", "F.adaptive_avg_pool2d(x, (3,4))", dt),
        f"aap 1 {d}": p("2,3,7,5", "F.adaptive_avg_pool2d(x, 1)", dt),
        f"aap 1tuple {d}": p("2,3,7,5", "F.adaptive_avg_pool2d(x, (1,1))", dt),
        f"aap none {d}": p("2,3,7,5", "F.adaptive_avg_pool2d(x, (None,2))", dt),
        f"aap larger {d}": p("1,2,3,4", "F.adaptive_avg_pool2d(x, (5,6))", dt),
        f"aap unbatched {d}": p("3,7,5", "F.adaptive_avg_pool2d(x, 3)", dt),
        f"amp nondiv {d}": p("2,3,7,5", "F.adaptive_max_pool2d(x, (3,4))", dt),
        f"amp idx {d}": p("2,3,7,5", "F.adaptive_max_pool2d(x, 3)", dt, ", F.adaptive_max_pool2d(x, 3, return_indices=True)[1]"),
        f"amp 1 {d}": p("2,3,7,5", "F.adaptive_max_pool2d(x, 1)", dt),
        f"amp ties {d}": p("2,2,7,5", "F.adaptive_max_pool2d(x, (2,3))", dt, ", F.adaptive_max_pool2d(x, (2,3), True)[1]", ties=True),
        f"amp unbatched {d}": p("3,7,5", "F.adaptive_max_pool2d(x, (2,2))", dt),
        })
    CASES.update({
     "mp kw": p("1,1,6,6", "F.max_pool2d(input=x, kernel_size=2, stride=None, padding=0)"),
     "mp stride list": p("1,1,6,6", "F.max_pool2d(x, [2,3], [1,2])"),
     "mp pad too big": p("1,1,6,6", "F.max_pool2d(x, 2, padding=2)"),
     "mp out zero": p("1,1,2,2", "F.max_pool2d(x, 3)"),
     "ap pad too big": p("1,1,6,6", "F.avg_pool2d(x, 2, padding=2)"),
     "ap divisor 0": p("1,1,6,6", "F.avg_pool2d(x, 2, divisor_override=0)"),
     "mp 2d input": p("6,6", "F.max_pool2d(x, 2)"),
     "mp module": "m = nn.MaxPool2d(3, stride=2, padding=1, ceil_mode=True)\n" + p("2,2,8,7", "m(x)"),
     "mp module idx": "m = nn.MaxPool2d(2, return_indices=True)\n" + p("2,2,8,7", "m(x)[0]", extra=", m(x)[1]"),
     "ap module": "m = nn.AvgPool2d((3,2), stride=(1,2), padding=(1,1), ceil_mode=True, count_include_pad=False)\n" + p("2,2,8,7", "m(x)"),
     "aap module": "m = nn.AdaptiveAvgPool2d((None, 3))\n" + p("2,2,8,7", "m(x)"),
     "amp module": "m = nn.AdaptiveMaxPool2d((3, None))\n" + p("2,2,8,7", "m(x)"),
     "amp module idx": "m = nn.AdaptiveMaxPool2d(3, return_indices=True)\n" + p("2,2,8,7", "m(x)[0]", extra=", m(x)[1]"),
     "mp repr": "out = (repr(nn.MaxPool2d(2)), repr(nn.AvgPool2d(3, 2)), repr(nn.AdaptiveAvgPool2d((1, 1))), repr(nn.MaxPool2d(3, 2, 1, ceil_mode=True)))",
     "mp int input": "x = torch.arange(16).reshape(1,1,4,4)\nout = F.max_pool2d(x, 2)",
     "ap int input": "x = torch.arange(16).reshape(1,1,4,4)\nout = F.avg_pool2d(x, 2)",
     "mp neg inf": "x = torch.full((1,1,4,4), float('-inf'), dtype=torch.float64, requires_grad=True)\ny = F.max_pool2d(x, 2)\ny.sum().backward()\nout = (y, x.grad)",
     "mp nan": "x = torch.tensor([[[[1.0, float('nan')], [3.0, 2.0]]]], dtype=torch.float64, requires_grad=True)\ny = F.max_pool2d(x, 2)\ny.sum().backward()\nout = (y, x.grad, F.max_pool2d(x, 2, return_indices=True)[1])",
    })
    return CASES


def _norm() -> dict[str, str]:
    def steps(mod, xs, n=3, dt="torch.float64", train=True, extra=""):
        s = f"m = {mod}\nm = m.to({dt})\n" + ("" if train else "m.eval()\n")
        s += f"xs = [torch.randn({xs}, dtype={dt}).mul(k + 1).add(k).requires_grad_() for k in range({n})]\n"
        s += "ys = [m(x) for x in xs]\ny = ys[-1]" + G
        s += "out = (ys, [x.grad for x in xs], type(y.grad_fn).__name__, dict(m.state_dict()), [p.grad for p in m.parameters()], [n for n, _ in m.named_parameters()], [n for n, _ in m.named_buffers()]" + extra + ")"
        return s
    CASES = {}
    for dt in ("torch.float64", "torch.float32"):
        d = dt[-2:]
        CASES.update({
        f"bn2d {d}": steps("nn.BatchNorm2d(3)", "4,3,5,4", dt=dt),
        f"bn2d mom none {d}": steps("nn.BatchNorm2d(3, momentum=None)", "4,3,5,4", dt=dt),
        f"bn2d mom .3 eps {d}": steps("nn.BatchNorm2d(3, eps=1e-3, momentum=0.3)", "2,3,3,3", dt=dt),
        f"bn2d noaffine {d}": steps("nn.BatchNorm2d(3, affine=False)", "4,3,5,4", dt=dt),
        f"bn2d notrack {d}": steps("nn.BatchNorm2d(3, track_running_stats=False)", "4,3,5,4", dt=dt),
        f"bn2d notrack eval {d}": steps("nn.BatchNorm2d(3, track_running_stats=False)", "4,3,5,4", dt=dt, train=False),
        f"bn2d eval {d}": steps("nn.BatchNorm2d(3)", "4,3,5,4", dt=dt, train=False),
        f"bn1d 2d {d}": steps("nn.BatchNorm1d(5)", "6,5", dt=dt),
        f"bn1d 3d {d}": steps("nn.BatchNorm1d(3)", "4,3,7", dt=dt),
        f"bn1d eval {d}": steps("nn.BatchNorm1d(5)", "6,5", dt=dt, train=False),
        f"bn1d mom none {d}": steps("nn.BatchNorm1d(5, momentum=None, affine=False)", "3,5", dt=dt, n=4),
        f"bn2d batch1 {d}": steps("nn.BatchNorm2d(2)", "1,2,3,3", dt=dt),
        })
    CASES.update({
     "bn2d train then eval": "m = nn.BatchNorm2d(3).double()\nfor k in range(3):\n    m(torch.randn(4,3,2,2, dtype=torch.float64) * (k + 2) + k)\nm.eval()\nx = torch.randn(2,3,2,2, dtype=torch.float64, requires_grad=True)\ny = m(x)" + G + "out = (y, x.grad, m.weight.grad, m.bias.grad, m.running_mean, m.running_var, m.num_batches_tracked)",
     "bn2d eval no grad count": "m = nn.BatchNorm2d(3)\nm.eval()\nm(torch.randn(4,3,2,2))\nout = (m.num_batches_tracked, m.running_mean)",
     "bn1d batch1 err": "m = nn.BatchNorm1d(3)\nout = m(torch.randn(1, 3))",
     "bn1d batch1 eval ok": "m = nn.BatchNorm1d(3).eval()\nout = m(torch.randn(1, 3))",
     "bn2d wrong rank": "m = nn.BatchNorm2d(3)\nout = m(torch.randn(3, 4, 4))",
     "bn1d wrong rank": "m = nn.BatchNorm1d(3)\nout = m(torch.randn(2, 3, 4, 4))",
     "bn2d wrong chan": "m = nn.BatchNorm2d(3)\nout = m(torch.randn(2, 4, 4, 4))",
     "bn state_dict keys": "m = nn.BatchNorm2d(3)\nsd = m.state_dict()\nout = (list(sd), sd['num_batches_tracked'], [str(v.dtype) for v in sd.values()])",
     "bn notrack sd": "m = nn.BatchNorm2d(3, track_running_stats=False)\nout = (list(m.state_dict()), m.running_mean is None, m.num_batches_tracked is None)",
     "bn noaffine sd": "m = nn.BatchNorm2d(3, affine=False)\nout = (list(m.state_dict()), m.weight is None, len(list(m.parameters())))",
     "bn load sd": "m = nn.BatchNorm2d(2)\nm(torch.randn(3,2,2,2))\nm2 = nn.BatchNorm2d(2)\nm2.load_state_dict(m.state_dict())\nout = (m2.running_mean, m2.running_var, m2.num_batches_tracked)",
     "bn repr": "out = (repr(nn.BatchNorm2d(3)), repr(nn.BatchNorm1d(4, affine=False, momentum=None)), repr(nn.BatchNorm2d(2, track_running_stats=False)))",
     "bn reset": "m = nn.BatchNorm2d(2)\nm(torch.randn(3,2,2,2))\nm.reset_running_stats()\nout = (m.running_mean, m.running_var, m.num_batches_tracked)",
     "Fbn train": "x = torch.randn(4,3,2,5, dtype=torch.float64, requires_grad=True)\nrm = torch.zeros(3, dtype=torch.float64)\nrv = torch.ones(3, dtype=torch.float64)\nw = torch.randn(3, dtype=torch.float64, requires_grad=True)\nb = torch.randn(3, dtype=torch.float64, requires_grad=True)\ny = F.batch_norm(x, rm, rv, w, b, training=True, momentum=0.2, eps=1e-4)" + G + "out = (y, x.grad, w.grad, b.grad, rm, rv, type(y.grad_fn).__name__)",
     "Fbn train none stats": "x = torch.randn(4,3,2,5, dtype=torch.float64, requires_grad=True)\ny = F.batch_norm(x, None, None, training=True)" + G + "out = (y, x.grad)",
     "Fbn eval": "x = torch.randn(4,3,5, dtype=torch.float64, requires_grad=True)\nrm = torch.randn(3, dtype=torch.float64)\nrv = torch.rand(3, dtype=torch.float64) + 0.5\ny = F.batch_norm(x, rm, rv)" + G + "out = (y, x.grad, type(y.grad_fn).__name__)",
     "Fbn eval none err": "x = torch.randn(4,3,5)\nout = F.batch_norm(x, None, None)",
     "Fbn eval grads wb": "x = torch.randn(4,3,5, dtype=torch.float64, requires_grad=True)\nrm = torch.randn(3, dtype=torch.float64)\nrv = torch.rand(3, dtype=torch.float64) + 0.5\nw = torch.randn(3, dtype=torch.float64, requires_grad=True)\nb = torch.randn(3, dtype=torch.float64, requires_grad=True)\ny = F.batch_norm(x, rm, rv, w, b, False, 0.1, 1e-3)" + G + "out = (y, x.grad, w.grad, b.grad)",
     "Fbn kw": "x = torch.randn(4,3, dtype=torch.float64, requires_grad=True)\nrm = torch.zeros(3, dtype=torch.float64)\nrv = torch.ones(3, dtype=torch.float64)\ny = F.batch_norm(x, rm, rv, bias=torch.ones(3, dtype=torch.float64), training=True, eps=0.1)" + G + "out = (y, x.grad, rm, rv)",
     "Fbn const channel": "x = torch.ones(4,2,3, dtype=torch.float64, requires_grad=True)\ny = F.batch_norm(x, None, None, training=True)" + G + "out = (y, x.grad)",
     "gn": "x = torch.randn(3,6,4,5, dtype=torch.float64, requires_grad=True)\nm = nn.GroupNorm(3, 6).double()\ny = m(x)" + G + "out = (y, x.grad, m.weight.grad, m.bias.grad, type(y.grad_fn).__name__, list(m.state_dict()))",
     "gn noaffine f32": "x = torch.randn(3,6,4)\nx.requires_grad_()\nm = nn.GroupNorm(2, 6, affine=False, eps=1e-3)\ny = m(x)" + G + "out = (y, x.grad, list(m.state_dict()))",
     "gn 2d input": "x = torch.randn(5,6, dtype=torch.float64, requires_grad=True)\ny = F.group_norm(x, 3)" + G + "out = (y, x.grad)",
     "gn 1 group": "x = torch.randn(2,4,3,3, dtype=torch.float64, requires_grad=True)\nw = torch.randn(4, dtype=torch.float64, requires_grad=True)\ny = F.group_norm(x, 1, w)" + G + "out = (y, x.grad, w.grad)",
     "gn bad groups": "out = nn.GroupNorm(4, 6)",
     "gn F bad groups": "out = F.group_norm(torch.randn(2,6,3), 4)",
     "in2d": "x = torch.randn(3,4,5,5, dtype=torch.float64, requires_grad=True)\nm = nn.InstanceNorm2d(4).double()\ny = m(x)" + G + "out = (y, x.grad, list(m.state_dict()), type(y.grad_fn).__name__)",
     "in2d affine track": "x = torch.randn(3,4,5,5, dtype=torch.float64, requires_grad=True)\nm = nn.InstanceNorm2d(4, affine=True, track_running_stats=True).double()\ny = m(x)" + G + "m(x * 2 + 1)\nout = (y, x.grad, m.weight.grad, dict(m.state_dict()))",
     "in2d track eval": "m = nn.InstanceNorm2d(4, track_running_stats=True).double()\nm(torch.randn(3,4,5,5, dtype=torch.float64) * 3)\nm.eval()\nx = torch.randn(3,4,5,5, dtype=torch.float64, requires_grad=True)\ny = m(x)" + G + "out = (y, x.grad)",
     "F in": "x = torch.randn(3,4,5, dtype=torch.float64, requires_grad=True)\nrm = torch.zeros(4, dtype=torch.float64)\nrv = torch.ones(4, dtype=torch.float64)\ny = F.instance_norm(x, rm, rv, momentum=0.3)" + G + "out = (y, x.grad, rm, rv)",
     "in2d unbatched": "x = torch.randn(4,5,5, dtype=torch.float64, requires_grad=True)\nm = nn.InstanceNorm2d(4)\ny = m(x)" + G + "out = (y, x.grad)",
    })
    return CASES


def _resample() -> dict[str, str]:
    def p(xs, call, dt="torch.float64", extra=""):
        return f"x = torch.randn({xs}, dtype={dt}).requires_grad_()\ny = {call}" + G + f"out = (y, x.grad, type(y.grad_fn).__name__{extra})"
    CASES = {}
    for dt in ("torch.float64", "torch.float32"):
        d = dt[-2:]
        CASES.update({
        f"pad const {d}": p("2,3,4,5", "F.pad(x, (1, 2, 0, 3), value=1.5)", dt),
        f"pad const 1 dim {d}": p("2,3,4,5", "F.pad(x, (2, 1))", dt),
        f"pad const 3 dims {d}": p("2,3,4,5", "F.pad(x, [1, 1, 2, 0, 1, 1])", dt),
        f"pad const neg {d}": p("2,3,4,5", "F.pad(x, (-1, 2, 1, -2))", dt),
        f"pad reflect {d}": p("2,3,4,5", "F.pad(x, (2, 1, 3, 1), mode='reflect')", dt),
        f"pad reflect 3d {d}": p("2,3,5", "F.pad(x, (2, 4), 'reflect')", dt),
        f"pad reflect unbatched 2d {d}": p("3,5", "F.pad(x, (2, 4), 'reflect')", dt),
        f"pad replicate {d}": p("2,3,4,5", "F.pad(x, (2, 1, 3, 5), mode='replicate')", dt),
        f"pad replicate 3d {d}": p("2,3,5", "F.pad(x, (3, 0), mode='replicate')", dt),
        f"pad replicate unbatched 3d {d}": p("3,4,5", "F.pad(x, (1, 1, 2, 2), mode='replicate')", dt),
        f"pad circular {d}": p("2,3,4,5", "F.pad(x, (1, 2, 2, 1), mode='circular')", dt),
        f"interp nearest scale {d}": p("2,3,4,5", "F.interpolate(x, scale_factor=2)", dt),
        f"interp nearest size {d}": p("2,3,4,5", "F.interpolate(x, size=(7, 3))", dt),
        f"interp nearest frac {d}": p("2,3,4,5", "F.interpolate(x, scale_factor=1.7)", dt),
        f"interp nearest frac recompute {d}": p("2,3,4,5", "F.interpolate(x, scale_factor=(1.7, 0.6), recompute_scale_factor=True)", dt),
        f"interp bilinear {d}": p("2,3,4,5", "F.interpolate(x, size=(7, 9), mode='bilinear')", dt),
        f"interp bilinear ac {d}": p("2,3,4,5", "F.interpolate(x, size=(7, 9), mode='bilinear', align_corners=True)", dt),
        f"interp bilinear down {d}": p("2,3,8,9", "F.interpolate(x, size=(3, 4), mode='bilinear', align_corners=False)", dt),
        f"interp bilinear scale {d}": p("2,3,4,5", "F.interpolate(x, scale_factor=1.5, mode='bilinear')", dt),
        f"interp bilinear scale ac {d}": p("2,3,4,5", "F.interpolate(x, scale_factor=(2, 3), mode='bilinear', align_corners=True)", dt),
        f"interp bilinear to1 ac {d}": p("2,3,4,5", "F.interpolate(x, size=1, mode='bilinear', align_corners=True)", dt),
        f"interp linear {d}": p("2,3,5", "F.interpolate(x, size=8, mode='linear')", dt),
        f"interp nearest 1d {d}": p("2,3,5", "F.interpolate(x, scale_factor=3)", dt),
        f"upsample mod {d}": "m = nn.Upsample(scale_factor=2, mode='bilinear', align_corners=False)\n" + p("1,2,3,4", "m(x)", dt),
        f"upsample mod nearest size {d}": "m = nn.Upsample(size=(5, 7))\n" + p("1,2,3,4", "m(x)", dt),
        f"upsample mod nearest tuple scale {d}": "m = nn.Upsample(scale_factor=(2.0, 1.0), mode='nearest')\n" + p("1,2,3,4", "m(x)", dt),
        f"pixel_shuffle {d}": p("2,8,3,2", "F.pixel_shuffle(x, 2)", dt),
        f"pixel_shuffle 3 {d}": p("1,9,2,3", "nn.PixelShuffle(3)(x)", dt),
        f"pixel_shuffle unbatched {d}": p("8,3,2", "F.pixel_shuffle(x, 2)", dt),
        })
    CASES.update({
     "pixel_shuffle bad": p("1,6,3,2", "F.pixel_shuffle(x, 2)"),
     "pad reflect too big": p("1,1,3,3", "F.pad(x, (3, 0), mode='reflect')"),
     "pad bad mode": p("1,1,3,3", "F.pad(x, (1, 1), mode='edge')"),
     "pad odd len": p("1,1,3,3", "F.pad(x, (1, 1, 1))"),
     "pad reflect value": p("1,1,3,3", "F.pad(x, (1, 1), mode='reflect', value=2.0)"),
     "pad const default kw": p("1,1,3,3", "F.pad(x, pad=(1, 1), mode='constant', value=None)"),
     "interp both": p("1,1,3,3", "F.interpolate(x, size=4, scale_factor=2)"),
     "interp neither": p("1,1,3,3", "F.interpolate(x)"),
     "interp ac nearest": p("1,1,3,3", "F.interpolate(x, size=4, align_corners=True)"),
     "interp bilinear 3d": p("1,3,3", "F.interpolate(x, size=4, mode='bilinear')"),
     "dropout2d eval": "x = torch.randn(2,3,4,4)\nm = nn.Dropout2d(0.3)\nm.eval()\nout = (m(x), torch.equal(m(x), x))",
     "dropout2d train": "x = torch.randn(4,6,3,3, dtype=torch.float64, requires_grad=True)\nm = nn.Dropout2d(0.4)\ny = m(x)" + G + "out = (y, x.grad, type(y.grad_fn).__name__)",
     "dropout2d F": "x = torch.randn(4,6,3,3, dtype=torch.float64, requires_grad=True)\ny = F.dropout2d(x, 0.5)" + G + "out = (y, x.grad)",
     "dropout2d F training false": "x = torch.randn(4,6,3,3)\nout = F.dropout2d(x, 0.5, training=False)",
     "dropout2d unbatched": "x = torch.randn(6,3,3)\ny = F.dropout2d(x, 0.5)\nout = y",
     "dropout2d 2d": "x = torch.randn(6,3)\ny = F.dropout2d(x, 0.5)\nout = y",
     "dropout2d p1": "x = torch.randn(2,3,2,2)\nout = F.dropout2d(x, 1.0)",
     "dropout2d bad p": "out = nn.Dropout2d(1.5)",
     "dropout2d repr": "out = repr(nn.Dropout2d(0.25))",
     "interp int size list": p("1,2,4,4", "F.interpolate(x, size=[6, 5], mode='nearest')"),
     "interp bicubic": p("1,2,4,4", "F.interpolate(x, size=[6, 5], mode='bicubic', align_corners=False)"),
     "upsample F nearest": p("1,2,4,4", "F.upsample(x, scale_factor=2)"),
     "upsample_bilinear F": p("1,2,4,4", "F.upsample_bilinear(x, scale_factor=2)"),
     "upsample_nearest F": p("1,2,4,4", "F.upsample_nearest(x, size=7)"),
     "upsample repr": "out = (repr(nn.Upsample(scale_factor=2, mode='bilinear')), repr(nn.Upsample(size=(3,4))), repr(nn.PixelShuffle(2)))",
     "upsample recompute": "m = nn.Upsample(scale_factor=1.5, mode='bilinear', recompute_scale_factor=True)\n" + p("1,2,3,4", "m(x)"),
    })
    return CASES


def _modules() -> dict[str, str]:
    def m(ctor, xs, dt="torch.float32", extra=""):
        return (f"m = {ctor}\nm = m.to({dt})\nx = torch.randn({xs}, dtype={dt}).requires_grad_()\ny = m(x)" + G +
                f"out = (y, x.grad, type(y.grad_fn).__name__, dict(m.named_parameters()), [p.grad for p in m.parameters()], list(m.state_dict()){extra})")
    CASES = {}
    for dt in ("torch.float64", "torch.float32"):
        d = dt[-2:]
        CASES.update({
        f"Conv2d {d}": m("nn.Conv2d(3, 4, 3)", "2,3,6,5", dt),
        f"Conv2d full {d}": m("nn.Conv2d(4, 6, (3, 2), stride=(2, 1), padding=(1, 2), dilation=(1, 2), groups=2, bias=False)", "2,4,7,8", dt),
        f"Conv2d same {d}": m("nn.Conv2d(2, 3, 4, padding='same', dilation=2)", "2,2,9,8", dt),
        f"Conv2d valid {d}": m("nn.Conv2d(2, 3, 3, padding='valid')", "2,2,5,6", dt),
        f"Conv2d reflect {d}": m("nn.Conv2d(2, 3, 3, padding=1, padding_mode='reflect')", "2,2,5,6", dt),
        f"Conv2d reflect tuple {d}": m("nn.Conv2d(2, 3, (3, 5), padding=(1, 2), padding_mode='reflect')", "2,2,5,6", dt),
        f"Conv2d replicate {d}": m("nn.Conv2d(2, 3, 3, stride=2, padding=2, padding_mode='replicate')", "2,2,5,6", dt),
        f"Conv2d circular {d}": m("nn.Conv2d(2, 3, 3, padding=(1, 2), padding_mode='circular')", "2,2,5,6", dt),
        f"Conv2d same reflect {d}": m("nn.Conv2d(2, 3, (4, 3), padding='same', padding_mode='reflect')", "2,2,5,6", dt),
        f"Conv2d same zeros even {d}": m("nn.Conv2d(2, 3, (4, 2), padding='same')", "2,2,5,6", dt),
        f"Conv2d depthwise {d}": m("nn.Conv2d(3, 6, 3, padding=1, groups=3)", "2,3,5,6", dt),
        f"Conv2d unbatched {d}": m("nn.Conv2d(3, 2, 3)", "3,5,6", dt),
        f"Conv1d {d}": m("nn.Conv1d(3, 4, 5, stride=2, padding=2)", "2,3,11", dt),
        f"Conv1d same {d}": m("nn.Conv1d(3, 4, 4, padding='same', padding_mode='replicate')", "2,3,11", dt),
        f"Conv1d unbatched {d}": m("nn.Conv1d(3, 4, 3, bias=False)", "3,11", dt),
        f"ConvT2d {d}": m("nn.ConvTranspose2d(3, 4, 3, stride=2, padding=1, output_padding=1)", "2,3,4,5", dt),
        f"ConvT2d groups nobias {d}": m("nn.ConvTranspose2d(4, 6, (2, 3), stride=(2, 1), groups=2, bias=False, dilation=(1, 2))", "2,4,3,3", dt),
        f"ConvT2d unbatched {d}": m("nn.ConvTranspose2d(3, 2, 3, stride=2)", "3,4,5", dt),
        f"ConvT1d {d}": m("nn.ConvTranspose1d(3, 2, 3, stride=2, output_padding=1)", "2,3,5", dt),
        })
    CASES.update({
     "Conv2d init": "m = nn.Conv2d(3, 8, 5)\nout = (m.weight, m.bias)",
     "Conv2d init groups": "m = nn.Conv2d(4, 8, (3, 2), groups=2)\nout = (m.weight, m.bias)",
     "Conv1d init": "m = nn.Conv1d(3, 8, 5)\nout = (m.weight, m.bias)",
     "ConvT2d init": "m = nn.ConvTranspose2d(4, 6, 3, groups=2)\nout = (m.weight, m.bias)",
     "ConvT2d init nobias": "m = nn.ConvTranspose2d(4, 6, 3, bias=False)\nout = (m.weight, m.bias)",
     "BN init": "m = nn.BatchNorm2d(4)\nout = dict(m.state_dict())",
     "Conv2d dtype kw": "m = nn.Conv2d(3, 2, 3, dtype=torch.float64)\nout = (m.weight.dtype, m.bias.dtype, m.weight)",
     "Conv2d attrs": "m = nn.Conv2d(3, 6, 3, 2, 1, groups=3)\nout = (m.in_channels, m.out_channels, m.kernel_size, m.stride, m.padding, m.dilation, m.groups, m.padding_mode, m.transposed, m.output_padding)",
     "Conv2d attrs same": "m = nn.Conv2d(3, 6, 3, padding='same')\nout = (m.padding, m.kernel_size)",
     "Conv1d attrs": "m = nn.Conv1d(3, 6, 3)\nout = (m.kernel_size, m.stride, m.padding, m.dilation)",
     "Conv2d repr": "out = (repr(nn.Conv2d(3, 6, 3)), repr(nn.Conv2d(3, 6, (3, 2), stride=2, padding=1, dilation=2, groups=3, bias=False, padding_mode='reflect')), repr(nn.Conv2d(1, 1, 3, padding='same')))",
     "ConvT repr": "out = (repr(nn.ConvTranspose2d(3, 6, 3, stride=2, output_padding=1)), repr(nn.Conv1d(2, 4, 3)))",
     "Conv2d groups err": "out = nn.Conv2d(3, 4, 3, groups=2)",
     "Conv2d same stride err": "out = nn.Conv2d(3, 4, 3, stride=2, padding='same')",
     "Conv2d bad padding str": "out = nn.Conv2d(3, 4, 3, padding='full')",
     "Conv2d bad mode": "out = nn.Conv2d(3, 4, 3, padding_mode='edge')",
     "ConvT bad mode": "out = nn.ConvTranspose2d(3, 4, 3, padding_mode='reflect')",
     "Conv2d wrong channels": "m = nn.Conv2d(3, 4, 3)\nout = m(torch.randn(1, 2, 5, 5))",
     "Conv2d input too small": "m = nn.Conv2d(3, 4, 3)\nout = m(torch.randn(1, 3, 2, 5))",
     "Conv2d 2d input": "m = nn.Conv2d(3, 4, 3)\nout = m(torch.randn(5, 5))",
     "Conv2d double input f32 layer": "m = nn.Conv2d(3, 4, 3)\nout = m(torch.randn(1, 3, 5, 5, dtype=torch.float64))",
     "ConvT output_size": "m = nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1)\nx = torch.randn(1, 2, 4, 4)\nout = (m(x, output_size=[8, 8]).shape, m(x, output_size=(1, 3, 7, 8)).shape)",
     "Conv2d reflect too big": "m = nn.Conv2d(1, 1, 3, padding=3, padding_mode='reflect')\nout = m(torch.randn(1, 1, 3, 3))",
     "Sequential names": "net = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(2, 3))\nout = (list(net.state_dict()), [n for n, _ in net.named_parameters()], [n for n, _ in net.named_buffers()])",
     "zero_grad conv": "m = nn.Conv2d(2, 2, 2)\nm(torch.randn(1, 2, 3, 3)).sum().backward()\nm.zero_grad()\nout = (m.weight.grad, m.bias.grad)",
     "Conv2d kwargs names": "m = nn.Conv2d(in_channels=2, out_channels=3, kernel_size=(2, 2), stride=1, padding=0, dilation=1, groups=1, bias=True, padding_mode='zeros', device=None, dtype=None)\nout = m.weight.shape",
     "ConvT2d kwargs": "m = nn.ConvTranspose2d(in_channels=2, out_channels=3, kernel_size=2, stride=1, padding=0, output_padding=0, groups=1, bias=True, dilation=1, padding_mode='zeros', device=None, dtype=None)\nout = m.weight.shape",
     "BN kwargs": "m = nn.BatchNorm2d(num_features=3, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True, device=None, dtype=None)\nout = m.weight.shape",
     "GN kwargs": "m = nn.GroupNorm(num_groups=1, num_channels=3, eps=1e-5, affine=True, device=None, dtype=None)\nout = m.weight.shape",
     "Pool kwargs": "out = (nn.MaxPool2d(kernel_size=2, stride=None, padding=0, dilation=1, return_indices=False, ceil_mode=False)(torch.ones(1,1,4,4)).shape, nn.AvgPool2d(kernel_size=2, stride=None, padding=0, ceil_mode=False, count_include_pad=True, divisor_override=None)(torch.ones(1,1,4,4)).shape)",
     "Upsample kwargs": "out = nn.Upsample(size=None, scale_factor=2, mode='nearest', align_corners=None, recompute_scale_factor=None)(torch.ones(1,1,2,2)).shape",
     "Conv2d weight reset": "m = nn.Conv2d(2, 2, 2)\nm.reset_parameters()\nout = (m.weight, m.bias)",
     "conv .double params": "m = nn.Conv2d(2, 2, 2).double()\nout = (m.weight.dtype, m(torch.ones(1, 2, 3, 3, dtype=torch.float64)))",
     "conv weight.data assign": "m = nn.Conv2d(1, 1, 2, bias=False)\nm.weight.data = torch.ones(1, 1, 2, 2)\nout = m(torch.arange(9.0).reshape(1, 1, 3, 3))",
     "conv no_grad": "m = nn.Conv2d(1, 1, 2)\nwith torch.no_grad():\n    y = m(torch.ones(1, 1, 3, 3))\nout = (y.requires_grad, y.grad_fn is None)",
     "BN on f64 input f32 layer": "m = nn.BatchNorm2d(2)\nout = m(torch.randn(2, 2, 2, 2, dtype=torch.float64))",
    })
    return CASES


def _more() -> dict[str, str]:
    def p(xs, call, dt="torch.float64", extra=""):
        return f"x = torch.randn({xs}, dtype={dt}).requires_grad_()\ny = {call}" + G + f"out = (y, x.grad, type(y.grad_fn).__name__{extra})"
    W = "w = torch.randn(4, 3, 3, 3, dtype=torch.float64, requires_grad=True)\n"
    CASES = {
     "torch.conv2d": W + p("2,3,6,6", "torch.conv2d(x, w, None, 1, 1)", extra=", w.grad"),
     "torch.conv2d same": W + p("2,3,6,6", "torch.conv2d(x, w, padding='same')", extra=", w.grad"),
     "torch.conv1d": "w = torch.randn(4, 3, 3, dtype=torch.float64, requires_grad=True)\n" + p("2,3,6", "torch.conv1d(x, w, stride=2)", extra=", w.grad"),
     "torch.conv_transpose2d": "w = torch.randn(3, 2, 3, 3, dtype=torch.float64, requires_grad=True)\n" + p("2,3,4,4", "torch.conv_transpose2d(x, w, stride=2)", extra=", w.grad"),
     "torch.max_pool2d": p("2,3,6,6", "torch.max_pool2d(x, 2)"),
     "torch.avg_pool1d": p("2,3,6", "torch.avg_pool1d(x, 2)"),
     "torch.adaptive_avg_pool1d": p("2,3,7", "torch.adaptive_avg_pool1d(x, 3)"),
     "torch.batch_norm": "rm = torch.zeros(3, dtype=torch.float64)\nrv = torch.ones(3, dtype=torch.float64)\n" + p("4,3,2,2", "torch.batch_norm(x, None, None, rm, rv, True, 0.1, 1e-5, False)", extra=", rm, rv"),
     "torch.group_norm": p("2,4,3,3", "torch.group_norm(x, 2)"),
     "torch.instance_norm": p("2,4,3,3", "torch.instance_norm(x, None, None, None, None, True, 0.1, 1e-5, False)"),
     "torch.pixel_shuffle": p("2,4,3,3", "torch.pixel_shuffle(x, 2)"),
     "torch.pixel_unshuffle": p("2,1,4,6", "torch.pixel_unshuffle(x, 2)"),
     "torch.constant_pad_nd": p("2,1,4,6", "torch.constant_pad_nd(x, (1, 2), 3.0)"),
     "max_pool1d": p("2,3,9", "F.max_pool1d(x, 3, 2, 1, ceil_mode=True)"),
     "max_pool1d idx": p("2,3,9", "F.max_pool1d(x, 3, 2, 1, return_indices=True)[0]", extra=", F.max_pool1d(x, 3, 2, 1, return_indices=True)[1]"),
     "avg_pool1d": p("2,3,9", "F.avg_pool1d(x, 3, 2, 1, ceil_mode=True, count_include_pad=False)"),
     "MaxPool1d unbatched": p("3,9", "nn.MaxPool1d(2)(x)"),
     "relu inplace after bn": "m = nn.Sequential(nn.Conv2d(2, 3, 3).double(), nn.BatchNorm2d(3).double(), nn.ReLU(inplace=True))\n" + p("2,2,5,5", "m(x)", extra=", [q.grad for q in m.parameters()]"),
     "F.relu inplace": "c = nn.Conv2d(2, 3, 3).double()\n" + p("2,2,5,5", "F.relu(c(x), inplace=True)", extra=", c.weight.grad"),
     "cat convs": "a = nn.Conv2d(2, 3, 1).double()\nb = nn.Conv2d(2, 3, 3, padding=1).double()\n" + p("2,2,5,5", "torch.cat([a(x), b(x), F.max_pool2d(x, 3, 1, 1)], 1)", extra=", a.weight.grad, b.weight.grad"),
     "bn no_grad train updates": "m = nn.BatchNorm2d(2)\nwith torch.no_grad():\n    y = m(torch.randn(3, 2, 2, 2))\nout = (y, m.running_mean, m.running_var, m.num_batches_tracked, y.requires_grad)",
     "bn momentum 0": "m = nn.BatchNorm2d(2, momentum=0.0)\nm(torch.randn(3, 2, 2, 2))\nout = (m.running_mean, m.running_var)",
     "bn momentum 1": "m = nn.BatchNorm2d(2, momentum=1.0)\nm(torch.randn(3, 2, 2, 2) * 3 + 1)\nout = (m.running_mean, m.running_var)",
     "bn train(False)": "m = nn.BatchNorm2d(2)\nm.train(False)\nx = torch.randn(3, 2, 2, 2) * 3 + 1\nout = (m(x), m.training, m.running_mean)",
     "bn eval then train": "m = nn.BatchNorm2d(2)\nm.eval()\nm(torch.randn(3, 2, 2, 2))\nm.train()\nm(torch.randn(3, 2, 2, 2) + 2)\nout = (m.running_mean, m.running_var, m.num_batches_tracked)",
     "bn frozen params": "m = nn.BatchNorm2d(2).double()\nm.requires_grad_(False)\n" + p("3,2,2,2", "m(x)", extra=", m.weight.grad, m.running_mean"),
     "bn running_var unbiased n=2": "m = nn.BatchNorm1d(3)\nm(torch.tensor([[1.0, 2.0, 3.0], [3.0, 2.0, 0.0]]))\nout = (m.running_mean, m.running_var)",
     "bn 1d 3d running": "m = nn.BatchNorm1d(3, momentum=0.5)\nm(torch.randn(2, 3, 4) * 2)\nm(torch.randn(2, 3, 4) + 1)\nout = (m.running_mean, m.running_var, m.num_batches_tracked)",
     "bn num_batches dtype": "m = nn.BatchNorm2d(2)\nm(torch.randn(2,2,2,2))\nout = (m.num_batches_tracked, m.num_batches_tracked.dtype)",
     "init kaiming_normal fan_out": "w = torch.empty(8, 3, 3, 3)\nnn.init.kaiming_normal_(w, mode='fan_out', nonlinearity='relu')\nout = w",
     "init xavier conv": "w = torch.empty(8, 3, 3, 3)\nnn.init.xavier_uniform_(w)\nout = w",
     "init xavier normal conv gain": "w = torch.empty(8, 3, 5)\nnn.init.xavier_normal_(w, gain=nn.init.calculate_gain('relu'))\nout = w",
     "init kaiming_uniform a": "import math\nw = torch.empty(8, 3, 3, 3)\nnn.init.kaiming_uniform_(w, a=math.sqrt(5))\nout = w",
     "init fans": "out = nn.init._calculate_fan_in_and_fan_out(torch.empty(8, 3, 3, 2))",
     "apply init": "net = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.Conv2d(4, 2, 1))\ndef f(m):\n    if isinstance(m, nn.Conv2d):\n        nn.init.kaiming_normal_(m.weight, mode='fan_out', nonlinearity='relu')\n        if m.bias is not None:\n            nn.init.zeros_(m.bias)\n    elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)):\n        nn.init.constant_(m.weight, 1)\n        nn.init.constant_(m.bias, 0)\nnet.apply(f)\nout = dict(net.state_dict())",
     "modules path": "out = (nn.modules.conv.Conv2d is nn.Conv2d, nn.modules.batchnorm.BatchNorm2d is nn.BatchNorm2d, issubclass(nn.BatchNorm2d, nn.modules.batchnorm._BatchNorm), issubclass(nn.Conv2d, nn.modules.conv._ConvNd), nn.modules.pooling.MaxPool2d is nn.MaxPool2d)",
     "save load cnn": "import io\nnet = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2))\nnet(torch.randn(2, 1, 5, 5))\nbuf = io.BytesIO()\ntorch.save(net.state_dict(), buf)\nbuf.seek(0)\nnet2 = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2))\nnet2.load_state_dict(torch.load(buf))\nout = dict(net2.state_dict())",
     "interp scale tuple nearest": p("1,2,3,4", "F.interpolate(x, scale_factor=(2, 3), mode='nearest')"),
     "interp linear ac": p("1,2,5", "F.interpolate(x, scale_factor=2.5, mode='linear', align_corners=True)"),
     "interp size int 2d": p("1,2,3,4", "F.interpolate(x, 5, mode='bilinear')"),
     "interp antialias": p("1,2,8,8", "F.interpolate(x, size=(3, 5), mode='bilinear', antialias=True)"),
     "Upsample 1d linear": "m = nn.Upsample(scale_factor=2, mode='linear')\n" + p("1,2,5", "m(x)"),
     "UpsamplingBilinear2d": p("1,2,3,4", "nn.UpsamplingBilinear2d(scale_factor=2)(x)"),
     "UpsamplingNearest2d": p("1,2,3,4", "nn.UpsamplingNearest2d(size=(5, 5))(x)"),
     "aap list": p("1,2,7,9", "F.adaptive_avg_pool2d(x, output_size=[2, None])"),
     "aap 0 size": p("1,2,7,9", "F.adaptive_avg_pool2d(x, 0)"),
     "aap neg size": p("1,2,7,9", "F.adaptive_avg_pool2d(x, -1)"),
     "amp list idx": p("1,2,7,9", "F.adaptive_max_pool2d(x, [4, 5], return_indices=True)[0]", extra=", F.adaptive_max_pool2d(x, [4, 5], True)[1]"),
     "adaptive_max_pool2d kw": p("1,2,7,9", "F.adaptive_max_pool2d(input=x, output_size=3)"),
     "max_pool2d_with_indices": p("1,2,7,9", "F.max_pool2d_with_indices(x, 2)[0]"),
     "conv2d requires_grad on bias only": "x = torch.randn(1, 2, 4, 4, dtype=torch.float64)\nw = torch.randn(3, 2, 2, 2, dtype=torch.float64)\nb = torch.zeros(3, dtype=torch.float64, requires_grad=True)\ny = F.conv2d(x, w, b)" + G + "out = (y, b.grad)",
     "channels 1 ceil": p("1,1,1,1", "F.max_pool2d(x, 1, ceil_mode=True)"),
     "pool kernel 1 stride 2": p("1,1,5,5", "F.max_pool2d(x, 1, 2)"),
     "avg kernel 1 stride 2 ceil": p("1,1,5,5", "F.avg_pool2d(x, 1, 2, ceil_mode=True)"),
     "maxpool pad > k/2": p("1,1,5,5", "F.max_pool2d(x, 3, padding=2)"),
     "avgpool tuple pad >": p("1,1,5,5", "F.avg_pool2d(x, (2, 4), padding=(1, 2))"),
     "mp huge kernel": p("1,1,5,5", "F.max_pool2d(x, 6)"),
     "mp bad stride 0": p("1,1,5,5", "F.max_pool2d(x, 2, 0)"),
     "mp dilation 0": p("1,1,5,5", "F.max_pool2d(x, 2, dilation=0)"),
     "mp return_indices positional": p("1,1,5,5", "F.max_pool2d(x, 2, 2, 0, 1, False, True)[0]"),
     "Conv2d 5d input": "m = nn.Conv2d(1, 1, 2)\nout = m(torch.randn(1, 1, 1, 3, 3))",
     "Conv1d 4d input": "m = nn.Conv1d(1, 1, 2)\nout = m(torch.randn(1, 1, 3, 3))",
     "Flatten conv": p("2,3,4,4", "nn.Flatten()(F.conv2d(x, torch.ones(2, 3, 2, 2, dtype=torch.float64)))"),
    }
    return CASES


TRAIN = """
opt = {opt}
xb = torch.randn({xs}, dtype={dt})
yb = torch.randint(0, {classes}, ({n},))
losses = []
snap = []
for step in range({steps}):
    opt.zero_grad()
    loss = F.cross_entropy(net(xb), yb)
    loss.backward()
    snap.append([p.grad.double().norm().to(p.dtype) for p in net.parameters()])
    opt.step()
    losses.append(loss.detach())
net.eval()
pred = net(xb)
state = [v if v.numel() <= 32 else torch.stack([v.double().sum(), v.double().norm(), v.double().abs().max()]).to(v.dtype) for v in net.state_dict().values()]
out = (losses, snap, state, pred, [n for n, _ in net.named_parameters()], list(net.state_dict()))
"""
LENET = """
class LeNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5, padding=2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)
    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), (2, 2))
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = torch.flatten(x, 1)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)
net = LeNet().to({dt})
"""
LENET_BN = """
net = nn.Sequential(
    nn.Conv2d(1, 6, 5, padding=2, bias=False), nn.BatchNorm2d(6), nn.ReLU(), nn.AvgPool2d(2),
    nn.Conv2d(6, 16, 5), nn.BatchNorm2d(16, momentum=None), nn.Tanh(), nn.MaxPool2d(2, ceil_mode=True),
    nn.Flatten(), nn.Linear(16 * 5 * 5, 84), nn.BatchNorm1d(84), nn.ReLU(), nn.Dropout(0.2), nn.Linear(84, 10)).to({dt})
"""
RESNET = """
class BasicBlock(nn.Module):
    expansion = 1
    def __init__(self, inp, planes, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(inp, planes, kernel_size=3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, kernel_size=3, stride=1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.shortcut = nn.Sequential()
        if stride != 1 or inp != planes:
            self.shortcut = nn.Sequential(nn.Conv2d(inp, planes, kernel_size=1, stride=stride, bias=False), nn.BatchNorm2d(planes))
    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        out += self.shortcut(x)
        return F.relu(out)
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(8)
        self.layer1 = BasicBlock(8, 8)
        self.layer2 = BasicBlock(8, 16, stride=2)
        self.pool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(16, 5)
    def forward(self, x):
        x = F.relu(self.bn(self.stem(x)))
        x = self.layer2(self.layer1(x))
        return self.fc(torch.flatten(self.pool(x), 1))
net = Net().to({dt})
"""
MISC = """
net = nn.Sequential(
    nn.Conv2d(3, 8, 3, padding='same', padding_mode='reflect'), nn.GroupNorm(4, 8), nn.SiLU(),
    nn.Dropout2d(0.25), nn.Conv2d(8, 8, 3, padding=1, groups=8), nn.Conv2d(8, 4, 1), nn.InstanceNorm2d(4, affine=True),
    nn.ReLU(), nn.Upsample(scale_factor=2, mode='bilinear', align_corners=False), nn.ConvTranspose2d(4, 4, 3, stride=2, padding=1, output_padding=1),
    nn.PixelShuffle(2), nn.AdaptiveMaxPool2d((3, 2)), nn.Flatten(), nn.Linear(6, 4)).to({dt})
"""
CONV1D = """
net = nn.Sequential(nn.Conv1d(2, 6, 5, stride=2, padding=2), nn.BatchNorm1d(6), nn.ReLU(), nn.MaxPool1d(2),
    nn.Conv1d(6, 6, 3, dilation=2, groups=3, padding='same'), nn.AdaptiveAvgPool1d(1), nn.Flatten(), nn.Linear(6, 3)).to({dt})
"""
def _models() -> dict[str, str]:
    CASES = {}
    for dt in ("torch.float32", "torch.float64"):
        d = dt[-2:]
        CASES[f"lenet sgd {d}"] = LENET.format(dt=dt) + TRAIN.format(opt="torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9)", xs="8,1,28,28", dt=dt, classes=10, n=8, steps=3)
        CASES[f"lenet-bn sgd {d}"] = LENET_BN.format(dt=dt) + TRAIN.format(opt="torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.5, weight_decay=1e-4)", xs="6,1,28,28", dt=dt, classes=10, n=6, steps=3)
        CASES[f"resnet sgd nesterov {d}"] = RESNET.format(dt=dt) + TRAIN.format(opt="torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9, nesterov=True, weight_decay=5e-4)", xs="4,3,16,16", dt=dt, classes=5, n=4, steps=3)
        CASES[f"misc {d}"] = MISC.format(dt=dt) + TRAIN.format(opt="torch.optim.SGD(net.parameters(), lr=0.05)", xs="3,3,7,6", dt=dt, classes=4, n=3, steps=3)
        CASES[f"conv1d {d}"] = CONV1D.format(dt=dt) + TRAIN.format(opt="torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9, dampening=0.1)", xs="5,2,17", dt=dt, classes=3, n=5, steps=3)
    CASES["resnet init"] = RESNET.format(dt="torch.float32") + "out = [net.stem.weight, net.layer2.shortcut[0].weight, net.fc.bias]"
    CASES["lenet init"] = LENET.format(dt="torch.float32") + "out = (net.conv1.weight, net.conv2.bias, net.fc3.weight[:2], repr(net))"
    CASES["resnet repr"] = RESNET.format(dt="torch.float32") + "out = repr(net)"
    CASES["misc repr"] = MISC.format(dt="torch.float32") + "out = repr(net)"
    return CASES


def _round2() -> dict[str, str]:
    def p(xs, call, dt="torch.float64", extra=""):
        return f"x = torch.randn({xs}, dtype={dt}).requires_grad_()\ny = {call}" + G + f"out = (y, x.grad, type(y.grad_fn).__name__{extra})"
    CASES = {
     "pixel_shuffle 5d": p("2,2,8,3,2", "F.pixel_shuffle(x, 2)"),
     "gn 5d": p("2,4,2,3,3", "F.group_norm(x, 2)"),
     "gn 3d module": "m = nn.GroupNorm(2, 4).double()\n" + p("3,4,5", "m(x)", extra=", m.weight.grad"),
     "in1d": "m = nn.InstanceNorm1d(3, affine=True).double()\n" + p("2,3,6", "m(x)", extra=", m.weight.grad"),
     "in1d unbatched": "m = nn.InstanceNorm1d(3)\n" + p("3,6", "m(x)"),
     "F.bn momentum None train": "rm = torch.zeros(2, dtype=torch.float64)\nrv = torch.ones(2, dtype=torch.float64)\n" + p("3,2,2", "F.batch_norm(x, rm, rv, training=True, momentum=None)", extra=", rm, rv"),
     "interp no recompute": p("1,2,3,5", "F.interpolate(x, scale_factor=1.7, mode='bilinear', align_corners=False, recompute_scale_factor=False)"),
     "interp nearest down": p("1,2,7,9", "F.interpolate(x, scale_factor=0.5)"),
     "interp bilinear down scale": p("1,2,7,9", "F.interpolate(x, scale_factor=0.3, mode='bilinear')"),
     "interp nearest 1d size": p("1,2,7", "F.interpolate(x, size=(3,))"),
     "shared conv twice": "c = nn.Conv2d(2, 2, 3, padding=1).double()\n" + p("2,2,5,5", "c(c(x)) + c(x)", extra=", c.weight.grad, c.bias.grad"),
     "backward twice accumulate": "c = nn.Conv2d(2, 2, 3).double()\nx = torch.randn(2, 2, 5, 5, dtype=torch.float64, requires_grad=True)\ny = c(x)\ny.sum().backward(retain_graph=True)\n(y * y).sum().backward()\nout = (x.grad, c.weight.grad, c.bias.grad)",
     "autograd.grad saliency": "net = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.ReLU(), nn.AdaptiveMaxPool2d(1), nn.Flatten()).double()\nx = torch.randn(2, 1, 6, 6, dtype=torch.float64, requires_grad=True)\ng, = torch.autograd.grad(net(x)[:, 1].sum(), x)\nout = (g, net[1].running_mean)",
     "grad penalty": "net = nn.Sequential(nn.Conv2d(1, 2, 3), nn.Tanh(), nn.Conv2d(2, 1, 2), nn.Flatten(), nn.Linear(9, 1)).double()\nx = torch.randn(2, 1, 6, 6, dtype=torch.float64, requires_grad=True)\ng, = torch.autograd.grad(net(x).sum(), x, create_graph=True)\npen = ((g.flatten(1).norm(dim=1) - 1) ** 2).mean()\npen.backward()\nout = (pen, net[0].weight.grad, net[2].weight.grad, net[4].weight.grad)",
     "grad penalty pool bn": "net = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.Softplus(), nn.AvgPool2d(2), nn.Flatten(), nn.Linear(8, 1)).double()\nx = torch.randn(3, 1, 6, 6, dtype=torch.float64, requires_grad=True)\ng, = torch.autograd.grad(net(x).sum(), x, create_graph=True)\npen = (g ** 2).sum()\npen.backward()\nout = (pen, net[0].weight.grad, net[1].weight.grad, net[5].weight.grad)",
     "zero_grad set_to_none": "c = nn.Conv2d(1, 1, 2)\nc(torch.randn(1, 1, 3, 3)).sum().backward()\nc.zero_grad(set_to_none=True)\nout = (c.weight.grad is None, c.bias.grad is None)",
     "eval pass between steps": "m = nn.BatchNorm2d(2)\nm(torch.randn(4, 2, 2, 2))\nm.eval()\nwith torch.no_grad():\n    m(torch.randn(4, 2, 2, 2) + 5)\nm.train()\nm(torch.randn(4, 2, 2, 2) * 2)\nout = (m.running_mean, m.running_var, m.num_batches_tracked)",
     "load sd no nbt": "m = nn.BatchNorm2d(2)\nsd = dict(m.state_dict())\nsd.pop('num_batches_tracked')\nr = m.load_state_dict(sd, strict=False)\nout = (list(r.missing_keys), list(r.unexpected_keys), m.num_batches_tracked)",
     "load sd into notrack": "m = nn.BatchNorm2d(2, track_running_stats=False)\nout = m.load_state_dict(nn.BatchNorm2d(2).state_dict())",
     "load sd strict missing": "m = nn.Conv2d(1, 2, 2)\nout = m.load_state_dict({'weight': torch.ones(2, 1, 2, 2)})",
     "load sd shape mismatch": "m = nn.Conv2d(1, 2, 2)\nout = m.load_state_dict({'weight': torch.ones(2, 1, 3, 3), 'bias': torch.ones(2)})",
     "deepcopy cnn": "import copy\nm = nn.Sequential(nn.Conv2d(1, 2, 2), nn.BatchNorm2d(2))\nm(torch.randn(2, 1, 3, 3))\nm2 = copy.deepcopy(m)\nm2(torch.randn(2, 1, 3, 3))\nout = (m[1].running_mean, m2[1].running_mean, m2[0].weight)",
     "to double keeps nbt": "m = nn.BatchNorm2d(2).to(torch.float64)\nout = (m.num_batches_tracked.dtype, m.running_mean.dtype, m.weight.dtype)",
     "conv stride 1-tuple": p("1,1,6,6", "F.conv2d(x, torch.ones(1, 1, 2, 2, dtype=torch.float64), stride=(2,), padding=(1,), dilation=(2,))"),
     "Conv2d padding 1-tuple": "m = nn.Conv2d(1, 1, 2, padding=(1,))\nout = m.padding",
     "check list params": "m = nn.Conv2d(2, 4, 3, groups=2, bias=False)\nout = [(n, tuple(q.shape), q.requires_grad) for n, q in m.named_parameters()]",
     "conv no bias grad None": "c = nn.Conv2d(2, 2, 3, bias=False)\nc(torch.randn(1, 2, 3, 3)).sum().backward()\nout = (c.bias, c.weight.grad.shape)",
     "ConvT1d output_size": "m = nn.ConvTranspose1d(2, 3, 3, stride=2, padding=1)\nx = torch.randn(1, 2, 4)\nout = (m(x, output_size=[8]).shape, m(x, output_size=[7]).shape)",
     "ConvT2d output_size bad": "m = nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1)\nout = m(torch.randn(1, 2, 4, 4), output_size=[10, 10])",
     "ConvT1d device kw": "m = nn.ConvTranspose1d(2, 3, 3, device='cpu', dtype=torch.float64)\nout = m.weight.dtype",
     "Conv1d device kw": "m = nn.Conv1d(2, 3, 3, device='cpu')\nout = m.weight.shape",
     "MaxPool2d repr idx": "out = repr(nn.MaxPool2d(2, return_indices=True, dilation=2))",
     "AdaptiveMaxPool2d repr": "out = (repr(nn.AdaptiveMaxPool2d(3)), repr(nn.AdaptiveAvgPool2d(None)), repr(nn.GroupNorm(2, 4)), repr(nn.InstanceNorm2d(3)), repr(nn.ConvTranspose2d(2, 2, 3, bias=False)), repr(nn.Conv1d(2, 2, 3, padding_mode='circular', padding=1)))",
     "BN repr eps": "out = repr(nn.BatchNorm1d(4, eps=1e-3, momentum=0.01))",
     "bn weight grad none eval frozen": "m = nn.BatchNorm2d(2).double().eval()\nx = torch.randn(3, 2, 2, 2, dtype=torch.float64, requires_grad=True)\nwith torch.no_grad():\n    z = m(x)\nout = (z.requires_grad, m.weight.grad)",
     "bn momentum 0.1 float64 stats exact": "m = nn.BatchNorm2d(3).double()\nfor k in range(5):\n    m(torch.randn(6, 3, 4, 4, dtype=torch.float64) * (k + 1) + k)\nout = (m.running_mean, m.running_var)",
     "bn mom none 10 steps f32": "m = nn.BatchNorm2d(3, momentum=None)\nfor k in range(10):\n    m(torch.randn(6, 3, 4, 4) * (k + 1) + k)\nout = (m.running_mean, m.running_var, m.num_batches_tracked)",
     "bn 8 steps f32": "m = nn.BatchNorm1d(3)\nfor k in range(8):\n    m(torch.randn(16, 3) * (k + 1) + k)\nout = (m.running_mean, m.running_var)",
     "images 0-255 bn f32": "m = nn.BatchNorm2d(3)\nx = (torch.rand(4, 3, 8, 8) * 255).requires_grad_()\ny = m(x)" + G + "out = (y, x.grad, m.running_mean, m.running_var)",
     "max_pool + indices unpool style": p("1,1,4,4", "F.max_pool2d(x, 2, return_indices=True)[0]", extra=", F.max_pool2d(x, 2, return_indices=True)[1].dtype"),
     "F.adaptive_avg_pool2d int list": p("1,1,5,5", "F.adaptive_avg_pool2d(x, [2, 3])"),
     "dropout2d inplace": "x = torch.randn(4, 6, 3, 3)\ny = F.dropout2d(x, 0.5, True, True)\nout = (y, x)",
     "Dropout2d inplace module": "x = torch.randn(4, 6, 3, 3)\nm = nn.Dropout2d(0.5, inplace=True)\ny = m(x)\nout = (y, x, repr(m))",
     "dropout2d 5d": "out = F.dropout2d(torch.randn(2, 3, 2, 2, 2), 0.5)",
    }
    return CASES


_SE = """
class SE(nn.Module):
    def __init__(self, c, r=2):
        super().__init__()
        self.fc1 = nn.Conv2d(c, c // r, 1)
        self.fc2 = nn.Conv2d(c // r, c, 1)
    def forward(self, x):
        s = x.mean((2, 3), keepdim=True)
        s = torch.sigmoid(self.fc2(F.relu(self.fc1(s))))
        return x * s
"""
_R3 = {
 "se block": _SE + "m = SE(4).double()\nx = torch.randn(2, 4, 5, 5, dtype=torch.float64, requires_grad=True)\ny = m(x)" + G + "out = (y, x.grad, m.fc1.weight.grad, m.fc2.bias.grad)",
 "view size": "c = nn.Conv2d(2, 3, 3).double()\nx = torch.randn(2, 2, 5, 5, dtype=torch.float64, requires_grad=True)\nh = c(x)\ny = h.view(h.size(0), -1)" + G + "out = (y, x.grad, type(y.grad_fn).__name__)",
 "amax global": "x = torch.randn(2, 3, 4, 4, dtype=torch.float64, requires_grad=True)\ny = x.amax(dim=(2, 3))" + G + "out = (y, x.grad)",
 "channels last permute": "c = nn.Conv2d(3, 4, 1).double()\nx = torch.randn(2, 5, 5, 3, dtype=torch.float64, requires_grad=True)\ny = c(x.permute(0, 3, 1, 2)).permute(0, 2, 3, 1)" + G + "out = (y, x.grad, c.weight.grad)",
 "chunk channels glu": "c = nn.Conv2d(2, 6, 3, padding=1).double()\nx = torch.randn(2, 2, 4, 4, dtype=torch.float64, requires_grad=True)\na, b = c(x).chunk(2, dim=1)\ny = a * torch.sigmoid(b)" + G + "out = (y, x.grad, c.weight.grad)",
 "accuracy": "logits = torch.randn(8, 10)\nt = torch.randint(0, 10, (8,))\nout = ((logits.argmax(1) == t).float().mean(), (logits.argmax(dim=1) == t).sum().item())",
 "unet skip cat": "d = nn.Conv2d(2, 4, 3, stride=2, padding=1).double()\nu = nn.ConvTranspose2d(4, 2, 2, stride=2).double()\nx = torch.randn(1, 2, 6, 6, dtype=torch.float64, requires_grad=True)\ny = torch.cat([x, u(F.relu(d(x)))], dim=1)" + G + "out = (y, x.grad, d.weight.grad, u.weight.grad)",
 "mobilenet block": "b = nn.Sequential(nn.Conv2d(4, 8, 1, bias=False), nn.BatchNorm2d(8), nn.ReLU6(inplace=True), nn.Conv2d(8, 8, 3, 2, 1, groups=8, bias=False), nn.BatchNorm2d(8), nn.ReLU6(inplace=True), nn.Conv2d(8, 4, 1, bias=False), nn.BatchNorm2d(4)).double()\nx = torch.randn(2, 4, 7, 7, dtype=torch.float64, requires_grad=True)\ny = b(x)" + G + "out = (y, x.grad, [q.grad for q in b.parameters()], b[1].running_var)",
 "hardswish silu conv": "c = nn.Conv2d(2, 2, 3).double()\nx = torch.randn(2, 2, 5, 5, dtype=torch.float64, requires_grad=True)\ny = F.hardswish(c(x)) + F.silu(c(x)) + F.gelu(c(x))" + G + "out = (y, x.grad)",
 "vgg classifier": "f = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(True), nn.MaxPool2d(kernel_size=2, stride=2), nn.AdaptiveAvgPool2d((2, 2)), nn.Flatten(), nn.Dropout(), nn.Linear(16, 5)).double()\nx = torch.randn(2, 3, 8, 8, dtype=torch.float64, requires_grad=True)\ny = f(x)" + G + "out = (y, x.grad, f[0].weight.grad)",
 "max over channels": "x = torch.randn(2, 3, 4, 4, dtype=torch.float64, requires_grad=True)\nv, i = x.max(dim=1, keepdim=True)\ny = torch.cat([v, x.mean(1, keepdim=True)], 1)" + G + "out = (y, x.grad, i)",
 "interp align none bilinear module f32": "m = nn.Upsample(scale_factor=2, mode='bilinear')\nx = torch.randn(1, 2, 3, 3, requires_grad=True)\ny = m(x)" + G + "out = (y, x.grad)",
 "clip grad on cnn": "net = nn.Sequential(nn.Conv2d(1, 2, 3), nn.Flatten(), nn.Linear(8, 2))\nF.cross_entropy(net(torch.randn(2, 1, 4, 4)), torch.tensor([0, 1])).backward()\nn = nn.utils.clip_grad_norm_(net.parameters(), 0.1)\nout = (n, [q.grad for q in net.parameters()])",
 "param count": "net = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.Conv2d(8, 4, 3, groups=4, bias=False))\nout = (sum(q.numel() for q in net.parameters()), sum(q.numel() for q in net.parameters() if q.requires_grad), sum(b.numel() for b in net.buffers()))",
 "children modules names": "net = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.ReLU())\nout = ([n for n, _ in net.named_modules()], [type(m).__name__ for m in net.children()], [type(m).__name__ for m in net.modules()])",
 "freeze bn by eval in train": "net = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2))\nnet.train()\nfor m in net.modules():\n    if isinstance(m, nn.BatchNorm2d):\n        m.eval()\nnet(torch.randn(2, 1, 4, 4))\nout = (net[1].running_mean, net[1].num_batches_tracked, net.training, net[1].training)",
 "sgd step conv weight decay": "c = nn.Conv2d(1, 2, 2)\nopt = torch.optim.SGD([{'params': [c.weight], 'weight_decay': 0.1}, {'params': [c.bias]}], lr=0.1, momentum=0.9)\nfor _ in range(3):\n    opt.zero_grad()\n    c(torch.ones(1, 1, 3, 3)).pow(2).sum().backward()\n    opt.step()\nout = (c.weight, c.bias)",
}
def _round3() -> dict[str, str]:
    """torch's resampling shortcuts, empty outputs, float32 batch statistics, common CNN blocks."""
    def p(xs: str, call: str, dt: str = "torch.float64", extra: str = "") -> str:
        return f"x = torch.randn({xs}, dtype={dt}).requires_grad_()\ny = {call}" + G + f"out = (y, x.grad, type(y.grad_fn).__name__{extra})"
    cases = {
        "interp nearest kept size": p("2,2,5,5", "F.interpolate(x, scale_factor=1.19)"),
        "interp nearest doubled size": p("2,2,5,5", "F.interpolate(x, scale_factor=2.1)", "torch.float32"),
        "interp nearest kept one dim": p("2,2,2,5", "F.interpolate(x, scale_factor=(1.6, 1.19))"),
        "interp bilinear kept one dim": p("2,2,5,5", "F.interpolate(x, scale_factor=(0.9, 1.19), mode='bilinear')"),
        "interp linear kept size": p("2,2,5", "F.interpolate(x, scale_factor=1.19, mode='linear')", "torch.float32"),
        "upsample module kept size": "m = nn.Upsample(scale_factor=1.1, mode='bilinear')\n" + p("1,2,4,6", "m(x)"),
        "interp nearest 1d kept size forward": "x = torch.randn(2, 2, 5)\nout = (F.interpolate(x, scale_factor=1.19), F.interpolate(x, scale_factor=2.06))",
        "interp zero size nearest-exact": p("2,2,1,7", "F.interpolate(x, scale_factor=(0.97, 1.06), mode='nearest-exact')"),
        "interp zero size bicubic": p("2,2,1,5", "F.interpolate(x, scale_factor=(0.81, 0.8), mode='bicubic', align_corners=True)"),
        "interp zero size 1d": p("2,2,1", "F.interpolate(x, scale_factor=0.78, mode='nearest-exact')"),
        "pad crops a dim away": p("2,2,2,5", "F.pad(x, (-1, 0, -1, -1), value=0.5)"),
        "pad of an empty dim": "out = (F.pad(torch.zeros(2, 0, 3), (1, 2), value=3.0), F.pad(torch.zeros(0, 3), (1, 1)))",
        "bn f32 offset stats and grads": "m = nn.BatchNorm2d(2)\nx = (torch.randn(8, 2, 3, 3) * 0.1 + 1000.0).requires_grad_()\ny = m(x)" + G + "out = (x.grad, m.running_mean, m.running_var)",
    }
    cases.update(_R3)
    return cases


CASES: dict[str, str] = {}
for _group in (_conv, _pool, _norm, _resample, _modules, _more, _models, _round2, _round3):
    CASES.update(_group())

FIXED = [  # wrong (or refused) in crossgrad before this sweep
    "c2 unbatched 64", "c2 unbatched 32", "ct2 unbatched 64", "ct2 unbatched 32", "ct2 same err",
    "Conv2d unbatched 64", "Conv2d unbatched 32", "ConvT2d unbatched 64", "ConvT2d unbatched 32",
    "Conv2d attrs", "Conv2d weight reset", "Upsample kwargs", "upsample recompute", "interp bicubic",
    "interp antialias", "init fans", "modules path", "max_pool2d_with_indices",
    "torch.conv2d", "torch.conv2d same", "torch.conv1d", "torch.conv_transpose2d", "torch.max_pool2d",
    "torch.avg_pool1d", "torch.adaptive_avg_pool1d", "torch.batch_norm", "torch.group_norm",
    "torch.instance_norm", "torch.pixel_shuffle", "torch.pixel_unshuffle", "torch.constant_pad_nd",
    "load sd no nbt", "dropout2d inplace", "Dropout2d inplace module",
    "interp nearest kept size", "interp nearest doubled size", "interp nearest kept one dim",
    "interp bilinear kept one dim", "interp linear kept size", "upsample module kept size", "interp zero size nearest-exact",
    "interp zero size bicubic", "interp zero size 1d", "bn f32 offset stats and grads", "pad crops a dim away",
]
