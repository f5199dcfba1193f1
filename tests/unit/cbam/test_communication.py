"""The communication to importers: only the declared figures; template export; parsing."""

import json
from pathlib import Path

import pytest
from openpyxl import load_workbook

from fedcarbon.cbam.communication import (
    Communication,
    communication_of,
    template_json,
    write_template_xlsx,
)
from fedcarbon.cbam.embedded import compute
from fedcarbon.cbam.errors import CommunicationError
from fedcarbon.cbam.installation import load_installation

EXAMPLE = Path(__file__).parents[3] / "examples" / "cbam" / "installation.toml"


@pytest.fixture(scope="module")
def result():  # type: ignore[no-untyped-def]
    return compute(load_installation(EXAMPLE))


def test_communication_carries_no_process_data(result) -> None:  # type: ignore[no-untyped-def]
    text = communication_of(result).to_json().decode()
    for secret in ("coal", "limestone", "26.0", "150000", "kiln", "9000"):
        assert secret not in text
    good = json.loads(text)["goods"][1]
    assert set(good) == {
        "name",
        "cn_code",
        "production_route",
        "see_direct",
        "see_indirect",
        "see_total",
        "indirect_counted",
        "carbon_price_paid_eur_per_t",
    }


def test_communication_round_trips(result) -> None:  # type: ignore[no-untyped-def]
    communication = communication_of(result)
    assert Communication.from_json(communication.to_json()) == communication


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d.update(format="other"), "format"),
        (lambda d: d["goods"][0].update(see_direct=-1), r"goods\[0\].see_direct"),
        (lambda d: d["goods"][0].update(see_total=99), r"goods\[0\].see_total"),
        (lambda d: d["goods"][0].update(cn_code="steel"), r"goods\[0\].cn_code"),
        (lambda d: d.update(goods=[]), "goods"),
        (lambda d: d["goods"][0].update(indirect_counted="yes"), "indirect_counted"),
    ],
)
def test_malformed_communications_name_the_field(result, mutate, message) -> None:  # type: ignore[no-untyped-def]
    data = communication_of(result).to_dict()
    mutate(data)
    with pytest.raises(CommunicationError, match=message):
        Communication.from_dict(data)


def test_not_json_is_refused() -> None:
    with pytest.raises(CommunicationError, match="not JSON"):
        Communication.from_json(b"\x00\x01")


def test_template_has_the_sections_in_json_and_xlsx(result, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    sections = ["A_InstData", "B_EmInst", "D_Processes", "E_PurchPrec", "Summary_Products"]
    assert set(sections) <= set(template_json(result))
    path = tmp_path / "t.xlsx"
    write_template_xlsx(result, path)
    book = load_workbook(path)
    assert book.sheetnames == sections
    summary = list(book["Summary_Products"].iter_rows(values_only=True))
    header = summary[0]
    assert summary[2][header.index("see_direct")] == pytest.approx(result.goods[1].see_direct)
