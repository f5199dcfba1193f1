"""Hostile bytes on every RPC: the server keeps serving, answers only documented statuses
(never INTERNAL or UNKNOWN), and changes no row of any table.

Cases per method, from a seeded RNG (reproducible): random bytes, valid messages with bits
flipped or cut short or junk appended, fields sent with the wrong wire type (and the two
wire types protobuf never assigned), and one message over the server's 8 MiB cap. The
statuses each RPC may answer are documented in docs/operators.md, "Status codes".
"""

import logging
import random
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace

import grpc
import pytest
from google.protobuf import message_factory
from google.protobuf.descriptor import Descriptor, FieldDescriptor, MethodDescriptor
from google.protobuf.message import Message
from grpc_health.v1 import health_pb2, health_pb2_grpc
from sqlalchemy import inspect, text

from coordinator.server import MAX_MESSAGE_BYTES
from fedcarbon.transport import ClientCredentials, home_credentials, open_channel, sign_call
from fedcarbon.v1 import coordinator_pb2, exchange_pb2
from tests.integration.conftest import Federation, running_federation

SEED = 20261206
RANDOM_CASES = 24  # per method
MUTATED_CASES = 32  # per method
# What a hostile request may get back (docs/operators.md, "Status codes").
ALLOWED = {
    grpc.StatusCode.INVALID_ARGUMENT,
    grpc.StatusCode.UNAUTHENTICATED,
    grpc.StatusCode.PERMISSION_DENIED,
    grpc.StatusCode.NOT_FOUND,
    grpc.StatusCode.FAILED_PRECONDITION,
    grpc.StatusCode.RESOURCE_EXHAUSTED,
    grpc.StatusCode.ALREADY_EXISTS,
}
# Reads may also answer OK: they change nothing (checked by the row counts anyway).
READS = {
    "ListTrustees",
    "ListMembers",
    "ListCampaigns",
    "GetCampaign",
    "GetResult",
    "GetAggregate",
    "ListDecryptionTasks",
    "GetTreeHead",
    "GetInclusionProof",
    "GetConsistencyProof",
    "GetEntries",
    "GetKey",
    "Inbox",
}


def wire_channel(fed: Federation) -> tuple[grpc.Channel, ClientCredentials]:
    """The fuzzer's channel: TLS with the first trustee's client certificate, calls unsigned
    (each case signs its own, see _status), and that trustee's credentials to sign with."""
    member = home_credentials(fed.trustee_home(0))
    return open_channel(fed.address, replace(member, participant_id="")), member


def _methods() -> list[MethodDescriptor]:
    return [
        method
        for module in (coordinator_pb2, exchange_pb2)
        for service in module.DESCRIPTOR.services_by_name.values()
        for method in service.methods
    ]


_WIRE_TYPE = {
    FieldDescriptor.TYPE_STRING: 2,
    FieldDescriptor.TYPE_BYTES: 2,
    FieldDescriptor.TYPE_MESSAGE: 2,
    FieldDescriptor.TYPE_DOUBLE: 1,
    FieldDescriptor.TYPE_FIXED64: 1,
    FieldDescriptor.TYPE_SFIXED64: 1,
    FieldDescriptor.TYPE_FLOAT: 5,
    FieldDescriptor.TYPE_FIXED32: 5,
    FieldDescriptor.TYPE_SFIXED32: 5,
}


def _fill(message: Message, rng: random.Random, known_ids: list[str], depth: int = 0) -> None:
    """Plausible values in every field, so mutations reach past the first check."""
    for field in message.DESCRIPTOR.fields:
        repeated = field.is_repeated
        if field.type == FieldDescriptor.TYPE_MESSAGE:
            if depth >= 3 or field.message_type.GetOptions().map_entry:
                continue
            if repeated:
                _fill(getattr(message, field.name).add(), rng, known_ids, depth + 1)
            else:
                _fill(getattr(message, field.name), rng, known_ids, depth + 1)
            continue
        if field.type == FieldDescriptor.TYPE_STRING:
            value: object = rng.choice(known_ids) if field.name.endswith("_id") else "fuzz"
        elif field.type == FieldDescriptor.TYPE_BYTES:
            value = rng.randbytes(rng.choice((0, 16, 32, 64, 256)))
        elif field.type == FieldDescriptor.TYPE_BOOL:
            value = True
        elif field.type == FieldDescriptor.TYPE_ENUM:
            value = rng.choice([v.number for v in field.enum_type.values])
        elif field.type in (FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT):
            value = rng.random()
        elif "ms" in field.name:
            value = int(time.time() * 1000)
        else:
            value = rng.randint(0, 5)
        if repeated:
            getattr(message, field.name).extend([value, value])
        else:
            setattr(message, field.name, value)


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _payload(wire_type: int, rng: random.Random) -> bytes:
    if wire_type == 0:
        return _varint(rng.getrandbits(64))
    if wire_type == 1:
        return rng.randbytes(8)
    if wire_type == 5:
        return rng.randbytes(4)
    if wire_type == 2:
        body = rng.randbytes(rng.randint(0, 8))
        return _varint(len(body)) + body
    return rng.randbytes(3)  # 3/4 (groups), 6 and 7 (never assigned): anything


def _wrong_wire_types(descriptor: Descriptor, rng: random.Random) -> Iterator[bytes]:
    for field in descriptor.fields:
        right = _WIRE_TYPE.get(field.type, 0)
        for wrong in (w for w in (0, 1, 2, 5, 3, 6, 7) if w != right):
            yield _varint(field.number << 3 | wrong) + _payload(wrong, rng)


def _mutations(seed: bytes, rng: random.Random) -> Iterator[bytes]:
    for case in range(MUTATED_CASES):
        data = bytearray(seed)
        if case % 4 == 0 and data:  # flip a few bits
            for _ in range(rng.randint(1, 8)):
                data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
        elif case % 4 == 1:  # cut short
            del data[rng.randrange(len(data) + 1) :]
        elif case % 4 == 2:  # junk appended
            data += rng.randbytes(rng.randint(1, 32))
        else:  # a byte set to a tag or length prefix's worst case
            if data:
                data[rng.randrange(len(data))] = rng.choice((0x00, 0x7F, 0x80, 0xFF))
        yield bytes(data)


def _cases(
    method: MethodDescriptor, rng: random.Random, known_ids: list[str]
) -> Iterator[tuple[str, bytes]]:
    for _ in range(RANDOM_CASES):
        yield "random bytes", rng.randbytes(rng.choice((1, 2, 7, 64, 1024)))
    seed = message_factory.GetMessageClass(method.input_type)()
    _fill(seed, rng, known_ids)
    encoded = seed.SerializeToString()
    yield "valid message", encoded
    for mutated in _mutations(encoded, rng):
        yield "mutated message", mutated
    for wrong in _wrong_wire_types(method.input_type, rng):
        yield "wrong wire type", wrong


def _row_counts(fed: Federation) -> dict[str, int]:
    engine = fed.server.engine
    with engine.connect() as connection:
        return {
            table: int(connection.execute(text(f'SELECT COUNT(*) FROM "{table}"')).scalar_one())
            for table in inspect(engine).get_table_names()
        }


@pytest.fixture(scope="module")
def fuzz_federation(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Federation]:
    """A coordinator with three enrolled trustees (rows to protect, ids to aim at)."""
    with running_federation(tmp_path_factory.mktemp("fuzz")) as fed:
        yield fed


def _status(
    channel: grpc.Channel,
    method: MethodDescriptor,
    data: bytes,
    signer: ClientCredentials | None,
) -> grpc.StatusCode:
    """Send raw bytes; signed as the member (over what the server will decode) or anonymous."""
    path = f"/{method.containing_service.full_name}/{method.name}"
    metadata: list[tuple[str, str | bytes]] = []
    if signer is not None and signer.identity is not None:
        decoded: Message | None = message_factory.GetMessageClass(method.input_type)()
        try:
            decoded.ParseFromString(data)  # type: ignore[union-attr]
        except Exception:
            decoded = None  # refused before authentication anyway
        now = int(time.time() * 1000)
        metadata = sign_call(signer.identity, path, signer.participant_id, decoded, now)
    call = channel.unary_unary(path, request_serializer=None, response_deserializer=None)
    try:
        call(data, timeout=20, metadata=metadata)
    except grpc.RpcError as error:
        return error.code()  # type: ignore[no-any-return]
    return grpc.StatusCode.OK


def test_undecodable_request_answers_invalid_argument_and_is_logged(
    fuzz_federation: Federation, caplog: pytest.LogCaptureFixture
) -> None:
    method = coordinator_pb2.DESCRIPTOR.services_by_name["Campaigns"].methods_by_name["Submit"]
    channel, _ = wire_channel(fuzz_federation)
    with channel, caplog.at_level(logging.INFO):
        call = channel.unary_unary("/fedcarbon.v1.Campaigns/Submit")
        with pytest.raises(grpc.RpcError) as refused:
            call(b"\x0a\xff\x01", timeout=10)  # field 1, 255 bytes announced, none sent
    assert refused.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert "not a valid protobuf message (3 bytes)" in refused.value.details()
    logged = [r for r in caplog.records if r.getMessage() == "undecodable request"]
    assert len(logged) == 1
    assert logged[0].method == f"/{method.containing_service.full_name}/Submit"  # type: ignore[attr-defined]
    assert logged[0].bytes == 3  # type: ignore[attr-defined]


@pytest.mark.slow
def test_fuzzed_requests_get_documented_statuses_and_change_nothing(
    fuzz_federation: Federation,
) -> None:
    fed = fuzz_federation
    rng = random.Random(SEED)
    before = _row_counts(fed)
    known_ids = [*fed.trustees, "no-such-participant", "campaign-x"]
    seen: Counter[tuple[str, str]] = Counter()
    wrong: list[str] = []
    oversized = b"\x0a" + _varint(MAX_MESSAGE_BYTES + 16) + bytes(MAX_MESSAGE_BYTES + 16)
    channel, member = wire_channel(fed)
    with channel:
        for method in _methods():
            allowed = ALLOWED | ({grpc.StatusCode.OK} if method.name in READS else set())
            cases = [*_cases(method, rng, known_ids), ("oversized", oversized)]
            # Signed as a member (reaches the servicers), and random bytes also anonymously.
            runs = [(kind, data, member) for kind, data in cases] + [
                (f"{kind}, anonymous", data, None) for kind, data in cases if kind == "random bytes"
            ]
            for kind, data, signer in runs:
                code = _status(channel, method, data, signer)
                seen[(method.name, code.name)] += 1
                if code not in allowed:
                    wrong.append(f"{method.name} <- {kind} {data[:24].hex()}...: {code.name}")
                if kind == "oversized":
                    assert code is grpc.StatusCode.RESOURCE_EXHAUSTED, method.name
        health = health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(service=""), timeout=5
        )
    sent = sum(seen.values())
    print(f"\nwire fuzz: {sent} cases on {len(_methods())} methods (seed {SEED})")
    for (name, code), count in sorted(seen.items()):
        print(f"  {name:24} {code:20} {count}")
    assert not wrong, "\n".join(wrong[:20])
    assert health.status == health_pb2.HealthCheckResponse.SERVING
    assert _row_counts(fed) == before
    assert sent > 1400
