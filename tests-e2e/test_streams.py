"""The progress stream: SSE with curl -N, NDJSON, resuming, replay, 200 concurrent readers, a reader that
stops reading."""

from __future__ import annotations

import re
import socket
import subprocess
import threading
import time

import numpy as np
import pytest

from helpers import (Api, Event, Server, assert_problem, assert_stream_shape, curl, curl_stream, get_request, long_spec,
                     metric_value, parse_ndjson, parse_sse, raw_request)

ITERATIONS = 3000
EVERY = 10


def streamed_spec(dataset_id: str, iterations: int = ITERATIONS, every: int = EVERY) -> dict:
    """A job that runs exactly `iterations` iterations (no tolerance can stop it) and reports every `every`."""
    return {"dataset_id": dataset_id, "optimizer": {"method": "gd", "learning_rate": 1e-4},
            "stopping": {"max_iterations": iterations, "weight_tolerance": 0}, "report_every": every}


def events_of(lines: list[tuple[float, str]]) -> list[Event]:
    return parse_sse("\n".join(line for _, line in lines) + "\n")[0]


def header(headers, name):
    return next((v for k, v in reversed(headers) if k.lower() == name.lower()), None)


@pytest.fixture(scope="module")
def live_stream(server, big_dataset):
    """A job followed with curl -N from its submission to its end: (job, status, headers, timed lines)."""
    api = Api(server)
    job = api.submit_ok(streamed_spec(big_dataset["id"]))
    status, headers, lines = curl_stream(server.url(f"/v1/jobs/{job['id']}/events"))
    return job, status, headers, lines


def test_sse_follows_a_running_job_to_its_result_and_ends(live_stream):
    job, status, headers, lines = live_stream
    assert status == 200
    assert header(headers, "Content-Type").split(";")[0] == "text/event-stream"
    events = events_of(lines)
    progress = assert_stream_shape(events, job["id"])
    assert events[0].data["status"] in ("queued", "running"), "the stream was opened after the job ended"
    assert [p["iteration"] for p in progress] == list(range(EVERY, ITERATIONS + 1, EVERY))
    for p in progress:
        assert {"iteration", "loss", "gradient_norm", "step_norm", "learning_rate", "elapsed_seconds"} <= set(p), p
    result = events[-1].data
    assert result["status"] == "succeeded" and result["result"]["iterations"] == ITERATIONS, result
    assert result["result"]["loss"] == pytest.approx(progress[-1]["loss"])
    # Live, not buffered until the end: the first progress event came well before the result.
    first = next(t for t, line in lines if line.startswith("event: progress"))
    last = next(t for t, line in lines if line.startswith("event: result"))
    assert last - first > 0.2, f"all events arrived within {last - first:.3f}s: the job ran too fast to tell"


def test_ndjson_carries_the_same_events(api: Api, big_dataset, server):
    job = api.submit_ok(streamed_spec(big_dataset["id"], iterations=500))
    status, headers, lines = curl_stream(server.url(f"/v1/jobs/{job['id']}/events"),
                                         {"Accept": "application/x-ndjson"})
    assert status == 200
    assert header(headers, "Content-Type").split(";")[0] == "application/x-ndjson"
    events = parse_ndjson("\n".join(line for _, line in lines))
    progress = assert_stream_shape(events, job["id"], sse=False)
    assert [p["iteration"] for p in progress] == list(range(EVERY, 501, EVERY))
    assert events[-1].data["status"] == "succeeded"


def test_sse_is_also_chosen_by_its_accept_header(live_stream, server):
    job = live_stream[0]
    response = curl("GET", server.url(f"/v1/jobs/{job['id']}/events"), headers={"Accept": "text/event-stream"})
    assert response.status == 200 and response.content_type == "text/event-stream", response


def test_a_stream_opened_after_the_end_replays_everything(live_stream, server):
    job, _, _, lines = live_stream
    response = curl("GET", server.url(f"/v1/jobs/{job['id']}/events"), stream=True)
    assert response.status == 200, response
    events, _ = parse_sse(response.text)
    progress = assert_stream_shape(events, job["id"])
    assert events[0].data["status"] == "succeeded"
    assert progress == [e.data for e in events_of(lines) if e.event == "progress"]
    assert events[-1].data["status"] == "succeeded"


@pytest.mark.parametrize("how", ["last-event-id", "after"])
def test_resuming_gets_only_later_iterations(live_stream, server, how):
    job = live_stream[0]
    after = 1500
    if how == "after":
        response = curl("GET", server.url(f"/v1/jobs/{job['id']}/events?after={after}"), stream=True)
    else:
        response = curl("GET", server.url(f"/v1/jobs/{job['id']}/events"), headers={"Last-Event-ID": str(after)},
                        stream=True)
    assert response.status == 200, response
    events, _ = parse_sse(response.text)
    progress = assert_stream_shape(events, job["id"], after=after)
    assert [p["iteration"] for p in progress] == list(range(after + EVERY, ITERATIONS + 1, EVERY))


def test_resuming_a_running_job_gets_only_later_iterations(api: Api, big_dataset, server):
    job = api.submit_ok(streamed_spec(big_dataset["id"], iterations=1000))
    status, _, lines = curl_stream(server.url(f"/v1/jobs/{job['id']}/events?after=495"),
                                   {"Accept": "application/x-ndjson"})
    assert status == 200
    progress = assert_stream_shape(parse_ndjson("\n".join(line for _, line in lines)), job["id"], after=495,
                                   sse=False)
    assert [p["iteration"] for p in progress] == list(range(500, 1001, EVERY))


@pytest.mark.parametrize("query", ["after=abc", "after=1.5", "after="])
def test_a_bad_after_is_400(live_stream, server, query):
    job = live_stream[0]
    assert_problem(curl("GET", server.url(f"/v1/jobs/{job['id']}/events?{query}")), 400)


def test_the_stream_matches_the_history(live_stream, server):
    job, _, _, lines = live_stream
    history = {h["iteration"]: h for h in curl("GET", server.url(f"/v1/jobs/{job['id']}/history")).json()}
    for event in events_of(lines):
        if event.event == "progress":
            recorded = history.get(event.data["iteration"])
            assert recorded is not None, f"iteration {event.data['iteration']} streamed but not in the history"
            for key, value in event.data.items():
                assert recorded.get(key) == pytest.approx(value), (key, recorded, event.data)


# --------------------------------------------------------------------------------------------- many readers
def test_200_concurrent_sse_clients_all_get_every_event(start_server):
    """One worker: a long job holds it while 200 clients subscribe to a queued job; then the long job is
    cancelled and the queued one runs under all 200 streams."""
    server, api = start_server("--workers", "1")
    rng = np.random.default_rng(60)
    x = rng.normal(size=(2000, 3))
    blocker = api.submit_ok(long_spec(api.create_dataset(x, x.sum(axis=1) + rng.normal(size=2000))["id"]))
    api.wait_until_running(blocker["id"])
    small = api.create_dataset(x[:200], x[:200] @ [1.0, -1.0, 2.0])
    job = api.submit_ok(streamed_spec(small["id"], iterations=2000, every=10))
    assert api.job(job["id"])["status"] == "queued"

    clients = 200
    results: list = [None] * clients
    request = get_request(f"/v1/jobs/{job['id']}/events", server.port, {"Accept": "text/event-stream"})

    def follow(index: int) -> None:
        try:
            results[index] = raw_request(server.port, request, timeout=120)
        except Exception as error:  # reported below with the client's index
            results[index] = error

    threads = [threading.Thread(target=follow, args=(i,), daemon=True) for i in range(clients)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 20
    open_streams = 0
    while time.monotonic() < deadline:
        open_streams = metric_value(api.get("/metrics").text, "descent_open_streams") or 0
        if open_streams >= clients:
            break
        time.sleep(0.1)
    assert open_streams == clients, f"descent_open_streams = {open_streams} with {clients} clients subscribed"

    assert api.request("POST", f"/v1/jobs/{blocker['id']}/cancel").status == 202
    for thread in threads:
        thread.join(timeout=180)
    assert not any(thread.is_alive() for thread in threads), "some streams never ended"

    expected = list(range(10, 2001, 10))
    for index, outcome in enumerate(results):
        assert not isinstance(outcome, Exception), f"client {index}: {outcome!r}"
        status, headers, body = outcome
        assert status == 200, (index, status, body[:300])
        events, _ = parse_sse(body.decode())
        progress = assert_stream_shape(events, job["id"])
        assert [p["iteration"] for p in progress] == expected, f"client {index} got {len(progress)} progress events"
        assert events[-1].data["status"] == "succeeded"

    deadline = time.monotonic() + 5
    while (metric_value(api.get("/metrics").text, "descent_open_streams") or 0) > 0 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert metric_value(api.get("/metrics").text, "descent_open_streams") == 0


# --------------------------------------------------------------------------------------------- a reader that stops
RSS_BOUND = 50 * 1024 * 1024
SLOW_EVENTS = 300_000


def test_a_client_that_stops_reading_does_not_grow_the_server(start_server):
    """A raw socket with a tiny receive buffer subscribes to a job reporting each of its 300 000 iterations
    and never reads. As SSE those events are about 70 MB; the server must hold at most a chunk of them for
    the stalled client (decisions doc, "Slow readers"). Its RSS may grow by at most 50 MB over the run —
    the job's own history, kept in memory, takes about 20 MB of that — and it answers other requests
    meanwhile. The event count is fixed (not a duration), so a faster machine does not grow the history."""
    server, api = start_server("--workers", "1")
    rng = np.random.default_rng(70)
    x = rng.normal(size=(20, 2))
    dataset = api.create_dataset(x, x @ [1.0, 2.0] + rng.normal(size=20))
    spec = {"dataset_id": dataset["id"], "optimizer": {"method": "gd", "learning_rate": 1e-7},
            "stopping": {"max_iterations": SLOW_EVENTS, "weight_tolerance": 0}, "report_every": 1}
    baseline = server.rss_bytes()

    stalled = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    stalled.connect(("127.0.0.1", server.port))
    try:
        job = api.submit_ok(spec)
        stalled.sendall(get_request(f"/v1/jobs/{job['id']}/events", server.port))
        peak = baseline
        checks = 0
        deadline = time.monotonic() + 60
        while True:
            peak = max(peak, server.rss_bytes())
            response = curl("GET", server.url(f"/v1/jobs/{job['id']}"), timeout=5)
            assert response.status == 200, response
            checks += 1
            if response.json()["status"] != "running" and checks > 1:
                break
            assert time.monotonic() < deadline, "the job did not finish in 60 s"
            time.sleep(0.2)
        time.sleep(0.5)
        peak = max(peak, server.rss_bytes())
        done = api.job(job["id"])
        assert done["status"] == "succeeded" and done["result"]["iterations"] == SLOW_EVENTS, done["status"]
        # What the stalled client was sent as SSE, had it read: the history, one event per iteration.
        tail = api.get(f"/v1/jobs/{job['id']}/events?after={SLOW_EVENTS - 100}").text.split("\n\n")
        per_event = sum(len(block) + 2 for block in tail if "event: progress" in block) / 100
        assert curl("GET", server.url("/healthz"), timeout=5).status == 200
    finally:
        stalled.close()
    growth = peak - baseline
    print(f"\nslow reader: {SLOW_EVENTS} events (~{SLOW_EVENTS * per_event / 2**20:.0f} MB of SSE) unread; RSS "
          f"{baseline / 2**20:.1f} MB -> peak {peak / 2**20:.1f} MB (+{growth / 2**20:.1f} MB); "
          f"{checks} requests answered meanwhile")
    assert SLOW_EVENTS * per_event > RSS_BOUND, "the events would fit in the bound: the test proves little"
    assert checks >= 5, "the job ended too soon to observe the server under the stalled stream"
    assert growth < RSS_BOUND, f"RSS grew by {growth / 2**20:.1f} MB while a client did not read"


# --------------------------------------------------------------------------------------------- keep-alive
KEEPALIVE = 0.3


def follow_idle_stream(port: int, path: str, seconds: float) -> tuple[bytes, list[float]]:
    """Reads a stream for `seconds`; returns the body so far and when the status event and each keep-alive
    were complete."""
    received = bytearray()
    times: list[float] = []
    with socket.create_connection(("127.0.0.1", port), timeout=0.01) as connection:
        connection.sendall(get_request(path, port))
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                data = connection.recv(4096)
            except socket.timeout:
                continue
            assert data, "the stream ended while the job ran"
            received += data
            seen = (b"event: status" in received) + received.count(b": keep-alive\n\n")
            times += [time.monotonic()] * (seen - len(times))
    return bytes(received), times


@pytest.fixture(scope="module")
def idle_streams(binary, tmp_path_factory):
    """Nine streams on a running job that reports only at its end, read for 1.5 s each with
    --stream-keepalive 0.3 (the default is 15 s; a short period keeps the run short)."""
    server = Server(binary, tmp_path_factory.mktemp("keepalive"), "--workers", "1", "--stream-keepalive",
                    str(KEEPALIVE)).start()
    api = Api(server)
    try:
        rng = np.random.default_rng(80)
        x = rng.normal(size=(2000, 3))
        job = api.submit_ok(long_spec(api.create_dataset(x, x.sum(axis=1))["id"], report_every=1_000_000))
        api.wait_until_running(job["id"])
        outcomes: list = [None] * 9

        def follow(index: int) -> None:
            try:
                outcomes[index] = follow_idle_stream(server.port, f"/v1/jobs/{job['id']}/events", 1.5)
            except Exception as error:  # reported by the tests with the stream's index
                outcomes[index] = error

        threads = [threading.Thread(target=follow, args=(i,)) for i in range(len(outcomes))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(10)
        yield outcomes
    finally:
        api.cancel_all()
        assert server.stop() == 0, server.log_tail()


def test_the_default_keep_alive_period_is_15_seconds(binary):
    help_text = subprocess.run([binary, "--help"], capture_output=True, text=True).stdout
    assert re.search(r"--stream-keepalive.*\n.*default: 15\]", help_text), help_text


def test_an_idle_stream_gets_a_keep_alive_comment_every_period(idle_streams):
    for index, outcome in enumerate(idle_streams):
        assert not isinstance(outcome, Exception), f"stream {index}: {outcome!r}"
        received, times = outcome
        head, _, body = received.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200") and b"event: status" in body, head
        assert b"event: progress" not in body, "the job reported before its end"
        # The status event, then a keep-alive every 0.3 s: 3 or 4 in 1.5 s.
        assert len(times) >= 4, f"stream {index}: {len(times) - 1} keep-alives in 1.5 s: {body!r}"
        # Not early; late by at most the server's check interval, a third of the period (see the next test).
        gaps = [later - earlier for earlier, later in zip(times, times[1:])]
        assert all(KEEPALIVE - 0.05 <= gap <= KEEPALIVE * 4 / 3 + 0.1 for gap in gaps), f"stream {index}: gaps {gaps}"


def test_a_keep_alive_comes_after_one_period_of_silence(idle_streams):
    """The median over every silence of nine streams, so that one stream's scheduling luck does not decide."""
    gaps = sorted(later - earlier for outcome in idle_streams if not isinstance(outcome, Exception)
                  for earlier, later in zip(outcome[1], outcome[1][1:]))
    assert len(gaps) >= 27
    median = gaps[len(gaps) // 2]
    assert median <= KEEPALIVE + 0.05, f"keep-alives after {[round(g, 3) for g in gaps]} s of silence"
