"""Errors of the CBAM package; each names the offending input (file, row, field, good)."""

from fedcarbon.errors import FedcarbonError


class CbamError(FedcarbonError):
    """Base class of every CBAM error."""


class InstallationFileError(CbamError):
    """An installation description (TOML) is malformed; the message names the field path."""


class CalculationError(CbamError):
    """The figures cannot be computed (zero activity level, precursor cycle, unknown process)."""


class DefaultValueError(CbamError):
    """No unique default value matches, or the default-value table is malformed."""


class DeclarationError(CbamError):
    """Customs lines or received communications are malformed or incomplete."""


class CommunicationError(CbamError):
    """An operator-to-importer communication is malformed, unsigned or fails to open."""
