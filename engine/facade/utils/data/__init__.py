"""``crossgrad.utils.data`` as in ``torch.utils.data``."""

from crossgrad.engine.numeric.data import (
    DataLoader,
    Dataset,
    Subset,
    TensorDataset,
    default_collate,
    default_convert,
    random_split,
)

__all__ = ["DataLoader", "Dataset", "Subset", "TensorDataset", "default_collate", "default_convert", "random_split"]

from crossgrad.engine.numeric.data_more import ConcatDataset  # noqa: E402

__all__ += ["ConcatDataset"]

from crossgrad.engine.numeric.data_samplers import (  # noqa: E402
    BatchSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
)

__all__ += ["BatchSampler", "RandomSampler", "Sampler", "SequentialSampler", "SubsetRandomSampler"]
