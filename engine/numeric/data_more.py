"""ConcatDataset (and ``Dataset + Dataset``) as torch.utils.data has them."""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from typing import Any

from .data import Dataset


class SizeMismatch(ValueError, AssertionError):
    """TensorDataset's tensors differ in their first dimension (torch asserts; a ValueError too)."""


class ConcatDataset(Dataset):
    """The datasets one after the other; ``cumulative_sizes`` as torch's."""

    def __init__(self, datasets: Iterable[Any]) -> None:
        self.datasets = list(datasets)
        if not self.datasets:
            raise SizeMismatch("datasets should not be an empty iterable")
        self.cumulative_sizes: list[int] = []
        total = 0
        for d in self.datasets:
            total += len(d)
            self.cumulative_sizes.append(total)

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def __getitem__(self, index: int) -> Any:
        if index < 0:
            if -index > len(self):
                raise ValueError("absolute value of index should not exceed dataset length")
            index += len(self)
        which = bisect.bisect_right(self.cumulative_sizes, index)
        start = self.cumulative_sizes[which - 1] if which else 0
        return self.datasets[which][index - start]


def _add(self: Dataset, other: Dataset) -> ConcatDataset:
    return ConcatDataset([self, other])


setattr(Dataset, "__add__", _add)  # noqa: B010 (torch.utils.data.Dataset.__add__)
