"""The folders a data-parallel runner keeps in the temporary directory while it runs (the ranks' socket,
torchrun's error files).

Each is named after the process that made it, which removes it as it ends. A runner killed with its dashboard
(SIGKILL, parent-death signal) runs no clean-up: the next data-parallel runner to start removes the folders whose
process is gone.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile

import psutil

PREFIX = "kvp-dash-"


def make_folder(kind: str) -> str:
    """A new folder, 0700 (only this user may reach what is in it), named after ``kind`` and this process."""
    return tempfile.mkdtemp(prefix=f"{PREFIX}{kind}-{os.getpid()}-")


def remove_orphans(kind: str, root: str | None = None) -> list[str]:
    """Remove this user's ``kind`` folders whose process has ended; returns their paths."""
    named = re.compile(rf"{re.escape(PREFIX + kind)}-(\d+)-")
    removed = []
    for entry in os.scandir(root or tempfile.gettempdir()):
        owner = named.match(entry.name)
        if owner is None or not entry.is_dir(follow_symlinks=False) or entry.stat().st_uid != os.getuid():
            continue
        if not _running(int(owner[1])):
            shutil.rmtree(entry.path, ignore_errors=True)
            removed.append(entry.path)
    return removed


def _running(pid: int) -> bool:
    # A zombie has ended: it is only waiting for its parent to read its exit status.
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
