"""A bounded, thread-safe memo table for compiled templates.

Templates embed the client's constants (a leaky_relu slope, a pow exponent, clamp bounds), so a
server that kept every compiled template would grow with every new constant it is sent. The
table keeps the most recently used ``size``; a build runs outside the lock (two threads may
build the same template once each, and both results are correct).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any


class Memo:
    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, build: Callable[[], Any]) -> Any:
        """The value kept for ``key``, else ``build()``'s (kept; an exception is not)."""
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        value = build()
        with self._lock:
            self._items[key] = value
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return value

    def __len__(self) -> int:
        return len(self._items)
