"""Prints 1 GB on stdout (harmless to others: fd 1 is not the answer channel), then floods
every other open descriptor, the answer channel included."""
import os

CHUNK = b"x" * (1 << 20)


def grad_square(x):
    for _ in range(1024):
        os.write(1, CHUNK)
    print("y" * (1 << 20))
    return {"x": 2 * x}


def grad_fixed(x):
    for fd in range(3, 12):
        try:
            for _ in range(1024):
                os.write(fd, CHUNK)
        except OSError:
            pass
    return {"x": 3 * x**2 / x.size}
