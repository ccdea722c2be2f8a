"""serve --processes: several server processes on one port, one drain, restarts (issue 16)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import grpc
from crossgrad.client import Client, wire
from grpc_health.v1 import health_pb2, health_pb2_grpc

SEED = wire.request_from_json((Path(__file__).parents[1] / "examples" / "seed.json").read_text())
CLI = [sys.executable, "-m", "crossgrad"]


def _server_pids(supervisor: int) -> list[int]:
    """The supervisor's spawned server processes (not multiprocessing's resource tracker)."""
    pids = [int(p) for task in Path(f"/proc/{supervisor}/task").iterdir()
            for p in (task / "children").read_text().split()]
    return [p for p in pids if "spawn_main" in _cmdline(p)]


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_text()
    except OSError:
        return ""


def _start(*extra):
    proc = subprocess.Popen(CLI + ["serve", "--port", "0", "--processes", "2", "--workers", "1", *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return proc, int(proc.stdout.readline())


def test_two_processes_share_the_port_serve_and_drain_cleanly():
    proc, port = _start()
    try:
        for _ in range(24):  # a new connection each time: the kernel spreads them over the processes
            with Client(f"127.0.0.1:{port}") as client:
                assert client.check_raw(SEED).verdict == 1  # VERDICT_AGREE
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            status = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=10).status
            assert status == health_pb2.HealthCheckResponse.SERVING
        started = time.time()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=40) == 0 and time.time() - started < 30
        log = proc.stderr.read()
    finally:
        proc.kill()
    assert "with 2 processes" in log and "shutting down" in log
    pids = set(re.findall(r"crossgrad.server.access \[pid (\d+)\] INFO: Check", log))
    assert len(pids) == 2, log  # both processes answered checks


def test_a_dead_process_is_restarted_and_logged():
    proc, port = _start()
    try:
        children = _server_pids(proc.pid)
        assert len(children) == 2
        os.kill(children[0], signal.SIGKILL)
        deadline = time.time() + 60
        while time.time() < deadline and len(set(_server_pids(proc.pid)) - {children[0]}) < 2:
            time.sleep(0.2)
        assert len(set(_server_pids(proc.pid)) - {children[0]}) == 2
        time.sleep(1.0)  # the replacement has started listening
        for _ in range(6):
            with Client(f"127.0.0.1:{port}") as client:
                assert client.check_raw(SEED).verdict == 1
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=40) == 0
        log = proc.stderr.read()
    finally:
        proc.kill()
    assert f"(pid {children[0]}) died" in log and "restarting it" in log


def test_bad_process_counts_are_refused():
    out = subprocess.run(CLI + ["serve", "--port", "0", "--processes", "0"], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 2 and "--processes and --workers must be at least 1" in out.stderr


def test_killing_the_supervisor_leaves_no_server_or_worker_behind():
    proc, port = _start()
    children = _server_pids(proc.pid)
    workers = [int(p) for c in children for task in Path(f"/proc/{c}/task").iterdir()
               for p in (task / "children").read_text().split()]
    assert len(children) == 2 and workers
    proc.kill()  # SIGKILL: no chance to drain its children itself
    proc.wait(10)
    deadline = time.time() + 30
    while time.time() < deadline and any(_alive(p) for p in children + workers):
        time.sleep(0.2)
    assert not [p for p in children + workers if _alive(p)]


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split()[2]
    except OSError:
        return False
    return state != "Z"
