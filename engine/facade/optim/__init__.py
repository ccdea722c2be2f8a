"""``crossgrad.optim`` as in ``torch.optim``."""

from crossgrad.engine.numeric.optim import SGD, Optimizer
from crossgrad.engine.numeric.optim_adam import Adam, AdamW
from crossgrad.optim import lr_scheduler

__all__ = ["SGD", "Adam", "AdamW", "Optimizer", "lr_scheduler"]

from crossgrad.engine.numeric.optim_more import Adagrad, RMSprop  # noqa: E402

__all__ += ["Adagrad", "RMSprop"]
