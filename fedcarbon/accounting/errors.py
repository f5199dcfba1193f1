"""Errors of the accounting package, each naming the input it could not account for.

An auditor must be able to find the offending line from the message alone, so every error can
carry the record id and file row it came from (``for_record`` adds them where the engine knows
them) besides the activity, unit, gas or dataset at fault.
"""

from __future__ import annotations

from typing import Self


class AccountingError(Exception):
    """Base of every accounting error; ``record_id``/``row`` say which activity record failed."""

    def __init__(self, message: str, *, record_id: str | None = None, row: int | None = None):
        self.message = message
        self.record_id = record_id
        self.row = row
        super().__init__(self._text())

    def _text(self) -> str:
        where: list[str] = []
        if self.record_id is not None:
            where.append(f"record {self.record_id!r}")
        if self.row is not None:
            where.append(f"row {self.row}")
        return f"{', '.join(where)}: {self.message}" if where else self.message

    def __str__(self) -> str:
        return self._text()

    def for_record(self, record_id: str, row: int | None = None) -> Self:
        """A copy of this error that also names the record (and file row) it arose from."""
        cls = type(self)
        named = cls.__new__(cls)
        named.__dict__.update(self.__dict__)
        named.__cause__ = self.__cause__
        named.record_id = record_id
        named.row = row if row is not None else self.row
        named.args = (named._text(),)
        return named


class UnknownGasError(AccountingError):
    """A gas or refrigerant blend has no GWP in the chosen IPCC set."""

    def __init__(
        self,
        gas: str,
        basis: str | None = None,
        record_id: str | None = None,
        row: int | None = None,
    ) -> None:
        self.gas = gas
        self.basis = basis
        suffix = f" in GWP set {basis}" if basis else ""
        super().__init__(f"unknown gas {gas!r}{suffix}", record_id=record_id, row=row)


class UnknownGwpSetError(AccountingError):
    """A GWP set name other than the supported IPCC assessment reports."""

    def __init__(self, basis: str, known: tuple[str, ...] = ()) -> None:
        self.basis = basis
        choices = f" (known: {', '.join(known)})" if known else ""
        super().__init__(f"unknown GWP set {basis!r}{choices}")


class FactorNotFoundError(AccountingError):
    """No emission factor for an activity in a region (after falling back to GLOBAL)."""

    def __init__(
        self,
        activity: str,
        region: str,
        year: int | None = None,
        record_id: str | None = None,
        row: int | None = None,
    ) -> None:
        self.activity = activity
        self.region = region
        self.year = year
        when = f" for year {year} or earlier" if year is not None else ""
        super().__init__(
            f"no emission factor for activity {activity!r} in region {region!r}{when}",
            record_id=record_id,
            row=row,
        )


class UnknownActivityError(FactorNotFoundError):
    """An activity code that no loaded dataset knows in any region (typo or missing dataset)."""

    def __init__(
        self,
        activity: str,
        region: str = "GLOBAL",
        record_id: str | None = None,
        row: int | None = None,
    ) -> None:
        super().__init__(activity, region, record_id=record_id, row=row)
        self.message = (
            f"unknown activity {activity!r}: no loaded factor dataset has it "
            "(see `fedcarbon factors search`)"
        )
        self.args = (self._text(),)


class UnitError(AccountingError):
    """A unit string that pint cannot read, or that is ambiguous."""

    def __init__(
        self, unit: str, reason: str, record_id: str | None = None, row: int | None = None
    ) -> None:
        self.unit = unit
        super().__init__(f"unit {unit!r}: {reason}", record_id=record_id, row=row)


class UnitConversionError(UnitError):
    """A quantity's unit has another dimension than the factor's (e.g. kWh against litres)."""

    def __init__(
        self, from_unit: str, to_unit: str, record_id: str | None = None, row: int | None = None
    ) -> None:
        self.from_unit = from_unit
        self.to_unit = to_unit
        super().__init__(
            from_unit,
            f"cannot convert to the factor's unit {to_unit!r}",
            record_id=record_id,
            row=row,
        )


class InstrumentError(AccountingError):
    """A Scope 2 contractual instrument that is malformed or used on a non-energy record."""

    def __init__(
        self, instrument: str, reason: str, record_id: str | None = None, row: int | None = None
    ) -> None:
        self.instrument = instrument
        super().__init__(f"instrument {instrument!r}: {reason}", record_id=record_id, row=row)


class CategoryError(AccountingError):
    """A factor or record the engine cannot place in a scope and inventory category."""


class DatasetError(AccountingError):
    """A malformed factor dataset file, naming the file, row and field."""

    def __init__(
        self, path: str, message: str, *, line: int | None = None, field: str | None = None
    ) -> None:
        self.path = path
        self.line = line
        self.field = field
        place = path + (f":{line}" if line is not None else "")
        column = f" column {field!r}" if field else ""
        super().__init__(f"{place}{column}: {message}")


_HINTS: dict[str, str] = {
    "UK": "the ISO code of the United Kingdom is GB (GB-NIR for Northern Ireland)",
    "EL": "the ISO code of Greece is GR (EL is the EU's own abbreviation)",
    "EU": "the EU is not a country: give the country of the site (e.g. DE, FR)",
    "EZ": "the euro area is not a country: give the country of the site",
    "ZZ": "ZZ is the ISO code for an unknown country: give the real one, or GLOBAL",
    "XX": "give the real country, or GLOBAL when the location is truly unknown",
}


class UnknownRegionError(AccountingError):
    """A region code whose country part is not an ISO 3166-1 alpha-2 code."""

    def __init__(self, region: str) -> None:
        self.region = region
        country = region.split("-", 1)[0]
        hint = _HINTS.get(country, "use an ISO 3166-1 alpha-2 code (e.g. GB, DE, US) or GLOBAL")
        super().__init__(f"unknown region {region!r}: {hint}")


class FuelConversionError(UnitConversionError):
    """A fuel volume that no density converts to the unit of the (fallback) factor found."""

    def __init__(self, from_unit: str, to_unit: str, reason: str) -> None:
        self.from_unit = from_unit
        self.to_unit = to_unit
        self.unit = from_unit
        AccountingError.__init__(
            self, f"unit {from_unit!r}: cannot convert to the factor's unit {to_unit!r}: {reason}"
        )


class MixedGwpError(AccountingError):
    """A total that would add CO2e computed with different GWP sets (IPCC assessments)."""


class NonFiniteTotalError(AccountingError):
    """A result too large for a float (Infinity) or not a number: the input is implausible."""


class DataQualityError(AccountingError):
    """A ``data_quality`` cell whose ratings cannot be read."""


class MoneyConversionError(UnitConversionError):
    """Spend that cannot be converted to a spend factor's currency and price year."""

    def __init__(self, reason: str) -> None:
        AccountingError.__init__(self, reason)
        self.unit = self.from_unit = self.to_unit = ""


class InventoryError(AccountingError):
    """A malformed inventory description (boundary, base year, Scope 3 register)."""
