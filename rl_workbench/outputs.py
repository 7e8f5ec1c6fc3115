"""Output folders of long jobs: checked before work, locked while written, replaced whole.

A long job (train, audit, fit-generator, fit-autoencoder, explain, collect, demo) must never lose
work or claim a success it did not have, so before it loads anything it claims its ``--out``
folder: the folder must be creatable and writable (tested by writing, so read-only mounts are
caught even when running as root), and an exclusive ``flock`` on ``OUT/.rlwb.lock`` refuses a
second run writing to the same folder. The kernel drops the lock when the process ends, even on
SIGKILL, so a crashed run never leaves the folder locked.

Checkpoints and final models are written beside their target and swapped in: files with
``os.replace`` after an fsync, folders by renaming the old one aside, renaming the new one in and
only then deleting the old one (:func:`recover_folder` finishes an interrupted swap). A kill at any
moment therefore leaves the previous checkpoint usable.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any

from rl_workbench.errors import OutputFolderError, ResumeMismatchError

LOCK_FILE = ".rlwb.lock"
"""The lock file every long job holds in its output folder for the whole run."""

PAUSE_ENV = "RLWB_TEST_PAUSE_BEFORE_REPLACE"
"""Test hook: the name of a file or folder whose atomic replacement should pause (see
:func:`pause_for_tests`), so a test can SIGKILL the writer at the worst moment."""

PAUSE_MARKER_ENV = "RLWB_TEST_PAUSE_MARKER"
"""Test hook: a file created when the writer pauses, telling the test it may kill now."""


def prepare_output_folder(path: str | Path, *, option: str = "--out") -> Path:
    """Check that ``path`` can be an output folder, create it, and return it.

    Runs before any work so that a job never computes for an hour and then fails to save. The
    test is a real write (a temporary file created and removed), not a permission bit check,
    because permission bits say nothing about read-only mounts and nothing at all to root.

    Args:
        path: the folder the job will write into (created with its parents when missing).
        option: the command-line option that named it, for the message.

    Returns:
        The folder, as a :class:`~pathlib.Path`.

    Raises:
        OutputFolderError: ``path`` or one of its parents is a file, or the folder cannot be
            created or written to.
    """
    folder = Path(path)
    if folder.exists() and not folder.is_dir():
        raise OutputFolderError(
            f"{option} {folder} is a file, not a folder. Pass a folder path (it is created when "
            "missing) or move the file away."
        )
    for parent in folder.parents:
        if parent.exists() and not parent.is_dir():
            raise OutputFolderError(
                f"{option} {folder} cannot be created: {parent} is a file. Pass a folder path "
                "whose parents are folders."
            )
        if parent.exists():
            break
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".rlwb-write-test-", dir=folder)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise OutputFolderError(
            f"{option} {folder} is not writable ({exc.strerror or exc.__class__.__name__}). "
            "Choose a folder you can write to."
        ) from None
    return folder


class OutputLock:
    """An exclusive lock on an output folder, held from construction until :meth:`release`.

    The lock is an ``fcntl.flock`` on ``FOLDER/LOCK_FILE`` (or ``FOLDER/.rlwb-PART.lock`` for a
    job that writes only one part of a folder, as fit-autoencoder writes only ``vae/`` beside a
    running fit-generator). ``flock`` belongs to the open file, so the kernel releases it when the
    process dies, however it dies; the file itself stays and records the last holder.

    Attributes:
        folder: the locked folder.
        path: the lock file.
        remove_if_empty: on release, remove the folder when it holds nothing but the lock file
            (a run refused after the claim then leaves nothing behind).
    """

    def __init__(
        self,
        folder: Path,
        part: str | None = None,
        *,
        option: str = "--out",
        remove_if_empty: bool = False,
    ) -> None:
        self.folder = folder
        self.remove_if_empty = remove_if_empty
        self.path = folder / (LOCK_FILE if part is None else f".rlwb-{part}.lock")
        try:
            fh = open(self.path, "a+", encoding="utf-8")  # held until release()
        except OSError as exc:
            raise OutputFolderError(
                f"{option} {folder}: cannot create the lock file {self.path.name} "
                f"({exc.strerror}). Choose a folder you can write to."
            ) from None
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.seek(0)
            holder = " ".join(fh.read().split()) or "another process"
            fh.close()
            what = "this folder" if part is None else f"its {part}/ part"
            raise OutputFolderError(
                f"{option} {folder} is in use: another rlwb run is writing {what} ({holder}). "
                "Wait for it to finish, or pass another --out."
            ) from None
        fh.seek(0)
        fh.truncate()
        fh.write(f"pid {os.getpid()}: rlwb {' '.join(sys.argv[1:])}\n")
        fh.flush()
        self._fh: Any = fh

    def release(self) -> None:
        """Drop the lock (the process's exit does the same), and remove the folder this claim
        created if the run wrote nothing into it."""
        if self._fh is None:
            return
        if self.remove_if_empty and [p.name for p in self.folder.iterdir()] == [self.path.name]:
            with contextlib.suppress(OSError):  # another run may have just opened the lock
                self.path.unlink()
                self.folder.rmdir()
        fcntl.flock(self._fh.fileno(), fcntl.LOCK_UN)
        self._fh.close()
        self._fh = None

    def __enter__(self) -> OutputLock:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()


def claim_output_folder(
    path: str | Path, *, part: str | None = None, option: str = "--out"
) -> OutputLock:
    """Check, create and lock an output folder before any work: the first line of a long job.

    Args:
        path: the output folder.
        part: lock only this part of the folder (see :class:`OutputLock`).
        option: the command-line option that named it, for messages.

    Returns:
        The held lock; use it as a context manager or keep it for the life of the process.

    Raises:
        OutputFolderError: the folder is a file, not writable, or locked by another run.
    """
    existed = Path(path).exists()
    folder = prepare_output_folder(path, option=option)
    return OutputLock(folder, part, option=option, remove_if_empty=not existed)


def pause_for_tests(name: str) -> None:
    """Sleep before a replacement whose target is named ``$RLWB_TEST_PAUSE_BEFORE_REPLACE``.

    Only the reliability tests set it: they wait for ``$RLWB_TEST_PAUSE_MARKER`` to appear and
    then SIGKILL the process, which proves a kill at this, the most fragile moment, leaves the
    previous checkpoint usable.
    """
    if os.environ.get(PAUSE_ENV) != name:
        return
    marker = os.environ.get(PAUSE_MARKER_ENV)
    if marker:
        Path(marker).write_text(f"{os.getpid()}\n")
    time.sleep(600)


def fsync_path(path: Path) -> None:
    """Flush a file, or every file under a folder and the folders themselves, to disk."""
    paths = [path] if path.is_file() else [path, *sorted(path.rglob("*"))]
    for item in paths:
        flags = os.O_RDONLY | (os.O_DIRECTORY if item.is_dir() else 0)
        fd = os.open(item, flags)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):  # some filesystems refuse fsync on directories
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def write_file_atomically(path: str | Path, write: Callable[[Path], object]) -> Path:
    """Write a file whole or not at all: ``write`` fills a temporary file, which then replaces
    ``path`` after an fsync. A kill at any moment leaves either the old file or the new one.

    Args:
        path: the file to (re)write.
        write: writes the content to the path it is given (e.g. ``model.save``).

    Returns:
        ``path``.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.unlink(missing_ok=True)
    write(tmp)
    fsync_path(tmp)
    pause_for_tests(path.name)
    os.replace(tmp, path)
    _fsync_dir(path.parent)
    return path


def write_text_atomically(path: str | Path, text: str) -> Path:
    """:func:`write_file_atomically` for text (UTF-8)."""
    return write_file_atomically(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def _aside(folder: Path, tag: str) -> Path:
    return folder.with_name(f"{folder.name}.{tag}")


def replace_folder(new: Path, target: Path) -> None:
    """Move the complete folder ``new`` to ``target``, replacing what is there.

    A folder cannot be replaced in one rename, so the old one is first renamed aside
    (``TARGET.old``), the new one renamed in, and only then the old one deleted; if a kill falls
    between the two renames, :func:`recover_folder` puts a whole folder back.
    """
    fsync_path(new)
    old = _aside(target, "old")
    shutil.rmtree(old, ignore_errors=True)
    if target.exists():
        target.rename(old)
    pause_for_tests(target.name)
    new.rename(target)
    _fsync_dir(target.parent)
    shutil.rmtree(old, ignore_errors=True)


def recover_folder(target: Path, complete: Callable[[Path], bool]) -> None:
    """Finish a :func:`replace_folder` that a kill interrupted between its two renames.

    Args:
        target: the folder that should exist.
        complete: tells whether a folder was written whole (e.g. its last-written file exists).
    """
    if target.exists():
        return
    for tag in ("tmp", "old"):
        candidate = _aside(target, tag)
        if candidate.is_dir() and complete(candidate):
            candidate.rename(target)
            return


def refuse_changed_settings(
    checkpoint: Path, saved: dict[str, Any] | None, now: dict[str, Any], fix: str
) -> None:
    """Refuse to resume from a checkpoint made with other settings, naming each difference.

    Resuming silently with other settings would train one model under two sets of settings
    while the record (model card, fit.json) claims only the new ones.

    Args:
        checkpoint: the checkpoint being resumed, for the message.
        saved: the settings stored beside it (None: it records none, an older workbench's).
        now: this run's settings, in the same JSON-able form.
        fix: how to resume anyway with this run's settings (e.g. ``"pass --fresh"``).

    Raises:
        ResumeMismatchError: some setting differs, or the checkpoint records none.
    """
    if not isinstance(saved, dict):
        raise ResumeMismatchError(
            f"{checkpoint} records no readable settings (an older rlwb wrote it, or the record is "
            f"damaged), so resuming could silently mix two runs. To start over, {fix}."
        )
    now = json.loads(json.dumps(now))  # tuples become lists, as in the stored copy
    differences = [
        f"{key} {saved.get(key)!r} (now {now.get(key)!r})"
        for key in sorted(set(saved) | set(now))
        if saved.get(key) != now.get(key)
    ]
    if differences:
        raise ResumeMismatchError(
            f"{checkpoint} was made with {', '.join(differences)}. To start over with the new "
            f"settings, {fix}; to continue it, pass the checkpoint's values."
        )
