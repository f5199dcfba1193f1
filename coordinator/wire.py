"""Requests that are not valid protobuf answer INVALID_ARGUMENT, and are logged.

gRPC Python decodes a request before any servicer runs; when the decoder raises, it logs
"Exception deserializing request!" and answers INTERNAL, which tells a client the server
is broken rather than its request. :class:`UndecodableRequests` wraps every method handler's
request decoder so that a failure becomes a marker value, and the handler aborts with
INVALID_ARGUMENT naming the method and the byte count (gRPC status codes:
https://grpc.github.io/grpc/core/md_doc_statuscodes.html).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeAlias

import grpc

log = logging.getLogger("fedcarbon.coordinator")


@dataclass(frozen=True)
class _Undecodable:
    """Stands in for a request whose bytes did not decode."""

    method: str
    size: int


def _message(bad: _Undecodable) -> str:
    return f"request to {bad.method} is not a valid protobuf message ({bad.size} bytes)"


def _safe(method: str, decode: Callable[[bytes], Any]) -> Callable[[bytes], Any]:
    def decode_or_mark(data: bytes) -> Any:
        try:
            return decode(data)
        except Exception as error:  # DecodeError, or anything a decoder raises on bad bytes
            log.info(
                "undecodable request",
                extra={"method": method, "bytes": len(data), "why": type(error).__name__},
            )
            return _Undecodable(method, len(data))

    return decode_or_mark


def _checked(request: Any, context: grpc.ServicerContext) -> None:
    if isinstance(request, _Undecodable):
        context.abort(grpc.StatusCode.INVALID_ARGUMENT, _message(request))


def _checked_stream(requests: Iterator[Any], context: grpc.ServicerContext) -> Iterator[Any]:
    for request in requests:
        _checked(request, context)
        yield request


def _wrap(method: str, handler: Handler) -> Handler:
    decode = handler.request_deserializer
    if decode is None:
        return handler
    encode = handler.response_serializer
    safe = _safe(method, decode)
    if handler.unary_unary is not None:
        unary_unary = handler.unary_unary

        def unary(request: Any, context: grpc.ServicerContext) -> Any:
            _checked(request, context)
            return unary_unary(request, context)

        return grpc.unary_unary_rpc_method_handler(unary, safe, encode)
    if handler.unary_stream is not None:
        unary_stream = handler.unary_stream

        def unary_out(request: Any, context: grpc.ServicerContext) -> Any:
            _checked(request, context)
            return unary_stream(request, context)

        return grpc.unary_stream_rpc_method_handler(unary_out, safe, encode)
    if handler.stream_unary is not None:
        stream_unary = handler.stream_unary

        def stream_in(requests: Iterator[Any], context: grpc.ServicerContext) -> Any:
            return stream_unary(_checked_stream(requests, context), context)

        return grpc.stream_unary_rpc_method_handler(stream_in, safe, encode)
    stream_stream = handler.stream_stream
    if stream_stream is None:
        return handler

    def streams(requests: Iterator[Any], context: grpc.ServicerContext) -> Any:
        return stream_stream(_checked_stream(requests, context), context)

    return grpc.stream_stream_rpc_method_handler(streams, safe, encode)


# grpc-stubs makes these generic; at run time they are plain classes.
if TYPE_CHECKING:
    Handler: TypeAlias = grpc.RpcMethodHandler[Any, Any]
    _Interceptor: TypeAlias = grpc.ServerInterceptor[Any, Any]
else:
    _Interceptor = grpc.ServerInterceptor


class UndecodableRequests(_Interceptor):
    """Answer INVALID_ARGUMENT (not INTERNAL) to a request that does not decode."""

    def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Handler | None],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> Handler | None:
        handler = continuation(handler_call_details)
        if handler is None:
            return None
        return _wrap(handler_call_details.method, handler)
