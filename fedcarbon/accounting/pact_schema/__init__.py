"""Validation of PACT v3 documents against the schemas of the spec's own ``openapi.yaml``.

The PACT Technical Specifications v3 (WBCSD Partnership for Carbon Transparency, 3.0.x) make
their OpenAPI document the authoritative data model. This module checks a footprint, a
GetFootprint response body (``{"data": {...}}``) or a ListFootprints response body
(``{"data": [...]}``) against the ``ProductFootprint`` schema and the response schemas of
``/3/footprints`` and ``/3/footprints/{id}`` in that document, and names every violation with
its JSON path (``$.pcf.declaredUnitAmount``, ``$.data[2].companyIds[0]``).

OpenAPI 3.1 schemas are JSON Schema 2020-12, so ``jsonschema``'s ``Draft202012Validator`` reads
them as they are; ``$ref``s resolve inside the OpenAPI document, loaded as one ``referencing``
resource. ``nullable`` (OpenAPI 3.0 only) is turned into a ``null`` type if a future document
uses it. Formats that ``jsonschema`` does not check without extra packages are checked here:
``date-time`` (RFC 3339 section 5.6), ``urn`` (RFC 8141 section 2), ``uri`` (RFC 3986 scheme
and hier-part), ``decimal`` (the spec's own decimal grammar) and ``uint``.

Beyond the JSON schema, the spec states a few MUSTs in prose only; they are checked as
``rule`` violations (see ``_rule_violations``). Properties the spec does not define are
allowed by its schemas (they set no ``additionalProperties``), so they are reported as
warnings, not errors, and import keeps them.

Schema corrections, applied in memory (the shipped file stays an unaltered reproduction): the
patterns of ``PositiveNonZeroDecimal`` and ``NegativeOrZeroDecimal`` are ``^A|B$``, which a
regex engine reads as ``(^A)|(B$)``, so ``"5abc"`` or ``"-0.5"`` pass as positive and ``"10"``
as non-positive. Both are replaced by the grouped patterns their ``comment`` (``> 0``,
``<= 0``) describes, and only when the file still has the known faulty pattern.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from functools import cache
from importlib import resources
from typing import Any, Literal

import yaml
from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from fedcarbon.accounting.pact_schema.errors import PactSchemaError

SPEC_VERSION = "3.0.3"
"""The ``specVersion`` fedcarbon writes: the version of the shipped ``openapi.yaml``."""

SPEC_FILE = "openapi.yaml"
_BASE_URI = "urn:fedcarbon:pact:v3:openapi"

Severity = Literal["error", "warning"]


@dataclass(frozen=True, slots=True)
class Violation:
    """One way a document departs from the PACT v3 spec, located by JSON path.

    ``kind`` says which check found it: ``schema`` (the OpenAPI JSON schema), ``rule`` (a MUST
    the spec states in prose) or ``unknown`` (a property the spec does not define, a warning).
    """

    json_path: str
    message: str
    severity: Severity = "error"
    kind: str = "schema"


# -- the spec document ------------------------------------------------------------------------

# Known faulty patterns in the shipped schema -> the pattern their "comment" describes.
_PATTERN_FIXES: Mapping[str, tuple[str, str]] = {
    "PositiveNonZeroDecimal": (
        r"^[+]?(\d*[1-9]\d*)(\.\d+)?|(0+\.\d*[1-9]\d*)$",
        r"^[+]?(?:\d*[1-9]\d*(?:\.\d+)?|0+\.\d*[1-9]\d*)$",
    ),
    "NegativeOrZeroDecimal": (
        r"^(-\d+(\.\d+)?)|0+(\.0+)?$",
        r"^(?:-\d+(?:\.\d+)?|0+(?:\.0+)?)$",
    ),
}


def nullable_to_type(node: Any) -> None:
    """OpenAPI 3.0 ``nullable: true`` -> JSON Schema ``type: [T, "null"]``, in place, recursively.

    OpenAPI 3.1 (the PACT v3 document) has no ``nullable``; a 3.0 document would.
    """
    if isinstance(node, dict):
        if node.pop("nullable", False) is True and isinstance(node.get("type"), str):
            node["type"] = [node["type"], "null"]
        for value in node.values():
            nullable_to_type(value)
    elif isinstance(node, list):
        for value in node:
            nullable_to_type(value)


@cache
def spec_document() -> Mapping[str, Any]:
    """The shipped PACT v3 OpenAPI document, with the corrections above applied in memory.

    Raises:
        PactSchemaError: the file is missing (e.g. dropped from a commercial redistribution,
            see ``NOTICE.md``) or is not the expected YAML.
    """
    try:
        text = resources.files(__name__).joinpath(SPEC_FILE).read_text(encoding="utf-8")
    except (FileNotFoundError, OSError) as exc:
        raise PactSchemaError(
            f"the PACT v3 OpenAPI document {SPEC_FILE} is not installed with fedcarbon "
            f"(fedcarbon/accounting/pact_schema/): {exc}"
        ) from None
    loaded = yaml.safe_load(text)
    if not isinstance(loaded, dict) or "components" not in loaded:
        raise PactSchemaError(f"{SPEC_FILE} is not an OpenAPI document with components")
    document: dict[str, Any] = copy.deepcopy(loaded)
    schemas = document["components"]["schemas"]
    for name, (faulty, fixed) in _PATTERN_FIXES.items():
        if schemas.get(name, {}).get("pattern") == faulty:
            schemas[name]["pattern"] = fixed
    nullable_to_type(document)
    return document


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


_FOOTPRINT_REF = "#/components/schemas/ProductFootprint"
_RESPONSE_REF = "#/paths/{path}/get/responses/200/content/application~1json/schema"


@cache
def _validator(kind: str) -> Draft202012Validator:
    """A validator for ``footprint``, ``get`` (one footprint) or ``list`` response bodies."""
    if kind == "footprint":
        pointer = _FOOTPRINT_REF
    else:
        path = "/3/footprints/{id}" if kind == "get" else "/3/footprints"
        pointer = _RESPONSE_REF.format(path=_escape(path))
    resource: Resource[Any] = DRAFT202012.create_resource(dict(spec_document()))
    registry: Registry[Any] = Registry().with_resource(_BASE_URI, resource)
    schema = {"$ref": f"{_BASE_URI}{pointer}"}
    return Draft202012Validator(schema, registry=registry, format_checker=format_checker())


# -- formats ---------------------------------------------------------------------------------

# RFC 3339 section 5.6 date-time: full-date "T" full-time, with a mandatory offset.
_DATE_TIME_RE = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$", re.ASCII
)
# RFC 8141 section 2: "urn:" NID ":" NSS, optional r-/q-components and fragment.
_PCHAR = r"(?:[A-Za-z0-9\-._~!$&'()*+,;=:@]|%[0-9A-Fa-f]{2})"
_URN_RE = re.compile(
    rf"^[uU][rR][nN]:[A-Za-z0-9][A-Za-z0-9-]{{0,30}}[A-Za-z0-9]:{_PCHAR}(?:{_PCHAR}|/)*"
    rf"(?:\?\+{_PCHAR}(?:{_PCHAR}|[/?])*)?(?:\?={_PCHAR}(?:{_PCHAR}|[/?])*)?"
    rf"(?:#(?:{_PCHAR}|[/?])*)?$",
    re.ASCII,
)
# RFC 3986 section 3: scheme ":" hier-part, no spaces or control characters.
_URI_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:[^\s\x00-\x1f\x7f]*$", re.ASCII)
_DECIMAL_RE = re.compile(r"^[+-]?\d+(\.\d+)?$", re.ASCII)


def is_date_time(value: str) -> bool:
    """True for an RFC 3339 date-time with offset that is also a real calendar instant."""
    if not _DATE_TIME_RE.match(value):
        return False
    try:
        datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def is_urn(value: str) -> bool:
    """True for an RFC 8141 URN (``urn:<NID>:<NSS>``)."""
    return bool(_URN_RE.match(value))


def is_decimal(value: str) -> bool:
    """True for the spec's decimal string grammar (``^[+-]?\\d+(\\.\\d+)?$``)."""
    return bool(_DECIMAL_RE.match(value))


@cache
def format_checker() -> FormatChecker:
    """jsonschema's checker plus the formats the PACT schema uses that it lacks offline."""
    checker = FormatChecker()

    def _strings(check: Any) -> Any:
        def wrapped(instance: object) -> bool:
            return not isinstance(instance, str) or bool(check(instance))

        return wrapped

    checker.checks("date-time")(_strings(is_date_time))
    checker.checks("urn")(_strings(is_urn))
    checker.checks("uri")(_strings(_URI_RE.match))
    checker.checks("decimal")(_strings(is_decimal))

    def _uint(instance: object) -> bool:
        return not isinstance(instance, int) or instance >= 0

    checker.checks("uint")(_uint)
    return checker


# -- validation ------------------------------------------------------------------------------


def document_kind(document: object) -> str | None:
    """``footprint``, ``get`` or ``list`` for the shapes PACT exchanges, else None."""
    if isinstance(document, dict):
        if "data" in document and "pcf" not in document:
            data = document["data"]
            if isinstance(data, list):
                return "list"
            return "get"
        return "footprint"
    return None


def json_path(parts: Sequence[str | int]) -> str:
    """``$.pcf.dqi`` / ``$.data[0]`` / ``$['odd key']`` from path elements."""
    out = "$"
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        elif re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", part):
            out += f".{part}"
        else:
            out += "[" + repr(part) + "]"
    return out


def _short(value: object, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


_GEOGRAPHY = ("geographyRegionOrSubregion", "geographyCountry", "geographyCountrySubdivision")


@cache
def _named_patterns() -> Mapping[str, tuple[str, str]]:
    """pattern -> (simple type name, its comment), to name ``Decimal``-like types in messages."""
    named: dict[str, tuple[str, str]] = {}
    for name, schema in spec_document()["components"]["schemas"].items():
        if isinstance(schema, dict) and isinstance(schema.get("pattern"), str):
            named[schema["pattern"]] = (name, str(schema.get("comment", "")))
    return named


def _message(error: ValidationError) -> tuple[list[str | int], str]:
    """A path and a short message for one schema error (jsonschema's can quote whole objects)."""
    path: list[str | int] = list(error.absolute_path)
    instance = error.instance
    validator = error.validator
    if validator == "required":
        missing = re.match(r"^'(.+)' is a required property$", error.message)
        if missing:
            return [*path, missing.group(1)], "required property is missing"
    if validator == "oneOf" and isinstance(instance, dict):
        given = [name for name in _GEOGRAPHY if name in instance]
        if len(given) > 1:
            return path, (
                "at most one of geographyRegionOrSubregion, geographyCountry and "
                f"geographyCountrySubdivision may be given (got {', '.join(given)})"
            )
    if validator == "pattern":
        named = _named_patterns().get(str(error.validator_value))
        if named is not None:
            name, comment = named
            rule = f" ({comment})" if comment else ""
            return path, f"{_short(instance)} is not a {name}{rule}"
        return path, f"{_short(instance)} does not match the spec's pattern {error.validator_value}"
    if validator == "format":
        return path, f"{_short(instance)} is not a valid {error.validator_value}"
    if validator == "type":
        return path, f"{_short(instance)} is not of type {error.validator_value!r}"
    if validator == "enum":
        allowed = ", ".join(repr(v) for v in error.validator_value)
        return path, f"{_short(instance)} is not one of {allowed}"
    if isinstance(instance, (dict, list)) and len(repr(instance)) > 80:
        return path, f"fails {validator!r}: {error.message[-120:]}"
    return path, error.message


def _schema_violations(document: object, kind: str) -> Iterator[Violation]:
    errors = sorted(_validator(kind).iter_errors(document), key=lambda e: list(e.absolute_path))
    for error in errors:
        path, message = _message(error)
        yield Violation(json_path(path), message)


def _resolve(schema: Mapping[str, Any]) -> Mapping[str, Any]:
    """Follow local ``$ref``s (``#/components/schemas/X``) to the schema they name."""
    seen = 0
    while "$ref" in schema and seen < 16:
        ref = schema["$ref"]
        if not isinstance(ref, str) or not ref.startswith("#/"):
            break
        node: Any = spec_document()
        for token in ref[2:].split("/"):
            node = node[token.replace("~1", "/").replace("~0", "~")]
        merged = {k: v for k, v in schema.items() if k != "$ref"}
        schema = {**node, **merged}
        seen += 1
    return schema


def _unknown_properties(
    instance: object, schema: Mapping[str, Any], path: list[str | int]
) -> Iterator[Violation]:
    """Warnings for object keys the spec does not define, walking the schema alongside."""
    schema = _resolve(schema)
    if isinstance(instance, dict) and isinstance(schema.get("properties"), dict):
        properties: Mapping[str, Any] = schema["properties"]
        for key, value in instance.items():
            if key not in properties:
                yield Violation(
                    json_path([*path, key]),
                    f"property {key!r} is not defined by PACT v3 (kept on import)",
                    "warning",
                    "unknown",
                )
            elif isinstance(properties[key], Mapping):
                yield from _unknown_properties(value, properties[key], [*path, key])
    elif isinstance(instance, list) and isinstance(schema.get("items"), Mapping):
        for index, item in enumerate(instance):
            yield from _unknown_properties(item, schema["items"], [*path, index])


def _decimal(value: object) -> Decimal | None:
    if isinstance(value, str) and is_decimal(value):
        try:
            return Decimal(value)
        except InvalidOperation:  # pragma: no cover - the regex admits only valid decimals
            return None
    return None


def _rule_violations(footprint: Mapping[str, Any], path: list[str | int]) -> Iterator[Violation]:
    """MUSTs the spec states in its property descriptions but not in the JSON schema."""
    pcf = footprint.get("pcf")
    if not isinstance(pcf, Mapping):
        return
    at = [*path, "pcf"]
    dqi = pcf.get("dqi")
    if isinstance(dqi, Mapping):
        for name in ("technologicalDQR", "geographicalDQR", "temporalDQR"):
            value = _decimal(dqi.get(name))
            if value is not None and not Decimal(1) <= value <= Decimal(5):
                yield Violation(
                    json_path([*at, "dqi", name]),
                    f"{dqi[name]!r} is outside 1..5 (the DQR scale)",
                    kind="rule",
                )
    share = _decimal(pcf.get("primaryDataShare"))
    if share is not None and not Decimal(0) <= share <= Decimal(100):
        yield Violation(
            json_path([*at, "primaryDataShare"]),
            f"{pcf['primaryDataShare']!r} is not a percentage in 0..100",
            kind="rule",
        )
    if pcf.get("packagingEmissionsIncluded") is False and "packagingGhgEmissions" in pcf:
        yield Violation(
            json_path([*at, "packagingGhgEmissions"]),
            "must be undefined when packagingEmissionsIncluded is false",
            kind="rule",
        )
    if pcf.get("ccsTechnologicalCO2CaptureIncluded") is False:
        for name in (
            "ccsTechnologicalCO2Capture",
            "technologicalCO2Removals",
            "technologicalCO2CaptureOrigin",
        ):
            if name in pcf:
                yield Violation(
                    json_path([*at, name]),
                    "must be undefined when ccsTechnologicalCO2CaptureIncluded is false",
                    kind="rule",
                )
    for prefix, holder, hold_path in (
        ("referencePeriod", pcf, at),
        ("validityPeriod", footprint, path),
    ):
        start, end = holder.get(f"{prefix}Start"), holder.get(f"{prefix}End")
        if (
            isinstance(start, str)
            and isinstance(end, str)
            and is_date_time(start)
            and is_date_time(end)
            and _instant(end) < _instant(start)
        ):
            yield Violation(
                json_path([*hold_path, f"{prefix}End"]),
                f"{end!r} is before {prefix}Start {start!r}",
                kind="rule",
            )


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text.upper().replace("Z", "+00:00"))


def validate(document: object) -> list[Violation]:
    """Every violation of the PACT v3 spec in a footprint, get or list response body.

    Errors come from the spec's JSON schema and its prose MUSTs; warnings name properties the
    spec does not define. An empty list (or warnings only) means the document is valid.

    Raises:
        PactSchemaError: the shipped OpenAPI document is missing.
    """
    kind = document_kind(document)
    if kind is None:
        return [
            Violation(
                "$",
                "not a PACT document: expected a ProductFootprint object or a response body "
                f"{{'data': ...}}, got {type(document).__name__}",
            )
        ]
    violations = list(_schema_violations(document, kind))
    assert isinstance(document, dict)
    footprints: list[tuple[object, list[str | int]]]
    if kind == "footprint":
        footprints = [(document, [])]
    elif kind == "get":
        footprints = [(document["data"], ["data"])]
    else:
        footprints = [(item, ["data", i]) for i, item in enumerate(document["data"])]
        for key in document:
            if key != "data":
                violations.append(
                    Violation(
                        json_path([key]),
                        f"property {key!r} is not defined for response bodies",
                        "warning",
                        "unknown",
                    )
                )
    schema = spec_document()["components"]["schemas"]["ProductFootprint"]
    for footprint, path in footprints:
        if isinstance(footprint, dict):
            violations.extend(_rule_violations(footprint, path))
            violations.extend(_unknown_properties(footprint, schema, path))
    return violations


def errors_only(violations: Sequence[Violation]) -> list[Violation]:
    """The violations that make a document invalid (warnings dropped)."""
    return [v for v in violations if v.severity == "error"]
