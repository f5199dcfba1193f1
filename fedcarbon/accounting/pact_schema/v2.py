"""Upgrade of PACT v2.x footprints (2.0 to 2.3) to the v3 data model, on import.

v2 files are still in circulation, so import reads them and turns them into v3 documents. The
mapping follows the v3 changelog (PACT Technical Specifications v3, Appendix B "Changelog",
entries 3.0.0-20241212 to 3.0.0-20250217), the v2.3 OpenAPI document (``spec/v2/openapi.yaml``
of ``wbcsd/data-exchange-protocol``) and these decisions of the PACT tech working group:

* ADR-36 "Clarify product amount": v2 gave emissions per *one* ``declaredUnit`` and the
  product size in ``unitaryProductAmount``; v3 gives them per declared unit = the
  ``declaredUnitAmount`` of ``declaredUnitOfMeasurement`` (a 12 l bottle at 1.5 kgCO2e/l is
  18 kgCO2e per 12 l). So every per-declared-unit quantity (kgCO2e, kgC, kg) is multiplied by
  ``unitaryProductAmount``, and ``productMassPerDeclaredUnit`` likewise.
* ADR-37: ``productCategoryCpc`` -> ``productClassifications`` entry
  ``urn:pact:productclassification:un-cpc:<code>`` (the URN form the v3 examples use).
* ADR-28 / ADR-32: ``characterizationFactors`` / ``ipccCharacterizationFactorsSources`` ->
  ``ipccCharacterizationFactors``; ``crossSectoralStandardsUsed`` -> ``crossSectoralStandards``.
* ADR-39: numbers (``primaryDataShare``, ``exemptedEmissionsPercent``, DQRs) -> decimal strings.
* ADR-41: ``version`` and ``updated`` dropped (a changed v3 footprint gets a new ``id``).
* ADR-44: ``Assurance`` -> ``Verification`` without the ``assurance`` flag, ``level``,
  ``boundary``.
* ADR-45: ``dLucGhgEmissions`` -> ``landUseChangeGhgEmissions``, ``biogenicCarbonWithdrawal``
  -> ``biogenicCO2Uptake`` (the v3 schema's own "Replaces ..." notes), ``iLucGhgEmissions``
  -> ``landCarbonLeakage`` (v3: indirect land use change).

What has no v3 home (``statusComment``, ``landManagementGhgEmissions``,
``otherBiogenicGhgEmissions``, ``uncertaintyAssessmentDescription``, DQI
``coveragePercent``/``completenessDQR``/``reliabilityDQR``, assurance ``level``/``boundary``)
is written into ``comment`` as "Upgraded from PACT 2.x: ..." lines, so nothing is lost silently.
What v3 requires but v2 could leave out (``pcfIncludingBiogenicUptake``, a mass per declared
unit for litres, pieces...) stays absent; ``validate`` then names it.

Caveat: v2 ``pCfExcludingBiogenic`` excluded biogenic emissions, while v3
``pcfExcludingBiogenicUptake`` includes biogenic CH4 and land management CO2; the value is
carried over as it is, which can understate the v3 figure for bio-based products.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from fedcarbon.accounting.pact_schema import SPEC_VERSION
from fedcarbon.accounting.pact_schema.errors import PactDocumentError

UPGRADED_SPEC_VERSION = SPEC_VERSION
"""``specVersion`` of an upgraded document: the shipped v3 schema it is then checked against."""

_SCALED_RENAMES: Mapping[str, str] = {
    "pCfExcludingBiogenic": "pcfExcludingBiogenicUptake",
    "pCfIncludingBiogenic": "pcfIncludingBiogenicUptake",
    "fossilGhgEmissions": "fossilGhgEmissions",
    "fossilCarbonContent": "fossilCarbonContent",
    "biogenicCarbonContent": "biogenicCarbonContent",
    "dLucGhgEmissions": "landUseChangeGhgEmissions",
    "iLucGhgEmissions": "landCarbonLeakage",
    "biogenicCarbonWithdrawal": "biogenicCO2Uptake",
    "aircraftGhgEmissions": "aircraftGhgEmissions",
    "packagingGhgEmissions": "packagingGhgEmissions",
}
"""v2 per-one-unit quantities -> v3 names; values are scaled by ``unitaryProductAmount``."""

_SCALED_DROPPED = ("landManagementGhgEmissions", "otherBiogenicGhgEmissions")

_KEPT = (
    "packagingEmissionsIncluded",
    "productOrSectorSpecificRules",
    "biogenicAccountingMethodology",
    "boundaryProcessesDescription",
    "referencePeriodStart",
    "referencePeriodEnd",
    "geographyRegionOrSubregion",
    "geographyCountry",
    "geographyCountrySubdivision",
    "secondaryEmissionFactorSources",
    "exemptedEmissionsDescription",
    "allocationRulesDescription",
)

_STANDARDS: Mapping[str, str] = {
    "GHG Protocol Product standard": "GHGP-Product",
    "ISO Standard 14067": "ISO14067",
    "ISO Standard 14044": "ISO14040-44",
}
"""v2 ``crossSectoralStandardsUsed`` values -> v3 ``crossSectoralStandards`` codes."""

_MASSLESS_UNITS = ("kilowatt hour", "megajoule", "ton kilometer")
"""Declared units whose mass is "not relevant": v3 says productMassPerDeclaredUnit is 0."""


def is_v2(document: Mapping[str, Any]) -> bool:
    """True for a v2.x footprint (by ``specVersion``, or by v2-only pcf property names)."""
    version = document.get("specVersion")
    if isinstance(version, str):
        return version.startswith("2.")
    pcf = document.get("pcf")
    return isinstance(pcf, Mapping) and "declaredUnit" in pcf


def _decimal(value: Any, path: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise PactDocumentError(path, f"{value!r} is not a number")
    try:
        return Decimal(repr(value) if isinstance(value, float) else str(value))
    except InvalidOperation:
        raise PactDocumentError(path, f"{value!r} is not a decimal number") from None


def _text(value: Decimal) -> str:
    """A decimal string in the spec's grammar (no exponent, no trailing zeros)."""
    if value == 0:
        return "0"
    return format(value.normalize(), "f")


def upgrade_v2(document: Mapping[str, Any], *, path: str = "$") -> dict[str, Any]:
    """The v3 form of one v2.x ``ProductFootprint`` (see the module docstring for the mapping).

    Raises:
        PactDocumentError: a property needed for the upgrade is missing or not a number,
            naming its JSON path.
    """
    notes: list[str] = []
    out: dict[str, Any] = {}
    if "id" in document:
        out["id"] = document["id"]
    out["specVersion"] = UPGRADED_SPEC_VERSION
    if "precedingPfIds" in document:
        out["precedingPfIds"] = document["precedingPfIds"]
    for key in (
        "created",
        "status",
        "validityPeriodStart",
        "validityPeriodEnd",
        "companyName",
        "companyIds",
        "productDescription",
        "productIds",
    ):
        if key in document:
            out[key] = document[key]
    classifications = list(document.get("productClassifications") or [])
    cpc = document.get("productCategoryCpc")
    if isinstance(cpc, str) and cpc:
        urn = f"urn:pact:productclassification:un-cpc:{cpc}"
        if urn not in classifications:
            classifications.append(urn)
    if classifications:
        out["productClassifications"] = classifications
    if "productNameCompany" in document:
        out["productNameCompany"] = document["productNameCompany"]
    if isinstance(document.get("statusComment"), str) and document["statusComment"]:
        notes.append(f"statusComment: {document['statusComment']}")
    pcf = document.get("pcf")
    if not isinstance(pcf, Mapping):
        raise PactDocumentError(f"{path}.pcf", "required object is missing")
    out["pcf"] = _upgrade_pcf(pcf, f"{path}.pcf", notes)
    comment = document.get("comment")
    lines = [comment] if isinstance(comment, str) and comment else []
    lines += [f"Upgraded from PACT {document.get('specVersion', '2.x')}: {n}" for n in notes]
    if lines or isinstance(comment, str):
        out["comment"] = "\n".join(lines)
    if "extensions" in document:
        out["extensions"] = document["extensions"]
    return out


def _upgrade_pcf(pcf: Mapping[str, Any], path: str, notes: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    unit = pcf.get("declaredUnit")
    if not isinstance(unit, str):
        raise PactDocumentError(f"{path}.declaredUnit", "required property is missing")
    if "unitaryProductAmount" not in pcf:
        raise PactDocumentError(f"{path}.unitaryProductAmount", "required property is missing")
    amount = _decimal(pcf["unitaryProductAmount"], f"{path}.unitaryProductAmount")
    out["declaredUnitOfMeasurement"] = unit
    out["declaredUnitAmount"] = _text(amount)
    if "productMassPerDeclaredUnit" in pcf:
        mass = _decimal(pcf["productMassPerDeclaredUnit"], f"{path}.productMassPerDeclaredUnit")
        out["productMassPerDeclaredUnit"] = _text(mass * amount)
    elif unit == "kilogram":
        out["productMassPerDeclaredUnit"] = _text(amount)
    elif unit in _MASSLESS_UNITS:
        out["productMassPerDeclaredUnit"] = "0"
    for old, new in _SCALED_RENAMES.items():
        if old in pcf:
            out[new] = _text(_decimal(pcf[old], f"{path}.{old}") * amount)
    for old in _SCALED_DROPPED:
        if old in pcf:
            value = _decimal(pcf[old], f"{path}.{old}")
            notes.append(f"{old} = {_text(value)} kgCO2e per {unit} (no v3 equivalent)")
    for key in _KEPT:
        if key in pcf:
            out[key] = pcf[key]
    factors = pcf.get("ipccCharacterizationFactors") or pcf.get(
        "ipccCharacterizationFactorsSources"
    )
    if not factors and isinstance(pcf.get("characterizationFactors"), str):
        factors = [pcf["characterizationFactors"]]
    if factors:
        out["ipccCharacterizationFactors"] = list(factors)
    standards = pcf.get("crossSectoralStandards")
    if not standards and isinstance(pcf.get("crossSectoralStandardsUsed"), list):
        standards = []
        for used in pcf["crossSectoralStandardsUsed"]:
            code = _STANDARDS.get(used, used)
            if code not in standards:
                standards.append(code)
    if standards:
        out["crossSectoralStandards"] = list(standards)
    for key in ("exemptedEmissionsPercent", "primaryDataShare"):
        if key in pcf:
            out[key] = _text(_decimal(pcf[key], f"{path}.{key}"))
    if isinstance(pcf.get("uncertaintyAssessmentDescription"), str):
        notes.append(f"uncertaintyAssessmentDescription: {pcf['uncertaintyAssessmentDescription']}")
    if isinstance(pcf.get("dqi"), Mapping):
        out["dqi"] = _upgrade_dqi(pcf["dqi"], f"{path}.dqi", notes)
    if isinstance(pcf.get("assurance"), Mapping):
        verification = _upgrade_assurance(pcf["assurance"], notes)
        if verification is not None:
            out["verification"] = verification
    return out


def _upgrade_dqi(dqi: Mapping[str, Any], path: str, notes: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in ("technologicalDQR", "geographicalDQR", "temporalDQR"):
        if key in dqi:
            out[key] = _text(_decimal(dqi[key], f"{path}.{key}"))
    for key in ("coveragePercent", "completenessDQR", "reliabilityDQR"):
        if key in dqi:
            notes.append(f"dqi.{key} = {_text(_decimal(dqi[key], f'{path}.{key}'))}")
    return out


def _upgrade_assurance(assurance: Mapping[str, Any], notes: list[str]) -> dict[str, Any] | None:
    if assurance.get("assurance") is False:
        return None
    out: dict[str, Any] = {}
    if assurance.get("coverage") == "product level":
        out["coverage"] = "product level"
    elif "coverage" in assurance:
        notes.append(f"assurance.coverage = {assurance['coverage']} (no v3 equivalent)")
    for key in ("providerName", "completedAt", "standardName", "comments"):
        if key in assurance:
            out[key] = assurance[key]
    for key in ("level", "boundary"):
        if key in assurance:
            notes.append(f"assurance.{key} = {assurance[key]}")
    return out
