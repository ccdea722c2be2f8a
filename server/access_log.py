"""One log line per call: method, peer, request size, verdict or status code, milliseconds.

Logged at INFO on ``crossgrad.server.access``; with ``crossgrad --log-json serve`` each line is a
JSON object with the same fields (``method, peer, bytes, outcome, ms``).
"""

from __future__ import annotations

import logging
import time
from typing import Any

log = logging.getLogger("crossgrad.server.access")


def enabled() -> bool:
    """Whether ``record`` would log (callers skip computing its fields otherwise)."""
    return log.isEnabledFor(logging.INFO)


def record(method: str, context: Any, size: int, outcome: str, started: float) -> None:
    """Log a finished call; ``outcome`` is the verdict (``agree``...) or a status code name."""
    if not log.isEnabledFor(logging.INFO):
        return
    peer = context.peer() if context is not None else "in-process"
    ms = (time.perf_counter() - started) * 1e3
    log.info("%s peer=%s bytes=%d outcome=%s ms=%.1f", method, peer, size, outcome, ms,
             extra={"fields": {"method": method, "peer": peer, "bytes": size, "outcome": outcome,
                               "ms": round(ms, 3)}})
