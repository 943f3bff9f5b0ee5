"""A Keras runner on jax or torch keeps TensorFlow out of its process, as on a machine without it.

Installed beside the other frameworks, TensorFlow is imported by ``keras.utils.set_random_seed``
(to seed it too) and by KerasHub (for tokenizers and preprocessing layers these runners never use).
In a jax or torch runner that costs about 4 s of start-up and 640 MiB of resident memory
(measured here), which the runner's memory figure would charge to Keras on that backend.
"""

from __future__ import annotations

import importlib.abc
import sys

KEPT_OUT = ("tensorflow", "tensorflow_text")


class _KeptOut(importlib.abc.MetaPathFinder):
    # Raising here leaves the name out of sys.modules: Keras's "is TensorFlow loaded?" checks still say no,
    # and its "is TensorFlow available?" ones see an ImportError, as without the package.
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in KEPT_OUT:
            raise ModuleNotFoundError(f"No module named {name!r} (kept out of this Keras runner)", name=name)
        return None


def keep_tensorflow_out(backend: str) -> None:
    if backend != "tensorflow" and "tensorflow" not in sys.modules:
        sys.meta_path.insert(0, _KeptOut())
