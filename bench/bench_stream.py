"""CheckStream batching against separate server processes (as deployed), with server CPU per request.

    python bench/bench_stream.py [--requests 2000] [--rounds 4]

Starts `crossgrad serve --processes 1` three times: batching on (one worker job per group),
batching on with the group's symbolic witness in the server thread
(CROSSGRAD_STREAM_GROUP_INLINE=1), and batching off (CROSSGRAD_STREAM_BATCHING=0: one by one).
Streams REQUESTS seed-structure requests (new weights each) to each in alternating rounds, with
the sequential gRPC echo of bench_service.py (its server in its own process too, as the check
servers are) in the same rounds. Prints
requests/s against the echo's calls/s, and the CPU seconds the server and its workers spent per
request (/proc): on a loaded machine the wall-clock rate depends on the scheduler, the CPU per
request is what batching saves. Goal (issue 16): batched >= 1.0x the echo's calls/s.
The requests are built and serialized before any timing; the CPU split (server process alone,
its symbolic workers, and this client process) shows where a request's CPU goes.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import grpc
from bench_load import cpu_seconds
from bench_service import echo_server, payloads, timed
from crossgrad.v1 import crossgrad_pb2 as pb

MODES = {"batched": {}, "b-inline": {"CROSSGRAD_STREAM_GROUP_INLINE": "1"},
         "alone": {"CROSSGRAD_STREAM_BATCHING": "0"}}


def start(env: dict[str, str]) -> tuple[subprocess.Popen, int]:
    proc = subprocess.Popen([sys.executable, "-m", "crossgrad", "-q", "serve", "--port", "0", "--processes", "1"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env={**os.environ, **env})
    return proc, int(proc.stdout.readline())  # type: ignore[union-attr]


def _own_cpu(pid: int) -> float:
    """User + system CPU seconds of the process alone (not its workers)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def start_echo() -> tuple[subprocess.Popen, int]:
    """bench_service's echo server in a process of its own (this script with --serve-echo)."""
    proc = subprocess.Popen([sys.executable, __file__, "--serve-echo"], stdout=subprocess.PIPE, text=True)
    return proc, int(proc.stdout.readline())  # type: ignore[union-attr]


def serve_echo() -> None:
    server, port = echo_server(0.0)
    print(port, flush=True)
    server.wait_for_termination()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--serve-echo", action="store_true", help=argparse.SUPPRESS)
    opts = parser.parse_args()
    if opts.serve_echo:
        return serve_echo()
    items = payloads(opts.requests)
    wrapped = [pb.CheckStreamRequest(request=pb.CheckRequest.FromString(r)).SerializeToString() for r in items]
    servers = {name: start(env) for name, env in MODES.items()}
    echo, echo_port = start_echo()
    rates: dict[str, list[float]] = {name: [] for name in ["echo", *MODES]}
    cpu: dict[str, list[float]] = {name: [] for name in MODES}
    main: dict[str, list[float]] = {name: [] for name in MODES}  # the server process without its workers
    client: dict[str, list[float]] = {name: [] for name in MODES}
    try:
        calls = {name: grpc.insecure_channel(f"127.0.0.1:{port}").stream_stream(
            "/crossgrad.v1.CrossgradService/CheckStream") for name, (_, port) in servers.items()}
        echo_call = grpc.insecure_channel(f"127.0.0.1:{echo_port}").unary_unary("/bench.Echo/Echo")
        for call in calls.values():  # warm: workers up, the structure derived
            list(call(iter(wrapped[:300])))
        for _ in range(opts.rounds):
            rates["echo"].append(500 / sum(timed(echo_call, items[:500])))
            for name, call in calls.items():
                pid, before, start_time = servers[name][0].pid, cpu_seconds(servers[name][0].pid), time.perf_counter()
                own, mine = _own_cpu(pid), time.process_time()
                answered = sum(1 for _ in call(iter(wrapped)))
                rates[name].append(answered / (time.perf_counter() - start_time))
                cpu[name].append((cpu_seconds(pid) - before) / answered)
                main[name].append((_own_cpu(pid) - own) / answered)
                client[name].append((time.process_time() - mine) / answered)
    finally:
        for proc, _ in servers.values():
            proc.terminate()
            proc.wait(timeout=30)
        echo.terminate()
        echo.wait(timeout=30)
    echo_rate = statistics.median(rates["echo"])
    print(f"CheckStream of {opts.requests} seed-structure requests, separate server processes, {opts.rounds} "
          f"alternating rounds (median); load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"  echo     {echo_rate:8.0f} calls/s (sequential unary, its server in its own process)")
    for name in MODES:
        rate = statistics.median(rates[name])
        total, own = statistics.median(cpu[name]) * 1e6, statistics.median(main[name]) * 1e6
        mine = statistics.median(client[name]) * 1e6
        print(f"  {name:8s} {rate:8.0f} requests/s  {rate / echo_rate:5.2f}x the echo   server CPU {total:6.0f} "
              f"us/request (process {own:.0f}, workers {total - own:.0f}; client {mine:.0f})")


if __name__ == "__main__":
    main()
