"""Run ``fedcarbon coordinator serve`` with cProfile around every accepted submission.

Run: ``python benchmarks/profiled_coordinator.py OUT.prof coordinator serve --home ...``
(``bench_submissions.py --profile`` does). gRPC runs each call in a pool thread and cProfile
profiles only the thread that enables it, so each thread gets its own profiler on its own CPU
clock, switched on for the duration of ``SubmissionDesk.accept`` only (all of a submission's
work after gRPC has parsed the message); their statistics are merged and written to OUT.prof
when the server exits (SIGTERM drains it gracefully). A benchmark tool, not the coordinator.
"""

import atexit
import cProfile
import functools
import pstats
import sys
import threading
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from coordinator.submissions import SubmissionDesk  # noqa: E402
from fedcarbon.cli import app  # noqa: E402

_local = threading.local()
_profilers: list[cProfile.Profile] = []
_lock = threading.Lock()


def _profiler() -> cProfile.Profile:
    profiler = getattr(_local, "profiler", None)
    if profiler is None:
        profiler = cProfile.Profile(time.thread_time)  # this thread's CPU, not wall
        _local.profiler = profiler
        with _lock:
            _profilers.append(profiler)
    return profiler


def _wrap(accept: Any) -> Any:
    @functools.wraps(accept)
    def profiled(self: SubmissionDesk, *args: Any, **kwargs: Any) -> Any:
        profiler = _profiler()
        profiler.enable()
        try:
            return accept(self, *args, **kwargs)
        finally:
            profiler.disable()

    return profiled


def _dump(path: Path) -> None:
    with _lock:
        found = list(_profilers)
    if not found:
        return
    stats = pstats.Stats(found[0])
    for profiler in found[1:]:
        stats.add(profiler)
    stats.dump_stats(str(path))


def main() -> None:
    out = Path(sys.argv[1])
    SubmissionDesk.accept = _wrap(SubmissionDesk.accept)  # type: ignore[method-assign]
    atexit.register(_dump, out)
    app(sys.argv[2:], prog_name="fedcarbon")


if __name__ == "__main__":
    main()
