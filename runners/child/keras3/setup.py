"""What a Keras runner process (or torchrun rank) does before ``import keras``: the backend chosen, the other
backends' frameworks kept out (``runners.child.keras3.frameworks_kept_out``)."""

from __future__ import annotations

import os

from runners.child.keras3.frameworks_kept_out import keep_jax_out


def before_import(spec) -> None:
    os.environ["KERAS_BACKEND"] = spec.backend  # read once, when keras is first imported
    keep_jax_out(spec.backend)
