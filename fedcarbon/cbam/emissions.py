"""Installation emissions from source streams (Implementing Regulation (EU) 2025/2547,
Article 5 and Annex II, building on the EU ETS monitoring rules of Implementing Regulation
(EU) 2018/2066, Articles 24 and 25).

Calculation-based methodology, per source stream:

- combustion: Em = AD x NCV x EF x OxF x (1 - BioF)   (AD in t or 1000 Nm3, NCV in GJ per unit,
  EF in t CO2/GJ, OxF the oxidation factor; the biomass fraction BioF is zero-rated);
- process:    Em = AD x EF x ConvF x (1 - BioF)       (EF in t CO2 per t of input, ConvF the
  conversion factor);
- mass balance: Em = 3.664 x sum(AD_in x C_in) - 3.664 x sum(AD_out x C_out), the carbon
  content C in t C per t taken for its fossil part (1 - BioF); 3.664 t CO2/t C is the molar
  mass ratio 44.010/12.011 (Regulation 2018/2066, Article 25(1));
- measured: emissions measured continuously (measurement-based methodology, in t CO2e),
  entered as they come from the measurement system.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from fedcarbon.cbam.errors import CalculationError
from fedcarbon.cbam.trace import Figure, fmt

CO2_PER_CARBON = 3.664
"""t CO2 per t C (Regulation (EU) 2018/2066, Article 25(1); 2025/2547 Annex II keeps it)."""

SOURCE_MONITORING = "Implementing Regulation (EU) 2025/2547, Art. 5 and Annex II"


class Method(StrEnum):
    COMBUSTION = "combustion"
    PROCESS = "process"
    MASS_BALANCE = "mass_balance"
    MEASURED = "measured"


@dataclass(frozen=True)
class SourceStream:
    """A fuel or material whose use emits, with its calculation factors and where its
    emissions go: ``shares`` maps production process names to fractions summing to 1."""

    name: str
    method: Method
    activity_data: float = 0.0
    net_calorific_value: float = 0.0
    emission_factor: float = 0.0
    oxidation_factor: float = 1.0
    conversion_factor: float = 1.0
    carbon_content: float = 0.0
    biomass_fraction: float = 0.0
    output: bool = False
    measured_t_co2e: float = 0.0
    shares: Mapping[str, float] = field(default_factory=dict)


def stream_emissions(stream: SourceStream) -> Figure:
    """The fossil emissions of one source stream, in t CO2(e), with its formula."""
    fossil = 1.0 - stream.biomass_fraction
    where = f"source stream {stream.name!r}"
    if stream.method is Method.COMBUSTION:
        value = (
            stream.activity_data
            * stream.net_calorific_value
            * stream.emission_factor
            * stream.oxidation_factor
            * fossil
        )
        formula = (
            f"AD x NCV x EF x OxF x (1 - BioF) = {fmt(stream.activity_data)} x "
            f"{fmt(stream.net_calorific_value)} x {fmt(stream.emission_factor)} x "
            f"{fmt(stream.oxidation_factor)} x (1 - {fmt(stream.biomass_fraction)})"
        )
    elif stream.method is Method.PROCESS:
        value = stream.activity_data * stream.emission_factor * stream.conversion_factor * fossil
        formula = (
            f"AD x EF x ConvF x (1 - BioF) = {fmt(stream.activity_data)} x "
            f"{fmt(stream.emission_factor)} x {fmt(stream.conversion_factor)} x "
            f"(1 - {fmt(stream.biomass_fraction)})"
        )
    elif stream.method is Method.MASS_BALANCE:
        sign = -1.0 if stream.output else 1.0
        value = sign * CO2_PER_CARBON * stream.activity_data * stream.carbon_content * fossil
        formula = (
            f"{'-' if stream.output else ''}3.664 x AD x C x (1 - BioF) = "
            f"{'-' if stream.output else ''}3.664 x {fmt(stream.activity_data)} x "
            f"{fmt(stream.carbon_content)} x (1 - {fmt(stream.biomass_fraction)})"
        )
    elif stream.method is Method.MEASURED:
        value = stream.measured_t_co2e
        formula = f"measured = {fmt(value)}"
    else:  # pragma: no cover - StrEnum is closed
        raise CalculationError(f"{where}: unknown method {stream.method!r}")
    return Figure(f"Em({stream.name})", value, "t CO2e", formula, SOURCE_MONITORING)


def validate_stream(stream: SourceStream, processes: set[str], where: str) -> None:
    """Refuse factors no real stream can have, and shares that do not add up to one."""
    checks = {
        "activity_data": stream.activity_data,
        "net_calorific_value": stream.net_calorific_value,
        "emission_factor": stream.emission_factor,
        "oxidation_factor": stream.oxidation_factor,
        "conversion_factor": stream.conversion_factor,
        "carbon_content": stream.carbon_content,
        "measured_t_co2e": stream.measured_t_co2e,
    }
    for name, value in checks.items():
        if value != value or value < 0 or value in (float("inf"), float("-inf")):
            raise CalculationError(f"{where}.{name}: must be a finite number >= 0, got {value}")
    for name in ("oxidation_factor", "conversion_factor", "biomass_fraction", "carbon_content"):
        value = getattr(stream, name)
        if not 0.0 <= value <= 1.0:
            raise CalculationError(f"{where}.{name}: must lie between 0 and 1, got {value}")
    if stream.method is Method.COMBUSTION and stream.net_calorific_value <= 0:
        raise CalculationError(f"{where}.net_calorific_value: required for combustion")
    if not stream.shares:
        raise CalculationError(f"{where}: name the production process(es) it belongs to")
    for process, share in stream.shares.items():
        if process not in processes:
            raise CalculationError(f"{where}.shares: no production process named {process!r}")
        if not 0.0 <= share <= 1.0:
            raise CalculationError(f"{where}.shares.{process}: must lie between 0 and 1")
    if abs(sum(stream.shares.values()) - 1.0) > 1e-9:
        raise CalculationError(
            f"{where}.shares: fractions add up to {sum(stream.shares.values())}, not 1"
        )
