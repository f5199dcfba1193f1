"""Turning one ``[[adapters]]`` TOML table into an adapter's typed configuration object.

Adapters describe their configuration as a frozen dataclass; this module checks a plain mapping
(from TOML, JSON or a test) against it and builds the object, so every adapter gets the same
error messages naming the offending key (``mapping.columns.quantity``) for free. Relative paths
are resolved against the directory of the file the options came from.
"""

from __future__ import annotations

import dataclasses
import inspect
import re
import tomllib
import types
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fedcarbon.adapters.errors import AdapterConfigError

_NoneType = type(None)


class _Invalid(Exception):
    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key
        self.message = message


def _join(prefix: str, key: str) -> str:
    return f"{prefix}.{key}" if prefix else key


def _type_name(tp: Any) -> str:
    return getattr(tp, "__name__", None) or str(tp).replace("typing.", "")


def _convert(value: Any, tp: Any, key: str, base_dir: Path | None) -> Any:
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if tp is Any:
        return value
    if origin in (typing.Union, types.UnionType):
        if value is None and _NoneType in args:
            return None
        errors: list[str] = []
        for arg in args:
            if arg is _NoneType:
                continue
            try:
                return _convert(value, arg, key, base_dir)
            except _Invalid as exc:
                if exc.key != key:
                    raise
                errors.append(exc.message)
        raise _Invalid(key, errors[0] if len(errors) == 1 else f"has the wrong type ({value!r})")
    if origin is typing.Literal:
        if value not in args:
            allowed = ", ".join(repr(a) for a in args)
            raise _Invalid(key, f"must be one of {allowed}, not {value!r}")
        return value
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        if not isinstance(value, Mapping):
            raise _Invalid(key, f"must be a table, not {value!r}")
        return _build(tp, value, key, base_dir)
    if tp is Path:
        if not isinstance(value, str | Path):
            raise _Invalid(key, f"must be a path string, not {value!r}")
        path = Path(value).expanduser()
        if base_dir is not None and not path.is_absolute():
            path = base_dir / path
        return path
    if tp is bool:
        if not isinstance(value, bool):
            raise _Invalid(key, f"must be true or false, not {value!r}")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise _Invalid(key, f"must be an integer, not {value!r}")
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _Invalid(key, f"must be a number, not {value!r}")
        return float(value)
    if tp is str:
        if not isinstance(value, str):
            raise _Invalid(key, f"must be a string, not {value!r}")
        return value
    if origin in (list, tuple, Sequence):
        if isinstance(value, str | bytes) or not isinstance(value, list | tuple):
            raise _Invalid(key, f"must be a list, not {value!r}")
        item_type = args[0] if args else Any
        items = [_convert(item, item_type, f"{key}[{i}]", base_dir) for i, item in enumerate(value)]
        return items if origin is list else tuple(items)
    if origin in (dict, Mapping):
        if not isinstance(value, Mapping):
            raise _Invalid(key, f"must be a table, not {value!r}")
        value_type = args[1] if len(args) == 2 else Any
        out: dict[str, Any] = {}
        for k, v in value.items():
            if not isinstance(k, str):
                raise _Invalid(key, f"has a non-string key {k!r}")
            out[k] = _convert(v, value_type, _join(key, k), base_dir)
        return out if origin is dict else types.MappingProxyType(out)
    if isinstance(tp, type) and isinstance(value, tp):
        return value
    raise _Invalid(key, f"must be {_type_name(tp)}, not {value!r}")


def _build(cls: type[Any], options: Mapping[str, Any], prefix: str, base_dir: Path | None) -> Any:
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    unknown = sorted(set(options) - set(fields))
    if unknown:
        known = ", ".join(sorted(fields))
        raise _Invalid(_join(prefix, unknown[0]), f"is not a known option (known: {known})")
    kwargs: dict[str, Any] = {}
    for name, fld in fields.items():
        key = _join(prefix, name)
        if name not in options:
            no_default = (
                fld.default is dataclasses.MISSING and fld.default_factory is dataclasses.MISSING
            )
            if no_default:
                raise _Invalid(key, "is required")
            continue
        kwargs[name] = _convert(options[name], hints[name], key, base_dir)
    try:
        return cls(**kwargs)
    except (ValueError, TypeError) as exc:
        raise _Invalid(prefix or cls.__name__, str(exc)) from None


def inline_mapping_file(
    adapter: str, options: Mapping[str, Any], base_dir: Path | None
) -> dict[str, Any]:
    """Replace ``mapping_file = "x.toml"`` by the table it holds, as ``mapping``.

    Lets several sites share one mapping file while small set-ups keep the table inline.
    """
    result = dict(options)
    if "mapping_file" not in result:
        return result
    if "mapping" in result:
        raise AdapterConfigError(adapter, "mapping_file", "cannot be combined with a mapping table")
    raw = result.pop("mapping_file")
    if not isinstance(raw, str | Path):
        raise AdapterConfigError(adapter, "mapping_file", f"must be a path string, not {raw!r}")
    path = Path(raw).expanduser()
    if base_dir is not None and not path.is_absolute():
        path = base_dir / path
    try:
        with path.open("rb") as handle:
            table = tomllib.load(handle)
    except OSError as exc:
        raise AdapterConfigError(adapter, "mapping_file", f"cannot be read: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise AdapterConfigError(adapter, "mapping_file", f"is not valid TOML: {exc}") from None
    result["mapping"] = table.get("mapping", table)
    return result


def build_config(
    adapter: str, config_type: type[Any], options: Mapping[str, Any], base_dir: Path | None = None
) -> Any:
    """Check ``options`` against the dataclass ``config_type`` and build it.

    Raises:
        AdapterConfigError: naming the dotted key that is missing, unknown or mistyped.
    """
    if not (dataclasses.is_dataclass(config_type) and isinstance(config_type, type)):
        raise AdapterConfigError(adapter, "<config_type>", "is not a dataclass")
    try:
        return _build(config_type, options, "", base_dir)
    except _Invalid as exc:
        raise AdapterConfigError(adapter, exc.key, exc.message) from None


@dataclass(frozen=True)
class OptionInfo:
    """One configuration key as ``fedcarbon adapter show`` lists it."""

    key: str
    type: str
    default: str
    help: str


def _attribute_docs(cls: type[Any]) -> dict[str, str]:
    """Read the Google-style ``Attributes:`` section of a config class docstring."""
    docs: dict[str, str] = {}
    lines = inspect.cleandoc(cls.__doc__ or "").splitlines()
    inside = False
    current: str | None = None
    for line in lines:
        if line.strip() == "Attributes:":
            inside = True
            continue
        if not inside:
            continue
        if line and not line.startswith(" "):
            break
        match = re.match(r"^    (\w+)(?: \([^)]*\))?: (.*)$", line)
        if match:
            current = match.group(1)
            docs[current] = match.group(2).strip()
        elif current is not None and line.strip():
            docs[current] += " " + line.strip()
    return docs


def describe_options(config_type: type[Any]) -> list[OptionInfo]:
    """Each option's key, type, default and help (from the class's ``Attributes:`` docs)."""
    hints = typing.get_type_hints(config_type)
    docs = _attribute_docs(config_type)
    rows: list[OptionInfo] = []
    for fld in dataclasses.fields(config_type):
        if fld.default is not dataclasses.MISSING:
            value = fld.default
            default = "(table)" if dataclasses.is_dataclass(value) else repr(value)
        elif fld.default_factory is not dataclasses.MISSING:
            default = "(empty)"
        else:
            default = "required"
        rows.append(
            OptionInfo(fld.name, _type_name(hints[fld.name]), default, docs.get(fld.name, ""))
        )
    return rows
