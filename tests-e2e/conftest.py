"""Fixtures: the descent binary, a shared server for the whole run, and servers made with their own flags.

The binary is `--descent-binary PATH`, else $DESCENT_BINARY, else .build/debug/descent of this repository.
Each server gets a fresh data directory under pytest's tmp_path; at teardown it is stopped with SIGTERM
and must exit 0.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from helpers import Api, Server, linear_data

REPO = Path(__file__).resolve().parent.parent


def pytest_addoption(parser):
    parser.addoption("--descent-binary", default=os.environ.get("DESCENT_BINARY", str(REPO / ".build/debug/descent")),
                     help="the descent executable to test")


@pytest.fixture(scope="session")
def binary(request) -> str:
    path = request.config.getoption("--descent-binary")
    if not os.access(path, os.X_OK):
        pytest.exit(f"descent binary not found at {path} (swift build --product descent)", returncode=2)
    return path


def _stop(server: Server) -> None:
    code = server.stop()
    assert code == 0, f"descent exited with {code} after SIGTERM:\n{server.log_tail()}"


@pytest.fixture(scope="session")
def server(binary, tmp_path_factory):
    """The server most tests share: 2 workers, the default queue."""
    instance = Server(binary, tmp_path_factory.mktemp("descent-shared"), "--workers", "2").start()
    yield instance
    _stop(instance)


@pytest.fixture
def api(server):
    """The shared server's API; jobs a test leaves unfinished are cancelled when it ends."""
    client = Api(server)
    yield client
    client.cancel_all()


@pytest.fixture
def start_server(binary, tmp_path):
    """Starts a server of its own with extra flags; each is stopped (and must exit 0) when the test ends."""
    started: list[tuple[Server, Api]] = []

    def start(*args: str) -> tuple[Server, Api]:
        instance = Server(binary, tmp_path / f"server{len(started)}", *args).start()
        started.append((instance, Api(instance)))
        return started[-1]

    yield start
    for instance, client in started:
        client.cancel_all()
        _stop(instance)


@pytest.fixture(scope="session")
def linear_dataset(server) -> dict:
    """y = 2·x0 − 3·x1 + 1 without noise, 200 rows, on the shared server."""
    x, y = linear_data(200, seed=1)
    return Api(server).create_dataset(x, y, name="linear-noiseless")


@pytest.fixture(scope="session")
def big_dataset(server) -> dict:
    """2000 noisy rows of 5 features, for jobs meant to run long."""
    rng = np.random.default_rng(7)
    x = rng.normal(size=(2000, 5))
    y = x @ np.array([1.0, -2.0, 0.5, 3.0, -1.0]) + rng.normal(size=2000)
    return Api(server).create_dataset(x, y, name="big")


@pytest.fixture(scope="session")
def labels01(server) -> dict:
    """40 rows whose labels 0/1 suit every model: logistic labels, two softmax classes, poisson counts."""
    rng = np.random.default_rng(3)
    x = rng.normal(size=(40, 2))
    return Api(server).create_dataset(x, (x[:, 0] > 0).astype(float), name="labels01")
