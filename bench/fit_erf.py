"""Fit the rational approximation behind crossgrad's float32 erf (engine/numeric/erf_kernel.py).

    python bench/fit_erf.py [M N] [--phi]

erf(x) / x = P(t) / Q(t), t = x^2, on |x| <= 4 (beyond, erf rounds to +-1 in float32): a
weighted linear least-squares fit of P - f Q = 0 at Chebyshev nodes, reweighted by 1/Q
(Sanathanan-Koerner iterations), with f from mpmath at 30 digits. Prints the coefficients of
P and Q in powers of t and the fit's largest relative error. ``--phi``: the same fit rewritten
for erf(x / sqrt 2) / x in powers of t = x^2 (engine/numeric/phi32.py, float32 gelu's Phi).
"""

from __future__ import annotations

import sys

import mpmath as mp
import numpy as np

X_MAX = 4.0


def fit(m: int, n: int, nodes: int = 3000, rounds: int = 12) -> tuple[np.ndarray, np.ndarray, float]:
    mp.mp.dps = 30
    u = (1 - np.cos(np.pi * (np.arange(nodes) + 0.5) / nodes)) / 2  # t / X_MAX^2, in (0, 1)
    f = np.array([float(mp.erf(mp.sqrt(v)) / mp.sqrt(v)) for v in u * X_MAX**2])
    weight = 1 / f
    for _ in range(rounds):
        basis_p = np.vander(u, m + 1, increasing=True)
        basis_q = -f[:, None] * np.vander(u, n + 1, increasing=True)[:, 1:]
        a = np.hstack([basis_p, basis_q]) * weight[:, None]
        sol = np.linalg.lstsq(a, f * weight, rcond=None)[0]
        p, q = sol[: m + 1], np.concatenate([[1.0], sol[m + 1:]])
        q_val = np.polynomial.polynomial.polyval(u, q)
        weight = 1 / (f * np.abs(q_val))
    err = np.polynomial.polynomial.polyval(u, p) / q_val / f - 1
    scale_p, scale_q = X_MAX ** (-2.0 * np.arange(m + 1)), X_MAX ** (-2.0 * np.arange(n + 1))
    return p * scale_p, q * scale_q, float(np.abs(err).max())


def main() -> None:
    args = [a for a in sys.argv[1:] if a != "--phi"]
    m, n = (int(a) for a in args[:2]) if len(args) > 1 else (8, 6)
    p, q, err = fit(m, n)
    if "--phi" in sys.argv:  # z = x / sqrt 2: erf(z) / x = P(z^2) / (sqrt 2 Q(z^2)), z^2 = t / 2
        halves = 2.0 ** -np.arange(max(m, n) + 1)
        p, q = p * halves[: m + 1] / np.sqrt(2.0), q * halves[: n + 1]
    print(f"_P = {tuple(p.tolist())!r}")
    print(f"_Q = {tuple(q.tolist())!r}")
    print(f"largest relative error of the fit: {err:.2e}")


if __name__ == "__main__":
    main()
