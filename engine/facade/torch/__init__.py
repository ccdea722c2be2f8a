"""crossgrad.torch: check real PyTorch code (the one package that imports torch).

    request = from_torch(model, (x, y))           # a CheckRequest: check() it or send it
    gradcheck(MySigmoid.apply, (x,))              # torch.autograd.gradcheck's call shape
    gradgradcheck(MySigmoid.apply, (x,))          # second derivatives: torch's double backward judged

Install with ``pip install "crossgrad[torch]"``.
"""

from .bridge import from_torch
from .build import UnsupportedOpError
from .gradcheck import GradcheckError, gradcheck
from .gradgradcheck import gradgradcheck

__all__ = ["GradcheckError", "UnsupportedOpError", "from_torch", "gradcheck", "gradgradcheck"]
