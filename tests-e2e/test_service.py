"""Service-wide behaviour: /metrics after real traffic, X-Request-Id, problems for unknown routes."""

from __future__ import annotations

import re

from helpers import Api, assert_problem, metric_value, parse_metrics


def test_metrics_have_the_documented_families_after_some_requests(api: Api, linear_dataset):
    for _ in range(3):
        assert api.get("/healthz").status == 200
    job = api.wait_for(api.submit_ok({"dataset_id": linear_dataset["id"], "stopping": {"max_iterations": 20}})["id"])
    assert api.get("/v1/jobs/job_doesnotexist").status == 404

    response = api.get("/metrics")
    assert response.status == 200, response
    content_type = response.header("Content-Type")
    assert content_type.split(";")[0].strip() == "text/plain" and "version=0.0.4" in content_type, content_type
    types, samples = parse_metrics(response.text)
    expected = {"descent_http_requests_total": "counter", "descent_http_request_duration_seconds": "histogram",
                "descent_jobs": "gauge", "descent_queue_depth": "gauge", "descent_iterations_total": "counter",
                "descent_jobs_finished_total": "counter",
                "descent_open_streams": "gauge", "descent_datasets": "gauge"}
    for name, kind in expected.items():
        assert types.get(name) == kind, f"# TYPE {name} is {types.get(name)!r}, expected {kind}"
    names = {name for name, _, _ in samples}
    for name in ("descent_http_request_duration_seconds_bucket", "descent_http_request_duration_seconds_sum",
                 "descent_http_request_duration_seconds_count", *expected):
        if types.get(name) != "histogram":
            assert name in names, f"no sample of {name}"

    requests = [(labels, value) for name, labels, value in samples if name == "descent_http_requests_total"]
    for labels, _ in requests:
        assert {"route", "method", "status"} <= set(labels), labels
        # Routes are templates: an id in a label would make one series per resource.
        assert not re.search(r"(ds|job)_[A-Za-z0-9]", labels["route"]), labels
    assert metric_value(response.text, "descent_http_requests_total", route="/healthz", method="GET",
                        status="200") >= 3
    assert any(labels["status"] == "404" for labels, _ in requests)
    buckets = [labels for name, labels, _ in samples if name == "descent_http_request_duration_seconds_bucket"]
    assert buckets and all("route" in labels and "le" in labels for labels in buckets)
    assert any(labels["le"] == "+Inf" for labels in buckets)

    assert metric_value(response.text, "descent_jobs", status="succeeded") >= 1
    assert {labels.get("status") for name, labels, _ in samples if name == "descent_jobs"} >= {"queued", "running",
                                                                                                 "succeeded"}
    assert metric_value(response.text, "descent_iterations_total") >= job["result"]["iterations"]
    assert metric_value(response.text, "descent_datasets") >= 1
    assert metric_value(response.text, "descent_open_streams") == 0


def test_every_answer_carries_the_request_id(api: Api):
    for path in ("/healthz", "/v1/datasets", "/v1/jobs/job_nope", "/nowhere"):
        response = api.get(path, headers={"X-Request-Id": "e2e-trace-42"})
        assert response.header("X-Request-Id") == "e2e-trace-42", (path, response.headers)
        generated = api.get(path)
        assert generated.header("X-Request-Id"), (path, generated.headers)
    response = api.post_json("/v1/jobs", b"{", headers={"X-Request-Id": "e2e-bad-body"})
    assert response.status == 400 and response.header("X-Request-Id") == "e2e-bad-body"


def test_unknown_routes_and_methods_are_problems(api: Api):
    assert_problem(api.get("/v1/nothing-here"), 404)
    response = api.request("PUT", "/v1/datasets")
    assert_problem(response, 405)
    assert "POST" in response.header("Allow") and "GET" in response.header("Allow"), response.headers
