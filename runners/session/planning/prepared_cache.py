"""Where generated initial weights and hub checkpoints are kept: one cache folder, an entry per key.

The key is what determines the bytes: the kind of file, the workload (a built-in's name and kvp-dash's
version, a user file's contents), the settings that change the model (size, seed, image size, context, the
size's hyperparameters) and the versions of the libraries that generate it. An entry is written beside its
final name and renamed into place, with the SHA-256 of its bytes in ``entry.json``; it is verified by that
hash before every reuse, and made again when it does not match.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

CACHE_ENV = "KVP_DASH_CACHE"
ENTRY_FILE = "entry.json"
# The libraries whose versions change what a generator writes.
_GENERATORS = ("torch", "transformers", "safetensors", "numpy")


def cache_root() -> Path:
    """``$KVP_DASH_CACHE``, else ``$XDG_CACHE_HOME/kvp-dash``, else ``~/.cache/kvp-dash``."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "kvp-dash"


def _version(distribution: str) -> str | None:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


def cache_key(kind: str, workload, settings) -> tuple[str, dict]:
    """The entry's name (a short hash) and what it was made from, for ``entry.json`` and the run folder."""
    if Path(workload.source).is_file():  # a user's file: its contents
        identity = {"file_sha256": hashlib.sha256(Path(workload.source).read_bytes()).hexdigest()}
    else:  # a built-in (or an installed package's): the workloads' code that generates it
        identity = {"source": workload.source, "workloads_sha256": _workloads_code_sha256()}
    made_from = {
        "kind": kind, "workload": workload.name, **identity,
        "size": settings.size, "seed": settings.seed, "image_size": settings.image_size, "seq_len": settings.seq_len,
        "hyper": workload.hyper(settings),
        "versions": {name: _version(name) for name in _GENERATORS},
    }
    text = json.dumps(made_from, sort_keys=True, default=str)
    return f"{workload.name}-{settings.size}-{hashlib.sha256(text.encode()).hexdigest()[:16]}", made_from


def _workloads_code_sha256() -> str:
    import workloads

    root = Path(workloads.__file__).parent
    digest = hashlib.sha256()
    for file in sorted(root.rglob("*.py")):
        digest.update(str(file.relative_to(root)).encode() + b"\0" + file.read_bytes())
    return digest.hexdigest()


def file_sha256(path: Path, on_bytes: Callable[[int], None] = lambda done: None) -> str:
    """Of a file, or of a folder's files in name order (names included): progress in bytes read so far."""
    digest, done = hashlib.sha256(), 0
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    for file in files:
        if path.is_dir():
            digest.update(str(file.relative_to(path)).encode() + b"\0")
        with open(file, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 22), b""):
                digest.update(block)
                done += len(block)
                on_bytes(done)
    return digest.hexdigest()


def size_of(path: Path) -> int:
    """Bytes under ``path`` so far (a file or a folder being written); 0 when it is not there yet."""
    try:
        if path.is_file():
            return path.stat().st_size
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    except OSError:  # a file renamed or removed while counted
        return 0


@dataclass(frozen=True)
class CacheEntry:
    """One generated file or folder in the cache."""

    key: str
    path: Path  # the weights file or the checkpoint folder itself
    sha256: str
    made_from: dict
    reused: bool

    def record(self) -> dict:
        """What the run folder keeps (``prepared.json``): which entry, its hash, and whether it was made now."""
        return {**asdict(self), "path": str(self.path)}


class PreparedCache:
    def __init__(self, root: Path | None = None):
        self.root = root or cache_root()

    def _folder(self, key: str) -> Path:
        return self.root / key

    def find(self, key: str, name: str, on_bytes: Callable[[int], None]) -> tuple[CacheEntry | None, str | None]:
        """The entry when it is there and its bytes hash to what was recorded; else None and why not."""
        folder = self._folder(key)
        try:
            record = json.loads((folder / ENTRY_FILE).read_text())
        except (OSError, ValueError):
            shutil.rmtree(folder, ignore_errors=True)  # a half-removed entry (renames are whole): made again
            return None, None
        target = folder / name
        if not target.exists():
            return None, f"cache entry {folder} lost its {name}"
        found = file_sha256(target, on_bytes)
        if found != record.get("sha256"):
            shutil.rmtree(folder, ignore_errors=True)
            return None, f"cache entry {folder} did not match its hash (made again)"
        return CacheEntry(key, target, found, record.get("made_from", {}), reused=True), None

    def staging(self, key: str) -> Path:
        """A fresh folder to generate into, beside the entry's final place (same file system: rename is atomic)."""
        self.root.mkdir(parents=True, exist_ok=True)
        for stale in self.root.glob("*.partial-*"):  # left by a process killed while generating
            if not _alive(int(stale.name.rsplit("-", 1)[1])):
                shutil.rmtree(stale, ignore_errors=True)
        folder = self.root / f"{key}.partial-{os.getpid()}"
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir()
        return folder

    def store(self, key: str, staging: Path, name: str, made_from: dict,
              on_bytes: Callable[[int], None]) -> CacheEntry:
        """Hash what was generated in ``staging`` and move it into place; another process's entry for the same
        key, if it got there first, is kept (the same bytes) and ours dropped."""
        digest = file_sha256(staging / name, on_bytes)
        (staging / ENTRY_FILE).write_text(json.dumps({"sha256": digest, "made_from": made_from}, indent=2) + "\n")
        folder = self._folder(key)
        try:
            os.rename(staging, folder)
        except OSError:  # already there (a concurrent run made it): ours goes
            shutil.rmtree(staging, ignore_errors=True)
        return CacheEntry(key, folder / name, digest, made_from, reused=False)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
