"""CheckStream's request inbox: bounded in bytes, so a fast sender is held back by flow control."""

from __future__ import annotations

import queue
import threading
import time

import pytest
from crossgrad.server import batching
from crossgrad.server.inbox import Inbox


def _started(target, *args) -> threading.Thread:
    thread = threading.Thread(target=target, args=args, daemon=True)
    thread.start()
    return thread


def test_a_put_over_the_budget_waits_until_a_get_makes_room():
    inbox = Inbox(budget=10)
    assert inbox.put("a", 6)
    blocked = _started(inbox.put, "b", 6)
    time.sleep(0.2)
    assert blocked.is_alive() and inbox.held == 6
    assert inbox.get() == "a"
    blocked.join(2)
    assert not blocked.is_alive() and inbox.held == 6
    assert inbox.get_nowait() == "b"
    with pytest.raises(queue.Empty):
        inbox.get_nowait()


def test_one_request_larger_than_the_budget_is_admitted_when_none_waits():
    inbox = Inbox(budget=10)
    assert inbox.put("big", 1_000)
    assert inbox.get() == "big" and inbox.held == 0


def test_close_releases_a_blocked_put_which_then_reports_nothing_queued():
    inbox = Inbox(budget=10)
    inbox.put("a", 10)
    result: list[bool] = []
    blocked = _started(lambda: result.append(inbox.put("b", 1)))
    time.sleep(0.1)
    inbox.close()
    blocked.join(2)
    assert result == [False] and inbox.held == 10


class _Request:
    def ByteSize(self) -> int:  # noqa: N802  (protobuf's name)
        return 6


def test_the_stream_reader_stops_taking_requests_while_the_inbox_is_full():
    """The reader pulls from gRPC's iterator only while there is room: 10 bytes hold one 6-byte
    request and a second waits in put, so 2 of 1,000 are taken until the checker catches up."""
    taken = 0

    def requests():
        nonlocal taken
        for _ in range(1_000):
            taken += 1
            yield _Request()

    inbox = Inbox(budget=10)
    reader = _started(batching._read, requests(), inbox)
    time.sleep(0.3)
    assert taken == 2 and reader.is_alive()
    inbox.get()
    time.sleep(0.2)
    assert taken == 3
    inbox.close()
    reader.join(2)
    assert not reader.is_alive() and taken == 3
