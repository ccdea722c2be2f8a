"""``crossgrad.autograd``: ``grad`` and ``backward`` as in ``torch.autograd``,
``crossgrad.autograd.functional`` (vjp, jvp, jacobian, hessian, hvp, vhp), and ``gradcheck`` /
``gradgradcheck`` (crossgrad's, judged three ways) where torch has them."""

import sys

from crossgrad.checking import gradcheck
from crossgrad.checking_order2 import gradgradcheck
from crossgrad.engine.numeric import ad_functional as functional
from crossgrad.engine.numeric.autograd import enable_grad, no_grad, set_grad_enabled
from crossgrad.engine.numeric.grad_api import backward, grad

sys.modules[__name__ + ".functional"] = functional  # import crossgrad.autograd.functional

__all__ = ["backward", "enable_grad", "functional", "grad", "gradcheck", "gradgradcheck", "no_grad",
           "set_grad_enabled"]
