"""The everyday ops transformer and CNN code reaches for (the opsb sweep of issue 11's surface):
``torch.einsum`` and the rest, installed onto the facade by :func:`install`."""

from __future__ import annotations

from .einsum import einsum

__all__ = ["einsum", "install"]

FUNCTIONS = ("einsum",)


def install() -> None:
    """Bind the Tensor methods (the functions are bound by name in crossgrad's __init__)."""
