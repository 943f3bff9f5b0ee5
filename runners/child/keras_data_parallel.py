"""Keras data-parallel inside one runner process, with the backend's own engine.

- jax: ``keras.distribution.DataParallel`` over a one-axis device mesh (XLA all-reduces the gradients);
- tensorflow: ``tf.distribute.MirroredStrategy`` over the GPUs, or over logical CPU devices.

Both train with ``fit()`` at the global batch size, which the engine splits across the
devices. (Keras on torch goes through DDP instead: ``runners.child.ddp_runner``.)
"""

from __future__ import annotations

import contextlib


def enter(backend: str, devices: int) -> tuple[contextlib.AbstractContextManager, str]:
    """Set up the engine before anything is built; returns the scope to build and compile in, and the engine in
    words for the panel. Call before the backend's runtime starts (TensorFlow fixes its devices then)."""
    if backend == "jax":
        return contextlib.nullcontext(), _jax_data_parallel(devices)
    if backend == "tensorflow":
        return _mirrored_strategy(devices)
    raise ValueError(f"Keras on {backend} trains data-parallel through DDP (runners.child.ddp_runner)")


def _jax_data_parallel(devices: int) -> str:
    import keras

    found = keras.distribution.list_devices()  # GPUs, or the CPU split by XLA's host device count
    if len(found) < devices:
        raise RuntimeError(f"jax sees {len(found)} device(s), {devices} needed: {found}")
    keras.distribution.set_distribution(keras.distribution.DataParallel(devices=found[:devices]))
    return f"keras.distribution.DataParallel · {devices} {found[0].split(':')[0]} devices · XLA all-reduce"


def _mirrored_strategy(devices: int) -> tuple[contextlib.AbstractContextManager, str]:
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        names = [f"/gpu:{index}" for index in range(devices)]
    else:  # the CPU as several logical devices: the strategy then runs a replica on each
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * devices)
        names = [device.name for device in tf.config.list_logical_devices("CPU")][:devices]
    strategy = tf.distribute.MirroredStrategy(names)
    extended = strategy.extended
    # The all-reduce the strategy chose (NCCL on GPUs, collective ops on CPUs); private attributes, hence getattr.
    reduction = getattr(extended, "_cross_device_ops", None) or getattr(extended, "_inferred_cross_device_ops", None)
    how = f" · {type(reduction).__name__}" if reduction is not None else ""
    return strategy.scope(), f"tf.distribute.MirroredStrategy · {strategy.num_replicas_in_sync} replicas{how}"
