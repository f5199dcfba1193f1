"""Errors of the crypto package; each names the offending input (index, campaign, trustee)."""


class CryptoError(Exception):
    """Base class for cryptographic failures."""


class EncodingError(CryptoError):
    """A value cannot be represented in the campaign's fixed-point slots."""


class InvalidCiphertextError(CryptoError):
    """A ciphertext is not a valid element of Z*_{n^2} (or has the wrong length)."""


class KeyParameterError(CryptoError):
    """Key-generation parameters are unsafe or inconsistent (key size, n of trustees, t)."""


class InvalidPartialDecryptionError(CryptoError):
    """One or more trustees returned a partial decryption whose proof does not verify.

    Attributes:
        reasons: trustee index (1-based) -> why that trustee's partial was rejected.
    """

    def __init__(self, reasons: dict[int, str]) -> None:
        self.reasons = dict(sorted(reasons.items()))
        named = "; ".join(f"trustee {i}: {why}" for i, why in self.reasons.items())
        super().__init__(f"invalid partial decryption from {named}")

    @property
    def trustee_indices(self) -> list[int]:
        """The 1-based indices of the trustees whose partials were rejected."""
        return list(self.reasons)


class NotEnoughSharesError(CryptoError):
    """Fewer than t valid partial decryptions were offered, so nothing can be decrypted."""

    def __init__(self, valid: int, threshold: int, indices: list[int]) -> None:
        self.valid = valid
        self.threshold = threshold
        self.indices = sorted(indices)
        super().__init__(
            f"need partial decryptions from {threshold} trustees, got {valid} valid "
            f"(trustees {self.indices})"
        )


class KeyMaterialFormatError(CryptoError):
    """Serialised key material (public key, share, partial, proof) is malformed; names the field."""


class SealedBoxError(CryptoError):
    """A sealed key share cannot be opened: wrong key, wrong campaign or trustee, or tampered."""


class ProofFormatError(CryptoError):
    """A serialised proof of plaintext knowledge, or a vector of them, is malformed; names why."""
