"""The Python SDK: ``Client`` (and ``AsyncClient``) for a crossgrad server.

    with Client("127.0.0.1:50051") as client:        # or a list of addresses: round_robin
        report = client.check(loss)                 # an engine tensor, a request, or a JSON file

Results are the same :class:`~crossgrad.engine.report.Report` that ``crossgrad.check``
returns. Server errors become typed exceptions carrying the field violations:

    RemoteError
     ├── InvalidRequest     INVALID_ARGUMENT (violations: [(field, description), ...])
     ├── OverLimit          RESOURCE_EXHAUSTED
     ├── Unavailable        UNAVAILABLE (after gRPC's own retries)
     ├── DeadlineExceeded   DEADLINE_EXCEEDED
     └── Unauthenticated    UNAUTHENTICATED (missing or wrong bearer token)
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import AsyncIterator, Iterable, Iterator
from pathlib import Path
from typing import Any

import grpc
from crossgrad.engine.check import CheckRequest
from crossgrad.engine.errors import CrossgradError
from crossgrad.engine.hessian import check_order
from crossgrad.engine.report import Report
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from . import wire

DEFAULT_DEADLINE = 120.0
MAX_MESSAGE = 64 * 1024 * 1024


class RemoteError(CrossgradError):
    def __init__(self, code: str, message: str, violations: list[tuple[str, str]]) -> None:
        super().__init__(f"{code}: {message}")
        self.code, self.message, self.violations = code, message, violations


class InvalidRequest(RemoteError):
    pass


class OverLimit(RemoteError):
    pass


class Unavailable(RemoteError):
    pass


class DeadlineExceeded(RemoteError):
    pass


class Unauthenticated(RemoteError):
    pass


_TYPED = {grpc.StatusCode.INVALID_ARGUMENT: InvalidRequest, grpc.StatusCode.RESOURCE_EXHAUSTED: OverLimit,
          grpc.StatusCode.UNAVAILABLE: Unavailable, grpc.StatusCode.DEADLINE_EXCEEDED: DeadlineExceeded,
          grpc.StatusCode.UNAUTHENTICATED: Unauthenticated}


def remote_error(err: Any) -> RemoteError:
    """A typed exception from a failed call, with BadRequest field violations if any."""
    violations: list[tuple[str, str]] = []
    status = rpc_status.from_call(err) if hasattr(err, "trailing_metadata") else None
    for detail in status.details if status else []:
        bad = error_details_pb2.BadRequest()
        if detail.Unpack(bad):
            violations += [(v.field, v.description) for v in bad.field_violations]
    code = err.code() if callable(getattr(err, "code", None)) else grpc.StatusCode.UNKNOWN
    cls = _TYPED.get(code, RemoteError)
    return cls(code.name, err.details() or "", violations)


_BY_NUMBER = {code.value[0]: code for code in grpc.StatusCode}


def stream_answer(response: Any, return_exceptions: bool) -> Report | RemoteError:
    """A CheckStreamResponse's report; its own error raised (or returned) as a typed RemoteError."""
    if not response.HasField("error"):
        report = wire.report_in(response.response)
        report.batched = response.batched
        return report
    error = response.error
    code = _BY_NUMBER.get(error.code, grpc.StatusCode.UNKNOWN)
    violations = [(error.field, error.description)] if error.field else []
    found = _TYPED.get(code, RemoteError)(code.name, error.message, violations)
    if return_exceptions:
        return found
    raise found


def target_of(targets: str | Iterable[str]) -> str:
    """One gRPC target; a list of IPv4 host:port addresses becomes a static round_robin list."""
    if isinstance(targets, str):
        return targets
    addresses = list(targets)
    for address in addresses:
        host = address.rsplit(":", 1)[0]
        try:
            ipaddress.IPv4Address(host)
        except ValueError:
            raise ValueError(f"{address!r}: a list of targets takes IPv4 host:port addresses; "
                             "for host names use one 'dns:///name:port' target") from None
    return "ipv4:" + ",".join(addresses)


def channel_options() -> list[tuple[str, Any]]:
    """round_robin over every address, retries on UNAVAILABLE only (gRPC's own), own connection."""
    config = {
        "loadBalancingConfig": [{"round_robin": {}}],
        "methodConfig": [{
            "name": [{"service": wire.SERVICE_NAME}],
            "retryPolicy": {"maxAttempts": 5, "initialBackoff": "0.1s", "maxBackoff": "2s",
                            "backoffMultiplier": 2, "retryableStatusCodes": ["UNAVAILABLE"]},
        }],
    }
    # each Client its own connection: gRPC otherwise shares one TCP connection among the channels
    # of a process with the same target, so N clients would all land on one server process of
    # `serve --processes` (SO_REUSEPORT spreads connections, not calls)
    return [("grpc.service_config", json.dumps(config)), ("grpc.enable_retries", 1),
            ("grpc.max_receive_message_length", MAX_MESSAGE), ("grpc.max_send_message_length", MAX_MESSAGE),
            ("grpc.use_local_subchannel_pool", 1)]


def to_request(what: Any, gradient: Any = None, names: dict[str, Any] | None = None, figures_only: bool = False,
               order: int | None = None, **options: Any) -> tuple[Any, dict[int, str]]:
    """A CheckRequest message from a tensor, an engine request, a JSON file, or a message.

    ``figures_only``: the server sends the comparison figures without the gradient tensors.
    ``order``: 2 checks second derivatives (Hessian-vector products), as ``crossgrad.check(order=2)``.
    """
    message, names_by_id = _message(what, gradient, names, **options)
    if figures_only:
        message.figures_only = True
    if order is not None:
        message.order = check_order(order)
    return message, names_by_id


def _message(what: Any, gradient: Any, names: dict[str, Any] | None, **options: Any) -> tuple[Any, dict[int, str]]:
    from crossgrad.engine.numeric.tensor import Tensor

    if isinstance(what, Tensor):
        return _tensor_message(what, gradient, names, **options)
    if type(what).__module__.startswith(("torch", "jax", "numpy")):
        from crossgrad.checking import _refuse_foreign

        _refuse_foreign(what, "the value to check")
    if isinstance(what, CheckRequest):
        return wire.request_out(what), {}
    if isinstance(what, (str, Path)):
        return wire.request_from_json(Path(what).read_text()), {}
    return what, {}


def _tensor_message(what: Any, gradient: Any, names: dict[str, Any] | None,
                    **options: Any) -> tuple[Any, dict[int, str]]:
    """An engine tensor's graph as a request; ``claimed`` keyed by name or tensor, intermediate
    tensors included (as ``crossgrad.check``)."""
    from crossgrad.claimed_keys import claimed_by_name, export_ids, with_claimed_tensors
    from crossgrad.engine.check import CheckRequest
    from crossgrad.engine.numeric.export import to_graph

    claimed = options.pop("claimed", None) or {}
    names = with_claimed_tensors(names, claimed)
    graph, leaves = to_graph(what, export_ids(names))
    if claimed:
        grad_leaves = {n: t for n, t in leaves.items() if t.requires_grad}
        options["claimed"] = claimed_by_name(claimed, names, grad_leaves, graph)
    seed = None if gradient is None else getattr(gradient, "_data", gradient)
    request = CheckRequest(graph, seed, **options)
    return wire.request_out(request), {id(t): n for n, t in leaves.items()}


def _channel(module: Any, target: str | Iterable[str], root_certificates: bytes | None,
             token: str | None) -> Any:
    """An insecure channel, or TLS (with the token as call credentials) when certificates are given."""
    if root_certificates is None:
        return module.insecure_channel(target_of(target), options=channel_options())
    credentials = grpc.ssl_channel_credentials(root_certificates)
    if token:
        credentials = grpc.composite_channel_credentials(credentials, grpc.access_token_call_credentials(token))
    return module.secure_channel(target_of(target), credentials, options=channel_options())


class Client:
    """A blocking client; usable as a context manager.

    ``root_certificates`` (PEM) turns on TLS; ``token`` sends ``authorization: Bearer <token>``.
    """

    def __init__(self, target: str | Iterable[str], deadline: float = DEFAULT_DEADLINE,
                 root_certificates: bytes | None = None, token: str | None = None) -> None:
        self.deadline = deadline
        self._channel = _channel(grpc, target, root_certificates, token)
        self._metadata = [("authorization", f"Bearer {token}")] if token and root_certificates is None else None
        self._stub = wire.Stub(self._channel)

    def _call(self, method: Any, request: Any) -> Any:
        try:
            return method(request, timeout=self.deadline, metadata=self._metadata)
        except grpc.RpcError as err:
            raise remote_error(err) from None

    def check(self, what: Any, **options: Any) -> Report:
        request, names = to_request(what, **options)
        report = wire.report_in(self._call(self._stub.Check, request))
        report.tensor_names = names
        return report

    def check_raw(self, request: Any) -> Any:
        """The CheckResponse message itself (for --json output)."""
        return self._call(self._stub.Check, request)

    def check_many(self, items: Iterable[Any], return_exceptions: bool = False,
                   **options: Any) -> Iterator[Report | RemoteError]:
        """Stream many checks; one report per item, in order. A request the server could not check
        raises its typed error (InvalidRequest...) there, or with ``return_exceptions`` is yielded
        in its place while the others are still answered."""
        requests = (wire.stream_request_message(to_request(item, **options)[0]) for item in items)
        try:
            for response in self._stub.CheckStream(requests, timeout=self.deadline, metadata=self._metadata):
                yield stream_answer(response, return_exceptions)
        except grpc.RpcError as err:
            raise remote_error(err) from None

    def list_ops(self) -> list[dict[str, Any]]:
        return wire.ops_in(self._call(self._stub.ListOps, wire.empty("ListOpsRequest")))

    def server_info(self) -> dict[str, Any]:
        return wire.info_in(self._call(self._stub.GetServerInfo, wire.empty("GetServerInfoRequest")))

    def close(self) -> None:
        self._channel.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncClient:
    """The asyncio client: the same methods, awaited."""

    def __init__(self, target: str | Iterable[str], deadline: float = DEFAULT_DEADLINE,
                 root_certificates: bytes | None = None, token: str | None = None) -> None:
        self.deadline = deadline
        self._channel = _channel(grpc.aio, target, root_certificates, token)
        self._metadata = [("authorization", f"Bearer {token}")] if token and root_certificates is None else None
        self._stub = wire.Stub(self._channel)

    async def check(self, what: Any, **options: Any) -> Report:
        request, names = to_request(what, **options)
        try:
            response = await self._stub.Check(request, timeout=self.deadline, metadata=self._metadata)
        except grpc.RpcError as err:
            raise remote_error(err) from None
        report = wire.report_in(response)
        report.tensor_names = names
        return report

    async def check_many(self, items: Iterable[Any], return_exceptions: bool = False,
                         **options: Any) -> AsyncIterator[Report | RemoteError]:
        requests = [wire.stream_request_message(to_request(item, **options)[0]) for item in items]
        try:
            async for response in self._stub.CheckStream(iter(requests), timeout=self.deadline,
                                                         metadata=self._metadata):
                yield stream_answer(response, return_exceptions)
        except grpc.RpcError as err:
            raise remote_error(err) from None

    async def close(self) -> None:
        await self._channel.close()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
