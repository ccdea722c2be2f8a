"""Building and running the gRPC server: the service, standard health and reflection."""

from __future__ import annotations

import hmac
import logging
import os
import signal
import sys
import threading
from concurrent import futures
from dataclasses import dataclass
from typing import Any

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from . import blas, wire
from .admission import Admission, BigChecks
from .limits import Limits
from .service import CrossgradServicer
from .witness_pool import CheckPool
from .workers import SymbolicPool

log = logging.getLogger("crossgrad.server")


def blas_threads() -> int:
    """numpy's BLAS threads in a server process: 1 (see blas.py), or CROSSGRAD_BLAS_THREADS."""
    return int(os.environ.get("CROSSGRAD_BLAS_THREADS", "1"))

GRACE_SECONDS = 10.0
DRAIN_LINGER = 0.5


@dataclass
class Running:
    server: grpc.Server
    port: int
    health: health.HealthServicer
    pool: SymbolicPool
    servicer: CrossgradServicer
    big: CheckPool | None = None

    def stop(self, grace: float = GRACE_SECONDS) -> None:
        """Report NOT_SERVING, answer new checks UNAVAILABLE, let running ones finish within
        ``grace``, then stop the server.

        Draining happens in the servicer because gRPC's own stop cancels calls it has accepted
        but not yet handed to a handler, and its stop event can fire before handlers return.
        """
        self.health.enter_graceful_shutdown()
        self.servicer.drain(grace)
        threading.Event().wait(DRAIN_LINGER)  # late arrivals and client retries still get UNAVAILABLE
        self.server.stop(1.0).wait()
        self.pool.close()
        if self.big is not None:
            self.big.close()


class _BearerToken(grpc.ServerInterceptor):
    """UNAUTHENTICATED unless the call carries ``authorization: Bearer <token>``; health stays
    open so load balancers and Kubernetes probes can ask."""

    def __init__(self, token: str) -> None:
        self.expected = f"Bearer {token}"

        def deny(request: Any, context: grpc.ServicerContext) -> None:
            context.abort(grpc.StatusCode.UNAUTHENTICATED, "a valid bearer token is required")

        self.deny = grpc.unary_unary_rpc_method_handler(deny)

    def intercept_service(self, continuation: Any, details: Any) -> Any:
        if details.method.startswith("/grpc.health.v1.Health/"):
            return continuation(details)
        metadata = dict(details.invocation_metadata or ())
        if hmac.compare_digest(metadata.get("authorization", ""), self.expected):
            return continuation(details)
        return self.deny


def create_server(host: str = "127.0.0.1", port: int = 50051, limits: Limits | None = None,
                  tls: tuple[bytes, bytes] | None = None, token: str | None = None,
                  reuse_port: bool = False, big: BigChecks | None = None) -> Running:
    """A started server; ``port=0`` picks a free port (see ``Running.port``).

    ``tls`` is (certificate chain PEM, private key PEM); ``token`` requires a bearer token;
    ``reuse_port`` shares the port with the other processes of ``serve --processes``; ``big``
    configures the pool for big checks (admission.py; default from the environment).
    """
    limits = limits or Limits()
    blas.limit_threads(blas_threads())
    options = [("grpc.max_receive_message_length", limits.max_message_bytes),
               ("grpc.max_send_message_length", limits.max_message_bytes),
               # a second server on a used port must fail, not share it (unless it is one of ours)
               ("grpc.so_reuseport", 1 if reuse_port else 0)]
    # checks are limited by the servicer; the extra threads keep health and reflection answering.
    # gRPC counts a call as active until its handler thread's future is done, which under load lags
    # behind the answer the client already has: a client's next call could find the count full and
    # get gRPC's bare "Concurrent RPC limit exceeded!" (bench_load, 16 clients, load 15). Room for
    # one such lagging call per request slot; the servicer's own limit still answers the excess.
    workers = limits.max_concurrent_requests + 4
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=workers), options=options,
                         maximum_concurrent_rpcs=workers + limits.max_concurrent_requests,
                         interceptors=[_BearerToken(token)] if token else None)
    pool = SymbolicPool(limits.symbolic_workers)
    big = big or BigChecks.from_env()
    big_pool = CheckPool(big.workers, big.memory_mb, big.nice) if big.workers else None
    servicer = CrossgradServicer(limits, pool, big_pool, Admission(big))
    wire.add_servicer(servicer, server)
    health_servicer = health.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    reflection.enable_server_reflection((wire.SERVICE_NAME, health.SERVICE_NAME, reflection.SERVICE_NAME),
                                        server)
    try:
        address = f"{host}:{port}"
        if tls is None:
            bound = server.add_insecure_port(address)
        else:
            bound = server.add_secure_port(address, grpc.ssl_server_credentials([(tls[1], tls[0])]))
    except RuntimeError as err:
        _close(pool, big_pool)
        raise OSError(f"cannot listen on {host}:{port}: {err}") from None
    if bound == 0:
        _close(pool, big_pool)
        raise OSError(f"cannot listen on {host}:{port} (address in use?)")
    server.start()
    for name in ("", wire.SERVICE_NAME):
        health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    return Running(server, bound, health_servicer, pool, servicer, big_pool)


def _close(pool: SymbolicPool, big_pool: CheckPool | None) -> None:
    pool.close()
    if big_pool is not None:
        big_pool.close()


def serve(host: str, port: int, limits: Limits | None = None, tls: tuple[bytes, bytes] | None = None,
          token: str | None = None, processes: int = 1) -> int:
    """Run until SIGTERM or SIGINT; prints the bound port on stdout, logs to stderr."""
    if processes > 1:
        from .processes import serve_processes

        return serve_processes(host, port, processes, limits=limits, tls=tls, token=token)
    running = create_server(host, port, limits, tls, token)
    print(running.port, flush=True)
    print(f"crossgrad serving on {host}:{running.port}", file=sys.stderr, flush=True)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()
    print("crossgrad: shutting down (in-flight calls get a grace period)", file=sys.stderr, flush=True)
    running.stop()
    return 0
