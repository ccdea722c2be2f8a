"""``crossgrad.special``: torch.special's names for catalogue ops."""

from crossgrad.engine.numeric.functional_reductions import logsumexp
from crossgrad.engine.numeric.tensor_compat import log_softmax, softmax
from crossgrad.engine.numeric.torch_functions import erf, expm1, log1p, sigmoid

expit = sigmoid

__all__ = ["erf", "expit", "expm1", "log1p", "log_softmax", "logsumexp", "softmax"]
