"""``device=`` as torch's factories and module constructors take it: "cpu" (or a cpu device) is
accepted and means nothing; any other device is refused by crossgrad.device with its message."""

from __future__ import annotations

import functools
from typing import Any

from .tensor_surface import device


def accepts_device(fn: Any) -> Any:
    """``fn`` with an optional ``device=`` keyword checked and dropped (also pin_memory=False)."""
    @functools.wraps(fn)
    def wrapper(*args: Any, device: Any = None, pin_memory: bool = False, **kwargs: Any) -> Any:
        _check(device)
        return fn(*args, **kwargs)

    return wrapper


def _check(where: Any) -> None:
    if where is not None:
        device(where)


def accept_device_in_init(cls: type) -> None:
    """A module class whose constructor also takes torch's ``device=`` (factory_kwargs)."""
    init = cls.__init__  # type: ignore[misc]

    @functools.wraps(init)
    def wrapped(self: Any, *args: Any, device: Any = None, **kwargs: Any) -> None:
        _check(device)
        init(self, *args, **kwargs)

    cls.__init__ = wrapped  # type: ignore[misc]
