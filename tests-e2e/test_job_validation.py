"""Every validation rule of docs/jobs-api-decisions.md for POST /v1/jobs: a 400 problem whose errors[]
point at the field at fault (415 for another content type)."""

from __future__ import annotations

import numpy as np
import pytest

from helpers import Api, assert_problem

# (changes to {"dataset_id": <a 0/1-labelled dataset>}, pointers that must all be named)
FIELD_RULES = [
    # Unknown fields, at the top and nested.
    ({"learning_rate": 0.1}, ["/learning_rate"]),
    ({"optimizer": {"lr": 0.1}}, ["/optimizer/lr"]),
    ({"stopping": {"max_iter": 5}}, ["/stopping/max_iter"]),
    ({"schedule": {"type": "step", "steps": 5}}, ["/schedule/steps"]),
    ({"init": {"type": "zeros", "scale": 1}}, ["/init/scale"]),
    # Wrong types.
    ({"dataset_id": 5}, ["/dataset_id"]),
    ({"model": 1}, ["/model"]),
    ({"fit_intercept": "yes"}, ["/fit_intercept"]),
    ({"standardize": 1}, ["/standardize"]),
    ({"seed": "1"}, ["/seed"]),
    ({"seed": 1.5}, ["/seed"]),
    ({"report_every": 2.5}, ["/report_every"]),
    ({"optimizer": []}, ["/optimizer"]),
    ({"optimizer": {"shuffle": "no"}}, ["/optimizer/shuffle"]),
    ({"regularization": {"l2": "big"}}, ["/regularization/l2"]),
    ({"stopping": {"max_iterations": "10"}}, ["/stopping/max_iterations"]),
    ({"stopping": {"max_iterations": 10.5}}, ["/stopping/max_iterations"]),
    # The step size.
    ({"optimizer": {"learning_rate": 0}}, ["/optimizer/learning_rate"]),
    ({"optimizer": {"learning_rate": -0.1}}, ["/optimizer/learning_rate"]),
    ({"optimizer": {"learning_rate": "fast"}}, ["/optimizer/learning_rate"]),
    ({"optimizer": {"learning_rate": None}}, ["/optimizer/learning_rate"]),
    # Unknown names.
    ({"model": "svm"}, ["/model"]),
    ({"loss": "cubic"}, ["/loss"]),
    ({"optimizer": {"method": "lbfgs"}}, ["/optimizer/method"]),
    ({"schedule": {"type": "warmup"}}, ["/schedule/type"]),
    ({"init": {"type": "ones"}}, ["/init/type"]),
    # Model and loss that do not go together.
    ({"model": "logistic", "loss": "squared"}, ["/loss"]),
    ({"model": "linear", "loss": "log"}, ["/loss"]),
    ({"model": "softmax", "loss": "hinge"}, ["/loss"]),
    ({"model": "poisson", "loss": "squared"}, ["/loss"]),
    # Batch sizes.
    ({"optimizer": {"method": "sgd", "batch_size": 5}}, ["/optimizer/batch_size"]),
    ({"optimizer": {"method": "gd", "batch_size": 10}}, ["/optimizer/batch_size"]),
    ({"optimizer": {"method": "minibatch", "batch_size": 0}}, ["/optimizer/batch_size"]),
    # Initial values: weights then intercept (2 + 1 here; 2 without an intercept).
    ({"init": {"type": "values", "values": [1, 2]}}, ["/init/values"]),
    ({"fit_intercept": False, "init": {"type": "values", "values": [1, 2, 3, 4]}}, ["/init/values"]),
    ({"model": "softmax", "init": {"type": "values", "values": [1, 2, 3]}}, ["/init/values"]),
    # Loss parameters that do not belong to the loss, or out of range.
    ({"loss_params": {"delta": 1.0}}, ["/loss_params/delta"]),
    ({"loss": "huber", "loss_params": {"tau": 0.5}}, ["/loss_params/tau"]),
    ({"loss": "quantile", "loss_params": {"tau": 1.5}}, ["/loss_params/tau"]),
    ({"loss": "huber", "loss_params": {"delta": -1}}, ["/loss_params/delta"]),
    # Ranges.
    ({"report_every": 0}, ["/report_every"]),
    ({"stopping": {"max_iterations": 0}}, ["/stopping/max_iterations"]),
    ({"stopping": {"max_iterations": 10_000_001}}, ["/stopping/max_iterations"]),
    ({"stopping": {"max_seconds": 0}}, ["/stopping/max_seconds"]),
    ({"stopping": {"max_seconds": 86401}}, ["/stopping/max_seconds"]),
    ({"seed": -1}, ["/seed"]),
    ({"seed": 2**53 + 2}, ["/seed"]),
    ({"seed": 2**53 + 1}, ["/seed"]),  # read as a double it is 2^53, itself out of range: never rounded in
    ({"seed": 2**53}, ["/seed"]),
    ({"regularization": {"l2": -0.1}}, ["/regularization/l2"]),
    ({"validation": {"fraction": 1.0}}, ["/validation/fraction"]),
    ({"validation": {"fraction": -0.1}}, ["/validation/fraction"]),
    # Formula losses (tests-e2e/test_expressions.py has the rest).
    ({"loss": {"expression": "(p - y)^"}}, ["/loss/expression"]),
    ({"loss": {"expression": "(p - y)^2", "scale": 2}}, ["/loss/scale"]),
    ({"model": "softmax", "loss": {"expression": "(p - y)^2"}}, ["/loss"]),
    # Every field at fault is named, not only the first.
    ({"model": "svm", "optimizer": {"learning_rate": -1}, "report_every": 0},
     ["/model", "/optimizer/learning_rate", "/report_every"]),
]


def rule_id(rule) -> str:
    return str((rule.values if hasattr(rule, "values") else rule)[0])[:60]


@pytest.mark.parametrize("changes, pointers", FIELD_RULES, ids=[rule_id(rule) for rule in FIELD_RULES])
def test_a_field_at_fault_is_400_and_named(api: Api, labels01, changes, pointers):
    assert_problem(api.post_json("/v1/jobs", {"dataset_id": labels01["id"], **changes}), 400, *pointers)


@pytest.mark.parametrize("method", ["minibatch", "sgd"])
def test_backtracking_is_full_batch_only(api: Api, labels01, method):
    spec = {"dataset_id": labels01["id"], "optimizer": {"method": method}, "schedule": {"type": "backtracking"}}
    assert_problem(api.post_json("/v1/jobs", spec), 400,
                   any_pointer=["/schedule", "/schedule/type", "/optimizer/method", "/optimizer/batch_size"])


def test_an_unknown_dataset_id_is_400_at_dataset_id(api: Api):
    assert_problem(api.post_json("/v1/jobs", {"dataset_id": "ds_doesnotexist"}), 400, "/dataset_id")


def test_both_dataset_and_dataset_id_is_400(api: Api, labels01):
    spec = {"dataset_id": labels01["id"], "dataset": {"features": [[1.0], [2.0]], "targets": [1, 2]}}
    assert_problem(api.post_json("/v1/jobs", spec), 400, any_pointer=["/dataset", "/dataset_id", ""])


def test_neither_dataset_nor_dataset_id_is_400(api: Api):
    assert_problem(api.post_json("/v1/jobs", {"model": "linear"}), 400, any_pointer=["/dataset", "/dataset_id", ""])


def test_an_invalid_inline_dataset_is_400_pointing_into_it(api: Api):
    problem = assert_problem(api.post_json("/v1/jobs", {"dataset": {"features": [[1, 2], [3]], "targets": [1, 2]}}),
                             400)
    pointers = [e["pointer"] for e in problem["errors"]]
    assert any(p.startswith("/dataset/features/1") for p in pointers), pointers
    problem = assert_problem(api.post_json("/v1/jobs", {"dataset": {"features": [[1]], "targets": [1], "x": 1}}),
                             400, "/dataset/x")


@pytest.mark.parametrize("model, targets", [
    ("logistic", [0, 1, 2, 1]),
    ("logistic", [0.5, 1, 0, 1]),
    ("softmax", [0, 1, 2.5, 1]),
    ("softmax", [0, 0, 0, 0]),          # K >= 2
    ("softmax", [0, -1, 1, 0]),         # labels are 0…K−1
    ("poisson", [1, -1, 0, 3]),
])
def test_labels_that_do_not_suit_the_model_are_400(api: Api, model, targets):
    features = np.arange(8.0).reshape(4, 2) + len(targets) * 0.01 * sum(targets)
    dataset = api.create_dataset(features, targets)
    assert_problem(api.post_json("/v1/jobs", {"dataset_id": dataset["id"], "model": model}), 400)


@pytest.mark.parametrize("body", [b"{", b"", b"[]", b"null", b'"job"', b'{"dataset_id": "ds_1",}', b"\xff"])
def test_a_body_that_is_not_a_json_object_is_400(api: Api, body):
    assert_problem(api.request("POST", "/v1/jobs", body=body, headers={"Content-Type": "application/json"}), 400)


@pytest.mark.parametrize("content_type", ["text/plain", "text/csv", "application/x-www-form-urlencoded"])
def test_another_content_type_is_415(api: Api, labels01, content_type):
    body = ('{"dataset_id": "%s"}' % labels01["id"]).encode()
    assert_problem(api.request("POST", "/v1/jobs", body=body, headers={"Content-Type": content_type}), 415)
