"""Real PyTorch models through from_torch: the examples' GPT block (both attention forms, dropout
on: its masks are recorded leaves) and the ResNet block; every parameter's gradient must agree."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="the torch bridge needs the crossgrad[torch] extra")

from crossgrad.engine.check import check  # noqa: E402
from crossgrad.engine.graph import OpNode  # noqa: E402
from crossgrad.torch import from_torch, gradcheck  # noqa: E402

sys.path.insert(0, str(Path(__file__).parents[1] / "examples" / "models"))
import gpt_block  # noqa: E402
import resnet_block  # noqa: E402


@pytest.mark.parametrize("sdpa", [False, True])
def test_the_examples_gpt_block_in_training_mode_agrees(sdpa):
    torch.manual_seed(0)
    model = gpt_block.build(torch, sdpa=sdpa).double()
    idx, targets = torch.randint(0, 16, (2, 6)), torch.randint(0, 16, (2, 6))
    torch.manual_seed(1)
    request = from_torch(model, (idx, targets))
    torch.manual_seed(1)
    loss = model(idx, targets)
    ops = {n.op for n in request.graph.nodes if isinstance(n, OpNode)}
    assert {"embedding", "layer_norm", "dropout", "cross_entropy"} <= ops
    assert ("masked_fill" in ops) != sdpa and ("where" in ops) == sdpa
    report = check(request)
    np.testing.assert_allclose(report.output, loss.item(), rtol=1e-12)
    assert report.verdict == "agree", str(report)
    torch.manual_seed(1)
    assert gradcheck(model, (idx, targets)) is True


def test_the_examples_resnet_block_agrees():
    model = resnet_block.build(torch, channels=4, dtype=torch.float64)
    resnet_block.init(torch, model, torch.float64)
    x, y = resnet_block.data(torch, 2, torch.float64, channels=4, size=4)
    request = from_torch(lambda x: torch.nn.functional.cross_entropy(model(x), y), (x,))
    assert {"conv2d", "batch_norm", "relu"} <= {n.op for n in request.graph.nodes if isinstance(n, OpNode)}
    report = check(request)
    assert report.verdict == "agree", str(report)
