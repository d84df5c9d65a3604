#!/usr/bin/env python3
"""Writes the seed corpus of the jobspec fuzz target (fuzz/jobspec/corpus/).

    python3 fuzz/jobspec/make-seeds.py [fuzz/jobspec/corpus]

Each seed is a request body for POST /v1/jobs: the example of API.md ("Jobs") with every default spelled out,
specs from the end-to-end tests (tests-e2e/test_jobs.py, test_objective.py, test_expressions.py and the
refusals of test_job_validation.py), and raw JSON that exercises the parser (escapes, surrogates, nesting,
numbers, malformed text). Not part of any build; the seeds it wrote are committed.
"""
import json
import os
import sys

ROSENBROCK = "(1-x)^2 + 100*(y-x^2)^2"
HIMMELBLAU = "(x^2 + y - 11)^2 + (x + y^2 - 7)^2"
RASTRIGIN = "20 + x^2 - 10*cos(2*pi*x) + y^2 - 10*cos(2*pi*y)"
XY = ["x", "y"]
DS = "ds_7m2q4v9c1r8t3x6k0p5n"

# API.md's example, every field at its default.
FULL = {
    "dataset_id": DS, "model": "linear", "loss": "squared", "loss_params": {}, "fit_intercept": True,
    "standardize": False, "regularization": {"l2": 0.0, "l1": 0.0},
    "optimizer": {"method": "gd", "learning_rate": 0.01, "batch_size": None, "momentum": 0.9, "clip_norm": None,
                  "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8, "rho": 0.99, "shuffle": True},
    "schedule": {"type": "constant"}, "init": {"type": "zeros"},
    "stopping": {"max_iterations": 1000, "weight_tolerance": 1e-8, "gradient_tolerance": 0, "loss_tolerance": 0,
                 "patience": 10, "max_seconds": 3600},
    "validation": {"fraction": 0, "restore_best": True}, "seed": 0, "report_every": 1,
}

SPECS = {
    "api-defaults": FULL,
    "minimal": {"dataset_id": DS},
    "inline-dataset": {"dataset": {"features": [[1, 2], [3, 4]], "targets": [1, 0]}, "model": "logistic"},
    "logistic-hinge-sgd": {"dataset_id": DS, "model": "logistic", "loss": "hinge",
                           "optimizer": {"method": "sgd", "learning_rate": 0.1, "shuffle": False}},
    "softmax-adam": {"dataset_id": DS, "model": "softmax", "optimizer": {"method": "adam", "beta1": 0.8},
                     "schedule": {"type": "cosine", "min_learning_rate": 0.001}},
    "poisson-rmsprop": {"dataset_id": DS, "model": "poisson", "optimizer": {"method": "rmsprop", "rho": 0.9},
                        "schedule": {"type": "exponential", "gamma": 0.99}},
    "huber-minibatch": {"dataset_id": DS, "loss": "huber", "loss_params": {"delta": 2.5},
                        "optimizer": {"method": "minibatch", "batch_size": 2, "clip_norm": 10},
                        "schedule": {"type": "step", "step_size": 50, "gamma": 0.5}},
    "quantile-nesterov": {"dataset_id": DS, "loss": "quantile", "loss_params": {"tau": 0.9},
                          "optimizer": {"method": "nesterov", "momentum": 0.5},
                          "schedule": {"type": "inverse_time", "decay": 0.01}},
    "epsilon-adagrad": {"dataset_id": DS, "loss": "epsilon_insensitive", "loss_params": {"epsilon": 0},
                        "optimizer": {"method": "adagrad", "epsilon": 1e-6}},
    "backtracking-auto": {"dataset_id": DS, "optimizer": {"learning_rate": "auto"},
                          "schedule": {"type": "backtracking", "shrink": 0.7, "armijo": 0.001}},
    "backtracking-minibatch": {"dataset_id": DS, "optimizer": {"method": "momentum", "batch_size": 2},
                               "schedule": {"type": "backtracking"}},
    "init-values": {"dataset_id": DS, "init": {"type": "values", "values": [0.5, -1, 2]}},
    "init-normal": {"dataset_id": DS, "init": {"type": "normal", "scale": 0.1}, "seed": 9007199254740991},
    "init-uniform": {"dataset_id": DS, "init": {"type": "uniform", "scale": 1e6}, "standardize": True,
                     "regularization": {"l2": 0.5, "l1": 0.01}, "fit_intercept": False},
    "validation-stopping": {"dataset_id": DS, "validation": {"fraction": 0.25, "restore_best": False},
                            "stopping": {"max_iterations": 10000000, "patience": 3, "loss_tolerance": 1e-6,
                                         "gradient_tolerance": 1e-9, "max_seconds": 0.001},
                            "report_every": 100},
    # Formula losses (tests-e2e/test_expressions.py).
    "formula-loss": {"dataset_id": DS, "loss": {"expression": "(p - y)^2 / 2"}},
    "formula-loss-logistic": {"dataset_id": DS, "model": "logistic",
                              "loss": {"expression": "log(1 + exp(-y*p))"}},
    "formula-loss-huber": {"dataset_id": DS, "loss": {"expression": "where(abs(p-y) <= 1, (p-y)^2/2, abs(p-y) - 0.5)"}},
    "formula-loss-bad": {"dataset_id": DS, "loss": {"expression": "(p - y)^"}},
    "formula-loss-extra": {"dataset_id": DS, "loss": {"expression": "(p - y)^2", "scale": 2}},
    "formula-loss-softmax": {"dataset_id": DS, "model": "softmax", "loss": {"expression": "(p - y)^2"}},
    "formula-loss-params": {"dataset_id": DS, "loss": {"expression": "(p - y)^2"}, "loss_params": {"delta": 1}},
    # Objective mode (tests-e2e/test_objective.py).
    "objective-rosenbrock": {"objective": {"expression": ROSENBROCK, "variables": XY, "start": [-1.2, 1]},
                             "optimizer": {"method": "adam", "learning_rate": 0.05},
                             "stopping": {"max_iterations": 20000}},
    "objective-starts-bounds": {"objective": {"expression": ROSENBROCK, "variables": XY, "starts": 20,
                                              "bounds": [[-2, 2], [-1, 3]]},
                                "optimizer": {"method": "adam", "learning_rate": 0.02}, "report_every": 100},
    "objective-backtracking": {"objective": {"expression": "(1.5 - x + x*y)^2 + (2.25 - x + x*y^2)^2",
                                             "variables": XY, "start": [1, 1]},
                               "optimizer": {"method": "gd", "learning_rate": 1}, "schedule": {"type": "backtracking"}},
    "objective-auto": {"objective": {"expression": "x^2 + 3*y^2", "variables": XY, "starts": 2,
                                     "bounds": [[-1, 2], [0.5, 3]]},
                       "optimizer": {"learning_rate": "auto"}, "stopping": {"max_iterations": 100}},
    "objective-rastrigin": {"objective": {"expression": RASTRIGIN, "variables": XY, "starts": 500,
                                          "bounds": [[-5.12, 5.12], [-5.12, 5.12]]},
                            "optimizer": {"method": "momentum", "learning_rate": 0.002}, "seed": 12345},
    "objective-echo": {"objective": {"expression": HIMMELBLAU, "variables": XY, "start": None, "starts": 1,
                                     "bounds": None},
                       "optimizer": {"method": "gd", "learning_rate": 0.01, "batch_size": None, "momentum": 0.9,
                                     "clip_norm": None, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8, "rho": 0.99,
                                     "shuffle": True},
                       "schedule": {"type": "constant"}, "stopping": FULL["stopping"], "seed": 0, "report_every": 1},
    "objective-many-variables": {"objective": {"expression": "a + b*c - d_1", "variables": ["a", "b", "c", "d_1"],
                                               "start": [0, 0, 0, 0]}},
    "objective-bad-variables": {"objective": {"expression": "x", "variables": ["x", "x", "pi", "1y", "", "exp"]}},
    "objective-bad-start": {"objective": {"expression": "x + y", "variables": XY, "start": [1]}},
    "objective-bad-bounds": {"objective": {"expression": "x + y", "variables": XY, "bounds": [[1, 0], [0, "a"]]}},
    "objective-unknown-variable": {"objective": {"expression": "x + z", "variables": XY}},
    "objective-with-model": {"objective": {"expression": "x^2", "variables": ["x"]}, "model": "linear",
                             "dataset_id": DS, "optimizer": {"method": "sgd"}},
    "objective-not-object": {"objective": "x^2"},
    # Refusals (tests-e2e/test_job_validation.py): many fields wrong at once.
    "refusals-types": {"dataset_id": DS, "model": 1, "fit_intercept": "yes", "standardize": 1, "seed": "1",
                       "report_every": 2.5, "optimizer": [], "regularization": {"l2": "big"},
                       "stopping": {"max_iterations": "10"}},
    "refusals-ranges": {"dataset_id": DS, "optimizer": {"learning_rate": 0, "momentum": 1, "beta2": -1},
                        "stopping": {"max_iterations": 10000001, "max_seconds": 86401}, "seed": 9007199254740992,
                        "validation": {"fraction": 1.0}, "regularization": {"l1": -0.1}},
    "refusals-choices": {"dataset_id": DS, "model": "svm", "loss": "cubic", "optimizer": {"method": "lbfgs"},
                         "schedule": {"type": "warmup"}, "init": {"type": "ones"}},
    "refusals-unknown": {"dataset_id": DS, "learning_rate": 0.1, "optimizer": {"lr": 0.1},
                         "stopping": {"max_iter": 5}, "schedule": {"type": "step", "steps": 5},
                         "init": {"type": "zeros", "scale": 1}},
    "refusals-loss-model": {"dataset_id": DS, "model": "poisson", "loss": "squared", "loss_params": {"tau": 0.5}},
    "refusals-batch": {"dataset_id": DS, "optimizer": {"method": "minibatch", "batch_size": None}},
    "refusals-learning-rate": {"dataset_id": DS, "optimizer": {"learning_rate": "fast"}},
    "escaped-keys": {"dataset_id": DS, "a/b": 1, "c~d": 2, "optimizer": {"x/~y": True}},
}

# Raw bodies for the JSON parser.
RAW = {
    "json-escapes": b'{"dataset_id": "ds_\\u00e9\\ud83d\\ude00\\n\\t\\"\\\\\\/\\b\\f\\r", "seed": 1e2}',
    "json-lone-surrogate": b'{"dataset_id": "\\udc00"}',
    "json-bad-escape": b'{"dataset_id": "\\x41"}',
    "json-control-character": b'{"dataset_id": "a\x01b"}',
    "json-bad-utf8": b'{"dataset_id": "\xc3\x28"}',
    "json-numbers": b'[0, -0, 1.5e300, -2E-300, 123456789012345678901234567890, 0.1, 1e400, 01, 1., .5, -]',
    "json-literals": b'[true, false, null, True, nul, NaN, Infinity]',
    "json-deep": b"[" * 70 + b"]" * 70,
    "json-duplicate": b'{"seed": 1, "seed": 2}',
    "json-trailing-comma": b'{"seed": 1,}',
    "json-trailing-data": b'{"seed": 1} x',
    "json-bom": b'\xef\xbb\xbf{"seed": 1}',
    "json-whitespace": b' \t\r\n{ "dataset_id" : "ds" , "seed" : 0 } \n',
    "json-empty": b"",
    "json-canonical-keys": '{"K": 1, "\u212a": 2, "e\u0301": 3, "\u00e9": 4}'.encode(),
}


def main():
    directory = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "corpus")
    os.makedirs(directory, exist_ok=True)
    for name, spec in SPECS.items():
        with open(os.path.join(directory, name), "wb") as seed:
            seed.write(json.dumps(spec).encode())
    for name, body in RAW.items():
        with open(os.path.join(directory, name), "wb") as seed:
            seed.write(body)
    print("wrote %d seeds to %s" % (len(SPECS) + len(RAW), directory))


if __name__ == "__main__":
    main()
