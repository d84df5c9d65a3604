#!/usr/bin/env python3
"""bench/load_sse.py — the progress-stream side of bench/load.sh: N Server-Sent-Events clients on running jobs.

Opens CLIENTS raw HTTP/1.1 connections, client i on GET /v1/jobs/{JOB_i mod len(JOBS)}/events with
`Accept: text/event-stream`, de-chunks and parses every event, and checks each stream:

  - the answer is 200 with Content-Type text/event-stream, and the stream opens with a `status` event;
  - no progress event is lost or repeated: the first is iteration REPORT_EVERY (a stream without a cursor
    replays the job's history from its start, and a job reports iterations R, 2R, … — not 0), each next one
    is the previous + REPORT_EVERY, except the job's last, which may come sooner (a job always reports its
    final iteration);
  - events keep coming while the load runs: between the marks `start` and `stop` (lines on stdin, written by
    load.sh when wrk starts and ends) no silence is longer than --max-gap seconds, counting from `start` to
    the first event and from the last event to `stop` — so a stream that stalls or falls behind fails;
  - the stream ends as the contract says: a last `result` event with a terminal status, then the terminating
    chunk, within --end-timeout seconds of `stop`.

Protocol with the caller: prints `ready <open> <failed>` once every stream has its first event (or failed),
then reads stdin for `start` and `stop`; after `stop` it waits for the streams to end and prints a line
`summary {json}` and a line `report <the same in words>`; each failing client is described on stderr. Exit 0 when every check held, 1 otherwise.
Standard library only.

Usage: load_sse.py HOST PORT --clients N --report-every R [--max-gap S] [--end-timeout S] JOB_ID...
"""
import os
import sys

# bench/ holds math.py: drop this file's directory from the path, or `import math` (in asyncio, random)
# would find that script instead of the standard library's module.
_here = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _here]

import argparse  # noqa: E402
import asyncio  # noqa: E402
import json  # noqa: E402
import time  # noqa: E402

TERMINAL = {"succeeded", "failed", "cancelled"}
CONNECT_CONCURRENCY = 64


class Stream:
    """One client's view of its stream."""

    def __init__(self, index, job):
        self.index = index
        self.job = job
        self.status_code = None
        self.content_type = None
        self.first_event = None
        self.progress_times = []  # monotonic time of every progress event
        self.progress_elapsed = []  # the job's own elapsed_seconds in each (to tell a stalled job from a late stream)
        self.first_iteration = None
        self.last_iteration = None
        self.progress = 0
        self.bad_steps = []  # (previous, next) iterations that break the sequence
        self.pending_short_step = None  # a step < R: allowed only as the job's last progress event
        self.result_status = None
        self.events_after_result = 0
        self.ended_cleanly = False  # the terminating chunk arrived
        self.end_time = None
        self.keepalives = 0
        self.bytes = 0
        self.error = None
        self.ready = asyncio.Event()


class Marks:
    start = None
    stop = None


def on_event(stream, report_every, event, ident, data):
    if stream.first_event is None:
        stream.first_event = event
        stream.ready.set()
    if stream.result_status is not None:
        stream.events_after_result += 1
    if event == "progress":
        now = time.monotonic()
        stream.progress_times.append(now)
        try:
            stream.progress_elapsed.append(float(json.loads(data)["elapsed_seconds"]))
        except (ValueError, KeyError, TypeError):
            stream.progress_elapsed.append(None)
        stream.progress += 1
        iteration = int(ident) if ident is not None else None
        if iteration is None:
            stream.bad_steps.append((stream.last_iteration, "no id"))
            return
        if stream.pending_short_step is not None:  # a short step that was not the last: a gap
            stream.bad_steps.append(stream.pending_short_step)
            stream.pending_short_step = None
        previous = stream.last_iteration
        if previous is None:
            # Iteration 0 is not reported (Trainer: iterations R, 2R, … and the last), so the first is R.
            stream.first_iteration = iteration
            previous = 0
        step = iteration - previous
        if 0 < step < report_every:
            stream.pending_short_step = (stream.last_iteration, iteration)
        elif step != report_every:
            stream.bad_steps.append((stream.last_iteration, iteration))
        stream.last_iteration = iteration
    elif event == "result":
        try:
            stream.result_status = json.loads(data).get("status")
        except (ValueError, AttributeError):
            stream.result_status = "unparseable"


async def read_chunked(reader):
    """Yields the chunks of a chunked body; returns after the terminating chunk (and its trailer)."""
    while True:
        line = await reader.readline()
        if not line:
            raise ConnectionError("connection closed inside the chunked body")
        size = int(line.split(b";", 1)[0].strip(), 16)
        if size == 0:
            while (await reader.readline()) not in (b"\r\n", b"\n", b""):
                pass
            return
        data = await reader.readexactly(size)
        if await reader.readexactly(2) != b"\r\n":
            raise ValueError("chunk without CRLF")
        yield data


async def run_stream(stream, host, port, report_every, connect_gate):
    writer = None
    try:
        async with connect_gate:
            reader, writer = await asyncio.open_connection(host, port, limit=1 << 20)
            writer.write(
                f"GET /v1/jobs/{stream.job}/events HTTP/1.1\r\nHost: {host}:{port}\r\n"
                "Accept: text/event-stream\r\n\r\n".encode())
            await writer.drain()
            head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        stream.status_code = int(lines[0].split()[1])
        headers = {}
        for line in lines[1:]:
            if ":" in line:
                name, value = line.split(":", 1)
                headers[name.strip().lower()] = value.strip()
        stream.content_type = headers.get("content-type", "")
        if stream.status_code != 200 or not stream.content_type.startswith("text/event-stream"):
            raise ValueError(f"answered {stream.status_code} {stream.content_type!r}")
        if "chunked" not in headers.get("transfer-encoding", "").lower():
            raise ValueError("the stream is not chunked")
        buffer = b""
        async for chunk in read_chunked(reader):
            stream.bytes += len(chunk)
            buffer += chunk
            while True:
                cut = buffer.find(b"\n\n")
                if cut < 0:
                    break
                block, buffer = buffer[:cut], buffer[cut + 2:]
                event, ident, data = "message", None, []
                comment_only = True
                for line in block.split(b"\n"):
                    if line.startswith(b":"):
                        continue
                    comment_only = False
                    name, _, value = line.partition(b":")
                    value = value[1:] if value.startswith(b" ") else value
                    if name == b"event":
                        event = value.decode()
                    elif name == b"id":
                        ident = value.decode()
                    elif name == b"data":
                        data.append(value.decode())
                if comment_only:
                    stream.keepalives += 1
                    continue
                on_event(stream, report_every, event, ident, "\n".join(data))
        stream.ended_cleanly = True
        if buffer.strip():
            stream.error = f"{len(buffer)} bytes after the last complete event"
    except (OSError, ValueError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError) as err:
        stream.error = f"{type(err).__name__}: {err}"
    finally:
        stream.end_time = time.monotonic()
        stream.ready.set()
        if writer is not None:
            writer.close()


def max_gap(stream):
    """Longest silence between progress events inside the [start, stop] window, edges included."""
    if Marks.start is None or Marks.stop is None:
        return float("inf")
    times = [t for t in stream.progress_times if Marks.start <= t <= Marks.stop]
    edges = [Marks.start] + times + [Marks.stop]
    return max(b - a for a, b in zip(edges, edges[1:]))


def job_gap(stream):
    """Longest advance of the job's own clock (elapsed_seconds) between two consecutive progress events that
    arrived inside the window: close to max_gap when the job itself stalled, far below it when the job kept
    reporting and the stream delivered late."""
    if Marks.start is None or Marks.stop is None:
        return None
    pairs = [(t, e) for t, e in zip(stream.progress_times, stream.progress_elapsed) if Marks.start <= t <= Marks.stop]
    steps = [b[1] - a[1] for a, b in zip(pairs, pairs[1:]) if a[1] is not None and b[1] is not None]
    return max(steps) if steps else None


def judge(stream, max_gap_allowed):
    """The reasons this stream failed; empty when it passed."""
    problems = []
    if stream.error:
        problems.append(stream.error)
    if stream.first_event != "status":
        problems.append(f"first event {stream.first_event!r}, not status")
    if stream.pending_short_step is not None and stream.result_status is None:
        problems.append(f"short step {stream.pending_short_step} without a result after it")
    if stream.bad_steps:
        problems.append(f"{len(stream.bad_steps)} breaks in the iteration sequence, e.g. {stream.bad_steps[:3]}")
    gap = max_gap(stream)
    if gap > max_gap_allowed:
        own = job_gap(stream)
        own = f"{own:.2f} s" if own is not None else "unknown"
        problems.append(f"silent for {gap:.2f} s during the load (allowed {max_gap_allowed} s; the job's own clock"
                        f" advanced at most {own} between two events)")
    if stream.result_status not in TERMINAL:
        problems.append(f"no result event with a terminal status (got {stream.result_status!r})")
    if stream.events_after_result:
        problems.append(f"{stream.events_after_result} events after the result")
    if not stream.ended_cleanly:
        problems.append("the stream did not end with its terminating chunk")
    return problems


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("host")
    parser.add_argument("port", type=int)
    parser.add_argument("jobs", nargs="+")
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--report-every", type=int, required=True)
    parser.add_argument("--max-gap", type=float, default=5.0)
    parser.add_argument("--end-timeout", type=float, default=60.0)
    args = parser.parse_args()

    gate = asyncio.Semaphore(CONNECT_CONCURRENCY)
    streams = [Stream(i, args.jobs[i % len(args.jobs)]) for i in range(args.clients)]
    tasks = [asyncio.create_task(run_stream(s, args.host, args.port, args.report_every, gate)) for s in streams]
    await asyncio.gather(*(s.ready.wait() for s in streams))
    failed = sum(1 for s in streams if s.error)
    print(f"ready {len(streams) - failed} {failed}", flush=True)

    loop = asyncio.get_running_loop()
    while Marks.stop is None:
        line = await loop.run_in_executor(None, sys.stdin.readline)
        if not line:
            break
        word = line.strip()
        if word == "start":
            Marks.start = time.monotonic()
        elif word == "stop":
            Marks.stop = time.monotonic()
    stop = Marks.stop or time.monotonic()
    _, pending = await asyncio.wait(tasks, timeout=max(0.0, stop + args.end_timeout - time.monotonic()))
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    for s in streams:
        if not s.ended_cleanly and not s.error:
            s.error = f"still open {args.end_timeout:.0f} s after the load ended"

    failures = {}
    for s in streams:
        problems = judge(s, args.max_gap)
        if problems:
            failures[s.index] = problems
            print(f"load_sse: client {s.index} (job {s.job}): " + "; ".join(problems), file=sys.stderr)
    gaps = sorted(max_gap(s) for s in streams)
    ends = sorted(s.end_time - stop for s in streams if s.end_time is not None and s.ended_cleanly)
    summary = {
        "clients": len(streams),
        "failed": len(failures),
        "progress_events": sum(s.progress for s in streams),
        "bytes": sum(s.bytes for s in streams),
        "events_in_window": sum(
            1 for s in streams for t in s.progress_times
            if Marks.start is not None and Marks.stop is not None and Marks.start <= t <= Marks.stop),
        "window_seconds": (Marks.stop - Marks.start) if Marks.start and Marks.stop else None,
        "max_gap_seconds": gaps[-1] if gaps else None,
        "median_max_gap_seconds": gaps[len(gaps) // 2] if gaps else None,
        "max_job_gap_seconds": max((g for g in map(job_gap, streams) if g is not None), default=None),
        "results": {status: sum(1 for s in streams if s.result_status == status)
                    for status in sorted({str(s.result_status) for s in streams})},
        "last_iteration_min": min((s.last_iteration or 0) for s in streams),
        "last_iteration_max": max((s.last_iteration or 0) for s in streams),
        "keepalives": sum(s.keepalives for s in streams),
        "ended_after_stop_max_seconds": ends[-1] if ends else None,
    }
    print("summary " + json.dumps(summary), flush=True)
    print(
        "report {clients} clients, {failed} failed; {progress_events} progress events ({events_in_window} while the"
        " load ran, {window:.1f} s), {mb:.1f} MB; longest silence while the load ran {gap:.2f} s (median client"
        " {median_gap:.2f} s; the job clock advanced at most {job_gap:.2f} s between two events); results {results};"
        " last iteration {last_iteration_min}..{last_iteration_max}; streams ended at most {ended:.2f} s after the"
        " load".format(
            window=summary["window_seconds"] or 0, mb=summary["bytes"] / 1e6, gap=summary["max_gap_seconds"] or 0,
            median_gap=summary["median_max_gap_seconds"] or 0, job_gap=summary["max_job_gap_seconds"] or 0,
            ended=summary["ended_after_stop_max_seconds"] or -1, **summary),
        flush=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
