"""A Keras runner keeps the other backends' frameworks out of its process, as on a machine without them.

Installed beside the other frameworks, they are imported for nothing a runner uses, and the runner's start-up
and memory figures would charge them to Keras on its backend:
- jax, by ``import keras`` itself (its Orbax checkpoint callback module imports jax whenever it is installed):
  about 1 s of start-up in a keras/torch or keras/tensorflow runner;
- TensorFlow, by ``keras.utils.set_random_seed`` (to seed it too) and by KerasHub (for tokenizers and
  preprocessing layers these runners never use): about 4 s of start-up and 640 MiB of resident memory in a
  keras/jax or keras/torch runner (measured here).
"""

from __future__ import annotations

import importlib.abc
import sys

TENSORFLOW = ("tensorflow", "tensorflow_text")
JAX = ("jax", "jaxlib")


def keep_jax_out(backend: str) -> None:
    """Before ``import keras``. A module set to None in sys.modules fails ``import jax`` with an ImportError (which
    Keras catches, as when jax is not installed) and makes ``importlib.util.find_spec`` answer None (torch and
    Transformers ask it whether jax is installed)."""
    if backend != "jax":
        for name in JAX:
            sys.modules.setdefault(name, None)


class _KeptOut(importlib.abc.MetaPathFinder):
    # Raising here leaves the name out of sys.modules: Keras's "is TensorFlow loaded?" checks still say no,
    # and its "is TensorFlow available?" ones see an ImportError, as without the package.
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in TENSORFLOW:
            raise ModuleNotFoundError(f"No module named {name!r} (kept out of this Keras runner)", name=name)
        return None


def keep_tensorflow_out(backend: str) -> None:
    """After ``import keras``: torch's import asks find_spec about TensorFlow, which this finder would fail."""
    if backend != "tensorflow" and "tensorflow" not in sys.modules:
        sys.meta_path.insert(0, _KeptOut())
