"""Issue 8, "Access": API keys, tenants kept apart, and per-tenant quotas.

With `--api-keys FILE` (lines `KEY TENANT`) every `/v1` request needs `Authorization: Bearer KEY` and is served
as the key's tenant; a tenant sees only its own datasets and jobs (another tenant's id answers exactly as an id
that does not exist), content addressing and `Idempotency-Key` are per tenant, and `--tenant-max-jobs` /
`--tenant-max-bytes` bound what one tenant may hold. Keys never appear in the log, and a bad key file stops the
binary at start-up (exit 2) with one line that names the flag and the line, never the key.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
from pathlib import Path

import numpy as np
import pytest

from helpers import Api, Response, Server, assert_problem, curl

# Keys of every shape the file accepts: the shortest (16) and the longest (256), visible ASCII punctuation,
# tabs and runs of spaces between the fields, comments and blank lines; alpha has two keys. (CRLF line ends are
# tested on their own, last.)
ALPHA = "alpha-Key-9f3c1e5b7d"
ALPHA2 = "alpha+second/key=2b8e4a6c"
BRAVO = "br@vo~K3y!_0123456789$"
SHORTEST = "S" * 15 + "!"                                # 16 characters
LONGEST = "L" * 250 + "@#%&*?"                           # 256 characters
CHARLIE = "charlie." + "c" * 48 + "_tenant-"           # a tenant name of 64 characters
ALL_KEYS = [ALPHA, ALPHA2, BRAVO, SHORTEST, LONGEST]
KEYS_FILE = (f"# Descent API keys: KEY TENANT\n\n{ALPHA} alpha\n  {BRAVO}\tbravo\n   \n"
             f"# rotated in\n{ALPHA2}   alpha\n{SHORTEST} {CHARLIE}\n{LONGEST} {CHARLIE}\n")

CHALLENGE = 'Bearer realm="descent"'


class TenantApi(Api):
    """The API as one key holder: every request carries `Authorization: Bearer KEY` (unless it sets its own)."""

    def __init__(self, server: Server, key: str | None):
        super().__init__(server)
        self.key = key

    def request(self, method: str, path: str, **kwargs) -> Response:
        headers = dict(kwargs.pop("headers", None) or {})
        if self.key is not None and not any(name.lower() == "authorization" for name in headers):
            headers["Authorization"] = f"Bearer {self.key}"
        return curl(method, self.server.url(path), headers=headers, **kwargs)


def write_keys(directory: Path, text: str = KEYS_FILE, name: str = "keys.txt") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_bytes(text.encode())
    return path


def assert_no_key_in_log(server: Server) -> None:
    log = server.log_path.read_text(errors="replace")
    assert '"msg":"request"' in log, "the access log is missing: nothing was checked"
    for key in ALL_KEYS:
        assert key not in log, f"an API key ({key[:4]}…) appears in the server's log"


def stop(server: Server) -> None:
    code = server.stop()
    assert code == 0, f"descent exited with {code} after SIGTERM:\n{server.log_tail()}"


def missing_id(real: str) -> str:
    """A well-formed id (same prefix, same alphabet, same length) that names nothing."""
    prefix, _, body = real.partition("_")
    return f"{prefix}_{body[::-1]}"


def unique_matrix(seed: int, rows: int = 6, columns: int = 2) -> tuple[list, list]:
    rng = np.random.default_rng(seed)
    x = np.round(rng.normal(size=(rows, columns)), 6)
    return x.tolist(), np.round(x @ np.arange(1, columns + 1) + 0.5, 6).tolist()


def dataset_body(seed: int, size: int | None = None, rows: int = 3) -> bytes:
    """A JSON upload; with `size`, padded (through its name) to exactly `size` bytes."""
    features, targets = unique_matrix(seed, rows=rows)
    document = {"name": "", "features": features, "targets": targets}
    base = len(json.dumps(document).encode())
    if size is not None:
        assert size >= base, (size, base)
        document["name"] = "p" * (size - base)
    body = json.dumps(document).encode()
    assert size is None or len(body) == size
    return body


def upload(api: Api, body: bytes) -> Response:
    return api.upload(body, "application/json")


def numbers(text: str) -> list[int]:
    return [int(n) for n in re.findall(r"\d+", text)]


def long_job(dataset_id: str, **overrides) -> dict:
    """Runs until cancelled (10^7 iterations of a step too small to converge), a minute at most."""
    spec = {"dataset_id": dataset_id, "optimizer": {"method": "gd", "learning_rate": 1e-9},
            "stopping": {"max_iterations": 10_000_000, "weight_tolerance": 0, "max_seconds": 60},
            "report_every": 1000}
    spec.update(overrides)
    return spec


OBJECTIVE = {"objective": {"expression": "(x - 3)^2 + (y + 1)^2", "variables": ["x", "y"], "start": [0, 0]},
             "optimizer": {"method": "gd", "learning_rate": 0.1}, "stopping": {"max_iterations": 50}}


# --------------------------------------------------------------------------------------------- the keyed server
@pytest.fixture(scope="module")
def keyed(binary, tmp_path_factory):
    """One server with API keys for the module (debug logging, so that as much as possible is logged)."""
    workdir = tmp_path_factory.mktemp("descent-keyed")
    keys = write_keys(workdir / "conf")
    instance = Server(binary, workdir, "--api-keys", str(keys), "--workers", "2", "--log-level", "debug").start()
    yield instance
    stop(instance)


@pytest.fixture
def alpha(keyed):
    client = TenantApi(keyed, ALPHA)
    yield client
    client.cancel_all()


@pytest.fixture
def bravo(keyed):
    client = TenantApi(keyed, BRAVO)
    yield client
    client.cancel_all()


# --------------------------------------------------------------------------------------------- 401s
V1_REQUESTS = [("GET", "/v1"), ("GET", "/v1/"), ("GET", "/v1/datasets"), ("GET", "/v1/datasets/"),
               ("POST", "/v1/datasets"), ("GET", "/v1/datasets/ds_aaaaaaaaaaaaaaaaaaaa"), ("GET", "/v1/jobs"),
               ("POST", "/v1/jobs"), ("GET", "/v1/jobs/job_aaaaaaaaaaaaaaaaaaaa"),
               ("DELETE", "/v1/jobs/job_aaaaaaaaaaaaaaaaaaaa"), ("GET", "/v1/jobs/job_aaaaaaaaaaaaaaaaaaaa/events"),
               ("POST", "/v1/jobs/job_aaaaaaaaaaaaaaaaaaaa/predict"), ("POST", "/v1/gradcheck"),
               ("GET", "/v1/no-such-route?limit=1")]


def unauthorized(response: Response, error: str | None) -> dict:
    problem = assert_problem(response, 401)
    expected = CHALLENGE + (f', error="{error}"' if error else "")
    assert response.header("WWW-Authenticate") == expected, response.headers
    for key in ALL_KEYS:
        assert key not in response.text and all(key not in v for _, v in response.headers), response
    return problem


@pytest.mark.parametrize("method,path", V1_REQUESTS)
def test_every_v1_request_without_a_key_is_401_with_a_bearer_challenge(keyed, method, path):
    body = b'{"dataset_id": "ds_aaaaaaaaaaaaaaaaaaaa"}' if method == "POST" else None
    headers = {"Content-Type": "application/json"} if body else None
    problem = unauthorized(curl(method, keyed.url(path), body=body, headers=headers), None)
    assert "Authorization: Bearer" in problem["detail"], problem


@pytest.mark.parametrize("authorization", [
    f"Basic {ALPHA}", "Bearer", "Bearer ", f"Token {ALPHA}", ALPHA, f"Bearer {ALPHA} {ALPHA2}",
    f"Bearer{ALPHA}", f"Bearer: {ALPHA}"])
def test_an_authorization_that_is_not_bearer_key_is_invalid_request(keyed, authorization):
    unauthorized(curl("GET", keyed.url("/v1/datasets"), headers={"Authorization": authorization}),
                 "invalid_request")


@pytest.mark.parametrize("token", [
    "not-a-key-of-anyone-0000", ALPHA.upper(), ALPHA[:-1], ALPHA + "x", ALPHA[1:], LONGEST[:-1], "a" * 300])
def test_an_unknown_key_is_invalid_token(keyed, token):
    for path in ("/v1/datasets", "/v1/jobs", "/v1"):
        unauthorized(curl("GET", keyed.url(path), headers={"Authorization": f"Bearer {token}"}), "invalid_token")


@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER", "bEaReR"])
@pytest.mark.parametrize("key", [ALPHA, ALPHA2, BRAVO, SHORTEST, LONGEST])
def test_every_key_in_the_file_is_accepted_with_any_case_of_the_scheme(keyed, scheme, key):
    response = curl("GET", keyed.url("/v1/datasets"), headers={"Authorization": f"{scheme} {key}"})
    assert response.status == 200, response
    assert set(response.json()) == {"items", "next_cursor"}


def test_the_service_endpoints_stay_open_and_other_paths_are_not_v1(keyed):
    for path, status in (("/healthz", 200), ("/readyz", 200), ("/openapi.yaml", 200), ("/metrics", 200),
                         ("/v1x", 404), ("/v10/datasets", 404), ("/nothing", 404)):
        response = curl("GET", keyed.url(path))
        assert response.status == status, (path, response)
        assert response.header("WWW-Authenticate") is None, (path, response.headers)
    assert "descent_jobs" in curl("GET", keyed.url("/metrics")).text


def test_a_key_works_over_http2_too(keyed):
    for authorization, status in ((None, 401), (f"Bearer {BRAVO}", 200), ("Bearer nobody-has-this-key-1", 401)):
        command = ["curl", "-sS", "--http2-prior-knowledge", "-o", "/dev/null", "-w", "%{http_code} %{http_version}"]
        if authorization:
            command += ["-H", f"Authorization: {authorization}"]
        done = subprocess.run(command + [keyed.url("/v1/jobs")], capture_output=True, text=True, timeout=30)
        assert done.stdout == f"{status} 2", (authorization, done.stdout, done.stderr)


# --------------------------------------------------------------------------------------------- isolation
def assert_hidden(theirs: Response, missing: Response, real_id: str, fake_id: str) -> None:
    """Another tenant's id is answered exactly as an id that does not exist."""
    assert_problem(theirs, 404)
    assert_problem(missing, 404)
    assert theirs.text.replace(real_id, "{id}") == missing.text.replace(fake_id, "{id}"), (theirs, missing)
    assert theirs.content_type == missing.content_type


def test_another_tenants_dataset_and_jobs_are_not_found_anywhere(alpha: TenantApi, bravo: TenantApi):
    features, targets = unique_matrix(801, rows=40)
    dataset = alpha.create_dataset(features, targets, name="alpha-private")
    done = alpha.wait_for(alpha.submit_ok({"dataset_id": dataset["id"], "stopping": {"max_iterations": 20}})["id"])
    assert done["status"] == "succeeded"
    running = alpha.submit_ok(long_job(dataset["id"]))
    assert alpha.wait_until_running(running["id"])["status"] == "running"

    ds, ds_missing = dataset["id"], missing_id(dataset["id"])
    for job_id in (done["id"], running["id"]):
        fake = missing_id(job_id)
        for method, suffix, body in (("GET", "", None), ("GET", "?wait=0.2", None), ("DELETE", "", None),
                                     ("POST", "/cancel", None), ("GET", "/events", None),
                                     ("GET", "/history", None), ("GET", "/trajectory", None),
                                     ("POST", "/predict", b'{"features": [[1, 2]]}')):
            headers = {"Content-Type": "application/json"} if body else None
            theirs = bravo.request(method, f"/v1/jobs/{job_id}{suffix}", body=body, headers=headers, timeout=10)
            missing = bravo.request(method, f"/v1/jobs/{fake}{suffix}", body=body, headers=headers, timeout=10)
            assert_hidden(theirs, missing, job_id, fake)
        # The same answer as the owner gets for an id that does not exist.
        assert_hidden(bravo.get(f"/v1/jobs/{job_id}"), alpha.get(f"/v1/jobs/{fake}"), job_id, fake)
    for method in ("GET", "DELETE"):  # DELETE: not the owner's 409 (a running job uses it), but 404
        assert_hidden(bravo.request(method, f"/v1/datasets/{ds}"), bravo.request(method, f"/v1/datasets/{ds_missing}"),
                      ds, ds_missing)

    # Listings show only the tenant's own.
    for path in ("/v1/datasets", "/v1/jobs", f"/v1/jobs?dataset_id={ds}", "/v1/jobs?status=running",
                 "/v1/jobs?status=succeeded", "/v1/datasets?limit=1000"):
        listed = bravo.get(path)
        assert listed.status == 200, listed
        ids = {item["id"] for item in listed.json()["items"]}
        assert not ids & {ds, done["id"], running["id"]}, (path, ids)
    assert ds in {d["id"] for d in alpha.get("/v1/datasets").json()["items"]}
    assert {done["id"], running["id"]} <= {j["id"] for j in alpha.get(f"/v1/jobs?dataset_id={ds}").json()["items"]}

    # Nothing bravo did touched alpha's: the running job still runs, the finished one and the dataset are there,
    # and alpha's other key sees the same tenant's data.
    assert alpha.job(running["id"])["status"] == "running"
    assert_problem(alpha.request("DELETE", f"/v1/datasets/{ds}"), 409)  # the owner's answer: a running job uses it
    second = TenantApi(alpha.server, ALPHA2)
    assert second.job(done["id"])["status"] == "succeeded"
    assert second.get(f"/v1/datasets/{ds}").json() == dataset
    history = second.get(f"/v1/jobs/{done['id']}/history")
    assert history.status == 200 and len(history.json()) > 0, history
    predicted = second.post_json(f"/v1/jobs/{done['id']}/predict", {"features": [[1, 2]]})
    assert predicted.status == 200 and len(predicted.json()["predictions"]) == 1, predicted
    assert second.request("POST", f"/v1/jobs/{running['id']}/cancel").status == 202
    assert alpha.job(running["id"], wait=10)["status"] == "cancelled"
    assert alpha.request("DELETE", f"/v1/jobs/{done['id']}").status == 204
    assert alpha.request("DELETE", f"/v1/jobs/{running['id']}").status == 204
    assert alpha.request("DELETE", f"/v1/datasets/{ds}").status == 204


def test_a_job_or_gradcheck_on_another_tenants_dataset_is_told_there_is_no_such_dataset(alpha, bravo):
    features, targets = unique_matrix(802)
    theirs = alpha.create_dataset(features, targets)["id"]
    fake = missing_id(theirs)
    for path in ("/v1/jobs", "/v1/gradcheck"):
        answers = []
        for dataset_id in (theirs, fake):
            response = bravo.post_json(path, {"dataset_id": dataset_id, "stopping": {"max_iterations": 5}})
            problem = assert_problem(response, 400, "/dataset_id")
            detail = next(e["detail"] for e in problem["errors"] if e["pointer"] == "/dataset_id")
            assert detail == f"there is no dataset {dataset_id}", problem
            answers.append(response.text.replace(dataset_id, "{id}"))
        assert answers[0] == answers[1], answers
    assert bravo.get("/v1/jobs").json()["items"] == []
    # The owner may.
    assert alpha.post_json("/v1/gradcheck", {"dataset_id": theirs}).status == 200
    assert alpha.submit({"dataset_id": theirs, "stopping": {"max_iterations": 5}}).status == 202


def test_identical_uploads_are_one_dataset_per_tenant(alpha, bravo, keyed):
    body = dataset_body(803)
    first = upload(alpha, body)
    assert first.status == 201, first
    mine = first.json()
    other = upload(bravo, body)
    assert other.status == 201, other
    assert other.json()["id"] != mine["id"]
    assert other.json()["sha256"] == mine["sha256"]
    assert other.header("Location") == f"/v1/datasets/{other.json()['id']}"
    # The same tenant again, with either of its keys: the same dataset, 200.
    for key in (ALPHA, ALPHA2):
        again = upload(TenantApi(keyed, key), body)
        assert again.status == 200, again
        assert again.json() == mine
    again = upload(bravo, body)
    assert again.status == 200 and again.json() == other.json(), again
    # Deleting one tenant's copy leaves the other's.
    assert bravo.request("DELETE", f"/v1/datasets/{other.json()['id']}").status == 204
    assert alpha.get(f"/v1/datasets/{mine['id']}").json() == mine
    assert upload(bravo, body).status == 201


def test_an_idempotency_key_belongs_to_one_tenant(alpha, bravo, keyed):
    key = {"Idempotency-Key": "nightly-run-42"}
    mine = alpha.submit(OBJECTIVE, headers=key)
    assert mine.status == 202 and mine.header("Idempotent-Replayed") is None, mine
    theirs = bravo.submit(OBJECTIVE, headers=key)
    assert theirs.status == 202, theirs
    assert theirs.header("Idempotent-Replayed") is None, theirs.headers
    assert theirs.json()["id"] != mine.json()["id"]
    # Each tenant's retry gets its own first job; alpha's other key is the same tenant.
    for client, first in ((alpha, mine), (TenantApi(keyed, ALPHA2), mine), (bravo, theirs)):
        retry = client.submit(OBJECTIVE, headers=key)
        assert retry.status == 202, retry
        assert retry.json()["id"] == first.json()["id"]
        assert retry.header("Idempotent-Replayed") == "true", retry.headers
    # Another body under a key only another tenant used is a new job, not a conflict.
    changed = dict(OBJECTIVE, seed=7)
    fresh = TenantApi(keyed, SHORTEST).submit(changed, headers=key)
    assert fresh.status == 202 and fresh.header("Idempotent-Replayed") is None, fresh
    # The same tenant's key with another body is still the usual conflict.
    assert_problem(bravo.submit(changed, headers=key), 422)
    for client, job in ((alpha, mine), (bravo, theirs)):
        assert client.wait_for(job.json()["id"])["status"] == "succeeded"
    assert_problem(bravo.get(f"/v1/jobs/{fresh.json()['id']}"), 404)


# --------------------------------------------------------------------------------------------- quotas
def test_tenant_quotas_on_jobs_and_stored_bytes_are_per_tenant(start_server, tmp_path):
    keys = write_keys(tmp_path / "conf")
    server, _ = start_server("--api-keys", str(keys), "--workers", "1", "--tenant-max-jobs", "2",
                             "--tenant-max-bytes", "4k")
    alpha, bravo = TenantApi(server, ALPHA), TenantApi(server, BRAVO)
    try:
        # ---- bytes: 4k = 4096 bytes of upload bodies per tenant.
        first = upload(alpha, dataset_body(901, 3000))
        assert first.status == 201 and first.json()["bytes"] == 3000, first
        refused = upload(alpha, dataset_body(902, 1500))
        problem = assert_problem(refused, 507)
        assert {1500, 4096, 3000} <= set(numbers(problem["detail"])), problem
        assert [d["id"] for d in alpha.get("/v1/datasets").json()["items"]] == [first.json()["id"]]
        again = upload(alpha, dataset_body(901, 3000))  # content already stored: no new bytes
        assert again.status == 200 and again.json()["id"] == first.json()["id"], again
        # Another tenant has a quota of its own (and the same bytes are its own dataset).
        assert upload(bravo, dataset_body(901, 3000)).status == 201
        # Exactly up to the quota is allowed; nothing more is.
        fits = upload(alpha, dataset_body(903, 1096))
        assert fits.status == 201, fits
        over = assert_problem(upload(alpha, dataset_body(904, 200)), 507)
        assert {200, 4096} <= set(numbers(over["detail"])), over
        # Deleting a dataset frees its bytes.
        assert alpha.request("DELETE", f"/v1/datasets/{first.json()['id']}").status == 204
        assert upload(alpha, dataset_body(902, 1500)).status == 201  # 1096 + 1500 stored
        # An inline dataset is stored too, and counts.
        features, targets = unique_matrix(905, rows=80)
        jobs_before = alpha.get("/v1/jobs").json()["items"]
        big_inline = alpha.submit({"dataset": {"features": features, "targets": targets},
                                   "stopping": {"max_iterations": 5}})
        assert_problem(big_inline, 507)
        assert alpha.get("/v1/jobs").json()["items"] == jobs_before
        assert len(alpha.get("/v1/datasets").json()["items"]) == 2
        features, targets = unique_matrix(906, rows=3)
        small_inline = alpha.submit({"dataset": {"features": features, "targets": targets},
                                     "stopping": {"max_iterations": 5}})
        assert small_inline.status == 202, small_inline
        inline_id = small_inline.json()["spec"]["dataset_id"]
        inline_bytes = alpha.get(f"/v1/datasets/{inline_id}").json()["bytes"]
        stored = 1096 + 1500 + inline_bytes
        left = 4096 - stored
        over = assert_problem(upload(alpha, dataset_body(907, left + 1)), 507)
        assert {left + 1, 4096, stored} <= set(numbers(over["detail"])), over
        assert upload(alpha, dataset_body(907, left)).status == 201
        alpha.wait_for(small_inline.json()["id"])

        # ---- jobs: at most 2 queued or running per tenant (one worker: one runs, the next waits).
        dataset_id = fits.json()["id"]
        one = alpha.submit_ok(long_job(dataset_id))
        alpha.wait_until_running(one["id"])
        two = alpha.submit(long_job(dataset_id), headers={"Idempotency-Key": "second"})
        assert two.status == 202, two
        third = alpha.submit(long_job(dataset_id, seed=3))
        problem = assert_problem(third, 429)
        retry_after = third.header("Retry-After")
        assert retry_after is not None and retry_after.isdigit() and int(retry_after) >= 1, third.headers
        assert 2 in numbers(problem["detail"]), problem
        assert len(alpha.get("/v1/jobs?status=queued").json()["items"]) == 1
        # A retry of an accepted submission is still the same job, not a refusal.
        replay = alpha.submit(long_job(dataset_id), headers={"Idempotency-Key": "second"})
        assert replay.status == 202 and replay.json()["id"] == two.json()["id"], replay
        # Another tenant is not stopped by alpha's quota.
        bravo_dataset = bravo.get("/v1/datasets").json()["items"][0]["id"]
        assert bravo.submit(long_job(bravo_dataset)).status == 202
        # A cancelled job is finished: it frees its place.
        assert alpha.request("POST", f"/v1/jobs/{two.json()['id']}/cancel").status == 202
        assert alpha.job(two.json()["id"], wait=10)["status"] == "cancelled"
        assert alpha.submit(long_job(dataset_id, seed=4)).status == 202
        assert_problem(alpha.submit(long_job(dataset_id, seed=5)), 429)
    finally:
        alpha.cancel_all()
        bravo.cancel_all()
    assert_no_key_in_log(server)


def test_without_keys_the_quotas_bind_everyone_as_one_tenant(start_server):
    server, api = start_server("--workers", "1", "--tenant-max-jobs", "1", "--tenant-max-bytes", "2k")
    stored = upload(api, dataset_body(911, 1500))
    assert stored.status == 201, stored
    problem = assert_problem(upload(api, dataset_body(912, 600)), 507)
    assert {600, 2048, 1500} <= set(numbers(problem["detail"])), problem
    assert upload(api, dataset_body(912, 548)).status == 201
    job = api.submit_ok(long_job(stored.json()["id"]))
    refused = api.submit(long_job(stored.json()["id"], seed=1))
    assert_problem(refused, 429)
    assert refused.header("Retry-After"), refused.headers
    assert api.request("POST", f"/v1/jobs/{job['id']}/cancel").status == 202
    assert api.job(job["id"], wait=10)["status"] == "cancelled"
    assert api.submit(long_job(stored.json()["id"], seed=1)).status == 202


# --------------------------------------------------------------------------------------------- /metrics
def test_metrics_access_key_protects_metrics_with_any_valid_key(start_server, tmp_path):
    keys = write_keys(tmp_path / "conf")
    server, _ = start_server("--api-keys", str(keys), "--metrics-access", "key")
    unauthorized(curl("GET", server.url("/metrics")), None)
    unauthorized(curl("GET", server.url("/metrics"), headers={"Authorization": "Bearer not-a-key-at-all-123"}),
                 "invalid_token")
    unauthorized(curl("GET", server.url("/metrics"), headers={"Authorization": f"Basic {BRAVO}"}),
                 "invalid_request")
    for key in (ALPHA, BRAVO, LONGEST):
        response = curl("GET", server.url("/metrics"), headers={"Authorization": f"bearer {key}"})
        assert response.status == 200, response
        assert "descent_memory_limit_bytes" in response.text
    for path in ("/healthz", "/readyz", "/openapi.yaml"):
        assert curl("GET", server.url(path)).status == 200, path
    unauthorized(curl("GET", server.url("/v1/jobs")), None)
    assert_no_key_in_log(server)


# --------------------------------------------------------------------------------------------- start-up errors
def run_binary(binary: str, tmp_path: Path, *args: str, env: dict[str, str] | None = None
               ) -> subprocess.CompletedProcess:
    command = [binary, "--host", "127.0.0.1", "--port", "0", "--data-dir", str(tmp_path / "data"), *args]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env=dict(os.environ, SWIFT_BACKTRACE="enable=no", **(env or {})))
    try:
        stdout, stderr = process.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGKILL)
        process.communicate()
        raise AssertionError(f"descent started with {args} instead of refusing")
    return subprocess.CompletedProcess(command, process.returncode, stdout, stderr)


GOOD = "good-key-0123456789abc"
BAD_FILES = {
    # name: (file text, line named, secret that must not be printed)
    "a repeated key": (f"{GOOD} alpha\n# c\n{GOOD} bravo\n", 3, GOOD),
    "a repeated key, same tenant": (f"{GOOD} alpha\n{ALPHA} alpha\n{GOOD} alpha\n", 3, GOOD),
    "three fields": (f"{GOOD} alpha\n\n{BRAVO} bravo extra\n", 3, BRAVO),
    "a key alone": (f"# keys\n{BRAVO}\n", 2, BRAVO),
    "a short key": (f"{GOOD} alpha\nfifteen-chars-k bravo\n", 2, "fifteen-chars-k"),
    "a key too long": ("K" * 257 + " alpha\n", 1, "K" * 257),
    "a key with a non-ASCII character": (f"{GOOD} alpha\n{GOOD[:-1]}é bravo\n", 2, f"{GOOD[:-1]}é"),
    "a key with a control character": (f"{GOOD}\x7f alpha\n", 1, f"{GOOD}\x7f"),
    "a tenant with a slash": (f"{GOOD} team/one\n", 1, GOOD),
    "a tenant too long": (f"{GOOD} {'t' * 65}\n", 1, GOOD),
    "a tenant with a colon": (f"{GOOD} alpha\n{BRAVO} b:c\n", 2, BRAVO),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_a_bad_key_file_stops_start_up_with_one_line_naming_the_line_but_not_the_key(binary, tmp_path, case):
    text, line, secret = BAD_FILES[case]
    keys = write_keys(tmp_path, text)
    result = run_binary(binary, tmp_path, "--api-keys", str(keys))
    assert result.returncode == 2, result
    message = result.stderr.strip()
    assert len(message.splitlines()) == 1, message
    assert "--api-keys" in message and "DESCENT_API_KEYS" in message, message
    assert re.search(rf"\bline {line}\b", message), message
    assert secret not in message and secret not in result.stdout, "the key is printed"
    assert GOOD not in message and ALPHA not in message and BRAVO not in message
    assert not (tmp_path / "data").exists(), "started far enough to create the data directory"


@pytest.mark.parametrize("case", ["missing", "a directory", "empty", "only comments and blanks"])
def test_a_key_file_that_cannot_be_read_or_has_no_keys_stops_start_up(binary, tmp_path, case):
    path = tmp_path / "keys.txt"
    if case == "a directory":
        path.mkdir()
    elif case == "empty":
        path.write_text("")
    elif case == "only comments and blanks":
        path.write_text(f"# {GOOD} alpha\n\n   \n#\n")
    result = run_binary(binary, tmp_path, "--api-keys", str(path))
    assert result.returncode == 2, result
    message = result.stderr.strip()
    assert len(message.splitlines()) == 1 and "--api-keys" in message, message
    assert GOOD not in message, "a commented-out key is printed"
    # Through the environment variable, the message names it first.
    result = run_binary(binary, tmp_path, env={"DESCENT_API_KEYS": str(path)})
    assert result.returncode == 2, result
    assert "DESCENT_API_KEYS" in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr


@pytest.mark.parametrize("args", [("--metrics-access", "closed"), ("--metrics-access", ""),
                                  ("--metrics-access", "KEY"), ("--tenant-max-jobs", "0"),
                                  ("--tenant-max-bytes", "12X"), ("--tenant-max-bytes", "0")])
def test_bad_access_settings_stop_start_up(binary, tmp_path, args):
    result = run_binary(binary, tmp_path, *args)
    assert result.returncode == 2, result
    assert args[0] in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr


# --------------------------------------------------------------------------------------------- restart
def test_datasets_jobs_and_idempotency_keys_keep_their_tenant_across_a_restart(binary, tmp_path, monkeypatch):
    keys = write_keys(tmp_path / "conf")
    workdir = tmp_path / "restarting"
    server = Server(binary, workdir, "--api-keys", str(keys), "--workers", "1").start()
    try:
        alpha, bravo = TenantApi(server, ALPHA), TenantApi(server, BRAVO)
        body = dataset_body(921, rows=30)
        created = upload(alpha, body)
        assert created.status == 201, created
        dataset = created.json()
        job = alpha.wait_for(alpha.submit_ok({"dataset_id": dataset["id"], "stopping": {"max_iterations": 10}})["id"])
        assert job["status"] == "succeeded"
        keyed_job = alpha.submit(OBJECTIVE, headers={"Idempotency-Key": "restart-key"})
        assert keyed_job.status == 202, keyed_job
        alpha.wait_for(keyed_job.json()["id"])
        assert bravo.get("/v1/datasets").json()["items"] == []
    finally:
        stop(server)
    assert_no_key_in_log(server)

    # The same data directory; the keys now come from DESCENT_API_KEYS.
    monkeypatch.setenv("DESCENT_API_KEYS", str(keys))
    server = Server(binary, workdir, "--workers", "1").start()
    try:
        alpha, bravo = TenantApi(server, ALPHA), TenantApi(server, BRAVO)
        unauthorized(curl("GET", server.url("/v1/datasets")), None)
        assert alpha.get(f"/v1/datasets/{dataset['id']}").json() == dataset
        assert [d["id"] for d in TenantApi(server, ALPHA2).get("/v1/datasets").json()["items"]] == [dataset["id"]]
        assert alpha.job(job["id"])["result"] == job["result"]
        fake = missing_id(dataset["id"])
        assert_hidden(bravo.get(f"/v1/datasets/{dataset['id']}"), bravo.get(f"/v1/datasets/{fake}"),
                      dataset["id"], fake)
        fake = missing_id(job["id"])
        assert_hidden(bravo.get(f"/v1/jobs/{job['id']}"), bravo.get(f"/v1/jobs/{fake}"), job["id"], fake)
        assert bravo.get("/v1/datasets").json()["items"] == []
        assert bravo.get("/v1/jobs").json()["items"] == []
        # Content addressing and idempotency keys are still per tenant.
        again = upload(alpha, body)
        assert again.status == 200 and again.json()["id"] == dataset["id"], again
        theirs = upload(bravo, body)
        assert theirs.status == 201 and theirs.json()["id"] != dataset["id"], theirs
        retry = alpha.submit(OBJECTIVE, headers={"Idempotency-Key": "restart-key"})
        assert retry.status == 202 and retry.json()["id"] == keyed_job.json()["id"], retry
        assert retry.header("Idempotent-Replayed") == "true"
        other = bravo.submit(OBJECTIVE, headers={"Idempotency-Key": "restart-key"})
        assert other.status == 202 and other.json()["id"] != keyed_job.json()["id"], other
        bravo.wait_for(other.json()["id"])
    finally:
        stop(server)
    assert_no_key_in_log(server)


# --------------------------------------------------------------------------------------------- the log
def test_no_key_was_ever_written_to_the_log(keyed):
    """Last in the module: every request above (accepted, refused, malformed) went through this server's log."""
    log = keyed.log_path.read_text(errors="replace")
    lines = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    requests = [line for line in lines if line.get("msg") == "request"]
    assert len(requests) > 100, len(requests)
    assert {401, 200, 404} <= {line["status"] for line in requests}
    assert_no_key_in_log(keyed)


def test_a_submission_refused_by_the_job_quota_keeps_nothing_of_its_inline_dataset(start_server, tmp_path):
    """An inline dataset is stored only for a job that is accepted: a 429 must not leave it behind (where it
    would count against the tenant's stored bytes and the memory limit)."""
    keys = write_keys(tmp_path / "conf")
    server, _ = start_server("--api-keys", str(keys), "--workers", "1", "--tenant-max-jobs", "1")
    alpha = TenantApi(server, ALPHA)
    try:
        features, targets = unique_matrix(931)
        dataset = alpha.create_dataset(features, targets)
        running = alpha.submit_ok(long_job(dataset["id"]))
        features, targets = unique_matrix(932)
        refused = alpha.submit({"dataset": {"features": features, "targets": targets},
                                "stopping": {"max_iterations": 5}})
        assert_problem(refused, 429)
        listed = [d["id"] for d in alpha.get("/v1/datasets").json()["items"]]
        assert listed == [dataset["id"]], f"the refused job's inline dataset was stored: {listed}"
        assert [j["id"] for j in alpha.get("/v1/jobs").json()["items"]] == [running["id"]]
    finally:
        alpha.cancel_all()


def test_a_key_file_with_crlf_line_ends_is_read(start_server, tmp_path):
    """A keys file saved by a Windows editor: the same keys, CRLF line ends (the parser means to drop the CR)."""
    keys = write_keys(tmp_path / "conf", KEYS_FILE.replace("\n", "\r\n"))
    server, _ = start_server("--api-keys", str(keys))
    for key in ALL_KEYS:
        response = curl("GET", server.url("/v1/jobs"), headers={"Authorization": f"Bearer {key}"})
        assert response.status == 200, response
