"""CheckStream's batches: consecutive requests of one structure evaluated together.

A reader thread moves the stream's requests into a queue as they arrive. A batch thread takes the
first waiting request (blocking only when none is waiting) and every other request already
there (at most ``batch_check.MAX_GROUP``): it never waits for requests that have not arrived,
so the first answer is never delayed. Those requests are converted and validated; runs of
consecutive requests with one ``batch_key`` (same structure and options; only leaf values and
claimed values differ) are checked together by ``engine.batch_check.check_group`` with one
symbolic worker job per run. Everything else, and any request that failed before its run was
formed, goes through the servicer's own one-request path, so its errors, admission and limits
are exactly a unary Check's. Answers stay one per request, in order; a request's error is its
own (``requests[i]...``); only UNAVAILABLE and DEADLINE_EXCEEDED end the stream.

The batch thread queues each answer as soon as its part of a group (batch_check.CHUNK requests)
is compared; the handler sends them from that queue, so sending
(one message at a time, each waited for by gRPC) overlaps computing the next ones. A batch's
requests after the first of a structure read only their values (stream_values.py), and its
answers are built in place (wire_fast.py).
"""

from __future__ import annotations

import os
import queue
import threading
import time
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np
from crossgrad.engine import batch_check, offload

from . import access_log, calls, errors, group_jobs, stream_values, wire, wire_fast
from .inbox import Inbox

# False (or CROSSGRAD_STREAM_BATCHING=0 in the server's environment): every request of a stream alone
BATCHING = os.environ.get("CROSSGRAD_STREAM_BATCHING", "1") != "0"
# True: a structure the pool runs inline (proven, tiny exact-tier work) gets its group's symbolic
# witness in this thread too (group_jobs.InlineAnswers); False: one worker job for the group
GROUP_INLINE = os.environ.get("CROSSGRAD_STREAM_GROUP_INLINE", "0") == "1"
# False: every request of a batch converted and validated in full (no stream_values templates)
TEMPLATES = os.environ.get("CROSSGRAD_STREAM_TEMPLATES", "1") != "0"
# False (CROSSGRAD_STREAM_PIPELINE=0): the batches computed in the handler thread, between sends
PIPELINE = os.environ.get("CROSSGRAD_STREAM_PIPELINE", "1") != "0"
# Answers computed ahead of the one being sent, at most (memory stays bounded by a slow reader)
ANSWERS_AHEAD = 2 * batch_check.MAX_GROUP
# Bytes of requests read ahead of the one being checked, at most: beyond this the reader stops
# taking messages from gRPC, so a client sending faster than the server checks is held back by
# flow control instead of growing the server's memory (one request is always admitted)
INBOX_BYTES = int(os.environ.get("CROSSGRAD_STREAM_INBOX_BYTES", str(64 * 1024 * 1024)))
_END = object()


class _Failed:
    """The request iterator raised (the client went away): re-raised in the handler."""

    def __init__(self, err: BaseException) -> None:
        self.err = err


def _read(requests: Iterable[Any], waiting: Inbox) -> None:
    try:
        for item in requests:
            if not waiting.put(item, item.ByteSize()):
                return  # the call ended
    except BaseException as err:  # noqa: BLE001  (handed to the handler thread)
        waiting.put(_Failed(err))
    waiting.put(_END)


def stream(servicer: Any, requests: Iterable[Any], context: Any) -> Iterator[Any]:
    """CheckStream's answers, one per request, in order (see the module doc)."""
    if not BATCHING:
        for index, item in enumerate(requests):
            yield alone(servicer, item, index, context)
        return
    waiting = Inbox(INBOX_BYTES)
    threading.Thread(target=_read, args=(requests, waiting), daemon=True, name="stream-reader").start()
    if not PIPELINE:
        try:
            yield from _batches(servicer, waiting, context)
        finally:
            waiting.close()
        return
    answers: queue.Queue = queue.Queue(maxsize=ANSWERS_AHEAD)
    stopped = threading.Event()
    threading.Thread(target=_compute, args=(servicer, waiting, answers, context, stopped), daemon=True,
                     name="stream-batches").start()
    try:
        while True:
            answer = answers.get()
            if answer is _END:
                return
            if isinstance(answer, _Failed):
                raise answer.err
            yield answer
    finally:
        stopped.set()  # the call ended (or was cancelled): no more batches
        waiting.close()  # and no more reading


def _compute(servicer: Any, waiting: Inbox, answers: queue.Queue, context: Any,
             stopped: threading.Event) -> None:
    """The batches' answers into ``answers`` as each is made, so they are sent while the next
    ones are computed; then _END, or _Failed with what ended the call. At most ANSWERS_AHEAD
    wait to be sent: a client that does not read its answers stops the computing."""
    try:
        for answer in _batches(servicer, waiting, context):
            if not _put(answers, answer, stopped):
                return
    except BaseException as err:  # noqa: BLE001  (re-raised in the handler thread; an abort's status is set)
        _put(answers, _Failed(err), stopped)
        return
    _put(answers, _END, stopped)


def _put(answers: queue.Queue, answer: Any, stopped: threading.Event) -> bool:
    """Queue an answer, waiting for room; False once the call has ended (nobody will read it)."""
    while not stopped.is_set():
        try:
            answers.put(answer, timeout=0.1)
            return True
        except queue.Full:
            continue
    return False


def _batches(servicer: Any, waiting: Inbox, context: Any) -> Iterator[Any]:
    """Take what has arrived (at least one request), answer it, repeat until the stream ends."""
    index = 0
    while True:
        items = [waiting.get()]
        while len(items) < batch_check.MAX_GROUP and items[-1] is not _END and not isinstance(items[-1], _Failed):
            try:
                items.append(waiting.get_nowait())
            except queue.Empty:
                break
        last = items[-1]
        done = last is _END or isinstance(last, _Failed)
        if done:
            items.pop()
        yield from _answer(servicer, items, index, context)
        index += len(items)
        if isinstance(last, _Failed):
            raise last.err
        if done:
            return


def alone(servicer: Any, item: Any, index: int, context: Any) -> Any:
    """One request through the servicer's own path: its report, or its own error."""
    started = time.perf_counter()
    try:
        with servicer._slot():
            report = servicer._check(item.request, context)
    except Exception as err:
        return _error(servicer, item, index, context, err, started)
    access_log.record("CheckStream", context, item.ByteSize(), report.verdict, started)
    return wire.stream_response(report, item.request.figures_only)


def _error(servicer: Any, item: Any, index: int, context: Any, err: Exception, started: float) -> Any:
    """A request's own error answer; a stream-ending status ends the call (raises)."""
    from .service import STREAM_ENDING

    status = errors.to_status(err, f"requests[{index}].")
    if status.code in STREAM_ENDING:
        servicer._fail("CheckStream", item, context, err, started, prefix=f"requests[{index}].")
    access_log.record("CheckStream", context, item.ByteSize(), errors.code_name(status), started)
    return wire.stream_error(status)


def _answer(servicer: Any, items: list[Any], first: int, context: Any) -> Iterator[Any]:
    if len(items) == 1:
        yield alone(servicer, items[0], first, context)
        return
    started = time.perf_counter()
    deadline, _, budget = servicer.budget(context)
    prepared = _prepare_all(servicer, items, deadline, budget)
    for start, stop in batch_check.runs([None if p is None else p[2] for p in prepared]):
        if stop - start == 1:
            yield alone(servicer, items[start], first + start, context)
            continue
        yield from _group(servicer, items[start:stop], prepared[start:stop], first + start, context, deadline,
                          started)


def _prepare_all(servicer: Any, items: list[Any], deadline: float, budget: float) -> list[tuple | None]:
    """Each item's ``_prepare``; an item equal to the last template outside its values
    (stream_values.py) takes the template's preparation with its own values."""
    out: list[tuple | None] = []
    template = None
    with np.errstate(over="ignore"):  # float32 values from doubles: beyond its range is inf (tensor_in's rule)
        for item in items:
            values = None if template is None else template.values(item)
            if values is not None:
                out.append(template.prepared_with(values))
                continue
            found = _prepare(servicer, item, deadline, budget)
            out.append(found)
            template = None if found is None or not TEMPLATES else \
                stream_values.Template.of(item, found, batch_check.fixed_leaf_indices(found[1]))
    return out


def _prepare(servicer: Any, item: Any, deadline: float, budget: float) -> tuple | None:
    """(engine request, plan, batch key), as a lone Check prepares them; None when the request
    cannot be batched or fails here (it then goes alone, to get its own error)."""
    try:
        request, plan = servicer.prepare(item.request, deadline, budget)
        if servicer.big is not None and servicer.admission.is_big(plan, request):
            return None  # a big check goes alone, to its own worker (admission.py)
        key = batch_check.batch_key(request, plan)
    except Exception:  # answered by the one-request path, which maps it
        return None
    return None if key is None else (request, plan, key)


def _group(servicer: Any, items: list[Any], prepared: list[Any], first: int, context: Any, deadline: float,
           started: float) -> Iterator[Any]:
    """A run of one batch key: checked together, answered one by one as each part is compared;
    after a fault in the batch path (or admission refused) the rest go alone."""
    results = _group_results(servicer, prepared, context, deadline)
    answered = 0
    while True:
        try:
            found = next(results, None)
        except Exception:
            break
        if found is None:
            return
        k, result = found
        yield _respond(servicer, items[k], first + k, context, result, started)
        answered = k + 1
    for k in range(answered, len(items)):
        yield alone(servicer, items[k], first + k, context)


def _group_results(servicer: Any, prepared: list[Any], context: Any, deadline: float) -> Iterator[tuple[int, Any]]:
    alive = context.is_active if context is not None else (lambda: True)

    plans = [p[1] for p in prepared]
    inline = GROUP_INLINE and servicer.pool.inline(plans[0], "exact")
    jobs: list[Any] = []

    def symbolic_many(plans: Any, seeds: Any, tier: str) -> Any:
        if inline and tier == "exact":
            return group_jobs.InlineAnswers(list(plans), list(seeds))
        jobs.append(servicer.pool.submit_many(list(plans), list(seeds), tier, deadline, alive))
        return jobs[-1]

    def give_back() -> None:  # the group's job reads its last answers: its worker is free for a call
        for job in jobs:
            job.finish()

    run_there = calls.runner(servicer.pool, deadline, alive, before=give_back)
    with servicer._slot():
        results = batch_check.check_group_iter([p[0] for p in prepared], plans, symbolic_many)
        while True:
            with offload.using(run_there):  # set around each step: this generator yields in between
                found = next(results, None)
            if found is None:
                return
            yield found


def _respond(servicer: Any, item: Any, index: int, context: Any, result: Any, started: float) -> Any:
    if isinstance(result, Exception):
        return _error(servicer, item, index, context, result, started)
    access_log.record("CheckStream", context, item.ByteSize(), result.verdict, started)
    return wire_fast.stream_response(result, item.request.figures_only, batched=True)
