"""Who may write in a run directory: one run at a time, and only over wommsim's own files.

* **A lock.** A run holds an exclusive ``flock`` on ``DIR/.wommsim.lock`` (which names its
  process id) for as long as it writes in ``DIR``; a second run pointed at the same folder
  is refused (:class:`FolderInUse`) instead of mixing its results with the first's. The
  kernel releases the lock when its process dies, however it dies, so the lock file a
  killed run leaves behind is simply taken over by the next run. The file is removed when
  the run ends.
* **Ownership.** A run replaces only result files a wommsim run wrote: a folder with
  result-like files (:data:`wommsim.runs.runner.RESULT_FILES`, ``manifest.json``) but no manifest
  written by wommsim holds someone else's files, and is refused (:class:`ForeignFiles`)
  unless ``overwrite=true``.

From the command line the folder is claimed by :class:`RunDirCallback` before Hydra writes
``.hydra/`` or its log there, so a refused run leaves the folder as it was; from Python (and
for each job of a sweep) :func:`claimed` does it around :func:`wommsim.runs.runner.run`.
"""

from __future__ import annotations

import errno
import fcntl
import json
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf

from wommsim.config import ConfigError

log = logging.getLogger(__name__)

LOCK_FILE = ".wommsim.lock"
PID_RESOLVER = "wommsim.pid"


class FolderInUse(ConfigError):
    """Another live run holds the folder's lock."""


class ForeignFiles(ConfigError):
    """The folder holds result-like files that no wommsim run wrote."""


class NoLocks(OSError):
    """The file system offers no locks (some network file systems)."""


_held: dict[Path, int] = {}  # folder -> descriptor of its locked lock file, in this process


def _lock(outdir: Path) -> int:
    """Lock ``outdir`` for this process; the lock file's descriptor. Raises
    :class:`FolderInUse` if a live run holds it, :class:`NoLocks` if it cannot be locked."""
    path = outdir / LOCK_FILE
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as err:
            os.close(fd)
            if err.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
                raise FolderInUse(
                    f"{outdir} is in use by another wommsim run ({_owner(path)}); wait for "
                    "it to end, or choose another folder (hydra.run.dir=...)") from None
            raise NoLocks(err.errno, err.strerror, str(path)) from None
        try:
            same = os.path.samestat(os.fstat(fd), os.stat(path))
        except FileNotFoundError:
            same = False
        if same:  # else the owner removed the file as we opened it: try its successor
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode())
            return fd
        os.close(fd)


def _owner(path: Path) -> str:
    try:
        pid = path.read_text().strip()
    except OSError:
        pid = ""
    return f"pid {pid}" if pid.isdigit() else "its pid is not yet written"


def claim(outdir: Path, overwrite: bool = False) -> None:
    """Create ``outdir``, lock it for this process (until :func:`release`) and refuse it if
    it holds files no wommsim run wrote (unless ``overwrite``). Claiming a folder this
    process holds again only checks it."""
    outdir = outdir.absolute()
    if outdir not in _held:
        outdir.mkdir(parents=True, exist_ok=True)
        try:
            _held[outdir] = _lock(outdir)
        except NoLocks as err:
            log.warning("cannot lock %s (%s): nothing stops another run from writing "
                        "there at the same time", err.filename, err.strerror)
            _held[outdir] = -1
    try:
        check_ownership(outdir, overwrite)
    except ForeignFiles:
        release(outdir)
        raise


def release(outdir: Path) -> None:
    """Give up the lock on ``outdir`` and remove its lock file (first, while still holding
    it: a run that opened the file meanwhile then sees it gone and creates a new one)."""
    outdir = outdir.absolute()
    fd = _held.pop(outdir, -1)
    if fd >= 0:
        try:
            (outdir / LOCK_FILE).unlink(missing_ok=True)
        finally:
            os.close(fd)


def release_all() -> None:
    for outdir in list(_held):
        release(outdir)


@contextmanager
def claimed(outdir: Path, overwrite: bool = False) -> Iterator[None]:
    """:func:`claim` ``outdir`` for the block; released after it unless it was already
    held (by the command line's :class:`RunDirCallback`, which releases it at exit)."""
    held = outdir.absolute() in _held
    claim(outdir, overwrite)
    try:
        yield
    finally:
        if not held:
            release(outdir)


def remove_abandoned_partials(outdir: Path) -> None:
    """Remove the staging leftovers (``.NAME.partial-PID``) of runs that died in ``outdir``
    (e.g. sweep jobs a launcher killed), if no live run holds it; else leave it alone."""
    from wommsim.runs.results import remove_stale_partials

    try:
        _held[outdir.absolute()] = _lock(outdir)
    except (FolderInUse, OSError):  # in use, or no lock to tell: leave it
        return
    try:
        remove_stale_partials(outdir)
    finally:
        release(outdir)


def foreign_files(outdir: Path) -> list[str]:
    """The result-like files in ``outdir`` that no wommsim run wrote: all of them if its
    ``manifest.json`` is missing or not wommsim's, else none."""
    from wommsim.runs.results import EVERY_RESULT_FILE

    manifest = outdir / "manifest.json"
    try:
        if json.loads(manifest.read_text()).get("package") == "wommsim":
            return []
    except (OSError, ValueError, AttributeError):
        pass
    return [name for name in ("manifest.json", *EVERY_RESULT_FILE)
            if (outdir / name).exists() or (outdir / name).is_symlink()]


def check_ownership(outdir: Path, overwrite: bool = False) -> None:
    """Raise :class:`ForeignFiles` if ``outdir`` holds files a run would replace that no
    wommsim run wrote (unless ``overwrite``, which lets this run take them over)."""
    foreign = foreign_files(outdir)
    if foreign and not overwrite:
        raise ForeignFiles(
            f"{outdir} holds {', '.join(foreign)}, not written by a wommsim run; choose "
            "another folder, or add overwrite=true to replace them")


def register_resolver() -> None:
    """Register ``${wommsim.pid:}``, this process's id, for the default run folder's name
    (``hydra.run.dir`` in ``configs/config.yaml``); idempotent."""
    if not OmegaConf.has_resolver(PID_RESOLVER):
        OmegaConf.register_new_resolver(PID_RESOLVER, os.getpid)


_hydra_before: dict[Path, bytes] = {}  # the run folder's .hydra/ files before this run


def keep_hydra_files(folder: Path) -> None:
    """Remember the files in ``folder`` (the run folder's ``.hydra/``, which an earlier run
    wrote) before Hydra replaces them with this run's, for :func:`restore_hydra_files`."""
    _hydra_before.clear()
    if folder.is_dir():
        _hydra_before.update({p: p.read_bytes() for p in folder.iterdir() if p.is_file()})


def restore_hydra_files() -> None:
    """Put back the ``.hydra/`` files of the folder's earlier run, for a run that ended
    before it wrote anything (refused for bad input, interrupted while building its
    networks): its own would describe results it never made."""
    if not _hydra_before:
        return
    folder = next(iter(_hydra_before)).parent
    try:
        for path in folder.iterdir():
            if path not in _hydra_before:
                path.unlink(missing_ok=True)
        for path, content in _hydra_before.items():
            path.write_bytes(content)
    except OSError as err:  # e.g. the disk is full: the run's own error says more
        log.warning("could not restore %s: %s", folder, err.strerror)


class Refused(BaseException):
    """:class:`RunDirCallback` could not claim the folder; ``error`` says why (a
    :class:`~wommsim.config.ConfigError` or an ``OSError``). A BaseException because Hydra
    turns a callback's exceptions into warnings and runs on."""

    def __init__(self, error: Exception) -> None:
        super().__init__(error)
        self.error = error


class RunDirCallback(Callback):
    """Configured in ``hydra.callbacks`` (``configs/config.yaml``): claims a single run's
    folder (:func:`claim`) before Hydra writes ``.hydra/`` and its log into it, so that a
    refused run leaves the folder as it was (the command line reports :class:`Refused`),
    and keeps the folder's earlier ``.hydra/`` files for :func:`restore_hydra_files`."""

    def on_run_start(self, config: DictConfig, **kwargs: Any) -> None:
        outdir = Path(str(config.hydra.run.dir))
        try:
            claim(outdir, config.get("overwrite") is True)
            if config.hydra.output_subdir is not None:
                keep_hydra_files(outdir / str(config.hydra.output_subdir))
        except (ConfigError, OSError) as err:
            raise Refused(err) from None
