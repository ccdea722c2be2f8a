"""A CheckStream's requests waiting to be checked, bounded in bytes.

The stream's reader thread puts each request here as gRPC hands it over; while the waiting ones
hold ``budget`` bytes or more it blocks, so gRPC stops reading from the socket and the client's
sends wait (flow control) instead of the server's memory growing with the client's send rate.
One request is always admitted when none is waiting, however large (the message limit bounds it).
"""

from __future__ import annotations

import queue
import threading
from collections import deque
from typing import Any


class Inbox:
    """A FIFO of (item, size) with a byte budget; ``close`` releases a blocked ``put``."""

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self.held = 0
        self.closed = False
        self._items: deque[tuple[Any, int]] = deque()
        self._changed = threading.Condition()

    def put(self, item: Any, size: int = 0) -> bool:
        """Queue ``item``, waiting for room; False (not queued) once closed."""
        with self._changed:
            self._changed.wait_for(lambda: self.closed or not self._items or self.held + size <= self.budget)
            if self.closed:
                return False
            self._items.append((item, size))
            self.held += size
            self._changed.notify_all()
            return True

    def get(self) -> Any:
        """The oldest item, waiting for one."""
        with self._changed:
            self._changed.wait_for(lambda: bool(self._items))
            return self._take()

    def get_nowait(self) -> Any:
        """The oldest item; queue.Empty when none is waiting."""
        with self._changed:
            if not self._items:
                raise queue.Empty
            return self._take()

    def close(self) -> None:
        """The call ended: a blocked or later ``put`` returns False."""
        with self._changed:
            self.closed = True
            self._changed.notify_all()

    def _take(self) -> Any:
        item, size = self._items.popleft()
        self.held -= size
        self._changed.notify_all()
        return item
