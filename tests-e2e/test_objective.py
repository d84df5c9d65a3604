"""Objective mode of `POST /v1/jobs` (issue 7, point 4): minimise a formula f(x₁…xₙ) instead of fitting data.

Through the real binary with curl: the classic test functions reach their known minima (Rosenbrock, Booth,
Beale, all four of Himmelblau's from different seeds, Rastrigin's global minimum by multi-start); progress
events carry the point and `/trajectory` is the path; the job resource has no dataset, no intercept and no
reference, and cannot predict; every invalid body is a 400 with its pointer; the same seed gives the same
run; a finished job survives a restart, an interrupted one runs again to the same point; cancel works.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from helpers import Api, Server, assert_problem, assert_stream_shape, parse_ndjson, parse_sse

ROSENBROCK = "(1-x)^2 + 100*(y-x^2)^2"
BOOTH = "(x + 2*y - 7)^2 + (2*x + y - 5)^2"
BEALE = "(1.5 - x + x*y)^2 + (2.25 - x + x*y^2)^2 + (2.625 - x + x*y^3)^2"
HIMMELBLAU = "(x^2 + y - 11)^2 + (x + y^2 - 7)^2"
HIMMELBLAU_MINIMA = [(3.0, 2.0), (-2.805118, 3.131312), (-3.779310, -3.283186), (3.584428, -1.848126)]
RASTRIGIN = "20 + x^2 - 10*cos(2*pi*x) + y^2 - 10*cos(2*pi*y)"
XY = ["x", "y"]

# The Rosenbrock run of the README: Adam from (−1.2, 1).
ROSENBROCK_SPEC = {"objective": {"expression": ROSENBROCK, "variables": XY, "start": [-1.2, 1]},
                   "optimizer": {"method": "adam", "learning_rate": 0.05},
                   "stopping": {"max_iterations": 5000, "gradient_tolerance": 1e-6}}
# Twenty seeded starts of 20 000 Adam steps each: about 2 s of work, for restart and cancel.
LONG_SPEC = {"objective": {"expression": ROSENBROCK, "variables": XY, "starts": 20, "bounds": [[-2, 2], [-1, 3]]},
             "optimizer": {"method": "adam", "learning_rate": 0.02}, "report_every": 100,
             "stopping": {"max_iterations": 20000, "weight_tolerance": 0}, "seed": 5}


def minimise(api: Api, spec: dict) -> dict:
    """Submits an objective job, waits for it to end, and checks that it succeeded."""
    job = api.wait_for(api.submit_ok(spec)["id"])
    assert job["status"] == "succeeded", (job["status"], job["error"], job["result"])
    return job


def point(job: dict) -> np.ndarray:
    weights = job["result"]["weights"]
    assert isinstance(weights, list) and all(isinstance(v, (int, float)) for v in weights), weights
    return np.array(weights, dtype=float)


def restarted(server: Server, binary: str) -> tuple[Server, str]:
    """Stops `server` (it must exit 0) and starts another process on the same data directory; returns it and
    the log of the life that ended (the new process writes its log afresh)."""
    assert server.stop() == 0, server.log_tail()
    log = server.log_path.read_text()
    return Server(binary, server.workdir, *server.args).start(), log


# --------------------------------------------------------------------------------------------- known minima
def test_rosenbrock_reaches_1_1_with_adam(api: Api):
    job = minimise(api, ROSENBROCK_SPEC)
    np.testing.assert_allclose(point(job), [1.0, 1.0], atol=1e-3)
    result = job["result"]
    assert result["stop_reason"] == "gradient_tolerance" and result["converged"] is True, result
    assert result["iterations"] < 5000
    assert 0 <= result["loss"] < 1e-8
    assert result["loss"] == pytest.approx((1 - point(job)[0]) ** 2 + 100 * (point(job)[1] - point(job)[0] ** 2) ** 2,
                                           rel=1e-9, abs=1e-20)


def test_booth_reaches_1_3(api: Api):
    job = minimise(api, {"objective": {"expression": BOOTH, "variables": XY},
                         "optimizer": {"method": "gd", "learning_rate": 0.05},
                         "stopping": {"max_iterations": 5000, "gradient_tolerance": 1e-8}})
    np.testing.assert_allclose(point(job), [1.0, 3.0], atol=1e-6)
    assert job["result"]["converged"] is True


def test_beale_reaches_3_half_with_backtracking(api: Api):
    job = minimise(api, {"objective": {"expression": BEALE, "variables": XY, "start": [1, 1]},
                         "optimizer": {"method": "gd", "learning_rate": 1}, "schedule": {"type": "backtracking"},
                         "stopping": {"max_iterations": 20000, "gradient_tolerance": 1e-8}})
    np.testing.assert_allclose(point(job), [3.0, 0.5], atol=1e-4)
    assert job["spec"]["schedule"] == {"type": "backtracking", "shrink": 0.5, "armijo": 1e-4}


def test_himmelblau_seeds_reach_all_four_minima(api: Api):
    found: dict[int, list[int]] = {}
    for seed in range(31):
        job = minimise(api, {"objective": {"expression": HIMMELBLAU, "variables": XY, "starts": 1,
                                           "bounds": [[-5, 5], [-5, 5]]},
                             "optimizer": {"method": "gd", "learning_rate": 0.01},
                             "stopping": {"max_iterations": 5000, "gradient_tolerance": 1e-8}, "seed": seed})
        x = point(job)
        distances = [math.dist(x, minimum) for minimum in HIMMELBLAU_MINIMA]
        nearest = int(np.argmin(distances))
        assert distances[nearest] < 1e-3, (seed, x)  # every run ends in one of the four
        found.setdefault(nearest, []).append(seed)
        if len(found) == 4:
            break
    assert sorted(found) == [0, 1, 2, 3], f"minima reached by seeds 0..30: {found}"


def test_rastrigin_multistart_finds_the_global_minimum(api: Api):
    objective = {"expression": RASTRIGIN, "variables": XY, "bounds": [[-5.12, 5.12], [-5.12, 5.12]]}
    common = {"optimizer": {"method": "gd", "learning_rate": 0.002}, "report_every": 100,
              "stopping": {"max_iterations": 1000, "gradient_tolerance": 1e-8}, "seed": 1}
    # One start ends in a local minimum (the surface has about a hundred in the box) ...
    single = minimise(api, {"objective": {**objective, "starts": 1}, **common})
    assert single["result"]["loss"] > 0.5, single["result"]
    # ... 500 of them (the first of which is that one) find the global one at (0, 0), where f = 0.
    multi = minimise(api, {"objective": {**objective, "starts": 500}, **common})
    np.testing.assert_allclose(point(multi), [0.0, 0.0], atol=1e-6)
    assert multi["result"]["loss"] < 1e-9
    assert multi["result"]["loss"] < single["result"]["loss"]
    # Iterations count across the starts: each start's steps, and one to move to the next.
    assert multi["result"]["iterations"] >= 499


# --------------------------------------------------------------------------------------------- the resource
def test_the_resource_of_an_objective_job(api: Api):
    submitted = api.submit_ok(ROSENBROCK_SPEC)
    assert submitted["dataset_id"] is None
    assert submitted["manifest"]["data_sha256"] is None
    job = minimise(api, ROSENBROCK_SPEC)
    assert job["dataset_id"] is None
    assert job["manifest"]["data_sha256"] is None and job["manifest"]["seed"] == 0
    assert job["manifest"]["spec_sha256"] == submitted["manifest"]["spec_sha256"]  # same spec, same hash
    spec = job["spec"]
    assert list(spec) == ["objective", "optimizer", "schedule", "stopping", "seed", "report_every"], spec
    assert spec["objective"] == {"expression": ROSENBROCK, "variables": XY, "start": [-1.2, 1], "starts": 1,
                                 "bounds": None}
    assert spec["optimizer"]["method"] == "adam" and spec["optimizer"]["learning_rate"] == 0.05
    assert spec["optimizer"]["batch_size"] is None
    assert spec["schedule"] == {"type": "constant"}
    assert spec["stopping"]["max_iterations"] == 5000 and spec["stopping"]["gradient_tolerance"] == 1e-6
    assert spec["seed"] == 0 and spec["report_every"] == 1
    result = job["result"]
    assert result["intercept"] is None and result["reference"] is None
    assert result["lipschitz"] is None and result["validation_loss"] is None
    assert len(result["weights"]) == 2
    assert job["progress"]["point"] == result["weights"]  # one start: the last iterate is the result


def test_bounds_are_echoed_and_auto_reports_the_curvature(api: Api):
    job = minimise(api, {"objective": {"expression": "x^2 + 3*y^2", "variables": XY, "starts": 2,
                                       "bounds": [[-1, 2], [0.5, 3]]},
                         "optimizer": {"learning_rate": "auto"}, "stopping": {"max_iterations": 100}})
    assert job["spec"]["objective"]["bounds"] == [[-1, 2], [0.5, 3]]
    assert job["spec"]["objective"]["start"] is None and job["spec"]["objective"]["starts"] == 2
    assert job["spec"]["optimizer"]["learning_rate"] == "auto"
    # The largest curvature of x² + 3y² is 6 everywhere.
    assert job["result"]["lipschitz"] == pytest.approx(6, rel=1e-3)
    np.testing.assert_allclose(point(job), [0, 0], atol=1e-6)


def test_jobs_filtered_by_dataset_do_not_list_objective_jobs(api: Api, linear_dataset):
    job = minimise(api, ROSENBROCK_SPEC)
    listed = api.get(f"/v1/jobs?dataset_id={linear_dataset['id']}&limit=1000").json()["items"]
    assert job["id"] not in [item["id"] for item in listed]
    everything = api.get("/v1/jobs?limit=1000").json()["items"]
    assert job["id"] in [item["id"] for item in everything]


def test_predict_with_an_objective_job_is_409(api: Api):
    job = minimise(api, ROSENBROCK_SPEC)
    for body in ({"features": [[1.0, 2.0]]}, {"nonsense": True}):  # before the body is looked at
        problem = assert_problem(api.post_json(f"/v1/jobs/{job['id']}/predict", body), 409)
        assert "objective" in problem["detail"], problem


# --------------------------------------------------------------------------------------------- path and events
def test_events_carry_the_point_and_the_trajectory_is_the_path(api: Api):
    job = minimise(api, ROSENBROCK_SPEC)
    job_id = job["id"]
    history = api.get(f"/v1/jobs/{job_id}/history").json()
    assert len(history) == job["result"]["iterations"]  # report_every 1
    assert all(len(entry["point"]) == 2 for entry in history)
    # Each point's f is its loss: the point is the iterate the event reports.
    for entry in history[:: max(1, len(history) // 50)] + [history[-1]]:
        x, y = entry["point"]
        assert entry["loss"] == pytest.approx((1 - x) ** 2 + 100 * (y - x * x) ** 2, rel=1e-9, abs=1e-18)
    assert history[-1]["point"] == job["result"]["weights"]
    # The first step of Adam moves every coordinate by the learning rate: from (−1.2, 1) to (−1.15, 1.05).
    np.testing.assert_allclose(history[0]["point"], [-1.15, 1.05], atol=1e-9)

    sse = api.get(f"/v1/jobs/{job_id}/events", timeout=60)
    assert sse.status == 200, sse
    events, _ = parse_sse(sse.text)
    progress = assert_stream_shape(events, job_id)
    assert [p["point"] for p in progress] == [h["point"] for h in history]
    ndjson = api.get(f"/v1/jobs/{job_id}/events?after={len(history) - 3}",
                     headers={"Accept": "application/x-ndjson"}, timeout=60)
    lines = parse_ndjson(ndjson.text)
    tail = [e.data for e in lines if e.event == "progress"]
    assert [p["iteration"] for p in tail] == [len(history) - 2, len(history) - 1, len(history)]
    assert tail[-1]["point"] == job["result"]["weights"]
    assert lines[-1].event == "result" and lines[-1].data["result"] == job["result"]

    items = api.get(f"/v1/jobs/{job_id}/trajectory").json()["items"]
    iterations = [item["iteration"] for item in items]
    assert iterations[0] == 0 and iterations == sorted(set(iterations))
    assert items[0]["weights"] == [-1.2, 1]  # from the start ...
    assert items[-1]["weights"] == job["result"]["weights"]  # ... to the result
    assert iterations[-1] == job["result"]["iterations"]
    assert all(item["intercept"] is None for item in items)
    by_iteration = {h["iteration"]: h["point"] for h in history}
    for item in items[1:]:
        assert item["weights"] == by_iteration[item["iteration"]], item  # the path the events saw
    strided = api.get(f"/v1/jobs/{job_id}/trajectory?stride=100").json()["items"]
    assert strided[0] == items[0] and strided[-1] == items[-1] and len(strided) < len(items)


def test_multistart_events_number_one_sequence_and_the_winner_is_reported(api: Api):
    spec = {"objective": {"expression": HIMMELBLAU, "variables": XY, "starts": 8, "bounds": [[-5, 5], [-5, 5]]},
            "optimizer": {"method": "gd", "learning_rate": 0.01}, "seed": 0}
    job = minimise(api, spec)
    history = api.get(f"/v1/jobs/{job['id']}/history").json()
    iterations = [entry["iteration"] for entry in history]
    assert iterations == list(range(1, job["result"]["iterations"] + 1))  # one sequence, no gaps
    # A new start's first iterate has not moved yet: step_norm 0. Each start's last iterate precedes one.
    firsts = [i for i, entry in enumerate(history) if entry["step_norm"] == 0]
    assert len(firsts) == 7, iterations  # starts 1..7 (start 0's iterate 0 is not reported)
    ends = [history[i - 1] for i in firsts] + [history[-1]]
    assert all(-5 <= c <= 5 for i in firsts for c in history[i]["point"])  # random starts lie in the bounds
    best = min(ends, key=lambda entry: entry["loss"])
    assert job["result"]["weights"] == best["point"] and job["result"]["loss"] == best["loss"]
    assert job["progress"]["point"] == history[-1]["point"]  # the last start's end, not necessarily the best
    # The trajectory is the winner's path only: it ends where the winner ended.
    items = api.get(f"/v1/jobs/{job['id']}/trajectory").json()["items"]
    assert items[-1]["iteration"] == best["iteration"] and items[-1]["weights"] == best["point"]
    assert items[0]["iteration"] in (0, *[history[i]["iteration"] for i in firsts])


# --------------------------------------------------------------------------------------------- reproducibility
def test_the_same_seed_gives_the_same_run(api: Api):
    spec = {"objective": {"expression": HIMMELBLAU, "variables": XY, "starts": 5, "bounds": [[-5, 5], [-5, 5]]},
            "optimizer": {"method": "momentum", "learning_rate": 0.002}, "seed": 12345}
    first, second = minimise(api, spec), minimise(api, spec)
    assert first["result"] == second["result"]
    assert first["manifest"]["spec_sha256"] == second["manifest"]["spec_sha256"]
    assert api.get(f"/v1/jobs/{first['id']}/trajectory").json() == api.get(f"/v1/jobs/{second['id']}/trajectory").json()
    other = minimise(api, {**spec, "seed": 54321})
    assert other["manifest"]["spec_sha256"] != first["manifest"]["spec_sha256"]
    assert api.get(f"/v1/jobs/{other['id']}/history").json()[0]["point"] != \
        api.get(f"/v1/jobs/{first['id']}/history").json()[0]["point"]


# --------------------------------------------------------------------------------------------- validation
O = {"expression": "x^2 + y^2", "variables": XY}

# (body, the pointer the 400 must name, words its detail must contain)
INVALID = [
    ({"objective": O, "model": "linear"}, "/model", ["unknown field", "objective"]),
    ({"objective": O, "dataset_id": "ds_7m2q4v9c1r8t3x6k0p5n"}, "/dataset_id", ["unknown field"]),
    ({"objective": O, "dataset": {"features": [[1.0]], "targets": [1.0]}}, "/dataset", ["unknown field"]),
    ({"objective": O, "loss": "squared"}, "/loss", ["unknown field"]),
    ({"objective": O, "regularization": {"l2": 1}}, "/regularization", ["unknown field"]),
    ({"objective": O, "init": {"type": "zeros"}}, "/init", ["unknown field"]),
    ({"objective": O, "validation": {"fraction": 0.2}}, "/validation", ["unknown field"]),
    ({"objective": O, "point": [1, 2]}, "/point", ["unknown field"]),
    ({"objective": O, "optimizer": {"method": "sgd"}}, "/optimizer/method", ["gd"]),
    ({"objective": O, "optimizer": {"method": "minibatch"}}, "/optimizer/method", ["adam"]),
    ({"objective": O, "optimizer": {"method": "adam", "batch_size": 4}}, "/optimizer/batch_size", []),
    ({"objective": O, "optimizer": {"method": "gd", "batch_size": 4}}, "/optimizer/batch_size", []),
    ({"objective": O, "optimizer": {"learning_rate": -1}}, "/optimizer/learning_rate", []),
    ({"objective": O, "stopping": {"max_iterations": 0}}, "/stopping/max_iterations", []),
    ({"objective": O, "seed": -1}, "/seed", []),
    ({"objective": O, "report_every": 0}, "/report_every", []),
    ({"objective": {**O, "variables": ["x", "x"]}}, "/objective/variables/1", ['"x"', "twice"]),
    ({"objective": {**O, "variables": ["x", "pi"]}}, "/objective/variables/1", ['"pi"']),
    ({"objective": {**O, "variables": ["e", "y"]}}, "/objective/variables/0", ['"e"']),
    ({"objective": {**O, "variables": ["x", "exp"]}}, "/objective/variables/1", ['"exp"']),
    ({"objective": {**O, "variables": ["x", "1y"]}}, "/objective/variables/1", ["name"]),
    ({"objective": {**O, "variables": ["x", "y-z"]}}, "/objective/variables/1", ["name"]),
    ({"objective": {**O, "variables": ["x", ""]}}, "/objective/variables/1", ["name"]),
    ({"objective": {**O, "variables": ["x", 3]}}, "/objective/variables/1", ["name"]),
    ({"objective": {**O, "variables": []}}, "/objective/variables", ["1 to 1000"]),
    ({"objective": {**O, "variables": "x"}}, "/objective/variables", []),
    ({"objective": {**O, "variables": [f"v{i}" for i in range(1001)]}}, "/objective/variables", ["1000"]),
    ({"objective": {"expression": "x"}}, "/objective/variables", []),
    ({"objective": {"variables": XY}}, "/objective/expression", []),
    ({"objective": {**O, "start": [1]}}, "/objective/start", ["2 values", "not 1"]),
    ({"objective": {**O, "start": [1, 2, 3]}}, "/objective/start", ["not 3"]),
    ({"objective": {**O, "start": [1, "two"]}}, "/objective/start/1", []),
    ({"objective": {**O, "bounds": [[0, 1]]}}, "/objective/bounds", ["2"]),
    ({"objective": {**O, "bounds": [[0, 1], [0, 1], [0, 1]]}}, "/objective/bounds", []),
    ({"objective": {**O, "bounds": [[0, 1], [1, 0]]}}, "/objective/bounds/1", ["lower < upper"]),
    ({"objective": {**O, "bounds": [[0, 1], [2, 2]]}}, "/objective/bounds/1", ["lower < upper"]),
    ({"objective": {**O, "bounds": [[0, 1], [0, 1, 2]]}}, "/objective/bounds/1", []),
    ({"objective": {**O, "bounds": [[0, 1], 5]}}, "/objective/bounds/1", []),
    ({"objective": {**O, "bounds": "box"}}, "/objective/bounds", []),
    ({"objective": {**O, "starts": 0}}, "/objective/starts", ["1 to 1000"]),
    ({"objective": {**O, "starts": 1001}}, "/objective/starts", ["1 to 1000"]),
    ({"objective": {**O, "starts": 2.5}}, "/objective/starts", ["integer"]),
    ({"objective": {**O, "begin": [0, 0]}}, "/objective/begin", ["unknown field"]),
    ({"objective": "x^2"}, "/objective", []),
]


@pytest.mark.parametrize("body, pointer, words", INVALID, ids=[f"{i}:{case[1]}" for i, case in enumerate(INVALID)])
def test_an_invalid_objective_job_is_400_with_its_pointer(api: Api, body, pointer, words):
    problem = assert_problem(api.post_json("/v1/jobs", body), 400, pointer)
    detail = next(e["detail"] for e in problem["errors"] if e["pointer"] == pointer)
    for word in words:
        assert word in detail, detail


# (formula, the column the detail starts with, words the detail must contain)
FORMULA_ERRORS = [
    ("(1-x)^", 7, ["expected"]),
    ("x^2 + z", 7, ['"z"', '"x"', '"y"']),          # an unknown variable, naming the variables
    ("p + y", 1, ['"p"', '"x"']),                   # p is no variable here
    ("foo(x) + y", 1, ['"foo"', "exp"]),
    ("max(x)", 1, ["max", "2 argument"]),
    ("x y", 3, ['"y"']),
    ("", 1, ["expected"]),
]


@pytest.mark.parametrize("formula, column, words", FORMULA_ERRORS, ids=[c[0] or "empty" for c in FORMULA_ERRORS])
def test_a_formula_error_is_400_at_objective_expression_with_its_column(api: Api, formula, column, words):
    response = api.post_json("/v1/jobs", {"objective": {"expression": formula, "variables": XY}})
    problem = assert_problem(response, 400, "/objective/expression")
    detail = next(e["detail"] for e in problem["errors"] if e["pointer"] == "/objective/expression")
    assert detail.startswith(f"column {column}: "), detail
    for word in words:
        assert word in detail, detail


def test_every_fault_is_listed_at_once(api: Api):
    body = {"objective": {"expression": "x + q", "variables": ["x"]}, "model": "linear",
            "optimizer": {"method": "sgd"}}
    assert_problem(api.post_json("/v1/jobs", body), 400, "/model", "/objective/expression", "/optimizer/method")


def test_nothing_is_stored_for_a_rejected_objective_job(api: Api):
    before = api.get("/v1/jobs?limit=1000").json()["items"]
    assert api.post_json("/v1/jobs", {"objective": {**O, "starts": 0}}).status == 400
    assert api.get("/v1/jobs?limit=1000").json()["items"] == before


def test_gradcheck_takes_the_run_fields_of_an_objective_job(api: Api):
    body = {"objective": {**O, "start": [3, 4], "starts": 3, "bounds": [[-1, 1], [-1, 1]]},
            "optimizer": {"method": "adam", "learning_rate": 0.1}, "schedule": {"type": "cosine"},
            "stopping": {"max_iterations": 10}, "seed": 4, "report_every": 5, "point": [1, -2]}
    response = api.post_json("/v1/gradcheck", body)
    assert response.status == 200, response
    answer = response.json()
    assert answer["point"] == [1, -2] and answer["value"] == 5 and answer["analytic"] == [2, -4]
    # ... and checks them as a job's.
    for bad, pointer in [({"optimizer": {"method": "sgd"}}, "/optimizer/method"),
                         ({"stopping": {"max_iterations": 0}}, "/stopping/max_iterations"),
                         ({"report_every": 0}, "/report_every"),
                         ({"model": "linear"}, "/model")]:
        assert_problem(api.post_json("/v1/gradcheck", {"objective": O, **bad}), 400, pointer)


# --------------------------------------------------------------------------------------------- restart and cancel
def test_a_finished_objective_job_survives_a_restart(start_server, binary):
    server, api = start_server("--workers", "1")
    job = minimise(api, ROSENBROCK_SPEC)
    trajectory = api.get(f"/v1/jobs/{job['id']}/trajectory").json()
    history = api.get(f"/v1/jobs/{job['id']}/history").json()
    server, _ = restarted(server, binary)
    try:
        api = Api(server)
        again = api.job(job["id"])
        assert again["status"] == "succeeded"
        for key in ("dataset_id", "spec", "result", "manifest", "error", "created_at", "finished_at"):
            assert again[key] == job[key], key
        assert again["progress"] == {k: v for k, v in job["progress"].items() if k != "point"}
        assert api.get(f"/v1/jobs/{job['id']}/trajectory").json() == trajectory
        # The store keeps history's CSV columns: the same iterations and values, without the point.
        reloaded = api.get(f"/v1/jobs/{job['id']}/history").json()
        assert [{k: v for k, v in h.items() if k != "point"} for h in history] == reloaded
        assert_problem(api.post_json(f"/v1/jobs/{job['id']}/predict", {"features": [[1.0, 2.0]]}), 409)
    finally:
        assert server.stop() == 0, server.log_tail()


def test_an_interrupted_objective_job_runs_again_to_the_same_point(start_server, binary, api):
    reference = minimise(api, LONG_SPEC)  # the shared server, uninterrupted
    server, local = start_server("--workers", "1")
    job = local.submit_ok(LONG_SPEC)
    running = local.wait_until_running(job["id"])
    assert running["status"] == "running"
    server, log = restarted(server, binary)  # a shutdown while it runs: it stays queued and starts again
    assert '"msg":"job suspended"' in log, log[-2000:]
    try:
        local = Api(server)
        finished = local.wait_for(job["id"], timeout=60)
        assert finished["status"] == "succeeded", finished["error"]
        assert finished["result"] == reference["result"]
        iterations = [h["iteration"] for h in local.get(f"/v1/jobs/{job['id']}/history").json()]
        assert iterations == sorted(set(iterations)) and iterations[-1] == reference["result"]["iterations"]
    finally:
        assert server.stop() == 0, server.log_tail()


def test_cancel_ends_a_long_objective_job_at_its_best_point(api: Api):
    spec = {"objective": {"expression": ROSENBROCK, "variables": XY, "starts": 1000, "bounds": [[-2, 2], [-1, 3]]},
            "optimizer": {"method": "gd", "learning_rate": 1e-5}, "report_every": 1000,
            "stopping": {"max_iterations": 10_000_000, "weight_tolerance": 0}}
    job = api.submit_ok(spec)
    api.wait_until_running(job["id"])
    deadline_check = api.job(job["id"], wait=0.5)
    assert deadline_check["status"] == "running"
    response = api.request("POST", f"/v1/jobs/{job['id']}/cancel")
    assert response.status == 202, response
    cancelled = api.wait_for(job["id"], timeout=10)
    assert cancelled["status"] == "cancelled", cancelled["status"]
    result = cancelled["result"]
    assert result["stop_reason"] == "cancelled" and result["converged"] is False
    assert len(result["weights"]) == 2 and result["intercept"] is None
    assert 0 < result["iterations"] < 10_000_000
    x, y = result["weights"]
    assert result["loss"] == pytest.approx((1 - x) ** 2 + 100 * (y - x * x) ** 2, rel=1e-9)
    assert_problem(api.request("POST", f"/v1/jobs/{job['id']}/cancel"), 409)
