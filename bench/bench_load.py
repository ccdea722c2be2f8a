"""Load, graceful shutdown and scale-out on loopback (bounded in time; nothing leaves 127.0.0.1).

    python bench/bench_load.py [--seconds 60] [--clients 16]

1. load: CLIENTS threads for SECONDS against one `crossgrad serve` process, mixed small (the
   seed graph) and larger (a small MLP) checks; errors, p50/p99 latency, the server's RSS at the
   start, middle and end.
2. shutdown under load: SIGTERM while clients run; in-flight calls must complete, later ones
   get UNAVAILABLE, nothing else.
3. scale-out: 1, 2 and 3 server processes behind one SDK client (gRPC round_robin over the
   addresses): checks/s per replica count; then one of three is killed mid-run: failed checks
   (the client retries on UNAVAILABLE) and checks/s.
4. every core: CLIENTS clients for SECONDS against `serve --processes 1` and `--processes N`
   (N = the usable cores, one port shared with SO_REUSEPORT), same run: checks/s ratio, p99 of
   each, errors (goal on 2 cores: >= 1.6x, p99 no worse, 0 errors). The clients share the
   machine's cores with the servers, so each line also gives the CPU seconds the server (with
   its workers) and the load generator spent per check: server checks per CPU-second is the
   capacity of one core, whatever the clients take. `--pin` runs 1 process pinned to the last
   core with this load generator on the others (a core of its own, when there are 2).
5. starvation: one client's sequential seed-graph checks alone, then while another client (its
   own process; `--same-process-client` for a thread of this one) streams large checks (a
   1024x1024 tanh layer, batch 256, float32), alternating; p50/p99 of the small checks in each
   phase (goal: the big checks raise the small p99 by at most 2x). `--processes N` for N server
   processes.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from crossgrad.client import Client, RemoteError, wire

EXAMPLES = Path(__file__).parents[1] / "examples"
SMALL = wire.request_from_json((EXAMPLES / "seed.json").read_text())
SMALL.formulas = False
LARGE = wire.request_from_json((EXAMPLES / "mlp.json").read_text())


def start_server(processes: int = 1, cpus: list[int] | None = None) -> tuple[subprocess.Popen, int]:
    pin = ["taskset", "-c", ",".join(map(str, cpus))] if cpus else []
    proc = subprocess.Popen([*pin, sys.executable, "-m", "crossgrad.client.cli", "serve", "--port", "0",
                             "--processes", str(processes)],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    port = int(proc.stdout.readline())  # type: ignore[union-attr]
    with Client(f"127.0.0.1:{port}") as client:  # wait until its workers answer
        client.check_raw(SMALL)
    return proc, port


def rss_mb(pid: int) -> float:
    """Resident memory of the server and its worker processes."""
    return status_mb(pid, "VmRSS", sum)


def status_mb(pid: int, field: str, combine: Callable[[list[float]], float]) -> float:
    """A memory field of /proc/PID/status (VmRSS, VmHWM) over the process and its children, in MB."""
    values = []
    for p in [pid, *_children(pid)]:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith(f"{field}:"):
                    values.append(int(line.split()[1]) / 1024)
        except OSError:
            pass
    return combine(values) if values else 0.0


def _children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and its live descendants (/proc/PID/stat)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for p in [pid, *_descendants(pid)]:
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
        except (OSError, IndexError, ValueError):
            pass
    return total


def _descendants(pid: int) -> list[int]:
    found = []
    for child in _children(pid):
        found += [child, *_descendants(child)]
    return found


def own_cpu() -> float:
    t = os.times()
    return t.user + t.system


class Load:
    """CLIENTS threads sending checks until ``stop`` is set; records latencies and error codes."""

    def __init__(self, targets: list[str], clients: int) -> None:
        self.stop = threading.Event()
        self.latencies: list[float] = []
        self.errors: Counter[str] = Counter()
        self.messages: dict[str, str] = {}  # the first message of each error code
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self._run, args=(targets, i)) for i in range(clients)]

    def _run(self, targets: list[str], index: int) -> None:
        with Client(targets if len(targets) > 1 else targets[0], deadline=60) as client:
            n = 0
            while not self.stop.is_set():
                message = LARGE if (index + n) % 4 == 0 else SMALL
                n += 1
                start = time.perf_counter()
                try:
                    client.check_raw(message)
                    elapsed = time.perf_counter() - start
                    with self.lock:
                        self.latencies.append(elapsed)
                except RemoteError as err:
                    with self.lock:
                        self.errors[err.code] += 1
                        self.messages.setdefault(err.code, str(err))

    def __enter__(self) -> Load:
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for t in self.threads:
            t.join()


def summary(load: Load, seconds: float) -> str:
    lat = sorted(load.latencies)
    if not lat:
        return f"no successful checks; errors {dict(load.errors)}"
    p99 = lat[min(len(lat) - 1, int(0.99 * len(lat)))]
    return (f"{len(lat)} checks, {len(lat) / seconds:.1f}/s, p50 {statistics.median(lat) * 1e3:.1f} ms, "
            f"p99 {p99 * 1e3:.1f} ms, errors {dict(load.errors) or 0}"
            + "".join(f"\n   first {code}: {message}" for code, message in load.messages.items()))


def run_load(seconds: float, clients: int) -> dict:
    proc, port = start_server()
    try:
        before = rss_mb(proc.pid)
        with Load([f"127.0.0.1:{port}"], clients) as load:
            time.sleep(seconds / 2)
            middle = rss_mb(proc.pid)
            time.sleep(seconds / 2)
        after = rss_mb(proc.pid)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
    print(f"1. load, {clients} clients, {seconds:g} s: {summary(load, seconds)}")
    print(f"   server RSS (with workers): start {before:.0f} MB, middle {middle:.0f} MB, end {after:.0f} MB")
    return {"errors": sum(load.errors.values()), "checks": len(load.latencies), "rss": (before, middle, after)}


def run_shutdown(clients: int) -> dict:
    proc, port = start_server()
    with Load([f"127.0.0.1:{port}"], clients) as load:
        time.sleep(2)
        done_before = len(load.latencies)
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(30)
        time.sleep(0.5)
    unexpected = {k: v for k, v in load.errors.items() if k != "UNAVAILABLE"}
    print(f"2. SIGTERM under load: exit code {code}; {done_before} checks before, {len(load.latencies)} "
          f"completed in all; refused after shutdown: {load.errors.get('UNAVAILABLE', 0)} UNAVAILABLE; "
          f"other errors: {unexpected or 0}")
    return {"exit": code, "unexpected": unexpected}


def run_scaleout(seconds: float, clients: int) -> dict:
    servers = [start_server() for _ in range(3)]
    targets = [f"127.0.0.1:{port}" for _, port in servers]
    rates = {}
    try:
        for n in (1, 2, 3):
            with Load(targets[:n], clients) as load:
                time.sleep(seconds)
            rates[n] = len(load.latencies) / seconds
            print(f"3. {n} replica(s): {summary(load, seconds)}")
        with Load(targets, clients) as load:
            time.sleep(seconds / 2)
            servers[0][0].kill()
            time.sleep(seconds / 2)
        print(f"   3 replicas, one killed mid-run: {summary(load, seconds)}")
        return {"rates": rates, "errors_after_kill": sum(load.errors.values())}
    finally:
        for proc, _ in servers:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                proc.wait(30)


def run_processes(seconds: float, clients: int, pin: bool = False) -> dict:
    from crossgrad.server.processes import usable_cores

    cores = sorted(os.sched_getaffinity(0))
    counts = [1] if pin else sorted({1, usable_cores()})
    results = {}
    for count in counts:
        proc, port = start_server(count, cpus=[cores[-1]] if pin else None)
        if pin:
            os.sched_setaffinity(0, cores[:-1] or cores)
        try:
            server_before, own_before = cpu_seconds(proc.pid), own_cpu()
            with Load([f"127.0.0.1:{port}"], clients) as load:
                time.sleep(seconds)
            server_cpu, own = cpu_seconds(proc.pid) - server_before, own_cpu() - own_before
        finally:
            os.sched_setaffinity(0, cores)
            proc.send_signal(signal.SIGTERM)
            proc.wait(60)
        n = max(1, len(load.latencies))
        results[count] = (len(load.latencies) / seconds, load)
        where = f" (pinned to core {cores[-1]}, clients on {cores[:-1] or cores})" if pin else ""
        print(f"4. serve --processes {count}{where}: {summary(load, seconds)}")
        print(f"   CPU per check: server {server_cpu / n * 1e3:.2f} ms, load generator {own / n * 1e3:.2f} ms; "
              f"server used {server_cpu / seconds:.2f} cores, clients {own / seconds:.2f}; "
              f"one server core's capacity {n / max(server_cpu, 1e-9):.0f} checks per CPU-second")
    if len(results) > 1:
        many = max(results)
        print(f"   {many} processes / 1 process: {results[many][0] / results[1][0]:.2f}x the checks/s")
    return {n: rate for n, (rate, _) in results.items()}


def big_request(figures_only: bool = True) -> Any:
    import crossgrad as cg
    from crossgrad.client.sdk import to_request

    cg.manual_seed(0)
    x = cg.randn(256, 1024)
    w = (cg.randn(1024, 1024) * 0.03).requires_grad_()
    b = cg.zeros(1024, requires_grad=True)
    c = cg.randn(256, 1024)
    message = to_request((cg.tanh(x @ w + b) * c).sum(), figures_only=figures_only)[0]
    return message


def _stream_big(port: int, stop: Any, times: Any, figures_only: bool = True) -> None:
    """The other client, in its own process (as a separate program would be): serializing its
    12.5 MB requests holds an interpreter for 2-9 ms, which must not land on the small client."""
    big = big_request(figures_only)
    with Client(f"127.0.0.1:{port}", deadline=120) as other:
        while not stop.is_set():
            start = time.perf_counter()
            other.check_raw(big)
            times.put(time.perf_counter() - start)


def run_starvation(seconds: float, processes: int = 1, same_process_client: bool = False,
                   gradients: bool = False) -> dict:
    """The seed graph's latency alone and with one client streaming large checks, alternating."""
    import multiprocessing as mp
    import queue

    ctx = mp.get_context("spawn")
    proc, port = start_server(processes)
    alone: list[float] = []
    loaded: list[float] = []
    bigs: list[float] = []
    try:
        with Client(f"127.0.0.1:{port}", deadline=120) as client:
            with Client(f"127.0.0.1:{port}", deadline=120) as warm:  # the big structure's first run
                for _ in range(processes):
                    warm.check_raw(big_request(not gradients))
            for _ in range(3):
                alone += _small_for(client, seconds / 6)
                if same_process_client:
                    stop: Any = threading.Event()
                    times: Any = queue.Queue()
                    other: Any = threading.Thread(target=_stream_big, args=(port, stop, times, not gradients))
                else:
                    stop, times = ctx.Event(), ctx.Queue()
                    other = ctx.Process(target=_stream_big, args=(port, stop, times, not gradients))
                other.start()
                time.sleep(0.3 if same_process_client else 2.0)  # the other client is up and streaming
                loaded += _small_for(client, seconds / 6)
                stop.set()
                other.join()
                while True:
                    try:
                        bigs.append(times.get(timeout=0.1))
                    except queue.Empty:
                        break
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(60)
    p = {name: (statistics.median(v), sorted(v)[min(len(v) - 1, int(0.99 * len(v)))]) for name, v in
         (("alone", alone), ("loaded", loaded))}
    where = "a thread of this process" if same_process_client else "another process"
    what = "with gradient tensors" if gradients else "figures only"
    print(f"5. serve --processes {processes}, the large-check client in {where}, {what}")
    print(f"   small checks alone: {len(alone)}, p50 {p['alone'][0] * 1e3:.1f} ms, p99 {p['alone'][1] * 1e3:.1f} ms; "
          f"with large checks streaming: {len(loaded)}, p50 {p['loaded'][0] * 1e3:.1f} ms, "
          f"p99 {p['loaded'][1] * 1e3:.1f} ms")
    print(f"   small p99 with / without: {p['loaded'][1] / p['alone'][1]:.2f}x (goal <= 2x); "
          f"{len(bigs)} large checks, p50 {statistics.median(bigs or [0]):.2f} s")
    return p


def _small_for(client: Client, seconds: float) -> list[float]:
    times = []
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        start = time.perf_counter()
        client.check_raw(SMALL)
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--only", choices=["load", "shutdown", "scaleout", "processes", "starvation"],
                        help="run one part")
    parser.add_argument("--pin", action="store_true", help="processes: 1 process on its own core")
    parser.add_argument("--processes", type=int, default=1, help="starvation: server processes")
    parser.add_argument("--gradients", action="store_true",
                        help="starvation: the large checks ask for gradient tensors (24 MB answers), not figures only")
    parser.add_argument("--same-process-client", action="store_true",
                        help="starvation: the large-check client as a thread of this process (the old way)")
    opts = parser.parse_args()
    if opts.only == "processes":
        run_processes(opts.seconds, opts.clients, opts.pin)
        return
    if opts.only == "starvation":
        run_starvation(opts.seconds, opts.processes, opts.same_process_client, opts.gradients)
        return
    print(f"machine: {os.cpu_count()} cores; every server is a local process on 127.0.0.1")
    run_load(opts.seconds, opts.clients)
    run_shutdown(opts.clients)
    run_scaleout(max(5.0, opts.seconds / 6), opts.clients)
    run_processes(opts.seconds, opts.clients)
    run_starvation(opts.seconds)


if __name__ == "__main__":
    main()
