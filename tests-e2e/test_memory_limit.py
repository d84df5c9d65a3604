"""Issue 8, "Memory bounds": `--memory-limit BYTES` (DESCENT_MEMORY_LIMIT; default half the machine's memory).

Datasets are held in memory, so an upload whose parsed arrays would not fit in what is left is refused with 413
(and not stored); a job whose estimated working set (its history, optimizer vectors, row orders and validation
splits) would not fit is refused with 422. Both say the numbers. Deleting datasets and jobs gives their memory
back; `/metrics` shows `descent_memory_limit_bytes` and `descent_memory_reserved_bytes`.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
from pathlib import Path

import numpy as np
import pytest

from helpers import Api, Server, assert_problem, metric_value, npy_bytes

LIMIT = 2 << 20  # the module server's --memory-limit 2M


def memory(api: Api) -> tuple[int, int]:
    """(descent_memory_limit_bytes, descent_memory_reserved_bytes)."""
    response = api.get("/metrics")
    assert response.status == 200, response
    limit = metric_value(response.text, "descent_memory_limit_bytes")
    reserved = metric_value(response.text, "descent_memory_reserved_bytes")
    assert limit is not None and reserved is not None, "the memory gauges are missing from /metrics"
    return int(limit), int(reserved)


def reserved(api: Api) -> int:
    return memory(api)[1]


def numbers(text: str) -> list[int]:
    return [int(n) for n in re.findall(r"\d+", text)]


def npy_dataset(rows: int, features: int, seed: int, dtype=np.float64) -> bytes:
    """rows × (features + 1) values, the target last: parsed, rows·features·8 + rows·8 bytes (float64)."""
    rng = np.random.default_rng(seed)
    return npy_bytes(rng.normal(size=(rows, features + 1)).astype(dtype))


def upload_npy(api: Api, body: bytes):
    return api.upload(body, "application/x-npy")


def listed_ids(api: Api) -> list[str]:
    response = api.get("/v1/datasets?limit=1000")
    assert response.status == 200, response
    return [d["id"] for d in response.json()["items"]]


def stop(server: Server) -> None:
    code = server.stop()
    assert code == 0, f"descent exited with {code} after SIGTERM:\n{server.log_tail()}"


@pytest.fixture(scope="module")
def small(binary, tmp_path_factory):
    """One server for the module with a 2 MiB memory limit and one worker."""
    instance = Server(binary, tmp_path_factory.mktemp("descent-2M"), "--memory-limit", "2M", "--workers", "1").start()
    yield Api(instance)
    stop(instance)


@pytest.fixture
def api(small):
    yield small
    small.cancel_all()
    small.submitted.clear()


# --------------------------------------------------------------------------------------------- the setting
def test_the_limit_is_the_flag_and_nothing_is_reserved_at_first(api: Api):
    assert memory(api) == (LIMIT, 0)


def machine_default() -> int:
    """Half of MemTotal, or of the cgroup's memory.max when that is lower (never under 64 MiB)."""
    text = Path("/proc/meminfo").read_text()
    total = int(re.search(r"^MemTotal:\s+(\d+) kB", text, re.M).group(1)) * 1024
    for path in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            value = Path(path).read_text().strip()
        except OSError:
            continue
        if value.isdigit() and int(value) < 1 << 60:
            total = min(total, int(value))
        break
    return max(64 << 20, total // 2)


def test_suffixes_the_environment_variable_and_the_default(start_server, monkeypatch):
    _, api = start_server("--memory-limit", "1536k")
    assert memory(api) == (1536 * 1024, 0)
    monkeypatch.setenv("DESCENT_MEMORY_LIMIT", "3G")
    _, api = start_server()
    assert memory(api)[0] == 3 << 30
    _, api = start_server("--memory-limit", "1T")  # the flag wins over the variable
    assert memory(api)[0] == 1 << 40
    monkeypatch.delenv("DESCENT_MEMORY_LIMIT")
    _, api = start_server()
    assert memory(api)[0] == machine_default()


def run_binary(binary: str, tmp_path: Path, *args: str, env: dict[str, str] | None = None):
    command = [binary, "--host", "127.0.0.1", "--port", "0", "--data-dir", str(tmp_path / "data"), *args]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env=dict(os.environ, SWIFT_BACKTRACE="enable=no", **(env or {})))
    try:
        _, stderr = process.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGKILL)
        process.communicate()
        raise AssertionError(f"descent started with {args} {env} instead of refusing")
    return process.returncode, stderr


@pytest.mark.parametrize("value", ["0", "0M", "12X", "1.5G", "-1", "M", "64 M", "64MB", "99999999T"])
def test_a_bad_memory_limit_stops_start_up(binary, tmp_path, value):
    code, stderr = run_binary(binary, tmp_path, "--memory-limit", value)
    assert code == 2, stderr
    assert "--memory-limit" in stderr and len(stderr.strip().splitlines()) == 1, stderr
    code, stderr = run_binary(binary, tmp_path, env={"DESCENT_MEMORY_LIMIT": value})
    assert code == 2, stderr
    assert "DESCENT_MEMORY_LIMIT" in stderr, stderr


# --------------------------------------------------------------------------------------------- datasets
def test_an_upload_reserves_its_arrays_and_deleting_it_gives_them_back(api: Api):
    before = reserved(api)
    # float64 .npy: 1000 rows, 4 features and the target; no feature names.
    body = npy_dataset(1000, 4, seed=1)
    first = upload_npy(api, body)
    assert first.status == 201, first
    assert reserved(api) - before == 1000 * 4 * 8 + 1000 * 8
    # The same content again is the same dataset: nothing more is reserved.
    again = upload_npy(api, body)
    assert again.status == 200 and again.json()["id"] == first.json()["id"], again
    assert reserved(api) - before == 40_000

    # JSON with sample weights and feature names: the weights count; names are not counted (they are small next
    # to the arrays, and a dataset read back after a restart has the default names x0, x1, … it was given).
    rng = np.random.default_rng(2)
    names = ["alpha", "beta_feature", "c"]
    document = {"features": np.round(rng.normal(size=(50, 3)), 6).tolist(), "targets": list(range(50)),
                "sample_weights": [1.0] * 50, "feature_names": names}
    second = api.post_json("/v1/datasets", document)
    assert second.status == 201, second
    arrays = 50 * 3 * 8 + 50 * 8 + 50 * 8
    grown = reserved(api) - before - 40_000
    assert grown == arrays, (grown, arrays)

    # float32 .npy data stays float32 in memory: four bytes a feature, targets as float64.
    third = upload_npy(api, npy_dataset(500, 4, seed=3, dtype=np.float32))
    assert third.status == 201, third
    assert reserved(api) - before - 40_000 - grown == 500 * 4 * 4 + 500 * 8

    for response in (first, second, third):
        assert api.request("DELETE", f"/v1/datasets/{response.json()['id']}").status == 204
    assert reserved(api) == before


def test_an_upload_that_does_not_fit_is_413_with_the_numbers_and_is_not_stored(api: Api):
    before = reserved(api)
    kept = upload_npy(api, npy_dataset(20_000, 4, seed=10))  # 800 000 bytes of the 2 097 152
    assert kept.status == 201, kept
    in_use = reserved(api)
    assert in_use - before == 800_000
    ids = listed_ids(api)

    # Its body alone is more than is left: refused from the head, before the body is read.
    body = npy_dataset(40_000, 4, seed=11)  # 1 600 000 more: does not fit
    refused = upload_npy(api, body)
    problem = assert_problem(refused, 413)
    said = numbers(problem["detail"])
    for number in (len(body), LIMIT, in_use):
        assert number in said, f"{number} is not in the detail: {problem['detail']}"
    assert listed_ids(api) == ids, "a refused upload was stored"
    assert reserved(api) == in_use, "a refused upload kept its reservation"

    # A body that fits, but whose parsed arrays do not (CSV: 4 bytes of text a row, 16 bytes of arrays):
    # refused once parsed, with the dataset's shape and size.
    rows = 100_000
    csv = ("x,y\n" + "1,2\n" * rows).encode()
    assert len(csv) < LIMIT - in_use < 16 * rows
    refused = api.upload(csv, "text/csv")
    problem = assert_problem(refused, 413)
    said = numbers(problem["detail"])
    for number in (rows, 1, LIMIT, in_use):
        assert number in said, f"{number} is not in the detail: {problem['detail']}"
    assert 16 * rows in said, problem
    assert listed_ids(api) == ids, "a refused upload was stored"
    assert reserved(api) == in_use, "a refused upload kept its reservation"

    # Deleting the other dataset makes room: the same upload now succeeds.
    assert api.request("DELETE", f"/v1/datasets/{kept.json()['id']}").status == 204
    assert reserved(api) == before
    accepted = upload_npy(api, npy_dataset(40_000, 4, seed=11))
    assert accepted.status == 201, accepted
    assert accepted.json()["rows"] == 40_000 and accepted.json()["columns"] == 4
    assert reserved(api) == before + 1_600_000
    assert api.request("DELETE", f"/v1/datasets/{accepted.json()['id']}").status == 204
    assert reserved(api) == before


def test_an_inline_dataset_that_does_not_fit_is_413_and_nothing_is_kept(api: Api):
    """A job's inline dataset is held like an upload: one that cannot fit is refused, and neither it nor the job
    is kept."""
    before = reserved(api)
    kept = upload_npy(api, npy_dataset(20_000, 4, seed=20))  # 800 000 bytes of the 2 097 152
    assert kept.status == 201, kept
    try:
        in_use = reserved(api)
        datasets, jobs = listed_ids(api), api.get("/v1/jobs").json()["items"]
        x = np.round(np.random.default_rng(21).normal(size=(40_000, 4)), 3)  # 40 000 · 40 = 1 600 000 more
        response = api.submit({"dataset": {"features": x.tolist(), "targets": x[:, 0].tolist()},
                               "stopping": {"max_iterations": 2}})
        problem = assert_problem(response, 413)
        said = numbers(problem["detail"])
        # Its JSON body alone is more than is left, so it is refused from the head with the body's size.
        assert LIMIT in said and in_use in said, problem
        assert listed_ids(api) == datasets
        assert api.get("/v1/jobs").json()["items"] == jobs
        assert reserved(api) == in_use
    finally:
        assert api.request("DELETE", f"/v1/datasets/{kept.json()['id']}").status == 204
    assert reserved(api) == before


# --------------------------------------------------------------------------------------------- jobs
def test_a_job_whose_history_would_not_fit_is_422_with_the_numbers(start_server):
    _, api = start_server("--memory-limit", "64M", "--workers", "1")
    assert memory(api) == (64 << 20, 0)
    dataset = api.create_dataset([[1, 2], [3, 4], [5, 7], [2, 2]], [1, 2, 3, 4])
    in_use = reserved(api)
    spec = {"dataset_id": dataset["id"], "optimizer": {"method": "gd", "learning_rate": 1e-9},
            "stopping": {"max_iterations": 10_000_000, "weight_tolerance": 0, "max_seconds": 30},
            "report_every": 1}
    refused = api.submit(spec)
    problem = assert_problem(refused, 422)
    said = numbers(problem["detail"])
    assert 64 << 20 in said and in_use in said, problem
    needed = max(said)
    assert 500_000_000 <= needed <= 2_000_000_000, f"about 10^7 progress events should need ~1 GB: {problem}"
    assert api.get("/v1/jobs").json()["items"] == [], "a refused job was kept"
    assert reserved(api) == in_use

    # Objective mode keeps a history too.
    objective = {"objective": {"expression": "(x-1)^2 + y^2", "variables": ["x", "y"], "start": [0, 0]},
                 "stopping": {"max_iterations": 10_000_000, "max_seconds": 30}, "report_every": 1}
    assert_problem(api.submit(objective), 422)

    # The same job reporting every 100 000 iterations keeps 102 events: accepted.
    accepted = api.submit(dict(spec, report_every=100_000))
    assert accepted.status == 202, accepted
    assert reserved(api) > in_use
    assert api.request("POST", f"/v1/jobs/{accepted.json()['id']}/cancel").status == 202
    assert api.job(accepted.json()["id"], wait=10)["status"] == "cancelled"


def test_row_orders_and_validation_splits_count_in_a_jobs_memory(api: Api):
    before = reserved(api)
    rows = 80_000
    dataset = upload_npy(api, npy_dataset(rows, 1, seed=30))  # 80 000 · 16 = 1 280 000 bytes
    assert dataset.status == 201, dataset
    dataset_id = dataset.json()["id"]
    base = {"dataset_id": dataset_id, "stopping": {"max_iterations": 2}}
    jobs = []
    try:
        # Full batch, no split: a few vectors.
        jobs.append(api.submit_ok(base))
        api.wait_for(jobs[-1]["id"])
        # SGD shuffles a row order (8 bytes a row) and a validation split keeps index lists (9 bytes a row):
        # 17 · 80 000 = 1 360 000 bytes, more than the ~800 000 left.
        refused = api.submit(dict(base, optimizer={"method": "sgd"}, validation={"fraction": 0.2}))
        problem = assert_problem(refused, 422)
        assert any(n >= 17 * rows for n in numbers(problem["detail"])), problem
        assert LIMIT in numbers(problem["detail"]), problem
        assert_problem(api.submit(dict(base, optimizer={"method": "minibatch", "batch_size": 64},
                                       validation={"fraction": 0.2})), 422)
        # Either alone fits.
        for extra in ({"optimizer": {"method": "sgd"}}, {"validation": {"fraction": 0.2}}):
            jobs.append(api.submit_ok(dict(base, **extra)))
            assert api.wait_for(jobs[-1]["id"])["status"] == "succeeded"
    finally:
        for job in jobs:
            api.wait_for(job["id"])
            api.request("DELETE", f"/v1/jobs/{job['id']}")
        api.request("DELETE", f"/v1/datasets/{dataset_id}")


# --------------------------------------------------------------------------------------------- freed by deletes
def test_deleting_a_finished_job_gives_its_memory_back(start_server):
    """Each job below promises ~70 MB for its history (10^6 progress events); two do not fit in 100M. The first
    converges at once, and once it is deleted the second must fit."""
    _, api = start_server("--memory-limit", "100M", "--workers", "1")
    dataset = api.create_dataset([[0.0], [1.0], [2.0], [3.0]], [1.0, 3.0, 5.0, 7.0])
    with_dataset = reserved(api)
    spec = {"dataset_id": dataset["id"], "optimizer": {"method": "gd", "learning_rate": "auto"},
            "stopping": {"max_iterations": 1_000_000, "weight_tolerance": 1e-6}, "report_every": 1}
    first = api.wait_for(api.submit_ok(spec)["id"])
    assert first["status"] == "succeeded" and first["result"]["iterations"] < 100_000, first["result"]
    holding = reserved(api)
    assert holding - with_dataset > 50_000_000, "the finished job holds its history's reservation"
    assert_problem(api.submit(dict(spec, seed=1)), 422)

    assert api.request("DELETE", f"/v1/jobs/{first['id']}").status == 204
    assert reserved(api) == with_dataset, "deleting the finished job did not give its memory back"
    second = api.submit(dict(spec, seed=1))
    assert second.status == 202, second
    api.wait_for(second.json()["id"])
    assert api.request("DELETE", f"/v1/jobs/{second.json()['id']}").status == 204
    assert api.request("DELETE", f"/v1/datasets/{dataset['id']}").status == 204
    assert reserved(api) == 0


# --------------------------------------------------------------------------------------------- restart
def test_what_a_restart_reads_back_holds_its_memory_and_is_freed_by_deleting(binary, tmp_path):
    """Datasets and jobs read back from the store are in memory again: they hold their share at once (even
    past a smaller limit), so a new upload is judged against what is really there."""
    workdir = tmp_path / "restarting"
    server = Server(binary, workdir, "--memory-limit", "2M", "--workers", "1").start()
    try:
        api = Api(server)
        dataset = upload_npy(api, npy_dataset(20_000, 4, seed=40))  # 800 000 bytes
        assert dataset.status == 201, dataset
        job = api.wait_for(api.submit_ok({"dataset_id": dataset.json()["id"], "stopping": {"max_iterations": 5}})["id"])
        assert job["status"] == "succeeded", job
        before = reserved(api)
        assert before > 800_000
    finally:
        stop(server)
    # Restarted with a limit below what the store holds: it all comes back, and nothing new fits.
    server = Server(binary, workdir, "--memory-limit", "500k", "--workers", "1").start()
    try:
        api = Api(server)
        assert reserved(api) == before
        assert_problem(upload_npy(api, npy_dataset(100, 4, seed=41)), 413)
        assert api.request("DELETE", f"/v1/jobs/{job['id']}").status == 204
        assert api.request("DELETE", f"/v1/datasets/{dataset.json()['id']}").status == 204
        assert reserved(api) == 0
        assert upload_npy(api, npy_dataset(100, 4, seed=41)).status == 201
    finally:
        stop(server)
