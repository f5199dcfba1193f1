"""Scope 2 contractual instruments: syntax and the market-boundary quality criterion."""

from __future__ import annotations

import pytest

from fedcarbon.accounting.errors import InstrumentError
from fedcarbon.accounting.instruments import check_market_boundary, parse_instrument


@pytest.mark.parametrize("text", ["REGO", "rego", "GO", "REC", "I-REC", "EAC"])
def test_certificates_are_zero_emission(text: str) -> None:
    instrument = parse_instrument(text)
    assert (instrument.kind, instrument.kg_co2e_per_kwh) == ("certificate", 0.0)


def test_certificate_reference_is_kept() -> None:
    assert parse_instrument("REGO:R12345-0001").reference == "R12345-0001"


def test_supplier_rate_is_parsed() -> None:
    instrument = parse_instrument("supplier:0.123")
    assert (instrument.basis, instrument.kg_co2e_per_kwh) == ("supplier", 0.123)


def test_ppa_rate_is_parsed() -> None:
    assert parse_instrument("PPA:0.0").basis == "ppa"


@pytest.mark.parametrize("text", ["supplier", "supplier:", "ppa:abc", "supplier:-1", "ppa:inf"])
def test_bad_rates_are_refused(text: str) -> None:
    with pytest.raises(InstrumentError):
        parse_instrument(text)


def test_unknown_scheme_is_refused_with_the_known_ones() -> None:
    with pytest.raises(InstrumentError, match="REGO"):
        parse_instrument("green-tariff")


@pytest.mark.parametrize(
    ("scheme", "region"), [("REGO", "GB"), ("REGO", "GB-SCT"), ("GO", "DE"), ("REC", "US-CA")]
)
def test_certificate_inside_its_market_is_accepted(scheme: str, region: str) -> None:
    check_market_boundary(parse_instrument(scheme), region)


@pytest.mark.parametrize(("scheme", "region"), [("REGO", "FR"), ("GO", "US"), ("REC", "GB")])
def test_certificate_outside_its_market_is_refused(scheme: str, region: str) -> None:
    with pytest.raises(InstrumentError, match="market"):
        check_market_boundary(parse_instrument(scheme), region)
