"""Sleeps past the wall limit with SIGALRM ignored."""
import signal
import time


def grad_square(x):
    signal.signal(signal.SIGALRM, signal.SIG_IGN)
    time.sleep(100)
    return {"x": 2 * x}


def grad_fixed(x):
    return {"x": 3 * x**2 / x.size}
