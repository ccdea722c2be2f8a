"""The Tensor: a numpy array plus PyTorch's autograd state (leaf, requires_grad, grad, grad_fn)."""

from __future__ import annotations

import warnings
import weakref
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from . import dispatch, dtypes
from .autograd import Node, _mode, run_backward
from .formatting import format_tensor
from .tensor_math import TensorMath

NON_LEAF_GRAD_WARNING = (
    "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its .grad "
    "attribute won't be populated during autograd.backward(). If you indeed want the .grad "
    "field to be populated for a non-leaf Tensor, use .retain_grad() on the non-leaf Tensor. "
    "If you access the non-leaf Tensor by mistake, make sure you access the leaf Tensor "
    "instead. See github.com/pytorch/pytorch/pull/30531 for more informations."
)
LEAF_INPLACE = "a leaf Variable that requires grad is being used in an in-place operation."


class Size(tuple):
    """A shape, printed as ``crossgrad.Size([5, 3])`` (torch.Size's look)."""

    def __repr__(self) -> str:
        return f"crossgrad.Size({list(self)})"

    def numel(self) -> int:
        return int(np.prod(self, dtype=np.int64))

    def __getitem__(self, index: Any) -> Any:
        item = tuple.__getitem__(self, index)
        return Size(item) if isinstance(index, slice) else item


class Tensor(TensorMath):
    __slots__ = ("_data", "_requires_grad", "grad_fn", "_grad", "_accumulator",
                 "_retains_grad", "__weakref__")
    _accumulator: Any  # weak reference to the leaf's AccumulateGrad while a graph holds it
    to: Any  # to, clone, device, all/any, __float__...: installed by tensor_surface.py

    def __init__(self, data: Any, dtype: dtypes.dtype | None = None,
                 requires_grad: bool = False) -> None:
        from .creation import as_array

        self._data = as_array(data, dtype)
        self.grad_fn: Node | None = None
        self._grad: Tensor | None = None
        self._accumulator = None
        self._retains_grad = False
        self._requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    @classmethod
    def _make(cls, data: np.ndarray, grad_fn: Node | None = None,
              requires_grad: bool = False) -> Tensor:
        """Wrap an array produced by the engine (no copy, no checks)."""
        t = cls.__new__(cls)
        t._data = data
        t.grad_fn = grad_fn
        t._grad = None
        t._accumulator = None
        t._retains_grad = False
        t._requires_grad = requires_grad or grad_fn is not None
        return t

    # --- metadata ------------------------------------------------------------------
    @property
    def shape(self) -> Size:
        return Size(self._data.shape)

    def size(self, dim: int | None = None) -> Any:
        return self.shape if dim is None else self._data.shape[dim]

    @property
    def ndim(self) -> int:
        return self._data.ndim

    def dim(self) -> int:
        return self._data.ndim

    def numel(self) -> int:
        return int(self._data.size)

    @property
    def dtype(self) -> dtypes.dtype:
        return dtypes.of_array(self._data)

    @property
    def is_leaf(self) -> bool:
        return self.grad_fn is None

    @property
    def requires_grad(self) -> bool:
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        self.requires_grad_(value)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        if self.grad_fn is not None and not requires_grad:
            raise RuntimeError(
                "you can only change requires_grad flags of leaf variables. If you want to use "
                "a computed variable in a subgraph that doesn't require differentiation use "
                "var_no_grad = var.detach()."
            )
        if requires_grad and not self.dtype.is_floating_point:
            raise RuntimeError("only Tensors of floating point dtype can require gradients")
        if self.grad_fn is None:
            self._requires_grad = bool(requires_grad)
        return self

    # --- gradients ------------------------------------------------------------------
    @property
    def grad(self) -> Tensor | None:
        if self.grad_fn is not None and not self._retains_grad and self._grad is None:  # as torch's
            warnings.warn(NON_LEAF_GRAD_WARNING, UserWarning, stacklevel=2)
        return self._grad

    @grad.setter
    def grad(self, value: Tensor | None) -> None:
        if value is not None and value.shape != self.shape:
            raise RuntimeError(f"assigned grad has data of a different size ({list(value.shape)} "
                               f"vs {list(self.shape)})")
        if value is not None and value._data.dtype != self._data.dtype:
            raise RuntimeError(f"attempting to assign a gradient with dtype '{value.dtype.name}' to a tensor with "
                               f"dtype '{self.dtype.name}'")
        self._grad = value

    @property
    def retains_grad(self) -> bool:
        return self._retains_grad

    def retain_grad(self) -> None:
        """Keep this non-leaf tensor's gradient in ``.grad`` during backward."""
        if self.grad_fn is None:
            if not self._requires_grad:
                raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
            return
        self._retains_grad = True
        self.grad_fn.retained = weakref.ref(self)

    def _accumulate_grad(self, grad: np.ndarray) -> None:
        """Called by the backward walker with an array this tensor may keep."""
        if grad.dtype != self._data.dtype:
            grad = grad.astype(self._data.dtype)
        if self._grad is None:
            self._grad = Tensor._make(grad)
        else:
            self._grad._data += grad  # in place, as PyTorch's AccumulateGrad

    def backward(self, gradient: Any = None, retain_graph: bool | None = None,
                 create_graph: bool = False, inputs: Any = None) -> None:
        if create_graph or inputs is not None:
            from .grad_api import backward

            return backward([self], [gradient], retain_graph, create_graph=create_graph, inputs=inputs)
        root, grad = _root_and_grad(self, gradient)
        run_backward([root], [grad], bool(retain_graph))

    def detach(self) -> Tensor:
        """Same values (shared memory), no history, requires_grad=False. A view, not the same
        array: a recorded VJP tells its saved inputs apart by array identity, so ``h.detach() * h``
        under create_graph must not read the detached factor as ``h``."""
        return Tensor._make(self._data.view())

    def detach_(self) -> Tensor:
        self.grad_fn = None
        self._requires_grad = False
        return self

    @property
    def data(self) -> Tensor:
        return self.detach()

    @data.setter
    def data(self, value: Tensor) -> None:
        self._data = value._data

    # --- conversion -----------------------------------------------------------------
    def numpy(self) -> np.ndarray:
        if self._requires_grad:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. "
                               "Use tensor.detach().numpy() instead.")
        return self._data

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        arr = self.numpy()
        return arr if dtype is None else arr.astype(dtype)

    def item(self) -> Any:
        if self._data.size != 1:
            raise RuntimeError(f"a Tensor with {self._data.size} elements cannot be converted to Scalar")
        return self._data.item()

    def tolist(self) -> Any:
        return self._data.tolist()

    def float(self) -> Tensor:  # to() comes from tensor_surface.py
        return self.to(dtypes.float32)

    def double(self) -> Tensor:
        return self.to(dtypes.float64)

    def long(self) -> Tensor:
        return self.to(dtypes.int64)

    def __repr__(self) -> str:
        return format_tensor(self)

    def __len__(self) -> int:
        if not self._data.ndim:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self) -> Iterator[Tensor]:
        return (self[i] for i in range(len(self)))

    def __bool__(self) -> bool:
        if self._data.size != 1:
            raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
        return bool(self._data)

    __hash__ = object.__hash__

    # --- in place (allowed where PyTorch allows it) ----------------------------------
    def _check_inplace(self) -> None:
        if not _mode.enabled or not self._requires_grad:
            return
        if self.grad_fn is None:
            raise RuntimeError(LEAF_INPLACE)
        raise RuntimeError("crossgrad does not record in-place operations on tensors that are "
                           "part of a graph; use the out-of-place form")

    def _inplace(self, values: Any) -> Tensor:
        self._check_inplace()
        src = values._data if isinstance(values, Tensor) else values
        np.copyto(self._data, src, casting="unsafe")
        return self

    def _inplace_op(self, values: Any) -> Tensor:
        """An in-place op's result written back, with torch's refusals: a result that would need a
        wider dtype category (float into an int64 tensor) or a bigger shape than self."""
        src = values._data if isinstance(values, Tensor) else np.asarray(values)
        if src.shape != self._data.shape and np.broadcast_shapes(src.shape, self._data.shape) != self._data.shape:
            raise RuntimeError(f"output with shape {list(self._data.shape)} doesn't match the broadcast shape "
                               f"{list(np.broadcast_shapes(src.shape, self._data.shape))}")
        if _KINDS.index(src.dtype.kind) > _KINDS.index(self._data.dtype.kind):
            raise RuntimeError(f"result type {_TORCH_NAMES[src.dtype.name]} can't be cast to the desired output "
                               f"type {_TORCH_NAMES[self._data.dtype.name]}")
        return self._inplace(values)

    def copy_(self, src: Any) -> Tensor:
        return self._inplace(src)

    def zero_(self) -> Tensor:
        return self._inplace(0)

    def fill_(self, value: Any) -> Tensor:
        return self._inplace(value)

    def add_(self, other: Any, alpha: Any = 1) -> Tensor:
        return self._inplace_op(self._data + alpha * _raw(other))

    def sub_(self, other: Any, alpha: Any = 1) -> Tensor:
        return self._inplace_op(self._data - alpha * _raw(other))

    def mul_(self, other: Any) -> Tensor:
        return self._inplace_op(self._data * _raw(other))

    def __setitem__(self, index: Any, value: Any) -> None:
        self._check_inplace()
        self._data[index] = _raw(value)


_KINDS = "buif"  # torch's dtype categories, narrowest first (uint8 would sit with the integers)
_TORCH_NAMES = {"bool": "Bool", "uint8": "Byte", "int64": "Long", "int32": "Int", "float32": "Float",
                "float64": "Double", "float16": "Half"}


def clear_grad(t: Tensor, set_to_none: bool) -> None:
    """zero_grad for one tensor: drop ``.grad`` or fill it with zeros in place."""
    if t._grad is None:
        return
    if set_to_none:
        t._grad = None
    else:  # torch: a gradient with history (create_graph) is detached first, then zeroed
        if t._grad.grad_fn is not None or t._grad._requires_grad:
            t._grad = t._grad.detach()
        t._grad._data.fill(0)


def _raw(value: Any) -> Any:
    return value._data if isinstance(value, Tensor) else value


def _root_and_grad(t: Tensor, gradient: Any, index: int = 0) -> tuple[Any, np.ndarray]:
    """The node backward starts from and the seed gradient, with PyTorch's errors (``index``: the
    output's position among several)."""
    if not t._requires_grad:
        raise RuntimeError(f"element {index} of tensors does not require grad and does not have a grad_fn")
    if gradient is None:
        if t._data.size != 1:
            raise RuntimeError("grad can be implicitly created only for scalar outputs")
        grad = np.ones_like(t._data)
    else:
        grad = np.array(_raw(gradient), dtype=t._data.dtype)  # a copy: the walker may keep it
        if grad.shape != t._data.shape:
            raise RuntimeError(f"Mismatch in shape: grad_output[{index}] has a shape of torch.Size("
                               f"{list(grad.shape)}) and output[{index}] has a shape of torch.Size({list(t.shape)}).")
    return dispatch.edge(t)[0], grad


def backward_many(tensors: Sequence[Tensor], grads: Sequence[Any], retain_graph: bool) -> None:
    roots, seeds = zip(*(_root_and_grad(t, g, i) for i, (t, g) in enumerate(zip(tensors, grads))))
    run_backward(list(roots), list(seeds), retain_graph)


dispatch.bind_tensor(Tensor)
