"""Grading progress on stderr: one plain line per tenth in a log, a tqdm bar on a terminal (issue 18)."""

from __future__ import annotations

import io

from crossgrad.client.grading.progress import progress


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_log_gets_one_line_per_tenth_and_the_last_no_carriage_returns():
    log = io.StringIO()
    assert list(progress(range(25), 25, stream=log)) == list(range(25))
    lines = log.getvalue().splitlines()
    assert lines == [f"graded {k}/25" for k in (2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 25)]
    assert "\r" not in log.getvalue()


def test_few_items_each_get_a_line():
    log = io.StringIO()
    list(progress(["a", "b", "c"], 3, stream=log))
    assert log.getvalue() == "graded 1/3\ngraded 2/3\ngraded 3/3\n"


def test_a_terminal_gets_a_live_bar():
    tty = _Tty()
    assert list(progress(range(12), 12, stream=tty)) == list(range(12))
    assert "\r" in tty.getvalue() and "12/12" in tty.getvalue()
