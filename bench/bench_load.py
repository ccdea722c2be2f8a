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
   each, errors (goal on 2 cores: >= 1.6x, p99 no worse, 0 errors).
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

from crossgrad.client import Client, RemoteError, wire

EXAMPLES = Path(__file__).parents[1] / "examples"
SMALL = wire.request_from_json((EXAMPLES / "seed.json").read_text())
SMALL.formulas = False
LARGE = wire.request_from_json((EXAMPLES / "mlp.json").read_text())


def start_server(processes: int = 1) -> tuple[subprocess.Popen, int]:
    proc = subprocess.Popen([sys.executable, "-m", "crossgrad.client.cli", "serve", "--port", "0",
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


class Load:
    """CLIENTS threads sending checks until ``stop`` is set; records latencies and error codes."""

    def __init__(self, targets: list[str], clients: int) -> None:
        self.stop = threading.Event()
        self.latencies: list[float] = []
        self.errors: Counter[str] = Counter()
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
            f"p99 {p99 * 1e3:.1f} ms, errors {dict(load.errors) or 0}")


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


def run_processes(seconds: float, clients: int) -> dict:
    from crossgrad.server.processes import usable_cores

    results = {}
    for count in sorted({1, usable_cores()}):
        proc, port = start_server(count)
        try:
            with Load([f"127.0.0.1:{port}"], clients) as load:
                time.sleep(seconds)
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(60)
        results[count] = (len(load.latencies) / seconds, load)
        print(f"4. serve --processes {count}: {summary(load, seconds)}")
    if len(results) > 1:
        many = max(results)
        print(f"   {many} processes / 1 process: {results[many][0] / results[1][0]:.2f}x the checks/s")
    return {n: rate for n, (rate, _) in results.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--only", choices=["load", "shutdown", "scaleout", "processes"], help="run one part")
    opts = parser.parse_args()
    if opts.only == "processes":
        run_processes(opts.seconds, opts.clients)
        return
    print(f"machine: {os.cpu_count()} cores; every server is a local process on 127.0.0.1")
    run_load(opts.seconds, opts.clients)
    run_shutdown(opts.clients)
    run_scaleout(max(5.0, opts.seconds / 6), opts.clients)
    run_processes(opts.seconds, opts.clients)


if __name__ == "__main__":
    main()
