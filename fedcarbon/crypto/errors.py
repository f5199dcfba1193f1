"""Errors of the crypto package; each names the offending input (index, campaign, trustee)."""


class CryptoError(Exception):
    """Base class for cryptographic failures."""


class EncodingError(CryptoError):
    """A value cannot be represented in the campaign's fixed-point slots."""


class InvalidCiphertextError(CryptoError):
    """A ciphertext is not a valid element of Z*_{n^2} (or has the wrong length)."""
