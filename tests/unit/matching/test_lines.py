"""Reading purchase lines: every bad file names the file, row and column."""

from pathlib import Path

import pytest

from fedcarbon.matching.errors import LinesError
from fedcarbon.matching.lines import MAX_DESCRIPTION, read_descriptions


def _file(tmp_path: Path, text: str | bytes) -> Path:
    path = tmp_path / "lines.csv"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def test_descriptions_are_read_in_file_order(tmp_path: Path) -> None:
    path = _file(tmp_path, 'description,qty\nbolts,1\n"paper, copy",2\n')
    assert read_descriptions(path, "description") == ["bolts", "paper, copy"]


def test_a_missing_column_lists_the_columns(tmp_path: Path) -> None:
    path = _file(tmp_path, "text\nbolts\n")
    with pytest.raises(LinesError, match=r"no column 'description' \(columns: 'text'\)"):
        read_descriptions(path, "description")


def test_an_empty_description_names_the_row(tmp_path: Path) -> None:
    path = _file(tmp_path, "description\nbolts\n  \n")
    with pytest.raises(LinesError, match=r"row 3: column 'description' is empty"):
        read_descriptions(path, "description")


def test_an_overlong_description_names_the_row(tmp_path: Path) -> None:
    path = _file(tmp_path, "description\n" + "x" * (MAX_DESCRIPTION + 1) + "\n")
    with pytest.raises(LinesError, match=r"row 2: .*at most"):
        read_descriptions(path, "description")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "file is empty"),
        (b"description\n\xff\xfe bolts\n", "not UTF-8"),
        ("description\nbo\0lts\n", "row 2: .*control character"),
    ],
)
def test_broken_files_are_named(tmp_path: Path, content: str | bytes, message: str) -> None:
    path = _file(tmp_path, content)
    with pytest.raises(LinesError, match=message):
        read_descriptions(path, "description")


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(LinesError, match=r"nope\.csv: no such file"):
        read_descriptions(tmp_path / "nope.csv", "description")


def test_a_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(LinesError, match="is a directory"):
        read_descriptions(tmp_path, "description")
