"""Writing the user's files whole or not at all: a temporary file beside the target, synced, renamed over it.

Every file ringwatch writes for its user (exports, ban batches, the weekly review, the
quarantine, scenario files) goes through ``replacing``. A write that fails — a full disk,
a missing permission — leaves an earlier file at that path as it was and no temporary file
behind, and becomes one ``WriteError`` line naming the file and the cause. A rename within
one folder is atomic (POSIX ``rename``), and syncing the file before it and the folder after
it means that once ``replacing`` returns, the bytes are on disk under the target's name.
"""

from __future__ import annotations

import os
import secrets
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class WriteError(Exception):
    """A file could not be written; the message names the file and the cause in one line."""


def _cause(exc: OSError) -> str:
    """The operating system's words for an error (``No space left on device``), without errno or path.

    By its number first: Arrow's writers wrap the system's words in their own.
    """
    if exc.errno:
        return os.strerror(exc.errno)
    return exc.strerror or (str(exc).splitlines()[0] if str(exc) else type(exc).__name__)


@contextmanager
def _explained(shown: str) -> Iterator[None]:
    try:
        yield
    except OSError as exc:
        raise WriteError(f"cannot write {shown}: {_cause(exc)}") from exc


def _sync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextmanager
def replacing(path) -> Iterator[Path]:
    """A new, empty file beside ``path`` for the block to write; when the block ends it is synced and renamed
    over ``path`` (which keeps its permissions). If the block fails, the temporary file goes and ``path`` stays.

    A target that exists but is not a regular file (``/dev/stdout``, a pipe) is handed to the block
    itself: renaming over it would replace the device, and there is nothing there to keep.
    """
    shown = str(path)
    path = Path(path)
    if path.exists() and not path.is_file():
        with _explained(shown):
            yield path
        return
    target = Path(os.path.realpath(path))  # a link's target is written, the link stays
    with _explained(shown):
        target.parent.mkdir(parents=True, exist_ok=True)
        temp = target.with_name(f".{target.name}.{secrets.token_hex(4)}.tmp")
        # Created like any new file (mode 0666 less the umask); O_EXCL never reuses someone else's file.
        os.close(os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
    try:
        with _explained(shown):
            yield temp
            _sync(temp)
            if target.exists():
                os.chmod(temp, stat.S_IMODE(target.stat().st_mode))
            os.replace(temp, target)
            _sync(target.parent)
    finally:
        temp.unlink(missing_ok=True)


def write_file(path, data: bytes) -> None:
    """Write ``data`` to ``path`` whole or not at all (``replacing``); ``WriteError`` says why not."""
    with replacing(path) as temp, open(temp, "wb") as file:
        file.write(data)
