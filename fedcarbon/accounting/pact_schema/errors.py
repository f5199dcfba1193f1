"""Errors of PACT import, export and validation, each naming the JSON path at fault.

They derive from the accounting package's ``AccountingError`` so that callers catching
accounting errors also catch these.
"""

from __future__ import annotations

from fedcarbon.accounting.errors import AccountingError


class PactError(AccountingError):
    """Base of every PACT error."""


class PactDocumentError(PactError):
    """A document that cannot be read as PACT footprints, naming the JSON path at fault.

    Raised on import for what the typed model cannot hold (a missing ``id``, a number where the
    spec wants a decimal string); ``validate`` reports the same problems as violations instead.
    """

    def __init__(self, json_path: str, message: str, *, source: str | None = None) -> None:
        self.json_path = json_path
        self.source = source
        where = f"{source}: " if source else ""
        super().__init__(f"{where}{json_path}: {message}")


class PactSchemaError(PactError):
    """The PACT OpenAPI document is missing or unreadable (e.g. removed from a redistribution)."""


class PactExportError(PactError):
    """A product carbon footprint that cannot become a spec-valid PACT document, naming why."""

    def __init__(self, product_id: str, message: str) -> None:
        self.product_id = product_id
        super().__init__(f"product {product_id!r}: {message}")
