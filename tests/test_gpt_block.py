"""examples/models/gpt_block.py: the causal LM written as PyTorch code trains on crossgrad and
crossgrad.check agrees on every element of every parameter, in float32 and float64, with both
attention forms (masked_fill -inf + softmax, and scaled_dot_product_attention)."""

from __future__ import annotations

import importlib.util
import pathlib

import crossgrad as torch
import pytest

SPEC = importlib.util.spec_from_file_location(
    "gpt_block", pathlib.Path(__file__).parents[1] / "examples" / "models" / "gpt_block.py")
gpt_block = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(gpt_block)


@pytest.mark.parametrize("sdpa", [False, True])
@pytest.mark.parametrize("double", [False, True])
def test_gpt_block_trains_and_checks(sdpa, double):
    torch.manual_seed(0)
    model = gpt_block.build(torch, vocab=8, d_model=4, heads=2, seq=4, sdpa=sdpa)
    if double:
        model = model.double()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)
    idx, targets = torch.randint(0, 8, (2, 4)), torch.randint(0, 8, (2, 4))
    losses = []
    for _ in range(3):
        optimizer.zero_grad()
        loss = model(idx, targets)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0]
    model.eval()
    names = dict(model.named_parameters())
    report = torch.check(model(idx, targets), names=names)
    assert report.verdict == "agree", str(report)
    assert {leaf.name for leaf in report.leaves} == set(names)


@pytest.mark.parametrize("sdpa", [False, True])
def test_parameters_after_3_adamw_steps_match_pytorch(sdpa):
    """The same weights and data in both libraries (dropout off), 3 AdamW steps: every parameter
    agrees with real PyTorch (float64; needs torch, installed in CI by the torch extra)."""
    real = pytest.importorskip("torch")
    import numpy as np

    sizes = dict(vocab=8, d_model=4, heads=2, seq=4, sdpa=sdpa)
    torch.manual_seed(0)
    ours = gpt_block.build(torch, **sizes).double()
    theirs = gpt_block.build(real, **sizes).double()
    theirs.load_state_dict({k: real.tensor(v.detach().numpy()) for k, v in ours.state_dict().items()})
    idx = np.random.default_rng(1).integers(0, 8, (2, 4))
    targets = np.random.default_rng(2).integers(0, 8, (2, 4))
    for model, lib in ((ours, torch), (theirs, real)):
        model.eval()
        optimizer = lib.optim.AdamW(model.parameters(), lr=1e-2, weight_decay=0.01)
        for _ in range(3):
            optimizer.zero_grad()
            model(lib.tensor(idx), lib.tensor(targets)).backward()
            optimizer.step()
    want = {k: v.detach().numpy() for k, v in theirs.state_dict().items()}
    for name, value in ours.state_dict().items():
        np.testing.assert_allclose(value.detach().numpy(), want[name], rtol=1e-9, atol=1e-11, err_msg=name)
