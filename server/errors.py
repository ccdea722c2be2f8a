"""Typed exceptions -> gRPC status, in one place. Clients get google.rpc.Status with
BadRequest field violations naming the path; never a traceback.

    GraphError, ShapeError, AttributeSpecError, UnknownOpError (CrossgradError) -> INVALID_ARGUMENT
    LimitError                                                               -> RESOURCE_EXHAUSTED
    DeadlineError (a program stopped between steps at the deadline)          -> DEADLINE_EXCEEDED
    Draining (graceful shutdown)                                             -> UNAVAILABLE
    anything else                                                            -> INTERNAL (logged here)
"""

from __future__ import annotations

import logging
from typing import Any

import grpc
from crossgrad.engine.errors import CrossgradError, DeadlineError
from google.protobuf import any_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status

from .limits import LimitError
from .wire import ENGINE_PATHS

log = logging.getLogger("crossgrad.server")


class Draining(CrossgradError):
    """The server is shutting down gracefully (mapped to UNAVAILABLE, which clients retry)."""


def _status(code: int, message: str, path: str | None, reason: str) -> status_pb2.Status:
    status = status_pb2.Status(code=code, message=message)
    if path is not None:
        violation = error_details_pb2.BadRequest.FieldViolation(field=path, description=reason)
        detail = any_pb2.Any()
        detail.Pack(error_details_pb2.BadRequest(field_violations=[violation]))
        status.details.append(detail)
    return status


def to_status(err: BaseException, prefix: str = "") -> status_pb2.Status:
    """The status for an exception; ``prefix`` places the path inside a stream ("requests[3].")."""
    path = getattr(err, "path", None)
    if path is not None:
        head, dot, rest = path.partition(".")
        path = ENGINE_PATHS.get(head, head) + dot + rest
    full = None if path is None else prefix + path
    reason = getattr(err, "reason", str(err))
    message = f"{full}: {reason}" if full else str(err)
    if isinstance(err, Draining):
        return _status(code_pb2.UNAVAILABLE, str(err), None, "")
    if isinstance(err, DeadlineError):
        return _status(code_pb2.DEADLINE_EXCEEDED, message, None, "")
    if isinstance(err, LimitError):
        return _status(code_pb2.RESOURCE_EXHAUSTED, message, full, reason)
    if isinstance(err, CrossgradError):
        return _status(code_pb2.INVALID_ARGUMENT, message, full or (prefix.rstrip(".") or "request"), reason)
    log.exception("internal error", exc_info=err)
    return _status(code_pb2.INTERNAL, "internal error (logged by the server)", None, "")


def abort(context: Any, err: BaseException, prefix: str = "") -> None:
    """End the call with the status for ``err`` (raises, as grpc's abort does)."""
    abort_with(context, to_status(err, prefix))


def abort_with(context: Any, status: status_pb2.Status) -> None:
    context.abort_with_status(rpc_status.to_status(status))


def code_name(status: status_pb2.Status) -> str:
    return code_pb2.Code.Name(status.code)


__all__ = ["abort", "abort_with", "code_name", "grpc", "to_status"]
