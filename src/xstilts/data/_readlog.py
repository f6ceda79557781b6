"""Records which raw files a load read, so a cached split can be revalidated cheaply."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

_active: list[list[Path]] = []


def note(path: Path | str) -> None:
    """Tell every active recording that `path` was (or was looked for to be) read."""
    for log in _active:
        log.append(Path(path))


@contextmanager
def recording() -> Iterator[list[Path]]:
    """Collect the paths noted while the block runs."""
    log: list[Path] = []
    _active.append(log)
    try:
        yield log
    finally:  # remove this very list (an equal, e.g. empty, outer log must stay)
        del _active[next(i for i, x in enumerate(_active) if x is log)]


def stamp(paths: list[Path]) -> tuple[tuple[str, int, int], ...]:
    """(path, size, mtime_ns) per path; (path, -1, -1) for a missing file."""
    out = []
    for p in paths:
        try:
            st = p.stat()
            out.append((str(p), st.st_size, st.st_mtime_ns))
        except OSError:
            out.append((str(p), -1, -1))
    return tuple(out)
