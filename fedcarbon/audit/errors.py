"""Errors of the audit package; each names what failed to verify."""


class AuditError(Exception):
    """Base class for audit failures."""


class SignatureError(AuditError):
    """A signature did not verify, or a key could not be read."""
