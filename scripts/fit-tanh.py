#!/usr/bin/env python3
"""Fits the rational tanh of Sources/StrataKernels/VectorMath.swift.

tanh x ~ x P(x^2) / Q(x^2) on |x| <= 9, P and Q of degree 4, Q(0) = 1.
Linearized least squares (x P - tanh(x) Q = 0, divided by the last Q),
reweighted towards the points of largest error, which approaches the
minimax fit. Prints the coefficients as floats, the fit's error in double
precision, and the error of the float evaluation the kernel does (Horner
in float32), which dominates. Usage: python3 scripts/fit-tanh.py
"""
import numpy as np

LIMIT = 9.0  # tanh(9) = 1 - 3e-8: beyond it, 1 within a float's precision
DEGREE = 4


def fit(iterations=60):
    x = np.unique(np.concatenate([np.linspace(0, LIMIT, 4000),
                                  LIMIT * (1 - np.cos(np.linspace(0, np.pi / 2, 4000)))]))
    t, y = x * x, np.tanh(x)
    weight, q_values = np.ones_like(x), np.ones_like(x)
    for _ in range(iterations):
        a = np.hstack([np.stack([x * t**i for i in range(DEGREE + 1)], 1),
                       np.stack([-y * t**j for j in range(1, DEGREE + 1)], 1)])
        w = weight / q_values
        c, *_ = np.linalg.lstsq(a * w[:, None], y * w, rcond=None)
        p, q = c[:DEGREE + 1], np.concatenate([[1.0], c[DEGREE + 1:]])
        q_values = np.polyval(q[::-1], t)
        error = x * np.polyval(p[::-1], t) / q_values - y
        weight = weight * (1 + 10 * np.abs(error) / np.abs(error).max())
        weight /= weight.mean()
    return p.astype(np.float32), q.astype(np.float32), np.abs(error).max()


def in_float(p, q, x):
    c = np.clip(x.astype(np.float32), -LIMIT, LIMIT).astype(np.float32)
    t = c * c
    def horner(coefficients):
        r = coefficients[-1]
        for a in coefficients[-2::-1]:
            r = (r * t + a).astype(np.float32)
        return r
    return c * horner(p) / horner(q)


def main():
    p, q, error = fit()
    x = np.arange(-30, 30, 0.0013).astype(np.float32)
    error32 = np.abs(in_float(p, q, x).astype(np.float64) - np.tanh(x.astype(np.float64))).max()
    t = np.linspace(0, LIMIT**2, 100000)
    assert (p > 0).all() and (q > 0).all(), "a negative coefficient: the float evaluation would cancel"
    print("P:", ", ".join(repr(float(v)) for v in p))
    print("Q:", ", ".join(repr(float(v)) for v in q))
    print(f"fit error {error:.2e}, float evaluation error {error32:.2e}, min Q on [0, 81] {np.polyval(q[::-1], t).min():.3f}")


if __name__ == "__main__":
    main()
