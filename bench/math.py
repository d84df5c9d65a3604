#!/usr/bin/env python3
"""bench/math.py — the Python anchors of the math benchmark (BENCHMARKS.md, issue 3); bench/math.sh runs it.

  fullbatch: numpy's g = X.T @ (X @ w - y) / n on random float64 C-order data of the given shape; the median
             of K timed runs (after one warm-up). Run it with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset.
  sgd:       makes a regression dataset (a known linear model plus noise, fixed seed), writes it as raw
             little-endian float64 (X row-major, then y) for descent-bench-math --mode sgd, and times
             scikit-learn's SGDRegressor (squared_error, no penalty, constant rate, E epochs, shuffled): seconds
             per epoch (fit time / E) and the final objective mean(½ r²) — the per-sample loss sklearn's
             squared_error minimises, and API.md's loss for linear + squared.

Each mode ends with one `RESULT key=value ...` line for the script to read.
"""
import os
import sys

# This file is named math.py: drop its own directory from the path, or `import math` (in statistics, numpy)
# would find this script instead of the standard library's module.
_here = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _here]

import argparse  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402


def full_batch(args):
    rng = np.random.default_rng(1)
    n, d = args.rows, args.columns
    X = np.ascontiguousarray(rng.uniform(-1.0, 1.0, size=(n, d)))
    y = rng.uniform(-1.0, 1.0, size=n)
    w = rng.uniform(-0.1, 0.1, size=d)
    g = X.T @ (X @ w - y) / n  # warm-up
    times = []
    for _ in range(args.iterations):
        start = time.perf_counter()
        g = X.T @ (X @ w - y) / n
        times.append((time.perf_counter() - start) * 1e3)
    ms = statistics.median(times)
    try:
        from threadpoolctl import threadpool_info

        blas = ", ".join(f"{p.get('internal_api')} {p.get('version')} {p.get('architecture')} "
                         f"{p.get('num_threads')} threads" for p in threadpool_info() if p.get("user_api") == "blas")
    except ImportError:
        blas = "?"
    print(f"numpy {np.__version__} ({blas}): {n} x {d}, median {ms:.3f} ms over {args.iterations} runs "
          f"(min {min(times):.3f}, max {max(times):.3f}); checksum {float(g.sum()):.6g}")
    print(f"RESULT mode=numpy rows={n} columns={d} numpy_ms={ms:.4f}")


def sgd(args):
    from sklearn.linear_model import SGDRegressor
    import sklearn

    n, d = args.rows, args.columns
    rng = np.random.default_rng(7)
    X = rng.standard_normal((n, d))
    truth = rng.standard_normal(d)
    y = X @ truth + 0.5 + 0.1 * rng.standard_normal(n)
    if args.write:
        with open(args.write, "wb") as out:
            out.write(np.ascontiguousarray(X, dtype="<f8").tobytes())
            out.write(np.ascontiguousarray(y, dtype="<f8").tobytes())
    seconds = []
    loss = float("nan")
    for _ in range(args.iterations):
        model = SGDRegressor(loss="squared_error", penalty=None, max_iter=args.epochs, tol=None,
                             learning_rate="constant", eta0=args.eta, shuffle=True, random_state=0,
                             fit_intercept=True, average=False)
        start = time.perf_counter()
        model.fit(X, y)
        seconds.append(time.perf_counter() - start)
        r = X @ model.coef_ + model.intercept_[0] - y
        loss = float(0.5 * np.mean(r * r))
    per_epoch = statistics.median(seconds) / args.epochs
    print(f"scikit-learn {sklearn.__version__} SGDRegressor: {n} x {d}, {args.epochs} epochs, eta {args.eta}: "
          f"{per_epoch * 1e3:.3f} ms/epoch (median of {args.iterations} fits), final objective {loss:.10g}")
    print(f"RESULT mode=sklearn rows={n} columns={d} epochs={args.epochs} seconds_per_epoch={per_epoch:.6f} "
          f"loss={loss:.10g}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=["fullbatch", "sgd"], required=True)
    parser.add_argument("--rows", type=int, required=True)
    parser.add_argument("--columns", type=int, default=64)
    parser.add_argument("--iterations", type=int, default=10, help="timed runs (fits, in sgd mode)")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--eta", type=float, default=0.001)
    parser.add_argument("--write", help="sgd: write the dataset here as raw little-endian float64")
    args = parser.parse_args()
    if args.rows < 1 or args.columns < 1 or args.iterations < 1 or args.epochs < 1:
        sys.exit("math.py: rows, columns, iterations and epochs must be ≥ 1")
    full_batch(args) if args.mode == "fullbatch" else sgd(args)


if __name__ == "__main__":
    main()
