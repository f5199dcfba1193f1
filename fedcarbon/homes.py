"""A failed ``init`` leaves the home directory as it found it, never half-made.

A half-initialised home is worse than none: the next ``init`` refuses to overwrite it and
other commands fail on what is missing. ``init`` runs its writes inside :func:`as_before`.
"""

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

# Files up to this size are copied before init and put back if it fails (configuration and
# keys are a few kB; a store that existed is not rewritten by init, only added to).
_RESTORABLE_BYTES = 1 << 20


@contextmanager
def as_before(home: Path) -> Iterator[None]:
    """On any failure (including a command's own exit), undo what happened inside ``home``:
    remove what was created (the directory too, if it was), restore small files changed."""
    existed = home.is_dir()
    entries = set(home.iterdir()) if existed else set()
    saved = {
        p: p.read_bytes() for p in entries if p.is_file() and p.stat().st_size <= _RESTORABLE_BYTES
    }
    try:
        yield
    except BaseException:
        if not existed:
            shutil.rmtree(home, ignore_errors=True)
            raise
        for path in set(home.iterdir()) - entries:
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
        for path, data in saved.items():
            try:
                if not path.exists() or path.read_bytes() != data:
                    path.write_bytes(data)
            except OSError:
                pass  # best effort (e.g. the disk is still full); the first error is reported
        raise
