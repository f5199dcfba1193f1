"""Specific embedded emissions (SEE) of goods, attributed per production process.

Attribution (Implementing Regulation (EU) 2025/2547, Article 6 and Annex II; the equations are
those of Implementing Regulation (EU) 2023/1773, Annex III, section F.1, which the definitive
period keeps):

    AttrEm_dir = DirEm + Em_H,imp - Em_H,exp + WG_corr,imp - WG_corr,exp - Em_el,prod
    AttrEm_indir = E_el,cons x EF_el

with Em_H = Q x EF_H (measurable heat, EF_H = 62.3 t CO2/TJ where the heat's own factor is not
known: natural gas at 56.1 t CO2/TJ in a 90 % boiler), WG_corr,imp = V x NCV x EF_NG for waste
gases received, WG_corr,exp = V x NCV x EF_NG x Corr_eta for waste gases sent out
(EF_NG = 0.0561 t CO2/GJ, Corr_eta = 0.667, the efficiency gap of burning waste gas instead of
natural gas), and Em_el,prod = E_el,prod x EF_el,prod for electricity generated in the process.

Specific embedded emissions (Regulation (EU) 2023/956, Annex IV, point 2), direct and indirect
each on its own:

    simple goods:  SEE_g = AttrEm_g / AL_g
    complex goods: SEE_g = (AttrEm_g + EE_InpMat) / AL_g,  EE_InpMat = sum_i M_i x SEE_i

Precursors made in the installation take the SEE of their own production process (computed
recursively); purchased ones take the SEE their supplier communicated, or zero when they come
from the Union or an Annex III country (Article 2(4)); a cycle of precursors is an error.
"""

from dataclasses import dataclass, field

from fedcarbon.cbam.emissions import SourceStream, stream_emissions, validate_stream
from fedcarbon.cbam.errors import CalculationError
from fedcarbon.cbam.goods import counts_indirect, normalise_cn, sector_of, zero_rated_origin
from fedcarbon.cbam.trace import Figure, fmt

EF_HEAT_DEFAULT = 62.3
"""t CO2/TJ for measurable heat of unknown origin (2023/1773, Annex III, F.1; 56.1 / 0.9)."""
EF_NATURAL_GAS = 0.0561
"""t CO2/GJ, natural gas reference for waste-gas correction (2023/1773, Annex III, F.1)."""
CORR_ETA = 0.667
"""Efficiency correction for exported waste gases (2023/1773, Annex III, F.1)."""

SRC_ATTR = "Implementing Regulation (EU) 2025/2547, Art. 6 and Annex II (2023/1773 Annex III F.1)"
SRC_SEE = "Regulation (EU) 2023/956, Annex IV, point 2"
SRC_INDIRECT = "Implementing Regulation (EU) 2025/2547, Art. 8; 2023/956 Annex IV, point 4"
SRC_PRECURSOR = "Regulation (EU) 2023/956, Annex IV, point 2 (EE_InpMat); Art. 2(4) and Annex III"


@dataclass(frozen=True)
class PrecursorUse:
    """M_i: the mass of one precursor consumed by a production process in the period."""

    source: str
    amount_t: float


@dataclass(frozen=True)
class PurchasedPrecursor:
    """A precursor bought from another installation, with the SEE its supplier communicated."""

    name: str
    cn_code: str
    country: str
    see_direct: float
    see_indirect: float
    production_route: str = ""


@dataclass(frozen=True)
class ProductionProcess:
    """One production process producing one good (functional unit: tonnes of that good)."""

    name: str
    good: str
    cn_code: str
    activity_level_t: float
    production_route: str = ""
    heat_imported_tj: float = 0.0
    heat_imported_ef: float = EF_HEAT_DEFAULT
    heat_exported_tj: float = 0.0
    heat_exported_ef: float = EF_HEAT_DEFAULT
    waste_gas_imported_gj: float = 0.0
    waste_gas_exported_gj: float = 0.0
    electricity_produced_mwh: float = 0.0
    electricity_produced_ef: float = 0.0
    electricity_consumed_mwh: float = 0.0
    electricity_ef: float | None = None
    precursors: tuple[PrecursorUse, ...] = ()
    carbon_price_paid_eur_per_t: float = 0.0


@dataclass(frozen=True)
class Installation:
    name: str
    country: str
    period: str
    source_streams: tuple[SourceStream, ...]
    processes: tuple[ProductionProcess, ...]
    purchased: tuple[PurchasedPrecursor, ...] = ()
    electricity_ef: float = 0.0
    identifier: str = ""
    provenance: tuple[Figure, ...] = ()
    """How numbers read through adapters were made (``fedcarbon.cbam.activity``)."""


def chargeable(see_direct: float, see_indirect: float, indirect_counted: bool) -> float:
    """What a declarant surrenders certificates for: Annex II goods count direct only."""
    return see_direct + (see_indirect if indirect_counted else 0.0)


@dataclass(frozen=True)
class GoodResult:
    """A good's SEE with every figure that led to it."""

    name: str
    process: str
    cn_code: str
    production_route: str
    activity_level_t: float
    see_direct: float
    see_indirect: float
    indirect_counted: bool
    carbon_price_paid_eur_per_t: float
    figures: tuple[Figure, ...] = field(default=())

    @property
    def see_total(self) -> float:
        return self.see_direct + self.see_indirect

    @property
    def see_chargeable(self) -> float:
        return chargeable(self.see_direct, self.see_indirect, self.indirect_counted)


@dataclass(frozen=True)
class InstallationResult:
    installation: Installation
    total_direct_t_co2e: float
    goods: tuple[GoodResult, ...]
    figures: tuple[Figure, ...]


def _check_number(value: float, where: str, *, positive: bool = False) -> None:
    if value != value or value in (float("inf"), float("-inf")) or value < 0:
        raise CalculationError(f"{where}: must be a finite number >= 0, got {value}")
    if positive and value == 0:
        raise CalculationError(f"{where}: must be greater than zero")


def _validate(installation: Installation) -> None:
    names = [p.name for p in installation.processes]
    if not names:
        raise CalculationError(f"installation {installation.name!r}: no production process")
    duplicates = {n for n in names if names.count(n) > 1}
    if duplicates:
        raise CalculationError(f"production process names repeat: {sorted(duplicates)}")
    purchased = [p.name for p in installation.purchased]
    clash = set(purchased) & set(names) or {n for n in purchased if purchased.count(n) > 1}
    if clash:
        raise CalculationError(f"purchased precursor names clash or repeat: {sorted(clash)}")
    for stream in installation.source_streams:
        validate_stream(stream, set(names), f"source_streams[{stream.name}]")
    _check_number(installation.electricity_ef, "installation.electricity_emission_factor")
    for process in installation.processes:
        where = f"processes[{process.name}]"
        normalise_cn(process.cn_code, where=f"{where}.cn_code")
        sector_of(process.cn_code)
        _check_number(process.activity_level_t, f"{where}.activity_level", positive=True)
        for attr in (
            "heat_imported_tj",
            "heat_imported_ef",
            "heat_exported_tj",
            "heat_exported_ef",
            "waste_gas_imported_gj",
            "waste_gas_exported_gj",
            "electricity_produced_mwh",
            "electricity_produced_ef",
            "electricity_consumed_mwh",
            "carbon_price_paid_eur_per_t",
        ):
            _check_number(getattr(process, attr), f"{where}.{attr}")
        if process.electricity_ef is not None:
            _check_number(process.electricity_ef, f"{where}.electricity_emission_factor")
        for use in process.precursors:
            _check_number(use.amount_t, f"{where}.precursors[{use.source}].amount")
            if use.source not in names and use.source not in purchased:
                raise CalculationError(
                    f"{where}.precursors: {use.source!r} is neither a production process "
                    "nor a purchased precursor"
                )
    for bought in installation.purchased:
        where = f"purchased_precursors[{bought.name}]"
        normalise_cn(bought.cn_code, where=f"{where}.cn_code")
        _check_number(bought.see_direct, f"{where}.see_direct")
        _check_number(bought.see_indirect, f"{where}.see_indirect")


def _direct_emissions(
    installation: Installation,
) -> tuple[dict[str, float], dict[str, list[str]], list[Figure], float]:
    """DirEm per production process from the source streams' shares."""
    per_process = {p.name: 0.0 for p in installation.processes}
    terms: dict[str, list[str]] = {p.name: [] for p in installation.processes}
    figures: list[Figure] = []
    total = 0.0
    for stream in installation.source_streams:
        figure = stream_emissions(stream)
        figures.append(figure)
        total += figure.value
        for process, share in stream.shares.items():
            per_process[process] += figure.value * share
            terms[process].append(f"{fmt(figure.value)} x {fmt(share)} ({stream.name})")
    figures.append(
        Figure(
            "installation direct emissions",
            total,
            "t CO2e",
            " + ".join(fmt(f.value) for f in figures) or "0",
            "Implementing Regulation (EU) 2025/2547, Art. 5",
        )
    )
    return per_process, terms, figures, total


def _attributed(
    process: ProductionProcess, dir_em: float, terms: list[str], default_el_ef: float
) -> tuple[float, float, list[Figure]]:
    p = process.name
    heat_imp = process.heat_imported_tj * process.heat_imported_ef
    heat_exp = process.heat_exported_tj * process.heat_exported_ef
    wg_imp = process.waste_gas_imported_gj * EF_NATURAL_GAS
    wg_exp = process.waste_gas_exported_gj * EF_NATURAL_GAS * CORR_ETA
    el_prod = process.electricity_produced_mwh * process.electricity_produced_ef
    attr_dir = dir_em + heat_imp - heat_exp + wg_imp - wg_exp - el_prod
    el_ef = default_el_ef if process.electricity_ef is None else process.electricity_ef
    attr_indir = process.electricity_consumed_mwh * el_ef
    t = "t CO2e"
    figures = [
        Figure(f"DirEm({p})", dir_em, t, " + ".join(terms) or "no source stream", SRC_ATTR),
        Figure(
            f"Em_H,imp({p})",
            heat_imp,
            t,
            f"Q_imp x EF_H = {fmt(process.heat_imported_tj)} TJ x {fmt(process.heat_imported_ef)}",
            SRC_ATTR,
        ),
        Figure(
            f"Em_H,exp({p})",
            heat_exp,
            t,
            f"Q_exp x EF_H = {fmt(process.heat_exported_tj)} TJ x {fmt(process.heat_exported_ef)}",
            SRC_ATTR,
        ),
        Figure(
            f"WG_corr,imp({p})",
            wg_imp,
            t,
            f"V x NCV x EF_NG = {fmt(process.waste_gas_imported_gj)} GJ x {EF_NATURAL_GAS}",
            SRC_ATTR,
        ),
        Figure(
            f"WG_corr,exp({p})",
            wg_exp,
            t,
            f"V x NCV x EF_NG x Corr_eta = {fmt(process.waste_gas_exported_gj)} GJ x "
            f"{EF_NATURAL_GAS} x {CORR_ETA}",
            SRC_ATTR,
        ),
        Figure(
            f"Em_el,prod({p})",
            el_prod,
            t,
            f"E_el,prod x EF_el = {fmt(process.electricity_produced_mwh)} MWh x "
            f"{fmt(process.electricity_produced_ef)}",
            SRC_ATTR,
        ),
        Figure(
            f"AttrEm_dir({p})",
            attr_dir,
            t,
            f"{fmt(dir_em)} + {fmt(heat_imp)} - {fmt(heat_exp)} + {fmt(wg_imp)} - {fmt(wg_exp)}"
            f" - {fmt(el_prod)}",
            SRC_ATTR,
        ),
        Figure(
            f"AttrEm_indir({p})",
            attr_indir,
            t,
            f"E_el,cons x EF_el = {fmt(process.electricity_consumed_mwh)} MWh x {fmt(el_ef)}",
            SRC_INDIRECT,
        ),
    ]
    if attr_dir < 0:
        raise CalculationError(
            f"processes[{p}]: attributed direct emissions are negative ({attr_dir:.6g} t CO2e); "
            "check exported heat, waste gases and electricity produced"
        )
    return attr_dir, attr_indir, figures


def compute(installation: Installation) -> InstallationResult:
    """SEE direct and indirect of every good the installation produces, with all figures."""
    _validate(installation)
    dir_em, terms, figures, total = _direct_emissions(installation)
    processes = {p.name: p for p in installation.processes}
    purchased = {p.name: p for p in installation.purchased}
    attributed: dict[str, tuple[float, float, list[Figure]]] = {
        p.name: _attributed(p, dir_em[p.name], terms[p.name], installation.electricity_ef)
        for p in installation.processes
    }
    done: dict[str, GoodResult] = {}

    def see_of(name: str, stack: tuple[str, ...]) -> GoodResult:
        if name in done:
            return done[name]
        if name in stack:
            cycle = " -> ".join((*stack[stack.index(name) :], name))
            raise CalculationError(f"precursor cycle: {cycle}")
        process = processes[name]
        attr_dir, attr_indir, own = attributed[name]
        own = list(own)
        embedded_dir = embedded_indir = 0.0
        for use in process.precursors:
            if use.source in processes:
                inner = see_of(use.source, (*stack, name))
                sd, si, origin = inner.see_direct, inner.see_indirect, "own process"
            else:
                bought = purchased[use.source]
                if zero_rated_origin(bought.country):
                    sd = si = 0.0
                    origin = f"{bought.country}: Union or Annex III origin, zero"
                else:
                    sd, si, origin = bought.see_direct, bought.see_indirect, bought.country
            embedded_dir += use.amount_t * sd
            embedded_indir += use.amount_t * si
            own.append(
                Figure(
                    f"M x SEE({name} <- {use.source})",
                    use.amount_t * sd,
                    "t CO2e direct",
                    f"{fmt(use.amount_t)} t x {fmt(sd)} (indirect {fmt(use.amount_t * si)} = "
                    f"{fmt(use.amount_t)} x {fmt(si)}; {origin})",
                    SRC_PRECURSOR,
                )
            )
        al = process.activity_level_t
        see_dir = (attr_dir + embedded_dir) / al
        see_indir = (attr_indir + embedded_indir) / al
        kind = "complex" if process.precursors else "simple"
        own += [
            Figure(
                f"SEE_dir({name})",
                see_dir,
                "t CO2e/t",
                f"({fmt(attr_dir)} + {fmt(embedded_dir)}) / {fmt(al)} [{kind} good]",
                SRC_SEE,
            ),
            Figure(
                f"SEE_indir({name})",
                see_indir,
                "t CO2e/t",
                f"({fmt(attr_indir)} + {fmt(embedded_indir)}) / {fmt(al)} [{kind} good]",
                SRC_SEE,
            ),
        ]
        result = GoodResult(
            name=process.good,
            process=name,
            cn_code=normalise_cn(process.cn_code),
            production_route=process.production_route,
            activity_level_t=al,
            see_direct=see_dir,
            see_indirect=see_indir,
            indirect_counted=counts_indirect(process.cn_code),
            carbon_price_paid_eur_per_t=process.carbon_price_paid_eur_per_t,
            figures=tuple(own),
        )
        done[name] = result
        return result

    goods = tuple(see_of(p.name, ()) for p in installation.processes)
    return InstallationResult(installation, total, goods, (*installation.provenance, *figures))
