"""The tensor tier's allocator settings: applied once on glibc, and only there; opt-out honoured."""

from __future__ import annotations

import os
import platform
import subprocess
import sys

import pytest

GLIBC = platform.system() == "Linux" and platform.libc_ver()[0] == "glibc"
PROBE = ("import numpy as np; from crossgrad.engine import allocator;"
         "from crossgrad.engine.symbolic import tensor;"
         "from crossgrad.engine.graph import Graph, Leaf, OpNode, validate;"
         "g = Graph([Leaf('x', np.ones(3), True), OpNode('s', 'sum', ['x'], {})], 's');"
         "tensor.gradients(validate(g), np.ones(()));"
         "print(allocator._tuned)")


def _probe(**env: str) -> str:
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True,
                          env={**os.environ, **env}, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@pytest.mark.skipif(not GLIBC, reason="mallopt settings exist only in glibc")
def test_tensor_tier_applies_the_settings_once_on_glibc() -> None:
    assert _probe() == "True"


def test_opt_out_leaves_the_allocator_alone() -> None:
    assert _probe(CROSSGRAD_MALLOC_DEFAULTS="1") == "False"
