"""Issue 5's crash test: a 202 means the job will finish, even if the process is killed.

The real binary takes 24 jobs of mixed kinds (linear and logistic models; gd, minibatch, sgd, momentum, adam;
with and without standardization and validation; a formula loss; objective mode; some long enough to be
running when the process dies) and
is killed with SIGKILL at random moments three times, each time started again on the same data directory.
Every submission carries an Idempotency-Key and is retried across a kill, so each spec is accepted exactly
once. Then every job must end `succeeded`, there must be exactly one job per spec, and each job's weights
must equal, bit for bit, those of a reference server that ran the same specs without interruption.
"""

from __future__ import annotations

import random
import signal
import time

import pytest

from helpers import Api, Server, linear_data, logistic_data

# Checkpoints every 0.1 s, so that most killed jobs go on from a checkpoint rather than from the start.
FLAGS = ("--workers", "2", "--checkpoint-seconds", "0.1")

MODELS = [
    {"optimizer": {"method": "gd", "learning_rate": "auto"}, "stopping": {"max_iterations": 4000, "weight_tolerance": 0}},
    {"optimizer": {"method": "minibatch", "batch_size": 16, "learning_rate": 0.02}, "stopping": {"max_iterations": 300}},
    {"optimizer": {"method": "sgd", "learning_rate": 0.005}, "stopping": {"max_iterations": 60},
     "validation": {"fraction": 0.2}},
    {"optimizer": {"method": "momentum", "learning_rate": 0.01}, "standardize": True,
     "stopping": {"max_iterations": 3000, "weight_tolerance": 0}},
    {"optimizer": {"method": "adam", "learning_rate": 0.05, "batch_size": 32},
     "stopping": {"max_iterations": 400, "weight_tolerance": 0}},
    {"model": "logistic", "optimizer": {"method": "gd", "learning_rate": 0.5},
     "regularization": {"l2": 0.01}, "stopping": {"max_iterations": 3000, "weight_tolerance": 0}},
    # Issue 7: a formula loss (checkpointed like any fit), and objective mode (no checkpoints: an interrupted
    # run starts again, and must still end exactly where an uninterrupted one does).
    {"loss": {"expression": "(p - y)^2 / 2"}, "optimizer": {"method": "adam", "learning_rate": 0.05},
     "stopping": {"max_iterations": 3000, "weight_tolerance": 0}},
    {"objective": {"expression": "(1-x)^2 + 100*(y-x^2)^2", "variables": ["x", "y"], "starts": 20,
                   "bounds": [[-2, 2], [-1, 3]]},
     "optimizer": {"method": "adam", "learning_rate": 0.02}, "report_every": 100,
     "stopping": {"max_iterations": 20000, "weight_tolerance": 0}},
]


def specs(linear_id: str, logistic_id: str) -> list[dict]:
    out = []
    for index in range(24):
        spec = dict(MODELS[index % len(MODELS)])
        if "objective" not in spec:
            spec["dataset_id"] = logistic_id if spec.get("model") == "logistic" else linear_id
        spec["seed"] = index
        out.append(spec)
    return out


def upload_datasets(api: Api) -> tuple[str, str]:
    x, y = linear_data(400, seed=5, noise=0.3)
    xl, yl = logistic_data(400, seed=6)
    return api.create_dataset(x, y, name="crash-linear")["id"], api.create_dataset(xl, yl, name="crash-logistic")["id"]


def resumes(server: Server) -> int:
    """How many jobs this server life resumed from a checkpoint (its log is started afresh at each start)."""
    return server.log_path.read_text().count('"msg":"job resumed"')


def submit_exactly_once(api: Api, spec: dict, key: str) -> str:
    """Submits with an Idempotency-Key; the caller retries after a restart if the process died meanwhile."""
    response = api.submit(spec, headers={"Idempotency-Key": key})
    assert response.status == 202, response
    return response.json()["id"]


def test_every_accepted_job_finishes_exactly_once_with_the_reference_weights(binary, tmp_path):
    rng = random.Random(20261127)
    workdir = tmp_path / "crashing"
    server = Server(binary, workdir, *FLAGS).start()
    api = Api(server)
    linear_id, logistic_id = upload_datasets(api)
    all_specs = specs(linear_id, logistic_id)
    kill_after = sorted(rng.sample(range(4, 24), 3))  # kill after these many submissions
    accepted: dict[str, str] = {}  # Idempotency-Key -> job id
    kills = 0
    resumed = 0
    for index, spec in enumerate(all_specs):
        key = f"crash-{index}"
        accepted[key] = submit_exactly_once(api, spec, key)
        if kills < len(kill_after) and index + 1 == kill_after[kills]:
            time.sleep(rng.uniform(0.0, 0.6))  # somewhere inside the running jobs
            resumed += resumes(server)
            server.process.send_signal(signal.SIGKILL)
            server.process.wait()
            kills += 1
            server = Server(binary, workdir, *FLAGS).start()
            api = Api(server)
            # A resubmission with the same key must give the same job, not a second one.
            assert submit_exactly_once(api, spec, key) == accepted[key]
    assert kills == 3

    finished = {key: api.wait_for(job_id, timeout=300) for key, job_id in accepted.items()}
    assert all(job["status"] == "succeeded" for job in finished.values()), \
        [(job["id"], job["status"], job["error"]) for job in finished.values() if job["status"] != "succeeded"]
    resumed += resumes(server)
    print(f"jobs that went on from a checkpoint after a kill: {resumed}")
    listed = api.get("/v1/jobs?limit=1000").json()["items"]
    assert sorted(job["id"] for job in listed) == sorted(accepted.values()), "a job was lost or run twice"
    server.stop()

    reference_server = Server(binary, tmp_path / "reference", "--workers", "2").start()
    try:
        reference_api = Api(reference_server)
        ref_linear, ref_logistic = upload_datasets(reference_api)
        for index, spec in enumerate(specs(ref_linear, ref_logistic)):
            reference = reference_api.wait_for(reference_api.submit_ok(spec)["id"], timeout=300)
            job = finished[f"crash-{index}"]
            assert job["result"]["weights"] == reference["result"]["weights"], (index, spec)
            assert job["result"]["intercept"] == reference["result"]["intercept"], (index, spec)
            assert job["result"]["iterations"] == reference["result"]["iterations"], (index, spec)
            assert job["manifest"]["data_sha256"] == reference["manifest"]["data_sha256"]
    finally:
        assert reference_server.stop() == 0
