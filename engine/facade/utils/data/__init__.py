"""``crossgrad.utils.data`` as in ``torch.utils.data``."""

from crossgrad.engine.numeric.data import DataLoader, Dataset, TensorDataset, default_collate

__all__ = ["DataLoader", "Dataset", "TensorDataset", "default_collate"]
