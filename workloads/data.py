"""Synthetic, learnable data generated in numpy from the seed.

Every runner receives the same arrays in the same order, so batch ``k`` is
the same samples everywhere. Nothing is downloaded.
"""

from __future__ import annotations

import numpy as np

from workloads.base import Dataset, WorkloadSettings

# Distinct samples generated; longer runs cycle through them in a fixed order.
POOL_SIZE = 4096
# Share of labels replaced at random, so the loss levels off above zero like real data.
LABEL_NOISE = 0.1
# Held-out samples for validation, drawn after the training pool from the same generator (same classes,
# same labelling rule, never trained on).
# 256: each evaluation of resnet18 small on a 2-core CPU then takes about 3 s (measured 5–9 s at 512).
VALIDATION_SAMPLES = 256
VALIDATION_BYTES = 64 * 1024**2  # fewer samples of large images: held in every runner's memory


def in_step_order(x: np.ndarray, y: np.ndarray, settings: WorkloadSettings,
                  validation: tuple[np.ndarray, np.ndarray] | None = None) -> Dataset:
    """One epoch in whole batches, the pool cycled in order: step ``k`` trains on batch ``k % epoch_batches``.

    The epoch holds every step when ``settings.epoch_bytes`` allows (the common case),
    else as many whole batches as fit, and never less than one pass over the pool.
    Memory does not grow with the number of steps.
    """
    sample_bytes = x.nbytes // max(1, len(x))  # the inputs, as Workload.data_bytes counts them
    batches = epoch_batches(len(x), sample_bytes, settings)
    order = np.arange(batches * settings.batch_size) % len(x)
    x_val, y_val = validation if validation is not None else (None, None)
    return Dataset(x=np.ascontiguousarray(x[order]), y=np.ascontiguousarray(y[order]), x_val=x_val, y_val=y_val)


def with_validation(draw, settings: WorkloadSettings, draw_held_out=None) -> Dataset:
    """The training pool, then ``VALIDATION_SAMPLES`` held out: ``draw(n)`` returns n new samples (x, y)
    from one generator stream, so the training pool is the same whether or not validation follows.
    ``draw_held_out(n)``: where the held-out samples come from when not from ``draw`` (a held-out text)."""
    x, y = draw(min(POOL_SIZE, settings.steps * settings.batch_size))
    sample_bytes = max(1, x.nbytes // max(1, len(x)))
    held_out = min(VALIDATION_SAMPLES, max(settings.batch_size, VALIDATION_BYTES // sample_bytes))
    return in_step_order(x, y, settings, validation=(draw_held_out or draw)(held_out))


def epoch_batches(pool: int, sample_bytes: int, settings: WorkloadSettings) -> int:
    """Batches in one epoch: all the steps if they fit in ``epoch_bytes``, else what fits, at least the pool."""
    affordable = settings.epoch_bytes // max(1, sample_bytes * settings.batch_size)
    return min(settings.steps, max(1, pool // settings.batch_size, affordable))


def _noisy_labels(rng: np.random.Generator, y: np.ndarray, num_classes: int) -> np.ndarray:
    flip = rng.random(len(y)) < LABEL_NOISE
    return np.where(flip, rng.integers(0, num_classes, size=len(y)), y).astype(np.int64)


def prototype_vectors(settings: WorkloadSettings, num_classes: int, dim: int) -> Dataset:
    """Noisy copies of one random prototype vector per class (MNIST-shaped)."""
    rng = np.random.default_rng(settings.seed)
    prototypes = rng.normal(0.0, 1.0, size=(num_classes, dim)).astype(np.float32)

    def draw(pool):
        y = rng.integers(0, num_classes, size=pool).astype(np.int64)
        noise = rng.normal(0.0, 1.0, size=(pool, dim)).astype(np.float32)
        x = 0.12 * prototypes[y] + noise
        return x.astype(np.float32), _noisy_labels(rng, y, num_classes)

    return with_validation(draw, settings)


def pattern_images(
    settings: WorkloadSettings, num_classes: int, channels: int = 3, size: int | None = None
) -> Dataset:
    """Images: one smooth random pattern per class plus pixel noise (NHWC, float32)."""
    size = size or settings.image_size
    rng = np.random.default_rng(settings.seed)
    coarse = 4
    patterns = rng.normal(0.0, 1.0, size=(num_classes, coarse, coarse, channels))
    # Nearest-neighbour upsampling keeps the patterns low-frequency.
    reps = -(-size // coarse)
    patterns = patterns.repeat(reps, axis=1).repeat(reps, axis=2)[:, :size, :size, :]

    def draw(pool):
        y = rng.integers(0, num_classes, size=pool).astype(np.int64)
        x = np.empty((pool, size, size, channels), dtype=np.float32)
        for lo in range(0, pool, 256):  # chunked so the float64 temporaries stay small
            hi = min(pool, lo + 256)
            noise = rng.normal(0.0, 1.0, size=(hi - lo, size, size, channels))
            x[lo:hi] = 0.5 * patterns[y[lo:hi]] + noise
        return x, _noisy_labels(rng, y, num_classes)

    return with_validation(draw, settings)


def sentiment_tokens(settings: WorkloadSettings, vocab: int, length: int, lexicon: int = 16) -> Dataset:
    """Token sequences labelled by which of two small 'sentiment' lexicons dominates them.

    Ids 1..lexicon are positive words, lexicon+1..2*lexicon negative ones, the
    rest neutral filler; 0 is never used (padding in real data).
    """
    rng = np.random.default_rng(settings.seed)

    def draw(pool):
        x = rng.integers(2 * lexicon + 1, vocab, size=(pool, length))
        y = rng.integers(0, 2, size=pool).astype(np.int64)
        marked = rng.random((pool, length)) < 0.3
        # Mostly words of the label's lexicon, some from the other one.
        own = rng.random((pool, length)) < 0.85
        word = rng.integers(1, lexicon + 1, size=(pool, length))
        negative = (y[:, None] == 1) == own
        return np.where(marked, word + negative * lexicon, x).astype(np.int32), _noisy_labels(rng, y, 2)

    return with_validation(draw, settings)


def markov_text(settings: WorkloadSettings, vocab: int, length: int) -> Dataset:
    """Next-token data from a sparse random Markov chain: each token has four likely successors.

    Inputs are ``length`` tokens; targets the same sequence shifted by one.
    """
    rng = np.random.default_rng(settings.seed)
    successors = rng.integers(0, vocab, size=(vocab, 4))
    choice_p = np.array([0.55, 0.25, 0.1, 0.1])

    def draw(pool):
        tokens = np.empty((pool, length + 1), dtype=np.int64)
        tokens[:, 0] = rng.integers(0, vocab, size=pool)
        for t in range(length):
            picks = rng.choice(4, size=pool, p=choice_p)
            tokens[:, t + 1] = successors[tokens[:, t], picks]
        return tokens[:, :-1].astype(np.int32), tokens[:, 1:]

    return with_validation(draw, settings)
