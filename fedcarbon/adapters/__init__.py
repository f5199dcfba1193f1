"""The adapter SDK: connect an ERP, MES, meter or file to fedcarbon with one small class.

Write an ``Adapter`` subclass (``contract.py``), register it in the ``fedcarbon.adapters``
entry-point group, and prove it with the conformance kit in ``fedcarbon.adapters.testing``.
The guide is ``docs/integrators.md``. Public names are re-exported lazily so that importing the
package (as the CLI does) stays cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # type checkers see the real names; at run time they load on first use
    from fedcarbon.adapters.contract import Adapter, FetchResult, Period, Rejected
    from fedcarbon.adapters.credentials import read_secret
    from fedcarbon.adapters.errors import (
        AdapterConfigError,
        AdapterError,
        AdapterNotFoundError,
        CredentialError,
        SourceUnavailableError,
    )
    from fedcarbon.adapters.mapping import RecordMapping, map_rows
    from fedcarbon.adapters.registry import AdapterInfo, available_adapters, create_adapter

_EXPORTS = {
    "Adapter": "contract",
    "FetchResult": "contract",
    "Period": "contract",
    "Rejected": "contract",
    "AdapterConfigError": "errors",
    "AdapterError": "errors",
    "AdapterNotFoundError": "errors",
    "CredentialError": "errors",
    "SourceUnavailableError": "errors",
    "RecordMapping": "mapping",
    "map_rows": "mapping",
    "AdapterInfo": "registry",
    "available_adapters": "registry",
    "create_adapter": "registry",
    "read_secret": "credentials",
}

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
    "read_secret",
]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(f"fedcarbon.adapters.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module 'fedcarbon.adapters' has no attribute {name!r}")
