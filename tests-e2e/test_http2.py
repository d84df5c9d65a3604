"""HTTP/2 (h2c) with real clients against the real binary: curl with prior knowledge and with the HTTP/1.1
`Upgrade: h2c` path, nghttp with 100 streams on one connection, Python's `h2` for a progress stream that
shares its connection with other requests and for a reader with a tiny flow-control window, and graceful
shutdown with GOAWAY (h2client.py, frame by frame).

Every endpoint kind must answer over HTTP/2 exactly as over HTTP/1.1: the status, the content type and the
body. The RFC 9113 error cases are in test_http2_conformance.py.
"""

from __future__ import annotations

import json
import os
import re
import select
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest
from h2.config import H2Configuration
from h2.connection import H2Connection
from h2.events import (ConnectionTerminated, DataReceived, ResponseReceived, SettingsAcknowledged, StreamEnded,
                       StreamReset, TrailersReceived)
from h2.settings import SettingCodes, Settings
from hyperframe.frame import GoAwayFrame

from h2client import NO_ERROR, FrameClient, error_name
from helpers import (Api, Response, assert_problem, assert_stream_shape, curl, long_spec, parse_header_block,
                     parse_sse, sha256)

MODES = {"prior-knowledge": "--http2-prior-knowledge", "upgrade": "--http2"}


# --------------------------------------------------------------------------------------------- curl over h2
def curl_h2(mode: str, method: str, url: str, *, body: bytes | None = None, headers: dict[str, str] | None = None,
            timeout: float = 60, stream: bool = False) -> Response:
    """helpers.curl, over HTTP/2: `mode` is prior-knowledge or upgrade. curl must report HTTP version 2."""
    with tempfile.TemporaryDirectory(prefix="e2e-curl-") as scratch:
        head_file = os.path.join(scratch, "head")
        body_file = os.path.join(scratch, "body")
        command = ["curl", "-sS", MODES[mode], "-X", method, "-D", head_file, "-o", body_file,
                   "--max-time", str(timeout), "-w", "%{http_version}"]
        if stream:
            command.append("-N")
        for name, value in (headers or {}).items():
            command += ["-H", f"{name}: {value}"]
        if body is not None:
            command += ["--data-binary", "@-"]
        command.append(url)
        done = subprocess.run(command, input=body if body is not None else b"", capture_output=True,
                              timeout=timeout + 10)
        if done.returncode != 0:
            raise AssertionError(f"curl {MODES[mode]} {method} {url} failed (exit {done.returncode}): "
                                 f"{done.stderr.decode(errors='replace').strip()}")
        version = done.stdout.decode().strip()
        status, response_headers = parse_header_block(Path(head_file).read_bytes())
        response = Response(status, response_headers, Path(body_file).read_bytes())
        response.http_version = version
        return response


def h2_ok(mode: str, method: str, url: str, **kwargs) -> Response:
    response = curl_h2(mode, method, url, **kwargs)
    assert response.http_version == "2", f"curl {MODES[mode]} spoke HTTP/{response.http_version}: {response}"
    return response


def assert_same_answer(h2: Response, h1: Response, *, same_body: bool = True) -> None:
    assert h2.status == h1.status, (h2, h1)
    assert h2.content_type == h1.content_type, (h2.header("Content-Type"), h1.header("Content-Type"))
    assert h2.header("X-Request-Id"), h2.headers
    if same_body:
        assert h2.body == h1.body, (h2, h1)


@pytest.mark.parametrize("mode", MODES)
def test_json_endpoints_answer_as_over_http1(server, linear_dataset, mode):
    # /openapi.yaml is ~90 KB: more than the first flow-control window, and more than curl 7.88 can hold
    # when it arrives right behind the 101 of an upgrade.
    for path in ("/healthz", "/v1/datasets", f"/v1/datasets/{linear_dataset['id']}", "/v1/datasets/ds_nope",
                 "/openapi.yaml"):
        h2 = h2_ok(mode, "GET", server.url(path))
        h1 = curl("GET", server.url(path))
        assert_same_answer(h2, h1)
    assert h2_ok(mode, "GET", server.url("/healthz")).json() == {"status": "ok"}
    problem = h2_ok(mode, "GET", server.url("/v1/datasets/ds_nope"))
    assert_problem(problem, 404)
    echoed = h2_ok(mode, "GET", server.url("/healthz"), headers={"X-Request-Id": "h2-trace-7"})
    assert echoed.header("X-Request-Id") == "h2-trace-7", echoed.headers


def test_a_large_response_right_after_the_upgrade_reaches_curl(server):
    """Debian 12's curl (7.88) can hold only 32 KiB of HTTP/2 data that arrives together with the 101 of an
    `Upgrade: h2c` (otherwise: "curl: (16) connection buffer size is too small to store data following HTTP
    Upgrade response header"). /openapi.yaml (~90 KB) over the upgrade, ten times since it depends on
    timing: every one must arrive whole."""
    expected = curl("GET", server.url("/openapi.yaml"))
    assert expected.status == 200 and len(expected.body) > 65536, expected
    for _ in range(10):
        response = h2_ok("upgrade", "GET", server.url("/openapi.yaml"))
        assert_same_answer(response, expected)


@pytest.mark.parametrize("mode", MODES)
def test_a_json_upload_over_h2_creates_the_dataset(server, mode):
    rng = np.random.default_rng(600 + len(mode))
    x = np.round(rng.normal(size=(8, 3)), 6)
    body = json.dumps({"name": f"h2-{mode}", "features": x.tolist(),
                       "targets": (x @ [1.0, 2.0, -1.0]).tolist()}).encode()
    created = h2_ok(mode, "POST", server.url("/v1/datasets"), body=body, headers={"Content-Type": "application/json"})
    assert created.status == 201, created
    assert created.content_type == "application/json", created
    resource = created.json()
    assert created.header("Location") == f"/v1/datasets/{resource['id']}", created.headers
    assert resource["rows"] == 8 and resource["columns"] == 3 and resource["name"] == f"h2-{mode}", resource
    assert resource["sha256"] == sha256(body) and resource["bytes"] == len(body), resource
    # The same bytes over HTTP/1.1 are the same dataset, and it reads back the same over both protocols.
    again = curl("POST", server.url("/v1/datasets"), body=body, headers={"Content-Type": "application/json"})
    assert again.status == 200 and again.json() == resource, again
    assert_same_answer(h2_ok(mode, "GET", server.url(f"/v1/datasets/{resource['id']}")),
                       curl("GET", server.url(f"/v1/datasets/{resource['id']}")))
    # A bad body is the same problem over both.
    bad = b'{"features": [[1, 2], [3]], "targets": [1, 2]}'
    h2 = h2_ok(mode, "POST", server.url("/v1/datasets"), body=bad, headers={"Content-Type": "application/json"})
    h1 = curl("POST", server.url("/v1/datasets"), body=bad, headers={"Content-Type": "application/json"})
    assert_problem(h2, 400)
    assert h2.json()["errors"] == h1.json()["errors"], (h2, h1)


CSV_ROWS = 60_000


@pytest.mark.parametrize("mode", MODES)
def test_a_csv_upload_of_a_few_megabytes_over_h2(server, mode):
    """~3.5 MB of CSV: many DATA frames, more than the initial flow-control windows."""
    rng = np.random.default_rng(700 + len(mode))
    x = rng.normal(size=(CSV_ROWS, 5))
    y = x @ [1.0, -2.0, 0.5, 3.0, -1.0]
    lines = ["a,b,c,d,e,y"] + [",".join(f"{v:.9f}" for v in row) for row in np.column_stack([x, y])]
    body = ("\n".join(lines) + "\n").encode()
    assert len(body) > 3_000_000
    created = h2_ok(mode, "POST", server.url(f"/v1/datasets?name=h2-csv-{mode}"), body=body,
                    headers={"Content-Type": "text/csv"}, timeout=120)
    assert created.status == 201, created
    resource = created.json()
    assert resource["rows"] == CSV_ROWS and resource["columns"] == 5, resource
    assert resource["feature_names"] == ["a", "b", "c", "d", "e"], resource
    assert resource["bytes"] == len(body) and resource["sha256"] == sha256(body), \
        "the body arrived changed (a DATA frame lost, repeated or reordered)"


def tiny_job_spec(dataset_id: str, iterations: int = 200) -> dict:
    return {"dataset_id": dataset_id, "optimizer": {"method": "gd", "learning_rate": 0.05},
            "stopping": {"max_iterations": iterations, "weight_tolerance": 0}, "report_every": 10}


@pytest.mark.parametrize("mode", MODES)
def test_a_job_submitted_and_awaited_over_h2(server, api: Api, linear_dataset, mode):
    spec = json.dumps(tiny_job_spec(linear_dataset["id"])).encode()
    submitted = h2_ok(mode, "POST", server.url("/v1/jobs"), body=spec, headers={"Content-Type": "application/json"})
    assert submitted.status == 202 and submitted.content_type == "application/json", submitted
    job = submitted.json()
    api.submitted.append(job["id"])
    assert submitted.header("Location") == f"/v1/jobs/{job['id']}", submitted.headers
    waited = h2_ok(mode, "GET", server.url(f"/v1/jobs/{job['id']}?wait=30"), timeout=60)
    assert waited.status == 200, waited
    assert waited.json()["status"] == "succeeded" and waited.json()["result"]["iterations"] == 200, waited
    assert_same_answer(waited, curl("GET", server.url(f"/v1/jobs/{job['id']}")))
    # A validation failure is the same problem, with the same pointers.
    bad = json.dumps({"dataset_id": linear_dataset["id"], "optimizer": {"lerning_rate": 1}}).encode()
    h2 = h2_ok(mode, "POST", server.url("/v1/jobs"), body=bad, headers={"Content-Type": "application/json"})
    assert_problem(h2, 400, "/optimizer/lerning_rate")
    h1 = curl("POST", server.url("/v1/jobs"), body=bad, headers={"Content-Type": "application/json"})
    assert h2.json()["errors"] == h1.json()["errors"]


@pytest.mark.parametrize("mode", MODES)
def test_an_sse_stream_over_h2_follows_the_job_to_its_result(server, api: Api, big_dataset, mode):
    job = api.submit_ok({"dataset_id": big_dataset["id"], "optimizer": {"method": "gd", "learning_rate": 1e-4},
                         "stopping": {"max_iterations": 2000, "weight_tolerance": 0}, "report_every": 10})
    live = h2_ok(mode, "GET", server.url(f"/v1/jobs/{job['id']}/events"), headers={"Accept": "text/event-stream"},
                 stream=True, timeout=120)
    assert live.status == 200 and live.content_type == "text/event-stream", live
    events, _ = parse_sse(live.text)
    progress = assert_stream_shape(events, job["id"])
    assert [p["iteration"] for p in progress] == list(range(10, 2001, 10))
    assert events[-1].event == "result" and events[-1].data["status"] == "succeeded", events[-1]
    # Replayed after the end, the stream is the same over both protocols, byte for byte.
    path = f"/v1/jobs/{job['id']}/events"
    replay_h2 = h2_ok(mode, "GET", server.url(path), headers={"Accept": "text/event-stream"}, stream=True)
    replay_h1 = curl("GET", server.url(path), headers={"Accept": "text/event-stream"}, stream=True)
    assert_same_answer(replay_h2, replay_h1)
    assert [e.data for e in parse_sse(replay_h2.text)[0] if e.event == "progress"] == progress
    # NDJSON too.
    ndjson = h2_ok(mode, "GET", server.url(path), headers={"Accept": "application/x-ndjson"}, stream=True)
    assert_same_answer(ndjson, curl("GET", server.url(path), headers={"Accept": "application/x-ndjson"}, stream=True))


def test_an_upload_over_the_body_limit_is_413_over_h2(start_server):
    server, _ = start_server("--max-body-bytes", "1000")
    body = b"x,y\n" + b"1,2\n" * 1250  # 5004 bytes
    big = b"x,y\n" + b"1,2\n" * 250_000  # 1 MB
    # Each a few times: the server may answer before the upload ends, and then the client must still get the
    # whole 413 (RFC 9113 §8.1 lets the server reset the rest of the request with NO_ERROR after it).
    for mode in MODES:
        for payload in (body, big) * 3:
            response = curl_h2(mode, "POST", server.url("/v1/datasets"), body=payload,
                               headers={"Content-Type": "text/csv"})
            assert_problem(response, 413)
    # Without a content-length (HTTP/2 needs none): the limit applies to the DATA frames themselves.
    with FrameClient(server.port) as client:
        client.handshake()
        stream = client.new_stream_id()
        client.send_headers(stream, client.request_headers("POST", "/v1/datasets", [("content-type", "text/csv")]),
                            end_stream=False)
        for start in range(0, len(body), 1000):
            client.send_data(stream, body[start:start + 1000], end_stream=start + 1000 >= len(body))
        response = client.response(stream, timeout=10)
        assert_problem(response, 413)
        # A stream error at most: the connection goes on.
        assert client.get("/healthz").status == 200
        # Within the limit, over the same connection, it is created.
        small = client.response(client.request("POST", "/v1/datasets?name=small", [("content-type", "text/csv")],
                                               body=b"x,y\n1,2\n2,4\n3,7\n"))
        assert small.status in (200, 201), small


# --------------------------------------------------------------------------------------------- nghttp
STATS_LINE = re.compile(r"^\s*(\d+)\s+\+\S+\s+\+\S+\s+\S+\s+(\d{3})\s+(\S+)\s+(\S+)\s*$")  # size may be "88K"


def nghttp(*args: str, timeout: float = 60) -> tuple[list[tuple[int, int, str]], int]:
    """Runs `nghttp -n -s -v ARGS`: (stream id, status, path) of every completed request, and how many requests
    it had sent before the first response began (how many were in flight at once)."""
    done = subprocess.run(["nghttp", "-n", "-s", "-v", *args], capture_output=True, timeout=timeout)
    output = done.stdout.decode(errors="replace")
    assert done.returncode == 0, f"nghttp exited {done.returncode}: {done.stderr.decode(errors='replace')[-2000:]}"
    rows = [(int(m.group(1)), int(m.group(2)), m.group(4)) for m in map(STATS_LINE.match, output.splitlines()) if m]
    sent = 0
    for line in output.splitlines():
        if "send HEADERS frame" in line:
            sent += 1
        elif "recv HEADERS frame" in line or re.search(r"recv \(stream_id=\d+\) :status", line):
            break
    return rows, sent


def test_nghttp_fetches_100_uris_at_once_on_one_connection(server, api: Api, linear_dataset):
    job = api.wait_for(api.submit_ok(tiny_job_spec(linear_dataset["id"], 50))["id"])
    fixed = ["/healthz", "/readyz", "/openapi.yaml", f"/v1/datasets/{linear_dataset['id']}",
             f"/v1/jobs/{job['id']}", f"/v1/jobs/{job['id']}/history", f"/v1/jobs/{job['id']}/trajectory",
             f"/v1/jobs/{job['id']}/events"]
    paths = fixed + [f"/v1/datasets?limit={i}" for i in range(1, 47)] + [f"/v1/jobs?limit={i}" for i in range(1, 47)]
    assert len(set(paths)) == 100  # nghttp fetches a repeated URI once
    rows, in_flight = nghttp(*(server.url(p) for p in paths))
    assert len(rows) == 100, f"{len(rows)} of 100 requests completed: {rows}"
    assert sorted(p for _, _, p in rows) == sorted(paths)
    bad = [(s, code, p) for s, code, p in rows if code != 200]
    assert not bad, f"not 200: {bad}"
    assert in_flight >= 100, f"only {in_flight} requests were sent before the first response: not multiplexed"


def test_nghttp_repeats_one_uri_100_times_on_one_connection(server):
    rows, in_flight = nghttp("-m", "100", server.url("/healthz"))
    assert len(rows) == 100 and all(code == 200 for _, code, _ in rows), rows
    assert len({stream for stream, _, _ in rows}) == 100
    assert in_flight >= 100, in_flight


# --------------------------------------------------------------------------------------------- Python h2
class H2Session:
    """A client connection made with Python's h2 over a plain socket; what arrives is kept per stream."""

    def __init__(self, port: int, *, initial_window: int | None = None, auto_window: bool = True):
        self.port = port
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.conn = H2Connection(H2Configuration(client_side=True, header_encoding="utf-8"))
        if initial_window is not None:
            self.conn.local_settings = Settings(client=True,
                                                initial_values={SettingCodes.INITIAL_WINDOW_SIZE: initial_window})
        self.auto_window = auto_window
        self.status: dict[int, int] = {}
        self.headers: dict[int, list[tuple[str, str]]] = {}
        self.bodies: dict[int, bytearray] = {}
        self.ended: set[int] = set()
        self.resets: dict[int, int] = {}
        self.terminated: ConnectionTerminated | None = None
        self.settings_acked = False
        self.eof = False
        self.conn.initiate_connection()
        self.flush()

    def close(self) -> None:
        self.sock.close()

    def flush(self) -> None:
        data = self.conn.data_to_send()
        if data:
            self.sock.sendall(data)

    def request(self, method: str, path: str, headers: list[tuple[str, str]] | None = None,
                body: bytes | None = None) -> int:
        stream = self.conn.get_next_available_stream_id()
        self.conn.send_headers(stream, [(":method", method), (":scheme", "http"), (":path", path),
                                        (":authority", f"127.0.0.1:{self.port}"), *(headers or [])],
                               end_stream=body is None)
        if body is not None:
            self.conn.send_data(stream, body, end_stream=True)
        self.bodies[stream] = bytearray()
        self.flush()
        return stream

    def pump(self, timeout: float) -> bool:
        """Reads what has arrived within `timeout`; False when nothing did."""
        ready, _, _ = select.select([self.sock], [], [], timeout)
        if not ready:
            return False
        data = self.sock.recv(1 << 16)
        if not data:
            self.eof = True
            return False
        for event in self.conn.receive_data(data):
            if isinstance(event, ResponseReceived):
                self.status[event.stream_id] = int(dict(event.headers)[":status"])
                self.headers[event.stream_id] = [(k, v) for k, v in event.headers if not k.startswith(":")]
            elif isinstance(event, TrailersReceived):
                self.headers[event.stream_id] += list(event.headers)
            elif isinstance(event, DataReceived):
                self.bodies.setdefault(event.stream_id, bytearray()).extend(event.data)
                if self.auto_window:
                    self.conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
            elif isinstance(event, StreamEnded):
                self.ended.add(event.stream_id)
            elif isinstance(event, StreamReset):
                self.resets[event.stream_id] = event.error_code
            elif isinstance(event, ConnectionTerminated):
                self.terminated = event
            elif isinstance(event, SettingsAcknowledged):
                self.settings_acked = True
        self.flush()
        return True

    def until(self, condition, timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            assert not self.eof, f"the connection closed before {what}"
            assert time.monotonic() < deadline, f"no {what} in {timeout} s"
            self.pump(min(0.1, max(0.0, deadline - time.monotonic())))

    def response(self, stream: int) -> Response:
        return Response(self.status[stream], self.headers.get(stream, []), bytes(self.bodies[stream]))


def test_a_progress_stream_runs_while_other_requests_share_its_connection(server, api: Api, big_dataset,
                                                                          linear_dataset):
    """One h2 connection: the SSE stream of a running job, and meanwhile 20 requests on other streams,
    all answered while the stream goes on; then the job is cancelled over the same connection and the
    stream ends with its result."""
    job = api.submit_ok(long_spec(big_dataset["id"], report_every=20))
    session = H2Session(server.port)
    try:
        events = session.request("GET", f"/v1/jobs/{job['id']}/events", [("accept", "text/event-stream")])

        def progress_count() -> int:
            return bytes(session.bodies[events]).count(b"event: progress")

        session.until(lambda: progress_count() >= 1, 60, "progress event on the stream")
        assert session.status[events] == 200
        assert dict(session.headers[events])["content-type"].split(";")[0] == "text/event-stream"
        before = progress_count()

        paths = ["/healthz", f"/v1/jobs/{job['id']}", "/v1/datasets", f"/v1/datasets/{linear_dataset['id']}",
                 "/metrics"] * 4
        streams = [session.request("GET", path) for path in paths]
        session.until(lambda: all(s in session.ended for s in streams), 30, "answer to all 20 requests")
        assert events not in session.ended, "the progress stream ended before the other requests were answered"
        for stream, path in zip(streams, paths):
            assert session.status[stream] == 200, (path, session.response(stream))
        running = json.loads(session.response(streams[1]).body)
        assert running["status"] == "running", running["status"]
        # The stream went on meanwhile and goes on after.
        during = progress_count()
        session.until(lambda: progress_count() > during, 30, "progress after the other requests")
        assert progress_count() > before

        cancel = session.request("POST", f"/v1/jobs/{job['id']}/cancel")
        session.until(lambda: cancel in session.ended, 30, "answer to the cancel")
        assert session.status[cancel] == 202, session.response(cancel)
        session.until(lambda: events in session.ended, 30, "end of the progress stream")
        assert events not in session.resets, f"the stream was reset ({session.resets[events]}) instead of ending"
        parsed, _ = parse_sse(bytes(session.bodies[events]).decode())
        assert_stream_shape(parsed, job["id"])
        assert parsed[-1].data["status"] == "cancelled", parsed[-1].data["status"]
        assert session.terminated is None, session.terminated
    finally:
        session.close()


# --------------------------------------------------------------------------------------------- flow control
FLOW_ITERATIONS = 100_000
FLOW_STREAMS = 8
FLOW_RSS_BOUND = 20 * 1024 * 1024
FLOW_SECONDS = 3.0
FLOW_TICK = 0.05
FLOW_STEP = 4096


def test_a_reader_with_a_tiny_window_does_not_grow_the_server(start_server):
    """Slow: about 7 s. A finished job of 100 000 reported iterations (its SSE replay is ~25 MB) is
    replayed on 8 streams of one connection whose SETTINGS_INITIAL_WINDOW_SIZE is 16 bytes; for 3 s the
    client opens each stream's window by 4 KiB every 50 ms once the server has filled it (the connection
    window only by what it consumed), so each stream moves at ~80 KB/s, a few of the server's pieces. The
    server must hold at most about a piece of each stream, not the ~200 MB the streams add up to: its RSS
    may grow by at most 20 MB. It must not overrun the windows (h2 raises FlowControlError), it must resume
    each stream as its window opens, and it answers a request on the same connection meanwhile."""
    server, api = start_server("--workers", "1")
    rng = np.random.default_rng(90)
    x = rng.normal(size=(20, 2))
    dataset = api.create_dataset(x, x @ [1.0, 2.0] + rng.normal(size=20))
    job = api.submit_ok({"dataset_id": dataset["id"], "optimizer": {"method": "gd", "learning_rate": 1e-7},
                         "stopping": {"max_iterations": FLOW_ITERATIONS, "weight_tolerance": 0}, "report_every": 1})
    done = api.wait_for(job["id"], timeout=100)
    assert done["status"] == "succeeded", done["status"]
    tail = api.get(f"/v1/jobs/{job['id']}/events?after={FLOW_ITERATIONS - 100}").text.split("\n\n")
    per_event = sum(len(block) + 2 for block in tail if "event: progress" in block) / 100
    stream_bytes = FLOW_ITERATIONS * per_event
    assert FLOW_STREAMS * stream_bytes > 5 * FLOW_RSS_BOUND, "the streams would fit in the bound: it proves little"

    session = H2Session(server.port, initial_window=16, auto_window=False)
    try:
        session.until(lambda: session.settings_acked, 5, "ACK of the client's SETTINGS")
        time.sleep(0.3)
        baseline = server.rss_bytes()
        streams = [session.request("GET", f"/v1/jobs/{job['id']}/events", [("accept", "text/event-stream")])
                   for _ in range(FLOW_STREAMS)]
        peak = baseline
        given = {s: 16 for s in streams}  # flow-control credit given to each stream so far
        probe = None
        started = time.monotonic()
        next_tick = started
        while time.monotonic() - started < FLOW_SECONDS:
            session.pump(max(0.0, next_tick - time.monotonic()))
            if time.monotonic() < next_tick:
                continue
            # Every 50 ms: 4 KiB more for each stream whose window the server has used up, and the connection
            # window back to 64 KiB once it is half used.
            next_tick += FLOW_TICK
            for stream in streams:
                if len(session.bodies[stream]) >= given[stream]:
                    session.conn.increment_flow_control_window(FLOW_STEP, stream_id=stream)
                    given[stream] += FLOW_STEP
            window = session.conn.inbound_flow_control_window
            if window < 32768:
                session.conn.increment_flow_control_window(65535 - window)
            session.flush()
            peak = max(peak, server.rss_bytes())
            if probe is None and time.monotonic() - started > FLOW_SECONDS / 2:
                probe = session.request("GET", "/healthz")
        consumed = sum(len(session.bodies[s]) for s in streams)
        session.until(lambda: probe in session.ended, 5, "answer to /healthz beside the stalled streams")
        peak = max(peak, server.rss_bytes())
        assert session.status[probe] == 200
        for stream in streams:
            assert session.status.get(stream) == 200, (stream, session.status.get(stream))
            assert stream not in session.ended and stream not in session.resets, \
                f"stream {stream} ended or was reset while it was being read"
            body = bytes(session.bodies[stream])
            assert body.startswith(b"event: status"), body[:100]
            assert len(body) <= given[stream], f"stream {stream}: {len(body)} bytes sent for {given[stream]} of credit"
            # Deferred data resumes as the window opens: the server kept up with this slow reader.
            assert len(body) >= given[stream] / 2, f"stream {stream}: {len(body)} bytes for {given[stream]} of credit"
        for stream in streams:
            session.conn.reset_stream(stream)
        session.flush()
    finally:
        session.close()
    assert curl("GET", server.url("/healthz"), timeout=10).status == 200
    growth = peak - baseline
    print(f"\ntiny window: {FLOW_STREAMS} streams of ~{stream_bytes / 2**20:.0f} MB, {consumed} bytes read in "
          f"{FLOW_SECONDS} s; RSS {baseline / 2**20:.1f} MB -> peak {peak / 2**20:.1f} MB (+{growth / 2**20:.1f} MB)")
    assert growth < FLOW_RSS_BOUND, f"RSS grew by {growth / 2**20:.1f} MB while 8 streams had 16-byte windows"


# --------------------------------------------------------------------------------------------- shutdown
def test_sigterm_sends_goaway_finishes_the_request_in_flight_then_closes(start_server):
    """SIGTERM with an upload half sent on an h2 connection: a GOAWAY with NO_ERROR that does not cut off
    the upload's stream, the rest of the body still accepted and answered 201, then the end of the
    connection, and exit 0."""
    server, _ = start_server("--shutdown-timeout", "10")
    body = b"x,y\n" + b"".join(f"{i},{2 * i + 1}\n".encode() for i in range(2000))
    half = len(body) // 2
    with FrameClient(server.port) as client:
        client.handshake()
        stream = client.new_stream_id()
        client.send_headers(stream, client.request_headers("POST", "/v1/datasets?name=shutdown",
                                                           [("content-type", "text/csv"),
                                                            ("content-length", str(len(body)))]), end_stream=False)
        client.send_data(stream, body[:half])
        client.ping()  # the server has read everything sent so far
        server.process.send_signal(signal.SIGTERM)
        goaway = client.wait_for(lambda f: isinstance(f, GoAwayFrame), 5, "GOAWAY after SIGTERM")
        assert goaway.error_code == NO_ERROR, f"GOAWAY with {error_name(goaway.error_code)}"
        assert goaway.last_stream_id >= stream, f"GOAWAY's last stream {goaway.last_stream_id} cuts off stream {stream}"
        assert server.process.poll() is None, "the server exited with a request in flight"
        client.send_data(stream, body[half:], end_stream=True)
        response = client.response(stream, timeout=10)
        assert response.status == 201, response
        assert response.json()["rows"] == 2000, response
        client.read_until_closed(timeout=10)
        goaways = [f for f in client.log if isinstance(f, GoAwayFrame)]
        assert all(f.error_code == NO_ERROR for f in goaways), [error_name(f.error_code) for f in goaways]
        assert all(f.last_stream_id >= stream for f in goaways), [f.last_stream_id for f in goaways]
    assert server.process.wait(15) == 0, server.log_tail()
