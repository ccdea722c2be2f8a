"""``crossgrad.optim.lr_scheduler`` as in ``torch.optim.lr_scheduler``."""

from crossgrad.engine.numeric.lr_scheduler import CosineAnnealingLR, LRScheduler, StepLR

__all__ = ["CosineAnnealingLR", "LRScheduler", "StepLR"]

from crossgrad.engine.numeric.lr_scheduler_extra import ExponentialLR, LambdaLR, LinearLR, MultiStepLR  # noqa: E402

__all__ += ["ExponentialLR", "LambdaLR", "LinearLR", "MultiStepLR"]

from crossgrad.engine.numeric import lr_scheduler_more as _more  # noqa: E402
from crossgrad.engine.numeric.lr_scheduler_more import *  # noqa: E402,F403

__all__ += _more.__all__
