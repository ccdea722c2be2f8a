"""examples/seed_autograd.py: every experiment of the study, checked by value."""

from __future__ import annotations

import importlib.util
import pathlib
import subprocess
import sys

import numpy as np

EXAMPLE = pathlib.Path(__file__).parents[1] / "examples" / "seed_autograd.py"


def _load():
    spec = importlib.util.spec_from_file_location("seed_autograd", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_walkthrough_prints_the_notebooks_experiments():
    out = subprocess.run([sys.executable, str(EXAMPLE)], capture_output=True, text=True,
                         check=True, timeout=120).stdout
    assert "Gradient function for z = <AddBackward0 object at 0x" in out
    assert "Gradient function for loss = <BinaryCrossEntropyWithLogitsBackward0 object at 0x" in out
    assert "RuntimeError: Trying to backward through the graph a second time" in out
    assert "True\nFalse\nBefore detach():  True\nAfter detach():  False" in out
    assert "(0): Linear(in_features=784, out_features=512, bias=True)" in out
    assert out.count("loss.backward() tensor([") == 20
    for g in ("0.1083, 0.0369, 0.0726", "0.2166, 0.0739, 0.1452"):  # the study's printed numbers
        rows = ",\n".join([f"[[{g}]"] + [f"        [{g}]"] * 4)
        assert f"Derivative of w:  tensor({rows}])\nDerivative of b:  tensor([{g}])" in out


def test_retain_graph_doubling_equals_twice_one_backward():
    seed = _load()
    *_, w1, b1, _, loss1 = seed.seed_graph(seed=1)
    loss1.backward()
    *_, w2, b2, _, loss2 = seed.seed_graph(seed=1)
    loss2.backward(retain_graph=True)
    loss2.backward()
    np.testing.assert_allclose(w2.grad.numpy(), 2 * w1.grad.numpy(), rtol=1e-6)
    np.testing.assert_allclose(b2.grad.numpy(), 2 * b1.grad.numpy(), rtol=1e-6)
    assert (w1.grad.numpy() == b1.grad.numpy()).all()  # every row of dL/dw is dL/db (x = ones)


def test_training_with_zero_grad_is_constant_and_without_it_grows_linearly():
    seed = _load()
    with_zero = seed.train_loop(zero_grad=True, quiet=True)
    without = seed.train_loop(zero_grad=False, quiet=True)
    g0 = with_zero[0]
    assert np.abs(g0).max() > 1e-3  # a real signal, not all zeros
    for g in with_zero:  # lr = 1e-4 moves the parameters only slightly
        np.testing.assert_allclose(g, g0, rtol=0.02, atol=1e-4)
    for k, g in enumerate(without, start=1):
        np.testing.assert_allclose(g, k * g0, rtol=0.02, atol=1e-4 * k)
    frozen = seed.train_loop(zero_grad=False, lr=0.0, quiet=True)  # nothing moves: exactly k g0
    for k, g in enumerate(frozen, start=1):
        np.testing.assert_allclose(g, k * g0, rtol=1e-5, atol=1e-9)
