#!/usr/bin/env python3
"""Regenerate Tests/DescentMathTests/Fixtures: standardised datasets and exact regularised optima.

Usage (from the repository root):  .venv/bin/python scripts/make-math-fixtures.py

For each dataset and l2 the optimum of Descent's objective (shared/API.md, "The objective"),
    L(w, b) = (1/n) sum_i l(x_i.w + b, y_i) + (l2/2) ||w||^2      (intercept not regularised)
is found with scikit-learn's LogisticRegression (C = 1/(n l2)), then polished with Newton's method on
the exact objective in numpy until the gradient norm is <= 1e-12. Softmax is over-parametrised like
scikit-learn (K weight rows and K intercepts, all K rows penalised); the intercepts are then unique
only up to a common shift, so the recorded ones are centred (sum to zero).
"""

import json
import sys
from pathlib import Path

import numpy as np
import scipy
import sklearn
from scipy.special import expit, logsumexp
from sklearn.datasets import load_breast_cancer, load_iris, load_wine
from sklearn.linear_model import LogisticRegression

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "Tests" / "DescentMathTests" / "Fixtures"
DATASETS = [("breast_cancer", load_breast_cancer), ("wine", load_wine), ("iris", load_iris)]
L2S = [1e-2, 1e-3]
GRAD_TOL = 1e-12


def standardise(x):
    """(x - mean) / population std per column; a constant column is only centred."""
    mean = x.mean(axis=0)
    std = x.std(axis=0)  # ddof=0: population standard deviation
    std[std == 0] = 1.0
    return (x - mean) / std


def write_csv(path, names, x, y):
    lines = [",".join(list(names) + ["target"])]
    for row, target in zip(x, y):
        lines.append(",".join([repr(float(v)) for v in row] + [str(int(target))]))
    path.write_text("\n".join(lines) + "\n")


def read_csv(path):
    """Read the fixture back, so the optimum is computed on exactly the numbers the Swift test parses."""
    rows = [line.split(",") for line in path.read_text().splitlines()[1:]]
    x = np.array([[float(v) for v in r[:-1]] for r in rows])
    y = np.array([int(r[-1]) for r in rows])
    return x, y


# Parameters are one flat vector theta. Binary: [w (d), b]. Softmax: K blocks [w_k (d), b_k], i.e. theta
# reshaped to (K, d+1) has the weights in columns :d and the intercepts in column d.

def logistic(theta, xa, y, l2):
    """Objective, gradient and Hessian of the binary log loss. xa = [X, 1]."""
    n, d1 = xa.shape
    w = theta[:-1]
    p = xa @ theta
    sign = 2.0 * y - 1.0
    loss = np.mean(np.logaddexp(0.0, -sign * p)) + 0.5 * l2 * np.dot(w, w)
    r = -sign * expit(-sign * p)  # d l / d p
    reg = np.full(d1, l2)
    reg[-1] = 0.0
    grad = xa.T @ r / n + reg * theta
    s = expit(p)
    hess = (xa * (s * (1.0 - s))[:, None]).T @ xa / n + np.diag(reg)
    return loss, grad, hess


def softmax(theta, xa, y, l2, k):
    """Objective, gradient and Hessian of the multinomial cross-entropy. xa = [X, 1]."""
    n, d1 = xa.shape
    t = theta.reshape(k, d1)
    p = xa @ t.T  # n x K
    lse = logsumexp(p, axis=1)
    loss = np.mean(lse - p[np.arange(n), y]) + 0.5 * l2 * np.sum(t[:, :-1] ** 2)
    s = np.exp(p - lse[:, None])
    onehot = np.eye(k)[y]
    reg = np.full((k, d1), l2)
    reg[:, -1] = 0.0
    grad = ((s - onehot).T @ xa / n + reg * t).ravel()
    # d2 l / dp_k dp_j = s_k (delta_kj - s_j)
    a = np.einsum("ik,kj->ikj", s, np.eye(k)) - np.einsum("ik,ij->ikj", s, s)
    hess = np.einsum("ikj,ia,ib->kajb", a, xa, xa).reshape(k * d1, k * d1) / n + np.diag(reg.ravel())
    return loss, grad, hess


def centre(theta, k, d1):
    if k == 1:
        return theta
    t = theta.reshape(k, d1).copy()
    t[:, -1] -= t[:, -1].mean()
    return t.ravel()


def newton(f, theta, k, d1):
    """Damped Newton from theta. The softmax Hessian is singular along the common intercept shift e
    (the objective is constant along it), so the system is solved with H + e e^T instead."""
    theta = centre(theta, k, d1)
    shift = np.zeros_like(theta)
    if k > 1:
        shift.reshape(k, d1)[:, -1] = 1.0 / np.sqrt(k)
    loss, grad, hess = f(theta)
    for it in range(100):
        gnorm = np.linalg.norm(grad)
        if gnorm <= GRAD_TOL and it >= 2:  # a couple of extra steps at the rounding floor are harmless
            break
        step = np.linalg.solve(hess + np.outer(shift, shift), -grad)
        t = 1.0
        while True:
            cand = centre(theta + t * step, k, d1)
            c_loss, c_grad, c_hess = f(cand)
            # accept on decrease, or on a smaller gradient once the decrease is below rounding
            if c_loss <= loss or np.linalg.norm(c_grad) < gnorm or t < 1e-10:
                break
            t *= 0.5
        if t < 1e-10:
            break
        theta, loss, grad, hess = cand, c_loss, c_grad, c_hess
    return theta, loss, np.linalg.norm(grad)


def fit_case(name, x, y, l2):
    n, d = x.shape
    classes = int(y.max()) + 1
    k = 1 if classes == 2 else classes
    d1 = d + 1
    xa = np.hstack([x, np.ones((n, 1))])
    if k == 1:
        def f(th):
            return logistic(th, xa, y, l2)
    else:
        def f(th):
            return softmax(th, xa, y, l2, k)

    clf = LogisticRegression(C=1.0 / (n * l2), tol=1e-14, max_iter=100000, solver="lbfgs")
    clf.fit(x, y)
    if k == 1:
        theta0 = np.concatenate([clf.coef_[0], clf.intercept_])
    else:
        theta0 = np.hstack([clf.coef_, clf.intercept_[:, None]]).ravel()
    sk_loss, sk_grad, _ = f(theta0)
    theta, loss, gnorm = newton(f, theta0, k, d1)

    ok = gnorm <= GRAD_TOL and loss <= sk_loss
    moved = np.max(np.abs(theta - centre(theta0, k, d1)))
    print(f"{name:14s} l2={l2:g}  sklearn L={float(sk_loss)!r} |g|={np.linalg.norm(sk_grad):.3e}"
          f" iters={clf.n_iter_[0]}  polished L={float(loss)!r} |g|={gnorm:.3e}  max|dtheta|={moved:.2e}"
          f"{'' if ok else '  FAILED'}")
    if not ok:
        sys.exit(f"{name} l2={l2}: polishing did not reach |g| <= {GRAD_TOL} below sklearn's objective")

    if k == 1:
        weights, intercept = theta[:-1].tolist(), float(theta[-1])
    else:
        t = theta.reshape(k, d1)
        weights, intercept = t[:, :-1].tolist(), t[:, -1].tolist()
    return {
        "dataset": name,
        "model": "logistic" if k == 1 else "softmax",
        "l2": l2,
        "rows": n,
        "columns": d,
        "classes": classes,
        "objective": float(loss),
        "gradient_norm": float(gnorm),
        "sklearn_objective": float(sk_loss),
        "weights": weights,
        "intercept": intercept,
        "sklearn_version": sklearn.__version__,
    }


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    cases = []
    for name, loader in DATASETS:
        data = loader()
        path = OUT / f"{name}.csv"
        write_csv(path, data.feature_names, standardise(data.data), data.target)
        x, y = read_csv(path)
        for l2 in L2S:
            cases.append(fit_case(name, x, y, l2))
    doc = {
        "objective": "L(w,b) = (1/n) sum_i l(x_i.w + b, y_i) + (l2/2)||w||^2, intercept not regularised",
        "generator": "scripts/make-math-fixtures.py",
        "versions": {"scikit-learn": sklearn.__version__, "numpy": np.__version__, "scipy": scipy.__version__},
        "cases": cases,
    }
    (OUT / "reference.json").write_text(json.dumps(doc, indent=1) + "\n")
    print(f"wrote {len(cases)} cases to {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
