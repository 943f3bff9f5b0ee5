"""Real text that is on every machine without a download, as byte-level token ids.

The corpus is Python's own reference documentation (``pydoc_data.topics``, the
text ``help()`` shows: about 465 KB of English prose with code examples), and, for
the classifier, the source code of a few standard-library modules. Token ids are
the UTF-8 bytes (0-255), so no tokenizer is needed and every vocabulary holds them.
Every runner reads the same text and cuts it the same way from the seed.
"""

from __future__ import annotations

import importlib
from functools import lru_cache
from pathlib import Path

import numpy as np

from workloads.base import Dataset, WorkloadSettings
from workloads.data import with_validation

BYTE_VOCAB = 256
HELD_OUT_SHARE = 0.05  # the end of each text is never trained on: validation windows come from there
# Standard-library modules whose source is the "code" class (single files in every CPython 3.10+).
SOURCE_MODULES = ("argparse", "dataclasses", "functools", "inspect", "textwrap", "typing")
# The classifier's passages start with this id, as BERT's inputs start with [CLS]: the pooled output reads
# that position. Byte 1 never occurs in either text. Not 0: that is the pad id of BERT's and Gemma's configs,
# whose embedding row PyTorch never updates (padding_idx) while Keras's Embedding does.
CLS_ID = 1


@lru_cache(maxsize=1)
def reference_docs() -> np.ndarray:
    """Python's reference documentation, topic by topic in name order, as bytes."""
    from pydoc_data.topics import topics

    text = "\n\n".join(topics[name] for name in sorted(topics))
    return np.frombuffer(text.encode("utf-8"), dtype=np.uint8)


@lru_cache(maxsize=1)
def library_source() -> np.ndarray:
    text = "\n\n".join(Path(importlib.import_module(name).__file__).read_text("utf-8") for name in SOURCE_MODULES)
    return np.frombuffer(text.encode("utf-8"), dtype=np.uint8)


def _split(stream: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    cut = int(len(stream) * (1 - HELD_OUT_SHARE))
    return stream[:cut], stream[cut:]


def _windows(stream: np.ndarray, count: int, width: int, rng: np.random.Generator) -> np.ndarray:
    """``count`` windows of ``width`` bytes: consecutive non-overlapping cuts of the stream, in an order drawn
    from ``rng`` (a real run shuffles its data), repeated when the stream has fewer than ``count``."""
    if len(stream) < width:
        raise ValueError(f"the text ({len(stream)} bytes) is shorter than one sequence ({width})")
    starts = np.arange(0, len(stream) - width + 1, width)
    order = np.concatenate([rng.permutation(starts) for _ in range(-(-count // len(starts)))])[:count]
    return np.stack([stream[s : s + width] for s in order]).astype(np.int32)


def _held_out_count(n: int, stream: np.ndarray, width: int, settings: WorkloadSettings) -> int:
    """Validation samples: as many as asked, but no more windows than the held-out text holds (a batch at least)."""
    return min(n, max(settings.batch_size, len(stream) // width))


def next_token_text(settings: WorkloadSettings, length: int) -> Dataset:
    """Causal language modelling on the documentation: inputs ``length`` bytes, targets the same shifted by one."""
    rng = np.random.default_rng(settings.seed)
    train, held_out = _split(reference_docs())

    def draw(stream, count):
        windows = _windows(stream, count, length + 1, rng)
        return windows[:, :-1], windows[:, 1:].astype(np.int64)

    return with_validation(lambda n: draw(train, n), settings,
                           lambda n: draw(held_out, _held_out_count(n, held_out, length + 1, settings)))


def prose_or_code(settings: WorkloadSettings, length: int) -> Dataset:
    """Sequence classification: is a passage from the documentation (0) or from library source code (1)?"""
    rng = np.random.default_rng(settings.seed)
    (docs, docs_held), (code, code_held) = _split(reference_docs()), _split(library_source())

    def draw(docs_stream, code_stream, count):
        half = -(-count // 2)
        x = np.concatenate([_windows(docs_stream, half, length - 1, rng), _windows(code_stream, half, length - 1, rng)])
        x = np.concatenate([np.full((len(x), 1), CLS_ID, dtype=np.int32), x], axis=1)
        y = np.repeat(np.array([0, 1], dtype=np.int64), half)
        order = rng.permutation(len(x))[:count]
        return x[order], y[order]

    return with_validation(lambda n: draw(docs, code, n), settings,
                           lambda n: draw(docs_held, code_held, _held_out_count(n, code_held, length, settings)))
