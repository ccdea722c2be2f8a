"""Regenerate higher_order_large.json with real PyTorch (needs torch; never run by the tests).

    python tests/golden/make_higher_order_large_golden.py

Per graph of tests/higher_large_graphs.py (float64, above the exact tier's size): torch's
Hessian-vector products by double backward along the module's fixed directions.
"""

from __future__ import annotations

import json
import pathlib
import sys

import torch

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2]))
from tests.higher_large_graphs import GRAPHS, double_backward  # noqa: E402

if __name__ == "__main__":
    torch.set_default_dtype(torch.float64)
    torch.manual_seed(0)
    target = pathlib.Path(__file__).with_name("higher_order_large.json")
    graphs = {name: [{k: h.tolist() for k, h in row.items()} for row in double_backward(torch, name)]
              for name in GRAPHS}
    target.write_text(json.dumps({"torch": torch.__version__, "hvps": graphs}))
    print(f"wrote {target} ({len(graphs)} graphs)")
