"""ATen overloads the bridge parity sweep found refused or mis-decomposed (one line each).

- ``max_pool2d_with_indices`` (``F.max_pool2d(..., return_indices=True)``, ``nn.MaxPool2d(return_indices=
  True)``): the values are the catalogue's max_pool2d; the indices output is data (an int64
  tensor, recorded for these inputs where it is read). PyTorch's decomposition pads with -inf,
  a float attribute the graph validator refuses.
"""

from __future__ import annotations

from .aten import Rule, _max_pool

PARITY: dict[str, tuple[tuple[str, ...], Rule]] = {
    "aten.max_pool2d_with_indices.default": (("max_pool2d",), lambda e, a, k: (_max_pool(e, a, k), None)),
}
