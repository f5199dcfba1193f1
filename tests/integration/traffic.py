"""A recording TCP proxy for leakage tests, and just enough HTTP/2 to read what it recorded.

The proxy sits on 127.0.0.1 in front of the coordinator and keeps every byte of both
directions of every connection, so a test can search exactly what an eavesdropper on the
wire would see. gRPC runs here over cleartext HTTP/2 (RFC 9113): a connection preface, then
frames of a 9-byte header (24-bit length, type, flags, 31-bit stream id) and a payload.
Request and response bodies travel in DATA frames as gRPC length-prefixed messages
(gRPC "PROTOCOL-HTTP2.md": 1-byte compressed flag, 4-byte big-endian length, message), and a
message may be split over several DATA frames, so searches also look at each stream's
reassembled DATA and at each message.
"""

import contextlib
import gzip
import socket
import threading
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from types import TracebackType

CLIENT_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"  # RFC 9113 section 3.4
FRAME_HEADER_BYTES = 9
DATA, HEADERS = 0x0, 0x1
FLAG_PADDED, FLAG_PRIORITY = 0x8, 0x20
_CHUNK = 65536


@dataclass
class Exchange:
    """One TCP connection through the proxy: what the client sent and what it received."""

    upstream: bytearray = field(default_factory=bytearray)  # client -> coordinator
    downstream: bytearray = field(default_factory=bytearray)  # coordinator -> client


@dataclass(frozen=True)
class Frame:
    type: int
    flags: int
    stream_id: int
    payload: bytes


@dataclass(frozen=True)
class GrpcMessage:
    """One length-prefixed gRPC message; ``body`` is decompressed when the flag says so."""

    stream_id: int
    compressed: bool
    body: bytes


class RecordingProxy:
    """Forward 127.0.0.1:<any free port> to ``target`` and record both directions."""

    def __init__(self, target: tuple[str, int]) -> None:
        self._target = target
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.1)
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._exchanges: list[Exchange] = []
        self._sockets: list[socket.socket] = []
        self._threads: list[threading.Thread] = []
        self._acceptor = threading.Thread(target=self._accept, name="proxy-accept", daemon=True)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self._listener.getsockname()[1]}"

    def start(self) -> "RecordingProxy":
        self._acceptor.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._acceptor.join(timeout=5)
        self._listener.close()
        with self._lock:
            sockets = list(self._sockets)
            threads = list(self._threads)
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        for thread in threads:
            thread.join(timeout=5)
        for sock in sockets:
            sock.close()

    def __enter__(self) -> "RecordingProxy":
        return self.start()

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def exchanges(self) -> list[Exchange]:
        """A copy of everything recorded so far."""
        with self._lock:
            return [
                Exchange(bytearray(e.upstream), bytearray(e.downstream)) for e in self._exchanges
            ]

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            client.settimeout(None)
            try:
                server = socket.create_connection(self._target)
            except OSError:
                client.close()
                continue
            exchange = Exchange()
            pumps = [
                threading.Thread(
                    target=self._pump, args=(client, server, exchange.upstream), daemon=True
                ),
                threading.Thread(
                    target=self._pump, args=(server, client, exchange.downstream), daemon=True
                ),
            ]
            with self._lock:
                self._exchanges.append(exchange)
                self._sockets += [client, server]
                self._threads += pumps
            for pump in pumps:
                pump.start()

    def _pump(self, source: socket.socket, sink: socket.socket, record: bytearray) -> None:
        while True:
            try:
                chunk = source.recv(_CHUNK)
            except OSError:
                chunk = b""
            if not chunk:
                with contextlib.suppress(OSError):
                    sink.shutdown(socket.SHUT_WR)
                return
            with self._lock:
                record += chunk
            try:
                sink.sendall(chunk)
            except OSError:
                return


def http2_frames(data: bytes) -> Iterator[Frame]:
    """The frames of one direction of an HTTP/2 connection (the client preface skipped)."""
    offset = len(CLIENT_PREFACE) if data.startswith(CLIENT_PREFACE) else 0
    while offset + FRAME_HEADER_BYTES <= len(data):
        length = int.from_bytes(data[offset : offset + 3], "big")
        end = offset + FRAME_HEADER_BYTES + length
        if end > len(data):
            return  # the connection was cut mid-frame
        yield Frame(
            type=data[offset + 3],
            flags=data[offset + 4],
            stream_id=int.from_bytes(data[offset + 5 : offset + 9], "big") & 0x7FFFFFFF,
            payload=bytes(data[offset + FRAME_HEADER_BYTES : end]),
        )
        offset = end


def _unpadded(frame: Frame) -> bytes:
    payload = frame.payload
    start, pad = 0, 0
    if frame.flags & FLAG_PADDED:
        start, pad = 1, payload[0]
    if frame.type == HEADERS and frame.flags & FLAG_PRIORITY:
        start += 5
    return payload[start : len(payload) - pad]


def stream_data(data: bytes) -> dict[int, bytes]:
    """Each stream's DATA payloads joined in order: whole messages, whatever the framing."""
    streams: dict[int, bytearray] = {}
    for frame in http2_frames(data):
        if frame.type == DATA:
            streams.setdefault(frame.stream_id, bytearray()).extend(_unpadded(frame))
    return {stream_id: bytes(body) for stream_id, body in streams.items()}


def _decompress(body: bytes) -> bytes:
    for decode in (gzip.decompress, zlib.decompress):
        try:
            return decode(body)
        except (OSError, zlib.error):
            continue
    raise ValueError("a gRPC message is flagged compressed but is neither gzip nor deflate")


def grpc_messages(data: bytes) -> list[GrpcMessage]:
    """Every complete gRPC message in one direction of a connection."""
    messages: list[GrpcMessage] = []
    for stream_id, body in stream_data(data).items():
        offset = 0
        while offset + 5 <= len(body):
            compressed = body[offset] == 1
            length = int.from_bytes(body[offset + 1 : offset + 5], "big")
            message = body[offset + 5 : offset + 5 + length]
            if len(message) < length:
                break
            messages.append(
                GrpcMessage(stream_id, compressed, _decompress(message) if compressed else message)
            )
            offset += 5 + length
    return messages
