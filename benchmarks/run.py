"""Run every benchmark script with small settings, one after another: ``make bench``.

Run: ``.venv/bin/python benchmarks/run.py [--full] [--only NAME ...] [--timeout SECONDS]``.

Each ``benchmarks/bench_*.py`` runs in its own process, in name order, and prints its own
table. Scripts are sized for a careful measurement by default, which takes too long for a
routine ``make bench`` on a shared two-core machine, so: a script whose ``--help`` offers
``--quick`` gets ``--quick``; a script listed in ``SMALL`` gets those options (if its
``--help`` still lists every one of them); any other runs with its defaults. ``--full`` runs
every script with its own defaults. A summary of exit codes and wall times follows; the exit
code is 1 if any script failed or timed out.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

# Small settings for scripts without --quick (options as their argparse defines them).
SMALL: dict[str, list[str]] = {
    "bench_accounting.py": ["--records", "200000", "--baseline-records", "10000", "--runs", "3"],
    "bench_dealer_free.py": ["--runs", "3"],
}


@dataclass(frozen=True)
class Outcome:
    """How one script ended."""

    script: str
    options: list[str]
    seconds: float
    status: str

    @property
    def ok(self) -> bool:
        return self.status == "ok"


def discover(only: list[str] | None) -> list[Path]:
    """``bench_*.py`` beside this file, by name; ``only`` keeps names containing any entry."""
    scripts = sorted(HERE.glob("bench_*.py"))
    if only:
        scripts = [s for s in scripts if any(part in s.name for part in only)]
    return scripts


def help_text(script: Path) -> str:
    """The script's ``--help`` output ('' if it cannot even print help)."""
    try:
        done = subprocess.run(
            [sys.executable, str(script), "--help"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return ""
    return done.stdout if done.returncode == 0 else ""


def small_options(script: Path) -> tuple[list[str], str]:
    """Options for a short run and why they were chosen."""
    text = help_text(script)
    if "--quick" in text:
        return ["--quick"], "offers --quick"
    wanted = SMALL.get(script.name, [])
    flags = [option for option in wanted if option.startswith("--")]
    missing = [flag for flag in flags if flag not in text]
    if wanted and not missing:
        return wanted, "small settings from run.py"
    if missing:
        return [], f"WARNING: --help lacks {', '.join(missing)}; running its defaults"
    return [], "no small settings known; running its defaults"


def run_script(script: Path, options: list[str], timeout: float) -> Outcome:
    """Run one script, its output going straight to ours."""
    start = time.perf_counter()
    try:
        done = subprocess.run(
            [sys.executable, str(script), *options], cwd=ROOT, timeout=timeout, check=False
        )
        status = "ok" if done.returncode == 0 else f"exit {done.returncode}"
    except subprocess.TimeoutExpired:
        status = f"timed out after {timeout:.0f} s"
    return Outcome(script.name, options, time.perf_counter() - start, status)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="run every script with its defaults")
    parser.add_argument(
        "--only", nargs="+", metavar="NAME", help="only scripts whose file name contains NAME"
    )
    parser.add_argument(
        "--timeout", type=float, default=1800.0, help="seconds before a script is stopped"
    )
    args = parser.parse_args(argv)

    scripts = discover(args.only)
    if not scripts:
        print("no benchmark scripts matched", file=sys.stderr)
        return 1
    outcomes = []
    for script in scripts:
        options, why = ([], "--full") if args.full else small_options(script)
        shown = " ".join(options) or "(defaults)"
        print(f"\n=== {script.name} {shown}  [{why}]\n", flush=True)
        outcome = run_script(script, options, args.timeout)
        outcomes.append(outcome)
        sys.stdout.flush()

    print("\n=== summary\n")
    print("| script | options | wall time | result |")
    print("|---|---|---:|---|")
    for o in outcomes:
        shown = " ".join(o.options) or "(defaults)"
        print(f"| {o.script} | {shown} | {o.seconds:.0f} s | {o.status} |")
    failed = [o for o in outcomes if not o.ok]
    if failed:
        print(f"\n{len(failed)} benchmark(s) failed: {', '.join(o.script for o in failed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
