"""``crossgrad.optim`` as in ``torch.optim``."""

from crossgrad.engine.numeric.optim import SGD, Optimizer

__all__ = ["SGD", "Optimizer"]
