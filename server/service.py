"""The thin servicer: convert, call the engine, convert back. Errors go through errors.py."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

import crossgrad
from crossgrad.engine import offload
from crossgrad.engine.check import check
from crossgrad.engine.graph import validate
from google.rpc import code_pb2

from . import access_log, batching, calls, errors, plan_memo, unary_values, wire, wire_fast
from .admission import Admission, BigChecks
from .errors import Draining
from .limits import LimitError, Limits
from .witness_pool import CheckPool
from .workers import SymbolicPool, runner

VERSION = crossgrad.__version__
# The exact tier's speed in its cost units (matmul-equivalent evaluations, exact.estimate_work):
# 0.5-0.95 us each on a 2-core machine by bench/measure_exact_costs.py; the slow end is used.
EXACT_EVALUATIONS_PER_SECOND = 1_000_000
# A symbolic witness stops this long before the client's deadline, so the others' answer still
# arrives: at least ANSWER_MARGIN_SECONDS, or this share of the call's budget when that is more.
ANSWER_MARGIN_SECONDS = 0.5
ANSWER_MARGIN_SHARE = 0.15
# Statuses that end a CheckStream (every later request would get them too); any other error is
# the one request's own, answered in its place (StreamError)
STREAM_ENDING = frozenset({code_pb2.UNAVAILABLE, code_pb2.DEADLINE_EXCEEDED})
# True: a Check's answer is built in place (wire_fast.response_out, the same message); False:
# wire.response_out (bench/bench_phases.py's A/B)
FAST_RESPONSE = True


class CrossgradServicer(wire.ServicerBase):
    def __init__(self, limits: Limits, pool: SymbolicPool, big: CheckPool | None = None,
                 admission: Admission | None = None) -> None:
        self.limits = limits
        self.pool = pool
        self.big = big  # big checks run whole in these workers (admission.py); None: all in-thread
        self.admission = admission or Admission(BigChecks(workers=0 if big is None else 1))
        # Check and CheckStream only: health and reflection must answer even when this is full
        self.active = 0
        self.draining = False
        self.idle = threading.Condition()
        self.known = unary_values.Known()  # requests seen before: read by their values

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
        deadline, end, budget = self.budget(context)
        alive = context.is_active if context is not None else lambda: True
        engine_request, plan = self.known.prepare(self, request, deadline, budget)  # (unary_values.py)
        if self.big is not None and self.admission.is_big(plan, engine_request):
            with self.admission.big():  # off this thread: small checks keep the interpreter
                return self.big.run(engine_request, plan, request.figures_only, deadline, end, alive)
        with offload.using(calls.runner(self.pool, deadline, alive)):  # its other SymPy work too (calls.py)
            return check(engine_request, runner(self.pool, deadline, alive), plan)

    def budget(self, context: Any) -> tuple[float, float, float]:
        """(the symbolic witness's deadline, the call's end, its budget in seconds): the client's
        deadline capped, less time to answer — comparing, building and sending the report (a
        loaded machine needs more)."""
        remaining = context.time_remaining() if context is not None else None
        budget = min(remaining or self.limits.max_deadline_seconds, self.limits.max_deadline_seconds)
        end = time.monotonic() + budget
        return end - min(budget, max(ANSWER_MARGIN_SECONDS, ANSWER_MARGIN_SHARE * budget)), end, budget

    def prepare(self, request: Any, deadline: float, budget: float) -> tuple[Any, Any]:
        """The engine request and its validated plan, within the limits (raises what they refuse)."""
        engine_request = wire.request_in(request, self.limits)
        plan = validate(engine_request.graph, self.limits.max_nodes)
        self.admit(engine_request, plan, request.figures_only, deadline, budget)
        return engine_request, plan

    def admit(self, engine_request: Any, plan: Any, figures_only: bool, deadline: float, budget: float) -> None:
        """This call's deadline and exact-tier budget into the request, then the limits."""
        # auto takes the exact tier only when it can finish in half the time this call has left
        engine_request.exact_budget = min(self.limits.exact_budget, int(budget * EXACT_EVALUATIONS_PER_SECOND / 2))
        engine_request.deadline = deadline
        self.limits.check_exact_budget(engine_request)
        plan_memo.check_plan(self.limits, plan, engine_request, figures_only)  # once per structure

    def Check(self, request: Any, context: Any) -> Any:  # noqa: N802  (gRPC method name)
        started = time.perf_counter()
        try:
            with self._slot():
                report = self._check(request, context)
        except Exception as err:  # mapped to a status; never a traceback to the client
            self._fail("Check", request, context, err, started)
        if access_log.enabled():  # (ByteSize walks the request: only for a log line)
            access_log.record("Check", context, request.ByteSize(), report.verdict, started)
        return (wire_fast.response_out if FAST_RESPONSE else wire.response_out)(report, request.figures_only)

    def CheckStream(self, requests: Any, context: Any) -> Iterator[Any]:  # noqa: N802
        """One answer per request, in order; a request that cannot be checked gets its own error
        (StreamError) and the stream goes on. Draining and the deadline end the stream.
        Consecutive requests of one structure are checked together (batching.py)."""
        return batching.stream(self, requests, context)

    @staticmethod
    def _fail(method: str, request: Any, context: Any, err: Exception, started: float, prefix: str = "") -> NoReturn:
        """Log the failed call with its status code, then end it with that status (raises)."""
        status = errors.to_status(err, prefix)
        access_log.record(method, context, request.ByteSize(), errors.code_name(status), started)
        errors.abort_with(context, status)
        raise AssertionError("abort_with_status returns only by raising")

    def ListOps(self, request: Any, context: Any) -> Any:  # noqa: N802
        return wire.ops_out()

    def GetServerInfo(self, request: Any, context: Any) -> Any:  # noqa: N802
        return wire.info_out(VERSION, self.limits)
