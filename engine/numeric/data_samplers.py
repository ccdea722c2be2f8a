"""``torch.utils.data`` samplers: the DataLoader's order (``sampler=``) and batching (``batch_sampler=``).

RandomSampler draws as torch's does: without a ``generator``, a seed from the default generator
(``random_()`` of an int64) for a fresh Generator per pass, then ``randperm`` (or ``randint`` in
chunks of 32 with replacement) from it — so under ``manual_seed`` the order is torch's.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from . import creation
from . import torch_dists as dists


class Sampler:
    """Base class: an iterable of dataset indices (subclasses define ``__iter__``, maybe ``__len__``)."""

    def __init__(self, data_source: Any = None) -> None:
        pass

    def __iter__(self) -> Iterator[Any]:
        raise NotImplementedError(f"{type(self).__name__} is missing __iter__")


class SequentialSampler(Sampler):
    """0, 1, ..., len(data_source) - 1."""

    def __init__(self, data_source: Any) -> None:
        self.data_source = data_source

    def __iter__(self) -> Iterator[int]:
        return iter(range(len(self.data_source)))

    def __len__(self) -> int:
        return len(self.data_source)


class RandomSampler(Sampler):
    """A fresh permutation of the indices per pass (``replacement``: ``num_samples`` uniform draws)."""

    def __init__(self, data_source: Any, replacement: bool = False, num_samples: int | None = None,
                 generator: creation.Generator | None = None) -> None:
        if num_samples is not None and (not isinstance(num_samples, int) or num_samples <= 0):
            raise ValueError(f"num_samples should be a positive integer value, but got num_samples={num_samples}")
        self.data_source, self.replacement, self.generator = data_source, replacement, generator
        self._num_samples = num_samples

    @property
    def num_samples(self) -> int:
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __iter__(self) -> Iterator[int]:
        """A generator, as torch's: nothing is drawn until the first index is asked for."""
        n = len(self.data_source)
        if n == 0:
            return
        gen = self.generator
        if gen is None:
            gen = creation.Generator().manual_seed(dists.random_int64(creation._engine(None)))
        if self.replacement:
            for _ in range(self.num_samples // 32):
                yield from dists.randint(gen.engine, 32, 0, n).tolist()
            yield from dists.randint(gen.engine, self.num_samples % 32, 0, n).tolist()
            return
        for _ in range(self.num_samples // n):
            yield from dists.randperm(gen.engine, n).tolist()
        yield from dists.randperm(gen.engine, n).tolist()[:self.num_samples % n]

    def __len__(self) -> int:
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given indices in a fresh random order per pass."""

    def __init__(self, indices: Sequence[int], generator: creation.Generator | None = None) -> None:
        self.indices, self.generator = indices, generator

    def __iter__(self) -> Iterator[Any]:
        for i in dists.randperm(creation._engine(self.generator), len(self.indices)).tolist():
            yield self.indices[i]

    def __len__(self) -> int:
        return len(self.indices)


class BatchSampler(Sampler):
    """Lists of ``batch_size`` indices from ``sampler``; the short last one kept unless ``drop_last``."""

    def __init__(self, sampler: Iterable[Any], batch_size: int, drop_last: bool) -> None:
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size <= 0:
            raise ValueError(f"batch_size should be a positive integer value, but got batch_size={batch_size}")
        if not isinstance(drop_last, bool):
            raise ValueError(f"drop_last should be a boolean value, but got drop_last={drop_last}")
        self.sampler, self.batch_size, self.drop_last = sampler, batch_size, drop_last

    def __iter__(self) -> Iterator[list[Any]]:
        batch: list[Any] = []
        for index in self.sampler:
            batch.append(index)
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def __len__(self) -> int:
        n = len(self.sampler)  # type: ignore[arg-type]
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)


def loader_samplers(dataset: Any, batch_size: int | None, shuffle: bool, drop_last: bool, sampler: Any,
                    batch_sampler: Any, generator: creation.Generator | None) -> tuple[Any, Any]:
    """The DataLoader's (sampler, batch_sampler) as torch builds them, with torch's refusals."""
    if batch_sampler is not None:
        if batch_size != 1 or shuffle or sampler is not None or drop_last:
            raise ValueError("batch_sampler option is mutually exclusive with batch_size, shuffle, sampler, "
                             "and drop_last")
        return sampler or SequentialSampler(dataset), batch_sampler
    if sampler is not None and shuffle:
        raise ValueError("sampler option is mutually exclusive with shuffle")
    if sampler is None:
        sampler = RandomSampler(dataset, generator=generator) if shuffle else SequentialSampler(dataset)
    return sampler, None if batch_size is None else BatchSampler(sampler, batch_size, drop_last)


__all__ = ["BatchSampler", "RandomSampler", "Sampler", "SequentialSampler", "SubsetRandomSampler"]
