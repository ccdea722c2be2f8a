"""``crossgrad.utils.data``: Dataset, TensorDataset and DataLoader as in ``torch.utils.data``.

Shuffling draws as torch's DataLoader does (a base seed, then the RandomSampler's seed and
``randperm``) from the default generator or the loader's ``generator``, so under ``manual_seed``
the batch order is torch's.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from . import creation, torch_dists
from .tensor import Tensor


class Dataset:
    """Map-style dataset: subclasses define ``__getitem__`` and ``__len__`` (no default ``__len__``:
    ``len()`` of a dataset without one is Python's TypeError, as in torch)."""

    def __getitem__(self, index: int) -> Any:
        raise NotImplementedError(f"Dataset {type(self).__name__} is missing __getitem__")


class TensorDataset(Dataset):
    """Sample i is ``tuple(t[i] for t in tensors)``; all tensors share their first dimension."""

    def __init__(self, *tensors: Tensor) -> None:
        if not tensors:
            raise ValueError("TensorDataset needs at least one tensor")
        if any(t.shape[:1] != tensors[0].shape[:1] for t in tensors):
            from .data_more import SizeMismatch

            raise SizeMismatch("Size mismatch between tensors: " + ", ".join(str(list(t.shape)) for t in tensors))
        self.tensors = tensors

    def __getitem__(self, index: int) -> tuple[Tensor, ...]:
        return tuple(t[index] for t in self.tensors)

    def __len__(self) -> int:
        return self.tensors[0].shape[0]


def default_collate(batch: Sequence[Any]) -> Any:
    """Stack samples: tensors -> one tensor with a new batch dim; numbers -> a tensor; tuples,
    lists and dicts element-wise (torch's default_collate for these types)."""
    first = batch[0]
    if isinstance(first, Tensor):
        return Tensor._make(np.stack([s._data for s in batch]))
    if isinstance(first, np.ndarray):
        return creation.from_numpy(np.stack(batch))
    if isinstance(first, (bool, int, float, np.number)):
        return creation.tensor(list(batch), dtype=creation.dtypes.float64 if isinstance(first, float) else None)
    if isinstance(first, str):
        return list(batch)
    if isinstance(first, Mapping):
        return {k: default_collate([s[k] for s in batch]) for k in first}
    if isinstance(first, (tuple, list)):
        if any(len(s) != len(first) for s in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        columns = [default_collate(list(col)) for col in zip(*batch)]
        return type(first)(*columns) if hasattr(first, "_fields") else columns  # torch: tuples become lists
    raise TypeError(f"default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; "
                    f"found {type(first).__name__}")


def default_convert(data: Any) -> Any:
    """What an unbatched loader yields (torch's default_convert): arrays become tensors, tuples lists."""
    if isinstance(data, np.ndarray) and data.dtype.kind in "biuf":
        return creation.from_numpy(data)
    if isinstance(data, Mapping):
        return {k: default_convert(v) for k, v in data.items()}
    if isinstance(data, tuple) and not hasattr(data, "_fields"):
        return [default_convert(d) for d in data]
    return data


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``, in that order."""

    def __init__(self, dataset: Any, indices: Sequence[int]) -> None:
        self.dataset, self.indices = dataset, list(indices)

    def __getitem__(self, index: int) -> Any:
        return self.dataset[self.indices[index]]

    def __len__(self) -> int:
        return len(self.indices)


def random_split(dataset: Any, lengths: Sequence[float], generator: creation.Generator | None = None) -> list[Subset]:
    """Disjoint random Subsets of the given lengths (or fractions summing to 1, remainders spread
    round-robin as torch does), split from torch's ``randperm`` of the generator (the default one)."""
    n = len(dataset)
    if all(0 <= f <= 1 for f in lengths) and abs(sum(lengths) - 1) < 1e-9 and sum(lengths) != n:
        sizes = [int(np.floor(n * f)) for f in lengths]
        for i in range(n - sum(sizes)):
            sizes[i % len(sizes)] += 1
    else:
        sizes = [int(v) for v in lengths]
    if sum(sizes) != n:
        raise ValueError("Sum of input lengths does not equal the length of the input dataset!")
    order = torch_dists.randperm(creation._engine(generator), n).tolist()
    starts = np.cumsum([0, *sizes])
    return [Subset(dataset, order[a:b]) for a, b in zip(starts[:-1], starts[1:])]


class DataLoader:
    """Batches of a map-style dataset: batch_size, shuffle, drop_last, sampler, batch_sampler,
    collate_fn, generator."""

    def __init__(self, dataset: Any, batch_size: int | None = 1, shuffle: bool | None = None, sampler: Any = None,
                 batch_sampler: Any = None, num_workers: int = 0,
                 collate_fn: Callable[[list[Any]], Any] | None = None, pin_memory: bool = False,
                 drop_last: bool = False, timeout: float = 0, worker_init_fn: Any = None,
                 generator: creation.Generator | None = None, *, prefetch_factor: int | None = None,
                 persistent_workers: bool = False) -> None:
        """torch's parameter order; worker and memory-pinning options are kept and change nothing
        (one process, one device)."""
        from .data_samplers import loader_samplers

        if batch_size is not None and (not isinstance(batch_size, int) or batch_size <= 0):
            raise ValueError(f"batch_size should be a positive integer value, but got batch_size={batch_size}")
        self.sampler, self.batch_sampler = loader_samplers(dataset, batch_size, bool(shuffle), drop_last, sampler,
                                                           batch_sampler, generator)
        self.dataset, self.generator = dataset, generator
        self.batch_size, self.drop_last = (None, False) if batch_sampler is not None else (batch_size, drop_last)
        self.num_workers, self.pin_memory, self.timeout = num_workers, pin_memory, timeout
        self.worker_init_fn, self.prefetch_factor, self.persistent_workers = worker_init_fn, prefetch_factor, \
            persistent_workers
        self.collate_fn = collate_fn or (default_collate if self.batch_sampler is not None else default_convert)

    def __iter__(self) -> Iterator[Any]:
        """torch's iterator draws its workers' base seed (an int64 ``random_()``) from the loader's
        generator first; the sampler's own draws come at the first batch."""
        indices = iter(self.sampler if self.batch_sampler is None else self.batch_sampler)
        self._base_seed = torch_dists.random_int64(creation._engine(self.generator))
        if self.batch_sampler is None:
            return (self.collate_fn(self.dataset[i]) for i in indices)
        return (self.collate_fn([self.dataset[i] for i in batch]) for batch in indices)

    def __len__(self) -> int:
        return len(self.batch_sampler if self.batch_sampler is not None else self.sampler)
