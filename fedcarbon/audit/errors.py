"""Errors of the audit package; each names what failed to verify."""


class AuditError(Exception):
    """Base class for audit failures."""


class SignatureError(AuditError):
    """A signature did not verify, or a key could not be read."""


class MerkleRangeError(AuditError, ValueError):
    """A tree size or leaf index outside the tree; the message names the value and the range."""


class AuditFormatError(AuditError):
    """A tree head, receipt, proof or log file that is not well-formed; names the field path."""


class VerificationError(AuditError):
    """A transparency-log check failed; `check` names which one for machines and the CLI."""

    def __init__(self, message: str, *, check: str) -> None:
        super().__init__(message)
        self.check = check


class TreeHeadError(VerificationError):
    """A signed tree head does not verify (bad signature, wrong key, malformed root)."""


class ReceiptError(VerificationError):
    """An inclusion receipt does not verify (signature, index out of range, root mismatch)."""


class ConsistencyError(VerificationError):
    """Two tree heads are not shown to be one append-only log (different log, bad proof)."""


class LogExportError(VerificationError):
    """A whole-log export does not reproduce its signed tree head."""
