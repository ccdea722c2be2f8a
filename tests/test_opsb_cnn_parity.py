"""Issue 12 as a PyTorch user writes it: conv1d/conv2d/conv_transpose2d options (int/tuple/'same'/
'valid' padding, dilation, groups, bias=None, output_padding, padding_mode, output_size), pooling
options (stride default, padding, dilation, ceil_mode, return_indices, count_include_pad,
divisor_override, adaptive sizes), batch norm's running statistics (momentum, momentum=None,
num_batches_tracked, track_running_stats=False, affine=False, 1d on 2-D and 3-D), flatten,
interpolate modes, pad, module names and state_dict keys, a LeNet-style net, and torch's error
types. Each case (tests/golden/opsb_cnn_cases.py) runs under ``import crossgrad as torch`` and is
compared with torch 2.13's recorded result (opsb_sweep.json) and, when installed, live torch."""

from __future__ import annotations

import pytest

from tests.golden.opsb_cnn_cases import CASES
from tests.opsb_parity import check_case


@pytest.mark.parametrize("name", list(CASES))
def test_as_torch(name: str) -> None:
    """Against torch 2.13's recorded result, and against live torch when it is installed."""
    check_case(name, CASES[name])
