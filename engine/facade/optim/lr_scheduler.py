"""``crossgrad.optim.lr_scheduler`` as in ``torch.optim.lr_scheduler``."""

from crossgrad.engine.numeric.lr_scheduler import CosineAnnealingLR, LRScheduler, StepLR

__all__ = ["CosineAnnealingLR", "LRScheduler", "StepLR"]
