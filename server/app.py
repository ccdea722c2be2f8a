"""Building and running the gRPC server: the service, standard health and reflection."""

from __future__ import annotations

import logging
import signal
import sys
import threading
from concurrent import futures
from dataclasses import dataclass
from typing import Any

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from . import wire
from .limits import Limits
from .service import CrossgradServicer
from .workers import SymbolicPool

log = logging.getLogger("crossgrad.server")
GRACE_SECONDS = 10.0


@dataclass
class Running:
    server: grpc.Server
    port: int
    health: health.HealthServicer
    pool: SymbolicPool

    def stop(self, grace: float = GRACE_SECONDS) -> None:
        """Report NOT_SERVING, let in-flight calls finish within ``grace``, then stop."""
        self.health.enter_graceful_shutdown()
        self.server.stop(grace).wait()
        self.pool.close()


def create_server(host: str = "127.0.0.1", port: int = 50051, limits: Limits | None = None) -> Running:
    """A started server; ``port=0`` picks a free port (see ``Running.port``)."""
    limits = limits or Limits()
    options = [("grpc.max_receive_message_length", limits.max_message_bytes),
               ("grpc.max_send_message_length", limits.max_message_bytes),
               ("grpc.so_reuseport", 0)]  # a second server on a used port must fail, not share it
    # checks are limited by the servicer; the extra threads keep health and reflection answering
    workers = limits.max_concurrent_requests + 4
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=workers), options=options,
                         maximum_concurrent_rpcs=workers)
    pool = SymbolicPool(limits.symbolic_workers)
    wire.add_servicer(CrossgradServicer(limits, pool), server)
    health_servicer = health.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    reflection.enable_server_reflection((wire.SERVICE_NAME, health.SERVICE_NAME, reflection.SERVICE_NAME),
                                        server)
    try:
        bound = server.add_insecure_port(f"{host}:{port}")
    except RuntimeError as err:
        pool.close()
        raise OSError(f"cannot listen on {host}:{port}: {err}") from None
    if bound == 0:
        pool.close()
        raise OSError(f"cannot listen on {host}:{port} (address in use?)")
    server.start()
    for name in ("", wire.SERVICE_NAME):
        health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    return Running(server, bound, health_servicer, pool)


def serve(host: str, port: int, limits: Limits | None = None, ready: Any = None) -> int:
    """Run until SIGTERM or SIGINT; prints the bound port on stdout, logs to stderr."""
    running = create_server(host, port, limits)
    print(running.port, flush=True)
    print(f"crossgrad serving on {host}:{running.port}", file=sys.stderr, flush=True)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()
    print("crossgrad: shutting down (in-flight calls get a grace period)", file=sys.stderr, flush=True)
    running.stop()
    return 0
