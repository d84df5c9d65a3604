#!/usr/bin/env python3
"""Open N idle HTTP/1.1 keep-alive connections to a server and hold them.

Each connection sends one `GET PATH` (so the server has seen a full request/response, as a real
keep-alive client would) and then stays open and silent. Setup runs at most CONCURRENCY at a time so the
listen backlog never overflows. When all are up the script prints `ready <open>` on stdout and waits for
a line (or EOF) on stdin; then it prints `still-open <n>` (connections the server had not closed) and exits.

Usage: idle_conns.py HOST PORT [N=10000] [PATH=/healthz]
Needs `ulimit -n` above N (the caller raises it). Standard library only.
"""
import asyncio
import sys

CONCURRENCY = 256


async def open_one(host, port, path, sem, conns, failures):
    async with sem:
        try:
            reader, writer = await asyncio.open_connection(host, port)
            writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode())
            await writer.drain()
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            if length:
                await reader.readexactly(length)
            conns.append((reader, writer))
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError) as err:
            failures.append(repr(err))


async def main():
    host, port = sys.argv[1], int(sys.argv[2])
    count = int(sys.argv[3]) if len(sys.argv) > 3 else 10000
    path = sys.argv[4] if len(sys.argv) > 4 else "/healthz"
    sem = asyncio.Semaphore(CONCURRENCY)
    conns, failures = [], []
    await asyncio.gather(*(open_one(host, port, path, sem, conns, failures) for _ in range(count)))
    if failures:
        print(f"{len(failures)} connections failed, e.g. {failures[0]}", file=sys.stderr)
    print(f"ready {len(conns)}", flush=True)
    # Hold until the caller has measured; reading stdin off the event loop keeps the sockets serviced.
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    still_open = sum(1 for reader, _ in conns if not reader.at_eof())
    print(f"still-open {still_open}", flush=True)
    for _, writer in conns:
        writer.close()


if __name__ == "__main__":
    asyncio.run(main())
