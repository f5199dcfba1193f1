"""Trustee key statements: each trustee's own per-campaign Paillier key, signed by the trustee.

Dealer-free campaign keys (docs/threshold.md): nobody generates a key that opens a whole
value. Each trustee creates a fresh Paillier key pair for one campaign on its own machine,
keeps the private key, and publishes this statement: the campaign id, its participant id, its
Ed25519 identity key and the modulus n, signed with that identity key. The operator only
collects statements; an agent checks every signature and that every signer is a trustee of
the federation manifest it pinned, so an operator cannot slip in a key of its own.
"""

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from phe import paillier

from fedcarbon.audit import signing
from fedcarbon.audit.errors import SignatureError
from fedcarbon.crypto import shortexp
from fedcarbon.crypto.errors import CryptoError
from fedcarbon.errors import CampaignError

KEY_STATEMENT_CONTEXT = b"fedcarbon.v1.trustee-key"
STATEMENT_DOCUMENT_KIND = "fedcarbon.trustee-key.v1"


@dataclass(frozen=True, slots=True)
class KeyStatement:
    """One trustee's public Paillier key for one campaign, signed by that trustee."""

    campaign_id: str
    trustee_id: str
    identity_key: bytes
    paillier_n: int
    signature: bytes
    hs: int = 0
    hs_proof: bytes = b""

    @property
    def bits(self) -> int:
        return self.paillier_n.bit_length()

    @property
    def encryption_key(self) -> shortexp.ShortExponentKey:
        """The public key agents encrypt under: (n, h_s), short exponents (issue 14)."""
        return shortexp.ShortExponentKey(self.paillier_n, self.hs)

    def message(self) -> bytes:
        return statement_message(
            self.campaign_id, self.trustee_id, self.identity_key, self.paillier_n, self.hs
        )

    def verify(self) -> None:
        """Raise SignatureError unless the statement is signed by its own identity key and h_s
        is proven well formed (an n-th residue: decryption then yields m exactly)."""
        problem = _statement_problem(
            self.message(), self.identity_key, self.signature, self.paillier_n, self.hs,
            self.hs_proof, hs_context(self.campaign_id, self.trustee_id),
        )  # fmt: skip
        if problem:
            raise SignatureError(problem)


def hs_context(campaign_id: str, trustee_id: str) -> bytes:
    """What the proof about h_s is bound to: this trustee's key for this campaign."""
    return b"\x00".join([b"trustee-key", campaign_id.encode(), trustee_id.encode()])


@lru_cache(maxsize=4096)
def _statement_problem(
    message: bytes,
    identity_key: bytes,
    signature: bytes,
    n: int,
    hs: int,
    hs_proof: bytes,
    context: bytes,
) -> str:
    """Why a statement does not check out ("" when it does); cached, as campaigns are re-read
    on every request and a key check costs a few exponentiations."""
    try:
        signing.verify(identity_key, message, signature, context=KEY_STATEMENT_CONTEXT)
    except SignatureError as error:
        return str(error)
    try:
        key = shortexp.ShortExponentKey(n, hs)
        proof = shortexp.NthResidueProof.from_bytes(hs_proof, n)
        # The key size is each policy's business (agents, coordinator); here: well formed.
        shortexp.check_key(key, proof, context, min_bits=0)
    except CryptoError as error:
        return f"short-exponent key: {error}"
    return ""


def statement_message(
    campaign_id: str, trustee_id: str, identity_key: bytes, n: int, hs: int
) -> bytes:
    """What a trustee signs: every field, NUL-separated (ids cannot contain NUL)."""
    return b"\x00".join(
        [
            campaign_id.encode(),
            trustee_id.encode(),
            identity_key.hex().encode(),
            f"{n:x}".encode(),
            f"{hs:x}".encode(),
        ]
    )


def sign_statement(
    identity: Ed25519PrivateKey,
    campaign_id: str,
    trustee_id: str,
    private: paillier.PaillierPrivateKey,
) -> KeyStatement:
    """The signed statement of a trustee's key, with a fresh h_s and its proof."""
    key, proof = shortexp.make_key(private, hs_context(campaign_id, trustee_id))
    identity_key = signing.public_key_bytes(identity)
    message = statement_message(campaign_id, trustee_id, identity_key, key.n, key.hs)
    return KeyStatement(
        campaign_id,
        trustee_id,
        identity_key,
        key.n,
        signing.sign(identity, message, context=KEY_STATEMENT_CONTEXT),
        key.hs,
        proof.to_bytes(key.n),
    )


def statements_fingerprint(statements: Sequence[KeyStatement], threshold: int) -> str:
    """Hex SHA-256 over the threshold and every signed statement, in trustee order."""
    digest = hashlib.sha256(b"fedcarbon.v1.campaign-key\x00" + str(threshold).encode())
    for statement in statements:
        digest.update(b"\x00" + statement.message() + b"\x00" + statement.signature)
    return digest.hexdigest()


def statement_to_document(statement: KeyStatement) -> dict[str, object]:
    """JSON-ready form a trustee hands to the operator (``trustee keygen --out``)."""
    return {
        "kind": STATEMENT_DOCUMENT_KIND,
        "campaign_id": statement.campaign_id,
        "trustee_id": statement.trustee_id,
        "identity_key": statement.identity_key.hex(),
        "paillier_n": f"{statement.paillier_n:x}",
        "hs": f"{statement.hs:x}",
        "hs_proof": statement.hs_proof.hex(),
        "bits": statement.bits,
        "signature": statement.signature.hex(),
    }


def statement_from_document(document: object, *, source: str = "key statement") -> KeyStatement:
    """Parse and verify a statement document; errors name the file and the field."""
    if not isinstance(document, dict) or document.get("kind") != STATEMENT_DOCUMENT_KIND:
        raise CampaignError(
            f"{source}: not a fedcarbon trustee key statement (kind {STATEMENT_DOCUMENT_KIND}); "
            "create one with `fedcarbon trustee keygen`"
        )
    try:
        statement = KeyStatement(
            campaign_id=str(document["campaign_id"]),
            trustee_id=str(document["trustee_id"]),
            identity_key=bytes.fromhex(str(document["identity_key"])),
            paillier_n=int(str(document["paillier_n"]), 16),
            signature=bytes.fromhex(str(document["signature"])),
            hs=int(str(document["hs"]), 16),
            hs_proof=bytes.fromhex(str(document["hs_proof"])),
        )
    except (KeyError, ValueError, TypeError) as error:
        raise CampaignError(f"{source}: missing or malformed field ({error})") from None
    try:
        statement.verify()
    except SignatureError as error:
        raise CampaignError(
            f"{source}: the trustee's signature does not verify ({error})"
        ) from None
    return statement
