#!/usr/bin/env python3
"""bench/slowloris.py — the slow-loris side of bench/load.sh: N connections that never finish a request head.

Each connection sends the first byte of a request head (`GET /healthz HTTP/1.1\\r\\nHost: …\\r\\nX-Slow: aaaa…`)
at once, then one more byte every --interval seconds — more often than the server's header timeout, so that a
server which only timed out silent connections would hold them for ever. Each connection notes when its first
byte went out (t0) and when the server closed it (end of stream or reset, seen by a reader that is always
waiting), and whether a `408` answer came first. Connections open at most CONNECT_CONCURRENCY at a time, so
the listen backlog never overflows; every one holds a descriptor until the server closes it (or --give-up
seconds pass), and then closes its side.

Two HTTP/2 (h2c, prior knowledge) variants, for the same attack on the same port:
  --h2-preface K: K of the N connections trickle the connection preface (`PRI * HTTP/2.0\\r\\n\\r\\nSM\\r\\n\\r\\n`,
                  24 bytes, so never complete before the header timeout) instead of an HTTP/1.1 head;
  --h2-headers K: K more send the preface and an empty SETTINGS frame at once, then trickle a HEADERS frame
                  (a GET with an `x-slow` field of 200 bytes: 248 bytes in all) — a request head over HTTP/2.

Protocol with the caller: prints `ready <open> <failed> <wall-time>` when every connection is open and has
sent its first byte, then `summary {json}` when every connection has been closed by the server or given up:
the wall-clock time of the server's first close, and per kind the close delays (seconds from t0) and how
many fell outside [--timeout − --early, --timeout + --late]; then per kind a line `report <in words>` and a
line `verdict <kind>\t<1 or 0>\t<why>`. Exit 0 when every connection opened and was closed inside that
window, 1 otherwise.
Standard library only.

Usage: slowloris.py HOST PORT --connections N --timeout T [--interval S] [--late S] [--early S]
                    [--give-up S] [--h2-preface K] [--h2-headers K]
"""
import os
import sys

# bench/ holds math.py: drop this file's directory from the path, or `import math` (in asyncio, statistics)
# would find that script instead of the standard library's module.
_here = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _here]

import argparse  # noqa: E402
import asyncio  # noqa: E402
import json  # noqa: E402
import socket  # noqa: E402
import time  # noqa: E402

CONNECT_CONCURRENCY = 100
H2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
H2_SETTINGS = b"\x00\x00\x00\x04\x00\x00\x00\x00\x00"  # an empty SETTINGS frame


def h2_headers_frame(authority):
    """A HEADERS frame (stream 1, END_STREAM | END_HEADERS) for GET /healthz, HPACK without Huffman: static-table
    indexes for :method GET (2), :scheme http (6), :path / (4) — /healthz is not in the table, so :path is a literal
    with indexed name 4 — :authority a literal with indexed name 1, then a literal `x-slow` with a new name."""
    def literal_indexed_name(index, value):
        return bytes([index]) + bytes([len(value)]) + value  # 0000xxxx: without indexing; lengths < 127 here

    value = b"a" * 200
    block = (b"\x82\x86" + literal_indexed_name(4, b"/healthz") + literal_indexed_name(1, authority.encode())
             + b"\x00\x06x-slow" + b"\x7f" + bytes([len(value) - 127]) + value)
    return len(block).to_bytes(3, "big") + b"\x01\x05\x00\x00\x00\x01" + block


class Slow:
    def __init__(self, index, kind, payload, opening=b""):
        self.index = index
        self.kind = kind
        self.payload = payload
        self.opening = opening  # sent at once with the payload's first byte
        self.t0 = None
        self.closed_at = None
        self.how = None  # "eof" or "reset"
        self.answer = b""
        self.sent = 0
        self.error = None
        self.opened = asyncio.Event()


async def drip(slow, writer, interval):
    """Sends the rest of the payload a byte at a time, every `interval` seconds."""
    for i in range(1, len(slow.payload)):
        await asyncio.sleep(interval)
        try:
            writer.write(slow.payload[i:i + 1])
            await writer.drain()
            slow.sent += 1
        except (ConnectionError, OSError):
            return


async def run_one(slow, host, port, interval, give_up, gate):
    writer = None
    dripper = None
    try:
        async with gate:
            try:
                reader, writer = await asyncio.open_connection(host, port)
                writer.transport.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                writer.write(slow.opening + slow.payload[:1])
                await writer.drain()
                slow.t0 = time.monotonic()
                slow.sent = 1
            except OSError as err:
                slow.error = f"{type(err).__name__}: {err}"
                return
            finally:
                slow.opened.set()
        dripper = asyncio.create_task(drip(slow, writer, interval))
        deadline = slow.t0 + give_up
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            try:
                data = await asyncio.wait_for(reader.read(4096), timeout=remaining)
            except asyncio.TimeoutError:
                break
            except (ConnectionResetError, BrokenPipeError, OSError):
                slow.closed_at, slow.how = time.monotonic(), "reset"
                break
            if not data:
                slow.closed_at, slow.how = time.monotonic(), "eof"
                break
            slow.answer += data
    finally:
        slow.opened.set()
        if dripper is not None:
            dripper.cancel()
        if writer is not None:
            writer.close()


def describe(delays):
    if not delays:
        return {}
    delays = sorted(delays)
    return {
        "min": round(delays[0], 3),
        "median": round(delays[len(delays) // 2], 3),
        "p99": round(delays[max(0, -(-99 * len(delays) // 100) - 1)], 3),
        "max": round(delays[-1], 3),
    }


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("host")
    parser.add_argument("port", type=int)
    parser.add_argument("--connections", type=int, default=1000)
    parser.add_argument("--timeout", type=float, required=True, help="the server's header timeout")
    parser.add_argument("--interval", type=float, default=2.0, help="seconds between bytes")
    parser.add_argument("--late", type=float, default=2.0, help="allowed lateness of the close")
    parser.add_argument("--early", type=float, default=0.25, help="allowed earliness of the close")
    parser.add_argument("--give-up", type=float, default=None, help="stop waiting for a close after this")
    parser.add_argument("--h2-preface", type=int, default=0, help="connections that trickle the h2 preface")
    parser.add_argument("--h2-headers", type=int, default=0, help="connections that trickle an h2 HEADERS frame")
    args = parser.parse_args()
    give_up = args.give_up if args.give_up is not None else args.timeout + args.late + 10

    head = f"GET /healthz HTTP/1.1\r\nHost: {args.host}:{args.port}\r\nX-Slow: ".encode() + b"a" * 4096
    slows = []
    for i in range(args.connections):
        if i < args.h2_preface:
            slows.append(Slow(i, "h2-preface", H2_PREFACE))
        elif i < args.h2_preface + args.h2_headers:
            slows.append(Slow(i, "h2-headers", h2_headers_frame(f"{args.host}:{args.port}"), H2_PREFACE + H2_SETTINGS))
        else:
            slows.append(Slow(i, "http1-head", head))
    gate = asyncio.Semaphore(CONNECT_CONCURRENCY)
    tasks = [asyncio.create_task(run_one(s, args.host, args.port, args.interval, give_up, gate)) for s in slows]
    await asyncio.gather(*(s.opened.wait() for s in slows))
    failed = sum(1 for s in slows if s.t0 is None)
    print(f"ready {len(slows) - failed} {failed} {time.time():.3f}", flush=True)
    await asyncio.gather(*tasks)

    low, high = args.timeout - args.early, args.timeout + args.late
    closes = [s.closed_at for s in slows if s.closed_at is not None]
    wall_offset = time.time() - time.monotonic()
    summary = {
        "timeout": args.timeout, "window": [low, high], "interval": args.interval,
        # Wall-clock time of the first close the server made, so the caller can tell which of its own
        # requests ran while every slow connection was still open.
        "first_close_wall": round(min(closes) + wall_offset, 3) if closes else None,
        "kinds": {},
    }
    ok = failed == 0
    for kind in sorted({s.kind for s in slows}):
        group = [s for s in slows if s.kind == kind]
        opened = [s for s in group if s.t0 is not None]
        closed = [s for s in opened if s.closed_at is not None]
        delays = [s.closed_at - s.t0 for s in closed]
        early = sum(1 for d in delays if d < low)
        late = sum(1 for d in delays if d > high)
        never = len(opened) - len(closed)
        summary["kinds"][kind] = {
            "connections": len(group),
            "opened": len(opened),
            "failed_to_open": len(group) - len(opened),
            "closed": len(closed),
            "closed_by_eof": sum(1 for s in closed if s.how == "eof"),
            "closed_by_reset": sum(1 for s in closed if s.how == "reset"),
            "answered_408": sum(1 for s in opened if s.answer.startswith(b"HTTP/1.1 408")),
            # HTTP/1.1: the status lines of any other answer; HTTP/2 answers are frames (SETTINGS, GOAWAY), not listed.
            "answered_other": sorted({s.answer.split(b"\r\n", 1)[0].decode("latin-1", "replace")
                                      for s in opened if s.answer and not s.answer.startswith(b"HTTP/1.1 408")
                                      and not kind.startswith("h2")}),
            "answer_bytes_max": max((len(s.answer) for s in opened), default=0),
            "bytes_sent_max": max((s.sent for s in opened), default=0),
            "close_delay_seconds": describe(delays),
            "closed_early": early,
            "closed_late": late,
            "not_closed": never,
        }
        if early or late or never or len(opened) < len(group):
            ok = False
        for s in group:
            if s.error:
                print(f"slowloris: connection {s.index} ({kind}) failed to open: {s.error}", file=sys.stderr)
    print("summary " + json.dumps(summary), flush=True)
    for kind, v in summary["kinds"].items():
        delays = v["close_delay_seconds"]
        other = f", other answers: {v['answered_other']!r}"[:80] if v["answered_other"] else ""
        if kind.startswith("h2"):
            other = f"; HTTP/2 frames received: up to {v['answer_bytes_max']} bytes"
        print(f"report {kind}: {v['opened']} opened, {v['closed']} closed by the server ({v['closed_by_eof']} EOF,"
              f" {v['closed_by_reset']} reset; {v['answered_408']} answered 408{other}); closed after the first byte"
              f" in min {delays.get('min', '-')} / median {delays.get('median', '-')} / p99 {delays.get('p99', '-')}"
              f" / max {delays.get('max', '-')} s; {v['closed_early']} early, {v['closed_late']} late,"
              f" {v['not_closed']} not closed after {give_up:.0f} s", flush=True)
        passed = (v["opened"] == v["connections"] and v["closed"] == v["opened"] and not v["closed_early"]
                  and not v["closed_late"])
        print(f"verdict {kind}\t{int(passed)}\t{v['closed'] - v['closed_early'] - v['closed_late']} of"
              f" {v['connections']} closed in [{low:.2f}, {high:.2f}] s after their first byte; {v['closed_early']}"
              f" early, {v['closed_late']} late, {v['not_closed']} not closed after {give_up:.0f} s;"
              f" latest {delays.get('max', '-')} s", flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
