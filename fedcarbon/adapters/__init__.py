"""The adapter SDK: connect an ERP, MES, meter or file to fedcarbon with one small class.

Write an ``Adapter`` subclass (``contract.py``), register it in the ``fedcarbon.adapters``
entry-point group, and prove it with the conformance kit in ``fedcarbon.adapters.testing``.
The guide is ``docs/integrators.md``.
"""

from fedcarbon.adapters.contract import Adapter, FetchResult, Period, Rejected
from fedcarbon.adapters.errors import (
    AdapterConfigError,
    AdapterError,
    AdapterNotFoundError,
    CredentialError,
    SourceUnavailableError,
)
from fedcarbon.adapters.mapping import RecordMapping, map_rows
from fedcarbon.adapters.registry import AdapterInfo, available_adapters, create_adapter

__all__ = [
    "Adapter",
    "AdapterConfigError",
    "AdapterError",
    "AdapterInfo",
    "AdapterNotFoundError",
    "CredentialError",
    "FetchResult",
    "Period",
    "RecordMapping",
    "Rejected",
    "SourceUnavailableError",
    "available_adapters",
    "create_adapter",
    "map_rows",
]
