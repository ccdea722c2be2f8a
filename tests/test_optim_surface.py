"""optim.Adam / AdamW and the lr schedulers against real torch 2.13 (golden values in surface.json)."""

from __future__ import annotations

import json
import pathlib

import crossgrad as torch
import numpy as np
import pytest
from crossgrad.optim.lr_scheduler import CosineAnnealingLR, StepLR

GOLDEN = json.loads(pathlib.Path(__file__).with_name("golden").joinpath("surface.json").read_text())
TOL = {"float32": dict(rtol=2e-5, atol=2e-6), "float64": dict(rtol=1e-11, atol=1e-12)}


def _start(dtype):
    rng = np.random.default_rng(7)
    return [rng.standard_normal((3, 2)).astype(dtype), rng.standard_normal(4).astype(dtype)]


def _run(name, kwargs, dtype, steps=3):
    ps = [torch.tensor(a, requires_grad=True) for a in _start(dtype)]
    opt = getattr(torch.optim, name)(ps, **kwargs)
    for _ in range(steps):
        opt.zero_grad()
        w, b = ps
        ((w ** 3).sum() * 0.5 - torch.sin(b).sum() + (w * w).sum() * (b * b).sum()).backward()
        opt.step()
    return ps


@pytest.mark.parametrize("case", GOLDEN["optim"], ids=lambda c: f"{c['optim']}-{c['dtype']}-{c['kwargs']}")
def test_adam_family_matches_torch_after_three_steps(case):
    kwargs = {k: tuple(v) if k == "betas" else v for k, v in case["kwargs"].items()}
    ps = _run(case["optim"], kwargs, case["dtype"])
    for p, want in zip(ps, case["params"]):
        assert p.dtype == getattr(torch, case["dtype"])
        np.testing.assert_allclose(p.detach().numpy(), np.array(want), **TOL[case["dtype"]])


def test_golden_covers_amsgrad_weight_decay_and_both_dtypes():
    seen = {(c["optim"], c["kwargs"].get("amsgrad", False), bool(c["kwargs"].get("weight_decay")), c["dtype"])
            for c in GOLDEN["optim"]}
    assert ("Adam", True, True, "float32") in seen and ("AdamW", True, True, "float64") in seen


def test_adamw_is_not_adam_with_l2():
    """A planted confusion must show: the two rules differ once weight decay is on."""
    a = _run("Adam", {"lr": 0.05, "weight_decay": 0.5}, "float64")
    w = _run("AdamW", {"lr": 0.05, "weight_decay": 0.5}, "float64")
    assert not np.allclose(a[0].detach().numpy(), w[0].detach().numpy(), rtol=1e-6)


def test_first_adam_step_is_lr_times_sign():
    """Closed form: after one step with bias correction, m/sqrt(v) = g/|g|, so p moves by lr (eps aside)."""
    p = torch.tensor([1.0, -2.0, 3.0], dtype=torch.float64, requires_grad=True)
    opt = torch.optim.Adam([p], lr=0.1, eps=0.0)
    (p * torch.tensor([2.0, -5.0, 0.5], dtype=torch.float64)).sum().backward()
    opt.step()
    np.testing.assert_allclose(p.detach().numpy(), [0.9, -1.9, 2.9], rtol=1e-14)


@pytest.mark.parametrize("case", GOLDEN["schedulers"], ids=lambda c: f"{c['scheduler']}-{c['kwargs']}")
def test_scheduler_lr_sequence_matches_torch(case):
    p = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([p], lr=0.1)
    sched = getattr(torch.optim.lr_scheduler, case["scheduler"])(opt, **case["kwargs"])
    lrs = []
    for _ in range(len(case["lrs"])):
        lrs.append(sched.get_last_lr()[0])
        opt.step()
        sched.step()
    np.testing.assert_allclose(lrs, case["lrs"], rtol=1e-13, atol=1e-15)
    assert opt.param_groups[0]["lr"] == sched.get_last_lr()[0]


def test_step_lr_closed_form_and_cosine_endpoints():
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1.0)
    sched = StepLR(opt, step_size=2, gamma=0.5)
    seq = []
    for _ in range(6):
        seq.append(sched.get_last_lr()[0])
        sched.step()
    assert seq == [1.0, 1.0, 0.5, 0.5, 0.25, 0.25]
    opt2 = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1.0)
    cos = CosineAnnealingLR(opt2, T_max=4, eta_min=0.2)
    for _ in range(4):
        cos.step()
    assert cos.get_last_lr()[0] == pytest.approx(0.2, abs=1e-12)


@pytest.mark.parametrize("kwargs, message", [
    ({"lr": -1.0}, "Invalid learning rate: -1.0"),
    ({"betas": (0.9, 1.0)}, "Invalid beta parameter at index 1: 1.0"),
    ({"eps": -1e-8}, "Invalid epsilon value"),
    ({"weight_decay": -0.1}, "Invalid weight_decay value"),
])
def test_adam_rejects_bad_hyperparameters_with_torch_messages(kwargs, message):
    with pytest.raises(ValueError, match=message):
        torch.optim.Adam([torch.zeros(1, requires_grad=True)], **kwargs)


def test_optimizer_state_dict_resumes_exactly_through_save_and_load(tmp_path):
    """3 steps straight == 1 step, save model+optimizer, load into fresh objects, 2 more steps."""
    straight = _run("AdamW", {"lr": 0.05, "amsgrad": True}, "float64", steps=3)
    ps = [torch.tensor(a, requires_grad=True) for a in _start("float64")]
    opt = torch.optim.AdamW(ps, lr=0.05, amsgrad=True)

    def step(ps, opt):
        opt.zero_grad()
        w, b = ps
        ((w ** 3).sum() * 0.5 - torch.sin(b).sum() + (w * w).sum() * (b * b).sum()).backward()
        opt.step()
    step(ps, opt)
    torch.save({"params": [p.detach() for p in ps], "optim": opt.state_dict()}, tmp_path / "ckpt")
    ckpt = torch.load(tmp_path / "ckpt")
    ps2 = [t.clone().requires_grad_() for t in ckpt["params"]]
    opt2 = torch.optim.AdamW(ps2, lr=0.05, amsgrad=True)
    opt2.load_state_dict(ckpt["optim"])
    assert opt2.state_dict()["param_groups"][0]["params"] == [0, 1] and opt2.state[ps2[0]]["step"] == 1
    step(ps2, opt2)
    step(ps2, opt2)
    for p, q in zip(ps2, straight):
        np.testing.assert_array_equal(p.detach().numpy(), q.detach().numpy())
