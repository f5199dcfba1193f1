"""Coordinator errors, each mapped to a gRPC status by the servicer."""


class CoordinatorError(Exception):
    """Base class; the message is shown to the caller."""


class NotFoundError(CoordinatorError):
    """An unknown campaign, participant or log index."""


class InvalidRequestError(CoordinatorError):
    """Malformed input: bad ciphertext, wrong vector length, bad field."""


class PermissionDeniedError(CoordinatorError):
    """A valid participant asked for something it may not do (not invited, not a trustee)."""


class UnauthenticatedError(CoordinatorError):
    """A signature or token did not check out."""


class ConflictError(CoordinatorError):
    """The request contradicts stored state (second submission, reused token, closed campaign)."""


class UnavailableError(CoordinatorError):
    """A transient condition (contention); the caller may retry."""
