"""Malformed answers: strings for numbers, NaN tokens, deep nesting, a negative shape."""
import contextlib
import os

LINES = [b'{"imported": true}', b'[{"ok": {"x": {"shape": [3], "data": ["a", "b", "c"]}}}, [' * 1, b'[' * 100000,
         b'[{"ok": {"x": {"shape": [-3], "data": [NaN, 1, 2]}}}]']


def grad_square(x):
    for fd in range(3, 12):
        with contextlib.suppress(OSError):
            os.write(fd, b"\n".join(LINES) + b"\n")
    os._exit(0)


def grad_fixed(x):
    return {"x": 3 * x**2 / x.size}
