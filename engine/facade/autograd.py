"""``crossgrad.autograd``: ``grad`` and ``backward`` as in ``torch.autograd``."""

from crossgrad.engine.numeric.autograd import enable_grad, no_grad, set_grad_enabled
from crossgrad.engine.numeric.grad_api import backward, grad

__all__ = ["backward", "enable_grad", "grad", "no_grad", "set_grad_enabled"]
