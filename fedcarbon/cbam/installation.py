"""Reading an installation from TOML: source streams, production processes, precursors.

The file is the operator's own, kept on its premises; every error names the field path.
See docs/cbam.md for the format, with an example.
"""

import tomllib
from dataclasses import replace
from pathlib import Path
from typing import Any

from fedcarbon.cbam.activity import resolve_activity
from fedcarbon.cbam.embedded import (
    EF_HEAT_DEFAULT,
    Installation,
    PrecursorUse,
    ProductionProcess,
    PurchasedPrecursor,
)
from fedcarbon.cbam.emissions import Method, SourceStream
from fedcarbon.cbam.errors import InstallationFileError

MAX_FILE_BYTES = 16 * 1024 * 1024


def _table(data: Any, where: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise InstallationFileError(f"{where}: expected a table")
    return data


def _tables(data: dict[str, Any], key: str, where: str) -> list[dict[str, Any]]:
    value = data.get(key, [])
    if not isinstance(value, list):
        raise InstallationFileError(f"{where}.{key}: expected an array of tables ([[{key}]])")
    return [_table(item, f"{where}.{key}[{i}]") for i, item in enumerate(value)]


def _str(data: dict[str, Any], key: str, where: str, default: str | None = None) -> str:
    value = data.get(key, default)
    if value is None:
        raise InstallationFileError(f"{where}.{key}: required")
    if not isinstance(value, str):
        raise InstallationFileError(f"{where}.{key}: expected text, got {value!r}")
    return value


def _num(data: dict[str, Any], key: str, where: str, default: float | None = None) -> float:
    value = data.get(key, default)
    if value is None:
        raise InstallationFileError(f"{where}.{key}: required")
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InstallationFileError(f"{where}.{key}: expected a number, got {value!r}")
    number = float(value)
    if number != number or number in (float("inf"), float("-inf")):
        raise InstallationFileError(f"{where}.{key}: must be finite, got {value!r}")
    return number


def _known(data: dict[str, Any], allowed: set[str], where: str) -> None:
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise InstallationFileError(f"{where}: unknown field(s) {unknown}")


_STREAM_FIELDS = {
    "name",
    "method",
    "activity_data",
    "ncv",
    "emission_factor",
    "oxidation_factor",
    "conversion_factor",
    "carbon_content",
    "biomass_fraction",
    "output",
    "measured_t_co2e",
    "process",
    "shares",
}
_PROCESS_FIELDS = {
    "name",
    "good",
    "cn_code",
    "route",
    "activity_level",
    "heat_imported_tj",
    "heat_imported_ef",
    "heat_exported_tj",
    "heat_exported_ef",
    "waste_gas_imported_gj",
    "waste_gas_exported_gj",
    "electricity_produced_mwh",
    "electricity_produced_ef",
    "electricity_consumed_mwh",
    "electricity_emission_factor",
    "carbon_price_paid_eur_per_t",
    "precursors",
}


def _stream(data: dict[str, Any], where: str) -> SourceStream:
    _known(data, _STREAM_FIELDS, where)
    method_text = _str(data, "method", where)
    try:
        method = Method(method_text)
    except ValueError:
        choices = ", ".join(m.value for m in Method)
        raise InstallationFileError(
            f"{where}.method: {method_text!r} is not one of {choices}"
        ) from None
    if "process" in data and "shares" in data:
        raise InstallationFileError(f"{where}: give either process or shares, not both")
    if "process" in data:
        shares = {_str(data, "process", where): 1.0}
    else:
        raw = _table(data.get("shares", {}), f"{where}.shares")
        shares = {k: _num(raw, k, f"{where}.shares") for k in raw}
    output = data.get("output", False)
    if not isinstance(output, bool):
        raise InstallationFileError(f"{where}.output: expected true or false")
    return SourceStream(
        name=_str(data, "name", where),
        method=method,
        activity_data=_num(data, "activity_data", where, 0.0),
        net_calorific_value=_num(data, "ncv", where, 0.0),
        emission_factor=_num(data, "emission_factor", where, 0.0),
        oxidation_factor=_num(data, "oxidation_factor", where, 1.0),
        conversion_factor=_num(data, "conversion_factor", where, 1.0),
        carbon_content=_num(data, "carbon_content", where, 0.0),
        biomass_fraction=_num(data, "biomass_fraction", where, 0.0),
        output=output,
        measured_t_co2e=_num(data, "measured_t_co2e", where, 0.0),
        shares=shares,
    )


def _process(data: dict[str, Any], where: str) -> ProductionProcess:
    _known(data, _PROCESS_FIELDS, where)
    uses = tuple(
        PrecursorUse(
            source=_str(item, "source", f"{where}.precursors[{i}]"),
            amount_t=_num(item, "amount", f"{where}.precursors[{i}]"),
        )
        for i, item in enumerate(_tables(data, "precursors", where))
    )
    el_ef = data.get("electricity_emission_factor")
    return ProductionProcess(
        name=_str(data, "name", where),
        good=_str(data, "good", where),
        cn_code=_str(data, "cn_code", where),
        activity_level_t=_num(data, "activity_level", where),
        production_route=_str(data, "route", where, ""),
        heat_imported_tj=_num(data, "heat_imported_tj", where, 0.0),
        heat_imported_ef=_num(data, "heat_imported_ef", where, EF_HEAT_DEFAULT),
        heat_exported_tj=_num(data, "heat_exported_tj", where, 0.0),
        heat_exported_ef=_num(data, "heat_exported_ef", where, EF_HEAT_DEFAULT),
        waste_gas_imported_gj=_num(data, "waste_gas_imported_gj", where, 0.0),
        waste_gas_exported_gj=_num(data, "waste_gas_exported_gj", where, 0.0),
        electricity_produced_mwh=_num(data, "electricity_produced_mwh", where, 0.0),
        electricity_produced_ef=_num(data, "electricity_produced_ef", where, 0.0),
        electricity_consumed_mwh=_num(data, "electricity_consumed_mwh", where, 0.0),
        electricity_ef=None if el_ef is None else _num(data, "electricity_emission_factor", where),
        precursors=uses,
        carbon_price_paid_eur_per_t=_num(data, "carbon_price_paid_eur_per_t", where, 0.0),
    )


def installation_from_dict(data: dict[str, Any], where: str = "installation file") -> Installation:
    """Build an Installation from parsed TOML; errors name the field path."""
    _known(data, {"installation", "source_streams", "processes", "purchased_precursors"}, where)
    head = _table(data.get("installation"), f"{where}: [installation]")
    head_where = f"{where}: installation"
    _known(head, {"name", "id", "country", "period", "electricity_emission_factor"}, head_where)
    purchased = tuple(
        PurchasedPrecursor(
            name=_str(item, "name", w),
            cn_code=_str(item, "cn_code", w),
            country=_str(item, "country", w),
            see_direct=_num(item, "see_direct", w),
            see_indirect=_num(item, "see_indirect", w, 0.0),
            production_route=_str(item, "route", w, ""),
        )
        for i, item in enumerate(_tables(data, "purchased_precursors", where))
        for w in [f"{where}: purchased_precursors[{i}]"]
    )
    return Installation(
        name=_str(head, "name", head_where),
        identifier=_str(head, "id", head_where, ""),
        country=_str(head, "country", head_where),
        period=str(head.get("period", "")),
        electricity_ef=_num(head, "electricity_emission_factor", head_where, 0.0),
        source_streams=tuple(
            _stream(item, f"{where}: source_streams[{i}]")
            for i, item in enumerate(_tables(data, "source_streams", where))
        ),
        processes=tuple(
            _process(item, f"{where}: processes[{i}]")
            for i, item in enumerate(_tables(data, "processes", where))
        ),
        purchased=purchased,
    )


def load_installation(path: Path) -> Installation:
    """Read and check an installation TOML file."""
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise InstallationFileError(f"{path}: larger than {MAX_FILE_BYTES} bytes")
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise InstallationFileError(f"{path}: cannot read ({error.strerror})") from None
    except UnicodeDecodeError:
        raise InstallationFileError(f"{path}: not UTF-8 text") from None
    except tomllib.TOMLDecodeError as error:
        raise InstallationFileError(f"{path}: not valid TOML ({error})") from None
    resolved, figures = resolve_activity(data, path.parent, str(path))
    return replace(installation_from_dict(resolved, str(path)), provenance=figures)
