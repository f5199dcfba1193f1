"""Installation TOML: hostile or malformed files are refused naming file and field path."""

from pathlib import Path

import pytest

from fedcarbon.cbam.errors import InstallationFileError
from fedcarbon.cbam.installation import load_installation

GOOD = """
[installation]
name = "x"
country = "IN"

[[source_streams]]
name = "coal"
method = "combustion"
activity_data = 1.0
ncv = 2.0
emission_factor = 0.1
process = "p"

[[processes]]
name = "p"
good = "pig iron"
cn_code = "7201"
activity_level = 1.0
"""


def _load(tmp_path: Path, text: str) -> None:
    path = tmp_path / "inst.toml"
    path.write_text(text)
    load_installation(path)


def test_good_file_loads(tmp_path: Path) -> None:
    _load(tmp_path, GOOD)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (('method = "combustion"', 'method = "magic"'), r"source_streams\[0\].method: 'magic'"),
        (("activity_level = 1.0", 'activity_level = "a lot"'), r"processes\[0\].activity_level"),
        (("activity_level = 1.0", "activity_level = nan"), "must be finite"),
        (
            ('name = "x"', 'name = "x"\nsecret_backdoor = 1'),
            r"unknown field\(s\) \['secret_backdoor'\]",
        ),
        (('process = "p"', 'process = "p"\nshares = {p = 1.0}'), "either process or shares"),
        (("ncv = 2.0", "ncv = true"), r"source_streams\[0\].ncv: expected a number"),
        (('country = "IN"', ""), "installation.country: required"),
    ],
)
def test_bad_fields_are_named(tmp_path: Path, change: tuple[str, str], message: str) -> None:
    with pytest.raises(InstallationFileError, match=message):
        _load(tmp_path, GOOD.replace(*change, 1))


def test_not_toml_is_refused_with_the_file_name(tmp_path: Path) -> None:
    with pytest.raises(InstallationFileError, match=r"inst.toml: not valid TOML"):
        _load(tmp_path, "[installation\nname=")


def test_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InstallationFileError, match="cannot read"):
        load_installation(tmp_path / "nope.toml")


def test_binary_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "inst.toml"
    path.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(InstallationFileError, match="not UTF-8"):
        load_installation(path)
