"""What a finished job offers: history (JSON and CSV), trajectory (?stride=) and predict."""

from __future__ import annotations

import csv
import io
import math

import numpy as np
import pytest

from helpers import Api, assert_problem, linear_data, logistic_data, long_spec

CSV_HEADER = ["iteration", "loss", "gradient_norm", "step_norm", "learning_rate", "validation_loss",
              "elapsed_seconds"]


def finished(api: Api, spec: dict) -> dict:
    job = api.wait_for(api.submit_ok(spec)["id"])
    assert job["status"] == "succeeded", job
    return job


# --------------------------------------------------------------------------------------------- history
@pytest.fixture(scope="module")
def history_job(server, linear_dataset) -> dict:
    return finished(Api(server), {"dataset_id": linear_dataset["id"], "stopping": {"max_iterations": 300,
                                                                                   "weight_tolerance": 0},
                                  "validation": {"fraction": 0.2, "restore_best": False}})


def test_history_as_json_has_every_iteration(api: Api, history_job):
    response = api.get(f"/v1/jobs/{history_job['id']}/history")
    assert response.status == 200 and response.content_type == "application/json", response
    history = response.json()
    assert isinstance(history, list)
    iterations = [h["iteration"] for h in history]
    assert iterations[-1] == history_job["result"]["iterations"] == 300
    assert iterations in (list(range(1, 301)), list(range(0, 301))), iterations[:5]
    for item in history:
        assert set(CSV_HEADER) <= set(item), item
        assert math.isfinite(item["loss"]) and item["validation_loss"] is not None
    assert history[-1]["loss"] == pytest.approx(history_job["result"]["loss"])
    losses = [h["loss"] for h in history]
    assert losses[-1] < losses[0], "gradient descent with a small step lowers the loss"


def test_history_as_csv_is_the_same_table(api: Api, history_job, linear_dataset):
    response = api.get(f"/v1/jobs/{history_job['id']}/history", headers={"Accept": "text/csv"})
    assert response.status == 200 and response.content_type == "text/csv", response
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0] == CSV_HEADER
    table = rows[1:]
    history = api.get(f"/v1/jobs/{history_job['id']}/history").json()
    assert len(table) == len(history)
    for row, item in zip(table, history):
        assert int(row[0]) == item["iteration"]
        for name, cell in zip(CSV_HEADER[1:], row[1:]):
            if item[name] is None:
                assert cell == "", (name, row)
            else:
                assert float(cell) == pytest.approx(item[name], rel=1e-9, abs=1e-300), (name, row, item)

    # Without a validation split, validation_loss is an empty cell.
    plain = finished(api, {"dataset_id": linear_dataset["id"], "stopping": {"max_iterations": 3}})
    rows = list(csv.reader(io.StringIO(api.get(f"/v1/jobs/{plain['id']}/history",
                                               headers={"Accept": "text/csv"}).text)))
    assert rows[0] == CSV_HEADER and len(rows) > 1
    assert all(row[5] == "" for row in rows[1:]), rows[:3]


# --------------------------------------------------------------------------------------------- trajectory
@pytest.fixture(scope="module")
def trajectory_job(server) -> dict:
    """3000 iterations on standardized features of very different scales: a snapshot every 3 iterations."""
    api = Api(server)
    x, y = linear_data(100, seed=21)
    x = x * [100.0, 0.01]
    dataset = api.create_dataset(x, y)
    return finished(api, {"dataset_id": dataset["id"], "standardize": True,
                          "stopping": {"max_iterations": 3000, "weight_tolerance": 0}})


def test_trajectory_records_every_ceil_max_over_1000_iterations_and_the_last(api: Api, trajectory_job):
    response = api.get(f"/v1/jobs/{trajectory_job['id']}/trajectory")
    assert response.status == 200 and response.content_type == "application/json", response
    items = response.json()["items"]
    iterations = [item["iteration"] for item in items]
    body = [i for i in iterations if i != 0]
    assert body == list(range(3, 3001, 3)), (iterations[:5], iterations[-5:])
    for item in items:
        assert set(item) == {"iteration", "weights", "intercept"} and len(item["weights"]) == 2, item
    result = trajectory_job["result"]
    # Fitted on standardized features, reported in the uploaded units: y = 2·x0 − 3·x1 + 1 with x0 scaled by
    # 100 and x1 by 0.01 is y = 0.02·u0 − 300·u1 + 1.
    assert result["weights"] == pytest.approx([0.02, -300], rel=1e-6)
    assert result["intercept"] == pytest.approx(1, abs=1e-6)
    # The snapshots are in the uploaded units too.
    assert items[-1]["weights"] == pytest.approx(result["weights"], rel=1e-12)
    assert items[-1]["intercept"] == pytest.approx(result["intercept"], rel=1e-12)


def test_trajectory_stride_keeps_every_kth_snapshot(api: Api, trajectory_job):
    full = api.get(f"/v1/jobs/{trajectory_job['id']}/trajectory").json()["items"]
    strided = api.get(f"/v1/jobs/{trajectory_job['id']}/trajectory?stride=10").json()["items"]
    assert strided[:len(full[::10])] == full[::10]
    assert len(strided) - len(full[::10]) in (0, 1)
    if len(strided) > len(full[::10]):
        assert strided[-1] == full[-1], "the only extra snapshot may be the last"
    assert api.get(f"/v1/jobs/{trajectory_job['id']}/trajectory?stride=1").json()["items"] == full


@pytest.mark.parametrize("stride", ["0", "-1", "abc", "1.5"])
def test_a_bad_stride_is_400(api: Api, trajectory_job, stride):
    assert_problem(api.get(f"/v1/jobs/{trajectory_job['id']}/trajectory?stride={stride}"), 400)


def test_trajectory_is_empty_until_the_job_ends(api: Api, big_dataset):
    job = api.submit_ok(long_spec(big_dataset["id"]))
    api.wait_until_running(job["id"])
    response = api.get(f"/v1/jobs/{job['id']}/trajectory")
    assert response.status == 200 and response.json()["items"] == [], response


# --------------------------------------------------------------------------------------------- predict
ROWS = [[1.0, 2.0], [0.0, 0.0], [-1.5, 0.25], [3.0, -2.0]]


def predict(api: Api, job: dict, rows=ROWS):
    return api.post_json(f"/v1/jobs/{job['id']}/predict", {"features": rows})


def test_predict_linear_gives_x_dot_w_plus_b(api: Api, linear_dataset):
    job = finished(api, {"dataset_id": linear_dataset["id"], "optimizer": {"method": "gd", "learning_rate": "auto"},
                         "stopping": {"max_iterations": 5000}})
    response = predict(api, job)
    assert response.status == 200 and response.content_type == "application/json", response
    body = response.json()
    assert "probabilities" not in body or body["probabilities"] is None
    w, b = np.array(job["result"]["weights"]), job["result"]["intercept"]
    expected = np.array(ROWS) @ w + b
    assert body["predictions"] == pytest.approx(expected.tolist(), rel=1e-9, abs=1e-12)
    truth = np.array(ROWS) @ [2.0, -3.0] + 1
    assert body["predictions"] == pytest.approx(truth.tolist(), abs=1e-3)


@pytest.mark.parametrize("labels", [(0, 1), (-1, 1)])
def test_predict_logistic_gives_labels_and_probabilities(api: Api, labels):
    x, y = logistic_data(200, seed=30 + labels[0], labels=labels)
    dataset = api.create_dataset(x, y)
    job = finished(api, {"dataset_id": dataset["id"], "model": "logistic", "optimizer": {"learning_rate": 0.5},
                         "stopping": {"max_iterations": 300}})
    body = predict(api, job).json()
    z = np.array(ROWS) @ np.array(job["result"]["weights"]) + job["result"]["intercept"]
    probability = 1 / (1 + np.exp(-z))
    assert body["probabilities"] == pytest.approx(probability.tolist(), rel=1e-9)
    assert body["predictions"] == [labels[1] if p > 0.5 else labels[0] for p in probability]


def test_predict_hinge_gives_labels_without_probabilities(api: Api):
    x, y = logistic_data(100, seed=33)
    job = finished(api, {"dataset_id": api.create_dataset(x, y)["id"], "model": "logistic", "loss": "hinge",
                         "stopping": {"max_iterations": 50}})
    body = predict(api, job).json()
    z = np.array(ROWS) @ np.array(job["result"]["weights"]) + job["result"]["intercept"]
    assert body["predictions"] == [1 if v > 0 else 0 for v in z]
    assert "probabilities" not in body or body["probabilities"] is None


def test_predict_softmax_gives_classes_and_a_distribution_per_row(api: Api):
    rng = np.random.default_rng(34)
    x = rng.normal(size=(150, 2))
    y = np.argmax(x @ [[1.0, -1.0, 0.0], [0.0, 1.0, -1.0]] + rng.normal(scale=0.3, size=(150, 3)), axis=1)
    job = finished(api, {"dataset_id": api.create_dataset(x, y)["id"], "model": "softmax",
                         "optimizer": {"learning_rate": 0.5}, "stopping": {"max_iterations": 200}})
    weights = np.array(job["result"]["weights"])
    intercepts = np.array(job["result"]["intercept"])
    assert weights.shape == (3, 2) and intercepts.shape == (3,)
    body = predict(api, job).json()
    logits = np.array(ROWS) @ weights.T + intercepts
    expected = np.exp(logits - logits.max(axis=1, keepdims=True))
    expected /= expected.sum(axis=1, keepdims=True)
    assert np.array(body["probabilities"]) == pytest.approx(expected, rel=1e-9)
    assert body["predictions"] == expected.argmax(axis=1).tolist()


def test_predict_poisson_gives_exp_of_the_linear_predictor(api: Api):
    rng = np.random.default_rng(35)
    x = rng.normal(size=(200, 2)) * 0.5
    y = rng.poisson(np.exp(0.3 * x[:, 0] - 0.2 * x[:, 1] + 0.5)).astype(float)
    job = finished(api, {"dataset_id": api.create_dataset(x, y)["id"], "model": "poisson",
                         "stopping": {"max_iterations": 200}})
    body = predict(api, job).json()
    z = np.array(ROWS) @ np.array(job["result"]["weights"]) + job["result"]["intercept"]
    assert body["predictions"] == pytest.approx(np.exp(z).tolist(), rel=1e-9)


def test_predict_is_409_unless_the_job_succeeded(api: Api, big_dataset):
    job = api.submit_ok(long_spec(big_dataset["id"]))
    api.wait_until_running(job["id"])
    rows = [[0.0] * 5]
    assert_problem(predict(api, job, rows), 409)
    api.request("POST", f"/v1/jobs/{job['id']}/cancel")
    assert api.wait_for(job["id"], timeout=10)["status"] == "cancelled"
    assert_problem(predict(api, job, rows), 409)


@pytest.mark.parametrize("document, pointers", [
    ({"features": [[1.0, 2.0], [1.0, 2.0, 3.0]]}, ["/features/1"]),
    ({"features": [[1.0]]}, ["/features/0"]),
    ({"features": [[1.0, "a"]]}, ["/features/0/1", "/features/0"]),
    ({}, ["/features"]),
    ({"features": [[1.0, 2.0]], "rows": 1}, ["/rows"]),
])
def test_predict_rejects_rows_that_do_not_fit(api: Api, linear_dataset, document, pointers):
    job = finished(api, {"dataset_id": linear_dataset["id"], "stopping": {"max_iterations": 2}})
    assert_problem(api.post_json(f"/v1/jobs/{job['id']}/predict", document), 400, any_pointer=pointers)
