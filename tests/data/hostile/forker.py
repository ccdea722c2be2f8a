"""A double-forked daemon that outlives its problem and a fork loop until the time limit."""
import os
import time


def _daemon():
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            time.sleep(60)
            os._exit(0)
        os._exit(0)


def grad_square(x):
    _daemon()
    while True:
        try:
            os.fork()
        except OSError:
            time.sleep(0.01)


def grad_fixed(x):
    _daemon()
    return {"x": 3 * x**2 / x.size}
