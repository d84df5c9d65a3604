"""Issue 5's storage faults, on a real filesystem of their own: a 2 MiB tmpfs mounted for each test (the
tests need root and mount(8); they are skipped where the machine does not allow it). A data directory that
turns read-only while the service runs is not tested: Linux refuses to remount a filesystem read-only while
the service holds its database open for writing ("mount point is busy").

- A full disk: a write that cannot be stored is answered 507 with problem+json, nothing of it is kept, the
  server stays up and serves the next request, /readyz says 503 until a write succeeds again, and after a
  restart the store is whole.
- A read-only data directory at start-up: exit 1 with one message naming the file and what to do.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

from helpers import Api, Server, assert_problem, linear_data


def mount_tmpfs(path: Path, size: str = "2m") -> None:
    path.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
                            capture_output=True, text=True)
    if result.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({result.stderr.strip()}): the storage fault tests need root")


def remount(path: Path, mode: str) -> None:
    subprocess.run(["mount", "-o", f"remount,{mode}", str(path)], check=True)


@pytest.fixture
def small_disk(tmp_path):
    disk = tmp_path / "disk"
    mount_tmpfs(disk)
    yield disk
    subprocess.run(["umount", "-l", str(disk)], check=False)


def test_a_full_disk_answers_507_and_keeps_nothing(binary, small_disk):
    server = Server(binary, small_disk / "work", "--workers", "1").start()
    try:
        api = Api(server)
        small = api.create_dataset(*linear_data(20, seed=1), name="fits")
        x, y = linear_data(60_000, seed=2)  # ~1 MB of features twice over: more than the disk has left
        rng = np.random.default_rng(3)
        x = np.column_stack([x, rng.normal(size=(60_000, 2))])
        response = api.post_json("/v1/datasets", {"features": x.tolist(), "targets": y.tolist(), "name": "too big"})
        problem = assert_problem(response, 507)
        assert "nothing of it was kept" in problem["detail"], problem
        # Still serving; /readyz tells that storage cannot take writes, until one succeeds again.
        assert api.get("/healthz").status == 200
        not_ready = assert_problem(api.get("/readyz"), 503)
        assert "Storage cannot be written" in not_ready["detail"], not_ready
        job = api.wait_for(api.submit_ok({"dataset_id": small["id"], "stopping": {"max_iterations": 5}})["id"])
        assert job["status"] == "succeeded"
        assert api.get("/readyz").status == 200
        names = [d["name"] for d in api.get("/v1/datasets").json()["items"]]
        assert names == ["fits"], names
    finally:
        assert server.stop() == 0
    restarted = Server(binary, small_disk / "work", "--workers", "1").start()
    try:
        api = Api(restarted)
        assert [d["name"] for d in api.get("/v1/datasets").json()["items"]] == ["fits"]
        assert api.job(job["id"])["status"] == "succeeded"
    finally:
        assert restarted.stop() == 0


def test_a_read_only_data_directory_at_start_up_is_one_clear_error(binary, small_disk):
    data = small_disk / "data"
    data.mkdir()
    remount(small_disk, "ro")
    try:
        result = subprocess.run([binary, "--host", "127.0.0.1", "--port", "0", "--data-dir", str(data)],
                                capture_output=True, text=True, timeout=30,
                                env=dict(os.environ, SWIFT_BACKTRACE="enable=no"))
    finally:
        remount(small_disk, "rw")
    assert result.returncode == 1, result
    assert str(data / "descent.sqlite") in result.stderr, result.stderr
    assert "point --data-dir elsewhere" in result.stderr, result.stderr
