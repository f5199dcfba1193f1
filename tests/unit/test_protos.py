"""The committed gRPC stubs are exactly what the pinned generator makes from protos/."""

import filecmp
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_generated_stubs_are_not_stale(tmp_path: Path) -> None:
    protos = sorted(str(p.relative_to(ROOT / "protos")) for p in (ROOT / "protos").rglob("*.proto"))
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "grpc_tools.protoc",
            "-Iprotos",
            f"--python_out={tmp_path}",
            f"--grpc_python_out={tmp_path}",
            f"--mypy_out={tmp_path}",
            f"--mypy_grpc_out={tmp_path}",
            *protos,
        ],
        cwd=ROOT,
        check=True,
        env=env,
    )
    generated = sorted(p.name for p in (tmp_path / "fedcarbon" / "v1").iterdir())
    committed = sorted(
        p.name
        for p in (ROOT / "fedcarbon" / "v1").iterdir()
        if p.name != "__pycache__" and p.name != "__init__.py"
    )
    assert generated == committed, "run `make protos` and commit the result"
    _, mismatch, errors = filecmp.cmpfiles(
        tmp_path / "fedcarbon" / "v1", ROOT / "fedcarbon" / "v1", generated, shallow=False
    )
    assert not mismatch and not errors, f"stale stubs {mismatch + errors}: run `make protos`"
