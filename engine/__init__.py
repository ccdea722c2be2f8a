"""crossgrad.engine: the library (ops spec, numeric engine; symbolic side and check to come).

Works with no server at all and imports no grpc.
"""

from . import ops
from .errors import AttributeSpecError, CrossgradError, ShapeError, UnknownOpError

__all__ = ["AttributeSpecError", "CrossgradError", "ShapeError", "UnknownOpError", "ops"]
