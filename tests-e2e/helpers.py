"""Helpers for the end-to-end suite: a real `descent` process, real curl, raw sockets where curl cannot.

Every request goes through the `curl` executable (`Api.request`), so what is tested is what a user with
curl sees. Python's socket module is used only where curl cannot play the part: 200 concurrent stream
readers in one process, and a client that stops reading.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import io
import json
import os
import re
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import numpy as np

TERMINAL = {"succeeded", "failed", "cancelled"}
STATUSES = {"queued", "running"} | TERMINAL
PROBLEM_TYPE = "application/problem+json"


# --------------------------------------------------------------------------------------------- responses
@dataclass
class Response:
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    elapsed: float = 0.0

    def header(self, name: str) -> str | None:
        """The last value of a header (names compare case-insensitively), or None."""
        values = [v for k, v in self.headers if k.lower() == name.lower()]
        return values[-1] if values else None

    @property
    def content_type(self) -> str:
        return (self.header("Content-Type") or "").split(";")[0].strip().lower()

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")

    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError as error:
            raise AssertionError(f"body is not JSON ({error}): {self.body[:500]!r}") from None

    def __repr__(self) -> str:  # shown by pytest when an assertion about a response fails
        return f"<{self.status} {self.header('Content-Type')} {self.body[:600]!r}>"


def parse_header_block(raw: bytes) -> tuple[int, list[tuple[str, str]]]:
    """The status and headers of the last response head in `raw` (curl -D also writes 100 Continue)."""
    blocks = [b for b in re.split(rb"\r?\n\r?\n", raw) if b.strip()]
    if not blocks:
        raise AssertionError("no response head")
    lines = blocks[-1].decode("latin-1").splitlines()
    match = re.match(r"HTTP/[\d.]+ (\d{3})", lines[0])
    if not match:
        raise AssertionError(f"bad status line {lines[0]!r}")
    headers = []
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers.append((name.strip(), value.strip()))
    return int(match.group(1)), headers


def curl(method: str, url: str, *, body: bytes | None = None, headers: dict[str, str] | None = None,
         timeout: float = 30, stream: bool = False) -> Response:
    """One request with the curl executable. `headers` values of "" remove curl's default for that name.

    stream=True adds -N (no output buffering), as a user following an event stream would."""
    with tempfile.TemporaryDirectory(prefix="e2e-curl-") as scratch:
        head_file = os.path.join(scratch, "head")
        body_file = os.path.join(scratch, "body")
        command = ["curl", "-sS", "--http1.1", "-X", method, "-D", head_file, "-o", body_file,
                   "--max-time", str(timeout), "-w", "%{http_code}"]
        if stream:
            command.append("-N")
        for name, value in (headers or {}).items():
            command += ["-H", f"{name}:" if value == "" else f"{name}: {value}"]
        if body is not None:
            command += ["--data-binary", "@-"]
        command.append(url)
        started = time.monotonic()
        done = subprocess.run(command, input=body if body is not None else b"", capture_output=True,
                              timeout=timeout + 10)
        elapsed = time.monotonic() - started
        if done.returncode != 0:
            raise AssertionError(f"curl {method} {url} failed (exit {done.returncode}): "
                                 f"{done.stderr.decode(errors='replace').strip()}")
        status, response_headers = parse_header_block(Path(head_file).read_bytes())
        return Response(status, response_headers, Path(body_file).read_bytes(), elapsed)


# --------------------------------------------------------------------------------------------- problems
def assert_problem(response: Response, status: int, *pointers: str, any_pointer: Iterable[str] = ()) -> dict:
    """`response` is an RFC 9457 problem with `status`; each of `pointers` is named in `errors[]`, and when
    `any_pointer` is given, at least one of those is."""
    assert response.status == status, response
    assert response.content_type == PROBLEM_TYPE, response
    problem = response.json()
    assert isinstance(problem, dict), response
    for key in ("type", "title", "status", "detail"):
        assert key in problem, f"problem without {key!r}: {problem}"
    assert problem["status"] == status, problem
    assert isinstance(problem["detail"], str) and problem["detail"], problem
    named = [e.get("pointer") for e in problem.get("errors") or []]
    for pointer in pointers:
        assert pointer in named, f"expected errors[].pointer {pointer!r}, got {named}: {problem}"
    choices = list(any_pointer)
    if choices:
        assert any(p in named for p in choices), f"expected a pointer among {choices}, got {named}: {problem}"
    if pointers or choices:
        for error in problem["errors"]:
            assert isinstance(error.get("detail"), str) and error["detail"], problem
    return problem


# --------------------------------------------------------------------------------------------- the server
class Server:
    """A `descent` process on 127.0.0.1 with its own data directory and log file."""

    def __init__(self, binary: str, workdir: Path, *args: str):
        self.binary = binary
        self.workdir = workdir
        self.data_dir = workdir / "data"
        self.log_path = workdir / "server.log"
        self.args = list(args)
        self.process: subprocess.Popen | None = None
        self.port = 0

    def start(self, timeout: float = 30) -> "Server":
        self.workdir.mkdir(parents=True, exist_ok=True)
        # --port 0: the kernel picks a free port and the server logs it, so there is no window in which
        # another process could take a port chosen here first.
        command = [self.binary, "--host", "127.0.0.1", "--port", "0", "--data-dir", str(self.data_dir),
                   *self.args]
        env = dict(os.environ, SWIFT_BACKTRACE="enable=no")
        with open(self.log_path, "wb") as log:
            # The log goes to a file, not a pipe: one access-log line per request would fill a pipe.
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env,
                                            stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while not self.port:
            if self.process.poll() is not None:
                raise AssertionError(f"descent exited with {self.process.returncode} at start:\n{self.log_tail()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"descent did not log its address in {timeout}s:\n{self.log_tail()}")
            match = re.search(r'"msg":"listening".*?"address":"[^"]*:(\d+)"', self.log_path.read_text())
            if match:
                self.port = int(match.group(1))
            else:
                time.sleep(0.02)
        while True:
            try:
                if curl("GET", self.url("/readyz"), timeout=5).status == 200:
                    return self
            except AssertionError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"descent never became ready:\n{self.log_tail()}")
            time.sleep(0.05)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def rss_bytes(self) -> int:
        """Resident set size of the server process (VmRSS of /proc/<pid>/status)."""
        status = Path(f"/proc/{self.pid}/status").read_text()
        kib = int(re.search(r"^VmRSS:\s+(\d+) kB", status, re.M).group(1))
        return kib * 1024

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def stop(self, timeout: float = 30) -> int:
        """SIGTERM, wait, and return the exit code (killing it if it does not stop in `timeout`)."""
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
                raise AssertionError(f"descent did not stop within {timeout}s of SIGTERM:\n{self.log_tail()}")
        return self.process.returncode


# --------------------------------------------------------------------------------------------- the API
class Api:
    """The service's endpoints, through curl. Jobs it submits are remembered so that a test's teardown can
    cancel whatever it left running."""

    def __init__(self, server: Server):
        self.server = server
        self.submitted: list[str] = []

    def request(self, method: str, path: str, **kwargs) -> Response:
        return curl(method, self.server.url(path), **kwargs)

    def get(self, path: str, **kwargs) -> Response:
        return self.request("GET", path, **kwargs)

    def post_json(self, path: str, document: Any, headers: dict[str, str] | None = None, **kwargs) -> Response:
        body = document if isinstance(document, bytes) else json.dumps(document).encode()
        return self.request("POST", path, body=body,
                            headers={"Content-Type": "application/json", **(headers or {})}, **kwargs)

    def upload(self, body: bytes, content_type: str, query: str = "") -> Response:
        return self.request("POST", "/v1/datasets" + query, body=body, headers={"Content-Type": content_type})

    def create_dataset(self, features, targets, **extra) -> dict:
        """Uploads a JSON dataset; returns the resource (201 for new content, 200 for content seen before)."""
        document = {"features": np.asarray(features, dtype=float).tolist(),
                    "targets": np.asarray(targets, dtype=float).tolist(), **extra}
        response = self.post_json("/v1/datasets", document)
        assert response.status in (200, 201), response
        return response.json()

    def submit(self, spec: dict, headers: dict[str, str] | None = None) -> Response:
        response = self.post_json("/v1/jobs", spec, headers=headers)
        if response.status == 202:
            self.submitted.append(response.json()["id"])
        return response

    def submit_ok(self, spec: dict) -> dict:
        response = self.submit(spec)
        assert response.status == 202, response
        return response.json()

    def job(self, job_id: str, wait: float | None = None) -> dict:
        path = f"/v1/jobs/{job_id}" + (f"?wait={wait}" if wait is not None else "")
        response = self.get(path, timeout=(wait or 0) + 30)
        assert response.status == 200, response
        return response.json()

    def wait_for(self, job_id: str, timeout: float = 120) -> dict:
        """Polls with ?wait=10 until the job ends."""
        deadline = time.monotonic() + timeout
        while True:
            job = self.job(job_id, wait=10)
            if job["status"] in TERMINAL:
                return job
            if time.monotonic() > deadline:
                raise AssertionError(f"job {job_id} still {job['status']} after {timeout}s: {job.get('progress')}")

    def wait_until_running(self, job_id: str, timeout: float = 30) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            job = self.job(job_id)
            if job["status"] != "queued":
                return job
            if time.monotonic() > deadline:
                raise AssertionError(f"job {job_id} still queued after {timeout}s")
            time.sleep(0.02)

    def cancel_all(self) -> None:
        """Cancels every job this Api submitted that has not ended (teardown; errors ignored)."""
        for job_id in self.submitted:
            try:
                self.request("POST", f"/v1/jobs/{job_id}/cancel", timeout=10)
            except AssertionError:
                pass
        for job_id in self.submitted:
            try:
                self.get(f"/v1/jobs/{job_id}?wait=10", timeout=20)
            except AssertionError:
                pass


# --------------------------------------------------------------------------------------------- datasets
def linear_data(n: int = 200, seed: int = 1, noise: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """x ~ N(0, 1) in 2 columns, y = 2·x0 − 3·x1 + 1 (+ noise)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 2))
    y = 2 * x[:, 0] - 3 * x[:, 1] + 1 + noise * rng.normal(size=n)
    return x, y


def logistic_data(n: int = 200, seed: int = 2, labels: tuple[int, int] = (0, 1)) -> tuple[np.ndarray, np.ndarray]:
    """Two overlapping classes, so that the logistic fit is finite."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 2))
    p = 1 / (1 + np.exp(-(1.5 * x[:, 0] - x[:, 1] + 0.3)))
    y = np.where(rng.random(n) < p, labels[1], labels[0])
    return x, y.astype(float)


def npy_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def parse_time(text: str) -> _dt.datetime:
    """An RFC 3339 UTC time (Z or +00:00)."""
    assert isinstance(text, str) and re.fullmatch(
        r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]00:00)", text), f"not RFC 3339 UTC: {text!r}"
    return _dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


# --------------------------------------------------------------------------------------------- streams
@dataclass
class Event:
    event: str
    data: Any
    id: str | None = None


def parse_sse(text: str) -> tuple[list[Event], int]:
    """The events of an SSE body (HTML living standard, 9.2.6) and the number of comment lines."""
    events: list[Event] = []
    comments = 0
    event_type, data_lines, event_id = "", [], None
    for line in re.split(r"\r\n|\r|\n", text):
        if line == "":
            if data_lines:
                data = "\n".join(data_lines)
                try:
                    parsed = json.loads(data)
                except ValueError:
                    parsed = data
                events.append(Event(event_type or "message", parsed, event_id))
            event_type, data_lines, event_id = "", [], None
            continue
        if line.startswith(":"):
            comments += 1
            continue
        name, colon, value = line.partition(":")
        if colon and value.startswith(" "):
            value = value[1:]
        if name == "event":
            event_type = value
        elif name == "data":
            data_lines.append(value)
        elif name == "id":
            event_id = value
    return events, comments


def parse_ndjson(text: str) -> list[Event]:
    events = []
    for line in text.splitlines():
        if not line.strip():
            continue
        document = json.loads(line)
        assert isinstance(document, dict) and "event" in document, line
        assert next(iter(document)) == "event", f"'event' is not the first field: {line}"
        kind = document.pop("event")
        events.append(Event(kind, document))
    return events


def assert_stream_shape(events: list[Event], job_id: str, after: int = 0, sse: bool = True) -> list[dict]:
    """The order the decisions doc fixes: a first status event, progress with iteration > after in
    increasing order, status changes, and a last result; returns the progress objects."""
    assert events, "empty stream"
    assert events[0].event == "status", [e.event for e in events[:3]]
    assert events[-1].event == "result", [e.event for e in events[-3:]]
    assert all(e.event in ("status", "progress", "result") for e in events), {e.event for e in events}
    assert [e.event for e in events].count("result") == 1
    order = ["queued", "running", "succeeded"]
    seen = []
    progress = []
    for e in events:
        if e.event == "status":
            assert e.data["id"] == job_id and e.data["status"] in STATUSES, e.data
            seen.append(e.data["status"])
            if sse:
                assert e.id is None, f"status event with an id line: {e}"
        elif e.event == "progress":
            progress.append(e.data)
            if sse:
                assert e.id == str(e.data["iteration"]), f"id line {e.id!r} vs iteration {e.data['iteration']}"
    ranks = [order.index(s) if s in order else 3 for s in seen]
    assert ranks == sorted(ranks), f"status events out of order: {seen}"
    iterations = [p["iteration"] for p in progress]
    assert iterations == sorted(set(iterations)), f"progress iterations not strictly increasing: {iterations[:20]}"
    assert all(i > after for i in iterations), f"iterations <= {after} after resuming: {iterations[:5]}"
    result = events[-1].data
    assert result["id"] == job_id and result["status"] in TERMINAL, result
    return progress


# --------------------------------------------------------------------------------------------- raw sockets
def raw_request(port: int, request: bytes, timeout: float = 60) -> tuple[int, dict[str, str], bytes]:
    """Sends `request` on a new connection and reads until the server closes it; decodes a chunked body."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as connection:
        connection.sendall(request)
        chunks = []
        while True:
            data = connection.recv(65536)
            if not data:
                break
            chunks.append(data)
    raw = b"".join(chunks)
    head, separator, rest = raw.partition(b"\r\n\r\n")
    assert separator, f"no end of head in {raw[:200]!r}"
    status, header_list = parse_header_block(head + b"\r\n\r\n")
    headers = {k.lower(): v for k, v in header_list}
    if "chunked" in headers.get("transfer-encoding", "").lower():
        body = bytearray()
        while True:
            size_line, _, rest = rest.partition(b"\r\n")
            size = int(size_line.split(b";")[0], 16)
            if size == 0:
                break
            body += rest[:size]
            assert rest[size:size + 2] == b"\r\n", "chunk not followed by CRLF"
            rest = rest[size + 2:]
        return status, headers, bytes(body)
    return status, headers, rest


def get_request(path: str, port: int, headers: dict[str, str] | None = None) -> bytes:
    lines = [f"GET {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Connection: close"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


# --------------------------------------------------------------------------------------------- specs
def long_spec(dataset_id: str, **overrides) -> dict:
    """A job that would run for a very long time: 10^6 iterations, a step too small to converge, and no
    tolerance that could stop it early."""
    spec = {"dataset_id": dataset_id,
            "optimizer": {"method": "gd", "learning_rate": 1e-6},
            "stopping": {"max_iterations": 1_000_000, "weight_tolerance": 0, "max_seconds": 3600},
            "report_every": 100}
    spec.update(overrides)
    return spec


@dataclass
class Timer:
    started: float = field(default_factory=time.monotonic)

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started


# --------------------------------------------------------------------------------------------- metrics
def parse_metrics(text: str) -> tuple[dict[str, str], list[tuple[str, dict[str, str], float]]]:
    """Prometheus text format 0.0.4: the # TYPE of each family, and every sample (name, labels, value)."""
    types: dict[str, str] = {}
    samples = []
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(None, 3)
            types[name] = kind.strip()
        elif line and not line.startswith("#"):
            match = re.fullmatch(r'([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)(\s+-?\d+)?', line)
            assert match, f"not a sample line: {line!r}"
            labels = dict(re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"', match.group(3) or ""))
            samples.append((match.group(1), labels, float(match.group(4))))
    return types, samples


def metric_value(text: str, name: str, **labels: str) -> float | None:
    """The value of the sample `name` whose labels include `labels` (summed over the other labels)."""
    _, samples = parse_metrics(text)
    values = [v for n, l, v in samples if n == name and all(l.get(k) == x for k, x in labels.items())]
    return sum(values) if values else None


# --------------------------------------------------------------------------------------------- curl streams
def curl_stream(url: str, headers: dict[str, str] | None = None, timeout: float = 120
                ) -> tuple[int, list[tuple[str, str]], list[tuple[float, str]]]:
    """`curl -N` on a stream: the status, the headers, and each body line with the time it arrived."""
    with tempfile.TemporaryDirectory(prefix="e2e-curl-") as scratch:
        head_file = os.path.join(scratch, "head")
        command = ["curl", "-sS", "-N", "--http1.1", "-D", head_file, "--max-time", str(timeout)]
        for name, value in (headers or {}).items():
            command += ["-H", f"{name}: {value}"]
        command.append(url)
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        lines = []
        assert process.stdout is not None
        for raw in process.stdout:
            lines.append((time.monotonic(), raw.decode("utf-8").rstrip("\n")))
        stderr = process.stderr.read().decode(errors="replace") if process.stderr else ""
        code = process.wait()
        if code != 0:
            raise AssertionError(f"curl -N {url} failed (exit {code}): {stderr.strip()}")
        status, response_headers = parse_header_block(Path(head_file).read_bytes())
        return status, response_headers, lines
