"""Tensor.random_ draws torch's integers under manual_seed (values recorded from torch 2.13)."""

import crossgrad as torch
import pytest

# torch.manual_seed(3); torch.empty(4, dtype=dtype).random_(*bounds).tolist()
RECORDED = {
    ("float32", ()): [71389.0, 1771142.0, 4795460.0, 452012.0],
    ("float32", (10,)): [6.0, 8.0, 7.0, 7.0],
    ("float32", (-5, 5)): [1.0, 3.0, 2.0, 2.0],
    ("float64", ()): [307219314442800.0, 2582726356426969.0, 6961798910534005.0, 1575602607775487.0],
    ("float64", (10,)): [6.0, 8.0, 7.0, 7.0],
    ("int64", ()): [937055941807507096, 3839649608876091011, 5366245355481424840, 199733986212078357],
    ("int64", (-5, 5)): [1, 3, 2, 2],
}


@pytest.mark.parametrize(("dtype", "bounds"), list(RECORDED))
def test_random_draws_torchs_integers(dtype, bounds):
    torch.manual_seed(3)
    x = torch.empty(4, dtype=getattr(torch, dtype))
    assert x.random_(*bounds) is x
    assert x.tolist() == RECORDED[(dtype, bounds)]


def test_keywords_and_a_generator_draw_the_same_as_positional_bounds():
    a = torch.empty(6).random_(2, 9, generator=torch.Generator().manual_seed(5))
    b = torch.empty(6).random_(**{"from": 2, "to": 9}, generator=torch.Generator().manual_seed(5))
    assert a.tolist() == b.tolist()
    assert all(2 <= v < 9 for v in a.tolist())


def test_a_leaf_that_requires_grad_refuses_random_():
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        torch.ones(2, requires_grad=True).random_()


def test_empty_range_is_torchs_error():
    with pytest.raises(RuntimeError, match="from"):
        torch.empty(2).random_(5, 5)


def test_same_as_torch_live():
    real = pytest.importorskip("torch")
    for seed in (0, 11):
        real.manual_seed(seed)
        torch.manual_seed(seed)
        assert torch.empty(33).random_().tolist() == real.empty(33).random_().tolist()
        assert torch.empty(5, dtype=torch.int64).random_(100).tolist() == \
            real.empty(5, dtype=real.int64).random_(100).tolist()
