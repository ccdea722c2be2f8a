"""crossgrad: PyTorch's autograd API on a numpy engine, cross-checked three ways.

``import crossgrad as torch`` runs the autograd tutorial's code: tensors, ``requires_grad``,
``grad_fn``, ``backward``, ``no_grad``, ``nn`` and ``optim``.
"""

from importlib import metadata as _metadata

from crossgrad import autograd, nn, optim
from crossgrad.checking import GradcheckError, assert_gradients, check, gradcheck
from crossgrad.checking_order2 import gradgradcheck
from crossgrad.engine.errors import CrossgradError, GradientMismatch
from crossgrad.engine.numeric import (
    Generator,
    Size,
    Tensor,
    arange,
    bool_,
    default_generator,
    double,
    dtype,
    enable_grad,
    float32,
    float64,
    from_numpy,
    full,
    int64,
    is_grad_enabled,
    long,
    manual_seed,
    no_grad,
    ones,
    ones_like,
    rand,
    randn,
    set_grad_enabled,
    tensor,
    zeros,
    zeros_like,
)
from crossgrad.engine.numeric.dtypes import float  # noqa: A004  (torch.float is float32)
from crossgrad.engine.numeric.functional import (
    abs,
    exp,
    linear,
    log,
    log_softmax,
    matmul,
    maximum,
    minimum,
    relu,
    sigmoid,
    softmax,
    softplus,
    sqrt,
    tanh,
)
from crossgrad.engine.numeric.functional_elementwise import (  # issue 11, part A
    clamp,
    cos,
    erf,
    expm1,
    log1p,
    reciprocal,
    rsqrt,
    sin,
    square,
    where,
)
from crossgrad.engine.numeric.functional_masks import (  # issue 11, part A
    eq,
    full_like,
    ge,
    greater,
    greater_equal,
    gt,
    le,
    less,
    less_equal,
    lt,
    ne,
    not_equal,
    tril,
    triu,
)
from crossgrad.engine.numeric.functional_reductions import (
    amax,
    amin,
    argmin,
    cumsum,
    logsumexp,
    max,
    min,
    norm,
    prod,
    std,
    var,
)
from crossgrad.engine.numeric.shape_api import (
    cat,
    chunk,
    flip,
    gather,
    index_select,
    scatter_add,
    split,
    squeeze,
    stack,
    unsqueeze,
)
from crossgrad.engine.report import Report
from crossgrad.engine.tolerance import Tolerance

try:  # the one source of the version is pyproject.toml (the installed distribution's metadata)
    __version__ = _metadata.version("crossgrad")
except _metadata.PackageNotFoundError:  # pragma: no cover - running from a tree that was never installed
    __version__ = "0+unknown"

__all__ = [
    "amax", "amin", "argmin", "cumsum", "logsumexp", "max", "min", "norm", "prod", "std", "var",
    "abs", "arange", "assert_gradients", "autograd", "bool_", "check", "CrossgradError", "default_generator",
    "double", "dtype", "enable_grad", "exp", "float", "float32", "float64", "from_numpy", "full",
    "Generator", "gradcheck", "GradcheckError", "gradgradcheck", "GradientMismatch", "int64", "is_grad_enabled",
    "linear",
    "log", "log_softmax", "long", "manual_seed", "matmul", "maximum", "minimum", "nn", "no_grad", "ones",
    "ones_like", "optim", "rand", "randn", "relu", "Report", "set_grad_enabled", "sigmoid", "Size",
    "softmax", "softplus", "sqrt", "tanh", "Tensor", "tensor", "Tolerance", "zeros", "zeros_like",
]
__all__ += ["eq", "full_like", "ge", "greater", "greater_equal", "gt", "le", "less", "less_equal", "lt", "ne",
            "not_equal", "tril", "triu"]
__all__ += ["cat", "stack", "chunk", "flip", "gather", "index_select", "scatter_add", "split", "squeeze",
            "unsqueeze"]
__all__ += ["clamp", "clip", "cos", "erf", "expm1", "log1p", "reciprocal", "rsqrt", "sin", "square", "where"]
clip = clamp

# The everyday tensor surface (issue 11): creation, one honest device, conversions, save/load.
from crossgrad.engine.numeric.creation import (  # noqa: E402
    linspace,
    rand_like,
    randint,
    randint_like,
    randn_like,
    randperm,
)
from crossgrad.engine.numeric.serialization import CheckpointError, load, save  # noqa: E402
from crossgrad.engine.numeric.tensor_surface import (  # noqa: E402
    accelerator,
    all,
    allclose,
    any,
    clone,
    cuda,
    device,
    isclose,
)

__all__ += ["CheckpointError", "load", "save"]
__all__ += ["accelerator", "all", "allclose", "any", "clone", "cuda", "device", "isclose", "linspace",
            "rand_like", "randint", "randint_like", "randn_like", "randperm"]

# torch's function forms and the rest of the everyday surface (parity sweep): torch.sum, torch.add,
# torch.transpose, torch.max(a, b), torch.where(cond), torch.eye, torch.bool, linalg, special...
from crossgrad import linalg, special, utils  # noqa: E402 (utils: torch.utils.data after `import torch`)
from crossgrad.engine.numeric import tensor_compat as _tensor_compat  # noqa: E402,F401 (installs methods)
from crossgrad.engine.numeric import tensor_indexing as _tensor_indexing  # noqa: E402,F401
from crossgrad.engine.numeric import torch_functions as _functions  # noqa: E402

# bound by name (several replace the plainer forms imported above: int inputs, torch.max(a, b), dtype=)
globals().update({_name: getattr(_functions, _name) for _name in _functions.__all__})
from crossgrad.engine.numeric.device_kw import accepts_device as _accepts_device  # noqa: E402

for _name in ("tensor", "zeros", "ones", "full", "randn", "rand", "arange", "zeros_like", "ones_like", "full_like",
              "linspace", "randint", "rand_like", "randn_like", "randint_like", "randperm", "empty", "empty_like",
              "eye", "as_tensor"):
    globals()[_name] = _accepts_device(globals()[_name])  # torch's device= ("cpu" only)
from crossgrad.engine.numeric import torch_functions_more as _more  # noqa: E402 (second parity sweep)

_more.install()
globals().update({_name: getattr(_more, _name) for _name in _more.__all__})
__all__ += _more.__all__
from crossgrad.engine.numeric import tensor_more as _tensor_more  # noqa: E402 (sort, topk, multinomial, ...)

_tensor_more.install()
globals().update({_name: getattr(_tensor_more, _name) for _name in _tensor_more.FUNCTIONS})
moveaxis = _tensor_more.movedim
__all__ += [*_tensor_more.FUNCTIONS, "moveaxis"]
contiguous_format = preserve_format = "contiguous_format"  # torch.memory_format values: crossgrad is always contiguous
clip = _functions.clamp
globals()["bool"] = bool_  # torch.bool (bound after the module body: nothing here calls the builtin)
__all__ += [*_functions.__all__, "bool", "contiguous_format", "linalg", "preserve_format", "special", "utils"]

_NO_SUCH_DTYPE = ("int32", "int", "int16", "int8", "uint8", "float16", "half", "bfloat16", "complex64",
                  "cfloat", "complex128", "cdouble", "short")


def __getattr__(name: str) -> object:
    """A torch dtype crossgrad does not have is named as such (not a bare AttributeError)."""
    if name in _NO_SUCH_DTYPE:
        raise AttributeError(f"crossgrad has no dtype {name!r}: its dtypes are float32 (float), float64 "
                             "(double), int64 (long) and bool")
    raise AttributeError(f"module 'crossgrad' has no attribute {name!r}")

from crossgrad.engine.numeric import torch_surface as _surface  # noqa: E402 (after the names it patches)

_surface.install()
globals().update({_name: getattr(_surface, _name) for _name in _surface.FUNCTIONS})
__all__ += list(_surface.FUNCTIONS)
from crossgrad.engine.numeric import everyday_ops as _everyday  # noqa: E402 (einsum, addmm, cumprod, ...)

_everyday.install()
globals().update({_name: getattr(_everyday, _name) for _name in _everyday.FUNCTIONS})
__all__ += list(_everyday.FUNCTIONS)
from crossgrad.engine.numeric import torch_random as _random  # noqa: E402 (torch.bernoulli, torch.normal)

_random.install()
globals().update({_name: getattr(_random, _name) for _name in _random.FUNCTIONS})
__all__ += list(_random.FUNCTIONS)
from crossgrad.engine.numeric import tensor_hooks as _tensor_hooks  # noqa: E402 (Tensor.register_hook)

_tensor_hooks.install()
from crossgrad.engine.numeric import inplace_forms as _inplace_forms  # noqa: E402 (x.exp_(), nn.ReLU(inplace=True))

_inplace_forms.install()
_inplace_forms.install_modules(nn)
from crossgrad.engine.numeric import setitem_graph as _setitem_graph  # noqa: E402 (x[i] = v inside a graph)

_setitem_graph.install()

from crossgrad.engine.numeric import torch_cnn as _torch_cnn  # noqa: E402 (torch.conv2d, torch.max_pool2d, ...)

globals().update({_name: getattr(_torch_cnn, _name) for _name in _torch_cnn.FUNCTIONS})
__all__ += list(_torch_cnn.FUNCTIONS)
