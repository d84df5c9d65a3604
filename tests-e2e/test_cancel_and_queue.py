"""Cancellation, deletion of jobs, and the bounded queue (429 + Retry-After)."""

from __future__ import annotations

import numpy as np

from helpers import Api, Timer, assert_problem, long_spec, metric_value


def test_a_running_job_is_cancelled_quickly_and_only_once(api: Api, big_dataset):
    job = api.submit_ok(long_spec(big_dataset["id"]))
    assert api.wait_until_running(job["id"])["status"] == "running"
    assert_problem(api.request("DELETE", f"/v1/jobs/{job['id']}"), 409)

    timer = Timer()
    response = api.request("POST", f"/v1/jobs/{job['id']}/cancel")
    assert response.status == 202, response
    assert response.json()["id"] == job["id"]
    assert response.json()["status"] in ("running", "cancelled")
    ended = api.job(job["id"], wait=10)
    assert ended["status"] == "cancelled", ended
    assert timer.elapsed < 2, f"cancelled after {timer.elapsed:.2f}s"
    assert ended["finished_at"] is not None
    assert ended["result"] is None or ended["result"]["stop_reason"] == "cancelled", ended["result"]
    iteration = ended["progress"]["iteration"]
    assert 0 < iteration < 1_000_000

    assert_problem(api.request("POST", f"/v1/jobs/{job['id']}/cancel"), 409)
    # It stays where it stopped.
    assert api.job(job["id"], wait=0.5)["progress"]["iteration"] == iteration

    assert api.request("DELETE", f"/v1/jobs/{job['id']}").status == 204
    assert_problem(api.get(f"/v1/jobs/{job['id']}"), 404)
    assert_problem(api.request("DELETE", f"/v1/jobs/{job['id']}"), 404)


def test_a_succeeded_job_cannot_be_cancelled_but_can_be_deleted(api: Api, linear_dataset):
    job = api.wait_for(api.submit_ok({"dataset_id": linear_dataset["id"], "stopping": {"max_iterations": 3}})["id"])
    assert job["status"] == "succeeded"
    assert_problem(api.request("POST", f"/v1/jobs/{job['id']}/cancel"), 409)
    assert api.request("DELETE", f"/v1/jobs/{job['id']}").status == 204
    assert_problem(api.get(f"/v1/jobs/{job['id']}"), 404)


def test_a_full_queue_answers_429_with_retry_after(start_server):
    """One worker and room for two queued jobs: the fourth long job cannot be taken."""
    server, api = start_server("--workers", "1", "--max-queue", "2")
    rng = np.random.default_rng(50)
    x = rng.normal(size=(2000, 3))
    dataset = api.create_dataset(x, x @ [1.0, 2.0, 3.0] + rng.normal(size=2000))

    accepted = []
    refused = None
    for _ in range(8):
        response = api.submit(long_spec(dataset["id"]))
        if response.status == 429:
            refused = response
            break
        assert response.status == 202, response
        accepted.append(response.json())
        if len(accepted) == 1:
            api.wait_until_running(accepted[0]["id"])
    assert refused is not None, "eight long jobs were accepted by one worker and a queue of two"
    assert len(accepted) == 3, [j["status"] for j in accepted]
    assert_problem(refused, 429)
    assert refused.header("Retry-After") == "1", refused.headers

    statuses = [api.job(j["id"])["status"] for j in accepted]
    assert statuses == ["running", "queued", "queued"], statuses
    assert metric_value(api.get("/metrics").text, "descent_queue_depth") == 2

    # A queued job is cancelled at once, and never started.
    queued = accepted[2]
    response = api.request("POST", f"/v1/jobs/{queued['id']}/cancel")
    assert response.status == 202, response
    assert response.json()["status"] == "cancelled", response.json()
    job = api.job(queued["id"])
    assert job["status"] == "cancelled" and job["started_at"] is None, job

    # That frees a place in the queue.
    response = api.submit(long_spec(dataset["id"]))
    assert response.status == 202, response
