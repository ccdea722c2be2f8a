"""A busy loop at import, with SIGALRM and SIGXCPU ignored: only an outside kill stops it."""
import signal

signal.signal(signal.SIGALRM, signal.SIG_IGN)
signal.signal(signal.SIGXCPU, signal.SIG_IGN)
while True:
    pass


def grad_square(x):
    return {"x": 2 * x}


def grad_fixed(x):
    return {"x": 3 * x**2 / x.size}
