"""Big checks run whole in a worker process (server/witness_pool.py), chosen by estimated work
(server/admission.py): the same report as in the request thread, small checks admitted while a
big one runs, overrunning or dead workers replaced, errors with the same status."""

from __future__ import annotations

import threading
import time

import crossgrad as torch
import numpy as np
import pytest
from crossgrad.client import Client, InvalidRequest
from crossgrad.client.sdk import to_request
from crossgrad.engine.errors import DeadlineError
from crossgrad.engine.graph import GraphError, validate
from crossgrad.server import wire
from crossgrad.server.admission import Admission, BigChecks, estimated_work
from crossgrad.server.limits import LimitError, Limits
from crossgrad.server.service import CrossgradServicer
from crossgrad.server.witness_pool import CheckPool

THRESHOLD = 5_000  # element evaluations: the seed graph (~400) is small, the layers below are big


def layer(n: int = 12, batch: int = 6, seed: int = 0, dtype: object = torch.float64) -> tuple[object, object, object]:
    torch.manual_seed(seed)
    w = (torch.randn(n, n, dtype=dtype) * 0.3).requires_grad_()
    b = torch.zeros(n, dtype=dtype, requires_grad=True)
    x, c = torch.randn(batch, n, dtype=dtype), torch.randn(batch, n, dtype=dtype)
    return w, b, (torch.tanh(x @ w + b) * c).sum()


def seed_message() -> object:
    torch.manual_seed(1)
    w = torch.randn(5, 3, requires_grad=True)
    return to_request(torch.sigmoid(torch.ones(5) @ w).sum(), names={"w": w})[0]


@pytest.fixture(scope="module")
def big_server():
    from crossgrad.server.app import create_server

    running = create_server("127.0.0.1", 0, big=BigChecks(threshold=THRESHOLD))
    yield running
    running.stop(0)


def in_thread(server: object, message: object) -> object:
    """The response the request thread itself would build (the same servicer path, no big pool)."""
    servicer = CrossgradServicer(server.servicer.limits, server.pool)  # type: ignore[attr-defined]
    assert servicer.big is None
    return wire.response_out(servicer._check(message, None), message.figures_only)  # type: ignore[attr-defined]


def without_timings(response: object) -> object:
    response.timings_ms.clear()  # type: ignore[attr-defined]
    return response


def test_work_decides_big_and_small():
    limits, admission = Limits(), Admission(BigChecks(threshold=THRESHOLD))
    for message, big in ((seed_message(), False), (to_request(layer()[2])[0], True)):
        request = wire.request_in(message, limits)
        plan = validate(request.graph)
        assert (estimated_work(plan, request) >= THRESHOLD) is big
        assert admission.is_big(plan, request) is big
    assert not Admission(BigChecks(threshold=0, workers=0)).is_big(plan, request)  # no pool: all in-thread


def test_admission_caps_big_checks_in_flight():
    admission = Admission(BigChecks(workers=1, queue=1))
    with admission.big(), admission.big(), pytest.raises(LimitError, match="2 large checks are running or waiting"), \
            admission.big():
        pass
    with admission.big():  # places are given back
        assert admission.big_in_flight == 1


@pytest.mark.parametrize("claimed", [False, True])
def test_a_big_check_runs_in_a_worker_and_reports_the_same(big_server, claimed):
    w, b, loss = layer()
    options = {"claimed": {"w": np.ones((12, 12))}} if claimed else {}  # a wrong claimed gradient
    message = to_request(loss, names={"w": w, "b": b}, **options)[0]
    before = big_server.big.checks
    with Client(f"127.0.0.1:{big_server.port}", deadline=60) as client:
        remote = client.check_raw(message)
    assert big_server.big.checks == before + 1  # it ran in the big-check worker
    local = in_thread(big_server, message)
    assert without_timings(remote) == without_timings(local)
    assert remote.verdict == (wire.VERDICTS["mismatch"] if claimed else wire.VERDICTS["agree"])
    assert len(remote.leaves) == 2 and remote.leaves[0].HasField("numeric")  # gradients came back


@pytest.mark.parametrize("kind", ["order2", "program"])
def test_second_order_and_program_checks_match_too(big_server, kind):
    w, b, loss = layer(n=6, batch=3, seed=9)
    message = to_request(loss, names={"w": w, "b": b}, order=2 if kind == "order2" else None)[0]
    if kind == "program":
        for step in (wire.STEP_ENUM["backward"], wire.STEP_ENUM["sgd_step"], wire.STEP_ENUM["zero_grad"],
                     wire.STEP_ENUM["forward"], wire.STEP_ENUM["backward"]):
            message.program.add(kind=step, lr=0.1 if step == wire.STEP_ENUM["sgd_step"] else 0.0)
    before = big_server.big.checks
    with Client(f"127.0.0.1:{big_server.port}", deadline=60) as client:
        remote = client.check_raw(message)
    assert big_server.big.checks == before + 1
    assert without_timings(remote) == without_timings(in_thread(big_server, message))
    assert remote.verdict == wire.VERDICTS["agree"]
    if kind == "order2":
        assert remote.order == 2
    else:  # the five steps and the final parameters
        assert [s.kind for s in remote.steps][-1] == wire.STEP_ENUM["final_parameters"] and len(remote.steps) == 6


def test_figures_only_big_check_matches_too(big_server):
    w, b, loss = layer(n=16, batch=8, seed=3, dtype=torch.float32)
    message = to_request(loss, names={"w": w, "b": b}, figures_only=True)[0]
    with Client(f"127.0.0.1:{big_server.port}", deadline=60) as client:
        remote = client.check_raw(message)
    local = in_thread(big_server, message)
    assert without_timings(remote) == without_timings(local)
    assert not remote.leaves[0].HasField("numeric") and remote.leaves[0].comparisons


def test_a_stream_mixing_big_and_small_checks_answers_each_in_order(big_server):
    """CheckStream: a big check's answer (serialized in its worker) and small ones in between,
    each the in-thread response, in order."""
    import grpc
    from crossgrad.v1 import crossgrad_pb2_grpc

    big = [layer(seed=seed) for seed in (7, 8)]  # two big ones of one structure: not batched in this thread
    items = [*(to_request(loss, names={"w": w, "b": b})[0] for w, b, loss in big), seed_message()]
    before = big_server.big.checks
    with grpc.insecure_channel(f"127.0.0.1:{big_server.port}") as channel:
        stub = crossgrad_pb2_grpc.CrossgradServiceStub(channel)
        answers = list(stub.CheckStream(iter([wire.pb.CheckStreamRequest(request=m) for m in items]), timeout=60))
    assert big_server.big.checks == before + 2
    for answer, message in zip(answers, items, strict=True):
        assert answer.HasField("response") and not answer.HasField("error")
        assert without_timings(answer.response) == without_timings(in_thread(big_server, message))


def test_a_big_check_error_has_the_in_thread_status(big_server):
    """check() raising in the worker (a claimed gradient for a name that is no leaf requiring
    grad) comes back as the same typed error: INVALID_ARGUMENT naming the field."""
    w, b, loss = layer(seed=4)
    message = to_request(loss, names={"w": w, "b": b})[0]
    message.claimed["nope"].dtype = wire.pb.DTYPE_FLOAT64
    message.claimed["nope"].data.append(0.0)
    with pytest.raises(GraphError) as expected:
        in_thread(big_server, message)
    with Client(f"127.0.0.1:{big_server.port}", deadline=60) as client, pytest.raises(InvalidRequest) as caught:
        client.check_raw(message)
    assert caught.value.violations == [(expected.value.path, expected.value.reason)]


def test_a_small_check_is_answered_while_a_big_one_runs(big_server):
    """The big check's symbolic witness grinds on the exact tier in the worker's own symbolic
    process until its deadline; a small check meanwhile is answered in the request thread."""
    torch.manual_seed(0)
    w = torch.randn(300, 900, dtype=torch.float64, requires_grad=True)
    heavy = to_request(torch.tanh(torch.randn(4, 300, dtype=torch.float64) @ w).sum(), names={"w": w},
                       tier="exact", figures_only=True)[0]
    answers: list[object] = []
    target = f"127.0.0.1:{big_server.port}"

    def big() -> None:
        with Client(target, deadline=4.0) as client:
            answers.append(client.check_raw(heavy))

    thread = threading.Thread(target=big)
    thread.start()
    while big_server.servicer.admission.big_in_flight == 0 and thread.is_alive():
        time.sleep(0.01)
    with Client(target, deadline=60) as client:
        small = client.check_raw(seed_message())
    running = big_server.servicer.admission.big_in_flight
    thread.join()
    assert small.verdict == wire.VERDICTS["agree"] and running == 1  # answered while the big one ran
    assert answers and "timed out" in answers[0].tier_reason  # the big one: numeric answer, symbolic stopped
    assert answers[0].verdict == wire.VERDICTS["agree"]


def test_a_killed_worker_is_replaced_and_the_server_keeps_serving(big_server):
    w, b, loss = layer(seed=5)
    message = to_request(loss, names={"w": w, "b": b})[0]
    target = f"127.0.0.1:{big_server.port}"
    with Client(target, deadline=60) as client:
        client.check_raw(message)
        idle = big_server.big.idle_workers()
        assert len(idle) == 1
        idle[0].process.kill()
        idle[0].process.join(5)
        replaced = big_server.big.replaced
        assert client.check_raw(message).verdict == wire.VERDICTS["agree"]
        assert big_server.big.replaced == replaced + 1
        assert client.check_raw(seed_message()).verdict == wire.VERDICTS["agree"]


def test_a_worker_still_starting_at_the_calls_end_is_kept_for_the_next_check():
    """``end`` already passed while a fresh worker cannot even have started Python yet: the parent
    raises DEADLINE_EXCEEDED's error without sending the request (a message larger than the pipe's
    buffer would block until the worker reads it, past any deadline) and keeps the starting worker,
    which answers the next check."""
    w, b, loss = layer(seed=6)
    request = wire.request_in(to_request(loss)[0], Limits())
    plan = validate(request.graph)
    pool = CheckPool(1)
    try:
        started = time.monotonic()
        with pytest.raises(DeadlineError, match="still starting at the call's deadline"):
            pool.run(request, plan, False, time.monotonic() + 30, time.monotonic())
        assert time.monotonic() - started < 1.0  # a worker's start takes seconds; nothing waited for it
        assert pool.replaced == 0 and len(pool.idle_workers()) == 1
        now = time.monotonic()
        report = pool.run(request, plan, False, now + 30, now + 60)
        assert report.verdict == "agree" and report.graph is request.graph and pool.checks == 1
    finally:
        pool.close()


def test_a_worker_past_the_calls_end_is_killed_and_replaced():
    """A started worker still computing when ``end`` passes is killed (DEADLINE_EXCEEDED's error);
    the next check gets a new worker."""
    w, b, loss = layer(seed=6)
    request = wire.request_in(to_request(loss)[0], Limits())
    plan = validate(request.graph)
    slow = wire.request_in(to_request(layer(n=160, batch=64, seed=7)[2])[0], Limits())  # new structure
    pool = CheckPool(1)
    try:
        now = time.monotonic()
        pool.run(request, plan, False, now + 30, now + 60)  # the worker has started
        with pytest.raises(DeadlineError, match="did not finish before the call's deadline"):
            pool.run(slow, validate(slow.graph), False, time.monotonic() + 30, time.monotonic())
        assert pool.replaced == 1 and not pool.idle_workers()
        now = time.monotonic()
        report = pool.run(request, plan, False, now + 30, now + 60)
        assert report.verdict == "agree" and report.graph is request.graph
    finally:
        pool.close()



@pytest.mark.parametrize("values", [np.random.default_rng(0).standard_normal((40, 30)),
                                    np.array([np.nan, np.inf, -np.inf, -0.0, 1e-310, 3.0] * 50, np.float32)])
def test_large_tensors_are_built_from_packed_bytes_with_the_same_message(values):
    """tensor_out from PACKED_FROM elements parses the values' wire bytes (a copy) instead of a list
    of Python floats; the message is the one the list would give, bit for bit."""
    assert values.size >= wire.PACKED_FROM
    listed = wire.pb.Tensor(shape=values.shape, dtype=wire.DTYPE_OUT[values.dtype], data=values.ravel().tolist())
    packed = wire.tensor_out(values)
    assert packed.SerializeToString() == listed.SerializeToString()
    np.testing.assert_array_equal(np.asarray(packed.data).reshape(values.shape), values.astype(np.float64))
