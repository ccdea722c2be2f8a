"""Check over gRPC against a trivial gRPC echo, both measured in this run on loopback.

    python bench/bench_service.py [--calls N]

The echo server returns the request bytes unchanged (same payload: the seed graph's
CheckRequest). Prints p50/p99 latency and calls/s of sequential calls for both, and the ratio.
Goal: Check >= 0.6x the echo's calls/s with the structure cache warm.
"""

from __future__ import annotations

import argparse
import statistics
import time
from concurrent import futures
from pathlib import Path

import grpc
from crossgrad.client import wire
from crossgrad.server.app import create_server

SEED = Path(__file__).parents[1] / "examples" / "seed.json"


def echo_server() -> tuple[grpc.Server, int]:
    handler = grpc.method_handlers_generic_handler(
        "bench.Echo", {"Echo": grpc.unary_unary_rpc_method_handler(lambda req, ctx: req)})
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
    server.add_generic_rpc_handlers((handler,))
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    return server, port


def measure(call, payload: bytes, calls: int) -> list[float]:
    for _ in range(20):
        call(payload)
    times = []
    for _ in range(calls):
        start = time.perf_counter()
        call(payload)
        times.append(time.perf_counter() - start)
    return times


def summary(name: str, times: list[float]) -> float:
    times = sorted(times)
    rate = len(times) / sum(times)
    p50, p99 = statistics.median(times), times[int(0.99 * len(times))]
    print(f"  {name:8s} p50 {p50 * 1e3:7.3f} ms   p99 {p99 * 1e3:7.3f} ms   {rate:8.0f} calls/s")
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=500)
    calls = parser.parse_args().calls
    request = wire.request_from_json(SEED.read_text())
    request.formulas = False  # closed forms are SymPy work on every call; the check itself is measured
    payload = request.SerializeToString()
    running = create_server("127.0.0.1", 0)
    echo, echo_port = echo_server()
    try:
        with grpc.insecure_channel(f"127.0.0.1:{running.port}") as a, \
                grpc.insecure_channel(f"127.0.0.1:{echo_port}") as b:
            check = a.unary_unary("/crossgrad.v1.CrossgradService/Check")
            echo_call = b.unary_unary("/bench.Echo/Echo")
            print(f"seed-graph Check vs echo, {calls} sequential calls each, payload {len(payload)} bytes:")
            rate_echo = summary("echo", measure(echo_call, payload, calls))
            rate_check = summary("Check", measure(check, payload, calls))
            print(f"  Check / echo calls/s: {rate_check / rate_echo:.3f} (goal >= 0.6)")
    finally:
        running.stop(0)
        echo.stop(0)


if __name__ == "__main__":
    main()
