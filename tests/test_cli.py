"""The crossgrad CLI as a subprocess: every example file, JSON output, exit codes, serve."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

EXAMPLES = sorted((Path(__file__).parents[1] / "examples").glob("*.json"))
CLI = [sys.executable, "-m", "crossgrad.client.cli"]


def run(*args, timeout=120):
    return subprocess.run(CLI + list(args), capture_output=True, text=True, timeout=timeout)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_every_example_checks_and_prints_json(path):
    out = run("check", str(path), "--json")
    assert out.returncode == 0, out.stderr
    response = json.loads(out.stdout)  # nothing but JSON on stdout
    assert response["verdict"] in ("VERDICT_AGREE", "VERDICT_CONVENTION")
    assert response.get("leaves") or response.get("steps")


def test_seed_example_shows_the_closed_form_for_b():
    out = run("check", str(EXAMPLES[[p.name for p in EXAMPLES].index("seed.json")]), "--formulas")
    assert out.returncode == 0
    assert "crossgrad check: AGREE" in out.stdout and "d/db[0] = 1/3 - exp(-b[0]" in out.stdout


def test_expression_form_and_exit_codes(tmp_path):
    leaves = ["--leaf", "x=ones(5)", "--leaf", "w=randn(5,3):grad", "--leaf", "b=randn(3):grad",
              "--leaf", "y=zeros(3)"]
    assert run("check", "-e", "binary_cross_entropy_with_logits(x @ w + b, y)", *leaves).returncode == 0
    bad = run("check", "-e", "open('/etc/passwd')", "--leaf", "x=ones(2)")
    assert bad.returncode == 2 and "only calls of catalogue ops" in bad.stderr
    assert run("check", "-e", "relu(", "--leaf", "x=ones(2)").returncode == 2
    assert run("check", str(tmp_path / "missing.json")).returncode == 2
    assert run("check", "--server", "127.0.0.1:1", str(EXAMPLES[0])).returncode == 3


def test_mismatch_exits_1(tmp_path):
    request = json.loads((Path(__file__).parents[1] / "examples" / "seed.json").read_text())
    request["claimed"] = {"b": {"shape": ["3"], "dtype": "DTYPE_FLOAT32", "data": [1.0, 2.0, 3.0]}}
    path = tmp_path / "claimed.json"
    path.write_text(json.dumps(request))
    out = run("check", str(path))
    assert out.returncode == 1 and "mismatch" in out.stdout


def test_ops_lists_the_catalogue():
    out = run("ops")
    assert out.returncode == 0
    assert "binary_cross_entropy_with_logits" in out.stdout and "BinaryCrossEntropyWithLogitsBackward0" in out.stdout


def test_serve_port_0_then_sigterm_shuts_down_gracefully():
    proc = subprocess.Popen(CLI + ["serve", "--port", "0", "--limit", "max_nodes=777"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        port = int(proc.stdout.readline())
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = health_pb2_grpc.HealthStub(channel)
            reply = stub.Check(health_pb2.HealthCheckRequest(), timeout=10)
            assert reply.status == health_pb2.HealthCheckResponse.SERVING
            assert run("check", "--server", f"127.0.0.1:{port}", str(EXAMPLES[0])).returncode == 0
            from crossgrad.client import Client

            with Client(f"127.0.0.1:{port}") as client:
                assert client.server_info()["limits"]["max_nodes"] == "777"
        start = time.time()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
        assert time.time() - start < 15
        assert "shutting down" in proc.stderr.read()
    finally:
        proc.kill()


def test_sigterm_lets_an_in_flight_check_finish():
    import threading

    import crossgrad as torch
    from crossgrad.client import Client

    torch.manual_seed(0)
    w = torch.randn(100, 100, dtype=torch.float64, requires_grad=True)
    loss = torch.tanh(torch.randn(2, 100, dtype=torch.float64) @ w).sum()  # a ~1 s exact-tier check
    proc = subprocess.Popen(CLI + ["serve", "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        port = int(proc.stdout.readline())
        result = {}

        def slow_check():
            with Client(f"127.0.0.1:{port}") as client:
                result["verdict"] = client.check(loss, tier="exact").verdict

        worker = threading.Thread(target=slow_check)
        worker.start()
        time.sleep(0.5)
        start = time.time()
        proc.send_signal(signal.SIGTERM)
        worker.join(timeout=60)
        assert result.get("verdict") == "agree"
        assert proc.wait(timeout=30) == 0
        assert time.time() - start > 0.2  # it waited for the call, not just exited
    finally:
        proc.kill()
