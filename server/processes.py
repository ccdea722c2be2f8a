"""``crossgrad serve --processes N``: N server processes on one port (SO_REUSEPORT).

The pattern of gRPC's own Python multiprocessing example: the supervisor reserves the port with
an SO_REUSEPORT socket and starts the server processes (spawned, before it creates any gRPC
object); each binds the same port and the kernel spreads connections over them. Each process
has its own symbolic workers. SIGTERM (or SIGINT) drains all of them at once, so health is
NOT_SERVING on every process while any drains; a process that dies is restarted and logged.
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import os
import signal
import socket
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from .lifetime import die_with_parent

log = logging.getLogger("crossgrad.server")
_CTX = mp.get_context("spawn")
STOP_GRACE_SECONDS = 15.0
POLL_SECONDS = 0.5


def usable_cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


@contextmanager
def reserved_port(host: str, port: int) -> Iterator[int]:
    """Hold ``host:port`` (0: a free one) with SO_REUSEPORT so the server processes can share it."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind((host, port))
    except OSError as err:
        sock.close()
        raise OSError(f"cannot listen on {host}:{port}: {err}") from None
    try:
        yield sock.getsockname()[1]
    finally:
        sock.close()


def _child(host: str, port: int, options: dict[str, Any], ready: Any, log_level: int) -> None:
    """One server process: serve on the shared port until SIGTERM (also sent if the supervisor
    dies, even by SIGKILL), then drain and exit."""
    die_with_parent(signal.SIGTERM)
    logging.basicConfig(level=log_level, stream=sys.stderr,
                        format="%(name)s [pid %(process)d] %(levelname)s: %(message)s")
    from .app import create_server

    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    running = create_server(host, port, reuse_port=True, **options)
    ready.put(os.getpid())
    stop.wait()
    running.stop()


class Supervisor:
    """Starts, watches and stops the server processes."""

    def __init__(self, host: str, port: int, count: int, options: dict[str, Any]) -> None:
        self.host, self.port, self.count, self.options = host, port, count, options
        self.ready: Any = _CTX.Queue()
        self.processes: list[Any] = []
        self.restarts = 0

    def start_one(self) -> Any:
        level = logging.getLogger("crossgrad").getEffectiveLevel()
        proc = _CTX.Process(target=_child, args=(self.host, self.port, self.options, self.ready, level))
        proc.start()
        return proc

    def start(self, timeout: float = 120.0) -> None:
        self.processes = [self.start_one() for _ in range(self.count)]
        for _ in range(self.count):
            self.ready.get(timeout=timeout)  # every process listens before the port is announced

    def watch(self, stop: threading.Event) -> None:
        """Restart a process that died, until ``stop`` is set."""
        while not stop.wait(POLL_SECONDS):
            for k, proc in enumerate(self.processes):
                if not proc.is_alive():
                    log.warning("server process %d (pid %s) died with exit code %s; restarting it",
                                k, proc.pid, proc.exitcode)
                    self.restarts += 1
                    self.processes[k] = self.start_one()

    def stop(self) -> None:
        """SIGTERM to every process (each drains), then wait; kill what outlives the grace."""
        for proc in self.processes:
            if proc.is_alive():
                os.kill(proc.pid, signal.SIGTERM)
        for proc in self.processes:
            proc.join(STOP_GRACE_SECONDS)
            if proc.is_alive():
                proc.kill()
                proc.join(5)


def serve_processes(host: str, port: int, count: int, **options: Any) -> int:
    """Run ``count`` server processes on one port until SIGTERM/SIGINT; prints the port on stdout."""
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    with reserved_port(host, port) as bound:
        supervisor = Supervisor(host, bound, count, options)
        supervisor.start()
        print(bound, flush=True)
        print(f"crossgrad serving on {host}:{bound} with {count} processes", file=sys.stderr, flush=True)
        supervisor.watch(stop)
        print("crossgrad: shutting down (in-flight calls get a grace period)", file=sys.stderr, flush=True)
        supervisor.stop()
    return 0
