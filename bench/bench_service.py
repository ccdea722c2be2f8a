"""Check over gRPC against a trivial gRPC echo, both measured in this run on loopback.

    python bench/bench_service.py [--calls N] [--same-process] [--stream N]

The echo server returns the request bytes unchanged (same payloads: the seed graph's
CheckRequest with new weight values on every call, so the server can reuse only the structure).
By default both servers run as deployed, each in a process of its own: ``crossgrad -q serve
--processes 1`` (no access log) and this script with ``--serve-echo`` (a plain ``grpc.server``
with the same thread pool kind), while this process is the client and times the in-process
check. Columns, timed in alternating rounds so that this machine's slow and fast phases fall on
all alike, after a warm-up (the symbolic workers started and their structure cache filled):

- echo: the bare gRPC round trip;
- busy-1ms: the echo after 1 ms of pure Python in the handler (gRPC around a handler that holds
  the GIL about as long as a check does);
- floor: the echo server whose handler runs the in-process check (``crossgrad.engine.check.check``
  on the decoded request, as in-proc) and returns the request bytes: what any servicer doing this
  check costs behind Python gRPC here, with no servicer code of crossgrad's around it;
- Check: crossgrad's own server;
- in-proc: the same check in this process (decode, ``request_in``, ``check``), no server;
- in-gap: in-proc with 0.5 ms idle before each call, as a server's handler sees its calls (not
  part of the goal: it shows what the tight loop's warm caches are worth).

Prints p50/p99 latency and calls/s of sequential calls for each, and the ratios.
Goal (issue 16): Check p50 <= in-process check p50 + 1.5x echo p50. The same ratio for floor shows
how far below 1 any servicer can get on this machine.

``--same-process`` is the earlier layout: both servers in this process (client and servers then
share one interpreter), with the A/B columns of the symbolic worker protocol: Check-w is the same
Check with the inline path off (every symbolic job to a worker, which holds the structure and
receives leaf values only); Check-par sends a proven structure to an idle worker holding it, in
parallel with the parent's witnesses (the default runs it inline); Check-p sends every job to a
worker with its pickled plan (the protocol before leaf-values-only jobs).

``--stream N`` (default 2000, 0 skips) then streams N seed-structure requests (new weights each)
through CheckStream of a server in this process, with batching (consecutive same-structure
requests checked together) and without (server/batching.BATCHING off: one by one), in
alternating rounds with the sequential echo, and prints requests/s of each against the echo's
calls/s. Goal (issue 16): batched >= 1.0x the echo. (bench_stream.py measures the same with
separate server processes.)
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
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
    """Echo; Busy: the echo after ``busy_seconds`` of pure Python in the handler (what gRPC adds
    around a handler that holds the GIL as long as a check does); Floor: the echo after the
    in-process check of the request (the check behind Python gRPC, no crossgrad servicer)."""

    def busy(req: bytes, ctx: object) -> bytes:
        end = time.perf_counter() + busy_seconds
        while time.perf_counter() < end:
            pass
        return req

    check_here = in_process_check()

    def floor(req: bytes, ctx: object) -> bytes:
        check_here(req)
        return req

    handler = grpc.method_handlers_generic_handler(
        "bench.Echo", {"Echo": grpc.unary_unary_rpc_method_handler(lambda req, ctx: req),
                       "Busy": grpc.unary_unary_rpc_method_handler(busy),
                       "Floor": grpc.unary_unary_rpc_method_handler(floor),
                       "Stream": grpc.stream_stream_rpc_method_handler(lambda reqs, ctx: (r for r in reqs))})
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
    server.add_generic_rpc_handlers((handler,))
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    return server, port


ROUNDS = 5
BUSY_SECONDS = 0.001
GAP_SECONDS = 0.0005
SERVICE = "/crossgrad.v1.CrossgradService/Check"


def in_process_check() -> Callable[[bytes], object]:
    """The in-process column: decode the request bytes, convert them, check (no server)."""
    limits = Limits()

    def run(payload: bytes) -> object:
        return engine_check(server_wire.request_in(crossgrad_pb2.CheckRequest.FromString(payload), limits))

    return run


def serve_echo() -> None:
    """This script with --serve-echo: the echo server in a process of its own; prints its port."""
    server, port = echo_server(BUSY_SECONDS)
    print(port, flush=True)
    server.wait_for_termination()


def _started(command: list[str]) -> tuple[subprocess.Popen, int]:
    """A server process and the port it printed."""
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    return proc, int(proc.stdout.readline())  # type: ignore[union-attr]


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
    parser.add_argument("--same-process", action="store_true",
                        help="both servers in this process (the earlier layout, with the worker A/B columns)")
    parser.add_argument("--serve-echo", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_echo:
        return serve_echo()
    items = payloads(args.calls)
    if args.stream:
        stream_in_process(payloads(args.stream), items)
    if not args.only_stream:
        (same_process if args.same_process else separate)(items)


def separate(items: list[bytes]) -> None:
    """The servers as deployed, each in a process of its own; this process is the client."""
    checker, check_port = _started([sys.executable, "-m", "crossgrad", "-q", "serve", "--port", "0",
                                    "--processes", "1"])
    echo, echo_port = _started([sys.executable, __file__, "--serve-echo"])
    try:
        with grpc.insecure_channel(f"127.0.0.1:{check_port}") as a, \
                grpc.insecure_channel(f"127.0.0.1:{echo_port}") as b:
            columns = {"echo": b.unary_unary("/bench.Echo/Echo"), "busy-1ms": b.unary_unary("/bench.Echo/Busy"),
                       "floor": b.unary_unary("/bench.Echo/Floor"), "Check": a.unary_unary(SERVICE),
                       "in-proc": in_process_check()}
            for call in columns.values():  # workers up, structure derived and cached, both servers warm
                timed(call, items[:50])
            times = alternate(columns, items)
    finally:
        for proc in (checker, echo):
            proc.terminate()
            proc.wait(timeout=30)
    print(f"seed-graph Check vs echo, servers in their own processes, {len(times['Check'])} sequential calls "
          f"each in {ROUNDS} alternating rounds, payload {len(items[0])} bytes:")
    for name, samples in times.items():
        summary(name, samples)
    print("  (floor: the same in-process check inside the echo server's handler, no crossgrad servicer)")
    goal(times, ("Check", "floor"))


def alternate(columns: dict[str, Callable[[bytes], object]], items: list[bytes]) -> dict[str, list[float]]:
    """Each column's call times over ``items`` in ROUNDS alternating rounds, and in-gap's (the
    in-proc column with GAP_SECONDS idle before each call)."""
    times: dict[str, list[float]] = {name: [] for name in [*columns, "in-gap"]}
    per_round = max(1, len(items) // ROUNDS)
    for r in range(ROUNDS):
        chunk = items[r * per_round:(r + 1) * per_round]
        for name, call in columns.items():
            times[name] += timed(call, chunk)
        times["in-gap"] += timed(columns["in-proc"], chunk, idle=GAP_SECONDS)
    return times


def goal(times: dict[str, list[float]], names: tuple[str, ...]) -> None:
    """The per-call goal's ratio for each of ``names``: p50 / (in-process p50 + 1.5x echo p50)."""
    p50 = {name: statistics.median(samples) for name, samples in times.items()}
    bound = p50["in-proc"] + 1.5 * p50["echo"]
    rate = {name: len(samples) / sum(samples) for name, samples in times.items()}
    print(f"  Check / echo calls/s: {rate['Check'] / rate['echo']:.3f}")
    for name in names:
        print(f"  {name} p50 {p50[name] * 1e3:.3f} ms vs in-process p50 + 1.5x echo p50 "
              f"{bound * 1e3:.3f} ms: ratio {p50[name] / bound:.2f} (goal <= 1.0)")


def same_process(items: list[bytes]) -> None:
    """The earlier layout: both servers in this process, with the worker protocol's A/B columns."""
    running = create_server("127.0.0.1", 0)
    echo, echo_port = echo_server(BUSY_SECONDS)
    try:
        with grpc.insecure_channel(f"127.0.0.1:{running.port}") as a, \
                grpc.insecure_channel(f"127.0.0.1:{echo_port}") as b:
            check = a.unary_unary(SERVICE)

            def with_flags(**flags: object) -> Callable[[bytes], None]:
                """The Check with workers' module flags set for the call (A/B of the worker protocol)."""

                def call(payload: bytes) -> None:
                    before = {name: getattr(workers, name) for name in flags}
                    for name, value in flags.items():
                        setattr(workers, name, value)
                    try:
                        check(payload)
                    finally:
                        for name, value in before.items():
                            setattr(workers, name, value)

                return call

            columns = {"echo": b.unary_unary("/bench.Echo/Echo"), "busy-1ms": b.unary_unary("/bench.Echo/Busy"),
                       "Check": check, "in-proc": in_process_check(),
                       "Check-w": with_flags(INLINE_WORK=0), "Check-par": with_flags(PARALLEL_PROVEN=True),
                       "Check-p": with_flags(INLINE_WORK=0, COMPACT_JOBS=False)}
            for name in ("Check", "echo", "in-proc"):  # workers up, structure derived and cached
                timed(columns[name], items[:50])
            times = alternate(columns, items)
    finally:
        running.stop(0)
        echo.stop(0)
    print(f"seed-graph Check vs echo, both servers in this process, {len(times['Check'])} sequential calls "
          f"each in {ROUNDS} alternating rounds, payload {len(items[0])} bytes:")
    for name, samples in times.items():
        summary(name, samples)
    print("  (Check-w: every symbolic job to a worker, leaf values only; Check-par: proven structures "
          "to an idle worker holding them;\n   Check-p: every job to a worker with its pickled plan, "
          "the protocol before;\n   busy-1ms: the echo after 1 ms of pure Python in its handler)")
    goal(times, ("Check",))


def stream_in_process(requests: list[bytes], echo_items: list[bytes]) -> None:
    """The CheckStream comparison, against a server and an echo in this process."""
    running = create_server("127.0.0.1", 0)
    echo, echo_port = echo_server(BUSY_SECONDS)
    try:
        with grpc.insecure_channel(f"127.0.0.1:{running.port}") as a, \
                grpc.insecure_channel(f"127.0.0.1:{echo_port}") as b:
            stream_rounds(a, b.unary_unary("/bench.Echo/Echo"), b.stream_stream("/bench.Echo/Stream"),
                          requests, echo_items)
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
