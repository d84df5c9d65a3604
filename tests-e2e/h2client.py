"""A frame-level HTTP/2 client for the conformance tests (and wherever a test needs to place frames
itself): a raw socket, frames built with hyperframe (or by hand where a frame must be invalid), header
blocks with hpack.

Python's `h2` refuses to send an invalid frame, and a conformance test is mostly invalid frames, so this
client keeps little protocol state: it sends the connection preface and a SETTINGS frame, ACKs the
server's SETTINGS, decodes the server's header blocks (one HPACK decoder per connection, so every block is
decoded in order), collects what arrives on each stream (giving back flow-control credit for its DATA), and
waits for a GOAWAY, a RST_STREAM or a response with a timeout. Every frame the server sent is kept in
`log`, so that a failed expectation shows what came back instead.
"""

from __future__ import annotations

import socket
import struct
import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Iterable

import hpack
from hyperframe.frame import (ContinuationFrame, DataFrame, Frame, GoAwayFrame, HeadersFrame, PingFrame,
                              RstStreamFrame, SettingsFrame, WindowUpdateFrame)

from helpers import Response

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

# RFC 9113 §7.
NO_ERROR = 0x0
PROTOCOL_ERROR = 0x1
INTERNAL_ERROR = 0x2
FLOW_CONTROL_ERROR = 0x3
SETTINGS_TIMEOUT = 0x4
STREAM_CLOSED = 0x5
FRAME_SIZE_ERROR = 0x6
REFUSED_STREAM = 0x7
CANCEL = 0x8
COMPRESSION_ERROR = 0x9
CONNECT_ERROR = 0xA
ENHANCE_YOUR_CALM = 0xB
INADEQUATE_SECURITY = 0xC
HTTP_1_1_REQUIRED = 0xD
ERROR_NAMES = {code: name for name, code in [
    ("NO_ERROR", NO_ERROR), ("PROTOCOL_ERROR", PROTOCOL_ERROR), ("INTERNAL_ERROR", INTERNAL_ERROR),
    ("FLOW_CONTROL_ERROR", FLOW_CONTROL_ERROR), ("SETTINGS_TIMEOUT", SETTINGS_TIMEOUT),
    ("STREAM_CLOSED", STREAM_CLOSED), ("FRAME_SIZE_ERROR", FRAME_SIZE_ERROR), ("REFUSED_STREAM", REFUSED_STREAM),
    ("CANCEL", CANCEL), ("COMPRESSION_ERROR", COMPRESSION_ERROR), ("CONNECT_ERROR", CONNECT_ERROR),
    ("ENHANCE_YOUR_CALM", ENHANCE_YOUR_CALM), ("INADEQUATE_SECURITY", INADEQUATE_SECURITY),
    ("HTTP_1_1_REQUIRED", HTTP_1_1_REQUIRED)]}

# Frame types (RFC 9113 §6) and flags, for frames built by hand.
DATA, HEADERS, PRIORITY, RST_STREAM, SETTINGS, PUSH_PROMISE, PING, GOAWAY, WINDOW_UPDATE, CONTINUATION = range(10)
FLAG_END_STREAM = 0x1
FLAG_ACK = 0x1
FLAG_END_HEADERS = 0x4
FLAG_PADDED = 0x8
FLAG_PRIORITY = 0x20

# SETTINGS parameters (RFC 9113 §6.5.2).
HEADER_TABLE_SIZE = 0x1
ENABLE_PUSH = 0x2
MAX_CONCURRENT_STREAMS = 0x3
INITIAL_WINDOW_SIZE = 0x4
MAX_FRAME_SIZE = 0x5
MAX_HEADER_LIST_SIZE = 0x6


def error_name(code: int) -> str:
    return ERROR_NAMES.get(code, f"0x{code:x}")


def raw_frame(frame_type: int, flags: int, stream_id: int, payload: bytes = b"", length: int | None = None) -> bytes:
    """A frame exactly as given, valid or not; `length` overrides the header's length field."""
    size = len(payload) if length is None else length
    return struct.pack(">I", size)[1:] + struct.pack(">BBI", frame_type, flags, stream_id & 0xFFFFFFFF) + payload


def settings_payload(values: dict[int, int] | Iterable[tuple[int, int]]) -> bytes:
    items = values.items() if isinstance(values, dict) else values
    return b"".join(struct.pack(">HI", key, value) for key, value in items)


def literal_block(headers: Iterable[tuple[str | bytes, str | bytes]]) -> bytes:
    """An HPACK block of literal fields without indexing, new names, no Huffman coding (RFC 7541 §6.2.2): the
    names and values go on the wire byte for byte, so a test can send what an HPACK encoder would refuse
    or normalise (uppercase names, pseudo-headers in any order)."""

    def string(raw: bytes) -> bytes:
        assert len(raw) < 127, "long strings need a multi-byte length"
        return bytes([len(raw)]) + raw

    out = bytearray()
    for name, value in headers:
        name = name.encode() if isinstance(name, str) else name
        value = value.encode() if isinstance(value, str) else value
        out += b"\x00" + string(name) + string(value)
    return bytes(out)


@dataclass
class StreamState:
    """What the server sent on one stream so far."""
    status: int | None = None
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytearray = field(default_factory=bytearray)
    ended: bool = False            # END_STREAM received
    reset: int | None = None       # the error code of a RST_STREAM received

    def response(self) -> Response:
        assert self.status is not None
        return Response(self.status, self.headers, bytes(self.body))


def describe(frame: Frame) -> str:
    if isinstance(frame, GoAwayFrame):
        return (f"GOAWAY(last_stream_id={frame.last_stream_id}, {error_name(frame.error_code)}, "
                f"{frame.additional_data[:120]!r})")
    if isinstance(frame, RstStreamFrame):
        return f"RST_STREAM(stream {frame.stream_id}, {error_name(frame.error_code)})"
    if isinstance(frame, HeadersFrame):
        return f"HEADERS(stream {frame.stream_id}, {sorted(frame.flags)}, {getattr(frame, 'decoded', None)})"
    if isinstance(frame, DataFrame):
        return f"DATA(stream {frame.stream_id}, {len(frame.data)} bytes, {sorted(frame.flags)})"
    if isinstance(frame, SettingsFrame):
        return f"SETTINGS({sorted(frame.flags)}, {dict(frame.settings)})"
    return f"{type(frame).__name__}(stream {frame.stream_id}, {sorted(frame.flags)})"


class FrameClient:
    """One HTTP/2 connection over a raw socket. `settings` are those of the first SETTINGS frame (none by
    default); `preface=False` sends nothing, for tests of the preface itself."""

    def __init__(self, port: int, host: str = "127.0.0.1", *, settings: dict[int, int] | None = None,
                 preface: bool = True, timeout: float = 5.0, auto_window: bool = True):
        self.port = port
        self.host = host
        self.timeout = timeout
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.encoder = hpack.Encoder()
        self.decoder = hpack.Decoder()
        self.buffer = bytearray()
        self.log: list[Frame] = []
        self.closed = False          # the server closed (or reset) the connection
        self.send_failed = False     # a send hit a closed connection
        self.server_settings: dict[int, int] | None = None
        self.settings_acked = False  # the server ACKed our SETTINGS
        self.next_stream_id = 1
        self._send_lock = threading.Lock()  # a flooding thread and the reader's ACKs must not interleave bytes
        self.streams: dict[int, StreamState] = {}
        self.auto_window = auto_window  # give back flow-control credit for every DATA frame as it arrives
        self._pending_headers: HeadersFrame | None = None
        self._pending_block = bytearray()
        if preface:
            self.send(PREFACE + raw_frame(SETTINGS, 0, 0, settings_payload(settings or {})))

    # ------------------------------------------------------------------------------------------ plumbing
    def __enter__(self) -> "FrameClient":
        return self

    def __exit__(self, *_exc) -> None:
        self.close()

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass

    def send(self, *frames: bytes | Frame) -> bool:
        """Sends frames (bytes or hyperframe objects) as one write; False when the connection is gone."""
        data = b"".join(f if isinstance(f, (bytes, bytearray)) else f.serialize() for f in frames)
        try:
            with self._send_lock:
                self.sock.sendall(data)
            return True
        except (BrokenPipeError, ConnectionResetError):
            self.send_failed = True
            return False

    def new_stream_id(self) -> int:
        stream_id = self.next_stream_id
        self.next_stream_id += 2
        return stream_id

    def _fill(self, need: int, deadline: float) -> bool:
        """Reads until `need` bytes are buffered; False at the end of the connection."""
        while len(self.buffer) < need:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError
            self.sock.settimeout(remaining)
            try:
                data = self.sock.recv(1 << 16)
            except socket.timeout:
                raise TimeoutError from None
            except ConnectionResetError:
                data = b""
            if not data:
                self.closed = True
                return False
            self.buffer += data
        return True

    def next_frame(self, timeout: float | None = None) -> Frame | None:
        """The next frame from the server (None once it closed the connection); TimeoutError if none came.
        A header block split over CONTINUATION frames comes back as its HEADERS frame, with the decoded
        fields in `.decoded`. The server's SETTINGS are ACKed as they arrive; what arrives on a stream is
        collected in `streams`."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while True:
            if self.closed and len(self.buffer) < 9:
                return None
            if not self._fill(9, deadline):
                return None
            length = int.from_bytes(self.buffer[:3], "big")
            if not self._fill(9 + length, deadline):
                return None
            frame, _ = Frame.parse_frame_header(memoryview(bytes(self.buffer[:9])))
            frame.parse_body(memoryview(bytes(self.buffer[9:9 + length])))
            del self.buffer[:9 + length]
            if isinstance(frame, (HeadersFrame, ContinuationFrame)):
                if isinstance(frame, HeadersFrame):
                    self._pending_headers, self._pending_block = frame, bytearray()
                assert self._pending_headers is not None, f"CONTINUATION without HEADERS from the server: {frame}"
                self._pending_block += frame.data
                if "END_HEADERS" not in frame.flags:
                    continue
                frame = self._pending_headers
                frame.decoded = [(k.decode() if isinstance(k, bytes) else k, v.decode() if isinstance(v, bytes) else v)
                                 for k, v in self.decoder.decode(bytes(self._pending_block))]
                self._pending_headers = None
            self.log.append(frame)
            self._track(frame)
            if isinstance(frame, SettingsFrame):
                if "ACK" in frame.flags:
                    self.settings_acked = True
                else:
                    if self.server_settings is None:
                        self.server_settings = dict(frame.settings)
                    self.send(raw_frame(SETTINGS, FLAG_ACK, 0))
            return frame

    def _track(self, frame: Frame) -> None:
        if frame.stream_id == 0 or not isinstance(frame, (HeadersFrame, DataFrame, RstStreamFrame)):
            return
        state = self.streams.setdefault(frame.stream_id, StreamState())
        if isinstance(frame, RstStreamFrame):
            state.reset = frame.error_code
            return
        if isinstance(frame, HeadersFrame):
            fields = frame.decoded
            status = next((v for k, v in fields if k == ":status"), None)
            if status is not None and (state.status is None or state.status < 200):
                state.status = int(status)
                state.headers = [(k, v) for k, v in fields if not k.startswith(":")]
            else:
                state.headers += fields  # trailers
        else:
            state.body += frame.data
            if self.auto_window and frame.flow_controlled_length:
                updates = [WindowUpdateFrame(0, window_increment=frame.flow_controlled_length)]
                if "END_STREAM" not in frame.flags:
                    updates.append(WindowUpdateFrame(frame.stream_id, window_increment=frame.flow_controlled_length))
                self.send(*updates)
        if "END_STREAM" in frame.flags:
            state.ended = True

    def history(self) -> str:
        return "; ".join(describe(f) for f in self.log[-12:]) + (" ; <closed>" if self.closed else "")

    def wait_for(self, predicate: Callable[[Frame], bool], timeout: float | None = None, what: str = "a frame"
                 ) -> Frame:
        """Reads until a frame satisfies `predicate`; AssertionError at a timeout or the end of the connection."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while True:
            try:
                frame = self.next_frame(max(0.0, deadline - time.monotonic()))
            except TimeoutError:
                raise AssertionError(f"no {what} within the timeout; the server sent: {self.history()}") from None
            if frame is None:
                raise AssertionError(f"connection closed before {what}; the server sent: {self.history()}")
            if predicate(frame):
                return frame

    def read_until_closed(self, timeout: float | None = None) -> list[Frame]:
        """Every frame until the server closes the connection; AssertionError if it does not in time."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        frames = []
        while True:
            try:
                frame = self.next_frame(max(0.0, deadline - time.monotonic()))
            except TimeoutError:
                raise AssertionError(f"the server did not close the connection; it sent: {self.history()}") from None
            if frame is None:
                return frames
            frames.append(frame)

    # ------------------------------------------------------------------------------------------ errors
    def expect_goaway(self, error_code: int | Iterable[int], timeout: float | None = None,
                      closes: bool = True) -> GoAwayFrame:
        """A connection error: a GOAWAY with `error_code` (or one of several), then (closes=True) the end of
        the connection."""
        codes = {error_code} if isinstance(error_code, int) else set(error_code)
        wanted = " or ".join(error_name(c) for c in sorted(codes))
        goaway = self.wait_for(lambda f: isinstance(f, GoAwayFrame), timeout, f"GOAWAY({wanted})")
        assert goaway.error_code in codes, (f"GOAWAY with {error_name(goaway.error_code)}, expected {wanted} "
                                            f"(debug data {goaway.additional_data!r}); server sent: {self.history()}")
        if closes:
            self.read_until_closed(timeout)
        return goaway

    def expect_stream_error(self, stream_id: int, error_code: int, timeout: float | None = None,
                            connection_error_ok: bool = False, response_ok: bool = False) -> Frame:
        """A stream error: RST_STREAM(stream_id, error_code). With connection_error_ok, a GOAWAY with that
        code is accepted too (RFC 9113 §5.4.1 lets an endpoint end the connection for a stream error). A
        response on the stream fails the expectation unless response_ok (the request was complete)."""

        def match(f: Frame) -> bool:
            return ((isinstance(f, RstStreamFrame) and f.stream_id == stream_id)
                    or isinstance(f, GoAwayFrame)
                    or (isinstance(f, HeadersFrame) and f.stream_id == stream_id and not response_ok))

        frame = self.wait_for(match, timeout, f"RST_STREAM(stream {stream_id}, {error_name(error_code)})")
        if isinstance(frame, GoAwayFrame):
            assert connection_error_ok, (f"expected RST_STREAM(stream {stream_id}, {error_name(error_code)}), "
                                         f"got {describe(frame)}; server sent: {self.history()}")
        assert not isinstance(frame, HeadersFrame), (f"expected RST_STREAM(stream {stream_id}, "
                                                     f"{error_name(error_code)}), but the stream got a response: "
                                                     f"{describe(frame)}")
        assert frame.error_code == error_code, (f"{describe(frame)}, expected {error_name(error_code)}; "
                                                f"server sent: {self.history()}")
        return frame

    # ------------------------------------------------------------------------------------------ requests
    def handshake(self, timeout: float | None = None) -> dict[int, int]:
        """Waits for the server's SETTINGS and its ACK of ours; returns the server's settings."""
        self.wait_for(lambda f: self.server_settings is not None and self.settings_acked, timeout,
                      "SETTINGS and SETTINGS ACK")
        return self.server_settings or {}

    def request_headers(self, method: str, path: str, extra: Iterable[tuple[str, str]] = ()) -> list[tuple[str, str]]:
        return [(":method", method), (":scheme", "http"), (":path", path),
                (":authority", f"{self.host}:{self.port}"), *extra]

    def send_headers(self, stream_id: int, headers: list[tuple[str, str]], end_stream: bool = True) -> None:
        block = self.encoder.encode(headers)
        flags = ["END_HEADERS"] + (["END_STREAM"] if end_stream else [])
        self.send(HeadersFrame(stream_id, data=block, flags=flags))

    def send_data(self, stream_id: int, data: bytes, end_stream: bool = False, chunk: int = 16384) -> None:
        frames = []
        for start in range(0, max(len(data), 1), chunk):
            last = start + chunk >= len(data)
            flags = ["END_STREAM"] if end_stream and last else []
            frames.append(DataFrame(stream_id, data=data[start:start + chunk], flags=flags))
        self.send(*frames)

    def request(self, method: str, path: str, headers: Iterable[tuple[str, str]] = (), body: bytes | None = None,
                stream_id: int | None = None) -> int:
        """Sends a whole request (a small body only: no flow control); returns its stream id."""
        stream_id = stream_id or self.new_stream_id()
        self.send_headers(stream_id, self.request_headers(method, path, headers), end_stream=body is None)
        if body is not None:
            self.send_data(stream_id, body, end_stream=True)
        return stream_id

    def response(self, stream_id: int, timeout: float | None = None) -> Response:
        """Reads until the response on `stream_id` is complete (END_STREAM); AssertionError if the stream is
        reset first, or the connection ends with an error."""
        def done(frame: Frame) -> bool:
            if isinstance(frame, GoAwayFrame) and frame.error_code != NO_ERROR:
                raise AssertionError(f"{describe(frame)} while waiting for stream {stream_id}")
            state = self.streams.get(stream_id)
            if state is not None and state.reset is not None and not state.ended:
                raise AssertionError(f"stream {stream_id} reset with {error_name(state.reset)} before its response "
                                     f"ended; server sent: {self.history()}")
            return state is not None and state.ended

        state = self.streams.get(stream_id)
        if state is None or not state.ended:
            self.wait_for(done, timeout, f"the end of the response on stream {stream_id}")
        return self.streams[stream_id].response()

    def get(self, path: str, timeout: float | None = None) -> Response:
        return self.response(self.request("GET", path), timeout)

    def ping(self, opaque: bytes = b"e2e-ping", timeout: float | None = None) -> PingFrame:
        """Sends a PING and waits for its ACK (the opaque data must come back unchanged)."""
        self.send(PingFrame(0, opaque_data=opaque))
        ack = self.wait_for(lambda f: isinstance(f, PingFrame) and "ACK" in f.flags, timeout, "a PING ACK")
        assert ack.opaque_data == opaque, f"PING ACK carries {ack.opaque_data!r}, sent {opaque!r}"
        return ack
