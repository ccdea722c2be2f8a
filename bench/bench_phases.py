"""Where a unary Check's time goes: the client's call split at the server handler's entry and exit.

    python bench/bench_phases.py [--calls N]

Server and client in this process (as bench_service.py), so one perf_counter times both sides.
Per call: ``in`` = client call start -> handler entry (request serialization, transport, gRPC's
hand-off to a pool thread, deserialization), ``check`` = the servicer's ``_check`` (the same work
as ``crossgrad.check`` in process), ``answer`` = building the response message, ``out`` = handler
return -> the client holding the response (serialization, transport, the client thread's wake-up),
``cpu`` = the handler thread's own CPU time for the whole handler (``time.thread_time``: time the
thread waited for a core, on a loaded machine, is not in it), compared with the in-process check's.
The echo is split the same way, and two echoes whose handlers take about as long as a Check's:
``spin`` (a pure Python loop) and ``churn`` (allocating objects and reading 8 MB, as a check's
numpy and report objects touch memory); their ``in`` and ``out`` show what gRPC's own path costs
after a handler that did or did not disturb the caches. Prints the p50 of each part and the
in-process check's p50 measured in the same alternating rounds, and the goal's ratio (issue 16).
Check-s is the same Check with its answer built by ``wire.response_out`` (the A/B of
``service.FAST_RESPONSE``).
"""

from __future__ import annotations

import argparse
import statistics
import time
from concurrent import futures

import grpc
import numpy as np
from bench_service import ROUNDS, payloads, timed
from crossgrad.engine.check import check as engine_check
from crossgrad.server import service
from crossgrad.server import wire as server_wire
from crossgrad.server.app import create_server
from crossgrad.server.limits import Limits
from crossgrad.server.service import CrossgradServicer
from crossgrad.v1 import crossgrad_pb2

MARKS: dict[str, float] = {}


def _instrument() -> None:
    """Record the handler's entry, the end of ``_check`` and the handler's return (the last call's)."""
    real_check, real_handler = CrossgradServicer._check, CrossgradServicer.Check

    def _check(self, request, context):  # noqa: ANN001, ANN202
        MARKS["enter"] = time.perf_counter()
        try:
            return real_check(self, request, context)
        finally:
            MARKS["checked"] = time.perf_counter()

    def handler(self, request, context):  # noqa: ANN001, ANN202
        cpu = time.thread_time()
        try:
            return real_handler(self, request, context)
        finally:
            MARKS["leave"] = time.perf_counter()
            MARKS["cpu"] = time.thread_time() - cpu

    CrossgradServicer._check = _check  # type: ignore[method-assign]
    CrossgradServicer.Check = handler  # type: ignore[method-assign]


HANDLER_SECONDS = 0.0015  # about a seed Check's handler
_MEMORY = np.ones(1 << 20)  # 8 MB that the churning handler walks


def _spin(req: bytes, ctx: object) -> bytes:
    """The echo after HANDLER_SECONDS of a pure Python loop (touches almost no memory)."""
    MARKS["enter"] = time.perf_counter()
    while time.perf_counter() < MARKS["enter"] + HANDLER_SECONDS:
        pass
    MARKS["leave"] = time.perf_counter()
    return req


def _churn(req: bytes, ctx: object) -> bytes:
    """The echo after HANDLER_SECONDS of allocating Python objects and summing slices of 8 MB (as a
    check's numpy and report objects touch memory)."""
    MARKS["enter"] = time.perf_counter()
    k = 0
    while time.perf_counter() < MARKS["enter"] + HANDLER_SECONDS:
        start = (k * 65536) % _MEMORY.size
        _MEMORY[start:start + 65536].sum()
        [{"a": i, "b": [i]} for i in range(200)]
        k += 1
    MARKS["leave"] = time.perf_counter()
    return req


def _echo_server() -> tuple[grpc.Server, int]:
    def echo(req: bytes, ctx: object) -> bytes:
        MARKS["enter"] = MARKS["leave"] = time.perf_counter()
        return req

    handler = grpc.method_handlers_generic_handler("bench.Echo", {
        name: grpc.unary_unary_rpc_method_handler(fn) for name, fn in (("Echo", echo), ("Spin", _spin),
                                                                      ("Churn", _churn))})
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
    server.add_generic_rpc_handlers((handler,))
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    return server, port


def _split(call, items: list[bytes]) -> dict[str, list[float]]:  # noqa: ANN001
    parts: dict[str, list[float]] = {"total": [], "in": [], "check": [], "answer": [], "out": [], "cpu": []}
    for payload in items:
        MARKS.clear()
        start = time.perf_counter()
        call(payload)
        end = time.perf_counter()
        parts["total"].append(end - start)
        parts["in"].append(MARKS["enter"] - start)
        parts["check"].append(MARKS.get("checked", MARKS["leave"]) - MARKS["enter"])
        parts["answer"].append(MARKS["leave"] - MARKS.get("checked", MARKS["leave"]))
        parts["out"].append(end - MARKS["leave"])
        parts["cpu"].append(MARKS.get("cpu", 0.0))
    return parts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=500)
    args = parser.parse_args()
    items = payloads(args.calls)
    _instrument()
    running = create_server("127.0.0.1", 0)
    echo, echo_port = _echo_server()
    limits = Limits()

    local_cpu: list[float] = []

    def in_process(payload: bytes) -> None:
        cpu = time.thread_time()
        engine_check(server_wire.request_in(crossgrad_pb2.CheckRequest.FromString(payload), limits))
        local_cpu.append(time.thread_time() - cpu)

    try:
        with grpc.insecure_channel(f"127.0.0.1:{running.port}") as a, \
                grpc.insecure_channel(f"127.0.0.1:{echo_port}") as b:
            check, echo_call = a.unary_unary("/crossgrad.v1.CrossgradService/Check"), b.unary_unary("/bench.Echo/Echo")
            spin, churn = b.unary_unary("/bench.Echo/Spin"), b.unary_unary("/bench.Echo/Churn")
            for warm in (check, echo_call, spin, churn, in_process):
                timed(warm, items[:50])
            found: dict[str, dict[str, list[float]]] = {"Check": {}, "Check-s": {}, "echo": {}, "spin": {}, "churn": {}}
            local: list[float] = []
            per_round = max(1, args.calls // ROUNDS)
            for r in range(ROUNDS):
                chunk = items[r * per_round:(r + 1) * per_round]
                for name, call in (("echo", echo_call), ("Check", check), ("Check-s", check), ("spin", spin),
                                   ("churn", churn)):
                    service.FAST_RESPONSE = name != "Check-s"
                    for part, times in _split(call, chunk).items():
                        found[name].setdefault(part, []).extend(times)
                service.FAST_RESPONSE = True
                local += timed(in_process, chunk)
            print(f"p50 in ms over {len(local)} sequential calls in {ROUNDS} alternating rounds:")
            print(f"  {'':6s} " + " ".join(f"{p:>7s}" for p in found["Check"]))
            for name, parts in found.items():
                print(f"  {name:6s} " + " ".join(f"{statistics.median(t) * 1e3:7.3f}" for t in parts.values()))
            echo_p50 = statistics.median(found["echo"]["total"])
            print(f"  in-process check {statistics.median(local) * 1e3:.3f}   its CPU time "
                  f"{statistics.median(local_cpu[-len(local):]) * 1e3:.3f}")
            cpu = statistics.median(found["Check"]["cpu"]) / statistics.median(local_cpu[-len(local):])
            print(f"  Check handler CPU / in-process check CPU = {cpu:.2f} (the handler thread's own "
                  "CPU time: what preemption on a loaded machine does not inflate)")
            for name in ("Check", "Check-s"):
                bound = statistics.median(local) + 1.5 * echo_p50
                print(f"  {name}: p50 / (in-process p50 + 1.5x echo p50) = "
                      f"{statistics.median(found[name]['total']) / bound:.2f} (goal <= 1)")
            print("  (Check-s: the answer built by wire.response_out, as before wire_fast.response_out;\n"
                  f"   spin / churn: the echo after {HANDLER_SECONDS * 1e3:.1f} ms of a pure Python loop / of "
                  "allocating objects and reading 8 MB; their 'check' column is that handler)")
    finally:
        running.stop(0)
        echo.stop(0)


if __name__ == "__main__":
    main()
