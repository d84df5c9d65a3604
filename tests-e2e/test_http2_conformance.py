"""HTTP/2 conformance (RFC 9113) with raw frames: each misbehaviour gets the error the RFC names.

Frames are built with hyperframe, or by hand where they must be invalid; header blocks with hpack, or as
literal bytes where an encoder would refuse them (h2client.py). A connection error is a GOAWAY with the
code, then the end of the connection; a stream error is a RST_STREAM on that stream, after which the
connection must still serve a request.

These run against the shared server. `H2_CONFORMANCE_PORT=PORT` runs them against another h2c server on
127.0.0.1 instead (it must answer 200 on /healthz), e.g. Debian's `nghttpd --no-tls -d DIR PORT` with a
`healthz` file in DIR: the same libnghttp2, so most answers are the same; where libnghttp2 alone does not
do what the RFC asks, the test says so.
"""

from __future__ import annotations

import os
import socket
import threading
import time

import pytest
from hyperframe.frame import GoAwayFrame, RstStreamFrame, SettingsFrame

from h2client import (CANCEL, COMPRESSION_ERROR, CONTINUATION, DATA, ENABLE_PUSH, ENHANCE_YOUR_CALM, GOAWAY,
                      PRIORITY, PUSH_PROMISE, REFUSED_STREAM, RST_STREAM, FLAG_ACK, FLAG_END_HEADERS,
                      FLAG_END_STREAM, FLOW_CONTROL_ERROR, FRAME_SIZE_ERROR, HEADERS, INITIAL_WINDOW_SIZE,
                      MAX_CONCURRENT_STREAMS, MAX_FRAME_SIZE, PING, PREFACE, PROTOCOL_ERROR, SETTINGS,
                      STREAM_CLOSED, WINDOW_UPDATE, FrameClient, error_name, literal_block, raw_frame,
                      settings_payload)


@pytest.fixture(scope="module")
def port(request) -> int:
    external = os.environ.get("H2_CONFORMANCE_PORT")
    if external:
        return int(external)
    return request.getfixturevalue("server").port


@pytest.fixture
def client(port):
    """A connection past the handshake: the server's SETTINGS received and ACKed, ours ACKed."""
    with FrameClient(port) as connection:
        connection.handshake()
        yield connection


def authority(port: int) -> str:
    return f"127.0.0.1:{port}"


def assert_serves(connection: FrameClient) -> None:
    """The connection still works: a PING is answered and a new stream gets 200 from /healthz."""
    connection.ping(b"stillok!")
    response = connection.get("/healthz")
    assert response.status == 200, response


def assert_new_connection_serves(port: int) -> None:
    with FrameClient(port) as connection:
        connection.handshake()
        response = connection.get("/healthz")
        assert response.status == 200, response


def u32(value: int) -> bytes:
    return value.to_bytes(4, "big")


# --------------------------------------------------------------------------------------------- the preface
def test_the_server_settings_come_first_and_advertise_max_concurrent_streams(port):
    with FrameClient(port) as connection:
        first = connection.next_frame()
        assert isinstance(first, SettingsFrame) and "ACK" not in first.flags, \
            f"the first frame is {connection.history()}, not the server's SETTINGS (RFC 9113 §3.4)"
        assert MAX_CONCURRENT_STREAMS in first.settings, f"no SETTINGS_MAX_CONCURRENT_STREAMS in {dict(first.settings)}"
        # RFC 9113 §5.1.2: a value below 100 is not recommended, as it limits parallelism.
        assert first.settings[MAX_CONCURRENT_STREAMS] >= 100, dict(first.settings)
        connection.wait_for(lambda f: isinstance(f, SettingsFrame) and "ACK" in f.flags, what="the ACK of our SETTINGS")


def test_our_settings_are_acknowledged_and_an_unknown_setting_is_ignored(client):
    client.send(raw_frame(SETTINGS, 0, 0, settings_payload([(0x99, 1), (INITIAL_WINDOW_SIZE, 100000)])))
    client.wait_for(lambda f: isinstance(f, SettingsFrame) and "ACK" in f.flags, what="the ACK of the second SETTINGS")
    assert_serves(client)


def read_raw_until_closed(sock: socket.socket, timeout: float = 5) -> bytes:
    sock.settimeout(timeout)
    received = bytearray()
    deadline = time.monotonic() + timeout
    while True:
        if time.monotonic() > deadline:
            raise AssertionError(f"the server did not close the connection after a bad preface; "
                                 f"got {bytes(received[:200])!r}")
        try:
            data = sock.recv(65536)
        except ConnectionResetError:
            return bytes(received)
        except socket.timeout:
            continue
        if not data:
            return bytes(received)
        received += data


def test_a_bad_preface_closes_the_connection(port):
    """RFC 9113 §3.4: an invalid preface is a connection error of type PROTOCOL_ERROR; the GOAWAY may be
    omitted. The bytes look like the preface but are not it, so an answer as HTTP/1.1 (this port speaks both;
    `PRI * HTTP/2.0` is then a request of an unsupported version) is an error status, never a success."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(b"PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n" + raw_frame(SETTINGS, 0, 0))
        received = read_raw_until_closed(sock)
    if received.startswith(b"HTTP/1.1 "):
        status = int(received[9:12])
        assert status >= 400, f"a bad preface was answered {received[:200]!r}"
        return
    frames = []
    while len(received) >= 9:
        length = int.from_bytes(received[:3], "big")
        frames.append((received[3], received[9:9 + length]))
        received = received[9 + length:]
    # A server that sends its SETTINGS at once (nghttpd does) may have sent them; any GOAWAY says PROTOCOL_ERROR.
    assert all(kind in (SETTINGS, GOAWAY) for kind, _ in frames), f"frame types after a bad preface: {frames}"
    for kind, payload in frames:
        if kind == GOAWAY:
            code = int.from_bytes(payload[4:8], "big")
            assert code == PROTOCOL_ERROR, f"GOAWAY with {error_name(code)} after a bad preface"
    assert_new_connection_serves(port)


def test_a_preface_not_followed_by_settings_is_a_protocol_error(port):
    """RFC 9113 §3.4: the preface MUST be followed by a SETTINGS frame."""
    with FrameClient(port, preface=False) as connection:
        connection.send(PREFACE + raw_frame(PING, 0, 0, b"12345678"))
        connection.expect_goaway(PROTOCOL_ERROR)


# --------------------------------------------------------------------------------------------- PING
def test_ping_is_answered_with_the_same_eight_bytes(client):
    ack = client.ping(bytes(range(1, 9)))
    assert ack.stream_id == 0


def test_an_unknown_frame_type_is_ignored(client):
    """RFC 9113 §4.1, §5.5: frames of unknown types MUST be ignored, on stream 0 or any other."""
    client.send(raw_frame(0xFA, 0xFF, 0, b"extension"), raw_frame(0xFB, 0, 1, b"x" * 100))
    assert_serves(client)


# --------------------------------------------------------------------------------------------- connection errors
CONNECTION_ERRORS = {
    # RFC 9113 §6.5: SETTINGS
    "settings-ack-with-payload": (raw_frame(SETTINGS, FLAG_ACK, 0, settings_payload({INITIAL_WINDOW_SIZE: 100})),
                                  FRAME_SIZE_ERROR),
    "settings-length-not-multiple-of-6": (raw_frame(SETTINGS, 0, 0, b"\x00\x04\x00\x01\x00"), FRAME_SIZE_ERROR),
    "settings-enable-push-2": (raw_frame(SETTINGS, 0, 0, settings_payload({ENABLE_PUSH: 2})), PROTOCOL_ERROR),
    "settings-initial-window-2^31": (raw_frame(SETTINGS, 0, 0, settings_payload({INITIAL_WINDOW_SIZE: 2**31})),
                                     FLOW_CONTROL_ERROR),
    "settings-max-frame-size-16383": (raw_frame(SETTINGS, 0, 0, settings_payload({MAX_FRAME_SIZE: 16383})),
                                      PROTOCOL_ERROR),
    "settings-max-frame-size-2^24": (raw_frame(SETTINGS, 0, 0, settings_payload({MAX_FRAME_SIZE: 2**24})),
                                     PROTOCOL_ERROR),
    "settings-on-stream-1": (raw_frame(SETTINGS, 0, 1, b""), PROTOCOL_ERROR),
    # §6.7: PING
    "ping-of-7-bytes": (raw_frame(PING, 0, 0, b"1234567"), FRAME_SIZE_ERROR),
    "ping-of-9-bytes": (raw_frame(PING, 0, 0, b"123456789"), FRAME_SIZE_ERROR),
    "ping-on-stream-1": (raw_frame(PING, 0, 1, b"12345678"), PROTOCOL_ERROR),
    # §6.9: WINDOW_UPDATE on the connection
    "window-update-0-on-connection": (raw_frame(WINDOW_UPDATE, 0, 0, u32(0)), PROTOCOL_ERROR),
    "window-update-overflows-connection": (raw_frame(WINDOW_UPDATE, 0, 0, u32(2**31 - 1)), FLOW_CONTROL_ERROR),
    # §6.9, §6.4: WINDOW_UPDATE and RST_STREAM sizes; RST_STREAM on an idle stream
    "window-update-of-3-bytes": (raw_frame(WINDOW_UPDATE, 0, 0, b"\x00\x00\x01"), FRAME_SIZE_ERROR),
    "rst-stream-of-3-bytes": ("rst3", FRAME_SIZE_ERROR),
    "rst-stream-on-idle-stream": (raw_frame(RST_STREAM, 0, 1, u32(CANCEL)), PROTOCOL_ERROR),
    # §8.4: a client cannot push
    "push-promise-from-client": ("push", PROTOCOL_ERROR),
    # §4.3: a header block that cannot be decoded (an index past the static and dynamic tables)
    "hpack-index-out-of-range": (raw_frame(HEADERS, FLAG_END_HEADERS | FLAG_END_STREAM, 1, b"\xff\xe9\x06"),
                                 COMPRESSION_ERROR),
    # §5.1, §5.1.1, §6.1: streams the client may not use
    "data-on-idle-stream": (raw_frame(DATA, FLAG_END_STREAM, 1, b"hello"), PROTOCOL_ERROR),
    "headers-on-even-stream": ("even", PROTOCOL_ERROR),
    # §6.10: CONTINUATION must follow HEADERS without END_HEADERS
    "continuation-without-headers": ("continuation", PROTOCOL_ERROR),
}


@pytest.mark.parametrize("case", list(CONNECTION_ERRORS))
def test_connection_errors(client, port, case):
    frame, code = CONNECTION_ERRORS[case]
    if frame == "even":
        frame = raw_frame(HEADERS, FLAG_END_HEADERS | FLAG_END_STREAM, 2,
                          client.encoder.encode(client.request_headers("GET", "/healthz")))
    elif frame == "rst3":
        stream = open_upload(client)
        frame = raw_frame(RST_STREAM, 0, stream, b"\x00\x00\x08")
    elif frame == "push":
        stream = open_upload(client)
        frame = raw_frame(PUSH_PROMISE, FLAG_END_HEADERS, stream,
                          u32(2) + client.encoder.encode(client.request_headers("GET", "/healthz")))
    elif frame == "continuation":
        frame = raw_frame(CONTINUATION, FLAG_END_HEADERS, 1,
                          literal_block(client.request_headers("GET", "/healthz")))
    client.send(frame)
    client.expect_goaway(code)
    assert_new_connection_serves(port)


def test_a_frame_larger_than_max_frame_size_is_a_frame_size_error(client, port):
    """RFC 9113 §4.2: a DATA frame of 16385 bytes where SETTINGS_MAX_FRAME_SIZE is the default 16384."""
    stream = client.new_stream_id()
    client.send_headers(stream, client.request_headers("POST", "/v1/datasets", [("content-type", "text/csv")]),
                        end_stream=False)
    client.send(raw_frame(DATA, 0, stream, b"1" * 16385))
    client.expect_goaway(FRAME_SIZE_ERROR)
    assert_new_connection_serves(port)


def test_a_headers_frame_larger_than_max_frame_size_is_a_connection_frame_size_error(client, port):
    """RFC 9113 §4.2: a HEADERS frame too large MUST be treated as a connection error."""
    # One literal field whose value is 16400 bytes, its length in HPACK's multi-byte form (RFC 7541 §5.1).
    value_length = 16400
    length = bytearray([0x7F])
    rest = value_length - 127
    while rest >= 128:
        length.append((rest % 128) + 128)
        rest //= 128
    length.append(rest)
    block = (literal_block(client.request_headers("GET", "/healthz"))
             + b"\x00\x01x" + bytes(length) + b"v" * value_length)
    client.send(raw_frame(HEADERS, FLAG_END_HEADERS | FLAG_END_STREAM, client.new_stream_id(), block))
    client.expect_goaway(FRAME_SIZE_ERROR)
    assert_new_connection_serves(port)


def test_headers_on_a_lower_stream_id_than_an_earlier_one_is_a_protocol_error(client, port):
    """RFC 9113 §5.1.1: a new stream's id must be greater than every id the client opened before; a smaller
    one is a connection error PROTOCOL_ERROR. (libnghttp2 alone ignores such a frame: nghttpd fails this.)"""
    response = client.response(client.request("GET", "/healthz", stream_id=5))
    assert response.status == 200, response
    client.send(raw_frame(HEADERS, FLAG_END_HEADERS | FLAG_END_STREAM, 3,
                          client.encoder.encode(client.request_headers("GET", "/healthz"))))
    client.expect_goaway(PROTOCOL_ERROR)
    assert_new_connection_serves(port)


# --------------------------------------------------------------------------------------------- flow control on a stream
def open_upload(client: FrameClient) -> int:
    """A stream in the open state: a POST whose body has not begun."""
    stream = client.new_stream_id()
    client.send_headers(stream, client.request_headers("POST", "/v1/datasets", [("content-type", "text/csv")]),
                        end_stream=False)
    return stream


def test_a_window_update_overflowing_a_stream_window_is_a_stream_flow_control_error(client):
    """RFC 9113 §6.9.1: a stream window past 2^31−1 is a stream error FLOW_CONTROL_ERROR."""
    stream = open_upload(client)
    client.send(raw_frame(WINDOW_UPDATE, 0, stream, u32(2**31 - 1)))
    client.expect_stream_error(stream, FLOW_CONTROL_ERROR)
    assert_serves(client)


def test_a_window_update_of_0_on_a_stream_is_a_protocol_error(client):
    """RFC 9113 §6.9: a stream error PROTOCOL_ERROR (ending the whole connection is allowed too, §5.4.1)."""
    stream = open_upload(client)
    client.send(raw_frame(WINDOW_UPDATE, 0, stream, u32(0)))
    frame = client.expect_stream_error(stream, PROTOCOL_ERROR, connection_error_ok=True)
    if not isinstance(frame, GoAwayFrame):
        assert_serves(client)


def test_a_priority_frame_of_the_wrong_length_is_a_frame_size_error(client):
    """RFC 9113 §6.3: a PRIORITY frame (deprecated, but still parsed) of other than 5 bytes is a stream error
    FRAME_SIZE_ERROR (a connection error is allowed too)."""
    stream = open_upload(client)
    client.send(raw_frame(PRIORITY, 0, stream, b"\x00\x00\x00\x00"))
    frame = client.expect_stream_error(stream, FRAME_SIZE_ERROR, connection_error_ok=True)
    if not isinstance(frame, GoAwayFrame):
        assert_serves(client)


def test_a_body_longer_or_shorter_than_its_content_length_is_malformed(client):
    """RFC 9113 §8.1.1: a request whose DATA add up to other than its content-length is malformed: a stream
    error PROTOCOL_ERROR, and the connection goes on."""
    for sent in (b"12345", b"123456789012345"):
        stream = client.new_stream_id()
        client.send_headers(stream, client.request_headers("POST", "/v1/datasets", [("content-type", "text/csv"),
                                                                                   ("content-length", "10")]),
                            end_stream=False)
        client.send(raw_frame(DATA, FLAG_END_STREAM, stream, sent))
        client.expect_stream_error(stream, PROTOCOL_ERROR)
    assert_serves(client)


def test_streams_beyond_the_advertised_limit_are_refused(client):
    """RFC 9113 §5.1.2: a HEADERS that exceeds the SETTINGS_MAX_CONCURRENT_STREAMS the server advertised is a
    stream error PROTOCOL_ERROR or REFUSED_STREAM (§5.4.1: or a connection error; libnghttp2 ends the
    connection). With a RST_STREAM, the streams within the limit are unaffected."""
    limit = client.server_settings[MAX_CONCURRENT_STREAMS]
    assert limit <= 1000, f"SETTINGS_MAX_CONCURRENT_STREAMS {limit}: too many for this test"
    streams = [open_upload(client) for _ in range(limit)]
    client.ping()
    extra = open_upload(client)
    frame = client.wait_for(lambda f: f.stream_id == extra or isinstance(f, GoAwayFrame),
                            what=f"the refusal of stream {extra}")
    assert isinstance(frame, (RstStreamFrame, GoAwayFrame)), f"stream {extra} was not refused: {client.history()}"
    assert frame.error_code in (PROTOCOL_ERROR, REFUSED_STREAM), \
        f"stream {extra}, one past the limit of {limit}: {client.history()}"
    if isinstance(frame, GoAwayFrame):
        assert frame.last_stream_id >= streams[-1], f"GOAWAY cuts off streams within the limit: {client.history()}"
        return
    # The streams within the limit are still open: one of them completes its request.
    client.send_data(streams[0], b"x,y\n1,2\n2,4\n3,7\n", end_stream=True)
    assert client.response(streams[0]).status in (200, 201)


# --------------------------------------------------------------------------------------------- closed streams
def test_data_after_the_request_ended_is_stream_closed(client):
    """RFC 9113 §5.1, §6.1: DATA on a half-closed (remote) stream (the request already ended with
    END_STREAM) is a stream error STREAM_CLOSED; a connection error with that code is allowed too."""
    stream = client.new_stream_id()
    client.send(raw_frame(HEADERS, FLAG_END_HEADERS | FLAG_END_STREAM, stream,
                          client.encoder.encode(client.request_headers("GET", "/healthz"))),
                raw_frame(DATA, 0, stream, b"late"))
    # The request was complete, so a response may come before the error.
    client.expect_stream_error(stream, STREAM_CLOSED, connection_error_ok=True, response_ok=True)


def test_data_on_a_closed_stream_is_stream_closed(client):
    """RFC 9113 §6.1: DATA on a stream that is neither open nor half-closed (local) — here closed, its response
    complete — is STREAM_CLOSED, as a RST_STREAM or a GOAWAY (§5.1: "closed")."""
    stream = client.request("GET", "/healthz")
    assert client.response(stream).status == 200
    client.send(raw_frame(DATA, 0, stream, b"late"))
    client.expect_stream_error(stream, STREAM_CLOSED, connection_error_ok=True, response_ok=True)


# --------------------------------------------------------------------------------------------- malformed requests
def _good(port):
    return [(":method", "GET"), (":scheme", "http"), (":path", "/healthz"), (":authority", authority(port))]


MALFORMED = {
    "missing-path": lambda p: [h for h in _good(p) if h[0] != ":path"],
    "unknown-pseudo-header": lambda p: _good(p) + [(":foo", "bar")],
    "pseudo-header-after-regular": lambda p: _good(p)[:2] + [("accept", "*/*")] + _good(p)[2:],
    "uppercase-name": lambda p: _good(p) + [("X-Upper", "1")],
    "connection-header": lambda p: _good(p) + [("connection", "keep-alive")],
    "te-not-trailers": lambda p: _good(p) + [("te", "gzip")],
    "duplicate-method": lambda p: _good(p)[:1] + _good(p),
    "empty-path": lambda p: [(k, "" if k == ":path" else v) for k, v in _good(p)],
}


@pytest.mark.parametrize("case", list(MALFORMED))
def test_a_malformed_request_is_a_stream_protocol_error_and_the_connection_goes_on(client, port, case):
    """RFC 9113 §8.1.1, §8.2, §8.3.1: a malformed request is a stream error PROTOCOL_ERROR."""
    stream = client.new_stream_id()
    client.send(raw_frame(HEADERS, FLAG_END_HEADERS | FLAG_END_STREAM, stream, literal_block(MALFORMED[case](port))))
    client.expect_stream_error(stream, PROTOCOL_ERROR)
    assert_serves(client)


# --------------------------------------------------------------------------------------------- CONTINUATION floods
FLOOD_FRAMES = 10_000


@pytest.mark.parametrize("payload", ["small-fields", "empty"])
def test_a_continuation_flood_ends_the_connection(client, port, payload):
    """HEADERS without END_HEADERS, then 10 000 CONTINUATION frames that never end the block (each with a
    small header field, or empty): the server must give up on its own with a GOAWAY (ENHANCE_YOUR_CALM or
    PROTOCOL_ERROR, CVE-2024-27316 / CVE-2024-28182), not buffer, spin or hang — and still serve others."""
    stream = client.new_stream_id()
    fragment = literal_block([("x-flood", "1")]) if payload == "small-fields" else b""
    block = client.encoder.encode(client.request_headers("GET", "/healthz"))
    frames = [raw_frame(HEADERS, FLAG_END_STREAM, stream, block)]
    frames += [raw_frame(CONTINUATION, 0, stream, fragment)] * FLOOD_FRAMES
    data = b"".join(frames)

    def flood() -> None:
        for start in range(0, len(data), 4096):
            if not client.send(data[start:start + 4096]):
                return

    sender = threading.Thread(target=flood, daemon=True)
    sender.start()
    goaway = client.wait_for(lambda f: isinstance(f, GoAwayFrame), 10, "a GOAWAY during the CONTINUATION flood")
    assert goaway.error_code in (ENHANCE_YOUR_CALM, PROTOCOL_ERROR), \
        f"GOAWAY with {error_name(goaway.error_code)} ({goaway.additional_data!r})"
    client.read_until_closed(10)
    sender.join(10)
    assert_new_connection_serves(port)
