"""Size-aware admission: big checks run off the request threads, small ones never wait for them.

A check is *big* when its estimated work (``engine.cost.element_evaluations``: the numeric and
finite-difference passes, and the tensor tier's when it may run) reaches ``threshold`` element
evaluations, about 5-15 ms of one core. A big check runs whole (every witness, the comparison, the
report) in a worker process of the big-check pool (``server/witness_pool.py``), at a lower CPU
priority, so the server process's interpreter stays free for the small checks, which run in the
request thread as before. At most ``workers`` big checks run at once per server process; up to
``queue`` more wait for a worker (until their deadline); beyond that a big check is refused with
RESOURCE_EXHAUSTED, so big checks never hold every request slot.

Configured per server process: ``BigChecks(...)`` to ``create_server``, or the environment
(``CROSSGRAD_BIG_CHECK_EVALUATIONS``, ``CROSSGRAD_BIG_WORKERS``, ``CROSSGRAD_BIG_QUEUE``,
``CROSSGRAD_BIG_NICE``), which ``serve --processes N`` hands to every process.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from crossgrad.engine.cost import element_evaluations

from . import plan_memo
from .limits import LimitError

THRESHOLD = 2_000_000  # element evaluations: ~5-15 ms of numeric and finite-difference work on one core


def _env(name: str, default: int) -> int:
    value = os.environ.get(name)
    return default if value is None or not value.strip().lstrip("-").isdigit() else int(value)


@dataclass(frozen=True)
class BigChecks:
    threshold: int = THRESHOLD  # a check with at least this much estimated work is big
    workers: int = 1  # big checks running at once (one worker process each, per server process)
    queue: int = 4  # big checks waiting for a worker beyond those; more are refused
    nice: int = 10  # the workers' CPU priority (os.nice increment): small checks come first
    memory_mb: int = 4096  # the workers' address-space limit (each also has a symbolic worker)

    @classmethod
    def from_env(cls) -> BigChecks:
        base = cls()
        return cls(threshold=_env("CROSSGRAD_BIG_CHECK_EVALUATIONS", base.threshold),
                   workers=max(0, _env("CROSSGRAD_BIG_WORKERS", base.workers)),
                   queue=max(0, _env("CROSSGRAD_BIG_QUEUE", base.queue)),
                   nice=_env("CROSSGRAD_BIG_NICE", base.nice))


def estimated_work(plan: Any, request: Any) -> int:
    """The check's work as the limits count it (auto is priced as the dearer tensor tier)."""
    tier = "tensor" if request.tier in ("auto", "tensor") else request.tier
    return element_evaluations(plan, request.witnesses, tier, request.program, request.order)


class Admission:
    """Decides where a check runs and counts the big ones in flight."""

    def __init__(self, config: BigChecks) -> None:
        self.config = config
        self.big_in_flight = 0
        self.big_checks = 0  # big checks admitted since start (tests and logs)
        self._lock = threading.Lock()

    def is_big(self, plan: Any, request: Any) -> bool:
        return self.config.workers > 0 and plan_memo.work(plan, request, estimated_work) >= self.config.threshold

    @contextmanager
    def big(self) -> Iterator[None]:
        """Hold one of the ``workers + queue`` places of big checks (RESOURCE_EXHAUSTED when none)."""
        places = self.config.workers + self.config.queue
        with self._lock:
            if self.big_in_flight >= places:
                raise LimitError("graph", f"{places} large checks are running or waiting in this server "
                                          "process; small checks are still admitted. Try again shortly")
            self.big_in_flight += 1
            self.big_checks += 1
        try:
            yield
        finally:
            with self._lock:
                self.big_in_flight -= 1
