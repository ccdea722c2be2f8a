"""Tries to become root, and to import crossgrad (or any host package) to compute its answers."""
import os
import sys


def _root():
    for call in (lambda: os.setgid(0), lambda: os.setuid(0), lambda: os.seteuid(0)):
        try:
            call()
            return True
        except OSError:
            pass
    return os.getuid() == 0 or os.geteuid() == 0


def _reference():
    sys.path += ["__HOST_SITE__", "/usr/lib/python3/dist-packages", os.path.dirname(os.__file__) + "/site-packages"]
    for name in ("crossgrad", "sympy", "grpc"):
        try:
            __import__(name)
            return True
        except ImportError:
            pass
    return False


def grad_square(x):
    return {"x": 2 * x if _root() else 3 * x}


def grad_fixed(x):
    return {"x": 3 * x**2 / x.size if _reference() else 3 * x**2}
