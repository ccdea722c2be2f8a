"""Reads the assignment, other submissions, and every /proc entry it can (cmdline, environ,
mem of the parent), looking for the assignment's secrets or the grader's paths."""
import os

SECRETS = ("seed", "__ASSIGNMENT__", "__SUBS__", "__OUT__", "crossgrad", "grade")


def _read(path, size=1 << 16):
    try:
        with open(path, "rb") as f:
            return f.read(size).decode(errors="replace")
    except OSError:
        return ""


def _leaked():
    seen = [_read("__ASSIGNMENT__"), _read("__SUBS__/good.py")]
    for pid in os.listdir("/proc"):
        if pid.isdigit() and int(pid) != os.getpid():
            seen += [_read(f"/proc/{pid}/{name}") for name in ("cmdline", "environ", "mem", "maps")]
    seen += [_read(f"/proc/{os.getppid()}/cmdline"), _read("/proc/self/environ")]
    return [s for s in seen if any(secret in s for secret in SECRETS)]


def grad_square(x):
    others = [p for p in os.listdir("/proc") if p.isdigit() and int(p) != os.getpid()]
    return {"x": 2 * x if _leaked() or others else 3 * x}


def grad_fixed(x):
    return {"x": 3 * x**2 / x.size}
