"""``python -m crossgrad.torch export``: a PyTorch computation to a request file ``crossgrad check`` reads."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

pytest.importorskip("torch", reason="the torch bridge needs the crossgrad[torch] extra")

MODEL = textwrap.dedent("""
    import torch
    from torch import nn

    def make():
        torch.manual_seed(0)
        net = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
        x = torch.randn(5, 3)
        return (lambda x: (net(x) ** 2).mean()), (x,)

    def wrong():
        net = nn.Linear(3, 2)
        net.weight.register_hook(lambda g: 2 * g)  # PyTorch's gradient of the weight, doubled
        return (lambda x: net(x).sum()), (torch.randn(4, 3),)
""")


def _run(*args: str, cwd) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, cwd=cwd, timeout=120)


def test_export_writes_a_request_the_check_command_reads(tmp_path):
    (tmp_path / "model.py").write_text(MODEL)
    done = _run("-m", "crossgrad.torch", "export", "model:make", "--out", "req.json", "--claimed", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    request = json.loads((tmp_path / "req.json").read_text())
    ops = [n["op"]["op"] for n in request["graph"]["nodes"] if "op" in n]
    assert ops == ["linear", "tanh", "linear", "pow", "mean"]
    grad_leaves = [n["name"] for n in request["graph"]["nodes"] if n.get("leaf", {}).get("requiresGrad")]
    assert grad_leaves == ["net.0.weight", "net.0.bias", "net.2.weight", "net.2.bias"]  # closed over, named
    assert set(request["claimed"]) == set(grad_leaves)
    checked = _run("-m", "crossgrad.client.cli", "check", "req.json", "--json", cwd=tmp_path)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert json.loads(checked.stdout)["verdict"] == "VERDICT_AGREE"


def test_a_wrong_claimed_gradient_in_the_file_fails_the_check(tmp_path):
    (tmp_path / "model.py").write_text(MODEL)
    done = _run("-m", "crossgrad.torch", "export", "model:wrong", "--out", "req.json", "--claimed", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    checked = _run("-m", "crossgrad.client.cli", "check", "req.json", cwd=tmp_path)
    assert checked.returncode != 0 and "net.weight [2, 3] float32: mismatch — suspect: claimed" in checked.stdout


def test_export_refuses_a_bad_target(tmp_path):
    done = _run("-m", "crossgrad.torch", "export", "nocolon", cwd=tmp_path)
    assert done.returncode == 2 and "MODULE:NAME" in done.stderr
