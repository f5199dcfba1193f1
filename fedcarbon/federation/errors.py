"""Errors of the federation package; each names the file, field or party at fault."""

from fedcarbon.errors import FedcarbonError


class FederationError(FedcarbonError):
    """Base for manifest, legal identifier and attestation problems."""


class ManifestError(FederationError):
    """A manifest is malformed, or a signature on it is missing or wrong."""


class LegalIdError(FederationError):
    """A legal identifier (LEI, VAT or company number) is malformed."""


class AttestationError(FederationError):
    """An attestation is malformed or does not verify."""
