"""The everyday ops transformer and CNN code reaches for (the opsb sweep of issue 11's surface):
``torch.einsum`` and the rest, installed onto the facade by :func:`install`."""

from __future__ import annotations

from . import addmm_family as _addmm
from . import functional_everyday as _functional
from . import nn_hooks as _hooks
from . import shape_everyday as _shape
from .addmm_family import addbmm, addmm, addmv, baddbmm
from .einsum import einsum
from .functional_everyday import arctan2, atan2, cumprod
from .shape_everyday import repeat_interleave, tensor_split

__all__ = ["addbmm", "addmm", "addmv", "arctan2", "atan2", "baddbmm", "cumprod", "einsum", "install",
           "repeat_interleave", "tensor_split"]

FUNCTIONS = ("einsum", *_addmm.FUNCTIONS, *_shape.FUNCTIONS, *_functional.FUNCTIONS)


def install() -> None:
    """Bind the Tensor methods (the functions are bound by name in crossgrad's __init__)."""
    _addmm.install()
    _shape.install()
    _functional.install()
    _hooks.install()
