"""Jobs: submission, the echoed spec, the manifest, the result, polling with ?wait=, idempotency."""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time

import numpy as np
import pytest

from helpers import TERMINAL, Api, Timer, assert_problem, linear_data, long_spec, parse_time

JOB_FIELDS = {"id", "status", "created_at", "started_at", "finished_at", "dataset_id", "spec", "progress", "result",
              "manifest", "error"}
RESULT_FIELDS = {"weights", "intercept", "loss", "iterations", "converged", "stop_reason", "validation_loss",
                 "lipschitz", "reference"}
PROGRESS_FIELDS = {"iteration", "fraction", "loss", "gradient_norm", "step_norm", "learning_rate", "validation_loss",
                   "elapsed_seconds"}
STOP_REASONS = {"max_iterations", "weight_tolerance", "gradient_tolerance", "loss_tolerance", "early_stopping",
                "time_limit", "diverged", "cancelled"}


def default_spec(dataset_id: str) -> dict:
    """API.md's defaults, as the decisions doc completes them (rho, batch_size null for gd, loss_params {})."""
    return {
        "dataset_id": dataset_id,
        "model": "linear",
        "loss": "squared",
        "loss_params": {},
        "fit_intercept": True,
        "standardize": False,
        "regularization": {"l2": 0, "l1": 0},
        "optimizer": {"method": "gd", "learning_rate": 0.01, "batch_size": None, "momentum": 0.9, "clip_norm": None,
                      "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8, "rho": 0.99, "shuffle": True},
        "schedule": {"type": "constant"},
        "init": {"type": "zeros"},
        "stopping": {"max_iterations": 1000, "weight_tolerance": 1e-8, "gradient_tolerance": 0, "loss_tolerance": 0,
                     "patience": 10, "max_seconds": 3600},
        "validation": {"fraction": 0, "restore_best": True},
        "seed": 0,
        "report_every": 1,
    }


def raw_member(body: bytes, name: str) -> bytes:
    """The exact bytes of a top-level object member's value in a JSON body (strings respected)."""
    text = body.decode()
    start = re.search(r'"%s"\s*:\s*' % re.escape(name), text).end()
    depth, in_string, escape = 0, False, False
    for index in range(start, len(text)):
        char = text[index]
        if in_string:
            if escape:
                escape = False
            elif char == "\\":
                escape = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "{[":
            depth += 1
        elif char in "}]":
            depth -= 1
            if depth == 0:
                return text[start:index + 1].encode()
    raise AssertionError(f"unterminated {name}")


def check_job(job: dict) -> None:
    assert JOB_FIELDS <= set(job), sorted(JOB_FIELDS - set(job))
    assert job["id"].startswith("job_")
    assert job["status"] in {"queued", "running"} | TERMINAL
    parse_time(job["created_at"])
    for key in ("started_at", "finished_at"):
        assert job[key] is None or parse_time(job[key]) >= parse_time(job["created_at"])
    if job["status"] in TERMINAL:
        assert job["finished_at"] is not None
    if job["progress"] is not None:
        assert PROGRESS_FIELDS <= set(job["progress"]), job["progress"]


# --------------------------------------------------------------------------------------------- submission
def test_submit_by_dataset_id_echoes_every_default_and_the_manifest(api: Api, linear_dataset):
    response = api.submit({"dataset_id": linear_dataset["id"]})
    assert response.status == 202, response
    assert response.content_type == "application/json"
    job = response.json()
    check_job(job)
    assert response.header("Location") == f"/v1/jobs/{job['id']}"
    assert job["status"] in ("queued", "running", "succeeded")
    assert job["dataset_id"] == linear_dataset["id"]
    assert job["spec"] == default_spec(linear_dataset["id"])
    assert job["error"] is None

    manifest = job["manifest"]
    assert set(manifest) == {"seed", "data_sha256", "spec_sha256", "version"}, manifest
    assert manifest["seed"] == 0
    assert manifest["data_sha256"] == linear_dataset["sha256"]
    assert re.fullmatch(r"[0-9a-f]{64}", manifest["spec_sha256"]), manifest
    assert isinstance(manifest["version"], str) and manifest["version"]
    # The canonical spec is the echoed one without whitespace, keys in the documented order.
    canonical = re.sub(rb'\s+(?=(?:[^"]*"[^"]*")*[^"]*$)', b"", raw_member(response.body, "spec"))
    assert hashlib.sha256(canonical).hexdigest() == manifest["spec_sha256"], canonical

    done = api.wait_for(job["id"])
    check_job(done)
    assert done["status"] == "succeeded", done
    assert done["spec"] == job["spec"] and done["manifest"] == manifest
    parse_time(done["started_at"])
    assert parse_time(done["created_at"]) <= parse_time(done["started_at"]) <= parse_time(done["finished_at"])
    result = done["result"]
    assert RESULT_FIELDS <= set(result), sorted(RESULT_FIELDS - set(result))
    assert len(result["weights"]) == 2 and all(isinstance(w, float | int) for w in result["weights"])
    assert isinstance(result["intercept"], float | int)
    assert result["stop_reason"] in STOP_REASONS
    assert isinstance(result["converged"], bool)
    assert 1 <= result["iterations"] <= 1000
    assert result["validation_loss"] is None
    assert done["progress"]["iteration"] == result["iterations"]
    assert 0 < done["progress"]["fraction"] <= 1
    assert done["progress"]["loss"] == pytest.approx(result["loss"])


def test_the_same_spec_has_the_same_spec_sha256_and_another_seed_another(api: Api, linear_dataset):
    spec = {"dataset_id": linear_dataset["id"], "stopping": {"max_iterations": 3}}
    a = api.submit_ok(spec)["manifest"]
    b = api.submit_ok(spec)["manifest"]
    c = api.submit_ok({**spec, "seed": 7})["manifest"]
    assert a["spec_sha256"] == b["spec_sha256"] != c["spec_sha256"]
    assert c["seed"] == 7


@pytest.mark.parametrize("seed", [0, 123456789012, 2**53 - 1])
def test_the_seed_is_echoed_as_the_integer_it_was(api: Api, linear_dataset, seed):
    response = api.submit({"dataset_id": linear_dataset["id"], "seed": seed, "stopping": {"max_iterations": 1}})
    assert response.status == 202, response
    # As an integer literal: "9007199254740992.0" is a float to many JSON readers (Go's int64 refuses it).
    for member in ("spec", "manifest"):
        assert re.search(rb'"seed":\s*%d\s*[,}]' % seed, raw_member(response.body, member)), \
            raw_member(response.body, member)


def test_an_inline_dataset_is_stored_as_a_dataset_named_inline(api: Api):
    x, y = linear_data(30, seed=11)
    inline = {"features": x.tolist(), "targets": y.tolist()}
    first = api.submit_ok({"dataset": inline, "stopping": {"max_iterations": 5}})
    assert "dataset" not in first["spec"]
    dataset_id = first["spec"]["dataset_id"]
    assert dataset_id.startswith("ds_") and first["dataset_id"] == dataset_id
    dataset = api.get(f"/v1/datasets/{dataset_id}").json()
    assert dataset["name"] == "inline" and dataset["rows"] == 30 and dataset["columns"] == 2
    assert first["manifest"]["data_sha256"] == dataset["sha256"]
    second = api.submit_ok({"dataset": inline, "stopping": {"max_iterations": 5}})
    assert second["spec"]["dataset_id"] == dataset_id, "inline datasets are content-addressed"
    assert second["id"] != first["id"]


def test_a_missing_content_type_is_accepted(api: Api, linear_dataset):
    body = json.dumps({"dataset_id": linear_dataset["id"], "stopping": {"max_iterations": 2}}).encode()
    response = api.request("POST", "/v1/jobs", body=body, headers={"Content-Type": ""})
    assert response.status == 202, response
    api.submitted.append(response.json()["id"])


def test_a_noiseless_linear_fit_with_auto_step_reaches_the_exact_weights(api: Api, linear_dataset):
    job = api.submit_ok({"dataset_id": linear_dataset["id"], "optimizer": {"method": "gd", "learning_rate": "auto"},
                         "stopping": {"max_iterations": 5000}})
    assert job["spec"]["optimizer"]["learning_rate"] == "auto"
    done = api.wait_for(job["id"])
    assert done["status"] == "succeeded", done
    result = done["result"]
    assert result["weights"] == pytest.approx([2, -3], abs=1e-4)
    assert result["intercept"] == pytest.approx(1, abs=1e-4)
    assert result["converged"] is True and result["stop_reason"] != "max_iterations", result
    assert result["loss"] < 1e-8

    # The closed-form reference: the same data solved by least squares here.
    x, y = linear_data(200, seed=1)
    design = np.hstack([x, np.ones((200, 1))])
    optimum, *_ = np.linalg.lstsq(design, y, rcond=None)
    theta = np.array(result["weights"] + [result["intercept"]])
    reference = result["reference"]
    assert reference is not None and set(reference) == {"loss", "weights_distance"}
    assert reference["weights_distance"] < 1e-4
    assert reference["weights_distance"] == pytest.approx(np.linalg.norm(theta - optimum), abs=1e-7)
    assert reference["loss"] == pytest.approx(0, abs=1e-12)

    # "auto" must be a safe step: at most 2/L for L the largest eigenvalue of the Hessian XᵀX/n.
    lipschitz = np.linalg.eigvalsh(design.T @ design / 200).max()
    assert 0 < done["progress"]["learning_rate"] <= 2 / lipschitz * (1 + 1e-9)
    assert result["lipschitz"] is None or result["lipschitz"] > 0


def test_the_reference_is_null_outside_linear_squared(api: Api, linear_dataset):
    done = api.wait_for(api.submit_ok({"dataset_id": linear_dataset["id"], "loss": "huber",
                                       "stopping": {"max_iterations": 5}})["id"])
    assert done["status"] == "succeeded" and done["result"]["reference"] is None, done


def test_a_diverging_job_fails_and_says_which_step_to_try(api: Api, linear_dataset):
    done = api.wait_for(api.submit_ok({"dataset_id": linear_dataset["id"],
                                       "optimizer": {"method": "gd", "learning_rate": 50}})["id"])
    assert done["status"] == "failed", done
    assert done["result"]["stop_reason"] == "diverged"
    error = done["error"]
    assert error["status"] == 422 and {"type", "title", "detail"} <= set(error), error
    assert "learning" in error["detail"].lower() and re.search(r"\d", error["detail"]), error


@pytest.mark.parametrize("given, path, expected", [
    ({"model": "logistic"}, "loss", "log"),
    ({"model": "softmax"}, "loss", "cross_entropy"),
    ({"model": "poisson"}, "loss", "poisson"),
    ({"loss": "huber"}, "loss_params", {"delta": 1.0}),
    ({"loss": "epsilon_insensitive"}, "loss_params", {"epsilon": 0.1}),
    ({"loss": "quantile"}, "loss_params", {"tau": 0.5}),
    ({"loss": "quantile", "loss_params": {"tau": 0.9}}, "loss_params", {"tau": 0.9}),
    ({"optimizer": {"method": "minibatch"}}, "optimizer/batch_size", 32),
    ({"optimizer": {"method": "sgd"}}, "optimizer/batch_size", 1),
    ({"optimizer": {"method": "adam"}}, "optimizer/batch_size", None),
    ({"optimizer": {"method": "rmsprop", "batch_size": 8}}, "optimizer/batch_size", 8),
    ({"optimizer": {"method": "adam", "learning_rate": 0.1}}, "optimizer",
     {"method": "adam", "learning_rate": 0.1, "batch_size": None, "momentum": 0.9, "clip_norm": None, "beta1": 0.9,
      "beta2": 0.999, "epsilon": 1e-8, "rho": 0.99, "shuffle": True}),
    ({"schedule": {"type": "step"}}, "schedule", {"type": "step", "step_size": 100, "gamma": 0.5}),
    ({"schedule": {"type": "exponential"}}, "schedule", {"type": "exponential", "gamma": 0.99}),
    ({"schedule": {"type": "inverse_time"}}, "schedule", {"type": "inverse_time", "decay": 0.01}),
    ({"schedule": {"type": "cosine"}}, "schedule", {"type": "cosine", "min_learning_rate": 0}),
    ({"schedule": {"type": "backtracking"}}, "schedule", {"type": "backtracking", "shrink": 0.5, "armijo": 1e-4}),
    ({"init": {"type": "normal"}}, "init", {"type": "normal", "scale": 0.01}),
    ({"init": {"type": "uniform"}}, "init", {"type": "uniform", "scale": 0.01}),
    ({"init": {"type": "values", "values": [1, 2, 3]}}, "init", {"type": "values", "values": [1, 2, 3]}),
    ({"regularization": {"l2": 0.5}}, "regularization", {"l2": 0.5, "l1": 0}),
    ({"stopping": {"max_iterations": 7}}, "stopping",
     {"max_iterations": 7, "weight_tolerance": 1e-8, "gradient_tolerance": 0, "loss_tolerance": 0, "patience": 10,
      "max_seconds": 3600}),
    ({"validation": {"fraction": 0.25}}, "validation", {"fraction": 0.25, "restore_best": True}),
])
def test_the_echoed_spec_fills_in_the_defaults_of_what_was_chosen(api: Api, labels01, given, path, expected):
    spec = {"dataset_id": labels01["id"], "stopping": {"max_iterations": 3}, **given}
    if "stopping" in given:
        spec["stopping"] = given["stopping"]
    job = api.submit_ok(spec)
    value = job["spec"]
    for part in path.split("/"):
        value = value[part]
    assert value == expected, job["spec"]
    assert api.wait_for(job["id"])["status"] == "succeeded"


def test_jobs_are_listed_newest_first_and_filtered(api: Api, labels01, linear_dataset):
    ids = [api.submit_ok({"dataset_id": labels01["id"], "stopping": {"max_iterations": 2}})["id"] for _ in range(3)]
    for job_id in ids:
        api.wait_for(job_id)
    response = api.get(f"/v1/jobs?dataset_id={labels01['id']}&limit=1000")
    assert response.status == 200, response
    page = response.json()
    assert set(page) == {"items", "next_cursor"}
    assert all(item["dataset_id"] == labels01["id"] for item in page["items"])
    listed = [item["id"] for item in page["items"]]
    assert [i for i in listed if i in ids] == ids[::-1]
    for item in page["items"]:
        check_job(item)
    succeeded = api.get("/v1/jobs?status=succeeded&limit=1000").json()["items"]
    assert succeeded and all(item["status"] == "succeeded" for item in succeeded)
    assert set(ids) <= {item["id"] for item in succeeded}
    first = api.get(f"/v1/jobs?dataset_id={labels01['id']}&limit=2").json()
    assert len(first["items"]) == 2 and first["next_cursor"]
    rest = api.get(f"/v1/jobs?dataset_id={labels01['id']}&limit=2&cursor={first['next_cursor']}").json()
    assert [i["id"] for i in first["items"] + rest["items"]] == listed[:2 + len(rest["items"])]


@pytest.mark.parametrize("query", ["status=bogus", "limit=0", "limit=1001", "cursor=zzz"])
def test_a_bad_job_list_query_is_400(api: Api, query):
    assert_problem(api.get(f"/v1/jobs?{query}"), 400)


@pytest.mark.parametrize("path", ["/v1/jobs/job_doesnotexist", "/v1/jobs/nope", "/v1/jobs/ds_1/events",
                                  "/v1/jobs/job_x/history", "/v1/jobs/job_x/trajectory"])
def test_unknown_jobs_are_404(api: Api, path):
    assert_problem(api.get(path), 404)


@pytest.mark.parametrize("method, path", [("POST", "/v1/jobs/job_x/cancel"), ("DELETE", "/v1/jobs/job_x")])
def test_unknown_jobs_are_404_for_actions_too(api: Api, method, path):
    assert_problem(api.request(method, path), 404)


# --------------------------------------------------------------------------------------------- ?wait=
def test_wait_returns_at_the_timeout_while_the_job_runs(api: Api, big_dataset):
    job = api.submit_ok(long_spec(big_dataset["id"]))
    api.wait_until_running(job["id"])
    timer = Timer()
    assert api.job(job["id"], wait=1)["status"] == "running"
    assert 0.9 <= timer.elapsed < 4, timer.elapsed
    timer = Timer()
    assert api.job(job["id"], wait=0.3)["status"] == "running"
    assert 0.25 <= timer.elapsed < 3, timer.elapsed


def test_wait_returns_as_soon_as_the_job_ends(api: Api, big_dataset):
    job = api.submit_ok(long_spec(big_dataset["id"]))
    api.wait_until_running(job["id"])
    cancel = threading.Timer(1.0, lambda: api.request("POST", f"/v1/jobs/{job['id']}/cancel"))
    cancel.start()
    timer = Timer()
    try:
        ended = api.job(job["id"], wait=30)
    finally:
        cancel.join()
    assert ended["status"] == "cancelled", ended
    assert 0.9 <= timer.elapsed < 4, f"?wait=30 answered {timer.elapsed:.2f}s after asking (cancelled after 1s)"
    timer = Timer()
    assert api.job(job["id"], wait=60)["status"] == "cancelled"
    assert timer.elapsed < 2, "a finished job is answered at once"


@pytest.fixture(scope="module")
def finished_job(server, linear_dataset) -> dict:
    client = Api(server)
    job = client.submit_ok({"dataset_id": linear_dataset["id"], "stopping": {"max_iterations": 1}})
    return client.wait_for(job["id"])


@pytest.mark.parametrize("value", ["-1", "61", "60.5", "abc", "", "nan", "inf", "1e9",
                                   "0x10", "1e1"])
def test_a_bad_wait_is_400(api: Api, finished_job, value):
    assert_problem(api.get(f"/v1/jobs/{finished_job['id']}?wait={value}"), 400)


@pytest.mark.parametrize("value", ["0", "0.5", "60"])
def test_wait_accepts_0_to_60_with_decimals(api: Api, finished_job, value):
    response = api.get(f"/v1/jobs/{finished_job['id']}?wait={value}")
    assert response.status == 200 and response.json()["id"] == finished_job["id"], response


# --------------------------------------------------------------------------------------------- idempotency
def test_an_idempotency_key_replays_the_first_job_and_rejects_another_body(api: Api, linear_dataset):
    key = f"e2e-{time.time_ns()}"
    body = json.dumps({"dataset_id": linear_dataset["id"], "stopping": {"max_iterations": 4}}).encode()
    first = api.post_json("/v1/jobs", body, headers={"Idempotency-Key": key})
    assert first.status == 202, first
    assert (first.header("Idempotent-Replayed") or "false") != "true"
    api.submitted.append(first.json()["id"])
    again = api.post_json("/v1/jobs", body, headers={"Idempotency-Key": key})
    assert again.status == 202, again
    assert again.header("Idempotent-Replayed") == "true"
    assert again.json()["id"] == first.json()["id"]
    assert again.header("Location") == first.header("Location")

    other = json.dumps({"dataset_id": linear_dataset["id"], "stopping": {"max_iterations": 5}}).encode()
    assert_problem(api.post_json("/v1/jobs", other, headers={"Idempotency-Key": key}), 422)

    fresh = api.post_json("/v1/jobs", body, headers={"Idempotency-Key": key + "-2"})
    assert fresh.status == 202 and fresh.json()["id"] != first.json()["id"]
    api.submitted.append(fresh.json()["id"])
    plain = api.post_json("/v1/jobs", body)
    assert plain.status == 202 and plain.json()["id"] not in (first.json()["id"], fresh.json()["id"])
    api.submitted.append(plain.json()["id"])


@pytest.mark.parametrize("key", ["k" * 256, "two words", "caf\u00e9"])
def test_an_invalid_idempotency_key_is_400(api: Api, linear_dataset, key):
    body = json.dumps({"dataset_id": linear_dataset["id"], "stopping": {"max_iterations": 1}}).encode()
    assert_problem(api.post_json("/v1/jobs", body, headers={"Idempotency-Key": key}), 400)
