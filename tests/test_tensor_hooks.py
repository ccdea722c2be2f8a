"""Tensor.register_hook: values derived by hand (y = 2x, z = sum(y^2): dz/dy = 2y = 4x) and, when
torch is installed, the same program under torch."""

import crossgrad
import pytest


def _program(lib):
    out = {}
    x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
    seen = []
    handle = x.register_hook(lambda g: seen.append(g.tolist()))
    y = x * 2
    y.register_hook(lambda g: g * 10)  # replaces dz/dy = 4x by 40x
    y.retain_grad()
    (y ** 2).sum().backward()
    out["x.grad"], out["y.grad"], out["seen"] = x.grad.tolist(), y.grad.tolist(), seen
    handle.remove()
    x.grad = None
    (x * 3).sum().backward()
    out["after remove"] = (x.grad.tolist(), len(seen))
    w = lib.ones(2, requires_grad=True)
    w.register_hook(lambda g: g * 0 + 7)
    (w * 5).sum().backward()
    out["leaf replaced"] = w.grad.tolist()
    a = lib.tensor([1.0, 2.0], requires_grad=True)
    b = a * a
    b.register_hook(lambda g: g * 2)
    out["autograd.grad"] = lib.autograd.grad(b.sum(), a)[0].tolist()
    c = lib.tensor([1.5], requires_grad=True)
    d = c ** 3
    d.register_hook(lambda g: g * 2)
    (first,) = lib.autograd.grad(d.sum(), c, create_graph=True)
    out["create_graph"] = (first.tolist(), lib.autograd.grad(first.sum(), c)[0].tolist())
    return out


EXPECTED = {
    "x.grad": [80.0, 160.0, 240.0],  # 40x * dy/dx = 80x
    "y.grad": [40.0, 80.0, 120.0],  # retain_grad stores the hooked gradient (torch 2.x order)
    "seen": [[80.0, 160.0, 240.0]],  # the leaf's hook sees what reaches .grad
    "after remove": ([3.0, 3.0, 3.0], 1),
    "leaf replaced": [7.0, 7.0],
    "autograd.grad": [4.0, 8.0],  # 2 * 2a
    "create_graph": ([13.5], [18.0]),  # 2 * 3c^2 = 13.5; its derivative 12c = 18
}


def test_hooks_see_and_replace_gradients():
    assert _program(crossgrad) == EXPECTED


def test_same_as_torch():
    torch = pytest.importorskip("torch")
    assert _program(torch) == EXPECTED


def test_a_tensor_that_needs_no_grad_refuses_a_hook():
    with pytest.raises(RuntimeError, match="doesn't require gradient"):
        crossgrad.ones(2).register_hook(lambda g: g)


def test_a_hook_may_not_change_the_shape():
    x = crossgrad.ones(2, requires_grad=True)
    x.register_hook(lambda g: crossgrad.ones(3))
    with pytest.raises(RuntimeError, match="changed the size"):
        (x * 1).sum().backward()


def test_a_hook_table_goes_with_its_tensor():
    from crossgrad.engine.numeric.autograd import HOOK_TABLES

    before = len(HOOK_TABLES)
    x = crossgrad.ones(2, requires_grad=True)
    x.register_hook(lambda g: g)
    assert len(HOOK_TABLES) == before + 1
    del x
    assert len(HOOK_TABLES) == before
