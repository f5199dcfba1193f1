"""What an agent sends: an encrypted metric vector bound to a campaign, signed by its identity.

The signature covers the exact serialised body bytes that travel and are logged, so there
is no canonicalisation step for an attacker to play with (the body is never re-encoded
before verification).
"""

import hashlib
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from fedcarbon.audit import signing

SUBMISSION_CONTEXT = b"fedcarbon.v1.submission"
ENROL_CONTEXT = b"fedcarbon.v1.enrol"
TRUSTEE_REQUEST_CONTEXT = b"fedcarbon.v1.trustee-request"
DECRYPTION_SHARE_CONTEXT = b"fedcarbon.v1.decryption-share"
NOISE_SHARE_CONTEXT = b"fedcarbon.v1.noise-share"


@dataclass(frozen=True, slots=True)
class SubmissionBody:
    campaign_id: str
    participant_id: str
    campaign_digest: bytes
    ciphertexts: tuple[bytes, ...]
    nonce: bytes
    created_unix_ms: int
    proofs: tuple[bytes, ...] = ()


@dataclass(frozen=True, slots=True)
class SignedSubmission:
    body: bytes
    signature: bytes

    def verify(self, identity_key: bytes) -> None:
        signing.verify(identity_key, self.body, self.signature, context=SUBMISSION_CONTEXT)


def sign_body(key: Ed25519PrivateKey, body: bytes) -> SignedSubmission:
    return SignedSubmission(body, signing.sign(key, body, context=SUBMISSION_CONTEXT))


def submission_proof_context(campaign_digest: bytes, participant_id: str) -> bytes:
    """What a submission's plaintext-knowledge proofs are bound to (the slot index is added)."""
    return b"submission\x00" + campaign_digest + participant_id.encode()


def noise_proof_context(campaign_digest: bytes, trustee_id: str, aggregate_digest: bytes) -> bytes:
    """What a trustee's noise-share proofs are bound to (the slot index is added)."""
    return b"noise\x00" + campaign_digest + aggregate_digest + trustee_id.encode()


TYPED_ENTRY_PREFIX = b"fedcarbon.v1."
"""Log entries that are not submissions (cohorts, CBAM exchange receipts) start with this.

Its first byte, 'f' (0x66), is field 12 with wire type 6, which no protobuf message can
start with, so a typed entry is never mistaken for a SignedSubmission, nor the reverse.
"""


def is_submission_entry(entry: bytes) -> bool:
    """True for a serialised SignedSubmission, False for a typed entry of another kind."""
    return not entry.startswith(TYPED_ENTRY_PREFIX)


def entry_id(entry: bytes) -> str:
    """A submission's id: hex SHA-256 of its log entry (the serialised SignedSubmission)."""
    return hashlib.sha256(entry).hexdigest()


def trustee_request_message(trustee_id: str, timestamp_ms: int, method: str) -> bytes:
    """What a trustee signs to call ``method``: a signature for one RPC opens no other."""
    return f"{method}\x00{trustee_id}\x00{timestamp_ms}".encode()


def enrolment_message(
    token: str,
    organisation: str,
    encryption_key: bytes,
    sector: str,
    region: str,
    size_band: str,
    legal_id: str = "",
    tls_public_key: bytes = b"",
) -> bytes:
    """What an enrolling participant signs: every field it asserts, not just the token.

    The TLS public key is covered too, so nobody on the way can swap in a key of its own and
    obtain a client certificate in the participant's name.
    """
    fields = [token, organisation, encryption_key.hex(), sector, region, size_band, legal_id]
    if tls_public_key:
        fields.append(tls_public_key.hex())
    return b"\x00".join(f.encode() for f in fields)
