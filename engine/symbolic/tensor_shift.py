"""The row-max shift of the tensor tier's exp rows: softmax, log_softmax, logsumexp, cross_entropy.

In float64, exp(x) is inf past x ~ 709, so log(sum(exp(x))) was inf (and softmax nan) for rows
any real model may produce (logits * 1e3), and the check blamed the numeric forward. The staged
lowerings read exp(x - m) instead, m the row's max as a STOP-GRADIENT stage (``detached``): for
any constant m, m + log(sum(exp(x - m))) IS log(sum(exp(x))) and exp(x - m) / sum(exp(x - m)) IS
softmax(x), so SymPy's derivatives of these templates (m held constant) are the derivatives of
the forward definitions, at every order. As torch does, an infinite max shifts by 0 (a row of
-inf stays -inf, a row holding +inf stays inf/nan as unshifted).

The max stage is value only: its template names the function (``row_max`` of the row, an
undefined SymPy function) but it is never differentiated, so a row of any length costs no SymPy
partials.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
import sympy as sp

from .templates import Group, Stage, args


class RowMax:
    """The shift's value: the max of the columns, 0 where it is infinite. Never differentiated."""

    value_only = True
    partials: tuple[sp.Expr, ...] = ()
    piecewise = False

    def forward(self, *cols: np.ndarray) -> Any:
        return self._finite(functools.reduce(np.maximum, cols))

    def of_rows(self, rows: np.ndarray) -> np.ndarray:
        """The same from the gathered (rows, K) matrix."""
        return self._finite(rows.max(axis=1))

    @staticmethod
    def _finite(top: np.ndarray) -> np.ndarray:
        return np.where(np.isinf(top), 0.0, top)  # torch: an infinite max shifts by 0 (nan stays nan)

    def gradient(self, *cols: np.ndarray) -> list[float]:
        return [0.0] * len(cols)  # a detached stage: no adjoint is ever sent through it


ROW_MAX = RowMax()
ROW_MAX_FUNCTION = sp.Function("row_max")


def is_row_max(stage: Stage, template: sp.Expr) -> bool:
    return stage.detached and getattr(template, "func", None) == ROW_MAX_FUNCTION


def row_max(rows: np.ndarray, source: int) -> Stage:
    """out[m] = max of row m of the source buffer, as a stop-gradient stage."""
    template = ROW_MAX_FUNCTION(*args(rows.shape[1]))
    return Stage(rows.shape[0], (Group(template, (source,) * rows.shape[1], np.arange(rows.shape[0]), rows),),
                 detached=True)
