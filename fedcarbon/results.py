"""Released statistics as domain values."""

from dataclasses import dataclass
from decimal import Decimal

from fedcarbon.campaign import CampaignState


@dataclass(frozen=True, slots=True)
class MetricResult:
    name: str
    unit: str
    scale: int
    sum_fixed: int

    @property
    def sum(self) -> Decimal:
        return Decimal(self.sum_fixed).scaleb(-self.scale)

    def mean(self, contributors: int) -> Decimal:
        return self.sum / contributors if contributors else Decimal(0)


@dataclass(frozen=True, slots=True)
class CampaignResult:
    campaign_id: str
    state: CampaignState
    contributors: int
    metrics: tuple[MetricResult, ...] = ()
    released_unix_ms: int = 0
    reason: str = ""
    aggregate_digest: bytes = b""
    epsilon: float = 0.0
    delta: float = 0.0

    def metric(self, name: str) -> MetricResult:
        for metric in self.metrics:
            if metric.name == name:
                return metric
        raise KeyError(f"campaign {self.campaign_id!r} released no metric {name!r}")
