"""Errors of the factor matcher, each naming the offending file, row or column."""

from __future__ import annotations

from fedcarbon.errors import FedcarbonError


class MatchingError(FedcarbonError):
    """Base class of the matcher's errors."""


class LinesError(MatchingError):
    """A file of purchase lines cannot be read: names the file, row and column."""

    def __init__(self, path: str, message: str, *, row: int | None = None) -> None:
        where = path if row is None else f"{path}, row {row}"
        super().__init__(f"{where}: {message}")
        self.path = path
        self.row = row
