"""Short versions of bench/bench_load.py (loopback only, a few seconds each): load with no errors
and flat memory, graceful shutdown under load, scale-out with a replica killed mid-run."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1] / "bench"))

import bench_load  # noqa: E402


def test_load_has_no_errors_and_flat_memory():
    result = bench_load.run_load(seconds=4, clients=8)
    assert result["errors"] == 0 and result["checks"] > 20
    before, middle, after = result["rss"]
    assert after - middle < 50, result["rss"]  # MB: no growth once warm


def test_sigterm_under_load_finishes_in_flight_calls_and_refuses_the_rest():
    result = bench_load.run_shutdown(clients=8)
    assert result["exit"] == 0
    assert result["unexpected"] == {}  # only UNAVAILABLE after the shutdown began, nothing cancelled


def test_scale_out_survives_a_killed_replica():
    result = bench_load.run_scaleout(seconds=3, clients=6)
    assert result["errors_after_kill"] == 0
    assert all(rate > 0 for rate in result["rates"].values())
