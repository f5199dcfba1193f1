"""``fedcarbon pact``: validate, show, upgrade and export through typer's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from fedcarbon.accounting.pact import dump_footprint, load_footprints
from fedcarbon.accounting.pact_cli import app

DATA = Path(__file__).resolve().parents[2] / "data" / "pact"
COMPANY = ["--company-id", "urn:lei:5493001KJTIIGC8Y1R12", "--company-name", "Acme Steel"]

runner = CliRunner()

ACTIVITIES = """\
record_id,period_start,period_end,site,activity,quantity,unit,region,scope3_category,customer,product
r1,2024-01-01,2024-12-31,plant,fuel.natural_gas,10000,kWh,GB,,,
r2,2024-01-01,2024-12-31,plant,pcf.gtin.5695872369587,1000,kg,GB,1,,
r3,2024-01-01,2024-12-31,plant,output.coil,1.5,t,GB,,acme,coil
r4,2024-01-01,2024-12-31,plant,output.bolts,2000,piece,GB,,,bolts
"""


@pytest.fixture
def activities(tmp_path: Path) -> Path:
    path = tmp_path / "activities.csv"
    path.write_text(ACTIVITIES, encoding="utf-8")
    return path


def _write(tmp_path: Path, document: Any, name: str = "doc.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def _export(activities: Path, *extra: str) -> Any:
    result = runner.invoke(
        app,
        [
            "export",
            str(activities),
            *COMPANY,
            "--supplier-pcf",
            str(DATA / "example-1.json"),
            "--mass",
            "bolts=0.05",
            *extra,
        ],
    )
    assert result.exit_code == 0, result.output
    return result


def test_validate_accepts_the_spec_examples() -> None:
    files = [str(DATA / n) for n in ("example-1.json", "list-footprints-response.json")]
    assert runner.invoke(app, ["validate", *files]).exit_code == 0


def test_validate_fails_with_file_and_json_path(tmp_path: Path) -> None:
    document = json.loads((DATA / "example-1.json").read_text(encoding="utf-8"))
    del document["pcf"]["fossilGhgEmissions"]
    path = _write(tmp_path, document, "bad.json")
    result = runner.invoke(app, ["validate", "--json", str(path)])
    violations = json.loads(result.stdout)["violations"]
    errors = [(v["file"], v["json_path"]) for v in violations if v["severity"] == "error"]
    assert (result.exit_code, errors) == (1, [(str(path), "$.pcf.fossilGhgEmissions")])


def test_validate_reports_unreadable_json_as_a_violation(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text("{", encoding="utf-8")
    result = runner.invoke(app, ["validate", str(path)])
    assert (result.exit_code, "not JSON" in result.output) == (1, True)


def test_validate_failure_is_a_clean_exit_not_a_traceback(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text("{", encoding="utf-8")
    result = runner.invoke(app, ["validate", str(path)])
    assert isinstance(result.exception, SystemExit)


def test_validate_reports_json_nested_too_deeply(tmp_path: Path) -> None:
    path = tmp_path / "deep.json"
    path.write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    result = runner.invoke(app, ["validate", str(path)])
    assert (result.exit_code, "nested too deeply" in result.output) == (1, True)


def test_validate_strict_fails_on_unknown_properties() -> None:
    result = runner.invoke(app, ["validate", "--strict", str(DATA / "example-1.json")])
    assert result.exit_code == 1


def test_show_lists_the_footprint_in_a_table() -> None:
    result = runner.invoke(app, ["show", str(DATA / "example-2.json")])
    assert (result.exit_code, "5.14" in result.output) == (0, True)


def test_show_json_is_the_exact_document() -> None:
    result = runner.invoke(app, ["show", "--json", str(DATA / "example-2.json")])
    original = json.loads((DATA / "example-2.json").read_text(encoding="utf-8"))
    assert json.loads(result.stdout) == {"data": [original]}


def test_show_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["show", str(tmp_path / "nope.json")])
    assert (result.exit_code, "does not exist" in result.output) == (1, True)


def test_upgrade_writes_a_valid_v3_file(tmp_path: Path) -> None:
    v2 = {
        "id": "3f1a9a5e-2b0c-4a55-9d4b-6a7f1c2e8d90",
        "specVersion": "2.2.0",
        "version": 1,
        "created": "2024-06-01T00:00:00Z",
        "status": "Active",
        "companyName": "Bottler Ltd",
        "companyIds": ["urn:pact:bottler.example:company"],
        "productDescription": "Ethanol",
        "productIds": ["urn:pact:bottler.example:supplier-id:eth"],
        "productCategoryCpc": "3342",
        "productNameCompany": "Ethanol",
        "comment": "",
        "pcf": {
            "declaredUnit": "kilogram",
            "unitaryProductAmount": "1",
            "pCfExcludingBiogenic": "1.5",
            "pCfIncludingBiogenic": "1.0",
            "fossilGhgEmissions": "1.5",
            "fossilCarbonContent": "0",
            "biogenicCarbonContent": "0",
            "characterizationFactors": "AR6",
            "crossSectoralStandardsUsed": ["ISO Standard 14067"],
            "boundaryProcessesDescription": "",
            "referencePeriodStart": "2023-01-01T00:00:00Z",
            "referencePeriodEnd": "2024-01-01T00:00:00Z",
            "exemptedEmissionsPercent": 0,
            "exemptedEmissionsDescription": "",
            "packagingEmissionsIncluded": False,
        },
    }
    out = tmp_path / "v3.json"
    result = runner.invoke(app, ["upgrade", str(_write(tmp_path, v2)), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert runner.invoke(app, ["validate", str(out)]).exit_code == 0


def test_export_writes_one_valid_document_per_product(activities: Path, tmp_path: Path) -> None:
    out = tmp_path / "pcfs"
    _export(activities, "--out", str(out))
    files = sorted(p.name for p in out.iterdir())
    assert files == ["bolts.json", "coil.json"]
    assert runner.invoke(app, ["validate", *map(str, out.iterdir())]).exit_code == 0


def test_exported_file_imports_and_exports_back_identical(activities: Path, tmp_path: Path) -> None:
    out = tmp_path / "pcfs"
    _export(activities, "--out", str(out))
    document = json.loads((out / "coil.json").read_text(encoding="utf-8"))
    assert dump_footprint(load_footprints(out / "coil.json")[0]) == document


def test_export_to_stdout_is_a_list_response(activities: Path) -> None:
    result = _export(activities, "--domain", "acme.example")
    ids = [fp["productIds"][0] for fp in json.loads(result.stdout)["data"]]
    assert ids == [
        "urn:pact:acme.example:supplier-id:coil",
        "urn:pact:acme.example:supplier-id:bolts",
    ]


def _total_kgco2e(stdout: str) -> float:
    """kg CO2e over both products (1500 kg of coil, 2000 bolts; values are per 1 unit)."""
    data = {fp["productNameCompany"]: fp["pcf"] for fp in json.loads(stdout)["data"]}
    return 1500 * float(data["coil"]["pcfExcludingBiogenicUptake"]) + 2000 * float(
        data["bolts"]["pcfExcludingBiogenicUptake"]
    )


def test_export_prices_purchases_with_the_supplier_pcf(activities: Path, tmp_path: Path) -> None:
    """Doubling the supplier's 0.384 kg CO2e/kg adds 1000 kg x 0.384 to the products' total."""
    supplier = json.loads((DATA / "example-1.json").read_text(encoding="utf-8"))
    supplier["pcf"]["pcfExcludingBiogenicUptake"] = "0.768"
    doubled = _write(tmp_path, supplier, "supplier.json")
    base = _total_kgco2e(_export(activities).stdout)
    result = runner.invoke(
        app,
        [
            "export",
            str(activities),
            *COMPANY,
            "--supplier-pcf",
            str(doubled),
            "--mass",
            "bolts=0.05",
        ],
    )
    assert _total_kgco2e(result.stdout) - base == pytest.approx(384.0)


def test_export_without_the_supplier_pcf_names_the_unknown_activity(activities: Path) -> None:
    result = runner.invoke(app, ["export", str(activities), *COMPANY, "--mass", "bolts=0.05"])
    assert (result.exit_code, "pcf.gtin.5695872369587" in result.output) == (1, True)


def test_export_economic_needs_prices(activities: Path) -> None:
    result = runner.invoke(
        app,
        [
            "export",
            str(activities),
            *COMPANY,
            "--supplier-pcf",
            str(DATA / "example-1.json"),
            "--allocation",
            "economic",
            "--price",
            "coil=1",
        ],
    )
    assert (result.exit_code, "'bolts'" in result.output) == (1, True)


def test_export_refuses_a_company_id_that_is_not_a_urn(activities: Path) -> None:
    result = runner.invoke(
        app, ["export", str(activities), "--company-id", "acme", "--company-name", "Acme"]
    )
    assert (result.exit_code, "not a URN" in result.output) == (1, True)


def test_export_reports_bad_rows_with_their_numbers(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(ACTIVITIES + "r5,2024-01-01,2024-12-31,plant,output.coil,lots,t,GB,,,\n")
    result = runner.invoke(app, ["export", str(path), *COMPANY])
    assert (result.exit_code, "row 6" in result.output) == (1, True)


def test_export_bad_option_pair_is_named(activities: Path) -> None:
    result = runner.invoke(app, ["export", str(activities), *COMPANY, "--mass", "bolts"])
    assert (result.exit_code, "--mass 'bolts'" in result.output) == (1, True)


def test_export_never_overwrites_files_of_similar_product_names(tmp_path: Path) -> None:
    path = tmp_path / "acts.csv"
    path.write_text(
        ACTIVITIES.replace(",bolts\n", ",coil/1\n").replace(",coil\n", ",coil_1\n"),
        encoding="utf-8",
    )
    out = tmp_path / "pcfs"
    result = runner.invoke(
        app,
        [
            "export",
            str(path),
            *COMPANY,
            "--supplier-pcf",
            str(DATA / "example-1.json"),
            "--mass",
            "coil/1=0.05",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    assert len(list(out.iterdir())) == 2
