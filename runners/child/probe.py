"""What a runner sends in its probe event: its initial logits, which the parity judge compares."""

from __future__ import annotations

import numpy as np

# Logits of this many samples of batch 0, at most this many values, go in the probe event.
PROBE_SAMPLES = 2
PROBE_VALUES = 4096


def probe_values(logits: np.ndarray) -> tuple[list[float], list[int]]:
    flat = np.asarray(logits, dtype=np.float64).reshape(-1)[:PROBE_VALUES]
    return flat.tolist(), list(np.shape(logits))
