"""The bad-input corpus (tests-e2e/bad-inputs/, issue 8): every request there is sent as raw bytes over a
socket and must be refused with its status and an RFC 9457 problem (naming the field when the case says
which); then the server must still be running and answer a health check and a small upload on a new
connection. The corpus's `accepted.yaml` holds inputs that look hostile but are valid: each must succeed.

One server per flag set of `servers.yaml`, started when a case first needs it and shared by the whole file.
"""

from __future__ import annotations

import json
import re
import select
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from helpers import PROBLEM_TYPE, Server

CORPUS = Path(__file__).resolve().parent / "bad-inputs"
SERVERS: dict[str, list[str]] = yaml.safe_load((CORPUS / "servers.yaml").read_text())
ACCEPTED = "accepted.yaml"

# The data every server gets before its first case: ${DATASET_ID} and ${JOB_ID} (a succeeded job on it).
FIXTURE_DATASET = {"name": "bad-inputs", "features": [[0, 1], [1, 0], [2, 1], [3, 0], [4, 1], [5, 0]],
                   "targets": [0, 1, 0, 1, 1, 0]}
FIXTURE_JOB = {"stopping": {"max_iterations": 5}, "report_every": 1}

CASE_KEYS = {"name", "note", "server", "raw", "method", "path", "headers", "body", "json", "status", "pointer", "line",
             "mentions", "response_headers", "timeout"}


# --------------------------------------------------------------------------------------------- the corpus
@dataclass
class Case:
    source: str
    spec: dict[str, Any]

    @property
    def id(self) -> str:
        return f"{Path(self.source).stem}:{self.spec['name']}"

    @property
    def server(self) -> str:
        return self.spec.get("server", "default")


def load(files: list[Path]) -> list[Case]:
    cases = []
    for path in files:
        entries = yaml.safe_load(path.read_text()) or []
        for entry in entries:
            unknown = set(entry) - CASE_KEYS
            assert not unknown, f"{path.name}: case {entry.get('name')!r} has unknown keys {sorted(unknown)}"
            assert "name" in entry and "status" in entry, f"{path.name}: a case without name or status: {entry}"
            cases.append(Case(path.name, entry))
    ids = [case.id for case in cases]
    duplicates = {i for i in ids if ids.count(i) > 1}
    assert not duplicates, f"case names used twice: {sorted(duplicates)}"
    return cases


def corpus_files(accepted: bool) -> list[Path]:
    files = sorted(p for p in CORPUS.glob("*.yaml") if p.name != "servers.yaml")
    return [p for p in files if (p.name == ACCEPTED) == accepted]


BAD = load(corpus_files(accepted=False))
GOOD = load(corpus_files(accepted=True))


def as_bytes(text: str) -> bytes:
    """Corpus strings are byte strings: each character U+0000…U+00FF is one byte (write UTF-8 as its bytes)."""
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError as error:
        raise AssertionError(f"a corpus string has a character above U+00FF: {text[error.start:error.end]!r}; "
                             "write its UTF-8 bytes as \\xNN escapes") from None


def substitute(text: str, values: dict[str, str]) -> str:
    return re.sub(r"\$\{([A-Z_]+)\}", lambda m: values[m.group(1)], text)


Segment = bytes | float  # bytes to send, or seconds to wait before sending the rest


def segments(value: str | list, values: dict[str, str]) -> list[Segment]:
    """A `raw`, `path` or `body`: a string, or a list of strings, {repeat: STRING, count: N} (STRING N times) and
    {pause: SECONDS} (the sender waits there: a request that arrives slowly)."""
    out: list[Segment] = []
    for piece in [value] if isinstance(value, str) else value:
        if isinstance(piece, dict) and set(piece) == {"pause"}:
            out.append(float(piece["pause"]))
        elif isinstance(piece, dict):
            assert set(piece) == {"repeat", "count"}, f"a piece is a string, {{repeat, count}} or {{pause}}: {piece}"
            out.append(as_bytes(substitute(piece["repeat"], values)) * piece["count"])
        else:
            out.append(as_bytes(substitute(piece, values)))
    return out


def joined(parts: list[Segment]) -> bytes:
    return b"".join(part for part in parts if isinstance(part, bytes))


def substitute_json(document: Any, values: dict[str, str]) -> Any:
    if isinstance(document, str):
        return substitute(document, values)
    if isinstance(document, list):
        return [substitute_json(item, values) for item in document]
    if isinstance(document, dict):
        return {substitute(k, values): substitute_json(v, values) for k, v in document.items()}
    return document


def request_bytes(spec: dict[str, Any], values: dict[str, str]) -> list[Segment]:
    """The exact bytes of a case (with any pauses): `raw` as written, or a request built from method, path,
    headers and a body."""
    if "raw" in spec:
        return segments(spec["raw"], values)
    body: list[Segment] = []
    if "json" in spec:
        body = [json.dumps(substitute_json(spec["json"], values)).encode()]
    elif "body" in spec:
        body = segments(spec["body"], values)
    # A mapping, or a list of [name, value] pairs (for a field sent twice).
    headers = spec.get("headers") or {}
    headers = list(headers.items()) if isinstance(headers, dict) else [tuple(pair) for pair in headers]
    names = {name.lower() for name, _ in headers}
    if "json" in spec and "content-type" not in names:
        headers.append(("Content-Type", "application/json"))
        names.add("content-type")
    path = joined(segments(spec["path"], values)).decode("latin-1")
    lines = [f"{spec.get('method', 'GET')} {path} HTTP/1.1"]
    if "host" not in names:
        lines.append(f"Host: 127.0.0.1:{values['PORT']}")
    for name, value in headers:
        lines.append(f"{name}: {substitute(str(value), values)}")
    if body and "content-length" not in names and "transfer-encoding" not in names:
        lines.append(f"Content-Length: {len(joined(body))}")
    if "connection" not in names:
        lines.append("Connection: close")
    return [as_bytes("\r\n".join(lines) + "\r\n\r\n"), *body]


# --------------------------------------------------------------------------------------------- raw HTTP
@dataclass
class RawResponse:
    status: int
    headers: dict[str, str]
    body: bytes
    raw_head: bytes

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    def __repr__(self) -> str:
        return f"<{self.status} {self.header('content-type')} {self.body[:400]!r}>"


def read_response(connection: socket.socket, deadline: float) -> RawResponse:
    """One response from `connection`: its head, then a body framed by Content-Length or chunked, or by the
    end of the connection."""
    buffer = b""

    def more() -> bytes:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise AssertionError(f"no complete answer in time (the server hangs); received so far: {buffer[:300]!r}")
        connection.settimeout(remaining)
        try:
            return connection.recv(65536)
        except socket.timeout:
            raise AssertionError(f"no complete answer in time (the server hangs); received: {buffer[:300]!r}") from None
        except ConnectionResetError:
            return b""

    while True:
        while b"\r\n\r\n" not in buffer:
            data = more()
            if not data:
                raise AssertionError(f"the connection closed before a complete response head: {buffer[:300]!r}")
            buffer += data
        head, _, rest = buffer.partition(b"\r\n\r\n")
        if not re.match(rb"HTTP/1\.[01] 1\d\d ", head):
            break
        buffer = rest  # an interim response (100 Continue): the final one follows
    lines = head.decode("latin-1").split("\r\n")
    match = re.fullmatch(r"HTTP/1\.[01] (\d{3}) .*", lines[0])
    assert match, f"bad status line {lines[0]!r}"
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        assert colon and name == name.strip(), f"bad response header line {line!r}"
        headers[name.lower()] = value.strip()
    if "content-length" in headers:
        length = int(headers["content-length"])
        while len(rest) < length:
            data = more()
            if not data:
                raise AssertionError(f"body cut short: {len(rest)} of {length} bytes")
            rest += data
        body = rest[:length]
    elif "chunked" in headers.get("transfer-encoding", "").lower():
        def need(enough) -> None:
            nonlocal rest
            while not enough():
                data = more()
                if not data:
                    raise AssertionError(f"chunked body cut short: {rest[:300]!r}")
                rest += data

        body = b""
        while True:
            need(lambda: b"\r\n" in rest)
            size_line, _, rest = rest.partition(b"\r\n")
            size = int(size_line.split(b";")[0], 16)
            need(lambda: len(rest) >= size + 2)
            if size == 0:
                break
            body += rest[:size]
            rest = rest[size + 2:]
    else:
        while data := more():
            rest += data
        body = rest
    return RawResponse(int(match.group(1)), headers, body, head)


def exchange(port: int, request: list[Segment], timeout: float) -> RawResponse:
    deadline = time.monotonic() + timeout
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as connection:
        try:
            for segment in request:
                if isinstance(segment, float):
                    time.sleep(segment)
                    if select.select([connection], [], [], 0)[0]:
                        break  # answered already (a 408): sending more could reset the connection before it is read
                else:
                    connection.sendall(segment)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server may answer and close before it has read everything; its answer is still there
        return read_response(connection, deadline)


# --------------------------------------------------------------------------------------------- servers
class Pool:
    """One server per flag set, started on first use, with the corpus's fixture data."""

    def __init__(self, binary: str, workdir: Path):
        self.binary = binary
        self.workdir = workdir
        self.servers: dict[str, tuple[Server, dict[str, str]]] = {}

    def get(self, name: str) -> tuple[Server, dict[str, str]]:
        if name not in self.servers:
            assert name in SERVERS, f"no flag set {name!r} in servers.yaml"
            server = Server(self.binary, self.workdir / name, *SERVERS[name]).start()
            self.servers[name] = (server, self.prepare(server))
        return self.servers[name]

    def prepare(self, server: Server) -> dict[str, str]:
        dataset = exchange(server.port, request_bytes(
            {"method": "POST", "path": "/v1/datasets", "json": FIXTURE_DATASET}, {"PORT": str(server.port)}), 30)
        assert dataset.status in (200, 201), dataset
        dataset_id = json.loads(dataset.body)["id"]
        job = exchange(server.port, request_bytes(
            {"method": "POST", "path": "/v1/jobs", "json": {"dataset_id": dataset_id, **FIXTURE_JOB}},
            {"PORT": str(server.port)}), 30)
        assert job.status == 202, job
        job_id = json.loads(job.body)["id"]
        finished = exchange(server.port, request_bytes({"path": f"/v1/jobs/{job_id}?wait=30"},
                                                       {"PORT": str(server.port)}), 40)
        assert json.loads(finished.body)["status"] == "succeeded", finished
        return {"PORT": str(server.port), "DATASET_ID": dataset_id, "JOB_ID": job_id}

    def stop_all(self) -> list[str]:
        failures = []
        for name, (server, _) in self.servers.items():
            code = server.stop()
            if code != 0:
                failures.append(f"{name}: exit {code}\n{server.log_tail()}")
        return failures


@pytest.fixture(scope="module")
def pool(binary, tmp_path_factory):
    servers = Pool(binary, tmp_path_factory.mktemp("bad-inputs"))
    yield servers
    failures = servers.stop_all()
    assert not failures, "a server did not stop cleanly after the corpus:\n" + "\n".join(failures)


def assert_still_serving(server: Server, values: dict[str, str], after: str) -> None:
    """The process runs, and a new connection gets a health check and a small valid upload answered."""
    assert server.process.poll() is None, f"descent exited ({server.process.returncode}) after {after}:\n" \
                                          f"{server.log_tail()}"
    health = exchange(server.port, request_bytes({"path": "/healthz"}, values), 10)
    assert health.status == 200 and json.loads(health.body) == {"status": "ok"}, (after, health)
    upload = exchange(server.port, request_bytes(
        {"method": "POST", "path": "/v1/datasets", "json": FIXTURE_DATASET}, values), 10)
    assert upload.status == 200 and json.loads(upload.body)["id"] == values["DATASET_ID"], (after, upload)


def assert_problem_answer(response: RawResponse, spec: dict[str, Any]) -> None:
    status = spec["status"]
    assert response.status == status, f"expected {status}, got {response!r}"
    content_type = (response.header("content-type") or "").split(";")[0].strip().lower()
    assert content_type == PROBLEM_TYPE, f"not a problem: {response!r}"
    try:
        problem = json.loads(response.body)
    except ValueError as error:
        raise AssertionError(f"the problem body is not JSON ({error}): {response!r}") from None
    assert isinstance(problem, dict), response
    assert problem.get("status") == status, f"problem status {problem.get('status')} ≠ {status}: {problem}"
    for key in ("type", "title", "detail"):
        assert isinstance(problem.get(key), str) and problem[key], f"problem without a {key!r}: {problem}"
    errors = problem.get("errors") or []
    if "pointer" in spec:
        pointers = [e.get("pointer") for e in errors]
        assert spec["pointer"] in pointers, f"expected errors[].pointer {spec['pointer']!r}, got {pointers}: {problem}"
    if "line" in spec:
        lines = [e.get("line") for e in errors]
        assert spec["line"] in lines, f"expected errors[].line {spec['line']}, got {lines}: {problem}"
    if "mentions" in spec:
        assert spec["mentions"].lower() in json.dumps(problem, ensure_ascii=False).lower(), \
            f"the problem does not mention {spec['mentions']!r}: {problem}"
    for name, value in (spec.get("response_headers") or {}).items():
        assert value in (response.header(name) or ""), f"{name}: {response.header(name)!r} lacks {value!r}"


# --------------------------------------------------------------------------------------------- the tests
@pytest.mark.parametrize("case", BAD, ids=[case.id for case in BAD])
def test_bad_input_is_refused_and_the_server_stays_up(pool: Pool, case: Case):
    server, values = pool.get(case.server)
    response = exchange(server.port, request_bytes(case.spec, values), case.spec.get("timeout", 10))
    assert_problem_answer(response, case.spec)
    assert_still_serving(server, values, case.id)


@pytest.mark.parametrize("case", GOOD, ids=[case.id for case in GOOD])
def test_hostile_looking_but_valid_input_is_accepted(pool: Pool, case: Case):
    server, values = pool.get(case.server)
    response = exchange(server.port, request_bytes(case.spec, values), case.spec.get("timeout", 10))
    assert response.status == case.spec["status"], f"expected {case.spec['status']}, got {response!r}"
    assert (response.header("content-type") or "").startswith("application/json"), response
    document = json.loads(response.body)
    for key, expected in (case.spec.get("response_headers") or {}).items():
        assert expected in (response.header(key) or ""), (key, response)
    if "mentions" in case.spec:
        assert case.spec["mentions"] in json.dumps(document, ensure_ascii=False), document
    if response.status == 202:  # a job: cancel it, so that it does not hold the worker
        job_id = document["id"]
        exchange(server.port, request_bytes({"method": "POST", "path": f"/v1/jobs/{job_id}/cancel"}, values), 10)
    assert_still_serving(server, values, case.id)


def test_the_corpus_is_large_enough():
    """Issue 8 asks for at least 150 requests refused with a 4xx (the corpus also has a few 501s and 505s)."""
    refused = [case for case in BAD if 400 <= case.spec["status"] < 500]
    assert len(refused) >= 150, len(refused)
