"""CNN ops beyond the catalogue-wide tests: classic planted VJP bugs caught at the right leaf,
bad shapes as typed errors before any array is made, torch's module semantics (padding='same',
running statistics, state_dict), and both example models checked three ways."""

from __future__ import annotations

import sys
from pathlib import Path

import crossgrad
import crossgrad.nn.functional as F
import numpy as np
import pytest
from crossgrad.engine.check import CheckRequest, check
from crossgrad.engine.errors import ShapeError
from crossgrad.engine.graph import Graph, GraphError, Leaf, OpNode, validate
from crossgrad.engine.numeric import rules_conv
from crossgrad.engine.numeric.rules import RULES
from crossgrad.engine.numeric.ruletools import Rule, call

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples" / "models"))


def _request(op, shapes, attrs, seed=0):
    rng = np.random.default_rng(seed)
    names = ("x", "w", "b", "d", "e")
    nodes = [Leaf(n, rng.standard_normal(s), True) for n, s in zip(names, shapes) if s is not None]
    inputs = tuple(n if s is not None else None for n, s in zip(names, shapes))
    nodes.append(OpNode("out", op, inputs, attrs))
    plan = validate(Graph(tuple(nodes), "out"))
    cot = rng.standard_normal(plan.shapes[-1])
    return CheckRequest(Graph(tuple(nodes), "out"), cot, tier="exact")


def _verdicts(report):
    return {leaf.name: leaf.verdict for leaf in report.leaves}


def _plant(monkeypatch, op, vjp):
    rule = RULES[op]
    monkeypatch.setitem(RULES, op, Rule(rule.forward, lambda g, saved, node: vjp(rule, g, saved, node)))


def _input_grad(transform):
    """A conv2d VJP whose input gradient is transform(g, w, x_shape, attrs) (the rest correct)."""
    def vjp(rule, g, saved, node):
        good = rule.vjp(g, saved, node)
        return (transform(g, saved[1], saved[0].shape, node.attrs),) + tuple(good[1:])
    return vjp


def _placed(small, shape):
    out = np.zeros(shape)
    out[tuple(slice(0, min(a, b)) for a, b in zip(small.shape, shape))] = small[
        tuple(slice(0, min(a, b)) for a, b in zip(small.shape, shape))]
    return out


def _unflipped(g, w, shape, at):
    return rules_conv._input_grad_of_conv(g, w[..., ::-1, ::-1], shape, at)


def _stride_ignored(g, w, shape, at):
    return _placed(call("conv_transpose2d", g, w, None, padding=at["padding"], dilation=at["dilation"]), shape)


def _dilation_ignored(g, w, shape, at):
    return _placed(call("conv_transpose2d", g, w, None, padding=at["padding"], stride=at["stride"]), shape)


def _wrong_side_crop(g, w, shape, at):
    """padding (lo, hi) = (2, 0), (1, 0): the full transposed conv cropped from the high side."""
    full = call("conv_transpose2d", g, w, None)
    return full[:, :, 0:shape[2], 0:shape[3]]


CONV_BUGS = [
    ("kernel not flipped", _unflipped, {"padding": (1, 1)}),
    ("stride ignored", _stride_ignored, {"stride": (2, 2), "padding": (1, 1)}),
    ("dilation ignored", _dilation_ignored, {"dilation": (2, 2)}),
    ("padding cropped on the wrong side", _wrong_side_crop, {"padding": (2, 0, 1, 0)}),
]


@pytest.mark.parametrize(("bug", "transform", "attrs"), CONV_BUGS, ids=[b[0] for b in CONV_BUGS])
def test_classic_conv_input_gradient_bug_is_caught_at_the_input(monkeypatch, bug, transform, attrs):
    request = _request("conv2d", [(1, 2, 6, 6), (2, 2, 3, 3), (2,)], attrs)
    assert check(request).verdict == "agree"
    _plant(monkeypatch, "conv2d", _input_grad(transform))
    assert _verdicts(check(request)) == {"x": "mismatch", "w": "agree", "b": "agree"}


def test_groups_mixed_in_the_weight_gradient_is_caught_at_the_weight(monkeypatch):
    def vjp(rule, g, saved, node):
        x, w = saved[0], saved[1]
        rolled = np.roll(x, x.shape[1] // node.attrs["groups"], axis=1)  # the other group's channels
        good = rule.vjp(g, saved, node)
        return good[0], rules_conv._weight_grad_of_conv(g, rolled, w.shape, node.attrs), good[2]

    request = _request("conv2d", [(1, 4, 5, 5), (4, 2, 3, 3), (4,)], {"groups": 2})
    _plant(monkeypatch, "conv2d", vjp)
    assert _verdicts(check(request)) == {"x": "agree", "w": "mismatch", "b": "agree"}


def test_batch_norm_backward_without_the_mean_and_variance_terms_is_caught_at_the_input(monkeypatch):
    def vjp(rule, g, saved, node):
        w, invstd = saved[3], saved[5]  # (x, running mean, running var, weight, xhat, invstd)
        good = rule.vjp(g, saved, node)
        return (g * w.reshape(1, -1, 1, 1) * invstd.reshape(1, -1, 1, 1),) + tuple(good[1:])

    request = _request("batch_norm", [(3, 2, 2, 2), None, None, (2,), (2,)], {"training": True})
    assert check(request).verdict == "agree"
    _plant(monkeypatch, "batch_norm", vjp)
    assert _verdicts(check(request)) == {"x": "mismatch", "d": "agree", "e": "agree"}


BAD = [
    (lambda: F.conv2d(crossgrad.zeros(5, 5), crossgrad.zeros(3, 2, 3, 3)), "Expected 3D (unbatched) or 4D (batched)",
     "[5, 5]"),  # torch takes a 3-D input as one unbatched sample (tests/test_cnn_sweep.py)
    (lambda: F.conv2d(crossgrad.zeros(1, 2, 4, 4), crossgrad.zeros(3, 2, 5, 5)), "larger than the padded input",
     "[3, 2, 5, 5]"),
    (lambda: F.conv2d(crossgrad.zeros(1, 3, 4, 4), crossgrad.zeros(2, 1, 3, 3), groups=2), "groups=2 must divide",
     "in_channels 3"),
    (lambda: F.conv_transpose2d(crossgrad.zeros(1, 2, 1, 1), crossgrad.zeros(2, 2, 1, 1), padding=1),
     "is not positive", "[1, 2, 1, 1]"),
    (lambda: F.max_pool2d(crossgrad.zeros(1, 1, 2, 2), 3), "output size 0 is too small", "[1, 1, 2, 2]"),
]


def test_a_3d_input_to_the_conv2d_op_is_refused_over_the_wire():
    """The catalogue's conv2d takes (N, C, H, W) only: the facade unsqueezes an unbatched sample, a
    graph sent as such is refused by its declared shapes, naming the node and the shape."""
    with pytest.raises(GraphError, match=r"expected a 4-D input.*\[2, 5, 5\]"):
        _request("conv2d", [(2, 5, 5), (3, 2, 3, 3)], {})


@pytest.mark.parametrize(("call_", "reason", "shape"), BAD, ids=["2-D", "kernel", "groups", "zero-size", "pool"])
def test_bad_shapes_are_typed_errors_naming_op_and_shapes(call_, reason, shape):
    with pytest.raises(ShapeError) as err:
        call_()
    assert reason in str(err.value) and shape in str(err.value)


def test_bad_shapes_in_a_request_name_the_node_before_anything_is_computed():
    nodes = (Leaf("x", np.zeros((2, 5, 5)), True), Leaf("w", np.zeros((3, 2, 3, 3)), True),
             OpNode("out", "conv2d", ("x", "w", None), {}))
    with pytest.raises(GraphError) as err:
        validate(Graph(nodes, "out"))
    assert err.value.path == "graph.nodes[2]" and "conv2d" in str(err.value)


def _reference_conv(x, w, pads):
    """Direct loops over a zero-padded input (test oracle only)."""
    xp = np.pad(x, [(0, 0), (0, 0)] + pads)
    n, o = x.shape[0], w.shape[0]
    kh, kw = w.shape[2:]
    out = np.zeros((n, o, xp.shape[2] - kh + 1, xp.shape[3] - kw + 1))
    for i in range(out.shape[2]):
        for j in range(out.shape[3]):
            out[:, :, i, j] = np.einsum("ncpq,ocpq->no", xp[:, :, i:i + kh, j:j + kw], w)
    return out


def test_padding_same_with_an_even_kernel_pads_the_high_side_as_torch():
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((1, 2, 5, 6)), rng.standard_normal((3, 2, 2, 3))
    y = F.conv2d(crossgrad.tensor(x), crossgrad.tensor(w), padding="same")
    assert tuple(y.shape) == (1, 3, 5, 6)
    np.testing.assert_allclose(y.numpy(), _reference_conv(x, w, [(0, 1), (1, 1)]), rtol=1e-12)
    valid = F.conv2d(crossgrad.tensor(x), crossgrad.tensor(w), padding="valid")
    np.testing.assert_allclose(valid.numpy(), _reference_conv(x, w, [(0, 0), (0, 0)]), rtol=1e-12)


def test_batch_norm_module_running_stats_state_dict_and_eval():
    bn = crossgrad.nn.BatchNorm2d(2, momentum=None, dtype=crossgrad.float64)
    rng = np.random.default_rng(0)
    batches = [rng.standard_normal((3, 2, 2, 2)) for _ in range(2)]
    for b in batches:
        bn(crossgrad.tensor(b))
    means = [b.mean(axis=(0, 2, 3)) for b in batches]
    variances = [b.var(axis=(0, 2, 3), ddof=1) for b in batches]
    np.testing.assert_allclose(bn.running_mean.numpy(), (means[0] + means[1]) / 2)  # cumulative average
    np.testing.assert_allclose(bn.running_var.numpy(), (variances[0] + variances[1]) / 2)
    assert list(bn.state_dict()) == ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"]
    assert int(bn.num_batches_tracked.item()) == 2
    bn.eval()
    x = rng.standard_normal((2, 2, 2, 2))
    want = (x - bn.running_mean.numpy().reshape(1, -1, 1, 1)) / np.sqrt(bn.running_var.numpy().reshape(1, -1, 1, 1)
                                                                          + 1e-5)
    np.testing.assert_allclose(bn(crossgrad.tensor(x)).detach().numpy(), want, rtol=1e-12)


def test_conv_modules_use_torch_names_shapes_and_init_bounds():
    conv = crossgrad.nn.Conv2d(4, 6, (3, 2), groups=2)
    assert [(n, tuple(p.shape)) for n, p in conv.named_parameters()] == [("weight", (6, 2, 3, 2)), ("bias", (6,))]
    bound = 1 / np.sqrt(2 * 3 * 2)
    largest = np.abs(conv.weight.detach().numpy()).max()
    assert bound / 2 < largest <= bound
    convt = crossgrad.nn.ConvTranspose2d(4, 6, 3, stride=2, output_padding=1)
    assert tuple(convt.weight.shape) == (4, 6, 3, 3)
    assert tuple(convt(crossgrad.zeros(1, 4, 5, 5)).shape) == (1, 6, 12, 12)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_example_models_check_agrees_for_every_parameter(dtype):
    import lenet
    import resnet_block

    lib_dtype = getattr(crossgrad, dtype)
    for module, kw, data_kw in ((lenet, {"batch": 2}, {}), (resnet_block, {"batch": 2, "channels": 4, "size": 4},
                                                               {"channels": 4, "size": 4})):
        model, losses = module.train(crossgrad, steps=2, dtype=lib_dtype, **kw)
        assert losses[1] < losses[0]
        x, y = module.data(crossgrad, 2, lib_dtype, **data_kw)
        loss = crossgrad.nn.CrossEntropyLoss()(model(x), y)
        report = crossgrad.check(loss, names=dict(model.named_parameters()), tier="tensor")
        assert report.verdict == "agree", str(report)
        assert {leaf.name for leaf in report.leaves} == set(dict(model.named_parameters()))


def test_group_and_instance_norm_are_checked_three_ways():
    rng = np.random.default_rng(3)
    x = crossgrad.tensor(rng.standard_normal((2, 4, 3, 3)), requires_grad=True)
    w = crossgrad.tensor(rng.uniform(0.5, 1.5, 4), requires_grad=True)
    b = crossgrad.tensor(rng.standard_normal(4), requires_grad=True)
    c = crossgrad.tensor(rng.standard_normal((2, 4, 3, 3)))
    for out in (F.group_norm(x, 2, w, b), F.instance_norm(x, weight=w, bias=b)):
        report = crossgrad.check((out * c).sum(), names={"x": x, "w": w, "b": b})
        assert report.verdict == "agree", str(report)
    # group_norm's normalized values: each (sample, group) has mean 0 and biased variance 1
    z = F.group_norm(x, 2).detach().numpy().reshape(2, 2, -1)
    np.testing.assert_allclose(z.mean(axis=-1), 0, atol=1e-12)
    np.testing.assert_allclose(z.var(axis=-1), 1 - 1e-5 / (x.detach().numpy().reshape(2, 2, -1).var(axis=-1) + 1e-5),
                               rtol=1e-9)


def test_resampling_functions_follow_torch_index_rules():
    x = crossgrad.tensor(np.arange(6.0).reshape(1, 1, 2, 3))
    np.testing.assert_array_equal(F.interpolate(x, scale_factor=2).numpy()[0, 0],
                                  np.repeat(np.repeat(np.arange(6.0).reshape(2, 3), 2, 0), 2, 1))
    corners = F.interpolate(x, size=(3, 5), mode="bilinear", align_corners=True).numpy()[0, 0]
    np.testing.assert_allclose(corners[[0, 0, -1, -1], [0, -1, 0, -1]], [0, 2, 3, 5])
    np.testing.assert_allclose(corners[1, 1], 2.0)  # the centre of (0, 1, 3, 4)
    assert tuple(crossgrad.nn.Upsample(scale_factor=2, mode="bilinear")(x).shape) == (1, 1, 4, 6)
    shuffled = crossgrad.nn.PixelShuffle(2)(crossgrad.tensor(np.arange(8.0).reshape(1, 4, 1, 2))).numpy()
    np.testing.assert_array_equal(shuffled[0, 0], [[0, 2, 1, 3], [4, 6, 5, 7]])
    # a 2-entry reflect/replicate pad takes a 2-D or 3-D input (torch refuses the 4-D x)
    np.testing.assert_array_equal(F.pad(x[0], (1, 0), mode="replicate").numpy()[0], [[0, 0, 1, 2], [3, 3, 4, 5]])
    with pytest.raises(ShapeError, match="should be less than"):
        F.pad(x[0], (3, 0), mode="reflect")


def test_dropout2d_zeroes_whole_channels_and_scales_the_rest():
    crossgrad.manual_seed(0)
    x = crossgrad.ones(4, 8, 3, 3)
    y = crossgrad.nn.Dropout2d(0.5)(x).numpy()
    per_channel = y.reshape(4, 8, -1)
    assert set(np.unique(per_channel)) <= {0.0, 2.0}
    assert (per_channel.min(axis=-1) == per_channel.max(axis=-1)).all()
    assert 0 < (per_channel[..., 0] == 0).sum() < 32


def test_max_pool_tie_is_a_convention_and_the_gradient_goes_to_the_first_maximum(monkeypatch):
    x = crossgrad.tensor(np.array([[[[1.0, 1.0, 0.0, 3.0], [0.0, 0.5, 2.0, 1.0]]]]), requires_grad=True)
    out = F.max_pool2d(x, 2)
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy()[0, 0], [[1, 0, 0, 1], [0, 0, 0, 0]])  # torch's index
    assert crossgrad.check(F.max_pool2d(x, 2).sum(), names={"x": x}).verdict == "convention"

    def to_window_corner(rule, g, saved, node):  # a real bug: always the window's top-left element
        flat, shape = saved[0], saved[1]
        corner = (flat // shape[3] // 2 * 2) * shape[3] + flat % shape[3] // 2 * 2
        return (np.bincount(corner.reshape(-1), g.reshape(-1), minlength=x.numel()).reshape(shape),)

    _plant(monkeypatch, "max_pool2d", to_window_corner)
    assert crossgrad.check(F.max_pool2d(x, 2).sum(), names={"x": x}).verdict == "mismatch"
