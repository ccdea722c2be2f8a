"""The thin servicer: convert, call the engine, convert back. Errors go through errors.py."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import crossgrad
from crossgrad.engine.check import check

from . import errors, wire
from .errors import Draining
from .limits import LimitError, Limits
from .workers import SymbolicPool, runner

VERSION = crossgrad.__version__


class CrossgradServicer(wire.ServicerBase):
    def __init__(self, limits: Limits, pool: SymbolicPool) -> None:
        self.limits = limits
        self.pool = pool
        # Check and CheckStream only: health and reflection must answer even when this is full
        self.active = 0
        self.draining = False
        self.idle = threading.Condition()

    @contextmanager
    def _slot(self) -> Iterator[None]:
        with self.idle:
            if self.draining:
                raise Draining("the server is shutting down; another replica will answer")
            if self.active >= self.limits.max_concurrent_requests:
                raise LimitError("request", f"{self.limits.max_concurrent_requests} checks are running "
                                            "(max_concurrent_requests); try again shortly")
            self.active += 1
        try:
            yield
        finally:
            with self.idle:
                self.active -= 1
                self.idle.notify_all()

    def drain(self, timeout: float) -> bool:
        """Refuse new checks (UNAVAILABLE, which clients retry elsewhere) and wait until the running
        ones are done; False if ``timeout`` passed first."""
        with self.idle:
            self.draining = True
            return self.idle.wait_for(lambda: self.active == 0, timeout)

    def _check(self, request: Any, context: Any) -> Any:
        """The symbolic witness runs in a worker, stopped at the client's deadline (capped)."""
        remaining = context.time_remaining() if context is not None else None
        budget = min(remaining or self.limits.max_deadline_seconds, self.limits.max_deadline_seconds)
        deadline = time.monotonic() + max(0.0, budget - 0.25)  # leave time to answer
        symbolic = runner(self.pool, deadline, context.is_active if context is not None else lambda: True)
        engine_request = wire.request_in(request, self.limits)
        self.limits.check_exact_budget(engine_request)
        return check(engine_request, symbolic)

    def Check(self, request: Any, context: Any) -> Any:  # noqa: N802  (gRPC method name)
        try:
            with self._slot():
                return wire.response_out(self._check(request, context))
        except Exception as err:  # mapped to a status; never a traceback to the client
            errors.abort(context, err)

    def CheckStream(self, requests: Any, context: Any) -> Iterator[Any]:  # noqa: N802
        for index, item in enumerate(requests):
            try:
                with self._slot():
                    report = self._check(item.request, context)
            except Exception as err:
                errors.abort(context, err, prefix=f"requests[{index}].")
            yield wire.stream_response(report)

    def ListOps(self, request: Any, context: Any) -> Any:  # noqa: N802
        return wire.ops_out()

    def GetServerInfo(self, request: Any, context: Any) -> Any:  # noqa: N802
        return wire.info_out(VERSION, self.limits)
