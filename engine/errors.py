"""The engine's exception tree.

    CrossgradError                  base of everything crossgrad raises on purpose
     ├── FieldError (+ ValueError)      a request field is wrong; .path names it, .reason says why
     │    ├── GraphError                  the graph IR (engine.graph)
     │    ├── LimitError                  over a server limit (server.limits)
     │    └── ExpressionError             the safe expression form (client.expr)
     ├── ShapeError (+ RuntimeError)    input shapes break an op's shape rule
 │    ├── DimError (+ IndexError)     a dim out of range
 │    ├── RankNotSupported (+ NotImplementedError) a rank/mode combination torch does not implement
 │    ├── BatchSizeError (+ ValueError) a loss's input and target batch sizes differ
 │    ├── ReductionError (+ ValueError) a loss's reduction is not none/mean/sum
 │    └── SliceStepError (+ ValueError) a slice step below 1
     ├── AttributeSpecError (+ TypeError) an op attribute has the wrong name, type or value
     ├── UnknownOpError (+ KeyError)    an op name that is not in the catalogue
     ├── DtypeError (+ TypeError, RuntimeError) a bool/int64 tensor where an op needs a float one
 │    └── KernelDtypeError (+ NotImplementedError) no kernel for that dtype (torch's words)
 ├── IndexRangeError (+ IndexError, RuntimeError) an index tensor out of range
     ├── DeviceError (+ RuntimeError, AssertionError) a device other than the cpu
     └── GradientMismatch (+ AssertionError) a check did not agree (raise_for_mismatch,
                                         assert_gradients): pytest shows the report

Each error names the op (and, once graphs exist, the node) it is about. The engine's
autograd errors that PyTorch users know by message (second backward, non-scalar backward)
are plain ``RuntimeError`` with PyTorch's wording, so code written for torch catches them.
"""

from __future__ import annotations


class CrossgradError(Exception):
    """Base class of crossgrad's own errors."""


class FieldError(CrossgradError, ValueError):
    """A field of a request is wrong: ``path`` names it (``graph.nodes[3].inputs[1]``)."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path
        self.reason = message


class DeadlineError(FieldError, TimeoutError):
    """The work ran past the call's deadline and was stopped (DEADLINE_EXCEEDED over the wire)."""


class ShapeError(CrossgradError, RuntimeError):
    """Input shapes violate an op's shape rule."""

    def __init__(self, op: str, message: str) -> None:
        super().__init__(f"{op}: {message}")
        self.op = op


class DimError(ShapeError, IndexError):
    """A dim argument outside [-ndim, ndim - 1] (torch raises IndexError, "Dimension out of range")."""


class RankNotSupported(ShapeError, NotImplementedError):
    """An input rank a mode has no kernel for (pad's non-constant modes, interpolate's linear
    modes): torch raises NotImplementedError there."""


class BatchSizeError(ShapeError, ValueError):
    """A loss whose input and target batch sizes differ (torch raises ValueError there)."""


class ReductionError(ShapeError, ValueError):
    """A loss's reduction other than 'none', 'mean', 'sum' (torch raises ValueError there)."""


class SliceStepError(ShapeError, ValueError):
    """A slice with a step below 1 (torch raises ValueError: "step must be greater than zero")."""


class DeviceError(CrossgradError, RuntimeError, AssertionError):
    """A device other than the cpu (torch's CPU build asserts "Torch not compiled with CUDA enabled",
    a CUDA build without a GPU raises RuntimeError: this is both)."""


class AttributeSpecError(CrossgradError, TypeError):
    """An op attribute is unknown, of the wrong type, or out of range."""

    def __init__(self, op: str, attr: str, message: str) -> None:
        super().__init__(f"{op}: attribute {attr!r}: {message}")
        self.op = op
        self.attr = attr


class UnknownOpError(CrossgradError, KeyError):
    """An op name that is not in the catalogue."""

    def __init__(self, op: str) -> None:
        super().__init__(f"unknown op {op!r}")
        self.op = op

    def __str__(self) -> str:
        return str(self.args[0])


class GradientMismatch(CrossgradError, AssertionError):
    """A check whose verdict is not agree/convention; the message is the whole report and
    ``report`` holds its data."""

    def __init__(self, report: object) -> None:
        super().__init__(str(report))
        self.report = report


class IndexRangeError(CrossgradError, IndexError, RuntimeError):
    """An index tensor (gather, index_select, embedding, x[idx]) names an element out of range."""

    def __init__(self, op: str, value: int, size: int, dim: int | None = None) -> None:
        self.op, self.value, self.size = op, value, size
        where = "dimension" if dim is None else f"dimension {dim}"
        torch_words = " (index out of range in self)" if op in ("embedding", "index_select") else ""
        super().__init__(f"{op}(): index {value} is out of bounds for {where} with size {size}{torch_words}")


class DtypeError(CrossgradError, TypeError, RuntimeError):
    """An op got a tensor of the wrong dtype (a bool or int64 tensor where a float one is needed)."""

    def __init__(self, op: str, message: str) -> None:
        super().__init__(f"{op}: {message}")
        self.op = op


class KernelDtypeError(DtypeError, NotImplementedError):
    """An op with no kernel for the input's dtype: torch's '"gelu" not implemented for 'Long'' is a
    NotImplementedError (a RuntimeError)."""
