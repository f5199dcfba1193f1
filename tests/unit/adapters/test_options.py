"""Typed adapter options: every error names the offending key."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import pytest

from fedcarbon.adapters.errors import AdapterConfigError
from fedcarbon.adapters.mapping import RecordMapping
from fedcarbon.adapters.options import build_config, describe_options, inline_mapping_file


@dataclass(frozen=True)
class Inner:
    port: int = 1883


@dataclass(frozen=True)
class Sample:
    path: Path
    mode: Literal["power", "energy"] = "energy"
    topics: tuple[str, ...] = ()
    scale: float = 1.0
    inner: Inner = field(default_factory=Inner)
    mapping: RecordMapping = field(default_factory=RecordMapping)
    note: str | None = None


def test_missing_required_key_is_named() -> None:
    with pytest.raises(AdapterConfigError, match=r"'path' is required"):
        build_config("x", Sample, {})


def test_unknown_key_is_named_with_the_known_ones() -> None:
    with pytest.raises(AdapterConfigError, match=r"'pth' is not a known option"):
        build_config("x", Sample, {"path": "a", "pth": "b"})


def test_nested_wrong_type_gives_dotted_path() -> None:
    with pytest.raises(AdapterConfigError, match=r"'inner.port' must be an integer"):
        build_config("x", Sample, {"path": "a", "inner": {"port": "1883"}})


def test_list_item_wrong_type_gives_index() -> None:
    with pytest.raises(AdapterConfigError, match=r"'topics\[1\]' must be a string"):
        build_config("x", Sample, {"path": "a", "topics": ["a/b", 3]})


def test_literal_lists_allowed_values() -> None:
    with pytest.raises(AdapterConfigError, match=r"one of 'power', 'energy'"):
        build_config("x", Sample, {"path": "a", "mode": "current"})


def test_boolean_is_not_accepted_as_number() -> None:
    with pytest.raises(AdapterConfigError, match=r"'scale' must be a number"):
        build_config("x", Sample, {"path": "a", "scale": True})


def test_relative_path_resolves_against_base_dir(tmp_path: Path) -> None:
    assert build_config("x", Sample, {"path": "a.csv"}, tmp_path).path == tmp_path / "a.csv"


def test_integer_is_accepted_as_float() -> None:
    assert build_config("x", Sample, {"path": "a", "scale": 2}).scale == 2.0


def test_mapping_file_is_inlined(tmp_path: Path) -> None:
    (tmp_path / "m.toml").write_text('[mapping]\ndefaults = { region = "DE" }\n')
    options = inline_mapping_file("x", {"mapping_file": "m.toml"}, tmp_path)
    assert options == {"mapping": {"defaults": {"region": "DE"}}}


def test_mapping_file_and_table_together_are_refused(tmp_path: Path) -> None:
    with pytest.raises(AdapterConfigError, match=r"mapping_file"):
        inline_mapping_file("x", {"mapping_file": "m.toml", "mapping": {}}, tmp_path)


def test_describe_options_marks_required_keys() -> None:
    assert describe_options(Sample)[0].default == "required"
