"""``crossgrad.utils`` as in ``torch.utils`` (only ``data``)."""

from crossgrad.utils import data

__all__ = ["data"]
