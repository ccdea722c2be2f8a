"""Progress of a grading run on stderr: a live tqdm bar on a terminal; in a log (not a terminal),
one plain line every tenth of the work and at the end — never carriage-return soup."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from typing import TextIO, TypeVar

T = TypeVar("T")


def progress(items: Iterable[T], total: int, what: str = "graded", stream: TextIO | None = None) -> Iterator[T]:
    out = stream or sys.stderr
    if out.isatty():
        from tqdm import tqdm

        yield from tqdm(items, total=total, desc=what, unit="submission", file=out)
        return
    step = max(1, total // 10)
    for done, item in enumerate(items, start=1):
        if done % step == 0 or done == total:
            print(f"{what} {done}/{total}", file=out, flush=True)
        yield item

