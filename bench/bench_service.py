"""Check over gRPC against a trivial gRPC echo, both measured in this run on loopback.

    python bench/bench_service.py [--calls N]

The echo server returns the request bytes unchanged (same payloads: the seed graph's
CheckRequest with new weight values on every call, so the server can reuse only the structure).
Both are warmed first (the symbolic workers started and their structure cache filled), then
timed in alternating rounds so that this machine's slow and fast phases fall on both alike.
Check-w is the same Check with the inline path off (every symbolic job to a worker, which holds
the structure and receives leaf values only); Check-par sends a proven structure to an idle worker
holding it, in parallel with the parent's witnesses (the default runs it inline); Check-p sends
every job to a worker with its pickled plan (the protocol before leaf-values-only jobs).
Another column is the same check in this process (``crossgrad.engine.check.check`` on the
decoded request, no server), timed in the same alternating rounds.
busy-1ms is the echo after 1 ms of pure Python in the handler: gRPC's own cost around a handler
that holds the GIL about as long as a check does. in-gap is the in-process check again with 0.5 ms
idle before each call, as a server's handler sees its calls (not part of the goal: it shows what
the tight loop's warm caches are worth).
Prints p50/p99 latency and calls/s of sequential calls for each, and the ratios.
Goal (issue 16): Check p50 <= in-process check p50 + 1.5x echo p50.

``--stream N`` (default 2000) then streams N seed-structure requests (new weights each) through
CheckStream, with batching (consecutive same-structure requests checked together) and without
(server/batching.BATCHING off: one by one), in alternating rounds with the sequential echo, and
prints requests/s of each against the echo's calls/s. Goal (issue 16): batched >= 1.0x the echo.
"""

from __future__ import annotations

import argparse
import statistics
import time
from concurrent import futures
from pathlib import Path

import grpc
import numpy as np
from crossgrad.client import wire
from crossgrad.engine.check import check as engine_check
from crossgrad.server import batching, workers
from crossgrad.server import wire as server_wire
from crossgrad.server.app import create_server
from crossgrad.server.limits import Limits
from crossgrad.v1 import crossgrad_pb2

SEED = Path(__file__).parents[1] / "examples" / "seed.json"


def echo_server(busy_seconds: float) -> tuple[grpc.Server, int]:
    """Echo, and Busy: the echo after ``busy_seconds`` of pure Python in the handler (what gRPC
    adds around a handler that holds the GIL as long as a check does)."""

    def busy(req: bytes, ctx: object) -> bytes:
        end = time.perf_counter() + busy_seconds
        while time.perf_counter() < end:
            pass
        return req

    handler = grpc.method_handlers_generic_handler(
        "bench.Echo", {"Echo": grpc.unary_unary_rpc_method_handler(lambda req, ctx: req),
                       "Busy": grpc.unary_unary_rpc_method_handler(busy),
                       "Stream": grpc.stream_stream_rpc_method_handler(lambda reqs, ctx: (r for r in reqs))})
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
    server.add_generic_rpc_handlers((handler,))
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    return server, port


ROUNDS = 5
BUSY_SECONDS = 0.001
GAP_SECONDS = 0.0005


def payloads(count: int) -> list[bytes]:
    """The seed request with new weights (w, b) each time, serialized."""
    request = wire.request_from_json(SEED.read_text())
    request.formulas = False  # closed forms are SymPy work on every call; the check itself is measured
    rng = np.random.default_rng(0)
    out = []
    for _ in range(count):
        for node in request.graph.nodes:
            if node.WhichOneof("kind") == "leaf" and node.leaf.requires_grad:
                values = node.leaf.value.data
                values[:] = rng.standard_normal(len(values)).astype(np.float32).tolist()
        out.append(request.SerializeToString())
    return out


def timed(call, items: list[bytes], idle: float = 0.0) -> list[float]:
    times = []
    for payload in items:
        if idle:
            time.sleep(idle)
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
    parser.add_argument("--stream", type=int, default=2000, help="requests per CheckStream (0: skip)")
    parser.add_argument("--only-stream", action="store_true", help="skip the unary comparisons")
    args = parser.parse_args()
    calls = args.calls
    items = payloads(calls)
    running = create_server("127.0.0.1", 0)
    echo, echo_port = echo_server(BUSY_SECONDS)
    try:
        with grpc.insecure_channel(f"127.0.0.1:{running.port}") as a, \
                grpc.insecure_channel(f"127.0.0.1:{echo_port}") as b:
            check = a.unary_unary("/crossgrad.v1.CrossgradService/Check")
            echo_call = b.unary_unary("/bench.Echo/Echo")
            busy_call = b.unary_unary("/bench.Echo/Busy")
            busy_times: list[float] = []
            timed(check, items[:50])  # workers up, structure derived and cached
            timed(echo_call, items[:50])
            limits = Limits()

            def in_process(payload: bytes) -> None:
                engine_check(server_wire.request_in(crossgrad_pb2.CheckRequest.FromString(payload), limits))

            timed(in_process, items[:50])
            echo_times: list[float] = []
            check_times: list[float] = []
            local_times: list[float] = []
            gap_times: list[float] = []  # in-process, 0.5 ms idle before each call
            worker_times: list[float] = []  # A/B: the same Check with every symbolic job sent to a worker
            inline_times: list[float] = []  # A/B: proven structures to an idle worker that holds them

            pickled_times: list[float] = []  # A/B: every worker job carries the pickled plan

            def pickled_plan(payload: bytes) -> None:
                inline, workers.INLINE_WORK, workers.COMPACT_JOBS = workers.INLINE_WORK, 0, False
                try:
                    check(payload)
                finally:
                    workers.INLINE_WORK, workers.COMPACT_JOBS = inline, True

            def parallel(payload: bytes) -> None:
                workers.PARALLEL_PROVEN = True
                try:
                    check(payload)
                finally:
                    workers.PARALLEL_PROVEN = False

            def via_worker(payload: bytes) -> None:
                inline, workers.INLINE_WORK = workers.INLINE_WORK, 0
                try:
                    check(payload)
                finally:
                    workers.INLINE_WORK = inline

            if args.stream:
                stream_rounds(a, echo_call, b.stream_stream("/bench.Echo/Stream"), payloads(args.stream), items)
            if args.only_stream:
                return
            per_round = max(1, calls // ROUNDS)
            for r in range(ROUNDS):
                chunk = items[r * per_round:(r + 1) * per_round]
                echo_times += timed(echo_call, chunk)
                busy_times += timed(busy_call, chunk)
                check_times += timed(check, chunk)
                local_times += timed(in_process, chunk)
                gap_times += timed(in_process, chunk, idle=GAP_SECONDS)
                worker_times += timed(via_worker, chunk)
                inline_times += timed(parallel, chunk)
                pickled_times += timed(pickled_plan, chunk)
            print(f"seed-graph Check vs echo, {len(check_times)} sequential calls each in {ROUNDS} "
                  f"alternating rounds, payload {len(items[0])} bytes:")
            rate_echo = summary("echo", echo_times)
            summary("busy-1ms", busy_times)
            rate_check = summary("Check", check_times)
            summary("in-proc", local_times)
            summary("in-gap", gap_times)
            summary("Check-w", worker_times)
            summary("Check-par", inline_times)
            summary("Check-p", pickled_times)
            print("  (Check-w: every symbolic job to a worker, leaf values only; Check-par: proven structures "
                  "to an idle worker holding them;\n   Check-p: every job to a worker with its pickled plan, "
                  "the protocol before;\n   busy-1ms: the echo after 1 ms of pure Python in its handler)")
            p50 = {name: statistics.median(t) for name, t in
                   (("echo", echo_times), ("check", check_times), ("local", local_times))}
            bound = p50["local"] + 1.5 * p50["echo"]
            print(f"  Check / echo calls/s: {rate_check / rate_echo:.3f}")
            print(f"  Check p50 {p50['check'] * 1e3:.3f} ms vs in-process p50 + 1.5x echo p50 "
                  f"{bound * 1e3:.3f} ms: ratio {p50['check'] / bound:.2f} (goal <= 1.0)")
    finally:
        running.stop(0)
        echo.stop(0)


STREAM_ROUNDS = 5


def stream_rounds(channel: grpc.Channel, echo_call, echo_stream, requests: list[bytes],
                  echo_items: list[bytes]) -> None:
    """CheckStream of every request, batched and one by one, against the sequential echo (and a
    streaming echo: what a Python gRPC stream itself costs per message)."""
    stream = channel.stream_stream("/crossgrad.v1.CrossgradService/CheckStream")
    wrapped = [crossgrad_pb2.CheckStreamRequest(request=crossgrad_pb2.CheckRequest.FromString(r)).SerializeToString()
               for r in requests]

    def run(batched: bool, inline: bool = False) -> float:
        batching.BATCHING, batching.GROUP_INLINE = batched, inline
        try:
            start = time.perf_counter()
            answers = [crossgrad_pb2.CheckStreamResponse.FromString(b) for b in stream(iter(wrapped))]
            seconds = time.perf_counter() - start
        finally:
            batching.BATCHING, batching.GROUP_INLINE = True, False
        assert len(answers) == len(wrapped) and not any(a.HasField("error") for a in answers)
        flagged = sum(a.batched for a in answers)
        assert (flagged > 0) == batched, flagged
        return len(answers) / seconds

    run(True)  # warm: the worker holds the structure
    rates: dict[str, list[float]] = {"echo": [], "batched": [], "b-inline": [], "alone": [], "s-echo": []}
    for _ in range(STREAM_ROUNDS):
        rates["echo"].append(len(echo_items) / sum(timed(echo_call, echo_items)))
        start = time.perf_counter()
        rates["s-echo"].append(sum(1 for _ in echo_stream(iter(wrapped))) / (time.perf_counter() - start))
        rates["batched"].append(run(True))
        rates["alone"].append(run(False))
        rates["b-inline"].append(run(True, inline=True))
    echo = statistics.median(rates["echo"])
    print(f"CheckStream of {len(requests)} seed-structure requests (new weights each), {STREAM_ROUNDS} "
          f"alternating rounds, median:")
    print(f"  echo     {echo:8.0f} calls/s (sequential unary)")
    print("  (b-inline: batched, the group's symbolic witness in the server thread instead of one worker job;\n"
          "   s-echo: the same requests through a streaming echo, the ceiling of a Python gRPC stream)")
    for name in ("batched", "b-inline", "alone", "s-echo"):
        rate = statistics.median(rates[name])
        print(f"  {name:8s} {rate:8.0f} requests/s   {rate / echo:.2f}x the echo   "
              f"(rounds: {', '.join(f'{r:.0f}' for r in rates[name])})")


if __name__ == "__main__":
    main()
