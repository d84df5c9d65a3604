#!/usr/bin/env python3
"""bench/service.py — the client side and the Python anchors of the service benchmark (BENCHMARKS.md, issue 4);
bench/service.sh runs it against a descent it started.

  generate: writes the two ingest files: a JSON dataset {"features": [[...]], "targets": [...]} of random
            float64 printed with all 17 significant digits ('%.17g'), its row count chosen so that the file is
            about --json-mb MB, and a float64 C-order .npy of --npy-mb MB (the target is its last column).
  ingest:   --rounds rounds, each of: POST /v1/datasets with the file's bytes to the server (wall time of the
            request on one fresh loopback connection, from the first byte sent to the last byte of the answer),
            then the anchor in this process on the same bytes: json.loads + numpy.asarray for JSON, a copy of
            the bytes (numpy.frombuffer(...).copy(), i.e. memcpy into fresh memory) for .npy. Every upload is
            made unique (JSON: a "name" field; .npy: the first value) so the server's content addressing never
            answers from a previous upload: each one is parsed and stored.
  jobs:     uploads a 10-row × 2-feature dataset, then submits --jobs tiny jobs (10 iterations,
            weight_tolerance 0) one after the other over one keep-alive connection: POST /v1/jobs, then
            GET /v1/jobs/{id}?wait=5 until the job is terminal; the submit → result time of each. Then the
            same with --threads client threads, one keep-alive connection each, for jobs per second. For
            scale, first the client's floor: two GET /healthz in a row on the same connection.

Each measurement ends with one `RESULT key=value ...` line for the script to read. MB = 10^6 bytes.
"""
import os
import sys

# bench/ also holds math.py: drop this file's directory from the path, or `import math` (in random, statistics,
# numpy) would find that script instead of the standard library's module.
_here = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _here]

import argparse  # noqa: E402
import http.client  # noqa: E402
import json  # noqa: E402
import socket  # noqa: E402
import statistics  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

TERMINAL = {"succeeded", "failed", "cancelled"}


# --- data ---------------------------------------------------------------------------------------------------
def json_rows(rng, rows, columns):
    """The JSON text of rows × columns features and rows targets, every number with 17 significant digits."""
    X = rng.standard_normal((rows, columns))
    y = X @ rng.standard_normal(columns) + 0.1 * rng.standard_normal(rows)
    fmt = "[" + ",".join(["%.17g"] * columns) + "]"
    features = ",".join(fmt % tuple(row) for row in X.tolist())
    targets = ",".join("%.17g" % v for v in y.tolist())
    return '{"features":[' + features + '],"targets":[' + targets + "]}"


def generate(args):
    rng = np.random.default_rng(4)
    # Size the JSON from a sample's bytes per row.
    sample = 2000
    per_row = len(json_rows(rng, sample, args.columns)) / sample
    rows = max(1, int(args.json_mb * 1e6 / per_row))
    text = json_rows(np.random.default_rng(4), rows, args.columns).encode()
    with open(args.json, "wb") as out:
        out.write(text)
    print(f"JSON: {args.json}: {rows} rows x {args.columns} features + target, {len(text) / 1e6:.1f} MB "
          f"({len(text) / rows:.0f} bytes/row, '%.17g')")
    npy_columns = args.columns + 1
    npy_rows = max(1, int(args.npy_mb * 1e6 / (8 * npy_columns)))
    A = np.ascontiguousarray(rng.standard_normal((npy_rows, npy_columns)), dtype="<f8")
    np.save(args.npy, A)
    size = os.path.getsize(args.npy)
    print(f".npy: {args.npy}: {npy_rows} rows x {npy_columns} float64 (C order; target = last column), "
          f"{size / 1e6:.1f} MB")
    print(f"RESULT mode=generate json_rows={rows} json_bytes={len(text)} npy_rows={npy_rows} "
          f"npy_columns={npy_columns} npy_bytes={size}")


# --- HTTP ---------------------------------------------------------------------------------------------------
def connect(port):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    conn.connect()
    conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return conn


def call(conn, method, path, body=None, content_type="application/json"):
    """One request; answers (status, parsed JSON body or raw text)."""
    headers = {"Content-Type": content_type} if body is not None else {}
    conn.request(method, path, body=body, headers=headers)
    response = conn.getresponse()
    raw = response.read()
    try:
        return response.status, json.loads(raw)
    except ValueError:
        return response.status, raw.decode(errors="replace")


def upload(port, path, body, content_type):
    """POST body on a fresh connection; answers (seconds from the first byte sent to the whole answer read,
    status, parsed answer). The body is handed to sendall as it is: no copy of it inside the timed part."""
    conn = connect(port)
    try:
        start = time.perf_counter()
        conn.putrequest("POST", path)
        conn.putheader("Content-Type", content_type)
        conn.putheader("Content-Length", str(len(body)))
        conn.endheaders()
        conn.sock.sendall(memoryview(body))
        response = conn.getresponse()
        raw = response.read()
        seconds = time.perf_counter() - start
    finally:
        conn.close()
    try:
        answer = json.loads(raw)
    except ValueError:
        answer = raw.decode(errors="replace")
    return seconds, response.status, answer


def check_dataset(kind, status, answer, rows, columns):
    if status != 201 or not isinstance(answer, dict) or answer.get("rows") != rows \
            or answer.get("columns") != columns:
        sys.exit(f"service.py: {kind} upload: expected 201 with rows={rows} columns={columns}, got {status}: "
                 f"{str(answer)[:500]}")


# --- ingest -------------------------------------------------------------------------------------------------
def summary(values):
    return max(values), statistics.median(values)


def ingest(args):
    with open(args.file, "rb") as f:
        data = f.read()
    mb = len(data) / 1e6
    nonce = f"{os.getpid()}-{time.time_ns()}"
    server_mbs, anchor_mbs, warm_mbs = [], [], []
    if args.format == "json":
        assert data.startswith(b"{")
        expected = None
        for r in range(1, args.rounds + 1):
            body = b'{"name":"bench-' + f"{nonce}-{r}".encode() + b'",' + data[1:]
            seconds, status, answer = upload(args.port, "/v1/datasets", body, "application/json")
            if expected is None:  # the anchor's own parse tells the shape
                probe = json.loads(body)
                expected = (len(probe["targets"]), len(probe["features"][0]))
                del probe
            check_dataset("JSON", status, answer, *expected)
            server_mbs.append(len(body) / 1e6 / seconds)
            start = time.perf_counter()
            doc = json.loads(body)
            X = np.asarray(doc["features"], dtype=np.float64)
            y = np.asarray(doc["targets"], dtype=np.float64)
            py_seconds = time.perf_counter() - start
            assert X.shape == (expected[0], expected[1]) and y.shape == (expected[0],)
            del doc, X, y
            anchor_mbs.append(len(body) / 1e6 / py_seconds)
            print(f"round {r}/{args.rounds}: descent POST /v1/datasets (JSON) {seconds * 1e3:9.1f} ms "
                  f"{server_mbs[-1]:8.1f} MB/s | json.loads + numpy.asarray {py_seconds * 1e3:9.1f} ms "
                  f"{anchor_mbs[-1]:8.1f} MB/s", flush=True)
    else:
        header_len = len(data) - int(args.npy_rows) * int(args.npy_columns) * 8
        rows, columns = int(args.npy_rows), int(args.npy_columns) - 1
        for r in range(1, args.rounds + 1):
            body = bytearray(data)  # made unique: the first value becomes the round's own number
            body[header_len:header_len + 8] = np.array([time.time_ns() + r], dtype="<f8").tobytes()
            body = bytes(body)
            seconds, status, answer = upload(args.port, f"/v1/datasets?name=bench-{nonce}-{r}", body,
                                             "application/x-npy")
            check_dataset(".npy", status, answer, rows, columns)
            server_mbs.append(len(body) / 1e6 / seconds)
            copies = []  # the round's anchor: the median of 5 copies (each ~tens of ms, noisy on a shared machine)
            for _ in range(5):
                copy = None
                start = time.perf_counter()
                copy = np.frombuffer(body, dtype=np.uint8).copy()
                copies.append(time.perf_counter() - start)
                assert copy.nbytes == len(body)
            copy_seconds = statistics.median(copies)
            # For reference only: the same copy into memory already touched (no page faults).
            start = time.perf_counter()
            np.copyto(copy, np.frombuffer(body, dtype=np.uint8))
            warm_seconds = time.perf_counter() - start
            del copy
            anchor_mbs.append(len(body) / 1e6 / copy_seconds)
            warm_mbs.append(len(body) / 1e6 / warm_seconds)
            print(f"round {r}/{args.rounds}: descent POST /v1/datasets (.npy) {seconds * 1e3:8.1f} ms "
                  f"{server_mbs[-1]:7.1f} MB/s | copy into fresh memory {copy_seconds * 1e3:6.1f} ms "
                  f"{anchor_mbs[-1]:7.1f} MB/s (into touched memory: {warm_mbs[-1]:.0f} MB/s)", flush=True)
    sb, sm = summary(server_mbs)
    ab, am = summary(anchor_mbs)
    warm = f" warm_median={statistics.median(warm_mbs):.1f}" if warm_mbs else ""
    print(f"RESULT mode=ingest format={args.format} mb={mb:.1f} rounds={args.rounds} server_best={sb:.1f} "
          f"server_median={sm:.1f} anchor_best={ab:.1f} anchor_median={am:.1f}{warm} "
          f"server_all={','.join(f'{v:.1f}' for v in server_mbs)} "
          f"anchor_all={','.join(f'{v:.1f}' for v in anchor_mbs)}")


# --- tiny jobs ----------------------------------------------------------------------------------------------
def run_job(conn, body):
    """Submit, then wait until terminal; answers (seconds, final status, job)."""
    start = time.perf_counter()
    status, job = call(conn, "POST", "/v1/jobs", body)
    if status != 202 or not isinstance(job, dict) or "id" not in job:
        raise RuntimeError(f"POST /v1/jobs answered {status}: {str(job)[:500]}")
    path = f"/v1/jobs/{job['id']}?wait=5"
    while job.get("status") not in TERMINAL:
        status, job = call(conn, "GET", path)
        if status != 200 or not isinstance(job, dict):
            raise RuntimeError(f"GET {path} answered {status}: {str(job)[:500]}")
    return time.perf_counter() - start, job


def percentile(sorted_values, p):
    """Nearest-rank percentile of sorted values."""
    k = max(0, min(len(sorted_values) - 1, int(np.ceil(p / 100 * len(sorted_values))) - 1))
    return sorted_values[k]


def jobs(args):
    rng = np.random.default_rng(10)
    X = rng.standard_normal((10, 2))
    y = X @ np.array([1.5, -2.0]) + 0.25 + 0.01 * rng.standard_normal(10)
    conn = connect(args.port)
    status, dataset = call(conn, "POST", "/v1/datasets",
                           json.dumps({"name": "bench-tiny", "features": X.tolist(), "targets": y.tolist()}))
    if status not in (200, 201):
        sys.exit(f"service.py: tiny dataset upload answered {status}: {str(dataset)[:500]}")
    body = json.dumps({"dataset_id": dataset["id"],
                       "stopping": {"max_iterations": 10, "weight_tolerance": 0}}).encode()

    # Warm-up, and a check of what a tiny job answers.
    for _ in range(args.warmup):
        _, job = run_job(conn, body)
    result = job.get("result") or {}
    if job.get("status") != "succeeded" or result.get("iterations") != 10:
        sys.exit(f"service.py: a tiny job ended {job.get('status')} after {result.get('iterations')} iterations "
                 f"(expected succeeded after 10): {json.dumps(job)[:800]}")

    # The floor of this client: two GET /healthz in a row on the same connection (the least a submit + one
    # poll can cost with this Python client over loopback).
    floor = []
    for _ in range(args.jobs):
        start = time.perf_counter()
        for _ in range(2):
            status, _answer = call(conn, "GET", "/healthz")
            if status != 200:
                sys.exit(f"service.py: GET /healthz answered {status}")
        floor.append(time.perf_counter() - start)
    floor.sort()
    f50, f99 = (percentile(floor, p) * 1e3 for p in (50, 99))
    print(f"client floor: 2 x GET /healthz on one keep-alive connection, {args.jobs} times: p50 {f50:.3f} ms, "
          f"p99 {f99:.3f} ms", flush=True)

    # Sequential, one keep-alive connection.
    latencies, bad = [], 0
    start = time.perf_counter()
    for _ in range(args.jobs):
        seconds, job = run_job(conn, body)
        latencies.append(seconds)
        bad += job.get("status") != "succeeded"
    wall = time.perf_counter() - start
    conn.close()
    latencies.sort()
    p50, p90, p99 = (percentile(latencies, p) * 1e3 for p in (50, 90, 99))
    print(f"sequential: {args.jobs} jobs over one keep-alive connection in {wall:.2f} s: "
          f"p50 {p50:.3f} ms, p90 {p90:.3f} ms, p99 {p99:.3f} ms, max {latencies[-1] * 1e3:.3f} ms, "
          f"{args.jobs / wall:.0f} jobs/s; not succeeded: {bad}", flush=True)

    # Concurrent: threads × one keep-alive connection each, the same total number of jobs.
    per_thread = [args.jobs // args.threads + (i < args.jobs % args.threads) for i in range(args.threads)]
    conc_latencies, errors, bad_conc = [], [], [0]
    lock = threading.Lock()
    barrier = threading.Barrier(args.threads + 1)

    def client(count):
        try:
            c = connect(args.port)
            mine, nbad = [], 0
            barrier.wait()
            for _ in range(count):
                seconds, job = run_job(c, body)
                mine.append(seconds)
                nbad += job.get("status") != "succeeded"
            c.close()
            with lock:
                conc_latencies.extend(mine)
                bad_conc[0] += nbad
        except Exception as error:  # noqa: BLE001 - reported below
            with lock:
                errors.append(repr(error))
            try:
                barrier.abort()
            except threading.BrokenBarrierError:
                pass

    threads = [threading.Thread(target=client, args=(n,)) for n in per_thread]
    for t in threads:
        t.start()
    try:
        barrier.wait()
    except threading.BrokenBarrierError:
        pass
    start = time.perf_counter()
    for t in threads:
        t.join()
    conc_wall = time.perf_counter() - start
    if errors:
        sys.exit(f"service.py: concurrent clients failed: {errors[:3]}")
    conc_latencies.sort()
    c50, c99 = (percentile(conc_latencies, p) * 1e3 for p in (50, 99))
    print(f"concurrent: {args.jobs} jobs from {args.threads} threads (one keep-alive connection each) in "
          f"{conc_wall:.2f} s: {args.jobs / conc_wall:.0f} jobs/s, p50 {c50:.3f} ms, p99 {c99:.3f} ms; "
          f"not succeeded: {bad_conc[0]}", flush=True)
    print(f"RESULT mode=jobs jobs={args.jobs} p50_ms={p50:.3f} p90_ms={p90:.3f} p99_ms={p99:.3f} "
          f"max_ms={latencies[-1] * 1e3:.3f} seq_jobs_per_s={args.jobs / wall:.1f} threads={args.threads} "
          f"conc_jobs_per_s={args.jobs / conc_wall:.1f} conc_p50_ms={c50:.3f} conc_p99_ms={c99:.3f} "
          f"floor_p50_ms={f50:.3f} floor_p99_ms={f99:.3f} not_succeeded={bad + bad_conc[0]}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=["generate", "ingest", "jobs"], required=True)
    parser.add_argument("--port", type=int)
    parser.add_argument("--json", help="generate: the JSON file to write")
    parser.add_argument("--npy", help="generate: the .npy file to write")
    parser.add_argument("--json-mb", type=float, default=100)
    parser.add_argument("--npy-mb", type=float, default=100)
    parser.add_argument("--columns", type=int, default=8, help="generate: feature columns")
    parser.add_argument("--format", choices=["json", "npy"], help="ingest: the file's format")
    parser.add_argument("--file", help="ingest: the file to upload")
    parser.add_argument("--npy-rows", type=int, help="ingest npy: rows of the file (from generate)")
    parser.add_argument("--npy-columns", type=int, help="ingest npy: columns of the file, target included")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args()
    if args.mode == "generate":
        if not (args.json and args.npy) or args.columns < 1:
            sys.exit("service.py: generate needs --json, --npy and --columns ≥ 1")
        generate(args)
    elif args.mode == "ingest":
        if not (args.port and args.format and args.file) or args.rounds < 1:
            sys.exit("service.py: ingest needs --port, --format, --file and --rounds ≥ 1")
        if args.format == "npy" and not (args.npy_rows and args.npy_columns):
            sys.exit("service.py: ingest --format npy needs --npy-rows and --npy-columns")
        ingest(args)
    else:
        if not args.port or args.jobs < 1 or args.threads < 1 or args.warmup < 1:
            sys.exit("service.py: jobs needs --port, and --jobs, --threads, --warmup ≥ 1")
        jobs(args)


if __name__ == "__main__":
    main()
